"""How fast one user may write to customer service: questions, answers, chat
messages, tickets and ticket messages share one budget per user
(SERVICE_WRITES_PER_MINUTE), so a script cannot flood a shop's queue or a
product's Q&A. A write the service refuses gives its slot back; the slot is
taken before anything is written, so parallel writes cannot exceed it."""

from functools import wraps

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from shopyard.accounts.throttle import FixedWindow, TryLater, Wait

TOO_FAST = _("You are writing too fast. Please try again in %(wait)s.")


def limited(service):
    """Wrap a service taking `actor`: a 429 (TryLater) once the actor used up the minute's budget."""

    @wraps(service)
    def wrapper(*args, actor, **kwargs):
        window = FixedWindow("service-writes", limit=settings.SERVICE_WRITES_PER_MINUTE, window=60)
        try:
            ticket = window.take(str(getattr(actor, "pk", "") or "anonymous"))
        except Wait as wait:
            raise TryLater(wait.seconds, message=TOO_FAST) from None
        try:
            return service(*args, actor=actor, **kwargs)
        except BaseException:
            window.release(ticket)
            raise

    return wrapper

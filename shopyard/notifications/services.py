"""Every write of the message centre, e-mail and SMS: the event handler that
turns a domain event into messages, sending what it wrote, marking messages
read, and users' preferences.

The handler runs after commit, once per event (core.events delivers per
subscriber). It only writes rows: a `Message` for the message centre and an
`Outgoing` per e-mail or SMS, each under a unique key (event, recipient, kind,
channel), so an event delivered again adds nothing and sends nothing twice.
E-mails and texts go out after that transaction commits, each row on its own
(a failing SMS provider never holds an e-mail back), retried with backoff by
the periodic job, and marked failed after EVENT_MAX_ATTEMPTS."""

import logging
import traceback

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shopyard.core import retries
from shopyard.core.bulk_sql import create_rows
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.url_shapes import kept_reverse
from shopyard.core.validation import check_id

from . import sms
from .kinds import DEFAULTS, ROUTES, Audience, Channel, Kind
from .models import Message, Outgoing, Preference, Profile
from .queries import enabled_channels, language_of, shop_member_ids
from .queries import recipients as recipients_of

log = logging.getLogger("shopyard.notifications")

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


# --- from events to messages ------------------------------------------------

def on_event(payload: dict, *, event) -> None:
    """Subscriber of every event in kinds.ROUTES: write what each audience gets."""
    on_events([(payload, event)])


def on_events(items) -> None:
    """`on_event` for several (payload, event) pairs (a batch of held events,
    core.events.dispatch_many): each kind's recipients are read in one statement, a
    shop's members once, and the messages written in one INSERT."""
    wanted, members = [], {}
    for payload, event in items:
        for kind, audience in ROUTES.get(event.name, []):
            if audience == Audience.BUYER:
                user_ids, shop_id = [payload.get("user_id")], None
            else:
                shop_id = payload.get("shop_id")
                if shop_id not in members:
                    members[shop_id] = shop_member_ids(shop_id)
                user_ids = members[shop_id]
            wanted.append((payload, event, kind, shop_id, sorted({pk for pk in user_ids if pk})))
    of_kind: dict[str, set] = {}
    for _payload, _event, kind, _shop_id, user_ids in wanted:
        of_kind.setdefault(kind, set()).update(user_ids)
    found = {kind: {user.pk: (user, channels, language) for user, channels, language in recipients_of(user_ids, kind)}
             for kind, user_ids in of_kind.items()}
    messages, outgoing = [], []
    for payload, event, kind, shop_id, user_ids in wanted:
        for user, channels, language in (found[kind][pk] for pk in user_ids if pk in found[kind]):
            message, sent = _compose(user=user, kind=kind, context=payload, event_id=event.pk, shop_id=shop_id,
                                     channels=channels, language=language)
            messages += message
            outgoing += sent
    written = _write(messages, outgoing)
    if written:
        transaction.on_commit(lambda: _enqueue(written))


def render(kind: str, language: str, context: dict) -> tuple[str, str]:
    """Title and body of `kind` from its template in `language`: the first line
    is the title, the rest the body. Plain text, so not HTML-escaped here (pages
    escape it when they show it)."""
    template = get_template(f"notifications/messages/{language}/{kind}.txt").template
    with translation.override(language):
        text = template.render(Context(context, autoescape=False))
    title, _sep, body = text.strip().partition("\n")
    return title.strip()[:200], body.strip()


def _link(kind, context) -> str:
    if kind == Kind.SHOP_APPLICATION:
        return reverse("storefront:shop_application", args=[context["application_id"]])
    order_id = context.get("order_id")
    if not order_id:
        return ""
    name = "console:order_detail" if kind == Kind.ORDER_TO_SHIP else "storefront:order_detail"
    return kept_reverse(name, order_id)  # a message per order placed, paid, shipped…


def notify(*, user, kind, context: dict, event_id=None, shop_id=None, channels=None, language=None) -> list[int]:
    """Write `kind` for `user` on the channels they receive it on, rendered in
    their language; returns the ids of the e-mails and texts to send. Rows that
    already exist for this event are left alone (a redelivered event).
    `channels` and `language`, when given, are what queries.recipients read
    with the user (`on_events`); otherwise they are read here."""
    if channels is None:
        channels = enabled_channels(user.pk, kind)
    if not channels:
        return []
    language = language or language_of(user.pk)
    return _write(*_compose(user=user, kind=kind, context=context, event_id=event_id, shop_id=shop_id,
                            channels=channels, language=language))


def _compose(*, user, kind, context, event_id, shop_id, channels, language) -> tuple[list, list]:
    """The message centre's row ([] or one) and the e-mails and texts ([] to two) of `kind`
    for `user`, unsaved."""
    if not channels:
        return [], []
    link = _link(kind, context)
    title, body = render(kind, language, {**context, "user": user, "link": settings.BASE_URL.rstrip("/") + link})
    messages = [Message(user=user, shop_id=shop_id, kind=kind, event_id=event_id, language=language, title=title,
                        body=body, link=link)] if Channel.INBOX in channels else []
    outgoing = []
    for channel, address in ((Channel.EMAIL, user.email), (Channel.SMS, user.phone)):
        if channel in channels and address:
            outgoing.append(Outgoing(user=user, kind=kind, channel=channel, event_id=event_id, address=address,
                                     language=language, title=title, body=body, next_attempt_at=timezone.now()))
    return messages, outgoing


def _write(messages, outgoing) -> list[int]:
    """Write the rows, leaving alone those that exist (a redelivered event); returns the ids
    of the e-mails and texts among them still to send."""
    if messages:
        create_rows(Message, messages, ignore_conflicts=True)
    if not outgoing:
        return []
    Outgoing.objects.bulk_create(outgoing, ignore_conflicts=True)
    keys = {(row.event_id, row.user_id, row.kind, row.channel) for row in outgoing}
    events = {row.event_id for row in outgoing}
    of_events = Q(event_id__in=events - {None}) | (Q(event_id__isnull=True) if None in events else Q(pk__in=[]))
    pending = (Outgoing.objects.filter(of_events, user_id__in={row.user_id for row in outgoing},
                                       status=Outgoing.Status.PENDING)
               .values_list("pk", "event_id", "user_id", "kind", "channel"))
    return [pk for pk, *key in pending if tuple(key) in keys]


def _enqueue(ids):
    from .tasks import send_outgoing_task

    for pk in ids:
        try:
            send_outgoing_task.delay(pk)
        except Exception:  # broker down: the periodic job sends it
            log.warning("could not queue outgoing %s; the periodic job will send it", pk)


def send_outgoing(*, outgoing_id, now=None) -> bool:
    """Send one due e-mail or text; True when it went out. The row is locked
    (skipped if another worker has it) and marked sent in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (Outgoing.objects.select_for_update(skip_locked=True)
               .filter(pk=outgoing_id, status=Outgoing.Status.PENDING, next_attempt_at__lte=now).first())
        if row is None:
            return False
        row.attempts += 1
        try:
            if row.channel == Channel.EMAIL:
                send_mail(row.title, row.body, None, [row.address])
            else:
                sms.provider().send(phone=row.address, text=f"{row.title} {row.body}"[:300])
        except Exception as exc:
            row.last_error = "".join(traceback.format_exception_only(exc))[-2000:]
            again = retries.EVENTS.next_attempt(row.attempts, now)
            if again is None:
                row.status = Outgoing.Status.FAILED
                log.error("%s %s failed for good after %s attempts: %s", row.channel, row.pk, row.attempts, exc)
            else:
                row.next_attempt_at = again
            ok = False
        else:
            row.status, row.sent_at, row.last_error, ok = Outgoing.Status.SENT, now, "", True
        row.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
    return ok


def send_pending(now=None, limit: int = 500) -> int:
    """The periodic job: send due e-mails and texts; returns how many went out."""
    now = now or timezone.now()
    ids = list(Outgoing.objects.filter(status=Outgoing.Status.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if send_outgoing(outgoing_id=pk, now=now))


# --- the message centre ------------------------------------------------------

def mark_read(*, actor, message_id) -> Message:
    """Mark one of the actor's messages read (a foreign id is 404)."""
    pk = check_id(message_id, "message_id")
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=pk, user=actor).first()
        if message is None:
            raise NotFound(_("Message not found."))
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
    return message


def mark_all_read(*, actor, shop_id=None) -> int:
    """Mark every unread message of the actor read (only one shop's, with
    `shop_id`); returns how many."""
    qs = Message.objects.filter(user=actor, read_at__isnull=True)
    if shop_id is not None:
        qs = qs.filter(shop_id=shop_id)
    return qs.update(read_at=timezone.now())


# --- preferences -------------------------------------------------------------

def set_preferences(*, actor, choices: dict, language: str | None = None) -> dict:
    """Save which channels the actor receives each kind on: `choices` is
    {kind: [channel, ...]} for the kinds given (others keep what they were).
    Unknown kinds, channels or languages are refused as a whole."""
    errors = {}
    if not isinstance(choices, dict):
        raise ValidationFailed(fields={"choices": [_("Give the channels per kind of notification.")]})
    for kind, channels in choices.items():
        if kind not in Kind.values:
            errors.setdefault("choices", []).append(_("Unknown kind of notification: %(kind)s.") % {"kind": kind})
        elif not isinstance(channels, list | tuple | set) or any(c not in Channel.values for c in channels):
            errors.setdefault(f"choices.{kind}", []).append(_("Choose among: message centre, e-mail, SMS."))
    if language is not None and language not in LANGUAGE_CODES:
        errors["language"] = [_("Choose one of the site's languages.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        for kind, channels in choices.items():
            for channel in Channel.values:
                enabled = channel in channels
                if enabled == (channel in DEFAULTS[kind]):
                    Preference.objects.filter(user=actor, kind=kind, channel=channel).delete()
                else:
                    Preference.objects.update_or_create(user=actor, kind=kind, channel=channel,
                                                        defaults={"enabled": enabled})
        if language is not None:
            Profile.objects.update_or_create(user=actor, defaults={"language": language})
    from .queries import preferences

    return preferences(actor)

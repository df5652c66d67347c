"""What the coupon, flash-sale and group-buy console pages share: the
service's field errors as the templates show them (beside each field, and the
whole list on top), blank datetime inputs, and acting on one row with a
service call whose refusal is a flash message rather than a page of its own."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone

from shopyard.core.errors import DomainError, NotFound

from .promotion_forms import INPUT_FORMAT
from .views import _messages_of


def refusal(exc: DomainError) -> str:
    """A refusal in one line: the service's own message (when it wrote one) and its field messages."""
    lines = _messages_of(exc)
    if exc.message is not exc.default_message and str(exc.message) not in lines:
        lines.insert(0, str(exc.message))
    return " ".join(lines)


def field_errors(exc: DomainError) -> dict:
    """{field: [message]} of a service refusal; one without fields is shown on top (`__all__`)."""
    errors = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}
    return errors or {"__all__": [str(exc.message)]}


def error_context(errors: dict) -> dict:
    errors = errors or {}
    return {"errors": errors, "error_list": [m for v in errors.values() for m in v]}


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime(INPUT_FORMAT) if moment else ""


def default_window(days=7, *, start_in_minutes=0) -> tuple[str, str]:
    """A new form's start and end (<input type="datetime-local"> values, the site's time zone)."""
    now = timezone.localtime().replace(second=0, microsecond=0) + timedelta(minutes=start_in_minutes)
    return now.strftime(INPUT_FORMAT), (now + timedelta(days=days)).strftime(INPUT_FORMAT)


def text(post, name) -> str:
    value = post.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def act(request, call, *, done, back):
    """One POST action (publish, stop, cancel): the service decides; a refusal is shown as it words it."""
    try:
        row = call()
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, refusal(exc))
        return redirect(back)
    messages.success(request, done % {"name": row.name})
    return redirect(back)

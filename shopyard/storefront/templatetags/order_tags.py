"""The payment countdown, rendered on the server so it is right without
JavaScript; static/shopyard/countdown.js only keeps it ticking."""

from django import template
from django.utils import timezone

from shopyard.orders.queries import payment_deadline

register = template.Library()


def time_left(deadline, now=None) -> tuple[int, str]:
    """Seconds until `deadline` (never negative) and the same as H:MM:SS / MM:SS."""
    seconds = max(0, int((deadline - (now or timezone.now())).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
    return seconds, text


@register.inclusion_tag("storefront/_pay_countdown.html")
def pay_countdown(orders):
    """The time left to pay an order, or the first of several to expire
    (nothing once none can expire any more)."""
    if not isinstance(orders, list | tuple):
        orders = [orders]
    deadlines = [d for d in (payment_deadline(o) for o in orders) if d is not None]
    if not deadlines:
        return {"show": False}
    deadline = min(deadlines)
    seconds, text = time_left(deadline)
    return {"show": True, "deadline_iso": deadline.isoformat(), "seconds": seconds, "left": text}

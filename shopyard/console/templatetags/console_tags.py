from django import template
from django.utils.http import urlencode
from django.utils.translation import gettext

from shopyard.core.templatetags.money_tags import price

register = template.Library()

# console templates say {{ amount|money:currency }}: the same filter as the storefront's |price
register.filter("money", price)


@register.filter
def get(mapping, key):
    if not mapping:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def at(sequence, index):
    try:
        return sequence[index]
    except (IndexError, KeyError, TypeError):
        return ""


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """The current query string with some parameters changed (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


STATUS_BADGES = {
    "published": "badge-success", "draft": "badge-muted",
    "pending_payment": "badge-warning", "paid": "badge-accent", "shipped": "badge-info", "delivered": "badge-info",
    "completed": "badge-success", "cancelled": "badge-muted",
}


@register.filter
def status_badge(status):
    """The site.css badge variant for a product or order status."""
    return STATUS_BADGES.get(str(status), "badge-muted")


@register.filter
def actor_name(change):
    """Who made a status change, for the seller: the stored label is a plain
    "system" for gateway and timeout changes, translated only here, on display."""
    if change.actor_id is None and change.actor_label in ("", "system"):
        return gettext("system")
    return change.actor_label

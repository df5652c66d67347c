"""How customer-service input is checked: text fields and the scope an actor
acts in. One home for these rules, used by every service of the app."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shopyard.core.access import require_operator as core_require_operator
from shopyard.core.errors import ValidationFailed


def clean_text(value, field, *, max_length, required=True) -> str:
    """`value` stripped; ValidationFailed on `field` when empty (and required),
    too long or not text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(fields={field: [_("Enter text.")]})
    text = value.strip()
    if required and not text:
        raise ValidationFailed(fields={field: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationFailed(fields={field: [ngettext(
            "Use at most %(n)d character.", "Use at most %(n)d characters.", max_length) % {"n": max_length}]})
    return text


def require_operator(actor) -> None:
    """Operators are staff users; anyone else gets a 403."""
    core_require_operator(actor, _("Only platform operators can do this."))


def clean_reason(value) -> str:
    from .models import REASON_MAX

    return clean_text(value, "reason", max_length=REASON_MAX)

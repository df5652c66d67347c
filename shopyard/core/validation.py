"""Small input checks shared by services (they raise ValidationFailed with a field)."""

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ValidationFailed


def check_quantity(value, field="quantity") -> int:
    """A line quantity: a whole number from 1 to MAX_LINE_QUANTITY. Bools and
    fractional values are refused rather than truncated."""
    if isinstance(value, bool) or not isinstance(value, int):
        # isdecimal (not isdigit: "²" is a digit int() refuses); a length cap keeps int() cheap and safe
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 18:
            value = int(value.strip())
        else:
            raise ValidationFailed(fields={field: [_("Enter a whole number.")]})
    limit = settings.MAX_LINE_QUANTITY
    if value < 1:
        raise ValidationFailed(fields={field: [_("The quantity must be at least 1.")]})
    if value > limit:
        raise ValidationFailed(fields={field: [_("The quantity may be at most %(limit)s.") % {"limit": limit}]})
    return value


def check_id(value, field) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 2**62:
        if isinstance(value, str) and value.isdecimal() and len(value) <= 19 and 0 < int(value) < 2**62:
            return int(value)
        raise ValidationFailed(fields={field: [_("Enter a valid id.")]})
    return value

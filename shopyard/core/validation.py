"""How input becomes a number: the one parser for ids, quantities and other
whole numbers, for pages, API and services alike.

Only ASCII digits count. Python's own `int()`, `str.isdigit()` and
`str.isdecimal()` accept "²", "٣" or "３" (some of them then crash, some
silently read 3), and a database integer column overflows past 64 bits, so
every value is bounded before it reaches a query.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ValidationFailed

ID_MAX = 2**63 - 1  # the largest value a 64-bit primary key (SQLite, PostgreSQL bigint) can hold
_ASCII_INT = re.compile(r"[0-9]{1,19}")


def parse_int(value, *, min_value: int = 0, max_value: int = ID_MAX) -> int | None:
    """A whole number from `min_value` to `max_value`, or None when `value`
    is anything else: a str of ASCII digits (surrounding whitespace allowed)
    or an int (never a bool, float or Decimal, which would be truncated)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _ASCII_INT.fullmatch(text):
            return None
        value = int(text)
    elif not isinstance(value, int):
        return None
    return value if min_value <= value <= max_value else None


def parse_id(value) -> int | None:
    """A primary key (1 to 2**63-1), or None: callers turn None into a 404."""
    return parse_int(value, min_value=1, max_value=ID_MAX)


def check_id(value, field) -> int:
    """A primary key, or ValidationFailed on `field`."""
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationFailed(fields={field: [_("Enter a valid id.")]})
    return parsed


def check_quantity(value, field="quantity") -> int:
    """A line quantity: a whole number from 1 to MAX_LINE_QUANTITY."""
    limit = settings.MAX_LINE_QUANTITY
    number = value if isinstance(value, int) and not isinstance(value, bool) else parse_int(value)
    if number is None:
        raise ValidationFailed(fields={field: [_("Enter a whole number.")]})
    if number < 1:
        raise ValidationFailed(fields={field: [_("The quantity must be at least 1.")]})
    if number > limit:
        raise ValidationFailed(fields={field: [_("The quantity may be at most %(limit)s.") % {"limit": limit}]})
    return number


def page_number(value) -> int:
    """The page a listing asks for, for Paginator.get_page: junk (non-ASCII
    digits included) is page 1; a negative page, like one past the end, is
    beyond every page, which get_page turns into the last page."""
    text = str(value or "").strip()
    number = parse_int(text, min_value=1)
    if number is not None:
        return number
    return ID_MAX if parse_int(text.removeprefix("-")) is not None else 1

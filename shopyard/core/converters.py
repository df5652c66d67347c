"""The `<id:...>` URL converter: Django's `<int:...>` matches any number of
digits, and a 30-digit id overflows SQLite's 64-bit integers (a 500) before
the view can say 404. This one only matches ids a row can have."""

from django.urls import register_converter
from django.urls.converters import get_converters

from .validation import parse_id


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)  # the URL does not match: 404
        return parsed

    def to_url(self, value) -> str:
        return str(value)


def register() -> None:
    if "id" not in get_converters():
        register_converter(IdConverter, "id")

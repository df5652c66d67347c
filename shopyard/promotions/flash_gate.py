"""The sold-out gate: a thin WSGI layer in front of Django that answers
`POST /api/v1/flash/items/<id>/buy` for a sold-out item itself.

At the stroke of the hour thousands of buyers ask for a few hundred units;
all but those few get "sold out". That answer needs no database, no session,
no token check and none of Django's middleware: one Redis GET (or, without
Redis, a look at the process's sold-out marker) decides, and the gate
returns the same 409 body the API handler would (`sold_out`, with a field
message, in the language the client asks for). Everything else, including
every attempt on an item that is not known to be sold out, goes to Django
unchanged, where the reservation checks again.
"""

import json
import re

from django.utils.translation import override

from . import flash_store

_PATH = re.compile(r"^/api/v1/flash/items/([0-9]{1,15})/buy/?$")
_BODIES: dict = {}
# set in the WSGI environ when the gate found the item not sold out
CHECKED = "shopyard.flash_sold_out_checked"


def _language(environ) -> str:
    header = environ.get("HTTP_ACCEPT_LANGUAGE", "").strip().lower()
    return "en" if header.startswith("en") else "zh-hans"


def _body(language) -> bytes:
    if language not in _BODIES:
        from .flash import sold_out_error

        with override(language):
            _BODIES[language] = json.dumps(sold_out_error().as_dict(), ensure_ascii=False).encode()
    return _BODIES[language]


def wrap(app):
    def gate(environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            match = _PATH.match(environ.get("PATH_INFO", ""))
            if match is not None:
                try:
                    sold_out = flash_store.sold_out(int(match.group(1)))
                except Exception:  # Redis unreachable: let Django answer
                    sold_out = False
                if not sold_out:  # asked once: the API handler need not ask again
                    environ[CHECKED] = True
                if sold_out:
                    language = _language(environ)
                    body = _body(language)
                    start_response("409 Conflict", [
                        ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
                        ("Content-Language", language), ("Vary", "Accept-Language"),
                        ("X-Content-Type-Options", "nosniff"),
                    ])
                    return [body]
        return app(environ, start_response)

    return gate

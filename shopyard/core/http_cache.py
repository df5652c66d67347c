"""Conditional requests and cache headers for public, anonymous API reads.

Catalogue reads are the same for every anonymous caller, so clients and shared
caches may keep them briefly and revalidate them for nothing: the response
carries a strong ETag (a hash of the exact body, so it changes whenever any
byte of the body does, whatever caused it) and `Cache-Control: public,
max-age=<API_MAX_AGE_SECONDS>`; a request whose `If-None-Match` names that tag
gets a bodiless 304. A caller who could be signed in (an `Authorization`
header or a session cookie) gets neither: what they are sent may one day be
personal, and a shared cache must never hand it to someone else. Only
successful bodies pass through here; errors are never given these headers.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers


def anonymous(request) -> bool:
    """No credentials of any kind: decided from the headers alone, without the
    session or user queries a signed-in check would cost."""
    return "HTTP_AUTHORIZATION" not in request.META and settings.SESSION_COOKIE_NAME not in request.COOKIES


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(header: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match uses: `W/` is ignored, `*` matches."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def public_json(request, body: bytes, *, etag: str | None = None) -> HttpResponse:
    """A 200 with `body` (JSON), or a 304 when the anonymous caller already holds it."""
    if not anonymous(request):
        response = HttpResponse(body, content_type="application/json")
        response["Cache-Control"] = "private, no-cache"
        return response
    etag = etag or etag_of(body)
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if header and _matches(header, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.API_MAX_AGE_SECONDS}"
    # a signed-in request (these headers) is answered differently, and never from a shared cache
    patch_vary_headers(response, ("Authorization", "Cookie"))
    return response

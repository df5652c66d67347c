"""Whole-page cache for anonymous catalogue pages.

Most storefront traffic is anonymous browsing of the same category and
product pages, and rendering one costs several milliseconds of Python. For a
visitor with no session and no messages the page is the same for everyone,
so it is rendered once per (version, language, URL) and kept for
PAGE_CACHE_SECONDS. The one per-visitor part, the CSRF token in forms, is
rendered as a marker and filled in per request. Two things keep seller text
from ever receiving a visitor's token: the marker is random per process (no
one can know it), and it is filled in only where the templates put the token
(the form field's `value="…"` and the htmx header's JSON), markup that
autoescaped text cannot contain. The marker is part of the cache key, so a
page cached by another process (a shared Redis) is not reused here. Catalogue edits bump the
version (through events), so sellers see their changes at once; a product
page's key also holds its SKUs' current stock (one indexed query per view),
so the stock a shopper sees is never stale. A page whose content changes by
itself at a known moment (a home banner's schedule) passes `ttl`, so its
entry expires at that moment: a schedule boundary is never hidden for longer
than PAGE_CACHE_SECONDS, and usually not at all. With read replicas, a page
rendered just after a change may come from a replica that has not replayed
it yet: for REPLICA_PIN_SECONDS after each bump, new entries are kept no
longer than that, so a lagging replica cannot fix an old page in the cache.
"""

import hashlib
import math
import secrets

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from shopyard.core.cache_versions import CacheVersion

from .jinja_env import render_page as render_jinja_page

MARKER = f"csrf-{secrets.token_hex(16)}"
# where templates render {{ csrf_token }}: {% csrf_token %} and base.html's hx-headers
TOKEN_SLOTS = ('name="csrfmiddlewaretoken" value="%s"', '"X-CSRFToken": "%s"')
PAGES = CacheVersion("storefront:page-version")


def cacheable(request) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.user.is_authenticated
    )


def version() -> int:
    return PAGES.current()


def bump(_payload=None) -> None:
    """Invalidate every cached page (called on catalogue events)."""
    PAGES.bump()


def fill_token(html: str, token: str) -> str:
    """Put the visitor's CSRF token in the slots the marker holds, and nowhere else."""
    for slot in TOKEN_SLOTS:
        html = html.replace(slot % MARKER, slot % token)
    return html


def _render(template: str, context: dict, request, jinja: bool) -> str:
    if jinja:
        return render_jinja_page(template, context, request)
    return render_to_string(template, context, request=request)


def render_page(request, template: str, build_context, *, status=200, vary=None, ttl=None,
                jinja=False) -> HttpResponse:
    """Render `template` with `build_context()`, from the cache when the visitor allows it.

    `vary()`, when given, returns live state the page shows (a product's stock
    levels, read with one small query) that becomes part of the key, so such a
    page is never served stale. `ttl()`, when given, is called after
    `build_context()` and returns the seconds until the page changes by
    itself (or None); the entry is kept no longer than that. `jinja`: `template` is a whole
    page in Jinja2 (jinja_env.render_page)."""
    if not cacheable(request):
        return HttpResponse(_render(template, build_context(), request, jinja), status=status)
    raw = f"{request.get_full_path()}|{request.headers.get('HX-Request', '')}|{vary() if vary else ''}"
    key = f"storefront:page:{PAGES.stamp()}:{get_language()}:{MARKER}:{hashlib.md5(raw.encode()).hexdigest()}"
    html = cache.get(key)
    if html is None:
        context = build_context()
        context["csrf_token"] = MARKER
        html = _render(template, context, request, jinja)
        seconds = settings.PAGE_CACHE_SECONDS
        until_change = ttl() if ttl else None
        if until_change is not None:
            seconds = max(1, min(seconds, math.ceil(until_change)))
        # rendered from a replica that may still lag behind the change that emptied the cache
        seconds = PAGES.keep_seconds(seconds)
        cache.set(key, html, seconds)
    response = HttpResponse(fill_token(html, get_token(request)), status=status)
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response

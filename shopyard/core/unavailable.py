"""A plain 503 page when the database cannot be reached.

A request that fails because the database is down is not a bug to report as
a 500: it answers 503 with Retry-After and a page that needs nothing (no
template, no session, no query), so a load balancer and a shopper both see
"come back shortly". Any other failure keeps Django's 500 page.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.views import defaults

RETRY_AFTER_SECONDS = 30
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Service unavailable · 服务暂不可用</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#333">
<h1>Back in a moment · 请稍后再试</h1>
<p>The shop cannot be reached right now. Please try again in a minute.</p>
<p>商城暂时无法访问，请一分钟后再试。</p>
</body></html>
"""


def database_down(exc) -> bool:
    """Whether `exc` (or what caused it) is a failure to reach the database."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_page() -> HttpResponse:
    response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request, template_name="500.html"):
    """handler500: 503 for a database outage, Django's 500 page for anything else."""
    if database_down(sys.exc_info()[1]):
        return unavailable_page()
    return defaults.server_error(request, template_name=template_name)

"""What the slim-path tests share (tests/test_*_slim_path.py): a deployed front called
as a WSGI server calls it, its answers, and the Prometheus series each request moves
(the request log lines: conftest.py's `request_lines`)."""

import json
from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from prometheus_client import REGISTRY


@contextmanager
def served(front):
    """Yield the paths `front`'s slim handler answers, while the test's connection stays
    open between requests (as Django's test client keeps it)."""
    reached = []
    answer = front.slim_app.get_response
    front.slim_app.get_response = lambda request: reached.append(request.path) or answer(request)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield reached
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class Answer:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.body = int(status.split()[0]), dict(headers), body

    def json(self):
        return json.loads(self.body)


def request_series():
    """Every django-prometheus request series now (counters and histogram counts)."""
    out = {}
    for metric in REGISTRY.collect():
        if metric.name.startswith("django_http"):
            for s in metric.samples:
                if s.name.endswith(("_total", "_count")):
                    out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def moved(before, after):
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


# the headers a client may act on in an answer to a POST; the request id differs per request,
# Content-Length with the body
POST_HEADERS = ("Content-Type", "Content-Language", "Vary", "X-Content-Type-Options", "X-Frame-Options",
                "Referrer-Policy", "Cross-Origin-Opener-Policy", "Retry-After")


def post_headers(answer):
    """The headers to compare. The whole stack's session tracking reads the (absent) session
    of every request, so its answers also say "Vary: Cookie"; an answer to a POST is never
    cached, and the slim path serves only requests without a cookie, so that word is left out."""
    out = {h: answer.headers.get(h) for h in POST_HEADERS}
    out["Vary"] = ", ".join(v for v in (out["Vary"] or "").split(", ") if v != "Cookie")
    return out


def same_post_answer(front, whole):
    assert front.status_code == whole.status_code, (front.body, whole.body)
    assert front.json() == whole.json()
    assert post_headers(front) == post_headers(whole)


def deployed_slim_handlers() -> list:
    """The slim handlers of the deployed application (wsgi.py), front to back."""
    from shopyard.wsgi import application

    handlers, app = [], application
    while app is not None:
        handlers.append(getattr(app, "slim_app", None))
        app = getattr(app, "django_app", None) if getattr(app, "django_app", None) is not app else None
    return [h for h in handlers if h is not None]


def counted_alike(calls):
    """Each of `calls` (the front's request, then the whole stack's) moves the same request
    series, the answer's status among them; returns the last answer."""
    moved_by, answer = [], None
    for call in calls:
        before = request_series()
        answer = call()
        moved_by.append(moved(before, request_series()))
    assert moved_by[0] == moved_by[1]
    assert any(name == "django_http_responses_total_by_status_total" and dict(labels)["status"] == str(answer.status_code)
               for name, labels in moved_by[0])
    return answer


def last_two_request_lines(request_lines) -> list:
    lines = [line for line in request_lines() if line.get("event") == "request"][-2:]
    assert len(lines) == 2
    return lines

"""The one place adapters send HTTP requests from, so tests (and a proxy
setup) can replace it: `send` is looked up at call time, and tests swap it for
a local fake of the provider. Nothing else in the adapters opens sockets."""

import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""


def send(method: str, url: str, *, headers: dict, body: bytes = b"") -> Response:
    """One HTTP request with the configured timeout. Error statuses are
    answers (the adapter reads them); a network failure raises OSError."""
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.GATEWAY_TIMEOUT_SECONDS) as reply:  # noqa: S310
            return Response(reply.status, reply.read(), dict(reply.headers.items()))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read(), dict(exc.headers.items()))


"""Health endpoints for the load balancer (django-health-check runs the checks).

- liveness (`/health/live`): the process answers; it touches no service, so a
  database outage does not get every app server restarted;
- readiness (`/health/ready`): the database, each read replica
  (DATABASE_REPLICA_URLS, named by its alias: `replica1`, …), the cache and,
  when BROKER_URL is set, the broker each answer within
  HEALTH_CHECK_TIMEOUT_SECONDS; otherwise 503, with the failing part named.
  Take a server out of rotation on 503.
"""

import asyncio
import dataclasses
import datetime

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from shopyard.core.replicas import replica_aliases


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT_SECONDS)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (no worker needs to answer)."""

    timeout: datetime.timedelta = dataclasses.field(default_factory=_timeout, repr=False)

    def run(self):
        from shopyard.celery import app

        try:
            with app.connection_for_write(settings.BROKER_URL) as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # kombu raises its own and the transport's errors
            raise ServiceUnavailable("the broker cannot be reached") from exc


NAMES = {Database: "database", Cache: "cache", Broker: "broker"}


def _name(check) -> str:
    """A replica is named by its alias (never its URL, which holds a password)."""
    if isinstance(check, Database) and check.alias != "default":
        return check.alias
    return NAMES[type(check)]


class Readiness(HealthCheckView):
    """503 and {"status": "unavailable", "checks": {"database": "...", ...}} when a part is down."""

    def get_checks(self):
        limit = _timeout()
        for alias in ("default", *replica_aliases()):
            database = Database(alias=alias)
            database.timeout = limit
            yield database
        yield Cache(timeout=limit)
        if settings.BROKER_URL:
            yield Broker(timeout=limit)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        checks = {_name(r.check): ("ok" if r.error is None else str(r.error)) for r in results}
        failing = sorted(name for name, state in checks.items() if state != "ok")
        body = {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks}
        return JsonResponse(body, status=503 if failing else 200)


readiness = Readiness.as_view()


def liveness(request):
    response = HttpResponse("ok\n", content_type="text/plain")
    add_never_cache_headers(response)
    return response

"""Django's PostgreSQL engine with the query counters of core.db_backends, and a health
check that costs no round trip while nothing has happened to the connection."""

import select

from django.db.backends.postgresql import base as django_base
from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

from .. import counting_cursor


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = django_base.DatabaseWrapper.get_connection_params(self)
        params["cursor_factory"] = counting_cursor(params["cursor_factory"], self.alias, self.vendor)
        return params

    def close_if_health_check_failed(self):
        """CONN_HEALTH_CHECKS sends `SELECT 1` before a request's first statement: on a sync
        worker one round trip and one server statement more per request (a twelfth of an
        order's statements; docs/performance.md, stop 25). An idle connection the server
        dropped (a restart, pg_terminate_backend, an idle timeout) has heard from it: the
        server's goodbye or the socket's end is waiting to be read. So a connection that is
        idle and has nothing to read is taken as it was left; one that has something to
        read, or is not idle, gets Django's check, which closes it when it fails, so the
        request runs on a new connection. Not caught without a round trip: a network that
        dropped the connection silently; its first statement fails, as it would after a
        successful check a moment earlier, and the connection is replaced at the request's end."""
        if self.connection is None or self.health_check_done or not self.health_check_enabled:
            return
        if self._idle_and_quiet():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _idle_and_quiet(self) -> bool:
        conn = self.connection
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)

"""The PostgreSQL connection check before a request's first statement
(core/db_backends/postgresql: CONN_HEALTH_CHECKS without a round trip while the
connection is idle and the server has said nothing). What an operator notices: after
the server dropped a kept connection (a restart, an idle timeout, pg_terminate_backend),
the next request runs on a new connection instead of failing; what a healthy
connection costs: no statement before the request's own."""

import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")


def _other_connection():
    params = connection.get_connection_params()
    return psycopg.connect(dbname=params["dbname"], user=params.get("user"), host=params.get("host"),
                           port=params.get("port"), autocommit=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _last_statement(pid: int) -> str:
    with _other_connection() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def _next_request():
    """What a new request does to the kept connection first (Django's request_started receiver)."""
    close_old_connections()


def test_checks_are_on_and_connections_kept():
    # what the rest of this file relies on: the settings a deployment runs with
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


def test_a_healthy_connection_is_kept_and_sends_nothing_before_the_request_statement():
    pid = _backend_pid()
    _next_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'first request'")
    _next_request()
    with connection.cursor():  # a request's first cursor: where the check runs
        # the server's last statement of that backend is still the last request's, not a `SELECT 1`
        assert _last_statement(pid) == "SELECT 'first request'"
    assert _backend_pid() == pid


def test_a_request_after_the_server_dropped_the_connection_gets_a_new_one():
    pid = _backend_pid()
    with _other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 5
        while other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)
    _next_request()
    new_pid = _backend_pid()  # no OperationalError: the dropped connection was replaced first
    assert new_pid != pid


def test_a_connection_left_inside_a_transaction_gets_the_full_check():
    pid = _backend_pid()
    connection.connection.execute("BEGIN")  # what a crashed handler could leave behind, unknown to Django
    with pytest.raises(psycopg.errors.DivisionByZero):
        connection.connection.execute("SELECT 1/0")  # the server's transaction is now aborted
    _next_request()
    # Django's own check ran (its SELECT 1 fails in an aborted transaction) and replaced the connection
    assert _backend_pid() != pid

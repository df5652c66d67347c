"""The login throttle: one throttle behind every password check (storefront,
API, admin, any authenticate() call), atomic under parallel guesses on the
local-memory cache and on Redis, keyed so nobody can lock an owner out, and
with waits that grow instead of a fixed lockout."""

import threading
import time
import uuid
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from shopyard.accounts import services, throttle
from shopyard.accounts.models import User
from shopyard.accounts.throttle import TryLater, client_address
from shopyard.core.errors import ValidationFailed
from tests import factories as f

REDIS_URL = "redis://127.0.0.1:6379/0"


def _request(address="198.51.100.7", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/accounts/login/", **extra)


def _attempt(username, password, **request):
    """One login through the service: 'ok', 'wrong' or ('wait', seconds)."""
    try:
        services.login(request=_request(**request), username=username, password=password)
    except TryLater as exc:
        return ("wait", exc.retry_after)
    except ValidationFailed:
        return "wrong"
    return "ok"


@pytest.fixture
def clock(monkeypatch):
    """Wall-clock time that only moves when the test says so, so that the
    waits asserted do not depend on how long password hashing took. The
    throttle reads time.time for its waits; it keeps counting in the
    configured cache (Redis in CI's PostgreSQL stage)."""

    class Clock:
        now = 1_800_000_000.0

        def advance(self, seconds):
            self.now += seconds

    c = Clock()
    monkeypatch.setattr(time, "time", lambda: c.now)
    return c


@pytest.fixture
def moving_clock(clock, monkeypatch):
    """A clock the test may advance: the throttle then counts in a local-memory
    cache, whose expiry reads the same time.time (Redis expires keys by its own
    clock, which a test cannot move)."""
    monkeypatch.setattr(throttle, "cache", LocMemCache(f"throttle-clock-{uuid.uuid4().hex}", {}))
    return clock


@pytest.fixture
def count_password_checks(monkeypatch):
    """Count every real password check (the hasher's work), thread-safely."""
    checks = []
    lock = threading.Lock()
    original = User.check_password

    def counting(self, raw_password):
        with lock:
            checks.append(self.username)
        return original(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    return checks


# --- every path goes through the throttle -------------------------------------------


@pytest.mark.django_db
def test_admin_login_is_throttled_even_with_the_right_password(client, clock):
    # given an operator and five wrong passwords on the admin login
    User.objects.create_superuser("root", "root@example.com", f.PASSWORD)
    url = reverse("admin:login")
    for _ in range(5):
        wrong = client.post(url, {"username": "root", "password": "guess", "next": "/admin/"})
        assert wrong.status_code == 200
        assert "_auth_user_id" not in client.session

    # when the right password comes next from the same address
    response = client.post(url, {"username": "root", "password": f.PASSWORD, "next": "/admin/"})

    # then it is refused with 429, a Retry-After and the wait in words, and nobody is logged in
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "Too many attempts. Please try again in 30 seconds." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # while the operator, from their own address, still gets in
    own = Client(REMOTE_ADDR="192.0.2.50")
    ok = own.post(url, {"username": "root", "password": f.PASSWORD, "next": "/admin/"})
    assert ok.status_code == 302
    assert own.session["_auth_user_id"] == str(User.objects.get(username="root").pk)


@pytest.mark.django_db
def test_any_direct_authenticate_call_is_throttled(shopper, clock):
    # given five failed authenticate() calls, as any future login path would make them
    request = _request()
    for _ in range(5):
        assert authenticate(request, username="shopper", password="guess") is None

    # when a sixth call comes, with the right password
    with pytest.raises(TryLater) as refused:
        authenticate(request, username="shopper", password=f.PASSWORD)

    # then the throttle refused it before any check
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "rate_limited", 30)


@pytest.mark.django_db
def test_storefront_login_refusal_says_when_to_retry(client, shopper, clock):
    for _ in range(5):
        assert client.post(reverse("accounts:login"), {"username": "shopper", "password": "bad"}).status_code == 422

    response = client.post(reverse("accounts:login"), {"username": "shopper", "password": f.PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "Please try again in 30 seconds." in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_api_token_refusal_has_retry_after(api, shopper, clock):
    for _ in range(5):
        assert api.post("/auth/token", {"username": "shopper", "password": "wrong"}).status_code == 422

    response = api.post("/auth/token", {"username": "shopper", "password": f.PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "code": "rate_limited", "message": "Too many attempts. Please try again in 30 seconds.", "fields": {},
    }


# --- parallel guesses ------------------------------------------------------------------


def _redis_cache():
    from django.core.cache.backends.redis import RedisCache

    from tests.servers import redis_cache_or_skip

    prefix = f"shopyard-throttle-test-{uuid.uuid4().hex}"
    return redis_cache_or_skip(RedisCache, REDIS_URL, prefix), prefix


@pytest.fixture(params=["configured", "locmem", "redis"])
def throttle_cache(request, monkeypatch):
    """The cache the throttle counts in: the configured one (local memory, or
    Redis when REDIS_URL is set, as in CI's PostgreSQL stage), an explicit
    local-memory cache, and an explicit Redis cache on 127.0.0.1:6379."""
    if request.param == "configured":
        yield throttle.cache
        return
    if request.param == "locmem":
        explicit = LocMemCache(f"throttle-test-{uuid.uuid4().hex}", {})
        monkeypatch.setattr(throttle, "cache", explicit)
        yield explicit
        explicit.clear()
        return
    explicit, prefix = _redis_cache()
    monkeypatch.setattr(throttle, "cache", explicit)
    yield explicit
    from shopyard.core.cache import delete_matching

    delete_matching(explicit._cache.get_client(write=True), f"{prefix}:*")


def _guess_in_parallel(n, username, password, address):
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def guess(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = _attempt(username, password, address=address)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a guessing thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_wrong_passwords_get_five_password_checks(throttle_cache, count_password_checks, settings):
    # given an account, and a first wait far longer than the test (so no gate can reopen mid-race)
    settings.LOGIN_DELAY_SECONDS = 3600
    f.make_user("victim")

    # when 30 wrong passwords for it arrive at the same instant from one address
    outcomes = _guess_in_parallel(30, "victim", "wrong-guess", "203.0.113.9")

    # then exactly the allowance (5) of passwords was checked; the other 25 were
    # refused with a wait, before any hashing
    kinds = Counter(o if isinstance(o, str) else o[0] for o in outcomes)
    assert kinds == {"wrong": 5, "wait": 25}, [o for o in outcomes if o[0] == "error"][:3]
    assert count_password_checks == ["victim"] * 5
    # and the right password from that address waits too, without a check,
    # while the owner from their own address gets in
    assert _attempt("victim", f.PASSWORD, address="203.0.113.9")[0] == "wait"
    assert len(count_password_checks) == 5
    assert _attempt("victim", f.PASSWORD, address="192.0.2.10") == "ok"


# --- nobody locks others out -------------------------------------------------------------


@pytest.mark.django_db
def test_failures_on_assorted_accounts_from_one_client_do_not_lock_the_owners_out(settings, clock):
    # given a shop behind one trusted reverse proxy (every request arrives from
    # 10.0.0.2; the proxy appends the client's address to X-Forwarded-For)
    settings.TRUSTED_PROXY_COUNT = 1
    owners = [f.make_user(f"owner{i}") for i in range(4)]
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66")
    url = reverse("api:token")

    # when one client fails 20 times on assorted accounts (5 each)
    for i in range(20):
        response = attacker.post(url, {"username": owners[i % 4].username, "password": f"guess{i}"},
                                 content_type="application/json")
        assert response.status_code == 422

    # then each owner, from their own address behind the same proxy, logs in at once
    for i, owner in enumerate(owners):
        own = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{i + 1}")
        response = own.post(url, {"username": owner.username, "password": f.PASSWORD}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["user"]["username"] == owner.username
    # while the attacker's next try, even on a fresh account, waits
    fresh = f.make_user("fresh")
    response = attacker.post(url, {"username": fresh.username, "password": f.PASSWORD}, content_type="application/json")
    assert response.status_code == 429
    assert response["Retry-After"] == "30"  # the client gate, taken by its 20th failure


@pytest.mark.django_db
def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(shopper, clock):
    # given the default: no trusted proxy; the attacker forges a new X-Forwarded-For each time
    for i in range(5):
        assert _attempt("shopper", "guess", address="203.0.113.9", forwarded=f"192.0.2.{i}") == "wrong"

    # then the sixth try, from the same socket address, waits whatever the header says
    assert _attempt("shopper", f.PASSWORD, address="203.0.113.9", forwarded="192.0.2.99") == ("wait", 30)


@pytest.mark.django_db
def test_behind_a_proxy_forged_leading_entries_are_ignored(shopper, settings, clock):
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        forged = f"192.0.2.{i}, 203.0.113.9"  # the client wrote the first entry, the proxy the last
        assert _attempt("shopper", "guess", address="10.0.0.2", forwarded=forged) == "wrong"

    assert _attempt("shopper", f.PASSWORD, address="10.0.0.2", forwarded="192.0.2.99, 203.0.113.9") == ("wait", 30)


@pytest.mark.parametrize(("proxies", "remote", "forwarded", "expected"), [
    (0, "203.0.113.9", None, "203.0.113.9"),
    (0, "203.0.113.9", "192.0.2.1", "203.0.113.9"),
    (1, "10.0.0.2", "192.0.2.1, 198.51.100.4", "198.51.100.4"),
    (2, "10.0.0.3", "192.0.2.1, 198.51.100.4, 10.0.0.2", "198.51.100.4"),
    (1, "10.0.0.2", None, "10.0.0.2"),  # did not come through the proxy: the socket address
    (0, "2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
    (0, "::ffff:203.0.113.9", None, "203.0.113.9"),
])
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_address(_request(address=remote, forwarded=forwarded)) == expected


# --- growing delays instead of a lockout -------------------------------------------------


@pytest.mark.django_db
def test_waits_double_after_the_allowance_and_a_success_resets_them(shopper, moving_clock, settings):
    clock = moving_clock
    settings.LOGIN_MAX_DELAY_SECONDS = 200
    # given five failures: the allowance
    assert [_attempt("shopper", "guess") for _ in range(5)] == ["wrong"] * 5

    # then each further failure must wait twice as long as the last: 30, 60, 120, then the cap (200)
    waits = []
    for _ in range(4):
        outcome = _attempt("shopper", "guess")
        assert outcome[0] == "wait"
        waits.append(outcome[1])
        clock.advance(outcome[1] - 1)
        assert _attempt("shopper", "guess") == ("wait", 1)  # not a second early
        clock.advance(1)
        assert _attempt("shopper", "guess") == "wrong"  # one try per wait
    assert waits == [30, 60, 120, 200]

    # when the owner waits and gets the password right, the slate is clean again
    clock.advance(200)
    assert _attempt("shopper", f.PASSWORD) == "ok"
    assert [_attempt("shopper", "typo") for _ in range(5)] == ["wrong"] * 5


@pytest.mark.django_db
def test_failures_are_forgotten_after_the_memory_period(shopper, moving_clock, settings):
    clock = moving_clock
    settings.LOGIN_FAILURE_MEMORY_SECONDS = 86400
    assert [_attempt("shopper", "guess") for _ in range(5)] == ["wrong"] * 5
    assert _attempt("shopper", "guess") == ("wait", 30)

    clock.advance(86400)

    assert [_attempt("shopper", "guess") for _ in range(4)] == ["wrong"] * 4


def test_deploy_check_warns_behind_an_https_proxy_with_no_trusted_proxy(settings):
    from shopyard.accounts.checks import trusted_proxies

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0
    assert [w.id for w in trusted_proxies(None)] == ["shopyard.accounts.W001"]

    settings.TRUSTED_PROXY_COUNT = 1
    assert trusted_proxies(None) == []

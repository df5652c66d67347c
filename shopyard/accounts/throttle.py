"""Attempt limits kept in the cache, safe under concurrency.

Every limit charges an attempt with one atomic increment BEFORE the guarded
work (a password check, an account creation) runs, and decides on the value
that increment returned: a check-then-record scheme (read the count, do the
work, then count the failure) lets thirty parallel guesses all read "zero
failures so far" and all get checked. `cache.add` (SET NX) and `cache.incr`
(INCR) are atomic on the local-memory cache and on Redis alike, so the limits
hold across threads, processes and app servers sharing one Redis.

The accounts services hold the policy (which limit, keyed on what); this
module only counts.
"""

import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache  # module attribute: tests swap in an explicit Redis cache
from django.utils.translation import gettext_lazy, ngettext
from ipware import get_client_ip

from shopyard.core.errors import RateLimited


def _now() -> float:
    return time.time()


class Wait(Exception):  # noqa: N818 - an outcome, not a failure
    """The attempt was not admitted; the caller may retry after `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = max(1, math.ceil(seconds))
        super().__init__(self.seconds)


def wait_text(seconds: int) -> str:
    """A wait in the largest unit that reads naturally ("45 seconds", "4 minutes")."""
    if seconds < 120:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


class TryLater(RateLimited):
    """429 with the number of seconds to wait (sent as Retry-After)."""

    default_message = gettext_lazy("Too many attempts. Please try again in %(wait)s.")

    def __init__(self, retry_after: int, message=None):
        self.retry_after = int(retry_after)
        template = message or self.default_message
        super().__init__(str(template) % {"wait": wait_text(self.retry_after)})


def _incr(key: str, ttl: int) -> int:
    """Atomic increment that creates the counter (with its lifetime) when absent."""
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.add(key, 0, ttl)
        return cache.incr(key)


def _decr(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:  # already expired: nothing left to give back
        pass


@dataclass(frozen=True)
class Ticket:
    """An admitted attempt: what to give back if it must not count."""

    key: str
    gate_until: float | None = None  # set when this attempt took the gate


class GrowingDelay:
    """`free` attempts, then one attempt per wait, the wait doubling each time.

    The count is of attempts made since the last reset; it is forgotten
    `memory` seconds after the last attempt. Past the free allowance an
    attempt must take the gate, a key added atomically (SET NX) that lives for
    the current wait: of any number of parallel attempts exactly one takes it,
    the others are refused without doing the guarded work, and give their
    increment back so that refusals do not lengthen the waits.
    """

    def __init__(self, name: str, *, free: int, first_wait: int, max_wait: int, memory: int):
        self.name = name
        self.free = max(1, free)
        self.first_wait = max(1, first_wait)
        self.max_wait = max(self.first_wait, max_wait)
        self.memory = max(memory, self.max_wait)

    def _keys(self, ident: str) -> tuple[str, str]:
        return f"throttle:{self.name}:{ident}:n", f"throttle:{self.name}:{ident}:gate"

    def wait_after(self, attempts: int) -> int:
        """Seconds to wait after the `attempts`-th attempt (0 within the allowance)."""
        if attempts < self.free:
            return 0
        return min(self.first_wait * 2 ** min(attempts - self.free, 32), self.max_wait)

    def _refuse(self, gate_key: str) -> Wait:
        until = cache.get(gate_key)
        return Wait((until - _now()) if until else 1)

    def check(self, ident: str) -> None:
        """Raise Wait while the gate is closed (a cheap look, no counting)."""
        _count_key, gate_key = self._keys(ident)
        until = cache.get(gate_key)
        if until is not None and until > _now():
            raise Wait(until - _now())

    def take(self, ident: str) -> Ticket:
        count_key, gate_key = self._keys(ident)
        self.check(ident)
        attempts = _incr(count_key, self.memory)
        cache.touch(count_key, self.memory)
        if attempts < self.free:
            return Ticket(count_key)
        wait = self.wait_after(attempts)
        until = _now() + wait
        if cache.add(gate_key, until, wait):
            return Ticket(count_key, gate_until=until)
        _decr(count_key)
        raise self._refuse(gate_key)

    def refund(self, ticket: Ticket) -> None:
        """The attempt succeeded: it does not count, but a gate it took stays
        (otherwise one good login would reopen the gate for the next guess)."""
        _decr(ticket.key)

    def release(self, ticket: Ticket) -> None:
        """The attempt was never made: give back its count and its gate."""
        _decr(ticket.key)
        if ticket.gate_until is not None:
            gate_key = ticket.key[: -len(":n")] + ":gate"
            if cache.get(gate_key) == ticket.gate_until:
                cache.delete(gate_key)

    def reset(self, ident: str) -> None:
        cache.delete_many(list(self._keys(ident)))


class FixedWindow:
    """At most `limit` admitted attempts per `window` seconds, counted from the
    first one; parallel attempts cannot exceed it (the increment decides)."""

    def __init__(self, name: str, *, limit: int, window: int):
        self.name = name
        self.limit = max(0, limit)
        self.window = max(1, window)

    def _keys(self, ident: str) -> tuple[str, str]:
        return f"throttle:{self.name}:{ident}:n", f"throttle:{self.name}:{ident}:until"

    def take(self, ident: str) -> Ticket:
        count_key, until_key = self._keys(ident)
        cache.add(until_key, _now() + self.window, self.window)
        if _incr(count_key, self.window) <= self.limit:
            return Ticket(count_key)
        _decr(count_key)
        until = cache.get(until_key)
        raise Wait((until - _now()) if until else self.window)

    def release(self, ticket: Ticket) -> None:
        _decr(ticket.key)


def client_address(request) -> str:
    """Who is asking, as far as we can trust it.

    With TRUSTED_PROXY_COUNT = 0 (the default) that is the socket's address
    (REMOTE_ADDR): X-Forwarded-For and friends are written by the client and
    are never read. Behind N trusted reverse proxies it is the address the
    outermost of them saw, i.e. the N-th entry from the right of
    X-Forwarded-For (each proxy appends the address it received from, so
    entries a client forged stay on the left). A request that did not come
    through all N proxies falls back to REMOTE_ADDR. IPv6 clients are keyed
    by their /64 network, which one subscriber usually owns whole.
    """
    if request is None:
        return "local"
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        ip, _routable = get_client_ip(
            request, proxy_order="left-most", proxy_count=count - 1,
            request_header_order=("HTTP_X_FORWARDED_FOR",), strict=False,
        )
    else:
        ip = None
    if ip is None:
        ip, _routable = get_client_ip(request, request_header_order=("REMOTE_ADDR",), strict=False)
    if ip is None:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)

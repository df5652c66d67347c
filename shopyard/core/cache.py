"""A Redis cache that a Redis outage cannot turn into 500s.

Everything the cache holds can be lost (docs/operations.md, Redis), so while
Redis is unreachable every read is a miss, every write is skipped, and a
counter reads 0: pages render uncached, and the login throttle and sign-up
limits admit the attempt (they fail open) — a warning says so, at most once a
minute per process. Failing open was chosen over falling back to the database:
a throttle that needs the database on every login attempt during an outage
moves the load to the one service that cannot be scaled out, and the outage
itself is visible on the readiness endpoint and in the logs.
"""

import copyreg
import io
import logging
import pickle
import sys
import time

import django
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db.models import Model
from django.db.models.base import DJANGO_VERSION_PICKLE_KEY
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("shopyard.cache")


def _series(backend):
    """The counters of one backend, labelled once: looking a labelled series up (labels())
    on every get cost more than the local-memory get itself, and a listing makes thirty."""
    return (django_cache_get_total.labels(backend=backend), django_cache_get_fail_total.labels(backend=backend),
            django_cache_hits_total.labels(backend=backend), django_cache_misses_total.labels(backend=backend))


_REDIS_GETS, _REDIS_FAILS, _REDIS_HITS, _REDIS_MISSES = _series("redis")
_LOCMEM_GETS, _LOCMEM_FAILS, _LOCMEM_HITS, _LOCMEM_MISSES = _series("locmem")
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
WARN_EVERY_SECONDS = 60
_last_warning = 0.0


def _warn(operation: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        log.warning("Redis is unreachable: cache %s skipped (pages uncached, login throttling open)", operation)


class OneClientPerPool(RedisCacheClient):
    """Django's Redis client maker, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every cache call, and redis-py's
    constructor fills a table of some 170 response callbacks each time: that
    cost more CPU than the GET it served (two thirds of a kept API body's cache
    read, bench/api_cpu.py). A `redis.Redis` is only a thread-safe handle on
    its pool, so one per pool serves every call."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(pool)
        if client is None:
            client = clients[pool] = self._client(connection_pool=pool)
        return client


class CountedRedisCache(RedisCache):
    """Django's RedisCache with django-prometheus's hit and miss counters
    (theirs, NativeRedisCache, imports django-redis, which we do not use)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = OneClientPerPool

    def get(self, key, default=None, version=None):
        _REDIS_GETS.inc()
        try:
            value = super().get(key, default=None, version=version)
        except Exception:
            _REDIS_FAILS.inc()
            raise
        if value is None:
            _REDIS_MISSES.inc()
            return default
        _REDIS_HITS.inc()
        return value

    def clear(self):
        """Delete this cache's own entries: Django's RedisCache.clear() empties the whole Redis
        database (FLUSHDB), whatever the prefix, taking another deployment's cache and this
        one's other keys with it (flash-sale stock, task results: promotions/flash_store.py,
        Celery) -- and, in a test run split over processes sharing one Redis, another process's
        entries halfway through its test. An entry's key is `<KEY_PREFIX>:<version>:<key>`
        (Django's key function), so only keys whose part after the prefix starts with a digit go."""
        delete_matching(self._cache.get_client(write=True), f"{_glob_escaped(self.key_prefix)}:[0-9]*")


_DELETE_BATCH = 1000


def delete_matching(client, match: str) -> None:
    """Delete the keys that the glob `match` matches, found with SCAN (never KEYS, which
    blocks Redis while it walks every key) and deleted a batch at a time."""
    batch = []
    for key in client.scan_iter(match=match, count=_DELETE_BATCH):
        batch.append(key)
        if len(batch) == _DELETE_BATCH:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


def _glob_escaped(text: str) -> str:
    """`text` matched literally by Redis's glob patterns (SCAN's MATCH)."""
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)


class CountedLocMemCache(LocMemCache):
    """Django's local-memory cache with the same counters. Not django-prometheus's
    own LocMemCache: it returns `cached or default`, so a cached empty list, 0
    or "" reads as a miss (and a cached "no synonyms" is asked of the database
    on every search)."""

    def get(self, key, default=None, version=None):
        _LOCMEM_GETS.inc()
        sentinel = object()
        value = super().get(key, default=sentinel, version=version)
        if value is sentinel:
            _LOCMEM_MISSES.inc()
            return default
        _LOCMEM_HITS.inc()
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """LocMemCache.set, its value pickled with model instances by class (_InProcessPickler)."""
        key = self.make_and_validate_key(key, version=version)
        buffer = io.BytesIO()
        _InProcessPickler(buffer, self.pickle_protocol).dump(value)
        with self._lock:
            self._set(key, buffer.getvalue(), timeout)


class _InProcessPickler(pickle.Pickler):
    """Pickles a model instance as Python pickles a plain object: its class (by reference) and
    its attributes, with the Django version its __setstate__ checks, where Django's __reduce__
    copies its state twice over (copy.copy) and names its model for the app registry to look up
    again on every read. What the local-memory cache keeps never leaves its process, so the
    class is always there: a product page's kept entry (a dozen instances) cost a quarter less to
    write and a fifth less to read. Reading is plain pickle.loads, so each read still gets its own copy.
    An instance whose class pickles itself otherwise, is not importable by its name (a
    many-to-many table's) or holds a memoryview is left to Django's own __reduce__."""

    def reducer_override(self, obj):
        if isinstance(obj, Model) and _by_class(type(obj)):
            state = obj.__dict__
            if not any(type(value) is memoryview for value in state.values()):
                return copyreg.__newobj__, (type(obj),), {**state, DJANGO_VERSION_PICKLE_KEY: django.__version__}
        return NotImplemented


_BY_CLASS: dict = {}


def _by_class(cls) -> bool:
    known = _BY_CLASS.get(cls)
    if known is None:
        module = sys.modules.get(cls.__module__)
        known = _BY_CLASS[cls] = (
            cls.__reduce__ is Model.__reduce__ and cls.__getstate__ is Model.__getstate__
            and cls.__setstate__ is Model.__setstate__ and getattr(module, cls.__qualname__, None) is cls)
    return known


def _guarded(name, fallback):
    parent = getattr(CountedRedisCache, name)

    def method(self, *args, **kwargs):
        try:
            return parent(self, *args, **kwargs)
        except DOWN:
            _warn(name)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


def _default(key, default=None, *args, **kwargs):
    return default


def _get_many_default(*args, **kwargs):
    return {}


def _keys_not_set(data, *args, **kwargs):
    return list(data)


class ResilientRedisCache(CountedRedisCache):
    """Django's RedisCache (with django-prometheus's hit counts) that degrades to no cache."""

    get = _guarded("get", _default)
    set = _guarded("set", None)
    add = _guarded("add", False)
    touch = _guarded("touch", False)
    delete = _guarded("delete", False)
    get_many = _guarded("get_many", _get_many_default)
    set_many = _guarded("set_many", _keys_not_set)
    delete_many = _guarded("delete_many", None)
    has_key = _guarded("has_key", False)
    incr = _guarded("incr", 0)
    decr = _guarded("decr", 0)
    clear = _guarded("clear", None)

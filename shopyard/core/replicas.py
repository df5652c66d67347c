"""Which database a read goes to when PostgreSQL read replicas are configured.

The one rule (docs/operations.md, "Read replicas"): a read goes to a replica
only when all of these hold, and to the primary otherwise:

1. replicas are configured (`DATABASE_REPLICA_URLS`; without it there is no
   router at all and everything uses the one database);
2. the code runs inside `catalogue_reads()` (the catalogue pages and the
   catalogue API mark themselves with `@catalogue_view`): nothing else can
   end up on a replica by accident, however it reaches the ORM;
3. the model is catalogue data (`CATALOGUE_APPS`, minus the shopper's own
   rows in `SHOPPER_MODELS`): a catalogue page that also shows the
   shopper's session, cart or favourites reads those from the primary;
4. the visitor is not pinned to the primary: the request is not a write
   (any method but GET/HEAD/OPTIONS), and no write in the last
   `SHOPYARD_REPLICA_PIN_SECONDS` set the pin cookie (see `PinMiddleware`);
5. no transaction is open on the primary (reads inside `atomic()` must see
   what that transaction wrote, and `select_for_update` needs the primary);
6. the replica answers: one that cannot be connected to is skipped for
   `SHOPYARD_REPLICA_RETRY_SECONDS` (a warning says so), and its catalogue
   reads go to the primary meanwhile, so a replica outage slows the primary
   down instead of failing the catalogue (`reachable`).

Writes always go to the primary; a replica is read-only anyway, so a write
routed there would fail loudly rather than be lost.
"""

import logging
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

log = logging.getLogger("shopyard.replicas")

# catalogue data: what a shopper browses and never writes
CATALOGUE_APPS = frozenset({
    "catalog", "shops", "inventory", "promotions", "reviews", "search", "storefront", "recommendations",
    "contenttypes",
})
# rows of a catalogue app that a shopper or seller writes and expects to see at once
SHOPPER_MODELS = frozenset({
    "catalog.favourite", "catalog.catalogimport",
    "shops.shopfollow", "shops.shopmember", "shops.shopapplication", "shops.shopapplicationdocument",
    "shops.shopapplicationevent",
    "promotions.usercoupon", "promotions.flashpurchasecount", "promotions.flashreservation",
    "promotions.group", "promotions.groupmember",
    "search.searchlog",
})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "shopyard_primary"

# the replica alias the current catalogue read uses (None: not in a catalogue read)
_catalogue_alias: ContextVar[str | None] = ContextVar("shopyard_catalogue_alias", default=None)
# the current request must read from the primary (it writes, or its visitor wrote lately)
_pinned: ContextVar[bool] = ContextVar("shopyard_pinned_to_primary", default=False)
# the current request wrote something (a GET may write too: its visitor is pinned afterwards)
_wrote: ContextVar[bool] = ContextVar("shopyard_request_wrote", default=False)


# replicas that could not be connected to, and until when (time.monotonic()) they are skipped;
# per process: each app server finds out for itself, at the cost of one failed connection
_skipped_until: dict[str, float] = {}


def replica_aliases() -> list[str]:
    return list(getattr(settings, "REPLICA_DATABASES", ()))


def _skipped(alias: str) -> bool:
    until = _skipped_until.get(alias)
    return until is not None and time.monotonic() < until


def reachable(alias: str) -> bool:
    """Whether replica `alias` can serve reads now (rule 6). Its connection is
    opened, or the one kept from an earlier request checked, once per request,
    as the first query would do anyway; a replica that fails is skipped for
    REPLICA_RETRY_SECONDS rather than tried again by every request, which would
    cost each one a connect timeout when the host does not answer at all."""
    if _skipped(alias):
        return False
    if alias not in connections:
        # no connection settings to try (REPLICA_DATABASES given alone, as the rule's own tests
        # do; settings.py always defines both): the rule's answer stands
        return True
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except (OperationalError, InterfaceError) as exc:
        seconds = settings.REPLICA_RETRY_SECONDS
        _skipped_until[alias] = time.monotonic() + seconds
        # the exception's text may name the host; the alias says which replica without it
        log.warning("read replica %s is unreachable (%s): its catalogue reads go to the primary for %s s",
                    alias, type(exc).__name__, seconds)
        return False
    _skipped_until.pop(alias, None)
    return True


@contextmanager
def catalogue_reads():
    """Reads of catalogue data inside this block may be served by a replica."""
    aliases = [a for a in replica_aliases() if not _skipped(a)]
    # one replica for the whole block, so a page is read from one consistent snapshot source
    token = _catalogue_alias.set(random.choice(aliases) if aliases else None)
    try:
        yield
    finally:
        _catalogue_alias.reset(token)


def catalogue_replica() -> str | None:
    """The replica this block's catalogue reads go to (None: outside a catalogue read, or no replicas)."""
    return _catalogue_alias.get()


def read_source() -> str:
    """Which copy catalogue reads come from at this moment: "replica" inside a catalogue read of a
    visitor not pinned to the primary, "primary" otherwise (the rule `read_alias` applies)."""
    return "replica" if _catalogue_alias.get() is not None and not _pinned.get() else "primary"


def catalogue_view(view):
    """Mark a catalogue page or catalogue API read (the decorator form of `catalogue_reads`)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with catalogue_reads():
            return view(*args, **kwargs)

    return wrapper


@contextmanager
def primary_only():
    """Every read inside this block goes to the primary (a request that writes)."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def read_alias(model) -> str:
    """The database alias a read of `model` uses now (the rule in the module docstring)."""
    alias = _catalogue_alias.get()
    if alias is None or _pinned.get():
        return DEFAULT_DB_ALIAS
    meta = model._meta
    if meta.app_label not in CATALOGUE_APPS or meta.label_lower in SHOPPER_MODELS:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias if reachable(alias) else DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Django's database router for DATABASE_REPLICA_URLS (installed only when it is set)."""

    def db_for_read(self, model, **hints):
        return read_alias(model)

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # the replicas hold the primary's rows: an object read from one may point to one from another
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class PinMiddleware:
    """Keep a visitor on the primary for a few seconds after they write.

    The pin is a cookie, not a session flag: anonymous visitors have no
    session, the session itself lives in the database (reading a flag from it
    would cost a primary query on every page), and the cookie is read with no
    query at all. It carries no secret: a visitor who forges it only sends
    their own reads to the primary. API clients that keep no cookies read
    their own data from endpoints that never use a replica (cart, orders,
    the seller API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned = request.method not in SAFE_METHODS or PIN_COOKIE in request.COOKIES
        pin_token = _pinned.set(pinned)
        wrote_token = _wrote.set(False)
        try:
            response = self.get_response(request)
            if request.method not in SAFE_METHODS or _wrote.get():
                seconds = settings.REPLICA_PIN_SECONDS
                response.set_cookie(PIN_COOKIE, str(int(time.time()) + seconds), max_age=seconds,
                                    httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
            return response
        finally:
            _pinned.reset(pin_token)
            _wrote.reset(wrote_token)

"""Flash-sale counters in Redis: the gate in front of the database.

With `REDIS_URL` set, every purchase attempt first runs one Lua script that,
atomically, checks the item's stock (> 0), checks the buyer's units against
the per-user limit, then decrements the stock and counts the buyer's units.
The crowd that comes too late is turned away here, without a database query;
the few that pass go on to the database's conditional UPDATEs (flash.py),
which remain the record and the last guard, so Redis losing its keys can
never oversell: missing keys are loaded again from the database.

Keys (under REDIS_KEY_PREFIX, so deployments and test runs sharing one Redis
never see each other's): `<prefix>:flash:<item>:stock` (units left) and
`<prefix>:flash:<item>:buyers` (a hash: user id -> units held). They expire a
day after the session ends.

Held purchases (`hold`): with a Celery broker, a buyer who gets units is
answered at once, before any order exists. The same Lua step that takes the
units writes the purchase into `<prefix>:flash:pending` (a hash: hold token
-> JSON with buyer, item, units, address, idempotency key, time); a worker
makes the order from it (checkout/flash.py `place_held`) and deletes the
entry, or marks it failed with the reason. Losing the hash loses no stock:
the database's conditional UPDATEs, which the worker runs, still decide.

Holds waiting for a worker are also queued, in order, in `<prefix>:flash:queue`
(a list of hold tokens). Workers drain it in batches (`take_queued`), and one
drain task is published per batch of holds rather than one task per hold: the
first hold after a drain started sets `<prefix>:flash:drain` and publishes a
drain task (`queue_hold` says when); a drain deletes that flag *before* it
pops, and pops until the list is empty, so every queued token is popped by a
drain that started after it was queued or before its flag was cleared. A
token popped by a drain that then died is still in the pending hash, and the
periodic sweep makes its order.

Without Redis, `sold_out` reads a short-lived marker in the local cache that
the database path sets when an item runs out, so a sold-out item's crowd does
not query the database more than once a second per process either.
"""

import json
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from redis import RedisError

# any Redis failure (connection refused, timeout): callers fall back to the database path
Unavailable = RedisError

SOLD_OUT = -1
OVER_LIMIT = -2
NOT_LOADED = -3
NOT_ENOUGH = -4
DUPLICATE = -5  # a hold with this token exists already (a retried request)

# a sold-out marker in the local cache lives this long (database path only)
SOLD_OUT_MARK_SECONDS = 1

_RESERVE = """
local stock = redis.call('GET', KEYS[1])
if not stock then return -3 end
stock = tonumber(stock)
local qty = tonumber(ARGV[2])
if stock <= 0 then return -1 end
if stock < qty then return -4 end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held + qty > tonumber(ARGV[3]) then return -2 end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
return stock - qty
"""

# as _RESERVE, and records the held purchase under its token in the same step;
# with an idempotency key (KEYS[4] names it), a second request is answered with the first's token
_HOLD = """
if ARGV[6] == '1' then
  local earlier = redis.call('GET', KEYS[4])
  if earlier then return {-5, earlier} end
end
local stock = redis.call('GET', KEYS[1])
if not stock then return {-3, ''} end
stock = tonumber(stock)
local qty = tonumber(ARGV[2])
if stock <= 0 then return {-1, ''} end
if stock < qty then return {-4, ''} end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held + qty > tonumber(ARGV[3]) then return {-2, ''} end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
if ARGV[6] == '1' then redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[7]) end
return {stock - qty, ARGV[4]}
"""

# queue a hold for the drain; 1 when no drain is known to be coming (the caller publishes one)
_QUEUE = """
redis.call('RPUSH', KEYS[1], ARGV[1])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""

_RELEASE = """
local qty = tonumber(ARGV[2])
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], qty)
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  local held = redis.call('HINCRBY', KEYS[2], ARGV[1], -qty)
  if held <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
end
return 1
"""

_LOAD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EXAT', ARGV[2]) then
  redis.call('DEL', KEYS[2])
  for i = 3, #ARGV, 2 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
  redis.call('HSET', KEYS[2], '_', '0')
  redis.call('EXPIREAT', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


def enabled() -> bool:
    return bool(settings.REDIS_URL)


@lru_cache(maxsize=4)
def _client(url):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


@lru_cache(maxsize=4)
def _scripts(url):
    client = _client(url)
    return (client.register_script(_RESERVE), client.register_script(_RELEASE), client.register_script(_LOAD),
            client.register_script(_HOLD), client.register_script(_QUEUE))


def client():
    return _client(settings.REDIS_URL)


def _keys(item_id):
    base = f"{settings.REDIS_KEY_PREFIX}:flash:{item_id}"
    return [f"{base}:stock", f"{base}:buyers"]


def reserve(*, item_id, user_id, quantity, limit) -> int:
    """Units left after taking `quantity` for `user_id`, or SOLD_OUT, NOT_ENOUGH,
    OVER_LIMIT, NOT_LOADED (call `load` and try again)."""
    script = _scripts(settings.REDIS_URL)[0]
    return int(script(keys=_keys(item_id), args=[user_id, quantity, limit]))


# an idempotency key's hold is remembered this long
KEY_SECONDS = 24 * 3600


def hold(*, item_id, user_id, quantity, limit, token: str, entry: dict, key_ref: str | None = None) -> tuple[int, str]:
    """As `reserve`, and record `entry` as held purchase `token` in the same
    atomic step. Returns (result, token): with `key_ref` (the buyer's
    idempotency key, hashed) already used, (DUPLICATE, the first request's token)."""
    script = _scripts(settings.REDIS_URL)[3]
    keys = [*_keys(item_id), _pending_key(), _key_ref_key(key_ref or "none")]
    result, held_token = script(keys=keys, args=[user_id, quantity, limit, token, json.dumps(entry, separators=(",", ":")),
                                                 "1" if key_ref else "0", KEY_SECONDS])
    return int(result), held_token.decode() if isinstance(held_token, bytes) else held_token


def _key_ref_key(key_ref):
    return f"{settings.REDIS_KEY_PREFIX}:flash:key:{key_ref}"


def forget_key(key_ref: str) -> None:
    """Let a request with this idempotency key hold again (its first attempt was refused at once)."""
    client().delete(_key_ref_key(key_ref))


def _pending_key():
    return f"{settings.REDIS_KEY_PREFIX}:flash:pending"


def _queue_key():
    return f"{settings.REDIS_KEY_PREFIX}:flash:queue"


def _drain_key():
    return f"{settings.REDIS_KEY_PREFIX}:flash:drain"


# a drain flag whose task was never published (the process died between the two) lasts this long
DRAIN_FLAG_SECONDS = 60


def queue_hold(token: str) -> bool:
    """Queue held purchase `token` for the drain; True when the caller must publish a drain
    task (none is known to be coming), False when one is on its way already."""
    script = _scripts(settings.REDIS_URL)[4]
    return bool(script(keys=[_queue_key(), _drain_key()], args=[token, DRAIN_FLAG_SECONDS]))


def drain_started() -> None:
    """A drain is about to pop: holds queued from now on publish a new one. Called before
    popping, so a hold queued meanwhile is popped by this drain or by the next."""
    client().delete(_drain_key())


def drain_unscheduled() -> None:
    """Publishing the drain failed: let the next hold try again."""
    client().delete(_drain_key())


def take_queued(count: int) -> list[str]:
    """Pop up to `count` queued hold tokens, oldest first (each goes to one drain only)."""
    values = client().lpop(_queue_key(), count) or []
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def queued() -> int:
    """How many holds wait in the queue."""
    return int(client().llen(_queue_key()))


def held(token: str) -> dict | None:
    """The held purchase `token` (with "failed" set once its order could not be made), or None."""
    value = client().hget(_pending_key(), token)
    return None if value is None else json.loads(value)


def all_held() -> dict:
    """Every held purchase by token (the periodic sweep reads them)."""
    return {key.decode(): json.loads(value) for key, value in client().hgetall(_pending_key()).items()}


def finish_hold(token: str) -> None:
    """The order was made (the database records it now): drop the held purchase."""
    client().hdel(_pending_key(), token)


def fail_hold(token: str, entry: dict) -> None:
    """Keep the held purchase, marked failed with why, so the buyer can read it."""
    client().hset(_pending_key(), token, json.dumps(entry, separators=(",", ":")))


def release(*, item_id, user_id, quantity, to_stock=True) -> None:
    """Give `quantity` back to the item (when `to_stock`) and take it off the buyer's count."""
    script = _scripts(settings.REDIS_URL)[1]
    script(keys=_keys(item_id), args=[user_id, quantity, "1" if to_stock else "0"])


def load(*, item_id, available, buyers: dict, expire_at: int) -> bool:
    """Write an item's counters from the database unless they exist already."""
    script = _scripts(settings.REDIS_URL)[2]
    args = [available, expire_at]
    for user_id, held in buyers.items():
        args += [user_id, held]
    return bool(script(keys=_keys(item_id), args=args))


def forget(item_id) -> None:
    """Drop an item's counters (the session ended or was cancelled)."""
    client().delete(*_keys(item_id))


def left(item_id) -> int | None:
    """Units left as Redis counts them, or None when not loaded."""
    value = client().get(_keys(item_id)[0])
    return None if value is None else int(value)


def _mark_key(item_id):
    return f"flash-sold-out:{item_id}"


def mark_sold_out(item_id) -> None:
    if not enabled():
        cache.set(_mark_key(item_id), 1, SOLD_OUT_MARK_SECONDS)


def clear_sold_out(item_id) -> None:
    if not enabled():
        cache.delete(_mark_key(item_id))


def sold_out(item_id) -> bool:
    """Whether the item is known to be sold out, without touching the database."""
    if enabled():
        value = client().get(_keys(item_id)[0])
        return value is not None and int(value) <= 0
    return cache.get(_mark_key(item_id)) is not None

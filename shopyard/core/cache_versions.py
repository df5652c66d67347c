"""Version counters for families of cache entries (whole pages, API bodies).

A family's keys carry its version, so one increment makes every entry
unreachable at once, with no key listing and no race with a reader building
an entry at that moment: the next read simply misses. With read replicas, a
page built right after a change may come from a replica that has not replayed
that change yet; for REPLICA_PIN_SECONDS after each bump, new entries are
kept no longer than that, so a lagging replica cannot fix stale content in
the cache for the family's whole lifetime. And what was built from a replica
is kept apart from what was built from the primary (`stamp`), so a visitor
pinned to the primary after their own write never gets an entry a lagging
replica built.
"""

from django.conf import settings
from django.core.cache import cache

from shopyard.core.replicas import read_source, replica_aliases


class CacheVersion:
    def __init__(self, key: str):
        self.key = key
        self.bumped_key = f"{key}:bumped"  # set for REPLICA_PIN_SECONDS after a bump, with replicas

    def current(self) -> int:
        value = cache.get(self.key)
        if value is None:
            cache.add(self.key, 1, None)
            value = cache.get(self.key, 1)
        return value

    def stamp(self) -> str:
        """The version as it goes into a key: with replicas, also where this request reads from."""
        if replica_aliases():
            return f"{self.current()}-{read_source()}"
        return str(self.current())

    def bump(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # evicted or never set: any value above the first will do
            cache.set(self.key, 2, None)
        if replica_aliases():
            cache.set(self.bumped_key, 1, settings.REPLICA_PIN_SECONDS)

    def keep_seconds(self, seconds: int) -> int:
        """How long an entry built now may be kept (`seconds`, unless a replica may lag)."""
        if replica_aliases() and cache.get(self.bumped_key):
            return min(seconds, settings.REPLICA_PIN_SECONDS)
        return seconds

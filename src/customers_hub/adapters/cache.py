"""Cache adapters: an in-process LRU with TTLs, Redis shared by every instance, and a cache that
stores nothing (several worker processes without Redis).

Both implement :class:`~customers_hub.application.caching.Cache` with *generational tags*
(see that module): the physical key of an entry folds in the current generation of every tag it
depends on, and invalidating a tag gives it a fresh generation — O(1) whatever the number of
entries. Generations are fresh *random* tokens (in process: values of a counter never reused), not
counters, so a generation that expires or is evicted and is created again can never coincide with
one that addressed an entry still alive: forgetting a generation only ever causes misses.

Redis layout (``prefix`` defaults to ``hub:``)::

    {prefix}epoch                                   global generation, bumped after an outage
    {prefix}{org}:gen:{tag}                         generation of one tag (expires, see below)
    {prefix}{org}:{name}:v{epoch}.{gen1}.{gen2}…    an entry; {name} is the document's pattern,
                                                    e.g. customer:cust_001, customer:list:{h}:{p}

:class:`RedisCache` never raises to its callers. While Redis is unreachable every lookup is a miss
(the caller reads the database), nothing is stored, and invalidations that could not be written
are remembered: when Redis answers again the cache first bumps ``{prefix}epoch`` — every entry
written before is then unreachable — so an invalidation lost in the outage cannot leave stale
data behind. Until this instance gets through, another instance that still reaches Redis may
serve entries the lost invalidation should have dropped (a network partition of one instance);
a background task retries every ``retry_interval`` seconds to keep that window short, and every
invalidation tries Redis itself (reads and stores back off; invalidations never skip a try).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from customers_hub.adapters.redis_support import REDIS_ERRORS, RedisAvailability, redis_client
from customers_hub.application.caching import CacheKey, CacheLookup, Invalidation

__all__ = ["InMemoryCache", "NullCache", "RedisCache"]

logger = logging.getLogger(__name__)


class NullCache:
    """Caches nothing: every lookup is a miss, nothing is stored, invalidations do nothing.

    For several worker processes without Redis: an in-process cache per worker would be
    invalidated only in the worker that served the write, and the others would answer stale
    entries until their TTL ran out.
    """

    async def get(self, key: CacheKey) -> CacheLookup:
        """Always a miss (no slot: :meth:`put` has nowhere to store)."""
        return CacheLookup(key, None, None)

    async def put(self, lookup: CacheLookup, value: bytes) -> None:
        """Store nothing."""

    async def invalidate(self, invalidation: Invalidation) -> None:
        """Nothing to invalidate."""

    async def aclose(self) -> None:
        """Nothing to close."""


class InMemoryCache:
    """A bounded LRU of bytes with per-entry TTLs and generational tags (one process).

    ``max_entries`` bounds the entries; generations are bounded to ``4 * max_entries`` tags
    (least recently used dropped — which only causes misses). ``clock`` gives monotonic seconds.
    """

    def __init__(
        self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._max_generations = 4 * max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._generations: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._counter = itertools.count(1)

    def __len__(self) -> int:
        """Entries held now (expired ones included until they are touched or evicted)."""
        return len(self._entries)

    def _generation(self, organization_id: str, tag: str) -> int:
        ref = (organization_id, tag)
        value = self._generations.get(ref)
        if value is None:
            value = self._generations[ref] = next(self._counter)
            while len(self._generations) > self._max_generations:
                self._generations.popitem(last=False)
        else:
            self._generations.move_to_end(ref)
        return value

    def _slot(self, key: CacheKey) -> str:
        org, generation = key.organization_id, self._generation
        gens = ".".join([str(generation(org, tag)) for tag in key.tags])  # a list: joined faster
        return f"{org}:{key.name}:v{gens}"

    async def get(self, key: CacheKey) -> CacheLookup:
        """The value under the tags' current generations, or a miss (expired entries dropped)."""
        slot = self._slot(key)
        entry = self._entries.get(slot)
        if entry is None:
            return CacheLookup(key, None, slot)
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._entries[slot]
            return CacheLookup(key, None, slot)
        self._entries.move_to_end(slot)
        return CacheLookup(key, value, slot)

    async def put(self, lookup: CacheLookup, value: bytes) -> None:
        """Store ``value`` for ``key.ttl`` seconds, unless a tag was invalidated since the lookup
        (the value may predate that change, and nobody could read it anyway)."""
        if lookup.slot is None or lookup.slot != self._slot(lookup.key):
            return
        self._entries[lookup.slot] = (self._clock() + lookup.key.ttl, value)
        self._entries.move_to_end(lookup.slot)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, invalidation: Invalidation) -> None:
        """Give each tag a fresh generation."""
        for tag in invalidation.tags:
            ref = (invalidation.organization_id, tag)
            self._generations[ref] = next(self._counter)
            self._generations.move_to_end(ref)
        while len(self._generations) > self._max_generations:
            self._generations.popitem(last=False)

    async def aclose(self) -> None:
        """Drop everything."""
        self._entries.clear()
        self._generations.clear()


# KEYS[1] is the epoch (kept forever), KEYS[2..] tag generations (expire after ARGV[1] s).
# A missing generation is created from ARGV[2] (fresh random) and its index, atomically, so two
# instances creating it at once agree on one value.
_GENERATIONS_LUA: Final = """
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    v = ARGV[2] .. string.format('%x', i)
    if i == 1 then
      redis.call('SET', key, v)
    else
      redis.call('SET', key, v, 'EX', ARGV[1])
    end
  end
  out[i] = v
end
return out
"""


def _token() -> str:
    # 48 random bits: a fresh generation never equals an earlier one in practice.
    return secrets.token_hex(6)


class RedisCache:
    """The cache in Redis, shared by every instance; never raises to its callers.

    ``generation_ttl`` (default 2 h, above every entry TTL) bounds how long an unused tag
    generation (one per customer read) stays in Redis.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "hub:",
        generation_ttl: float = 7200.0,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._generation_ttl = max(1, int(generation_ttl))
        self._retry_interval = retry_interval
        self._availability = RedisAvailability(
            "cache", logger, retry_interval=retry_interval, clock=clock
        )
        self._generations = redis.register_script(_GENERATIONS_LUA)
        self._epoch_key = f"{prefix}epoch"
        # Invalidations that could not be written, and how many of them an epoch bump covers.
        self._missed = 0
        self._covered = 0
        self._recovery: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 1.0, prefix: str = "hub:") -> RedisCache:
        """A cache on a fresh fail-fast client for ``url``."""
        return cls(redis_client(url, timeout=timeout), prefix=prefix)

    @property
    def available(self) -> bool:
        """False from a failed call until one succeeds."""
        return self._availability.up

    @property
    def outages(self) -> int:
        """Outages seen so far."""
        return self._availability.outages

    def _gen_key(self, organization_id: str, tag: str) -> str:
        return f"{self._prefix}{organization_id}:gen:{tag}"

    async def _bump_epoch_if_needed(self) -> None:
        if self._missed > self._covered:
            target = self._missed  # misses recorded while the SET is in flight need another bump
            await self._redis.set(self._epoch_key, _token())
            self._covered = max(self._covered, target)
            logger.warning("cache: epoch bumped after an outage (entries written before dropped)")

    def _fail(self, error: BaseException) -> None:
        self._availability.failed(error)

    async def get(self, key: CacheKey) -> CacheLookup:
        """The entry under the current generations; a miss (and no slot) while Redis is down."""
        if not self._availability.should_try():
            return CacheLookup(key, None, None)
        try:
            await self._bump_epoch_if_needed()
            keys = [self._epoch_key, *(self._gen_key(key.organization_id, t) for t in key.tags)]
            gens = await self._generations(keys=keys, args=[self._generation_ttl, _token()])
            slot = f"{self._prefix}{key.organization_id}:{key.name}:v" + ".".join(
                g.decode() if isinstance(g, bytes) else str(g) for g in gens
            )
            value = await self._redis.get(slot)
        except REDIS_ERRORS as error:
            self._fail(error)
            return CacheLookup(key, None, None)
        self._availability.succeeded()
        if isinstance(value, str):  # a client made with decode_responses=True
            value = value.encode()
        return CacheLookup(key, value, slot)

    async def put(self, lookup: CacheLookup, value: bytes) -> None:
        """Store ``value`` under the lookup's slot for ``key.ttl``; skipped while Redis is down."""
        if lookup.slot is None or not self._availability.should_try():
            return
        try:
            await self._bump_epoch_if_needed()
            await self._redis.set(lookup.slot, value, px=max(1, int(lookup.key.ttl * 1000)))
        except REDIS_ERRORS as error:
            self._fail(error)
            return
        self._availability.succeeded()

    async def invalidate(self, invalidation: Invalidation) -> None:
        """Fresh generations for the tags; if Redis cannot be told, bump the epoch once it can."""
        if not invalidation.tags:
            return
        # Always attempted, even while this instance believes Redis is down: when Redis is back
        # and another instance already caches again, an invalidation skipped here would leave
        # it serving a stale entry until the epoch bump. A refused connection fails at once;
        # only a partition costs a write the client timeout.
        try:
            await self._bump_epoch_if_needed()
            async with self._redis.pipeline(transaction=False) as pipe:
                for tag in sorted(invalidation.tags):
                    pipe.set(
                        self._gen_key(invalidation.organization_id, tag),
                        _token(),
                        ex=self._generation_ttl,
                    )
                await pipe.execute()
        except REDIS_ERRORS as error:
            self._fail(error)
            self._remember_missed()
            return
        self._availability.succeeded()

    def _remember_missed(self) -> None:
        self._missed += 1
        if self._recovery is None or self._recovery.done():
            try:
                self._recovery = asyncio.get_running_loop().create_task(self._recover())
            except RuntimeError:  # no loop: the next call bumps the epoch instead
                self._recovery = None

    async def _recover(self) -> None:
        # Bump the epoch as soon as Redis answers, even if this instance gets no traffic.
        while self._missed > self._covered:
            await asyncio.sleep(self._retry_interval)
            try:
                await self._bump_epoch_if_needed()
            except REDIS_ERRORS as error:
                self._fail(error)
                continue
            self._availability.succeeded()

    async def aclose(self) -> None:
        """Stop the recovery task and close the client's connections."""
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
            self._recovery = None
        with contextlib.suppress(*REDIS_ERRORS):
            await self._redis.aclose()

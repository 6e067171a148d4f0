"""Rate limiters: token buckets in the process, or in Redis shared by every instance.

The limits (:data:`RATE_LIMITS`) come from the API document's two tables:

- *Rate Limit by Role* gives ``read``, ``write`` and ``bulk`` per role per minute (Admin
  200/100/50, Manager 150/50/20, Agent 100/30/10, Viewer 50/0/0);
- *Rate Limit Rules* gives the categories the role table lacks — ``search`` 20/min burst 30,
  ``upload`` 5/min burst 10, ``auth`` 5/min burst 10 — the same for every role, and the bursts:
  a role's burst in ``read``/``write``/``bulk`` is the category's burst scaled to the role's
  limit, rounded up: ``ceil(role_limit × category_burst / category_limit)`` (read ×1.5, write
  ×5/3, bulk ×1.5 — an Agent gets exactly the category table: 100/150, 30/50, 10/15; an Admin
  200/300, 100/167, 50/75; a Manager 150/225, 50/84, 20/30; a Viewer 50/75 and no writes).

Each (organization, user, category) has a token bucket of ``burst`` tokens refilled at
``limit`` per 60 s: a user may send ``burst`` requests at once, then ``limit`` per minute.
A zero limit allows nothing (``retry_after`` = the window).

:class:`RedisRateLimiter` keeps the buckets in Redis (one hash per bucket, updated by one Lua
script — atomic — on Redis's clock, so every instance counts the same budget). While Redis is
unreachable it falls back to the in-process limiter of its instance: limits then apply *per
instance* (a user talking to N instances gets up to N budgets) and the buckets start full; when
Redis answers again (probed every ``retry_interval`` seconds) the shared buckets are used again,
as they were left, or full if Redis lost them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from redis.asyncio import Redis

from customers_hub.adapters.redis_support import REDIS_ERRORS, RedisAvailability, redis_client
from customers_hub.application.rate_limits import RateCategory, RateLimit, RateLimitDecision
from customers_hub.domain.enums import Role

__all__ = [
    "CATEGORY_LIMITS",
    "RATE_LIMITS",
    "RATE_WINDOW",
    "ROLE_LIMITS",
    "InMemoryRateLimiter",
    "RedisRateLimiter",
    "rate_limit_for",
    "rate_limit_key",
]

logger = logging.getLogger(__name__)

RATE_WINDOW: Final = 60.0
"""Every limit of the document is per minute."""

CATEGORY_LIMITS: Final[Mapping[RateCategory, tuple[int, int]]] = MappingProxyType(
    {
        RateCategory.AUTH: (5, 10),
        RateCategory.READ: (100, 150),
        RateCategory.WRITE: (30, 50),
        RateCategory.BULK: (10, 15),
        RateCategory.SEARCH: (20, 30),
        RateCategory.UPLOAD: (5, 10),
    }
)
"""The document's *Rate Limit Rules*: category → (requests per minute, burst)."""

ROLE_LIMITS: Final[Mapping[Role, Mapping[RateCategory, int]]] = MappingProxyType(
    {
        Role.ADMIN: {RateCategory.READ: 200, RateCategory.WRITE: 100, RateCategory.BULK: 50},
        Role.SALES_MANAGER: {RateCategory.READ: 150, RateCategory.WRITE: 50, RateCategory.BULK: 20},
        Role.SALES_AGENT: {RateCategory.READ: 100, RateCategory.WRITE: 30, RateCategory.BULK: 10},
        Role.VIEWER: {RateCategory.READ: 50, RateCategory.WRITE: 0, RateCategory.BULK: 0},
    }
)
"""The document's *Rate Limit by Role*: role → category → requests per minute."""


def _rule(role: Role, category: RateCategory) -> RateLimit:
    base_limit, base_burst = CATEGORY_LIMITS[category]
    limit = ROLE_LIMITS[role].get(category)
    if limit is None:
        return RateLimit(base_limit, RATE_WINDOW, base_burst)
    burst = -(-limit * base_burst // base_limit)  # ceil without floats
    return RateLimit(limit, RATE_WINDOW, burst)


RATE_LIMITS: Final[Mapping[Role, Mapping[RateCategory, RateLimit]]] = MappingProxyType(
    {
        role: MappingProxyType({category: _rule(role, category) for category in RateCategory})
        for role in Role
    }
)
"""Role → category → bucket, derived from the two tables as the module docstring says."""


def rate_limit_for(role: Role, category: RateCategory) -> RateLimit:
    """The bucket of ``role`` in ``category``."""
    return RATE_LIMITS[role][category]


def rate_limit_key(organization_id: str, user_id: str, category: RateCategory) -> str:
    """The bucket key of one user in one category (users are counted, not addresses)."""
    return f"{organization_id}:{user_id}:{category.value}"


def _decision(
    rule: RateLimit, allowed: bool, tokens: float, now: float, cost: int
) -> RateLimitDecision:
    """What a bucket holding ``tokens`` after the request at ``now`` (Unix seconds) means."""
    if rule.rate <= 0:
        return RateLimitDecision(
            allowed=False,
            limit=rule.limit,
            remaining=0,
            reset_at=now + rule.window,
            retry_after=rule.window,
            burst=rule.burst,
        )
    # Tokens are stored with 6 decimals: treat a hair below a whole token as that token.
    whole = math.floor(tokens + 1e-6)
    retry_after = 0.0 if allowed else max(0.0, (cost - tokens) / rule.rate)
    return RateLimitDecision(
        allowed=allowed,
        limit=rule.limit,
        remaining=max(0, whole),
        reset_at=now + max(0.0, rule.burst - tokens) / rule.rate,
        retry_after=retry_after,
        burst=rule.burst,
    )


def _refill(tokens: float, last: float, now: float, rule: RateLimit) -> float:
    if now <= last:
        return tokens
    return min(float(rule.burst), tokens + (now - last) * rule.rate)


class InMemoryRateLimiter:
    """Token buckets in this process. ``clock`` gives Unix seconds (for ``reset_at``).

    At most ``max_keys`` buckets are kept; the least recently used is dropped first (dropping
    a bucket refills it, so only idle users lose anything — their debt).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def hit(self, key: str, rule: RateLimit, *, cost: int = 1) -> RateLimitDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them."""
        now = self._clock()
        if rule.rate <= 0:
            return _decision(rule, False, 0.0, now, cost)
        state = self._buckets.get(key)
        tokens = float(rule.burst) if state is None else _refill(state[0], state[1], now, rule)
        allowed = cost <= tokens
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return _decision(rule, allowed, tokens, now, cost)

    async def aclose(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


# One bucket = one hash {tokens, ts}; refill, take and store atomically on Redis's clock.
# Numbers go back as strings: Redis would truncate Lua numbers to integers. The key expires when
# the bucket would be full again (a missing bucket is a full one).
_TOKEN_BUCKET_LUA: Final = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
elseif now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
end
local allowed = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
local stored, at = string.format('%.6f', tokens), string.format('%.6f', now)
redis.call('HSET', KEYS[1], 'tokens', stored, 'ts', at)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, stored, at}
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every instance; per instance while Redis is down."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "hub:rl:",
        fallback: InMemoryRateLimiter | None = None,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = fallback or InMemoryRateLimiter()
        self._availability = RedisAvailability(
            "rate limiter", logger, retry_interval=retry_interval, clock=clock
        )
        self._script = redis.register_script(_TOKEN_BUCKET_LUA)

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 1.0, prefix: str = "hub:rl:"
    ) -> RedisRateLimiter:
        """A limiter on a fresh fail-fast client for ``url``."""
        return cls(redis_client(url, timeout=timeout), prefix=prefix)

    @property
    def available(self) -> bool:
        """False from a failed call until one succeeds (limits are per instance meanwhile)."""
        return self._availability.up

    async def hit(self, key: str, rule: RateLimit, *, cost: int = 1) -> RateLimitDecision:
        """Take ``cost`` tokens from the shared bucket; from this instance's while Redis is down."""
        if rule.rate <= 0:
            return _decision(rule, False, 0.0, time.time(), cost)
        if not self._availability.should_try():
            return await self._fallback.hit(key, rule, cost=cost)
        try:
            allowed, tokens, now = await self._script(
                keys=[self._prefix + key], args=[repr(rule.rate), rule.burst, cost]
            )
        except REDIS_ERRORS as error:
            self._availability.failed(error)
            return await self._fallback.hit(key, rule, cost=cost)
        self._availability.succeeded()
        return _decision(rule, int(allowed) == 1, float(tokens), float(now), cost)

    async def aclose(self) -> None:
        """Close the client's connections."""
        with contextlib.suppress(*REDIS_ERRORS):
            await self._redis.aclose()

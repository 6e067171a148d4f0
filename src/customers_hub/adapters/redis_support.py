"""What the Redis adapters share: a client that fails fast, and outage bookkeeping.

redis-py's default client retries a failed command ten times with exponential backoff (seconds
of waiting per request while Redis is down) and waits 5 s to connect. The hub's adapters must
instead answer at once from their fallback, so :func:`redis_client` retries once, immediately
(enough to replace a pooled connection that died with a Redis restart), with short timeouts.
:class:`RedisAvailability` is a small circuit breaker: after a failure the adapter skips Redis
for ``retry_interval`` seconds, then tries again; it logs the outage once and the recovery once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

__all__ = ["REDIS_ERRORS", "RedisAvailability", "redis_client"]

REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
"""What a Redis call raises when the server is unreachable, slow or refusing."""


def redis_client(url: str, *, timeout: float = 1.0, max_connections: int = 50) -> Redis:
    """A ``redis.asyncio`` client for ``url`` that fails within ``timeout`` seconds.

    One immediate retry on connection errors; no backoff. Replies are bytes.
    """
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        max_connections=max_connections,
        health_check_interval=0,
    )


class RedisAvailability:
    """Whether to try Redis now; logs each outage and each recovery once.

    ``clock`` is monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        name: str,
        logger: logging.Logger,
        *,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._logger = logger
        self._retry_interval = retry_interval
        self._clock = clock
        self._down_since: float | None = None
        self._next_try = 0.0
        self.outages = 0
        """How many outages were seen (for tests and metrics)."""

    @property
    def up(self) -> bool:
        """False from a failure until the next success."""
        return self._down_since is None

    def should_try(self) -> bool:
        """True when up, or when down and the retry interval has passed (one probe)."""
        if self._down_since is None:
            return True
        now = self._clock()
        if now >= self._next_try:
            # Let one caller probe; the others keep using the fallback until it answers.
            self._next_try = now + self._retry_interval
            return True
        return False

    def failed(self, error: BaseException) -> None:
        """Record a failure; the first one of an outage is logged."""
        now = self._clock()
        self._next_try = now + self._retry_interval
        if self._down_since is None:
            self._down_since = now
            self.outages += 1
            self._logger.warning(
                "%s: Redis unavailable (%s: %s); using the in-process fallback until it returns",
                self._name,
                type(error).__name__,
                error,
            )

    def succeeded(self) -> bool:
        """Record a success; returns True when it ends an outage (logged once)."""
        if self._down_since is None:
            return False
        down_for = self._clock() - self._down_since
        self._down_since = None
        self._logger.warning("%s: Redis available again after %.1f s", self._name, down_for)
        return True

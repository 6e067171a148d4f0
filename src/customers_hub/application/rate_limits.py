"""The rate limiter's port and the document's limits (categories, buckets, decisions).

The in-process adapter is the embedded default; the Redis one (``adapters/ratelimit.py``) is
shared by several instances and, while Redis is unreachable, counts in the process.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from attrs import frozen

__all__ = ["RateCategory", "RateLimit", "RateLimitDecision", "RateLimiter"]


# ---------------------------------------------------------------------------------------------
# Rate limiting


class RateCategory(StrEnum):
    """Endpoint categories of the document's rate-limit tables."""

    AUTH = "auth"
    READ = "read"
    WRITE = "write"
    BULK = "bulk"
    SEARCH = "search"
    UPLOAD = "upload"


@frozen
class RateLimit:
    """A token bucket: ``burst`` tokens at most, refilled at ``limit`` per ``window`` seconds.

    A fresh client may send ``burst`` requests at once, then ``limit`` per window on average.
    ``limit == burst == 0`` allows nothing.
    """

    limit: int
    window: float
    burst: int

    def __attrs_post_init__(self) -> None:
        if (
            self.limit < 0
            or self.window <= 0
            or self.burst < 0
            or (self.limit == 0) != (self.burst == 0)
        ):
            raise ValueError(
                f"invalid rate limit {self!r}: need limit, burst >= 0, both zero or neither, "
                "and window > 0"
            )

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.limit / self.window


@frozen
class RateLimitDecision:
    """The outcome of one request against a bucket, with what the response headers need.

    - ``limit`` — the rule's requests per window (``X-RateLimit-Limit``);
    - ``remaining`` — whole requests that may still be sent now (``X-RateLimit-Remaining``);
      while a client has unused burst this exceeds ``limit`` (up to ``burst``);
    - ``reset_at`` — Unix time (seconds) when the bucket is full again (``X-RateLimit-Reset``);
    - ``retry_after`` — seconds until the next request would be allowed; 0 when allowed.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    retry_after: float
    burst: int

    @property
    def retry_after_seconds(self) -> int:
        """``retry_after`` rounded up to whole seconds (``Retry-After``), at least 1 when denied."""
        if self.allowed:
            return 0
        whole = int(self.retry_after)
        return max(1, whole + (1 if self.retry_after > whole else 0))


class RateLimiter(Protocol):
    """Counts requests per key; never raises on its own failures."""

    async def hit(self, key: str, rule: RateLimit, *, cost: int = 1) -> RateLimitDecision:
        """Take ``cost`` tokens from the bucket of ``key`` if it holds them."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...

"""One cached read at the edge: the access check, the read through the cache and the response,
in that order, for the handlers that answer a view from the application cache (the customers
list, the advanced query, the search, the filter options and the statistics).

The role and the token are checked before the key is made and before the lookup, so a cache hit
never skips the check the use case would make (:func:`~.caching.require`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Response

from customers_hub.application.ports_scale import CACHE_TTLS, Cache, CacheKey
from customers_hub.domain.access import Operation
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_hits import CachedHits
from customers_hub.entrypoints.http.caching import CachedBody

__all__ = ["cached_read"]


async def cached_read(
    cache: Cache,
    actor: Actor,
    operations: Sequence[Operation],
    key: Callable[[], CacheKey | Awaitable[CacheKey]],
    load: Callable[[], Awaitable[CachedBody]],
    *,
    ttl: str | None = None,
    if_none_match: str | None = None,
) -> Response[Any]:
    """403 unless ``actor`` may do every one of ``operations``; then the body of ``key`` read
    through ``cache`` (``load()`` on a miss) as the response.

    ``key`` makes the key after the check (it may be async, for a key that needs a read of its
    own: the organization's day). ``ttl`` names the view's :data:`CACHE_TTLS` family: the
    response carries ``ETag`` and ``Cache-Control`` and answers ``If-None-Match`` with 304;
    without it (a POST read) only the envelope.

    A key made synchronously must be a pure function of the request (path, query) and
    ``actor``: the cached hit path (:mod:`.cached_hits`) answers the next equal request of
    the caller with it, without running the handler. The handler returns this response as it
    is (``return await cached_read(…)``).
    """
    caching.require(actor, *operations)
    made = key()
    pure = isinstance(made, CacheKey)
    chosen = made if isinstance(made, CacheKey) else await made
    body = await caching.read_through(cache, chosen, load)
    if ttl is None:
        return caching.raw_ok(body)
    max_age = CACHE_TTLS[ttl]
    if pure:  # the same request of the same caller makes the same key: the hit path reuses it
        CachedHits.remember(cache, chosen, tuple(operations), max_age)
    return caching.cached_response(body, if_none_match=if_none_match, max_age=max_age)

"""One cached read at the edge: a read plan, the read through the cache keyed by it, and the
response — for the handlers that answer a view from the application cache (the customers list,
the advanced query, the search, the filter options, the statistics and the employee list).

No access check lives here. The handler makes the plan first
(:mod:`customers_hub.application.read_plans`: the use case's own access decision, validation and
scope, raising its 403 or 400), so a request reaches the cache only once its plan allowed it,
and the key is made from the plan (:func:`~.caching.plan_key`): the plan is the only place a read
decides, on a hit as on a miss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response

from customers_hub.application.caching import CACHE_TTLS, Cache
from customers_hub.application.read_plans import ReadPlan
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_hits import CachedHits
from customers_hub.entrypoints.http.caching import CachedBody

__all__ = ["cached_read"]


async def cached_read(
    cache: Cache,
    plan: ReadPlan,
    load: Callable[[], Awaitable[CachedBody]],
    *,
    ttl: str | None = None,
    if_none_match: str | None = None,
) -> Response[Any]:
    """The body of ``plan``'s key read through ``cache`` (``load()`` runs the plan on a miss)
    as the response.

    ``plan`` was made by the handler from the request and the caller (made means allowed).
    ``ttl`` names the view's :data:`CACHE_TTLS` family: the response carries ``ETag`` and
    ``Cache-Control`` and answers ``If-None-Match`` with 304; without it (a POST read) only the
    envelope.

    A plan without a day (``plan.day is None``) is a pure function of the request (path, query)
    and the caller: the cached hit path (:mod:`.cached_hits`) answers the next equal request of
    the caller with its key, without running the handler. A plan with the organization's day
    needed a read to be made: never reused. The handler returns this response as it is
    (``return await cached_read(…)``).
    """
    key = caching.plan_key(plan)
    body = await caching.read_through(cache, key, load)
    if ttl is None:
        return caching.raw_ok(body)
    max_age = CACHE_TTLS[ttl]
    if plan.day is None:  # the same request of the same caller makes the same plan: reuse its key
        CachedHits.remember(cache, key, max_age)
    return caching.cached_response(body, if_none_match=if_none_match, max_age=max_age)

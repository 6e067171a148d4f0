"""The cache: its port, and its policy (key patterns, TTLs, tags) with the read-through step.

The port has an in-process adapter (the embedded default, no servers) and a Redis adapter
(``customers_hub.adapters.cache``), shared by several instances. The Redis adapter never raises
to its callers: while Redis is unreachable the cache misses, and it recovers by itself. The
event → tags table (which writes invalidate which tags) is ``adapters/event_wire.py``.

Cache design — generational tags
--------------------------------
A :class:`CacheKey` names one entry with the API document's key patterns (``customer:{id}``,
``customer:list:{filters_hash}:{page}``, ``actions:stats:{employeeId}:{date}``,
``filters:options:{type}``, plus ``action:{id}``, ``actions:list:{hash}:{page}``,
``customer:stats:{hash}:{date}`` and ``employees:list:{hash}``), an organization, a TTL and the
*tags* its content depends on (see :class:`CacheTag`). Every (organization, tag) pair has a
generation; the physical key of an entry folds in the generations of its tags at the time of the
lookup. Invalidating a tag replaces its generation — one write, O(1), however many entries carry
the tag ("all customer lists of an organization" is one tag). Stale entries are never deleted;
nobody can address them any more and they expire by TTL (or LRU eviction). Tags are families of
views plus one per customer, so a write invalidates what it can change and nothing more: a note
on one customer keeps every other customer's details, the filter options, the action views and
the employee list (``adapters/event_wire.py`` has the event → tags table, ``docs/caching.md``
the why).

Because :meth:`Cache.put` stores under the generations seen by the :meth:`Cache.get` that
preceded the database read, a value read from the database *before* a concurrent commit can never
be stored where a lookup made *after* that commit's invalidation would find it: a read never
returns data older than a write committed (and invalidated) before it. Use :func:`load_through`.

List keys must fold the caller's scope into their hash (an agent's list is not an admin's):
:func:`filters_hash` of the query parameters *and* the scope.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from typing import Any, Final, Protocol

from attrs import frozen

__all__ = [
    "CACHE_TTLS",
    "Cache",
    "CacheKey",
    "CacheKeys",
    "CacheLookup",
    "CacheTag",
    "Invalidation",
    "filters_hash",
    "load_through",
]


# ---------------------------------------------------------------------------------------------
# Cache


class CacheTag:
    """The tags cache entries depend on; invalidating a tag drops every entry that carries it.

    All tags are per organization.
    """

    CUSTOMER_LIST: Final = "customer:list"
    """Customer lists and search results (they embed many customers' data)."""
    CUSTOMER_STATS: Final = "customer:stats"
    """Customer statistics."""
    FILTER_OPTIONS: Final = "filters:options"
    """Filter options (their counts follow the customers)."""
    ACTIONS: Final = "actions"
    """Every action view except statistics: lists and details (``actions:*`` of the document)."""
    ACTION_STATS: Final = "actions:stats"
    """Action statistics."""
    EMPLOYEES: Final = "employees"
    """Employee data, and every view that embeds an employee's name (lists, details)."""
    CUSTOMER_RECORDS: Final = "customer:records"
    """The customers' own records across the organization — who exists, whose they are, their
    stage: what an employee's workload counts. Every customer write invalidates it but one that
    only touches the customer's relations (an interaction, a reminder, a document …)."""

    SETTINGS: Final = "settings"
    """The organization's settings (its time zone, read by every request that needs "today")."""

    @staticmethod
    def customer(customer_id: str) -> str:
        """One customer's own record and relations (its details view)."""
        return f"customer:{customer_id}"


CACHE_TTLS: Final[Mapping[str, float]] = {
    # The document's "Application Cache (Redis)" section …
    "customer": 300.0,  # customer details: 5 minutes
    "actions:list": 60.0,  # actions list: 1 minute
    "actions:stats": 30.0,  # statistics: 30 seconds
    "customer:stats": 30.0,
    # … its CDN section for what it only caches there …
    "filters:options": 3600.0,  # filter options: 1 hour
    "employees:list": 900.0,  # employee list: 15 minutes
    # … and what it does not name: like the actions list, one minute.
    "customer:list": 60.0,
    "action": 60.0,
    # Settings change rarely and invalidation is exact: the TTL only bounds memory.
    "settings": 3600.0,
}
"""Seconds each key pattern lives (invalidation is exact; the TTL bounds memory)."""


@frozen
class CacheKey:
    """One logical cache entry: organization, the document's key, TTL and the tags it depends on.

    Build them with :class:`CacheKeys` rather than by hand.
    """

    organization_id: str
    name: str
    """The key after the organization, in the document's pattern (``customer:cust_001``)."""
    ttl: float
    tags: tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        if self.ttl <= 0:
            raise ValueError(f"cache TTL must be positive, got {self.ttl}")
        if not self.organization_id:
            raise ValueError("cache keys belong to an organization")


def _key(organization_id: str, family: str, *parts: object, tags: tuple[str, ...]) -> CacheKey:
    # ``family:part:part``, living as long as ``CACHE_TTLS`` says for the family.
    name = ":".join((family, *map(str, parts)))
    return CacheKey(organization_id, name, CACHE_TTLS[family], tags)


def _naming_employees(organization_id: str, family: str, *parts: object, tag: str) -> CacheKey:
    # A view that shows employee names (an assignee's, a grouping's) depends on the employees too.
    return _key(organization_id, family, *parts, tags=(tag, CacheTag.EMPLOYEES))


class CacheKeys:
    """The key of every cached view, with the tags each depends on."""

    @staticmethod
    def customer(organization_id: str, customer_id: str) -> CacheKey:
        """``customer:{customerId}`` — a customer's details (they embed the assignee's name)."""
        return _naming_employees(
            organization_id, "customer", customer_id, tag=CacheTag.customer(customer_id)
        )

    @staticmethod
    def customer_list(organization_id: str, hash_: str, page: int | str) -> CacheKey:
        """``customer:list:{filters_hash}:{page}`` — one page of a list or a search."""
        return _naming_employees(
            organization_id, "customer:list", hash_, page, tag=CacheTag.CUSTOMER_LIST
        )

    @staticmethod
    def customer_stats(organization_id: str, hash_: str, day: date | str) -> CacheKey:
        """``customer:stats:{hash}:{date}`` — customer statistics (grouping by employee names)."""
        return _naming_employees(
            organization_id, "customer:stats", hash_, day, tag=CacheTag.CUSTOMER_STATS
        )

    @staticmethod
    def filter_options(organization_id: str, type_: str) -> CacheKey:
        """``filters:options:{type}`` — filter options with counts (and employee names)."""
        return _naming_employees(
            organization_id, "filters:options", type_, tag=CacheTag.FILTER_OPTIONS
        )

    @staticmethod
    def action(organization_id: str, action_id: str) -> CacheKey:
        """``action:{actionId}`` — an action's details (they embed its customer)."""
        return _naming_employees(organization_id, "action", action_id, tag=CacheTag.ACTIONS)

    @staticmethod
    def action_list(organization_id: str, hash_: str, page: int | str) -> CacheKey:
        """``actions:list:{filters_hash}:{page}`` — one page of the actions inbox."""
        return _naming_employees(organization_id, "actions:list", hash_, page, tag=CacheTag.ACTIONS)

    @staticmethod
    def action_stats(organization_id: str, employee_id: str, day: date | str) -> CacheKey:
        """``actions:stats:{employeeId}:{date}`` — action statistics of one scope on one day.

        ``employee_id`` is the scope's key (the caller's id, or ``all``, plus a hash of the
        query when it has parameters); ``day`` is "today" in the organization's time zone, so
        the due-date buckets roll over at midnight.
        """
        return _key(
            organization_id, "actions:stats", employee_id, day, tags=(CacheTag.ACTION_STATS,)
        )

    @staticmethod
    def settings(organization_id: str) -> CacheKey:
        """``settings`` — the organization's settings as the use cases read them."""
        return _key(organization_id, "settings", tags=(CacheTag.SETTINGS,))

    @staticmethod
    def employee_list(organization_id: str, hash_: str) -> CacheKey:
        """``employees:list:{hash}`` — the employee list; its workload numbers (assigned
        customers, pending actions) follow the customer records and the actions, not the
        customers' relations (a note leaves it cached)."""
        return _key(
            organization_id,
            "employees:list",
            hash_,
            tags=(CacheTag.EMPLOYEES, CacheTag.CUSTOMER_RECORDS, CacheTag.ACTIONS),
        )


def filters_hash(*parts: Mapping[str, Any] | Iterable[Any] | str | int | None) -> str:
    """A short stable hash of query parameters and the caller's scope (order-insensitive maps).

    Mapping keys are sorted; values are rendered as JSON (unknown types through ``str``), so the
    same query always gives the same hash on every instance.
    """
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@frozen
class CacheLookup:
    """The answer of :meth:`Cache.get`: the value (``None`` on a miss) and where to store one.

    ``slot`` is the physical key under the generations seen by this lookup (``None`` when the
    cache is unavailable: nothing will be stored).
    """

    key: CacheKey
    value: bytes | None
    slot: str | None

    @property
    def hit(self) -> bool:
        """True when a value was found."""
        return self.value is not None


@frozen
class Invalidation:
    """Tags of one organization to invalidate (after a commit)."""

    organization_id: str
    tags: frozenset[str] = frozenset()


class Cache(Protocol):
    """A cache of bytes with TTLs and tag invalidation; never raises on its own failures."""

    async def get(self, key: CacheKey) -> CacheLookup:
        """Look ``key`` up under its tags' current generations."""
        ...

    async def put(self, lookup: CacheLookup, value: bytes) -> None:
        """Store ``value`` under the generations of ``lookup`` (a miss returned by :meth:`get`)."""
        ...

    async def invalidate(self, invalidation: Invalidation) -> None:
        """Drop every entry carrying one of the tags (O(1) per tag)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


async def load_through(cache: Cache, key: CacheKey, load: Callable[[], Awaitable[bytes]]) -> bytes:
    """The cached value of ``key``, or ``load()`` stored under the generations seen before it.

    ``load`` raising (not found, forbidden, …) stores nothing and propagates.
    """
    lookup = await cache.get(key)
    if lookup.value is not None:
        return lookup.value
    value = await load()
    await cache.put(lookup, value)
    return value

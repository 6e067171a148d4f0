"""Every metric of the service, in one Prometheus registry (``prometheus_client``).

The HTTP edge serves :data:`REGISTRY` at ``GET /metrics`` (text exposition format); the code that
observes something records into the objects below. Labels never hold personal data or record
ids: routes are Litestar's path templates (``/api/v1/customers/{customer_id}``), caches
their key *family* (``customer``, ``customer:list``, …), rate limits their category.

Several worker processes (``customers-hub serve --workers N``): each process has its own
counters, and a scrape reaches one worker. Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory before the workers start and ``/metrics`` aggregates every worker's files
(:func:`exposition`); in that mode the database-pool gauges (read from the live pool at scrape
time) are the answering worker's only. ``docs/operations.md`` lists the metrics.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "CACHE_FAMILIES",
    "CACHE_HITS",
    "CACHE_MISSES",
    "CONTENT_TYPE",
    "DATABASE_UNAVAILABLE",
    "HTTP_REQUESTS",
    "HTTP_REQUESTS_IN_PROGRESS",
    "HTTP_REQUEST_DURATION",
    "OUTBOX_LAG",
    "OUTBOX_PENDING",
    "OUTBOX_RELAYED",
    "RATE_LIMIT_REFUSALS",
    "REGISTRY",
    "UNMATCHED_ROUTE",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_DELIVERY_DURATION",
    "WEBSOCKET_CONNECTIONS",
    "cache_family",
    "exposition",
    "record_cache_lookup",
    "watch_pool",
]

_PREFIX: Final = "customers_hub"

REGISTRY: Final = CollectorRegistry(auto_describe=True)
"""The registry ``/metrics`` serves: the metrics below and the process's CPU, memory and open
files (``process_*``)."""
ProcessCollector(registry=REGISTRY)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
"""Media type of the text exposition format."""

UNMATCHED_ROUTE: Final = "<unmatched>"
"""``route`` label of a request no route matched (a 404 of an unknown path)."""


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(f"{_PREFIX}_{name}", documentation, labels, registry=REGISTRY)


def _gauge(name: str, documentation: str, *, mode: Literal["livesum", "max"]) -> Gauge:
    # ``mode``: how the multiprocess exposition combines the workers' values.
    return Gauge(f"{_PREFIX}_{name}", documentation, registry=REGISTRY, multiprocess_mode=mode)


def _histogram(
    name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
) -> Histogram:
    return Histogram(f"{_PREFIX}_{name}", documentation, labels, buckets=buckets, registry=REGISTRY)


# --- HTTP -------------------------------------------------------------------------------------

HTTP_REQUESTS: Final = _counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status code",
    ("method", "route", "status"),
)
HTTP_REQUEST_DURATION: Final = _histogram(
    "http_request_duration_seconds",
    "Time from the request to the end of its response, by method and route template",
    ("method", "route"),
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
HTTP_REQUESTS_IN_PROGRESS: Final = _gauge(
    "http_requests_in_progress", "HTTP requests being answered now", mode="livesum"
)
DATABASE_UNAVAILABLE: Final = _counter(
    "database_unavailable",
    "Requests answered 503 because the database could not be reached or could not serve",
)
RATE_LIMIT_REFUSALS: Final = _counter(
    "rate_limit_refusals",
    "Requests refused with 429 by the rate limits, by category (read, write, bulk, ...)",
    ("category",),
)

# --- real time --------------------------------------------------------------------------------

WEBSOCKET_CONNECTIONS: Final = _gauge(
    "websocket_connections",
    "Authenticated WebSocket clients connected now (/api/v1/ws)",
    mode="livesum",
)

# --- cache ------------------------------------------------------------------------------------

CACHE_FAMILIES: Final = (
    "customer:list",
    "customer:stats",
    "customer",
    "actions:list",
    "actions:stats",
    "action",
    "filters:options",
    "employees:list",
)
"""Key families (the key patterns of ``application.caching.CacheKeys``), longest first."""

CACHE_HITS: Final = _counter(
    "cache_hits", "Application cache lookups answered from the cache, by key family", ("family",)
)
CACHE_MISSES: Final = _counter(
    "cache_misses",
    "Application cache lookups that went to the database, by key family",
    ("family",),
)

# --- outbox and webhooks (recorded by the outbox relay and the webhook sender) ----------------

OUTBOX_PENDING: Final = _gauge(
    "outbox_pending",
    "Outbox entries not relayed yet (set by the relay after each pass)",
    mode="max",
)
OUTBOX_LAG: Final = _gauge(
    "outbox_lag_seconds",
    "Age of the oldest outbox entry not relayed yet, 0 when none (set by the relay)",
    mode="max",
)
OUTBOX_RELAYED: Final = _counter(
    "outbox_relayed", "Outbox entries relayed (published after their commit)"
)
WEBHOOK_DELIVERIES: Final = _counter(
    "webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered (2xx), retry (failed, will be retried), "
    "failed (given up)",
    ("outcome",),
)
WEBHOOK_DELIVERY_DURATION: Final = _histogram(
    "webhook_delivery_duration_seconds",
    "Time of one webhook delivery attempt (request to response or error)",
    (),
    (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


_FAMILY_PREFIXES: Final = tuple((family, f"{family}:") for family in CACHE_FAMILIES)


def cache_family(name: str) -> str:
    """The family of a cache key name (``customer:cust_1`` → ``customer``), never the id."""
    for family, prefix in _FAMILY_PREFIXES:
        if name == family or name.startswith(prefix):
            return family
    return "other"


_CACHE_LOOKUPS: dict[tuple[bool, str], Any] = {}
# The counters' children by (hit, family): ``labels()`` validates and looks them up on every
# call (a tenth of a cached hit's own Python). Bounded: 2 × (families + "other").


def record_cache_lookup(name: str, *, hit: bool) -> None:
    """Count one lookup of the cache key ``name`` as a hit or a miss of its family."""
    family = cache_family(name)
    child = _CACHE_LOOKUPS.get((hit, family))
    if child is None:
        child = (CACHE_HITS if hit else CACHE_MISSES).labels(family=family)
        _CACHE_LOOKUPS[(hit, family)] = child
    child.inc()


# --- database pool ----------------------------------------------------------------------------


_POOL_GAUGES: Final = (
    # (gauge name after ``db_pool_``, the pool's method, documentation)
    ("checked_out", "checkedout", "Database connections in use by requests now"),
    (
        "size",
        "size",
        "Configured size of the database connection pool (CUSTOMERS_HUB_DB_POOL_SIZE)",
    ),
    (
        "overflow",
        "overflow",
        "Connections open beyond the pool size (negative: pool slots not opened yet)",
    ),
    ("checked_in", "checkedin", "Idle database connections kept in the pool"),
)


class _PoolCollector(Collector):
    """Reads the watched engines' pools at scrape time (summed when a process has several)."""

    def __init__(self) -> None:
        self.engines: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pools: list[Any] = [engine.sync_engine.pool for engine in list(self.engines)]
        for name, method, documentation in _POOL_GAUGES:
            # NullPool/StaticPool (SQLite variants) have no counters: reported as zero.
            readers = (getattr(pool, method, None) for pool in pools)
            total = sum(int(reader()) for reader in readers if callable(reader))
            yield GaugeMetricFamily(f"{_PREFIX}_db_pool_{name}", documentation, value=total)


_POOLS: Final = _PoolCollector()
REGISTRY.register(_POOLS)


def watch_pool(engine: AsyncEngine) -> None:
    """Report ``engine``'s connection pool in the ``db_pool_*`` gauges (until it is collected)."""
    _POOLS.engines.add(engine)


# --- exposition -------------------------------------------------------------------------------


def _registries() -> Iterable[CollectorRegistry]:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Every worker's counters from their files, plus this worker's live pool.
        merged = CollectorRegistry()
        # The one prometheus_client function without annotations.
        multiprocess.MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        merged.register(_POOLS)
        return (merged,)
    return (REGISTRY,)


def exposition() -> bytes:
    """Everything in the text exposition format (every worker's in multiprocess mode)."""
    return b"".join(generate_latest(registry) for registry in _registries())

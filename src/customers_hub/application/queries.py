"""Read-side query specifications: what a list, search or stats request asks for.

The use cases build these from the API's parameters (the 20 customer filters, the 17 action
filters, the ``filters`` JSON parameter and ``POST /customers/query``); a query service adapter
compiles them to SQL. Field names are the API's camelCase paths (``preferences.budgetMin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar, cast

from attrs import evolve, field, frozen

from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.enums import DueDateBucket

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EXACT_COUNT_CAP = 10_000
"""Counts are exact up to this many rows; above it the adapter may return an estimate."""


class Op(StrEnum):
    """Operators of the advanced query (API document, Filter Operators)."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NIN = "nin"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    STARTS_WITH = "startsWith"


@frozen
class Condition:
    """One filter: ``field`` (camelCase API path) ``op`` ``value``; conditions are ANDed.

    For list-valued fields (``tags``, ``preferences.propertyType``, ``preferences.preferredAreas``,
    ``preferences.preferredCities``) ``eq``/``in`` mean "has any of", ``ne``/``nin`` "has none of".
    Values are already typed (enums, ``Decimal``, aware ``datetime``).
    """

    field: str
    op: Op
    value: object


@frozen
class Sort:
    """Sort order; ``id`` is always the final tie-breaker so keyset pagination is total."""

    field: str
    descending: bool = True


@frozen
class PageRequest:
    """Offset pagination (``page``) or, when ``cursor`` is not None, keyset pagination.

    ``cursor=""`` asks for the first page in cursor mode.
    """

    page: int = 1
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @property
    def uses_cursor(self) -> bool:
        """True in keyset (cursor) mode."""
        return self.cursor is not None


@frozen
class Page(Generic[T]):
    """One page of results. Offset mode fills ``total_items``; cursor mode fills the cursors."""

    items: Sequence[T]
    limit: int
    page: int | None = None
    total_items: int | None = None
    total_is_estimate: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None
    has_next: bool = False
    has_previous: bool = False

    def with_items(self, items: Sequence[U]) -> Page[U]:
        """The same page (limit, counts, cursors) of other items: its rows as records."""
        # evolve keeps every other field as it is; mypy types it as a Page of the old items.
        return cast("Page[U]", evolve(cast("Page[object]", self), items=items))


@frozen
class CustomerListQuery:
    """A customers list/query request, already checked against the field catalog."""

    scope: ScopeFilter
    conditions: tuple[Condition, ...] = ()
    search: str | None = None
    sort: Sort = field(factory=lambda: Sort("createdAt", descending=True))
    page: PageRequest = field(factory=PageRequest)
    deleted: bool = False


@frozen
class ActionListQuery:
    """An actions list request. ``due_bucket`` and effective status need ``now`` and ``tz``."""

    scope: ScopeFilter
    now: datetime
    tz: tzinfo
    conditions: tuple[Condition, ...] = ()
    due_bucket: DueDateBucket | None = None
    search: str | None = None
    sort: Sort = field(factory=lambda: Sort("createdAt", descending=True))
    page: PageRequest = field(factory=lambda: PageRequest(limit=50))


@frozen
class SearchQuery:
    """``POST /customers/search``: free text over name, English name, phone and email."""

    scope: ScopeFilter
    text: str
    conditions: tuple[Condition, ...] = ()
    fuzzy: bool = True
    limit: int = DEFAULT_LIMIT


@frozen
class SearchHit(Generic[T]):
    """One search result with its relevance (0–1) and the fields that matched."""

    item: T
    score: float
    matched_fields: tuple[str, ...]


@frozen
class SearchResult(Generic[T]):
    """Search hits, best first, and how many matched in all."""

    hits: Sequence[SearchHit[T]]
    total: int
    total_is_estimate: bool = False
    """True when more matched than a search counts exactly: ``total`` is then an estimate."""


@frozen
class StatsWindow:
    """Optional date range and the organization's clock for "today"/"this month"."""

    now: datetime
    tz: tzinfo
    date_from: datetime | None = None
    date_to: datetime | None = None


@frozen
class FilterOption:
    """One option of the filter-options endpoint."""

    value: str
    count: int
    label: str | None = None
    label_en: str | None = None


@frozen
class EmployeeOption:
    """An employee in the filter options, with how many customers they hold."""

    id: str
    name: str
    count: int
    name_en: str | None = None


@frozen
class FilterOptions:
    """Filter options with counts, in the caller's scope."""

    stages: tuple[FilterOption, ...]
    sources: tuple[FilterOption, ...]
    cities: tuple[FilterOption, ...]
    property_types: tuple[FilterOption, ...]
    employees: tuple[EmployeeOption, ...]


@frozen
class ActionStats:
    """``GET /customers/actions/stats`` (statuses are effective: a passed snooze is pending)."""

    total: dict[str, int]
    by_type: dict[str, int]
    by_priority: dict[str, int]
    by_source: dict[str, int]
    due_dates: dict[str, int]
    avg_completion_time: float | None
    avg_response_time: float | None
    completion_rate: float | None


@frozen
class CustomerStats:
    """``GET /customers/stats``; ``grouped`` holds the optional ``groupBy`` breakdown."""

    total: int
    by_stage: dict[str, int]
    by_source: dict[str, int]
    by_priority: dict[str, int]
    lead_scores: dict[str, float | int | None]
    financial: dict[str, Decimal | None]
    conversion: dict[str, float | int | None]
    engagement: dict[str, float | int | None]
    grouped: dict[str, int] | None = None


@frozen
class EmployeeWorkload:
    """Workload statistics of one employee (``includeStats=true``)."""

    assigned_customers: int
    pending_actions: int
    completed_this_month: int
    avg_response_time: float | None

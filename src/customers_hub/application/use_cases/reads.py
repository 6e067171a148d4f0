"""Read-side use cases: customer lists, the advanced query, search, employees; the parameters
and checks every read shares (actions list: :mod:`.action_reads`; statistics and filter
options: :mod:`.statistics_reads`).

Each one checks the caller's role and token first (so a caller without the permission gets 403,
not an empty list), validates and types its parameters against the field catalog
(:mod:`customers_hub.application.use_cases.catalog`), reporting every bad parameter in one
:class:`ValidationFailed`, and hands a query object with the caller's :class:`ScopeFilter` to a
query port — the scope is applied by the query, in SQL, never by filtering rows here.

Decisions where the API document is silent:

* ``limit`` above :data:`MAX_LIMIT` (or below 1) and ``page`` below 1 are a 400 on that
  parameter, not silently clamped: a client asking for 500 rows learns it gets at most 100.
* ``budgetMin``/``budgetMax`` filter by **overlap**: the customer's budget range
  ``[preferences.budgetMin, preferences.budgetMax]`` (a missing end is open) meets the asked
  range — ``budgetMin=X`` keeps customers who could spend ``X`` or more, ``budgetMax=Y`` those
  whose budget starts at or below ``Y``; a customer who gave no budget at all matches neither.
  They become the derived conditions ``budgetMin gte X`` / ``budgetMax lte Y`` of the catalog.
  The plain values (containment) remain available to the advanced query as
  ``preferences.budgetMin``/``preferences.budgetMax``. The actions list's ``budgetMin``/
  ``budgetMax`` mean the same on the action's customer.
* ``createdFrom``/``lastContactFrom`` are inclusive (``gte``), ``createdTo``/``lastContactTo``
  inclusive too (``lte``); a bare date is the whole local day in the organization's time zone, so
  ``createdTo=2024-01-31`` includes all of January 31 (``lt`` the next local midnight).
* ``stage``, ``city``, ``tags`` and the other list parameters mean "any of" (``in``); blank values
  are ignored, repeats removed. ``tags``, ``propertyType`` and ``preferredAreas`` match a customer
  that has any of the values.
* ``filters`` (the JSON query parameter) is ANDed with the other parameters.
* ``cursor`` switches to keyset pagination (``""`` asks for the first page); it cannot be combined
  with a ``page`` other than 1. ``POST /customers/query`` always pages by cursor (``cursor: null``
  is the first page).
* ``deleted=true`` lists soft-deleted customers instead of live ones; only a caller who may restore
  customers (admin) may ask for it.
* Stats' ``dateTo`` is inclusive: a bare date runs to the end of that local day.
* ``actionStats(assignedTo=…)`` is allowed only for an employee in the caller's reach (self for an
  agent or viewer, self or a direct report for a manager, anyone for an admin); otherwise 403.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final, TypeVar

from attrs import frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.queries import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Condition,
    CustomerListQuery,
    EmployeeWorkload,
    Op,
    Page,
    PageRequest,
    SearchQuery,
    SearchResult,
    Sort,
    StatsWindow,
)
from customers_hub.application.read_plans import (
    CustomerListPlan,
    CustomerQueryPlan,
    CustomerSearchPlan,
    EmployeeListPlan,
    reader_for,
    zone_decides,
)
from customers_hub.application.use_cases.catalog import (
    CUSTOMER_CATALOG,
    MAX_IN_VALUES,
    MAX_TEXT_LENGTH,
    ValueKind,
    aware_utc,
    day_conditions,
    dedupe,
    local_day_start,
    parse_filters,
    parse_sort,
)
from customers_hub.application.use_cases.privacy import require_admin
from customers_hub.domain import access
from customers_hub.domain.access import Operation, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor, Customer, Employee
from customers_hub.domain.privacy import ConsentChannel

__all__ = [
    "ACTION_LIST_DEFAULT_LIMIT",
    "MAX_SEARCH_LENGTH",
    "ActionListParams",
    "AdvancedQuery",
    "CustomerList",
    "CustomerListParams",
    "EmployeeList",
    "ParameterChecks",
    "SearchParams",
    "list_customers",
    "list_employees",
    "plan_list_customers",
    "plan_list_employees",
    "plan_query_customers",
    "plan_search_customers",
    "query_customers",
    "range_end",
    "range_start",
    "require_read",
    "run_list_customers",
    "run_list_employees",
    "run_query_customers",
    "run_search_customers",
    "search_customers",
]

T = TypeVar("T")
N = TypeVar("N", int, Decimal)

ACTION_LIST_DEFAULT_LIMIT: Final = 50
"""Page size of the actions list when ``limit`` is not given (API document, endpoint 7)."""

MAX_SEARCH_LENGTH: Final = 200
"""Longest free-text search (``search`` parameters and ``POST /customers/search``)."""


LEAD_SCORE_RANGE: Final = (0, 100)

_CUSTOMER_DEFAULT_SORT: Final = Sort("createdAt", descending=True)


# --- parameters ----------------------------------------------------------------------------------


@frozen(kw_only=True)
class CustomerListParams:
    """``GET /customers``: the 20 documented parameters, ``filters``, ``cursor``, ``fields``,
    ``include`` (and ``deleted``). Values are typed by the HTTP layer, except ``filters``, which
    is the raw JSON (a decoded object or its text)."""

    page: int = 1
    limit: int = DEFAULT_LIMIT
    search: str | None = None
    stage: Sequence[Stage] = ()
    source: Sequence[CustomerSource] = ()
    priority: Sequence[Priority] = ()
    assigned_employee_id: Sequence[str] = ()
    lead_score_min: int | None = None
    lead_score_max: int | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    property_type: Sequence[PropertyType] = ()
    preferred_areas: Sequence[str] = ()
    city: Sequence[str] = ()
    tags: Sequence[str] = ()
    created_from: datetime | date | None = None
    created_to: datetime | date | None = None
    last_contact_from: datetime | date | None = None
    last_contact_to: datetime | date | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    filters: object = None
    cursor: str | None = None
    fields: Sequence[str] | None = None
    include: Sequence[str] = ()
    deleted: bool = False
    consent: Sequence[str] = ()
    """``consent=<channel>`` (granted) / ``consent=!<channel>`` (not granted), each must hold
    (admins only, rules §8)."""


@frozen(kw_only=True)
class AdvancedQuery:
    """``POST /customers/query``: the raw JSON ``filters``, ``sort``, ``limit`` and ``cursor``."""

    filters: object = None
    sort: object = None
    limit: object = DEFAULT_LIMIT
    cursor: object = None


@frozen(kw_only=True)
class ActionListParams:
    """``GET /customers/actions``: the 17 documented parameters and ``cursor``, typed."""

    page: int = 1
    limit: int = ACTION_LIST_DEFAULT_LIMIT
    customer_id: str | None = None
    status: Sequence[ActionStatus] = ()
    type: Sequence[ActionType] = ()
    priority: Sequence[Priority] = ()
    source: Sequence[CustomerSource] = ()
    assigned_to: Sequence[str] = ()
    due_date: DueDateBucket | None = None
    city: Sequence[str] = ()
    state: Sequence[str] = ()
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    property_type: Sequence[PropertyType] = ()
    search: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    cursor: str | None = None


@frozen(kw_only=True)
class SearchParams:
    """``POST /customers/search``; ``filters`` is the raw JSON object of the body."""

    query: str
    filters: object = None
    fuzzy: bool = True
    limit: int = DEFAULT_LIMIT


# --- results -------------------------------------------------------------------------------------


@frozen
class CustomerList:
    """A page of customers with their assigned employees (loaded in one query), and the
    ``fields``/``include`` the caller asked for, passed through for the response."""

    page: Page[Customer]
    employees: Mapping[str, Employee]
    fields: tuple[str, ...] | None = None
    include: tuple[str, ...] = ()


@frozen
class EmployeeList:
    """Employees, with workload statistics when asked for (``includeStats=true``)."""

    employees: Sequence[Employee]
    workloads: Mapping[str, EmployeeWorkload] | None = None


# --- shared checks -------------------------------------------------------------------------------


class ParameterChecks:
    """Collects the errors of one request's parameters; :meth:`raise_if_any` reports them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

    def paging(self, page: int, limit: int, cursor: str | None) -> PageRequest:
        if page < 1:
            self.fail("page", "must be at least 1")
        if not 1 <= limit <= MAX_LIMIT:
            self.fail("limit", f"must be between 1 and {MAX_LIMIT}")
        if cursor is not None and page != 1:
            self.fail("cursor", "cannot be combined with page")
        return PageRequest(page=max(page, 1), limit=limit, cursor=cursor)

    def search(self, field: str, text: str | None) -> str | None:
        if text is None:
            return None
        cleaned = text.strip()
        if len(cleaned) > MAX_SEARCH_LENGTH:
            self.fail(field, f"must be at most {MAX_SEARCH_LENGTH} characters")
        return cleaned or None

    def any_of(self, field: str, path: str, values: Sequence[T]) -> list[Condition]:
        """``path in values`` (typed values), or nothing for an empty list."""
        distinct = dedupe(values)
        if len(distinct) > MAX_IN_VALUES:
            self.fail(field, f"must have at most {MAX_IN_VALUES} values")
            return []
        return [Condition(path, Op.IN, distinct)] if distinct else []

    def any_text(self, field: str, path: str, values: Sequence[str]) -> list[Condition]:
        """Like :meth:`any_of` for text values: stripped, blanks ignored."""
        cleaned = [v.strip() for v in values if v.strip()]
        if any(len(v) > MAX_TEXT_LENGTH for v in cleaned):
            self.fail(field, f"values must be at most {MAX_TEXT_LENGTH} characters")
            return []
        return self.any_of(field, path, cleaned)

    def number_range(
        self,
        names: tuple[str, str],
        bounds: tuple[N | None, N | None],
        paths: tuple[str, str],
        *,
        minimum: N,
        maximum: N | None = None,
    ) -> list[Condition]:
        """``gte`` the low bound and ``lte`` the high one, each checked against the limits."""
        conditions: list[Condition] = []
        ok = True
        for name, bound in zip(names, bounds, strict=True):
            if bound is None:
                continue
            if bound < minimum or (maximum is not None and bound > maximum):
                span = f"between {minimum} and {maximum}" if maximum is not None else None
                self.fail(name, f"must be {span}" if span else f"must be at least {minimum}")
                ok = False
        low, high = bounds
        if ok and low is not None and high is not None and low > high:
            self.fail(names[1], f"must not be less than {names[0]}")
            ok = False
        if ok and low is not None:
            conditions.append(Condition(paths[0], Op.GTE, low))
        if ok and high is not None:
            conditions.append(Condition(paths[1], Op.LTE, high))
        return conditions

    def time_range(
        self,
        names: tuple[str, str],
        bounds: tuple[datetime | date | None, datetime | date | None],
        path: str,
        tz: tzinfo,
    ) -> list[Condition]:
        """``path`` from the first bound to the second, both inclusive (bare dates: local days)."""
        low, high = (range_start(bounds[0], tz), range_end(bounds[1], tz))
        if low is not None and high is not None and low > high:
            self.fail(names[1], f"must not be before {names[0]}")
            return []
        conditions: list[Condition] = []
        for bound, op in ((bounds[0], Op.GTE), (bounds[1], Op.LTE)):
            if bound is None:
                continue
            if isinstance(bound, datetime):
                conditions.append(Condition(path, op, aware_utc(bound, tz)))
            else:
                conditions.extend(day_conditions(path, op, bound, tz))
        return conditions


def range_start(bound: datetime | date | None, tz: tzinfo) -> datetime | None:
    """The first instant a ``from`` bound admits."""
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return aware_utc(bound, tz)
    return local_day_start(bound, tz)


def range_end(bound: datetime | date | None, tz: tzinfo) -> datetime | None:
    """The last instant a ``to`` bound admits (a bare date: the end of that local day)."""
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return aware_utc(bound, tz)
    return local_day_start(bound + timedelta(days=1), tz) - timedelta(microseconds=1)


def require_read(actor: Actor, operation: Operation) -> ScopeFilter:
    """403 unless the role and token allow ``operation``; then the caller's scope for it."""
    return reader_for(actor, operation).scope


# --- customers -----------------------------------------------------------------------------------


def customer_list_query(
    params: CustomerListParams, scope: ScopeFilter, tz: tzinfo
) -> CustomerListQuery:
    """The :class:`CustomerListQuery` of ``params`` (every bad parameter in one error)."""
    checks = ParameterChecks()
    page = checks.paging(params.page, params.limit, params.cursor)
    search = checks.search("search", params.search)
    conditions = [
        *checks.any_of("stage", "stage", params.stage),
        *checks.any_of("source", "source", params.source),
        *checks.any_of("priority", "priority", params.priority),
        *checks.any_text("assignedEmployeeId", "assignedEmployeeId", params.assigned_employee_id),
        *checks.number_range(
            ("leadScoreMin", "leadScoreMax"),
            (params.lead_score_min, params.lead_score_max),
            ("leadScore", "leadScore"),
            minimum=LEAD_SCORE_RANGE[0],
            maximum=LEAD_SCORE_RANGE[1],
        ),
        *checks.number_range(
            ("budgetMin", "budgetMax"),
            (params.budget_min, params.budget_max),
            ("budgetMin", "budgetMax"),
            minimum=Decimal(0),
        ),
        *checks.any_of("propertyType", "preferences.propertyType", params.property_type),
        *checks.any_text("preferredAreas", "preferences.preferredAreas", params.preferred_areas),
        *checks.any_text("city", "city", params.city),
        *checks.any_text("tags", "tags", params.tags),
        *checks.time_range(
            ("createdFrom", "createdTo"), (params.created_from, params.created_to), "createdAt", tz
        ),
        *checks.time_range(
            ("lastContactFrom", "lastContactTo"),
            (params.last_contact_from, params.last_contact_to),
            "lastContactAt",
            tz,
        ),
    ]
    conditions.extend(_consent_conditions(checks, params.consent))
    sort = parse_sort(
        CUSTOMER_CATALOG,
        params.sort_by,
        params.sort_order,
        default=_CUSTOMER_DEFAULT_SORT,
        errors=checks.errors,
    )
    try:
        conditions.extend(parse_filters(CUSTOMER_CATALOG, _json(params.filters), tz=tz))
    except ValidationFailed as bad:
        checks.errors.extend(bad.errors)
    checks.raise_if_any()
    return CustomerListQuery(
        scope=scope,
        conditions=tuple(conditions),
        search=search,
        sort=sort,
        page=page,
        deleted=params.deleted,
    )


def _consent_conditions(checks: ParameterChecks, values: Sequence[str]) -> list[Condition]:
    """``consent=whatsapp`` → granted, ``consent=!whatsapp`` → not granted (rules §8)."""
    conditions: list[Condition] = []
    channels = {c.value for c in ConsentChannel}
    for raw in dedupe([v.strip() for v in values if v.strip()]):
        negated = raw.startswith("!")
        channel = raw[1:] if negated else raw
        if channel not in channels:
            checks.fail(
                "consent", f"must be a channel ({', '.join(sorted(channels))}), or ! and one"
            )
            continue
        conditions.append(Condition("consent", Op.NE if negated else Op.EQ, channel))
    return conditions


def _json(raw: object) -> object:
    """The ``filters`` query parameter: a decoded JSON value, or its text."""
    if not isinstance(raw, str):
        return raw
    if not raw.strip():
        return None
    try:
        decoded: object = json.loads(raw)
    except ValueError:
        raise ValidationFailed.single("filters", "must be a JSON object") from None
    return decoded


def plan_list_customers(actor: Actor, params: CustomerListParams) -> CustomerListPlan:
    """``GET /customers`` planned: 403 (the role and token; the trash needs who may restore;
    consents need an admin), then 400 naming every bad parameter."""
    reader = reader_for(actor, Operation.READ_CUSTOMERS)
    if params.deleted:
        # The trash is for those who can restore from it.
        access.enforce(actor, Operation.RESTORE_CUSTOMER, resource_type="", resource_id="")
    if params.consent:
        require_admin(actor)  # consents are privacy data (rules §8)
    ranges = (
        (params.created_from, params.created_to),
        (params.last_contact_from, params.last_contact_to),
    )
    try:
        query = customer_list_query(params, reader.scope, UTC)
    except ValidationFailed:
        if not zone_decides(*ranges):
            raise
        query = None
    # Without time bounds or filters the zone plays no part: the run step reuses the query.
    zoned = params.filters is not None or any(b is not None for pair in ranges for b in pair)
    mode = "cursor" if params.cursor is not None else params.page
    return CustomerListPlan(reader, params, mode, None if zoned else query)


async def run_list_customers(deps: Dependencies, plan: CustomerListPlan) -> CustomerList:
    """The page of a planned customers list, with the assignees."""
    params = plan.params
    query = plan.query
    if query is None:
        tz = await deps.zone_of(plan.reader.organization_id)
        query = customer_list_query(params, plan.reader.scope, tz)
    page, employees = await deps.customer_queries.list_with_assignees(query)
    return CustomerList(
        page=page,
        employees=employees,
        fields=tuple(params.fields) if params.fields is not None else None,
        include=tuple(params.include),
    )


async def list_customers(
    deps: Dependencies, actor: Actor, params: CustomerListParams
) -> CustomerList:
    """``GET /customers``: one page of the customers in the caller's scope."""
    return await run_list_customers(deps, plan_list_customers(actor, params))


def advanced_query(body: AdvancedQuery, scope: ScopeFilter, tz: tzinfo) -> CustomerListQuery:
    """The :class:`CustomerListQuery` of a ``POST /customers/query`` body."""
    checks = ParameterChecks()
    conditions: tuple[Condition, ...] = ()
    try:
        conditions = parse_filters(CUSTOMER_CATALOG, body.filters, tz=tz)
    except ValidationFailed as bad:
        checks.errors.extend(bad.errors)
    sort = _CUSTOMER_DEFAULT_SORT
    if body.sort is not None:
        if not isinstance(body.sort, Mapping):
            checks.fail("sort", "must be an object with field and order")
        else:
            sort_by, sort_order = body.sort.get("field"), body.sort.get("order")
            unknown = set(body.sort) - {"field", "order"}
            if unknown:
                checks.fail("sort", f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
            if sort_by is not None and not isinstance(sort_by, str):
                checks.fail("sort.field", "must be a string")
                sort_by = None
            if sort_order is not None and not isinstance(sort_order, str):
                checks.fail("sort.order", "must be asc or desc")
                sort_order = None
            sort = parse_sort(
                CUSTOMER_CATALOG,
                sort_by,
                sort_order,
                default=_CUSTOMER_DEFAULT_SORT,
                errors=checks.errors,
                by_field="sort.field",
                order_field="sort.order",
            )
    limit = DEFAULT_LIMIT
    if body.limit is not None:
        if isinstance(body.limit, bool) or not isinstance(body.limit, int):
            checks.fail("limit", "must be a whole number")
        elif not 1 <= body.limit <= MAX_LIMIT:
            checks.fail("limit", f"must be between 1 and {MAX_LIMIT}")
        else:
            limit = body.limit
    cursor = ""
    if body.cursor is not None:
        if not isinstance(body.cursor, str):
            checks.fail("cursor", "must be a string or null")
        else:
            cursor = body.cursor
    checks.raise_if_any()
    return CustomerListQuery(
        scope=scope, conditions=conditions, sort=sort, page=PageRequest(limit=limit, cursor=cursor)
    )


def _zone_free(conditions: Sequence[Condition]) -> bool:
    """Whether no condition reads the organization's zone: only a datetime field's values do
    (a bare date there is a local day, a datetime without offset a local time)."""
    for condition in conditions:
        spec = CUSTOMER_CATALOG.get(condition.field)
        if spec is not None and spec.kind is ValueKind.DATETIME:
            return False
    return True


def plan_query_customers(actor: Actor, body: AdvancedQuery) -> CustomerQueryPlan:
    """``POST /customers/query`` planned: 403, then 400 naming every bad part of the body."""
    reader = reader_for(actor, Operation.READ_CUSTOMERS)
    query = advanced_query(body, reader.scope, UTC)  # no range pairs: the zone decides no error
    return CustomerQueryPlan(reader, body, query if _zone_free(query.conditions) else None)


async def run_query_customers(deps: Dependencies, plan: CustomerQueryPlan) -> CustomerList:
    """The page of a planned advanced query."""
    query = plan.query
    if query is None:
        tz = await deps.zone_of(plan.reader.organization_id)
        query = advanced_query(plan.body, plan.reader.scope, tz)
    page, employees = await deps.customer_queries.list_with_assignees(query)
    return CustomerList(page=page, employees=employees)


async def query_customers(deps: Dependencies, actor: Actor, body: AdvancedQuery) -> CustomerList:
    """``POST /customers/query``: the advanced filter, paged by cursor."""
    return await run_query_customers(deps, plan_query_customers(actor, body))


def _search_query(params: SearchParams, scope: ScopeFilter, tz: tzinfo) -> SearchQuery:
    checks = ParameterChecks()
    text = params.query.strip()
    if not text:
        checks.fail("query", "must not be empty")
    elif len(text) > MAX_SEARCH_LENGTH:
        checks.fail("query", f"must be at most {MAX_SEARCH_LENGTH} characters")
    if not 1 <= params.limit <= MAX_LIMIT:
        checks.fail("limit", f"must be between 1 and {MAX_LIMIT}")
    conditions: tuple[Condition, ...] = ()
    try:
        conditions = parse_filters(CUSTOMER_CATALOG, params.filters, tz=tz)
    except ValidationFailed as bad:
        checks.errors.extend(bad.errors)
    checks.raise_if_any()
    return SearchQuery(
        scope=scope, text=text, conditions=conditions, fuzzy=params.fuzzy, limit=params.limit
    )


def plan_search_customers(actor: Actor, params: SearchParams) -> CustomerSearchPlan:
    """``POST /customers/search`` planned: 403, then 400 naming every bad parameter."""
    reader = reader_for(actor, Operation.READ_CUSTOMERS)
    query = _search_query(params, reader.scope, UTC)
    return CustomerSearchPlan(reader, params, query if _zone_free(query.conditions) else None)


async def run_search_customers(
    deps: Dependencies, plan: CustomerSearchPlan
) -> SearchResult[Customer]:
    """The hits of a planned search."""
    query = plan.query
    if query is None:
        tz = await deps.zone_of(plan.reader.organization_id)
        query = _search_query(plan.params, plan.reader.scope, tz)
    return await deps.customer_queries.search(query)


async def search_customers(
    deps: Dependencies, actor: Actor, params: SearchParams
) -> SearchResult[Customer]:
    """``POST /customers/search``: free text over name, English name, phone and email."""
    return await run_search_customers(deps, plan_search_customers(actor, params))


# --- actions -------------------------------------------------------------------------------------

# --- employees -----------------------------------------------------------------------------------


def plan_list_employees(
    actor: Actor,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    include_stats: bool = False,
    today: date | None = None,
) -> EmployeeListPlan:
    """``GET /employees`` planned: 403 unless the caller may list employees. ``today`` (the
    organization's day) tells one month's workloads from the next."""
    reader = reader_for(actor, Operation.READ_EMPLOYEES)
    return EmployeeListPlan(reader, role, is_active, include_stats, today)


async def run_list_employees(deps: Dependencies, plan: EmployeeListPlan) -> EmployeeList:
    """The employees of a planned list, with workload statistics (one query per measure) when
    asked for."""
    org = plan.reader.organization_id
    employees = await deps.employee_queries.list(
        org, role=plan.role.value if plan.role is not None else None, is_active=plan.is_active
    )
    if not plan.include_stats:
        return EmployeeList(employees=employees)
    window = StatsWindow(now=deps.clock.now(), tz=await deps.zone_of(org))
    workloads = await deps.employee_queries.workloads(org, [e.id for e in employees], window)
    return EmployeeList(employees=employees, workloads=workloads)


async def list_employees(
    deps: Dependencies,
    actor: Actor,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    include_stats: bool = False,
) -> EmployeeList:
    """``GET /employees``: the organization's employees (everyone may list them, for pickers),
    with workload statistics when ``include_stats``."""
    plan = plan_list_employees(actor, role=role, is_active=is_active, include_stats=include_stats)
    return await run_list_employees(deps, plan)

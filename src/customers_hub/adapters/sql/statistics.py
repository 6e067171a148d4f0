"""Statistics and filter options over SQL: aggregates in scope, computed in the database.

The query services (:class:`~customers_hub.adapters.sql.customer_reads.SqlCustomerQueries`,
:class:`~customers_hub.adapters.sql.action_reads.SqlActionQueries`,
:class:`~customers_hub.adapters.sql.employee_reads.SqlEmployeeQueries`) call these functions
with their engine; each opens one read connection and runs a fixed number of statements:

============================  ===========================================================
request                       statements
============================  ===========================================================
customers stats               totals+money+engagement+closings · stage×source×priority ·
                              lead-score histogram · [groupBy employee/city]
filter options                stage×source · property types · cities · employees
actions stats                 effective status×type×priority×source · due dates+timeline
employee workloads            one GROUP BY per measure (four)
============================  ===========================================================

Statistics definitions (where the API document gives only names):

* ``dateFrom``/``dateTo`` keep records whose ``created_at`` is within ``[dateFrom, dateTo]``.
* Customers — ``leadScores``: ``avg`` (1 decimal), ``median`` and the buckets ``above80``
  (80–100), ``60to80`` (60–79), ``40to60`` (40–59), ``below40`` (0–39). ``financial``:
  ``totalDealValue`` and ``totalExpectedRevenue`` are sums, ``avgDealSize`` the mean deal value
  of customers that have one. ``conversion``: ``conversionRate`` = percentage of the customers
  in ``closing`` or ``post_sale``; a customer's *close* is its first stage-history entry into
  ``closing`` (or ``post_sale``); ``avgDaysInPipeline`` = mean days from creation to close over
  closed customers; ``closedThisMonth``/``closedThisYear`` count closes in the organization's
  local calendar month/year. ``engagement``: ``activeCustomers`` had a contact in the last 30
  days, ``newThisMonth`` were created in the local month, ``avgInteractions`` is the mean of
  ``totalInteractions`` and ``avgResponseRate`` of ``responseRate`` (customers that have one).
  ``groupBy`` ``employee`` and ``city`` use the keys ``unassigned`` and ``unknown`` for none.
* Actions — ``total`` counts every action by effective status. ``byType``, ``byPriority``,
  ``bySource`` and ``dueDates`` count *open* actions (effective ``pending`` or ``in_progress``):
  the work still to do. ``thisWeek`` is today plus six days, ``thisMonth`` the local calendar
  month. ``avgCompletionTime`` is the mean hours from creation to completion of completed
  actions; ``avgResponseTime`` the mean hours from creation to the first response — the first
  note or the completion, whichever came first; ``completionRate`` =
  ``completed / (completed + dismissed + open) × 100`` (snoozed actions are left out).
* Employee workloads — ``assignedCustomers`` (live customers), ``pendingActions`` (open actions
  assigned to them), ``completedThisMonth`` (actions they completed — ``completed_by`` — in the
  local month) and ``avgResponseTime`` (as for actions, over actions assigned to them, created
  within the window).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from attrs import frozen
from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.counters import assignee_reach, customer_counters, first_closes
from customers_hub.adapters.sql.dialect import Epoch
from customers_hub.adapters.sql.mappers import FACET_PROPERTY_TYPE
from customers_hub.adapters.sql.read_scope import customer_where
from customers_hub.adapters.sql.stats_periods import (
    ACTIVE_CONTACT_DAYS,
    CLOSED_STAGES,
    partial_days,
    times_for,
    times_statement,
    times_values,
    whole_days,
    year_bounds,
)
from customers_hub.application.queries import (
    CustomerStats,
    EmployeeOption,
    FilterOption,
    FilterOptions,
    StatsWindow,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    CustomerSource,
    LabelledEnum,
    Priority,
    PropertyType,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.inbox import month_bounds

__all__ = [
    "ACTIVE_CONTACT_DAYS",
    "customer_stats",
    "filter_options",
    "recount_customer_stats",
    "recount_filter_options",
]

_MONEY = Numeric(18, 2, asdecimal=True)
_CENT = Decimal("0.01")


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _money(value: object) -> Decimal | None:
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(_CENT)


def _window(created_at: Any, window: StatsWindow) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if window.date_from is not None:
        out.append(created_at >= window.date_from)
    if window.date_to is not None:
        out.append(created_at <= window.date_to)
    return out


def _in_range(col: Any, bounds: tuple[datetime | None, datetime | None]) -> ColumnElement[bool]:
    start, end = bounds
    parts: list[ColumnElement[bool]] = [col.is_not(None)]
    if start is not None:
        parts.append(col >= start)
    if end is not None:
        parts.append(col < end)
    return and_(*parts)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _zeroes(enum: Iterable[LabelledEnum]) -> dict[str, int]:
    return {member.value: 0 for member in enum}


# --- customers ---------------------------------------------------------------------------------
#
# Without a date range, statistics and filter options sum the counter rows of the scope's
# assignees (adapters/sql/counters.py, docs/statistics.md), with the pipeline days and the whole
# UTC days of "closed this month/year" and "active in the last 30 days"; the rest of those
# periods and "new this month" come from index range queries. With dateFrom/dateTo, statistics
# scan the customers created in the range through ix_customers_org_created
# (:func:`recount_customer_stats`, also the reference the counters are checked against).


@frozen
class _Tally:
    """What customer statistics are assembled from, however it was counted."""

    by_stage: dict[str, int]
    by_source: dict[str, int]
    by_priority: dict[str, int]
    histogram: list[tuple[int, int]]
    # dimension -> (rows with a value, sum of the values): deal, revenue, interactions, response
    sums: dict[str, tuple[int, Decimal]]
    grouped: dict[str, int] | None
    # customers that ever closed, seconds from creation to close, closes this month and year
    closes: tuple[int, Decimal, int, int]


_SUMMED: Final = {
    "deal": t.customers.c.total_deal_value,
    "revenue": t.customers.c.expected_revenue,
    "interactions": t.customers.c.total_interactions,
    "response": t.customers.c.response_rate,
}
_COUNTED_DIMENSIONS: Final = ("stage", "source", "priority", "score", "city", "closed", *_SUMMED)


def _check_group_by(group_by: str | None) -> None:
    if group_by not in (None, "stage", "source", "employee", "city"):
        raise ValidationFailed.single("groupBy", "must be one of stage, source, employee, city")


async def customer_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, group_by: str | None
) -> CustomerStats:
    """Customer aggregates in scope: two statements (counters, then the time-dependent
    numbers); with a date range, :func:`recount_customer_stats`."""
    _check_group_by(group_by)
    if window.date_from is not None or window.date_to is not None:
        return await recount_customer_stats(engine, scope, window, group_by)
    k = customer_counters.c
    by_assignee = group_by == "employee"
    # groupBy employee needs the stages per assignee only, not every dimension's rows; inline
    # constants: PostgreSQL matches a CASE in GROUP BY with the SELECT list's only unbound.
    whose = case(
        (k.dimension == literal_column("'stage'"), k.assignee), else_=literal_column("''")
    ).label("assignee")
    keys = (k.dimension, k.value, *((whose,) if by_assignee else ()))
    summed = (
        select(*keys, func.sum(k.n).label("n"), func.sum(k.amount).label("amount"))
        .where(
            k.organization_id == scope.organization_id,
            assignee_reach(scope, k.assignee),
            k.dimension.in_(_COUNTED_DIMENSIONS),
        )
        .group_by(*keys)
    )
    periods = {
        "month": month_bounds(window.now, window.tz),
        "year": year_bounds(window.now, window.tz),
    }
    partial = {
        f"{name}_{end}": bounds
        for name, period in periods.items()
        for end, bounds in enumerate(partial_days(*period))
    }
    async with engine.connect() as conn:
        rows = list((await conn.execute(summed)).mappings())
        times_stmt = times_for(scope, tuple(partial))
        times = (await conn.execute(times_stmt, times_values(window, partial))).mappings().one()
    counts: dict[str, dict[str, int]] = {}
    sums: dict[str, tuple[int, Decimal]] = {}
    grouped: dict[str, int] | None = {} if by_assignee or group_by == "city" else None
    for row in rows:
        dimension, value, n = row["dimension"], row["value"], int(row["n"])
        if dimension in _SUMMED or dimension == "closed":
            had, amount = sums.get(dimension, (0, Decimal(0)))
            sums[dimension] = (had + n, amount + Decimal(str(row["amount"])))
            if dimension == "closed":  # per UTC day of the close
                days = counts.setdefault(dimension, {})
                days[value] = days.get(value, 0) + n
            continue
        if n == 0:  # an organization's deltas that cancelled out, not folded yet
            continue
        within = counts.setdefault(dimension, {})
        within[value] = within.get(value, 0) + n
        if grouped is None:
            continue
        if by_assignee and dimension == "stage":
            name = row["assignee"] or "unassigned"
        elif group_by == "city" and dimension == "city":
            name = value or "unknown"
        else:
            continue
        grouped[name] = grouped.get(name, 0) + n
    closed_days = counts.get("closed", {})
    day_ranges = {name: whole_days(period) for name, period in periods.items()}
    within = {
        name: sum(n for day, n in closed_days.items() if first <= day < end)
        + sum(int(times[key]) for key in partial if key.startswith(name))
        for name, (first, end) in day_ranges.items()
    }
    closed_n, seconds = sums.pop("closed", (0, Decimal(0)))
    tally = _Tally(
        by_stage=_with_zeroes(Stage, counts.get("stage", {})),
        by_source=_with_zeroes(CustomerSource, counts.get("source", {})),
        by_priority=_with_zeroes(Priority, counts.get("priority", {})),
        histogram=[(int(v), n) for v, n in counts.get("score", {}).items()],
        sums=sums,
        grouped=grouped,
        closes=(closed_n, seconds, within["month"], within["year"]),
    )
    return _assemble(tally, times, group_by)


async def recount_customer_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, group_by: str | None
) -> CustomerStats:
    """Customer statistics from a scan of the customers in scope (the reference the counters
    must equal; the answer for a date range): three statements, four with groupBy
    employee/city."""
    _check_group_by(group_by)
    c = t.customers.c
    where = (*customer_where(scope, (), restricted=True), *_window(c.created_at, window))
    sums_stmt = select(
        *(
            element
            for name, col in _SUMMED.items()
            for element in (
                func.count(col).label(f"{name}_n"),
                type_coerce(func.coalesce(func.sum(col), 0), _MONEY).label(f"{name}_sum"),
            )
        )
    ).where(*where)
    grouped_stmt = (
        select(c.stage, c.source, c.priority, func.count().label("n"))
        .where(*where)
        .group_by(c.stage, c.source, c.priority)
    )
    scores_stmt = select(c.lead_score, func.count().label("n")).where(*where).group_by(c.lead_score)
    closes = first_closes(scope.organization_id)
    closed_at = closes.c.closed_at
    closes_stmt = (
        select(
            func.count().label("n"),
            type_coerce(
                func.coalesce(func.sum(Epoch(closed_at) - Epoch(c.created_at)), 0), _MONEY
            ).label("seconds"),
            _count_if(_in_range(closed_at, month_bounds(window.now, window.tz))).label("month"),
            _count_if(_in_range(closed_at, year_bounds(window.now, window.tz))).label("year"),
        )
        .select_from(closes.join(t.customers, c.id == closes.c.customer_id))
        .where(*where)
    )
    async with engine.connect() as conn:
        totals = (await conn.execute(sums_stmt)).mappings().one()
        combos = list((await conn.execute(grouped_stmt)).mappings())
        histogram = [
            (int(r["lead_score"]), int(r["n"]))
            for r in (await conn.execute(scores_stmt)).mappings()
        ]
        times_stmt = times_statement(scope, where, ())
        times = (await conn.execute(times_stmt, times_values(window, {}))).mappings().one()
        closed = (await conn.execute(closes_stmt)).mappings().one()
        grouped: dict[str, int] | None = None
        if group_by in ("employee", "city"):
            col, missing = (
                (c.assigned_employee_id, "unassigned")
                if group_by == "employee"
                else (c.city, "unknown")
            )
            rows = await conn.execute(
                select(col.label("key"), func.count().label("n")).where(*where).group_by(col)
            )
            grouped = {}
            for key, n in rows.tuples():
                name = key if key is not None else missing
                grouped[name] = grouped.get(name, 0) + int(n)
    by_stage, by_source, by_priority = (
        _zeroes(Stage),
        _zeroes(CustomerSource),
        _zeroes(Priority),
    )
    for row in combos:
        n = int(row["n"])
        by_stage[row["stage"]] = by_stage.get(row["stage"], 0) + n
        by_source[row["source"]] = by_source.get(row["source"], 0) + n
        by_priority[row["priority"]] = by_priority.get(row["priority"], 0) + n
    tally = _Tally(
        by_stage=by_stage,
        by_source=by_source,
        by_priority=by_priority,
        histogram=histogram,
        sums={
            name: (int(totals[f"{name}_n"]), Decimal(str(totals[f"{name}_sum"])))
            for name in _SUMMED
        },
        grouped=grouped,
        closes=(
            int(closed["n"]),
            Decimal(str(closed["seconds"])),
            int(closed["month"]),
            int(closed["year"]),
        ),
    )
    return _assemble(tally, times, group_by)


def _with_zeroes(enum: Iterable[LabelledEnum], counts: Mapping[str, int]) -> dict[str, int]:
    return {**_zeroes(enum), **counts}


def _assemble(tally: _Tally, times: RowMapping, group_by: str | None) -> CustomerStats:
    total = sum(tally.by_stage.values())
    converted = sum(tally.by_stage.get(stage, 0) for stage in CLOSED_STAGES)
    grouped = tally.grouped
    if group_by == "stage":
        grouped = dict(tally.by_stage)
    elif group_by == "source":
        grouped = dict(tally.by_source)

    def amount(name: str) -> Decimal:
        return tally.sums.get(name, (0, Decimal(0)))[1]

    def mean(name: str) -> Decimal | None:
        n = tally.sums.get(name, (0, Decimal(0)))[0]
        return amount(name) / n if n else None

    response = mean("response")
    closed_n, seconds, closed_month, closed_year = tally.closes
    return CustomerStats(
        total=total,
        by_stage=tally.by_stage,
        by_source=tally.by_source,
        by_priority={
            p.value: tally.by_priority.get(p.value, 0)
            for p in sorted(Priority, key=lambda p: -p.rank)
        },
        lead_scores=_lead_scores(tally.histogram),
        financial={
            "totalDealValue": _money(amount("deal")) or Decimal("0.00"),
            "totalExpectedRevenue": _money(amount("revenue")) or Decimal("0.00"),
            "avgDealSize": _money(mean("deal")),
        },
        conversion={
            "conversionRate": _round(100.0 * converted / total) if total else None,
            "avgDaysInPipeline": _round(float(seconds / closed_n) / 86400.0) if closed_n else None,
            "closedThisMonth": closed_month,
            "closedThisYear": closed_year,
        },
        engagement={
            "activeCustomers": int(times["active"]),
            "newThisMonth": int(times["new_month"]),
            "avgInteractions": _round(float(amount("interactions")) / total) if total else None,
            "avgResponseRate": _round(float(response)) if response is not None else None,
        },
        grouped=grouped,
    )


_OPTION_DIMENSIONS: Final = ("listed_stage", "listed_source", "listed_city", "property_type")


async def filter_options(engine: AsyncEngine, scope: ScopeFilter) -> FilterOptions:
    """Stages, sources and property types (every member, 0 when none), cities and employees
    with counts over the live customers in scope, from the counters: two statements."""
    k = customer_counters.c
    summed = (
        select(k.assignee, k.dimension, k.value, func.sum(k.n).label("n"))
        .where(
            k.organization_id == scope.organization_id,
            assignee_reach(scope, k.assignee),
            k.dimension.in_(_OPTION_DIMENSIONS),
        )
        .group_by(k.assignee, k.dimension, k.value)
    )
    employees = _employees_in_reach(scope)
    async with engine.connect() as conn:
        rows = list((await conn.execute(summed)).tuples())
        employee_rows = list((await conn.execute(employees)).mappings())
    counts: dict[str, dict[str, int]] = {name: {} for name in _OPTION_DIMENSIONS}
    held: dict[str, int] = {}
    for assignee, dimension, value, n in rows:
        counts[dimension][value] = counts[dimension].get(value, 0) + int(n)
        if dimension == "listed_stage":
            held[assignee] = held.get(assignee, 0) + int(n)
    return _filter_options(counts, held, employee_rows)


def _employees_in_reach(scope: ScopeFilter) -> Select[Any]:
    """The employees a scope's filter options name (id, names, whether active), by name."""
    e = t.employees.c
    return (
        select(e.id, e.name, e.name_en, e.is_active)
        .where(e.organization_id == scope.organization_id, _employee_reach(scope))
        .order_by(e.name, e.id)
    )


async def recount_filter_options(engine: AsyncEngine, scope: ScopeFilter) -> FilterOptions:
    """Filter options from a scan of the live customers in scope (the reference the counters
    must equal): four GROUP BY statements."""
    c, f = t.customers.c, t.customer_facets.c
    where = customer_where(scope, ())
    stage_source = (
        select(c.stage, c.source, func.count().label("n")).where(*where).group_by(c.stage, c.source)
    )
    types = (
        select(f.value, func.count().label("n"))
        .select_from(t.customer_facets.join(t.customers, c.id == f.customer_id))
        .where(f.organization_id == scope.organization_id, f.kind == FACET_PROPERTY_TYPE, *where)
        .group_by(f.value)
    )
    cities = (
        select(c.city, func.count().label("n")).where(*where, c.city.is_not(None)).group_by(c.city)
    )
    assigned = (
        select(c.assigned_employee_id, func.count().label("n"))
        .where(*where, c.assigned_employee_id.is_not(None))
        .group_by(c.assigned_employee_id)
    )
    employees = _employees_in_reach(scope)
    async with engine.connect() as conn:
        combos = list((await conn.execute(stage_source)).tuples())
        type_counts = {v: int(n) for v, n in (await conn.execute(types)).tuples()}
        city_counts = {v: int(n) for v, n in (await conn.execute(cities)).tuples()}
        held = {v: int(n) for v, n in (await conn.execute(assigned)).tuples()}
        employee_rows = list((await conn.execute(employees)).mappings())
    stage_counts: dict[str, int] = {}
    source_counts: dict[str, int] = {}
    for stage, source, n in combos:
        stage_counts[stage] = stage_counts.get(stage, 0) + int(n)
        source_counts[source] = source_counts.get(source, 0) + int(n)
    counts = {
        "listed_stage": stage_counts,
        "listed_source": source_counts,
        "listed_city": city_counts,
        "property_type": type_counts,
    }
    return _filter_options(counts, held, employee_rows)


def _filter_options(
    counts: Mapping[str, Mapping[str, int]],
    held: Mapping[str, int],
    employee_rows: Sequence[RowMapping],
) -> FilterOptions:
    """Options from counts per dimension and customers held per employee; employees listed
    when active or holding a customer."""
    city_rows = sorted(
        ((v, n) for v, n in counts["listed_city"].items() if v and n > 0),
        key=lambda vn: (-vn[1], vn[0]),
    )
    return FilterOptions(
        stages=_options(Stage, counts["listed_stage"]),
        sources=_options(CustomerSource, counts["listed_source"]),
        cities=tuple(FilterOption(value=v, count=n, label=v) for v, n in city_rows),
        property_types=_options(PropertyType, counts["property_type"]),
        employees=tuple(
            EmployeeOption(
                id=r["id"], name=r["name"], count=held.get(r["id"], 0), name_en=r["name_en"]
            )
            for r in employee_rows
            if r["is_active"] or held.get(r["id"], 0) > 0
        ),
    )


def _employee_reach(scope: ScopeFilter) -> ColumnElement[bool]:
    """The employees a scope may pick from: everyone (ALL), the manager and direct reports
    (TEAM), oneself (OWN), nobody (NONE)."""
    e = t.employees.c
    if scope.kind is Reach.ALL:
        return literal(True)
    if scope.kind is Reach.TEAM:
        return or_(e.id == scope.employee_id, e.manager_id == scope.employee_id)
    if scope.kind is Reach.OWN:
        return e.id == scope.employee_id
    return literal(False)


def _options(enum: Iterable[LabelledEnum], counts: Mapping[str, int]) -> tuple[FilterOption, ...]:
    return tuple(
        FilterOption(
            value=m.value, count=counts.get(m.value, 0), label=m.label, label_en=m.label_en
        )
        for m in enum
    )


def _lead_scores(histogram: Sequence[tuple[int, int]]) -> dict[str, float | int | None]:
    """avg, median and buckets of a (score, count) histogram."""
    histogram = [(score, count) for score, count in histogram if count]
    n = sum(count for _, count in histogram)
    buckets = {"above80": 0, "60to80": 0, "40to60": 0, "below40": 0}
    for score, count in histogram:
        key = (
            "above80"
            if score >= 80
            else "60to80"
            if score >= 60
            else "40to60"
            if score >= 40
            else "below40"
        )
        buckets[key] += count
    if n == 0:
        return {"avg": None, "median": None, **buckets}
    ordered = sorted(histogram)

    def nth(k: int) -> int:
        seen = 0
        for score, count in ordered:
            seen += count
            if seen > k:
                return score
        raise AssertionError("k out of range")

    middle = (nth((n - 1) // 2) + nth(n // 2)) / 2
    median: float | int = int(middle) if middle == int(middle) else middle
    avg = sum(score * count for score, count in histogram) / n
    return {"avg": round(avg, 1), "median": median, **buckets}

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
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Numeric,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.dialect import Epoch, hours_between
from customers_hub.adapters.sql.filters import (
    action_scope,
    effective_status_expr,
    effective_status_in,
)
from customers_hub.adapters.sql.mappers import FACET_PROPERTY_TYPE
from customers_hub.adapters.sql.read_scope import actions_from, customer_where, live
from customers_hub.application.queries import (
    ActionStats,
    CustomerStats,
    EmployeeOption,
    EmployeeWorkload,
    FilterOption,
    FilterOptions,
    StatsWindow,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    LabelledEnum,
    Priority,
    PropertyType,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.inbox import OPEN_STATUSES, bucket_bounds, local_midnight, month_bounds

__all__ = [
    "ACTIVE_CONTACT_DAYS",
    "action_stats",
    "customer_stats",
    "employee_workloads",
    "filter_options",
]

ACTIVE_CONTACT_DAYS: Final = 30
"""A customer contacted within this many days counts as active."""

_CLOSED_STAGES: Final = (Stage.CLOSING.value, Stage.POST_SALE.value)
_MONEY = Numeric(18, 2, asdecimal=True)
_CENT = Decimal("0.01")


def _year_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    year = now.astimezone(tz).year
    return local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)


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


async def customer_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, group_by: str | None
) -> CustomerStats:
    """Customer aggregates in scope: three statements, four with groupBy employee/city."""
    if group_by not in (None, "stage", "source", "employee", "city"):
        raise ValidationFailed.single("groupBy", "must be one of stage, source, employee, city")
    c = t.customers.c
    where = (*customer_where(scope, (), restricted=True), *_window(c.created_at, window))
    month = month_bounds(window.now, window.tz)
    year = _year_bounds(window.now, window.tz)
    h = t.stage_history.c
    closes = (
        select(h.customer_id, func.min(h.changed_at).label("closed_at"))
        .where(h.organization_id == scope.organization_id, h.to_stage.in_(_CLOSED_STAGES))
        .group_by(h.customer_id)
        .subquery("closes")
    )
    closed_at = closes.c.closed_at
    main = (
        select(
            func.count().label("total"),
            type_coerce(func.sum(c.total_deal_value), _MONEY).label("deal_sum"),
            type_coerce(func.sum(c.expected_revenue), _MONEY).label("revenue_sum"),
            type_coerce(func.avg(c.total_deal_value), _MONEY).label("deal_avg"),
            _count_if(c.stage.in_(_CLOSED_STAGES)).label("converted"),
            _count_if(c.last_contact_at >= window.now - timedelta(days=ACTIVE_CONTACT_DAYS)).label(
                "active"
            ),
            _count_if(_in_range(c.created_at, month)).label("new_month"),
            type_coerce(func.avg(c.total_interactions), Float()).label("avg_interactions"),
            type_coerce(func.avg(c.response_rate), Float()).label("avg_response_rate"),
            type_coerce(
                func.avg((Epoch(closed_at) - Epoch(c.created_at)) / 86400.0), Float()
            ).label("avg_days"),
            _count_if(_in_range(closed_at, month)).label("closed_month"),
            _count_if(_in_range(closed_at, year)).label("closed_year"),
        )
        .select_from(t.customers.outerjoin(closes, closes.c.customer_id == c.id))
        .where(*where)
    )
    grouped_stmt = (
        select(c.stage, c.source, c.priority, func.count().label("n"))
        .where(*where)
        .group_by(c.stage, c.source, c.priority)
    )
    scores_stmt = select(c.lead_score, func.count().label("n")).where(*where).group_by(c.lead_score)
    async with engine.connect() as conn:
        totals = (await conn.execute(main)).mappings().one()
        combos = list((await conn.execute(grouped_stmt)).mappings())
        histogram = [
            (int(r["lead_score"]), int(r["n"]))
            for r in (await conn.execute(scores_stmt)).mappings()
        ]
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
    if group_by == "stage":
        grouped = dict(by_stage)
    elif group_by == "source":
        grouped = dict(by_source)
    total = int(totals["total"])
    return CustomerStats(
        total=total,
        by_stage=by_stage,
        by_source=by_source,
        by_priority={
            p.value: by_priority[p.value] for p in sorted(Priority, key=lambda p: -p.rank)
        },
        lead_scores=_lead_scores(histogram),
        financial={
            "totalDealValue": _money(totals["deal_sum"]) or Decimal("0.00"),
            "totalExpectedRevenue": _money(totals["revenue_sum"]) or Decimal("0.00"),
            "avgDealSize": _money(totals["deal_avg"]),
        },
        conversion={
            "conversionRate": _round(100.0 * int(totals["converted"]) / total) if total else None,
            "avgDaysInPipeline": _round(totals["avg_days"]),
            "closedThisMonth": int(totals["closed_month"]),
            "closedThisYear": int(totals["closed_year"]),
        },
        engagement={
            "activeCustomers": int(totals["active"]),
            "newThisMonth": int(totals["new_month"]),
            "avgInteractions": _round(totals["avg_interactions"]),
            "avgResponseRate": _round(totals["avg_response_rate"]),
        },
        grouped=grouped,
    )


async def filter_options(engine: AsyncEngine, scope: ScopeFilter) -> FilterOptions:
    """Stages, sources and property types (every member, 0 when none), cities and employees
    with counts over the live customers in scope: four GROUP BY statements."""
    c, f, e = t.customers.c, t.customer_facets.c, t.employees.c
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
    held = (
        select(c.assigned_employee_id.label("employee_id"), func.count().label("n"))
        .where(*where, c.assigned_employee_id.is_not(None))
        .group_by(c.assigned_employee_id)
        .subquery("held")
    )
    employees = (
        select(e.id, e.name, e.name_en, e.is_active, func.coalesce(held.c.n, 0).label("n"))
        .select_from(t.employees.outerjoin(held, held.c.employee_id == e.id))
        .where(e.organization_id == scope.organization_id, _employee_reach(scope))
        .where(or_(e.is_active.is_(True), held.c.n > 0))
        .order_by(e.name, e.id)
    )
    async with engine.connect() as conn:
        combos = list((await conn.execute(stage_source)).tuples())
        type_counts = {v: int(n) for v, n in (await conn.execute(types)).tuples()}
        city_rows = [(v, int(n)) for v, n in (await conn.execute(cities)).tuples()]
        employee_rows = list((await conn.execute(employees)).mappings())
    stage_counts, source_counts = _zeroes(Stage), _zeroes(CustomerSource)
    for stage, source, n in combos:
        stage_counts[stage] = stage_counts.get(stage, 0) + int(n)
        source_counts[source] = source_counts.get(source, 0) + int(n)
    city_rows.sort(key=lambda vn: (-vn[1], vn[0]))
    return FilterOptions(
        stages=_options(Stage, stage_counts),
        sources=_options(CustomerSource, source_counts),
        cities=tuple(FilterOption(value=v, count=n, label=v) for v, n in city_rows),
        property_types=_options(PropertyType, type_counts),
        employees=_employee_options(employee_rows),
    )


def _employee_options(rows: Sequence[RowMapping]) -> tuple[EmployeeOption, ...]:
    return tuple(
        EmployeeOption(id=r["id"], name=r["name"], count=int(r["n"]), name_en=r["name_en"])
        for r in rows
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


# --- actions -----------------------------------------------------------------------------------


def _responded_from(organization_id: str) -> tuple[FromClause, ColumnElement[Any]]:
    """Actions joined to their first note, and the instant of the first response (the first
    note or the completion, whichever came first)."""
    a, n = t.customer_actions.c, t.action_notes.c
    first = (
        select(n.action_id, func.min(n.created_at).label("first_note"))
        .where(n.organization_id == organization_id)
        .group_by(n.action_id)
        .subquery("first_notes")
    )
    note = first.c.first_note
    responded = case(
        (note.is_(None), a.completed_at),
        (a.completed_at.is_(None), note),
        (note < a.completed_at, note),
        else_=a.completed_at,
    )
    return actions_from().outerjoin(first, first.c.action_id == a.id), responded


_STATUS_KEYS: Final[Mapping[str, str]] = {
    ActionStatus.PENDING.value: "pending",
    ActionStatus.IN_PROGRESS.value: "inProgress",
    ActionStatus.COMPLETED.value: "completed",
    ActionStatus.DISMISSED.value: "dismissed",
    ActionStatus.SNOOZED.value: "snoozed",
}


async def action_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
) -> ActionStats:
    """Action aggregates in scope: two statements."""
    a = t.customer_actions.c
    now = window.now
    where: list[ColumnElement[bool]] = [action_scope(scope), live()]
    where += _window(a.created_at, window)
    if assigned_to is not None:
        where.append(a.assigned_to == assigned_to)
    # Group on a subquery's column: PostgreSQL cannot match a parameterized CASE in the
    # SELECT list with the same CASE in GROUP BY.
    inner = (
        select(
            effective_status_expr(now).label("status"),
            a.type.label("type"),
            a.priority.label("priority"),
            a.source.label("source"),
        )
        .select_from(actions_from())
        .where(*where)
        .subquery("effective")
    )
    grouped = select(
        inner.c.status, inner.c.type, inner.c.priority, inner.c.source, func.count()
    ).group_by(inner.c.status, inner.c.type, inner.c.priority, inner.c.source)
    open_ = effective_status_in(OPEN_STATUSES, now)
    source, responded = _responded_from(scope.organization_id)
    completed = a.status == ActionStatus.COMPLETED.value
    timeline = (
        select(
            _count_if(and_(open_, a.due_date < now)).label("overdue"),
            _count_if(
                and_(
                    open_,
                    _in_range(a.due_date, bucket_bounds(DueDateBucket.TODAY, now, window.tz)),
                )
            ).label("today"),
            _count_if(
                and_(
                    open_,
                    _in_range(a.due_date, bucket_bounds(DueDateBucket.WEEK, now, window.tz)),
                )
            ).label("week"),
            _count_if(and_(open_, _in_range(a.due_date, month_bounds(now, window.tz)))).label(
                "month"
            ),
            _count_if(and_(open_, a.due_date.is_(None))).label("no_date"),
            type_coerce(
                func.avg(
                    case(
                        (
                            and_(completed, a.completed_at.is_not(None)),
                            hours_between(a.created_at, a.completed_at),
                        )
                    )
                ),
                Float(),
            ).label("completion_hours"),
            type_coerce(func.avg(hours_between(a.created_at, responded)), Float()).label(
                "response_hours"
            ),
        )
        .select_from(source)
        .where(*where)
    )
    async with engine.connect() as conn:
        combos = list((await conn.execute(grouped)).tuples())
        times = (await conn.execute(timeline)).mappings().one()
    total = dict.fromkeys(_STATUS_KEYS.values(), 0)
    by_type, by_priority, by_source = (
        _zeroes(ActionType),
        {p.value: 0 for p in sorted(Priority, key=lambda p: -p.rank)},
        _zeroes(CustomerSource),
    )
    open_values = {s.value for s in OPEN_STATUSES}
    for status, type_, priority, source_, n in combos:
        total[_STATUS_KEYS[status]] += int(n)
        if status in open_values:
            by_type[type_] = by_type.get(type_, 0) + int(n)
            by_priority[priority] = by_priority.get(priority, 0) + int(n)
            by_source[source_] = by_source.get(source_, 0) + int(n)
    open_count = total["pending"] + total["inProgress"]
    denominator = total["completed"] + total["dismissed"] + open_count
    return ActionStats(
        total=total,
        by_type=by_type,
        by_priority=by_priority,
        by_source=by_source,
        due_dates={
            "overdue": int(times["overdue"]),
            "today": int(times["today"]),
            "thisWeek": int(times["week"]),
            "thisMonth": int(times["month"]),
            "noDueDate": int(times["no_date"]),
        },
        avg_completion_time=_round(times["completion_hours"], 2),
        avg_response_time=_round(times["response_hours"], 2),
        completion_rate=(_round(100.0 * total["completed"] / denominator) if denominator else None),
    )


# --- employees ---------------------------------------------------------------------------------


async def employee_workloads(
    engine: AsyncEngine, organization_id: str, ids: Sequence[str], window: StatsWindow
) -> dict[str, EmployeeWorkload]:
    """Workloads of ``ids`` (every id gets one; zeros when nothing is theirs): one GROUP BY
    statement per measure."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    a, c = t.customer_actions.c, t.customers.c
    live_action = (a.organization_id == organization_id, live())
    assigned = (
        select(c.assigned_employee_id, func.count())
        .where(
            c.organization_id == organization_id,
            live(),
            c.assigned_employee_id.in_(wanted),
        )
        .group_by(c.assigned_employee_id)
    )
    pending = (
        select(a.assigned_to, func.count())
        .select_from(actions_from())
        .where(
            *live_action,
            a.assigned_to.in_(wanted),
            effective_status_in(OPEN_STATUSES, window.now),
        )
        .group_by(a.assigned_to)
    )
    completed = (
        select(a.completed_by, func.count())
        .select_from(actions_from())
        .where(
            *live_action,
            a.completed_by.in_(wanted),
            a.status == ActionStatus.COMPLETED.value,
            _in_range(a.completed_at, month_bounds(window.now, window.tz)),
        )
        .group_by(a.completed_by)
    )
    source, responded = _responded_from(organization_id)
    response = (
        select(
            a.assigned_to,
            type_coerce(func.avg(hours_between(a.created_at, responded)), Float()),
        )
        .select_from(source)
        .where(*live_action, a.assigned_to.in_(wanted), *_window(a.created_at, window))
        .group_by(a.assigned_to)
    )
    async with engine.connect() as conn:
        customers_held: dict[str, int] = dict((await conn.execute(assigned)).tuples().all())
        open_actions: dict[str, int] = dict((await conn.execute(pending)).tuples().all())
        done: dict[str, int] = dict((await conn.execute(completed)).tuples().all())
        hours: dict[str, float | None] = dict((await conn.execute(response)).tuples().all())
    return {
        employee_id: EmployeeWorkload(
            assigned_customers=int(customers_held.get(employee_id, 0)),
            pending_actions=int(open_actions.get(employee_id, 0)),
            completed_this_month=int(done.get(employee_id, 0)),
            avg_response_time=_round(hours.get(employee_id), 2),
        )
        for employee_id in wanted
    }

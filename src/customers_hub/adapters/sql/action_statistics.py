"""Action statistics and employee workloads over SQL (definitions: :mod:`.statistics`).

``GET /customers/actions/stats`` reads the action counters (:mod:`.action_counters`) and two
index range counts (one statement), two statements whatever the organization's size (a TEAM
scope reads its members' ids first):

* **counters** — stored statuses, and type/priority/source/no-due-date of open (stored
  ``pending``/``in_progress``) actions, and the sums behind ``avgCompletionTime`` and
  ``avgResponseTime``, summed over the rows of the scope (TEAM/OWN: rows whose action *or*
  customer assignee is within reach, as :func:`~.filters.action_scope`);
* **woken snoozes** — snoozed actions whose snooze has ended count as pending (their effective
  status): a range count of them, grouped by type/priority/source, moves them from ``snoozed``
  to ``pending`` (the wake-up job keeps them few: it stores them as pending within a minute);
* **upcoming** — the due-date buckets that depend on "now": open actions due from the start of
  the local month or day (whichever is earlier) on; ``overdue`` is then the open actions with a
  due date minus those due from now on.

Both range counts read partial indexes alone (index-only, no join): each action carries its
customer's assignee and liveness (``customer_assignee_id``, ``customer_live``, kept by the
triggers of migration 0019), and the indexes hold only live customers' open or snoozed
actions. TEAM/OWN add up two disjoint ranges: the actions assigned within reach, and those of
customers assigned within reach but assigned themselves to someone else or no one
(:func:`_in_reach`; a partial index of the few actions assigned elsewhere than their customer).

With ``dateFrom``/``dateTo`` the counters (which hold every action) cannot answer: the request
falls back to :func:`scan_action_stats`, the scanning query of the actions created in the window
(a range of ``ix_actions_org_created``). :func:`scan_action_stats` over the whole organization
is also the reference the counters are checked against (tests, ``customers-hub db recount``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    TextClause,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.counters import UNASSIGNED
from customers_hub.adapters.sql.dialect import hours_between
from customers_hub.adapters.sql.filters import (
    action_scope,
    effective_status_expr,
    effective_status_in,
    team_member_ids,
)
from customers_hub.adapters.sql.read_scope import actions_from, live
from customers_hub.adapters.sql.statistics import (
    _count_if,
    _in_range,
    _round,
    _window,
    _zeroes,
)
from customers_hub.application.queries import ActionStats, EmployeeWorkload, StatsWindow
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    Priority,
)
from customers_hub.domain.inbox import OPEN_STATUSES, bucket_bounds, month_bounds

__all__ = [
    "action_stats",
    "employee_workloads",
    "scan_action_stats",
]

_MILLIS_PER_HOUR: Final = 3_600_000.0


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

_OPEN_VALUES: Final = frozenset(s.value for s in OPEN_STATUSES)


def _empty_counts() -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    """total, byType, byPriority (most urgent first), bySource: every key, zero."""
    return (
        dict.fromkeys(_STATUS_KEYS.values(), 0),
        _zeroes(ActionType),
        {p.value: 0 for p in sorted(Priority, key=lambda p: -p.rank)},
        _zeroes(CustomerSource),
    )


def _finish(
    total: dict[str, int],
    by_type: dict[str, int],
    by_priority: dict[str, int],
    by_source: dict[str, int],
    due_dates: dict[str, int],
    completion_hours: float | None,
    response_hours: float | None,
) -> ActionStats:
    open_count = total["pending"] + total["inProgress"]
    denominator = total["completed"] + total["dismissed"] + open_count
    return ActionStats(
        total=total,
        by_type=by_type,
        by_priority=by_priority,
        by_source=by_source,
        due_dates=due_dates,
        avg_completion_time=_round(completion_hours, 2),
        avg_response_time=_round(response_hours, 2),
        completion_rate=(_round(100.0 * total["completed"] / denominator) if denominator else None),
    )


# --- from the counters ---------------------------------------------------------------------------


async def _reach(conn: AsyncConnection, scope: ScopeFilter) -> list[str] | None:
    """The assignees a TEAM/OWN scope reaches (the manager and direct reports, or oneself);
    ``None`` for the whole organization. Ids, not a subquery: each becomes a range of the
    partial indexes (an ``OR`` with a subquery would not be index-only)."""
    if scope.kind is Reach.ALL:
        return None
    if scope.kind is Reach.NONE or scope.employee_id is None:
        return []
    if scope.kind is Reach.OWN:
        return [scope.employee_id]
    team = await conn.execute(team_member_ids(scope.organization_id, scope.employee_id))
    return [scope.employee_id, *sorted(team.scalars())]


def _bounds(window: StatsWindow) -> dict[str, datetime]:
    """The instants the due-date buckets are differences of counts "due from ... on" of."""
    today = bucket_bounds(DueDateBucket.TODAY, window.now, window.tz)
    week = bucket_bounds(DueDateBucket.WEEK, window.now, window.tz)
    month = month_bounds(window.now, window.tz)
    bounds = {
        "now": window.now,
        "today": today[0],
        "tomorrow": today[1],
        "week_end": week[1],
        "month": month[0],
        "month_end": month[1],
    }
    return {name: value for name, value in bounds.items() if value is not None}


def _due_from(bounds: Mapping[str, datetime]) -> list[ColumnElement[int]]:
    due = t.customer_actions.c.due_date
    return [_count_if(due >= value).label(name) for name, value in bounds.items()]


async def action_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
) -> ActionStats:
    """Action aggregates in scope: the counters and the index range counts (two statements;
    a TEAM scope reads its members first); with ``dateFrom``/``dateTo``,
    :func:`scan_action_stats` of the window."""
    if window.date_from is not None or window.date_to is not None or assigned_to == UNASSIGNED:
        # "" is the counters' key of no assignee, not an employee the scan would match.
        return await scan_action_stats(engine, scope, window, assigned_to)
    a, c = t.customer_actions.c, t.action_counters.c
    async with engine.connect() as conn:
        reach = await _reach(conn, scope)
        counted: list[ColumnElement[bool]] = [c.organization_id == scope.organization_id]
        if reach is not None:
            counted.append(or_(c.action_assignee.in_(reach), c.customer_assignee.in_(reach)))
        if assigned_to is not None:
            counted.append(c.action_assignee == assigned_to)
        sums = (
            select(
                c.dimension,
                c.value,
                func.sum(c.n).label("n"),
                type_coerce(func.sum(c.millis), Float()).label("millis"),
            )
            .where(*counted)
            .group_by(c.dimension, c.value)
        )
        bounds = _bounds(window)
        parts = _in_reach(scope.organization_id, reach, assigned_to, engine.dialect.name)
        # Literal predicates: SQLite uses a partial index only when the query states it as is.
        snoozed, open_ = (text(f"customer_actions.{p}") for p in _LIVE)
        # The snoozes that woke up, by type/priority/source, and the open actions due from the
        # start of the month or day on: one statement, rows told apart by "part".
        woken = [
            select(
                literal("woken").label("part"),
                a.type,
                a.priority,
                a.source,
                func.count().label("n"),
                _count_if(a.due_date.is_(None)).label("no_due"),
                *_due_from(bounds),
            )
            .where(snoozed, *part, ended)
            .group_by(a.type, a.priority, a.source)
            for part in parts
            # Two ranges of the snooze ends (an OR of them would not be index-only).
            for ended in (a.snoozed_until <= window.now, a.snoozed_until.is_(None))
        ]
        upcoming = [
            select(
                literal("upcoming").label("part"),
                *(null().label(name) for name in ("type", "priority", "source")),
                literal(0).label("n"),
                literal(0).label("no_due"),
                *_due_from(bounds),
            ).where(open_, *part, a.due_date >= min(bounds["today"], bounds["month"]))
            for part in parts
        ]
        rows = list((await conn.execute(sums)).mappings())
        timed = list((await conn.execute(union_all(*woken, *upcoming))).mappings()) if parts else []
    woken_rows = [row for row in timed if row["part"] == "woken"]
    ahead = [row for row in timed if row["part"] == "upcoming"]
    return _from_counters(rows, woken_rows, ahead)


_LIVE: Final = (t.LIVE_SNOOZED_ACTIONS, t.LIVE_OPEN_ACTIONS)


def _in_reach(
    organization_id: str, reach: list[str] | None, assigned_to: str | None, dialect: str
) -> list[list[ColumnElement[bool] | TextClause]]:
    """Disjoint sets of conditions whose union is the actions in scope (of live customers:
    the partial indexes' ``customer_live``), each a range of one partial index.

    The whole organization: one set. TEAM/OWN (an action is in scope when its assignee *or*
    its customer's is within reach): the actions whose assignee is within reach, and those
    whose customer's assignee is but whose own assignee is not (none, or out of reach). The
    latter are assigned elsewhere than their customer: a literal predicate of the partial
    index that holds only such (few) actions."""
    a = t.customer_actions.c
    org: list[ColumnElement[bool] | TextClause] = [a.organization_id == organization_id]
    if assigned_to is not None:
        org.append(a.assigned_to == assigned_to)
    if reach is None:
        return [org]
    if not reach:
        return []
    return [
        [*org, a.assigned_to.in_(reach)],
        [
            *org,
            text(f"customer_actions.{t.ASSIGNED_ELSEWHERE[dialect]}"),
            a.customer_assignee_id.in_(reach),
            or_(a.assigned_to.is_(None), a.assigned_to.not_in(reach)),
        ],
    ]


def _from_counters(
    rows: Sequence[RowMapping],
    woken_rows: Sequence[RowMapping],
    ahead: Sequence[RowMapping],
) -> ActionStats:
    """The statistics of the summed counter rows, the woken snoozes and the upcoming counts."""
    total, by_type, by_priority, by_source = _empty_counts()
    per_dimension = {"type": by_type, "priority": by_priority, "source": by_source}
    no_due, durations = 0, {"completion": (0, 0.0), "response": (0, 0.0)}
    for row in rows:
        dimension, value, n = row["dimension"], row["value"], int(row["n"])
        if dimension == "status":
            total[_STATUS_KEYS[value]] += n
        elif dimension in per_dimension:
            counts = per_dimension[dimension]
            counts[value] = counts.get(value, 0) + n
        elif dimension == "no_due":
            no_due += n
        elif dimension in durations:
            durations[dimension] = (n, float(row["millis"] or 0))
    due_from = dict.fromkeys(("now", "today", "tomorrow", "week_end", "month", "month_end"), 0)
    for row in ahead:
        for name in due_from:
            due_from[name] += int(row[name] or 0)
    for row in woken_rows:
        n = int(row["n"])
        total["snoozed"] -= n
        total["pending"] += n
        for dimension, counts in per_dimension.items():
            counts[row[dimension]] = counts.get(row[dimension], 0) + n
        no_due += int(row["no_due"])
        for name in due_from:
            due_from[name] += int(row[name] or 0)
    with_due = total["pending"] + total["inProgress"] - no_due

    def hours(dimension: str) -> float | None:
        n, millis = durations[dimension]
        return millis / n / _MILLIS_PER_HOUR if n else None

    return _finish(
        total,
        by_type,
        by_priority,
        by_source,
        {
            "overdue": with_due - due_from["now"],
            "today": due_from["today"] - due_from["tomorrow"],
            "thisWeek": due_from["today"] - due_from["week_end"],
            "thisMonth": due_from["month"] - due_from["month_end"],
            "noDueDate": no_due,
        },
        hours("completion"),
        hours("response"),
    )


# --- by a scan (windows, and the reference the counters are checked against) --------------------


async def scan_action_stats(
    engine: AsyncEngine, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
) -> ActionStats:
    """Action aggregates in scope by scanning the actions (created in the window): two
    statements."""
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
    total, by_type, by_priority, by_source = _empty_counts()
    for status, type_, priority, source_, n in combos:
        total[_STATUS_KEYS[status]] += int(n)
        if status in _OPEN_VALUES:
            by_type[type_] = by_type.get(type_, 0) + int(n)
            by_priority[priority] = by_priority.get(priority, 0) + int(n)
            by_source[source_] = by_source.get(source_, 0) + int(n)
    return _finish(
        total,
        by_type,
        by_priority,
        by_source,
        {
            "overdue": int(times["overdue"]),
            "today": int(times["today"]),
            "thisWeek": int(times["week"]),
            "thisMonth": int(times["month"]),
            "noDueDate": int(times["no_date"]),
        },
        times["completion_hours"],
        times["response_hours"],
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

"""The time-dependent part of customer statistics: periods in UTC days and one statement of
index range counts (``docs/statistics.md``).

The counters (``adapters/sql/counters.py``) answer the whole UTC days of "closed this
month/year" and "active in the last 30 days"; :func:`times_statement` counts the rest — the
parts of the periods that are not whole UTC days, and "new this month" — with the instants
bound by name (:func:`times_values`), so that :func:`times_for` builds it once per scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, func, select, text

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.counters import CONTACT_DAY, assignee_reach, customer_counters
from customers_hub.adapters.sql.read_scope import customer_where
from customers_hub.application.queries import StatsWindow
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.enums import Stage
from customers_hub.domain.inbox import local_midnight, month_bounds

__all__ = [
    "ACTIVE_CONTACT_DAYS",
    "CLOSED_STAGES",
    "partial_days",
    "times_for",
    "times_statement",
    "times_values",
    "whole_days",
    "year_bounds",
]

ACTIVE_CONTACT_DAYS: Final = 30
"""A customer contacted within this many days counts as active."""

CLOSED_STAGES: Final = (Stage.CLOSING.value, Stage.POST_SALE.value)
"""The stages a customer has closed in."""


def year_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local calendar year of ``now`` in ``tz``, as instants ``[start, end)``."""
    year = now.astimezone(tz).year
    return local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)


def partial_days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of ``[start, end)`` that do not cover a whole UTC day (the closes counted per
    UTC day answer the whole days; a local month starts and ends within a UTC day)."""
    first = _utc_midnight(start, up=True)
    last = _utc_midnight(end, up=False)
    if first >= last:
        return [(start, end)]
    return [(a, b) for a, b in ((start, first), (last, end)) if a < b]


def _utc_midnight(moment: datetime, *, up: bool) -> datetime:
    """The UTC midnight at or after (``up``) or at or before ``moment``."""
    utc = moment.astimezone(UTC)
    floor = datetime(utc.year, utc.month, utc.day, tzinfo=UTC)
    return floor + timedelta(days=1) if up and floor < utc else floor


def whole_days(period: tuple[datetime, datetime]) -> tuple[str, str]:
    """The whole UTC days within ``period`` as ``[first, end)`` of ``YYYY-MM-DD`` dates, which
    compare as strings (hundreds of days per call at a million: no date parsing per day)."""
    first = _utc_midnight(period[0], up=True)
    end = _utc_midnight(period[1], up=False)
    return first.date().isoformat(), end.date().isoformat()


@lru_cache(maxsize=256)
def times_for(scope: ScopeFilter, partial: tuple[str, ...]) -> Any:
    """Customer statistics' :func:`times_statement` for ``scope`` and the names of the
    ``partial`` windows, built once (building it took ~4 ms a call; the instants are bound at
    execution, :func:`times_values`)."""
    where = customer_where(scope, (), restricted=True)
    return times_statement(scope, where, partial, contact_days=True)


def times_values(
    window: StatsWindow, partial: Mapping[str, tuple[datetime, datetime]]
) -> dict[str, object]:
    """The instants :func:`times_statement` binds by name."""
    month = month_bounds(window.now, window.tz)
    since = window.now - timedelta(days=ACTIVE_CONTACT_DAYS)
    first_whole = _utc_midnight(since, up=True)
    values: dict[str, object] = {
        "since": since,
        "whole_days": first_whole,
        "first_day": first_whole.date().isoformat(),
        "month_start": month[0],
        "month_end": month[1],
    }
    for key, (start, end) in partial.items():
        values[f"{key}_start"], values[f"{key}_end"] = start, end
    return values


def times_statement(
    scope: ScopeFilter,
    where: Sequence[ColumnElement[bool]],
    partial: Iterable[str],
    *,
    contact_days: bool = False,
) -> Any:
    """One statement of index range counts over live customers: contacted in the last 30 days
    (ix_customers_org_contact_live; with ``contact_days``, only until the end of the window's
    first UTC day, plus the ``contact_day`` counter rows of the whole days after it), created
    this month (ix_customers_org_created_live), and the first closes within each ``partial``
    window (ix_stage_history_org_to). Execute it with :func:`times_values`."""
    c, h = t.customers.c, t.stage_history.c
    contacted = [c.last_contact_at >= bindparam("since")]
    if contact_days:
        contacted.append(c.last_contact_at < bindparam("whole_days"))
    active: Any = select(func.count()).where(*where, *contacted).scalar_subquery()
    if contact_days:
        # ~86,000 range entries at a million customers (a visibility probe each) against
        # at most 31 days x assignees counter rows (ix_customer_counters_dimension).
        k = customer_counters.c
        active = active + (
            select(func.coalesce(func.sum(k.n), 0))
            .where(
                k.organization_id == scope.organization_id,
                k.dimension == CONTACT_DAY,
                k.value >= bindparam("first_day"),
                assignee_reach(scope, k.assignee),
            )
            .scalar_subquery()
        )
    new_month = (
        select(func.count())
        .where(
            *where,
            c.created_at >= bindparam("month_start"),
            c.created_at < bindparam("month_end"),
        )
        .scalar_subquery()
    )
    earlier = t.stage_history.alias("earlier")
    e = earlier.c

    def first_closes_within(key: str) -> Any:
        return (
            select(func.count(h.customer_id.distinct()))
            .select_from(t.stage_history.join(t.customers, c.id == h.customer_id))
            .where(
                h.organization_id == scope.organization_id,
                h.to_stage.in_(CLOSED_STAGES),
                h.changed_at >= bindparam(f"{key}_start"),
                h.changed_at < bindparam(f"{key}_end"),
                *where,
                ~select(e.id)
                .where(
                    e.customer_id == h.customer_id,
                    text("earlier." + t.CLOSED_STAGES_SQL),
                    e.changed_at < h.changed_at,
                )
                .exists(),
            )
            .scalar_subquery()
        )

    return select(
        active.label("active"),
        new_month.label("new_month"),
        *(first_closes_within(key).label(key) for key in partial),
    )

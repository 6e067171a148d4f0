"""The statistics counters and the indexes the lists' counts and the statistics read
(migrations 0016–0020)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Numeric,
    String,
    Table,
    text,
)

from customers_hub.adapters.sql.tables.actions import customer_actions
from customers_hub.adapters.sql.tables.base import (
    metadata,
    org_column,
    partial_index,
)
from customers_hub.adapters.sql.tables.customers import customers, stage_history

# --- action counters (migration 0017) ---

OPEN_ACTIONS = "status IN ('in_progress', 'pending')"
"""Stored statuses of open actions (``domain.inbox.OPEN_STATUSES`` without the snoozes that
woke up), as the counters' triggers state it."""

SNOOZED_ACTIONS = "status = 'snoozed'"
"""Stored status of snoozed actions."""

# --- the action statistics' range counts (migration 0019) ---

LIVE_OPEN_ACTIONS = f"{OPEN_ACTIONS} AND customer_live"
"""Open actions of live customers, literally: the predicate of the partial indexes below (a
query must state it as is to use them)."""

LIVE_SNOOZED_ACTIONS = f"{SNOOZED_ACTIONS} AND customer_live"
"""Snoozed actions of live customers, literally (the partial indexes below)."""

ASSIGNED_ELSEWHERE: dict[str, str] = {
    "postgresql": "assigned_to IS DISTINCT FROM customer_assignee_id",
    "sqlite": "assigned_to IS NOT customer_assignee_id",
}
"""Actions whose assignee is not their customer's (few), literally per dialect: the extra
predicate of the customer-assignee indexes below."""


def _where(predicate: str, elsewhere: bool = False) -> dict[str, str]:
    """``predicate`` per dialect, with :data:`ASSIGNED_ELSEWHERE` when ``elsewhere``."""
    return {
        dialect: f"{predicate} AND {extra}" if elsewhere else predicate
        for dialect, extra in ASSIGNED_ELSEWHERE.items()
    }


_a = customer_actions.c
_SNOOZE_COLUMNS = (_a.snoozed_until, _a.type, _a.priority, _a.source, _a.due_date)
# Each range count of the action statistics reads one of these alone (index-only): the whole
# organization's, an assignee's (the action's), and a customer assignee's over the actions
# assigned to someone else than their customer (the others are in the assignee's range
# already), with the action's assignee to leave out those the assignee's range counted. Open
# actions by due date (the due-date buckets), snoozed ones by snooze end with what the
# statistics read of those that woke up.
for _name, _columns, _predicate in (
    ("ix_actions_org_live_open_due", (_a.due_date,), _where(LIVE_OPEN_ACTIONS)),
    (
        "ix_actions_org_assigned_open_due",
        (_a.assigned_to, _a.due_date),
        _where(LIVE_OPEN_ACTIONS),
    ),
    (
        "ix_actions_org_customer_assignee_open_due",
        (_a.customer_assignee_id, _a.due_date, _a.assigned_to),
        _where(LIVE_OPEN_ACTIONS, elsewhere=True),
    ),
    ("ix_actions_org_live_snoozed", _SNOOZE_COLUMNS, _where(LIVE_SNOOZED_ACTIONS)),
    (
        "ix_actions_org_assigned_snoozed",
        (_a.assigned_to, *_SNOOZE_COLUMNS),
        _where(LIVE_SNOOZED_ACTIONS),
    ),
    (
        "ix_actions_org_customer_assignee_snoozed",
        (_a.customer_assignee_id, _a.snoozed_until, _a.assigned_to, *_SNOOZE_COLUMNS[1:]),
        _where(LIVE_SNOOZED_ACTIONS, elsewhere=True),
    ),
):
    Index(
        _name,
        _a.organization_id,
        *_columns,
        sqlite_where=text(_predicate["sqlite"]),
        postgresql_where=text(_predicate["postgresql"]),
    )

action_counters = Table(
    "action_counters",
    metadata,
    # Append-only delta rows (adapters/sql/action_counters.py); key columns are never NULL.
    org_column(),
    Column("action_assignee", String(50), nullable=False),  # "" when unassigned
    Column("customer_assignee", String(50), nullable=False),  # the customer's; "" when none
    # status (stored), type/priority/source/no_due (open stored statuses), completion and
    # response (n = actions with one, millis = the sum of their durations).
    Column("dimension", String(20), nullable=False),
    Column("value", String(50), nullable=False),
    Column("n", BigInteger, nullable=False, info={"sum": True}),
    Column("millis", Numeric(24, 3), nullable=False, info={"sum": True}),
    Index(
        "ix_action_counters_key",
        "organization_id",
        "action_assignee",
        "customer_assignee",
        "dimension",
        "value",
    ),
)


# --- listed customers (migration 0018: the list's count) ---

LISTED_CUSTOMERS = "deleted_at IS NULL AND restricted_until IS NULL"
"""Customers a list shows (``read_scope.live`` and ``read_scope.listed``), literally: the
predicate of the partial index below, which a query must imply to use it."""

# The capped count of a list page (an agent's, a team's or the organization's) is an index-only
# range of this index; without it ``restricted_until IS NULL`` sent the count to the heap.
partial_index(
    "ix_customers_org_assigned_listed",
    customers.c.organization_id,
    customers.c.assigned_employee_id,
    where=LISTED_CUSTOMERS,
)


# --- customer counters (migration 0016) ---

CLOSED_STAGES_SQL = "to_stage IN ('closing', 'post_sale')"
"""A stage-history entry that closes a customer, literally (the partial index below)."""

customer_counters = Table(
    "customer_counters",
    metadata,
    # Append-only delta rows (adapters/sql/counters.py, docs/statistics.md); keys never NULL.
    org_column(),
    Column("assignee", String(50), nullable=False),  # "" when unassigned
    Column("dimension", String(20), nullable=False),
    Column("value", String(100), nullable=False),  # "" when the customer has none
    Column("n", BigInteger, nullable=False, info={"sum": True}),
    Column("amount", Numeric(20, 2), nullable=False, info={"sum": True}),
    Index("ix_customer_counters_key", "organization_id", "assignee", "dimension", "value"),
    # A dimension's rows of the whole organization without reading the others' (migration
    # 0020: the contact days of the last 30 days among years of them), index-only on PostgreSQL.
    Index(
        "ix_customer_counters_dimension",
        "organization_id",
        "dimension",
        "value",
        "assignee",
        postgresql_include=["n", "amount"],
    ),
)

# Each customer's first close, an index seek per customer (the counters' triggers).
partial_index(
    "ix_stage_history_closes",
    stage_history.c.customer_id,
    stage_history.c.changed_at,
    where=CLOSED_STAGES_SQL,
)
# Live customers contacted / created in a window, index-only with the scope's assignee.
partial_index(
    "ix_customers_org_contact_live",
    customers.c.organization_id,
    customers.c.last_contact_at,
    customers.c.assigned_employee_id,
    where="deleted_at IS NULL",
)
partial_index(
    "ix_customers_org_created_live",
    customers.c.organization_id,
    customers.c.created_at,
    customers.c.assigned_employee_id,
    where="deleted_at IS NULL",
)

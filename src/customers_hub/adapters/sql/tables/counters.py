"""The statistics counters and the indexes the lists' counts and the statistics read
(migrations 0016–0018)."""

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
from customers_hub.adapters.sql.tables.base import metadata
from customers_hub.adapters.sql.tables.customers import customers, stage_history

# --- action counters (migration 0017) ---

OPEN_ACTIONS = "status IN ('in_progress', 'pending')"
"""Stored statuses of open actions (``domain.inbox.OPEN_STATUSES`` without the snoozes that
woke up). A query must state it literally to use the partial index below."""

# Open actions by due date: the due-date buckets of the action statistics (due from the start
# of this month on) are one range seek of it.
Index(
    "ix_actions_org_open_due",
    customer_actions.c.organization_id,
    customer_actions.c.due_date,
    sqlite_where=text(OPEN_ACTIONS),
    postgresql_where=text(OPEN_ACTIONS),
)

SNOOZED_ACTIONS = "status = 'snoozed'"
"""Stored status of snoozed actions, literal for the partial index below."""

# Snoozed actions by snooze end, with what the statistics read of the ones that woke up
# (effective status pending): counted from the index alone.
Index(
    "ix_actions_org_snoozed",
    customer_actions.c.organization_id,
    customer_actions.c.snoozed_until,
    customer_actions.c.type,
    customer_actions.c.priority,
    customer_actions.c.source,
    customer_actions.c.due_date,
    sqlite_where=text(SNOOZED_ACTIONS),
    postgresql_where=text(SNOOZED_ACTIONS),
)

action_counters = Table(
    "action_counters",
    metadata,
    # Append-only delta rows (adapters/sql/action_counters.py); key columns are never NULL.
    Column("organization_id", String(50), nullable=False),
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
Index(
    "ix_customers_org_assigned_listed",
    customers.c.organization_id,
    customers.c.assigned_employee_id,
    sqlite_where=text(LISTED_CUSTOMERS),
    postgresql_where=text(LISTED_CUSTOMERS),
)


# --- customer counters (migration 0016) ---

CLOSED_STAGES_SQL = "to_stage IN ('closing', 'post_sale')"
"""A stage-history entry that closes a customer, literally (the partial index below)."""

customer_counters = Table(
    "customer_counters",
    metadata,
    # Append-only delta rows (adapters/sql/counters.py, docs/statistics.md); keys never NULL.
    Column("organization_id", String(50), nullable=False),
    Column("assignee", String(50), nullable=False),  # "" when unassigned
    Column("dimension", String(20), nullable=False),
    Column("value", String(100), nullable=False),  # "" when the customer has none
    Column("n", BigInteger, nullable=False, info={"sum": True}),
    Column("amount", Numeric(20, 2), nullable=False, info={"sum": True}),
    Index("ix_customer_counters_key", "organization_id", "assignee", "dimension", "value"),
)

# Each customer's first close, an index seek per customer (the counters' triggers).
Index(
    "ix_stage_history_closes",
    stage_history.c.customer_id,
    stage_history.c.changed_at,
    sqlite_where=text(CLOSED_STAGES_SQL),
    postgresql_where=text(CLOSED_STAGES_SQL),
)
# Live customers contacted / created in a window, index-only with the scope's assignee.
Index(
    "ix_customers_org_contact_live",
    customers.c.organization_id,
    customers.c.last_contact_at,
    customers.c.assigned_employee_id,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)
Index(
    "ix_customers_org_created_live",
    customers.c.organization_id,
    customers.c.created_at,
    customers.c.assigned_employee_id,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)

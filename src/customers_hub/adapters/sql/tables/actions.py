"""Customer actions (the inbox) and their notes."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    SmallInteger,
    String,
    Text,
    true,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    UtcDateTime,
    customer_table,
    org_table,
    parent_column,
    timestamp_columns,
    version_column,
)

customer_actions = customer_table(
    "customer_actions",
    Column("customer_name", String(255), nullable=False),
    Column("type", String(50), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("search_text", Text, nullable=False),  # normalized customer name + title + description
    Column("priority", String(20), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(50), nullable=False),
    Column("due_date", UtcDateTime),
    Column("snoozed_until", UtcDateTime),
    Column("assigned_to", String(50)),
    Column("assigned_to_name", String(255)),
    *timestamp_columns(),
    Column("completed_at", UtcDateTime),
    # The first note's time, kept by a trigger on ``action_notes`` (migration 0017), never by
    # the mappers: the first response (first note or completion) is then a function of the
    # action row alone, which the action counters' triggers need.
    Column("first_note_at", UtcDateTime),
    # The customer's assignee and liveness, kept by triggers (migration 0019), never by the
    # mappers: the action statistics' range counts read them from partial indexes alone.
    Column("customer_assignee_id", String(50)),
    Column("customer_live", Boolean, nullable=False, server_default=true()),
    Column("completed_by", String(50)),
    Column("outcome", Text),
    Column("dismiss_reason", Text),
    Column("metadata", Json, nullable=False),
    version_column(),
    # A customer's actions, oldest first, in index order (0005 added created_at, id).
    Index("ix_actions_org_customer", "organization_id", "customer_id", "created_at", "id"),
    # The foreign key's own index: deleting a customer finds its actions (ON DELETE CASCADE).
    Index("ix_actions_customer", "customer_id"),
    Index(
        "ix_actions_org_status_priority_due",
        "organization_id",
        "status",
        "priority_rank",
        "due_date",
    ),
    Index("ix_actions_org_type", "organization_id", "type"),
    Index("ix_actions_org_assigned_status", "organization_id", "assigned_to", "status"),
    Index("ix_actions_org_due", "organization_id", "due_date", "id"),
    Index("ix_actions_org_created", "organization_id", "created_at", "id"),
    Index("ix_actions_org_updated", "organization_id", "updated_at", "id"),
    Index("ix_actions_org_priority", "organization_id", "priority_rank", "id"),
    # The wake-up job scans snoozed actions by time across organizations.
    Index("ix_actions_status_snoozed", "status", "snoozed_until"),
)

action_notes = org_table(
    "action_notes",
    parent_column("action_id", "customer_actions"),
    Column("content", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_by_id", String(50), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_action_notes_action_created", "action_id", "created_at", "id"),
)

"""Customer actions (the inbox) and their notes."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    UtcDateTime,
    id_column,
    metadata,
    org_column,
)

customer_actions = Table(
    "customer_actions",
    metadata,
    id_column(primary_key=True),
    org_column(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
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
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    # The first note's time, kept by a trigger on ``action_notes`` (migration 0017), never by
    # the mappers: the first response (first note or completion) is then a function of the
    # action row alone, which the action counters' triggers need.
    Column("first_note_at", UtcDateTime),
    Column("completed_by", String(50)),
    Column("outcome", Text),
    Column("dismiss_reason", Text),
    Column("metadata", Json, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
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

action_notes = Table(
    "action_notes",
    metadata,
    id_column(primary_key=True),
    org_column(),
    Column(
        "action_id",
        String(50),
        ForeignKey("customer_actions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("content", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_by_id", String(50), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_action_notes_action_created", "action_id", "created_at", "id"),
)

"""Assignment rules, their employees and the load-balancing index (migration 0012)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    metadata,
    org_column,
    org_table,
    parent_column,
    partial_index,
    timestamp_columns,
    version_column,
)
from customers_hub.adapters.sql.tables.customers import customers

# --- assignment rules (migration 0012) ---

assignment_rules = org_table(
    "assignment_rules",
    Column("name", String(255), nullable=False),
    Column("strategy", String(20), nullable=False),
    # ``{sources, cities, propertyTypes}``: read with the rule, never queried inside.
    Column("match", Json, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    # The round-robin pointer: moved under the row's lock in the creating transaction.
    Column("last_employee_id", String(50)),
    version_column(),
    *timestamp_columns(),
    Column("created_by", String(50), nullable=False),
    # Every new customer reads the active rules in checking order: one range of this index.
    Index(
        "ix_assignment_rules_org_active_order",
        "organization_id",
        "active",
        "priority",
        "created_at",
        "id",
    ),
    # The list, in checking order.
    Index("ix_assignment_rules_org_order", "organization_id", "priority", "created_at", "id"),
)

assignment_rule_employees = Table(
    "assignment_rule_employees",
    metadata,
    # A rule's employees in round-robin order (its primary key serves the foreign key).
    parent_column("rule_id", "assignment_rules", primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    org_column(),
    Column("employee_id", String(50), nullable=False),
    Index("ix_assignment_rule_employees_org_employee", "organization_id", "employee_id"),
)

# Load balancing counts each employee's live customers in new_lead … negotiation: one grouped
# range per employee of this index (index-only on PostgreSQL).
partial_index(
    "ix_customers_org_assigned_stage_live",
    customers.c.organization_id,
    customers.c.assigned_employee_id,
    customers.c.stage,
    where="deleted_at IS NULL",
)

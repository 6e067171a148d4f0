"""Assignment rules (issue 12, rules §10).

- ``assignment_rules``: an organization's rules (name, strategy, ``match`` as JSON, priority,
  active, the round-robin pointer ``last_employee_id``, version, who and when); the active rules
  are read in checking order by ``ix_assignment_rules_org_active_order`` for every new customer.
- ``assignment_rule_employees``: each rule's employees in round-robin order (``position``),
  cascading with the rule.
- ``ix_customers_org_assigned_stage_live``: live customers by organization, assignee and stage,
  which the load-balanced strategy counts (one grouped range per employee).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    """Create the two tables and the load index of customers."""
    op.create_table(
        "assignment_rules",
        ddl.id_column(),
        ddl.org_column(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("match", ddl.JSON, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        ddl.id_column("last_employee_id", nullable=True),
        ddl.version_column(),
        *ddl.timestamp_columns(),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        ddl.primary_key("assignment_rules"),
    )
    op.create_index(
        "ix_assignment_rules_org_active_order",
        "assignment_rules",
        ["organization_id", "active", "priority", "created_at", "id"],
    )
    op.create_index(
        "ix_assignment_rules_org_order",
        "assignment_rules",
        ["organization_id", "priority", "created_at", "id"],
    )
    op.create_table(
        "assignment_rule_employees",
        ddl.id_column("rule_id"),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        ddl.org_column(),
        ddl.id_column("employee_id"),
        ddl.cascade_fk("assignment_rule_employees", "rule_id", "assignment_rules"),
        ddl.primary_key("assignment_rule_employees", "rule_id", "position"),
    )
    op.create_index(
        "ix_assignment_rule_employees_org_employee",
        "assignment_rule_employees",
        ["organization_id", "employee_id"],
    )
    op.create_index(
        "ix_customers_org_assigned_stage_live",
        "customers",
        ["organization_id", "assigned_employee_id", "stage"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_customers_org_assigned_stage_live", table_name="customers")
    op.drop_index(
        "ix_assignment_rule_employees_org_employee", table_name="assignment_rule_employees"
    )
    op.drop_table("assignment_rule_employees")
    op.drop_index("ix_assignment_rules_org_order", table_name="assignment_rules")
    op.drop_index("ix_assignment_rules_org_active_order", table_name="assignment_rules")
    op.drop_table("assignment_rules")

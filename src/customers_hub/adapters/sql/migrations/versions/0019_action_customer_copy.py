"""Each action carries its customer's assignee and liveness (issue 9, Deliver 1).

The time-dependent action statistics (snoozes that woke up, due-date buckets) are index range
counts. They needed each action's customer: to leave out soft-deleted customers' actions (the
whole organization subtracted them in a second pass) and, for TEAM/OWN scopes, for the
customer's assignee (a join per counted action: 0.6–1 s at a million customers). Now
``customer_actions`` holds a copy of both, so every range count reads one partial index alone:

* ``customer_assignee_id`` — the customer's ``assigned_employee_id``;
* ``customer_live`` — the customer is not soft-deleted.

Triggers keep the copy in the writer's transaction, whatever the write path:

* an action inserted, or moved to another customer (merges), takes its customer's values. On
  PostgreSQL a ``BEFORE`` row trigger sets them on the row being written (one primary-key probe
  per row, no second write of the row); it reads the customer ``FOR SHARE``, so it waits for an
  uncommitted change of that customer and then reads its new state, and a later change of the
  customer waits for the action's transaction (and then sees the action). SQLite (one writer):
  an ``AFTER`` row trigger updates the row.
* a customer whose assignee or soft deletion changes updates its actions' copy (PostgreSQL: one
  statement per statement through the transition tables).

The partial indexes over live open and snoozed actions replace 0017's
``ix_actions_org_open_due`` and ``ix_actions_org_snoozed`` (the whole organization), and four
new ones serve TEAM/OWN (by the action's assignee, by the customer's with the action's assignee
as a column so that "in reach through the customer only" is index-only too). The copy is filled
set-based at the end of :func:`upgrade`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('in_progress', 'pending') AND customer_live"
_SNOOZED = "status = 'snoozed' AND customer_live"
_SNOOZED_COLUMNS = ["snoozed_until", "type", "priority", "source", "due_date"]
# The actions assigned to someone else than their customer (few), per dialect.
_ELSEWHERE = {
    "postgresql": "assigned_to IS DISTINCT FROM customer_assignee_id",
    "sqlite": "assigned_to IS NOT customer_assignee_id",
}

# name → (columns, predicate, only actions assigned elsewhere); adapters/sql/tables/counters.py.
_INDEXES: dict[str, tuple[list[str], str, bool]] = {
    "ix_actions_org_live_open_due": (["organization_id", "due_date"], _OPEN, False),
    "ix_actions_org_assigned_open_due": (
        ["organization_id", "assigned_to", "due_date"],
        _OPEN,
        False,
    ),
    "ix_actions_org_customer_assignee_open_due": (
        ["organization_id", "customer_assignee_id", "due_date", "assigned_to"],
        _OPEN,
        True,
    ),
    "ix_actions_org_live_snoozed": (["organization_id", *_SNOOZED_COLUMNS], _SNOOZED, False),
    "ix_actions_org_assigned_snoozed": (
        ["organization_id", "assigned_to", *_SNOOZED_COLUMNS],
        _SNOOZED,
        False,
    ),
    "ix_actions_org_customer_assignee_snoozed": (
        [
            "organization_id",
            "customer_assignee_id",
            "snoozed_until",
            "assigned_to",
            *_SNOOZED_COLUMNS[1:],
        ],
        _SNOOZED,
        True,
    ),
}

_PREFIX = "action_customer_copy"
_FILL = (
    "SELECT c.assigned_employee_id, c.deleted_at IS NULL FROM customers c WHERE c.id = {customer}"
)


def _postgresql_statements() -> list[str]:
    return [
        # An action written with a customer: its customer's values, read FOR SHARE (see above).
        # No customer: the row is left as written, for the foreign key to refuse it.
        f"CREATE FUNCTION {_PREFIX}_action() RETURNS trigger LANGUAGE plpgsql AS $$"
        " DECLARE assignee varchar; alive boolean; BEGIN"
        f" {_FILL.format(customer='NEW.customer_id')} FOR SHARE INTO assignee, alive;"
        " IF FOUND THEN NEW.customer_assignee_id := assignee; NEW.customer_live := alive;"
        " END IF; RETURN NEW; END $$",
        f"CREATE TRIGGER {_PREFIX}_action_ins BEFORE INSERT ON customer_actions"
        f" FOR EACH ROW EXECUTE FUNCTION {_PREFIX}_action()",
        f"CREATE TRIGGER {_PREFIX}_action_upd BEFORE UPDATE OF customer_id ON customer_actions"
        " FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)"
        f" EXECUTE FUNCTION {_PREFIX}_action()",
        # Customers whose assignee or liveness changed: their actions' copy, one statement.
        f"CREATE FUNCTION {_PREFIX}_customers() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE customer_actions a"
        " SET customer_assignee_id = n.assigned_employee_id,"
        " customer_live = (n.deleted_at IS NULL)"
        " FROM old_rows o JOIN new_rows n ON n.id = o.id"
        " WHERE a.customer_id = n.id"
        " AND ((o.deleted_at IS NULL) <> (n.deleted_at IS NULL)"
        " OR o.assigned_employee_id IS DISTINCT FROM n.assigned_employee_id)"
        " AND (a.customer_assignee_id IS DISTINCT FROM n.assigned_employee_id"
        " OR a.customer_live <> (n.deleted_at IS NULL));"
        " RETURN NULL; END $$",
        f"CREATE TRIGGER {_PREFIX}_customers_upd AFTER UPDATE ON customers"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {_PREFIX}_customers()",
    ]


def _sqlite_statements() -> list[str]:
    fill = (
        "UPDATE customer_actions SET (customer_assignee_id, customer_live) = ("
        f"{_FILL.format(customer='NEW.customer_id')}) WHERE id = NEW.id"
        # No customer: left as written, for the foreign key to refuse it.
        " AND EXISTS (SELECT 1 FROM customers c WHERE c.id = NEW.customer_id)"
    )
    return [
        f"CREATE TRIGGER {_PREFIX}_action_ins AFTER INSERT ON customer_actions"
        f" FOR EACH ROW BEGIN {fill}; END",
        f"CREATE TRIGGER {_PREFIX}_action_upd AFTER UPDATE OF customer_id ON customer_actions"
        f" FOR EACH ROW WHEN OLD.customer_id IS NOT NEW.customer_id BEGIN {fill}; END",
        f"CREATE TRIGGER {_PREFIX}_customers_upd"
        " AFTER UPDATE OF assigned_employee_id, deleted_at ON customers FOR EACH ROW"
        " WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)"
        " OR OLD.assigned_employee_id IS NOT NEW.assigned_employee_id"
        " BEGIN UPDATE customer_actions"
        " SET customer_assignee_id = NEW.assigned_employee_id,"
        " customer_live = (NEW.deleted_at IS NULL)"
        " WHERE customer_id = NEW.id; END",
    ]


_TRIGGERS = {
    "action_ins": "customer_actions",
    "action_upd": "customer_actions",
    "customers_upd": "customers",
}


def upgrade() -> None:
    """Add the two columns and their triggers, fill them, then swap the partial indexes."""
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("customer_actions", sa.Column("customer_assignee_id", sa.String(50)))
    op.add_column(
        "customer_actions",
        sa.Column("customer_live", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    for statement in _postgresql_statements() if postgres else _sqlite_statements():
        op.execute(statement)
    # Backfill after the triggers exist, in the migration's transaction. Only the rows whose
    # copy differs from the defaults are written (the actions of assigned or deleted
    # customers). The counters' update trigger (0017) is off meanwhile on PostgreSQL: no
    # counted column changes, and its transition tables would hold every written row.
    if postgres:
        op.execute("ALTER TABLE customer_actions DISABLE TRIGGER action_counters_actions_upd")
        op.execute(
            "UPDATE customer_actions a SET customer_assignee_id = c.assigned_employee_id,"
            " customer_live = (c.deleted_at IS NULL) FROM customers c"
            " WHERE c.id = a.customer_id"
            " AND (c.assigned_employee_id IS NOT NULL OR c.deleted_at IS NOT NULL)"
        )
        op.execute("ALTER TABLE customer_actions ENABLE TRIGGER action_counters_actions_upd")
    else:
        op.execute(
            "UPDATE customer_actions SET (customer_assignee_id, customer_live) = ("
            f"{_FILL.format(customer='customer_actions.customer_id')})"
            " WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = customer_actions.customer_id"
            " AND (c.assigned_employee_id IS NOT NULL OR c.deleted_at IS NOT NULL))"
        )
    op.drop_index("ix_actions_org_open_due", table_name="customer_actions")
    op.drop_index("ix_actions_org_snoozed", table_name="customer_actions")
    for name, (columns, predicate, elsewhere) in _INDEXES.items():
        where = {
            dialect: f"{predicate} AND {extra}" if elsewhere else predicate
            for dialect, extra in _ELSEWHERE.items()
        }
        op.create_index(
            name,
            "customer_actions",
            columns,
            sqlite_where=sa.text(where["sqlite"]),
            postgresql_where=sa.text(where["postgresql"]),
        )
    if postgres:
        op.execute("ANALYZE customer_actions")  # statistics of the new columns, at once


def downgrade() -> None:
    """Restore 0017's indexes; drop the new ones, the triggers and the columns."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in _INDEXES:
        op.drop_index(name, table_name="customer_actions")
    for name, table in _TRIGGERS.items():
        on = f" ON {table}" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS {_PREFIX}_{name}{on}")
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS {_PREFIX}_action()")
        op.execute(f"DROP FUNCTION IF EXISTS {_PREFIX}_customers()")
    op.create_index(
        "ix_actions_org_open_due",
        "customer_actions",
        ["organization_id", "due_date"],
        sqlite_where=sa.text("status IN ('in_progress', 'pending')"),
        postgresql_where=sa.text("status IN ('in_progress', 'pending')"),
    )
    op.create_index(
        "ix_actions_org_snoozed",
        "customer_actions",
        ["organization_id", *_SNOOZED_COLUMNS],
        sqlite_where=sa.text("status = 'snoozed'"),
        postgresql_where=sa.text("status = 'snoozed'"),
    )
    # Plain ALTER TABLE on both (SQLite >= 3.35): a batch copy of the table would trip on
    # 0017's triggers, which name it.
    for column in ("customer_live", "customer_assignee_id"):
        op.execute(f"ALTER TABLE customer_actions DROP COLUMN {column}")

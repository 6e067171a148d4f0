"""Action counters (issue 9, Deliver 1): action statistics read summary rows.

``action_counters`` holds append-only delta rows keyed by (organization, action's assignee,
customer's assignee, dimension, value) (``adapters/sql/action_counters.py``,
``docs/statistics.md``). An action counts while its customer is live (not soft-deleted), as
the statistics' scan does. Triggers keep the counters in the writer's transaction, whatever
the write path:

* on ``customer_actions``: ``-1`` for a row's old state, ``+1`` for its new one, per
  dimension, netted per key (an update that moves no counted column writes nothing);
* on ``customers``: a change of assignee or a soft deletion/restore moves the counts of the
  customer's actions; ``BEFORE DELETE`` removes the customer's actions first, so their counts
  leave while the customer row still tells whose they were (a cascade would run too late);
* on ``action_notes``: a note earlier than the action's ``first_note_at`` (new column) moves
  it, which the action trigger turns into the response-time delta.

PostgreSQL: statement-level triggers with transition tables (one grouped ``INSERT`` per
statement, so a bulk write stays one set-based statement); SQLite: row-level triggers. The
new column and the counters are filled from the current rows at the end of :func:`upgrade`.
Also adds ``ix_actions_org_open_due`` (open actions by due date) and ``ix_actions_org_snoozed``
(snoozed actions by snooze end, covering) for the time-dependent counts.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "action_counters"
_KEY = "organization_id, action_assignee, customer_assignee, dimension, value"
_OPEN = "('in_progress', 'pending')"

# The action columns its counts depend on (SQLite's UPDATE OF list and WHEN test).
_COUNTED = (
    "organization_id",
    "customer_id",
    "assigned_to",
    "status",
    "type",
    "priority",
    "source",
    "due_date",
    "created_at",
    "completed_at",
    "first_note_at",
)


def _millis(postgres: bool, start: str, end: str) -> str:
    """Milliseconds from ``start`` to ``end`` (exact: PostgreSQL keeps the microseconds as
    decimals, SQLite's date functions have millisecond precision)."""
    if postgres:
        return f"((EXTRACT(EPOCH FROM {end}) - EXTRACT(EPOCH FROM {start})) * 1000)"
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000.0)"


def _action_rows(postgres: bool, a: str, c: str, source: str, sign: int) -> list[str]:
    """One SELECT per dimension: the contribution of an action (alias prefix ``a``) of a
    customer (``c``) times ``sign``; ``source`` is the FROM … (and join) clause."""
    live = f"{c}deleted_at IS NULL"
    open_ = f"{live} AND {a}status IN {_OPEN}"
    responded = (
        f"CASE WHEN {a}first_note_at IS NULL THEN {a}completed_at"
        f" WHEN {a}completed_at IS NULL THEN {a}first_note_at"
        f" WHEN {a}first_note_at < {a}completed_at THEN {a}first_note_at"
        f" ELSE {a}completed_at END"
    )
    s = str(sign)
    dims = [
        # dimension, value, millis, condition
        ("status", f"{a}status", "0", live),
        ("type", f"{a}type", "0", open_),
        ("priority", f"{a}priority", "0", open_),
        ("source", f"{a}source", "0", open_),
        ("no_due", "''", "0", f"{open_} AND {a}due_date IS NULL"),
        (
            "completion",
            "''",
            f"{s} * {_millis(postgres, f'{a}created_at', f'{a}completed_at')}",
            f"{live} AND {a}status = 'completed' AND {a}completed_at IS NOT NULL",
        ),
        (
            "response",
            "''",
            f"{s} * {_millis(postgres, f'{a}created_at', responded)}",
            f"{live} AND ({responded}) IS NOT NULL",
        ),
    ]
    return [
        f"SELECT {a}organization_id AS organization_id,"
        f" COALESCE({a}assigned_to, '') AS action_assignee,"
        f" COALESCE({c}assigned_employee_id, '') AS customer_assignee,"
        f" '{name}' AS dimension, {value} AS value, {s} AS n, {millis} AS millis"
        f" {source} AND {condition}"
        for name, value, millis, condition in dims
    ]


def _insert(selects: Sequence[str]) -> str:
    """One INSERT of the selects' contributions netted per key (zero nets are not written)."""
    union = " UNION ALL ".join(selects)
    return (
        f"INSERT INTO {_TABLE} ({_KEY}, n, millis)"
        f" SELECT {_KEY}, SUM(n), SUM(millis) FROM ({union}) AS d GROUP BY {_KEY}"
        " HAVING SUM(n) <> 0 OR SUM(millis) <> 0"
    )


def _changed(old: str, new: str, columns: Sequence[str]) -> str:
    return " OR ".join(f"{old}{col} IS DISTINCT FROM {new}{col}" for col in columns)


def _postgresql_statements() -> list[str]:
    def actions(rows: str, sign: int, other: str = "") -> list[str]:
        # With ``other`` (an update): only the rows whose counted columns changed, found by a
        # hash join of the two transition tables (the others would net to zero).
        moved = (
            f" JOIN {other} x ON x.id = a.id" if other else "",
            f"({_changed('a.', 'x.', _COUNTED)})" if other else "TRUE",
        )
        source = (
            f"FROM {rows} a{moved[0]} JOIN customers c ON c.id = a.customer_id WHERE {moved[1]}"
        )
        return _action_rows(True, "a.", "c.", source, sign)

    moved_customer = (
        "((o.deleted_at IS NULL) <> (n.deleted_at IS NULL)"
        " OR o.assigned_employee_id IS DISTINCT FROM n.assigned_employee_id)"
    )
    customer_moved = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id"
        f" JOIN customer_actions a ON a.customer_id = o.id WHERE {moved_customer}"
    )
    # Races under READ COMMITTED with a writer whose transaction is still open: an action
    # write counts its customer's state as of its snapshot, and a customer change cannot see
    # an action write not committed yet. So an action write that moves a count takes FOR SHARE
    # on its customers first (in id order): it waits for an uncommitted change of the customer
    # (and then, in a new statement, counts the customer's new state), and a later change of
    # the customer waits for it (and then sees the action as written).
    lock_customers = (
        "PERFORM 1 FROM customers WHERE id IN (SELECT a.customer_id {source})"
        " ORDER BY id FOR SHARE; "
    )

    def locked(rows: str, other: str = "") -> str:
        if not other:
            return lock_customers.format(source=f"FROM {rows} a")
        changed = _changed("a.", "x.", _COUNTED)
        return lock_customers.format(
            source=f"FROM {rows} a JOIN {other} x ON x.id = a.id WHERE {changed}"
        )

    bodies = {
        "actions_ins": locked("new_rows") + _insert(actions("new_rows", 1)),
        "actions_upd": locked("new_rows", "old_rows")
        + _insert(
            [
                *actions("old_rows", -1, "new_rows"),
                *actions("new_rows", 1, "old_rows"),
            ]
        ),
        "actions_del": _insert(actions("old_rows", -1)),
        "customers_upd": _insert(
            [
                *_action_rows(True, "a.", "o.", customer_moved, -1),
                *_action_rows(True, "a.", "n.", customer_moved, 1),
            ]
        ),
        # The earliest note of each action, when earlier than the one it had.
        "notes_ins": (
            "UPDATE customer_actions a SET first_note_at = m.first_at"
            " FROM (SELECT action_id, MIN(created_at) AS first_at FROM new_rows"
            " GROUP BY action_id) m"
            " WHERE a.id = m.action_id"
            " AND (a.first_note_at IS NULL OR a.first_note_at > m.first_at)"
        ),
    }
    out = [
        f"CREATE FUNCTION {_TABLE}_{name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {body}; RETURN NULL; END $$"
        for name, body in bodies.items()
    ]
    events = {
        "ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
        "upd": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        "del": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
    }
    tables = {"actions": "customer_actions", "customers": "customers", "notes": "action_notes"}
    for name in bodies:
        prefix, short = name.split("_")
        event, referencing = events[short]
        out.append(
            f"CREATE TRIGGER {_TABLE}_{name} AFTER {event} ON {tables[prefix]} {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {_TABLE}_{name}()"
        )
    out.append(
        f"CREATE FUNCTION {_TABLE}_customers_before_del() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN DELETE FROM customer_actions WHERE customer_id = OLD.id; RETURN OLD; END $$"
    )
    out.append(
        f"CREATE TRIGGER {_TABLE}_customers_before_del BEFORE DELETE ON customers"
        f" FOR EACH ROW EXECUTE FUNCTION {_TABLE}_customers_before_del()"
    )
    return out


def _sqlite_statements() -> list[str]:
    # The trigger's row is NEW/OLD: the other table is the FROM, joined in WHERE.
    def actions(row: str, sign: int) -> list[str]:
        source = f"FROM customers c WHERE c.id = {row}.customer_id"
        return _action_rows(False, f"{row}.", "c.", source, sign)

    def customer(row: str, sign: int) -> list[str]:
        source = f"FROM customer_actions a WHERE a.customer_id = {row}.id"
        return _action_rows(False, "a.", f"{row}.", source, sign)

    action_changed = " OR ".join(f"OLD.{col} IS NOT NEW.{col}" for col in _COUNTED)
    customer_changed = (
        "(OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)"
        " OR OLD.assigned_employee_id IS NOT NEW.assigned_employee_id"
    )
    bodies = {
        ("actions_ins", "AFTER INSERT ON customer_actions"): _insert(actions("NEW", 1)),
        (
            "actions_upd",
            f"AFTER UPDATE OF {', '.join(_COUNTED)} ON customer_actions"
            f" FOR EACH ROW WHEN {action_changed}",
        ): _insert([*actions("OLD", -1), *actions("NEW", 1)]),
        ("actions_del", "AFTER DELETE ON customer_actions"): _insert(actions("OLD", -1)),
        (
            "customers_upd",
            "AFTER UPDATE OF deleted_at, assigned_employee_id ON customers"
            f" FOR EACH ROW WHEN {customer_changed}",
        ): _insert([*customer("OLD", -1), *customer("NEW", 1)]),
        ("notes_ins", "AFTER INSERT ON action_notes"): (
            "UPDATE customer_actions SET first_note_at = NEW.created_at"
            " WHERE id = NEW.action_id"
            " AND (first_note_at IS NULL OR first_note_at > NEW.created_at)"
        ),
        ("customers_before_del", "BEFORE DELETE ON customers"): (
            "DELETE FROM customer_actions WHERE customer_id = OLD.id"
        ),
    }
    return [
        f"CREATE TRIGGER {_TABLE}_{name} {when}"
        + ("" if "FOR EACH ROW" in when else " FOR EACH ROW")
        + f" BEGIN {body}; END"
        for (name, when), body in bodies.items()
    ]


_TRIGGERS = {
    "actions_ins": "customer_actions",
    "actions_upd": "customer_actions",
    "actions_del": "customer_actions",
    "customers_upd": "customers",
    "notes_ins": "action_notes",
    "customers_before_del": "customers",
}


def upgrade() -> None:
    """Add ``first_note_at`` and the open-due index, create the counter table and its
    triggers, then fill both from the current rows."""
    op.add_column("customer_actions", sa.Column("first_note_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE customer_actions SET first_note_at = (SELECT MIN(n.created_at)"
        " FROM action_notes n WHERE n.action_id = customer_actions.id)"
        " WHERE EXISTS (SELECT 1 FROM action_notes n WHERE n.action_id = customer_actions.id)"
    )
    op.create_index(
        "ix_actions_org_open_due",
        "customer_actions",
        ["organization_id", "due_date"],
        sqlite_where=sa.text(f"status IN {_OPEN}"),
        postgresql_where=sa.text(f"status IN {_OPEN}"),
    )
    op.create_index(
        "ix_actions_org_snoozed",
        "customer_actions",
        ["organization_id", "snoozed_until", "type", "priority", "source", "due_date"],
        sqlite_where=sa.text("status = 'snoozed'"),
        postgresql_where=sa.text("status = 'snoozed'"),
    )
    op.create_table(
        _TABLE,
        sa.Column("organization_id", sa.String(50), nullable=False),
        sa.Column("action_assignee", sa.String(50), nullable=False),
        sa.Column("customer_assignee", sa.String(50), nullable=False),
        sa.Column("dimension", sa.String(20), nullable=False),
        sa.Column("value", sa.String(50), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("millis", sa.Numeric(24, 3), nullable=False),
    )
    op.create_index(
        "ix_action_counters_key",
        _TABLE,
        ["organization_id", "action_assignee", "customer_assignee", "dimension", "value"],
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_statements() if postgres else _sqlite_statements():
        op.execute(statement)
    # Backfill: one grouped INSERT over the current rows (after the triggers exist, inside the
    # migration's transaction, so no write falls between).
    source = "FROM customer_actions a JOIN customers c ON c.id = a.customer_id WHERE TRUE"
    op.execute(_insert(_action_rows(postgres, "a.", "c.", source, 1)))


def downgrade() -> None:
    """Drop the triggers, their functions, the counter table, the index and the column."""
    ddl.drop_triggers(_TABLE, _TRIGGERS)
    op.drop_index("ix_action_counters_key", table_name=_TABLE)
    op.drop_table(_TABLE)
    op.drop_index("ix_actions_org_open_due", table_name="customer_actions")
    op.drop_index("ix_actions_org_snoozed", table_name="customer_actions")
    with op.batch_alter_table("customer_actions") as batch:
        batch.drop_column("first_note_at")

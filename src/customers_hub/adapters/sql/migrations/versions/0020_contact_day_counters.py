"""Customers by UTC day of last contact in ``customer_counters`` (issue 9, Deliver 1).

``engagement.activeCustomers`` (contacted in the last 30 days) was an index-only range count of
``ix_customers_org_contact_live``: ~86,000 entries at a million customers, each a visibility-map
probe of a random heap page (40–55 ms, most of the customer statistics). Now the counters hold
the dimension ``contact_day`` (value: the UTC date ``YYYY-MM-DD`` of ``last_contact_at``; live
customers, restricted ones included, that were ever contacted), so the whole UTC days of the
window are a sum of counter rows and only the part of the first day after "now − 30 days" is
still a range count (``adapters/sql/statistics.py``, ``docs/statistics.md``). The index
``ix_customer_counters_dimension (organization_id, dimension, value, assignee)`` (PostgreSQL:
``INCLUDE (n, amount)``) reads those days alone — the last 30 of ~1,100 days × assignees at a
million — and lets the other dimensions' sum skip the contact days.

Triggers of their own (beside 0016's, which stay as they are) keep the dimension in the
writer's transaction, whatever the write path: ``-1`` for a row's old state and ``+1`` for its
new one, netted per key (an update that moves no contact day writes nothing). PostgreSQL:
statement-level triggers with transition tables; SQLite: row-level triggers (the update one
only on the columns the dimension depends on). :func:`upgrade` fills the dimension from the
current rows (one grouped ``INSERT … SELECT``; ≈ 2 s at a million customers, 24,661 rows).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "customer_counters"
_PREFIX = f"{_TABLE}_contact"
# The columns a customer's contact day depends on (SQLite's UPDATE OF list).
_COUNTED = ("organization_id", "assigned_employee_id", "deleted_at", "last_contact_at")


def _day(column: str, postgres: bool) -> str:
    """The UTC date of a timestamp as ``YYYY-MM-DD`` (SQLite stores UTC text)."""
    if postgres:
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"


def _rows(c: str, source: str, sign: int, postgres: bool) -> str:
    """A customer's (alias prefix ``c``) contact-day row times ``sign``."""
    return (
        f"SELECT {c}organization_id AS organization_id,"
        f" COALESCE({c}assigned_employee_id, '') AS assignee, 'contact_day' AS dimension,"
        f" {_day(c + 'last_contact_at', postgres)} AS value, {sign} AS n, 0 AS amount {source}"
        f" WHERE {c}deleted_at IS NULL AND {c}last_contact_at IS NOT NULL"
    )


def _insert(selects: Sequence[str]) -> str:
    """One INSERT of the selects' contributions netted per key (zero nets are not written)."""
    union = " UNION ALL ".join(selects)
    return (
        f"INSERT INTO {_TABLE} (organization_id, assignee, dimension, value, n, amount)"
        " SELECT organization_id, assignee, dimension, value, SUM(n), SUM(amount)"
        f" FROM ({union}) AS d GROUP BY organization_id, assignee, dimension, value"
        " HAVING SUM(n) <> 0"
    )


def _postgresql_statements() -> list[str]:
    bodies = {
        "ins": ("INSERT", "NEW TABLE AS new_rows", [_rows("n.", "FROM new_rows n", 1, True)]),
        "upd": (
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [_rows("o.", "FROM old_rows o", -1, True), _rows("n.", "FROM new_rows n", 1, True)],
        ),
        "del": ("DELETE", "OLD TABLE AS old_rows", [_rows("o.", "FROM old_rows o", -1, True)]),
    }
    out = []
    for name, (event, referencing, selects) in bodies.items():
        out.append(
            f"CREATE FUNCTION {_PREFIX}_{name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {_insert(selects)}; RETURN NULL; END $$"
        )
        out.append(
            f"CREATE TRIGGER {_PREFIX}_{name} AFTER {event} ON customers"
            f" REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {_PREFIX}_{name}()"
        )
    return out


def _sqlite_statements() -> list[str]:
    bodies = {
        "ins": ("AFTER INSERT", [_rows("NEW.", "", 1, False)]),
        "upd": (
            f"AFTER UPDATE OF {', '.join(_COUNTED)}",
            [_rows("OLD.", "", -1, False), _rows("NEW.", "", 1, False)],
        ),
        "del": ("AFTER DELETE", [_rows("OLD.", "", -1, False)]),
    }
    return [
        f"CREATE TRIGGER {_PREFIX}_{name} {event} ON customers FOR EACH ROW"
        f" BEGIN {_insert(selects)}; END"
        for name, (event, selects) in bodies.items()
    ]


_INDEX = "ix_customer_counters_dimension"


def upgrade() -> None:
    """Create the dimension index and the contact-day triggers, then count the current rows."""
    postgres = op.get_bind().dialect.name == "postgresql"
    # The statistics read a dimension's rows of the whole organization through it (the last
    # 30 of a thousand contact days; the other dimensions without the contact days).
    op.create_index(
        _INDEX,
        _TABLE,
        ["organization_id", "dimension", "value", "assignee"],
        postgresql_include=["n", "amount"],
    )
    for statement in _postgresql_statements() if postgres else _sqlite_statements():
        op.execute(statement)
    # Backfill after the triggers exist, in the migration's transaction: no write falls between.
    op.execute(_insert([_rows("c.", "FROM customers c", 1, postgres)]))


def downgrade() -> None:
    """Drop the triggers, their functions, the dimension's rows and the index."""
    ddl.drop_triggers(_PREFIX, dict.fromkeys(("ins", "upd", "del"), "customers"))
    op.execute(f"DELETE FROM {_TABLE} WHERE dimension = 'contact_day'")
    op.drop_index(_INDEX, table_name=_TABLE)

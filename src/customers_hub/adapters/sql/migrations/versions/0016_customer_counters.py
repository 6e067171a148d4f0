"""Customer counters (issue 9, Deliver 1): statistics and filter options read summary rows.

``customer_counters`` holds append-only delta rows keyed by (organization, assignee,
dimension, value) (``adapters/sql/counters.py``, ``docs/statistics.md``). Triggers keep it in
the writer's transaction, whatever the write path:

* on ``customers``: ``-1`` for a row's old state, ``+1`` for its new one, per dimension, netted
  per key (an update that moves no counted column writes nothing); a change of assignee, soft
  deletion or restriction also moves the customer's preferred property types;
* on ``customer_facets`` (kind ``property_type``): ``±1`` per facet of a live, listed customer;
* ``BEFORE DELETE`` on ``customers`` removes its property-type facets first, so their counts
  leave while the customer row still tells whose they were (a cascade would run too late).

PostgreSQL: statement-level triggers with transition tables (one grouped ``INSERT`` per
statement, so a bulk write stays one set-based statement); SQLite: row-level triggers. The
counters are filled from the current rows at the end of :func:`upgrade`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "customer_counters"
_COLUMNS = "organization_id, assignee, dimension, value, n, amount"

# The columns a customer's counts depend on (SQLite's UPDATE OF list).
_COUNTED = (
    "organization_id",
    "assigned_employee_id",
    "deleted_at",
    "restricted_until",
    "stage",
    "source",
    "priority",
    "lead_score",
    "city",
    "total_deal_value",
    "expected_revenue",
    "total_interactions",
    "response_rate",
)


def _customer_rows(c: str, source: str, sign: int) -> list[str]:
    """One SELECT per dimension: a customer's contribution (alias prefix ``c``) times ``sign``.

    Statistics count live customers (restricted ones too); filter options (``listed_*``) count
    live customers that are not restricted.
    """
    live = f"{c}deleted_at IS NULL"
    listed = f"{live} AND {c}restricted_until IS NULL"

    def counted(column: str) -> str:  # n counts the rows that have a value
        return f"CASE WHEN {c}{column} IS NULL THEN 0 ELSE {sign} END"

    dims = [
        # dimension, value, n, amount, condition
        ("stage", f"{c}stage", str(sign), "0", live),
        ("source", f"{c}source", str(sign), "0", live),
        ("priority", f"{c}priority", str(sign), "0", live),
        ("score", f"CAST({c}lead_score AS VARCHAR(12))", str(sign), "0", live),
        ("city", f"COALESCE({c}city, '')", str(sign), "0", live),
        ("listed_stage", f"{c}stage", str(sign), "0", listed),
        ("listed_source", f"{c}source", str(sign), "0", listed),
        ("listed_city", f"COALESCE({c}city, '')", str(sign), "0", listed),
        (
            "deal",
            "''",
            counted("total_deal_value"),
            f"{sign} * COALESCE({c}total_deal_value, 0)",
            live,
        ),
        (
            "revenue",
            "''",
            counted("expected_revenue"),
            f"{sign} * COALESCE({c}expected_revenue, 0)",
            live,
        ),
        ("interactions", "''", str(sign), f"{sign} * {c}total_interactions", live),
        (
            "response",
            "''",
            counted("response_rate"),
            f"{sign} * COALESCE({c}response_rate, 0)",
            live,
        ),
    ]
    return [
        f"SELECT {c}organization_id AS organization_id,"
        f" COALESCE({c}assigned_employee_id, '') AS assignee, '{name}' AS dimension,"
        f" {value} AS value, {n} AS n, {amount} AS amount {source} WHERE {condition}"
        for name, value, n, amount, condition in dims
    ]


def _facet_rows(c: str, f: str, source: str, sign: int, on: str = "") -> str:
    """The property-type facets (alias prefix ``f``) of live, listed customers (``c``);
    ``on`` joins them when the source is two tables listed in FROM (SQLite)."""
    joined = f"{on} AND " if on else ""
    return (
        f"SELECT {c}organization_id AS organization_id,"
        f" COALESCE({c}assigned_employee_id, '') AS assignee, 'property_type' AS dimension,"
        f" {f}value AS value, {sign} AS n, 0 AS amount {source}"
        f" WHERE {joined}{f}kind = 'property_type' AND {c}deleted_at IS NULL"
        f" AND {c}restricted_until IS NULL"
    )


_CLOSES = "to_stage IN ('closing', 'post_sale')"


def _first_close(customer_id: str, *, excluding: str = "") -> str:
    """The first close of a customer in ``stage_history`` now (one seek of
    ix_stage_history_closes), leaving out the rows ``excluding`` names."""
    return (
        f"(SELECT MIN(hc.changed_at) FROM stage_history hc WHERE hc.customer_id = {customer_id}"
        f" AND hc.{_CLOSES}{excluding})"
    )


def _earlier(x: str, y: str) -> str:
    """The earlier of two nullable instants (NULL when both are)."""
    return f"(CASE WHEN {x} IS NULL THEN {y} WHEN {y} IS NULL OR {x} <= {y} THEN {x} ELSE {y} END)"


def _closed_rows(c: str, first: str, source: str, sign: int, postgres: bool) -> str:
    """A customer's close (``first``: its first entry into closing/post_sale): n = 1, amount =
    seconds from creation to the close, value = the close's UTC date."""
    if postgres:
        day = f"to_char({first} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        seconds = f"EXTRACT(EPOCH FROM {first} - {c}created_at)"
    else:
        day = f"substr({first}, 1, 10)"
        seconds = f"((julianday({first}) - julianday({c}created_at)) * 86400.0)"
    return (
        f"SELECT {c}organization_id AS organization_id,"
        f" COALESCE({c}assigned_employee_id, '') AS assignee, 'closed' AS dimension,"
        f" {day} AS value, {sign} AS n, {sign} * {seconds} AS amount {source}"
        f" WHERE {c}deleted_at IS NULL AND {first} IS NOT NULL"
    )


def _history_insert(affected: str, new: str | None, old: str | None, postgres: bool) -> str:
    """The closes that moved when stage-history rows were written: per affected customer, its
    close now (+1) and before the statement (-1): now leaving out the new rows (``new``: how
    to name their ids) and adding the old ones (``old``: their first close)."""
    now = _first_close("a.customer_id")
    before = _first_close("a.customer_id", excluding=f" AND hc.id NOT IN ({new})" if new else "")
    if old:
        before = _earlier(before, old)
    source = (
        f"FROM (SELECT a.customer_id, {now} AS now_close, {before} AS before_close"
        f" FROM ({affected}) a) a JOIN customers c ON c.id = a.customer_id"
    )
    return _insert(
        [
            _closed_rows("c.", "a.now_close", source, 1, postgres),
            _closed_rows("c.", "a.before_close", source, -1, postgres),
        ]
    )


def _insert(selects: Sequence[str]) -> str:
    """One INSERT of the selects' contributions netted per key (zero nets are not written)."""
    union = " UNION ALL ".join(selects)
    return (
        f"INSERT INTO {_TABLE} ({_COLUMNS})"
        " SELECT organization_id, assignee, dimension, value, SUM(n), SUM(amount)"
        f" FROM ({union}) AS d GROUP BY organization_id, assignee, dimension, value"
        " HAVING SUM(n) <> 0 OR SUM(amount) <> 0"
    )


def _postgresql_statements() -> list[str]:
    customer_facets = "JOIN customer_facets f ON f.customer_id = {a}.id"
    facet_customer = "JOIN customers c ON c.id = {a}.customer_id"

    def with_close(rows: str) -> str:
        return f"FROM (SELECT r.*, {_first_close('r.id')} AS first_close FROM {rows} r)"

    new_closes = "SELECT customer_id FROM new_rows WHERE " + _CLOSES
    old_closes = "SELECT customer_id FROM old_rows WHERE " + _CLOSES
    old_first = (
        "(SELECT MIN(changed_at) FROM old_rows o"
        f" WHERE o.customer_id = a.customer_id AND o.{_CLOSES})"
    )
    bodies = {
        "customers_ins": _insert(_customer_rows("n.", "FROM new_rows n", 1)),
        "customers_upd": _insert(
            [
                *_customer_rows("o.", "FROM old_rows o", -1),
                *_customer_rows("n.", "FROM new_rows n", 1),
                _facet_rows("o.", "f.", "FROM old_rows o " + customer_facets.format(a="o"), -1),
                _facet_rows("n.", "f.", "FROM new_rows n " + customer_facets.format(a="n"), 1),
                _closed_rows("o.", "o.first_close", with_close("old_rows") + " o", -1, True),
                _closed_rows("n.", "n.first_close", with_close("new_rows") + " n", 1, True),
            ]
        ),
        "customers_del": _insert(_customer_rows("o.", "FROM old_rows o", -1)),
        "history_ins": _history_insert(new_closes, "SELECT id FROM new_rows", None, True),
        "history_upd": _history_insert(
            f"{new_closes} UNION {old_closes}", "SELECT id FROM new_rows", old_first, True
        ),
        "history_del": _history_insert(old_closes, None, old_first, True),
        "facets_ins": _insert(
            [_facet_rows("c.", "x.", "FROM new_rows x " + facet_customer.format(a="x"), 1)]
        ),
        "facets_upd": _insert(
            [
                _facet_rows("c.", "x.", "FROM old_rows x " + facet_customer.format(a="x"), -1),
                _facet_rows("c.", "x.", "FROM new_rows x " + facet_customer.format(a="x"), 1),
            ]
        ),
        "facets_del": _insert(
            [_facet_rows("c.", "x.", "FROM old_rows x " + facet_customer.format(a="x"), -1)]
        ),
    }
    out = []
    for name, body in bodies.items():
        out.append(
            f"CREATE FUNCTION {_TABLE}_{name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body}; RETURN NULL; END $$"
        )
    events = {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }
    for table, prefix in (
        ("customers", "customers"),
        ("customer_facets", "facets"),
        ("stage_history", "history"),
    ):
        for event, referencing in events.items():
            name = f"{prefix}_{event.lower()[:3]}"
            out.append(
                f"CREATE TRIGGER {_TABLE}_{name} AFTER {event} ON {table} {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {_TABLE}_{name}()"
            )
    out.append(
        f"CREATE FUNCTION {_TABLE}_customers_before_del() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {_BEFORE_DELETE}; RETURN OLD; END $$"
    )
    out.append(
        f"CREATE TRIGGER {_TABLE}_customers_before_del BEFORE DELETE ON customers"
        f" FOR EACH ROW EXECUTE FUNCTION {_TABLE}_customers_before_del()"
    )
    return out


def _sqlite_statements() -> list[str]:
    # The trigger's row is NEW/OLD (no FROM): the other table is the FROM, joined in WHERE.
    def customer_facets(a: str, sign: int) -> str:
        return _facet_rows(
            f"{a}.", "f.", "FROM customer_facets f", sign, on=f"f.customer_id = {a}.id"
        )

    # The old row's close, when it was one of the customer's in question.
    old_close = (
        f"(CASE WHEN OLD.customer_id = a.customer_id AND OLD.{_CLOSES} THEN OLD.changed_at END)"
    )

    def facet_customer(a: str, sign: int) -> str:
        return _facet_rows("c.", f"{a}.", "FROM customers c", sign, on=f"c.id = {a}.customer_id")

    bodies = {
        ("customers_ins", "AFTER INSERT ON customers"): _insert(_customer_rows("NEW.", "", 1)),
        (
            "customers_upd",
            f"AFTER UPDATE OF {', '.join(_COUNTED)} ON customers",
        ): _insert(
            [
                *_customer_rows("OLD.", "", -1),
                *_customer_rows("NEW.", "", 1),
                customer_facets("OLD", -1),
                customer_facets("NEW", 1),
                _closed_rows("OLD.", _first_close("OLD.id"), "", -1, False),
                _closed_rows("NEW.", _first_close("NEW.id"), "", 1, False),
            ]
        ),
        ("customers_del", "AFTER DELETE ON customers"): _insert(_customer_rows("OLD.", "", -1)),
        ("history_ins", f"AFTER INSERT ON stage_history WHEN NEW.{_CLOSES}"): _history_insert(
            "SELECT NEW.customer_id AS customer_id", "NEW.id", None, False
        ),
        (
            "history_upd",
            f"AFTER UPDATE ON stage_history WHEN NEW.{_CLOSES} OR OLD.{_CLOSES}",
        ): _history_insert(
            "SELECT NEW.customer_id AS customer_id UNION SELECT OLD.customer_id",
            "NEW.id",
            old_close,
            False,
        ),
        ("history_del", f"AFTER DELETE ON stage_history WHEN OLD.{_CLOSES}"): _history_insert(
            "SELECT OLD.customer_id AS customer_id", None, old_close, False
        ),
        ("facets_ins", "AFTER INSERT ON customer_facets"): _insert([facet_customer("NEW", 1)]),
        ("facets_upd", "AFTER UPDATE ON customer_facets"): _insert(
            [
                facet_customer("OLD", -1),
                facet_customer("NEW", 1),
            ]
        ),
        ("facets_del", "AFTER DELETE ON customer_facets"): _insert([facet_customer("OLD", -1)]),
        ("customers_before_del", "BEFORE DELETE ON customers"): _BEFORE_DELETE,
    }
    out = []
    for (name, when), body in bodies.items():
        event, _, condition = when.partition(" WHEN ")
        guard = f" WHEN {condition}" if condition else ""
        out.append(f"CREATE TRIGGER {_TABLE}_{name} {event} FOR EACH ROW{guard} BEGIN {body}; END")
    return out


# Before a customer row goes, the rows whose counts depend on it leave while it still says
# whose they were (its property types and its closes; the cascade would delete them later).
_BEFORE_DELETE = (
    "DELETE FROM customer_facets WHERE customer_id = OLD.id AND kind = 'property_type';"
    f" DELETE FROM stage_history WHERE customer_id = OLD.id AND {_CLOSES}"
)

_TRIGGERS = (
    "customers_ins",
    "customers_upd",
    "customers_del",
    "facets_ins",
    "facets_upd",
    "facets_del",
    "history_ins",
    "history_upd",
    "history_del",
    "customers_before_del",
)
_INDEXES = {
    "ix_stage_history_closes": ("stage_history", ["customer_id", "changed_at"], _CLOSES),
    "ix_customers_org_contact_live": (
        "customers",
        ["organization_id", "last_contact_at", "assigned_employee_id"],
        "deleted_at IS NULL",
    ),
    "ix_customers_org_created_live": (
        "customers",
        ["organization_id", "created_at", "assigned_employee_id"],
        "deleted_at IS NULL",
    ),
}


def upgrade() -> None:
    """Create the counter table and its triggers, then count the current rows."""
    op.create_table(
        _TABLE,
        sa.Column("organization_id", sa.String(50), nullable=False),
        sa.Column("assignee", sa.String(50), nullable=False),
        sa.Column("dimension", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(20, 2), nullable=False),
    )
    op.create_index(
        "ix_customer_counters_key",
        _TABLE,
        ["organization_id", "assignee", "dimension", "value"],
    )
    for name, (table, columns, where) in _INDEXES.items():
        op.create_index(
            name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql_statements() if postgres else _sqlite_statements():
        op.execute(statement)
    # Backfill: one grouped INSERT over the current rows (issued after the triggers exist,
    # inside the migration's transaction, so no write falls between).
    op.execute(
        _insert(
            [
                *_customer_rows("c.", "FROM customers c", 1),
                _facet_rows(
                    "c.", "f.", "FROM customers c JOIN customer_facets f ON f.customer_id = c.id", 1
                ),
                _closed_rows(
                    "c.",
                    "f.first_close",
                    "FROM customers c JOIN (SELECT customer_id, MIN(changed_at) AS first_close"
                    f" FROM stage_history WHERE {_CLOSES} GROUP BY customer_id) f"
                    " ON f.customer_id = c.id",
                    1,
                    postgres,
                ),
            ]
        )
    )


def downgrade() -> None:
    """Drop the triggers, their functions and the counter table."""
    tables = {"customers": "customers", "facets": "customer_facets", "history": "stage_history"}
    ddl.drop_triggers(_TABLE, {name: tables[name.split("_", 1)[0]] for name in _TRIGGERS})
    for index, (table, _, _) in _INDEXES.items():
        op.drop_index(index, table_name=table)
    op.drop_index("ix_customer_counters_key", table_name=_TABLE)
    op.drop_table(_TABLE)

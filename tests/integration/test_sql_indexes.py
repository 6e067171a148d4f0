"""Every foreign key is served by an index whose leading columns are the key's, on both databases.

Without one, deleting a parent row (``ON DELETE CASCADE``, or just the check that no child is
left) scans the whole child table: a customer's permanent delete read all two million actions.
The catalog of the migrated database is read back (SQLAlchemy's inspector), so the test fails
on a key added by a later migration without its index, whatever ``tables.py`` says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, UniqueConstraint, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.tables import metadata


def _leads(columns: Sequence[str | None], key: Sequence[str]) -> bool:
    """True when ``columns`` begin with exactly the key's columns (in any order)."""
    head = columns[: len(key)]
    return len(head) == len(key) and None not in head and set(head) == set(key)


Key = tuple[str, tuple[str, ...], str]
"""A foreign key: (table, columns, referred table)."""


def _unserved(
    keys: Iterable[Key], served_by: Mapping[str, Sequence[Sequence[str | None]]]
) -> list[str]:
    return [
        f"{table}({', '.join(columns)}) -> {referred}"
        for table, columns, referred in keys
        if not any(_leads(candidate, columns) for candidate in served_by.get(table, []))
    ]


def _catalog(conn: Connection) -> tuple[list[tuple[str, tuple[str, ...], str]], dict[str, Any]]:
    """Foreign keys, and per table the column lists of its indexes, unique constraints and PK.

    Partial indexes do not count (they hold only some of the rows), nor other index types than
    B-tree (a trigram GIN index answers no equality lookup of a key).
    """
    inspector = inspect(conn)
    keys: list[tuple[str, tuple[str, ...], str]] = []
    served_by: dict[str, list[Sequence[str | None]]] = {}
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            keys.append((table, tuple(fk["constrained_columns"]), str(fk["referred_table"])))
        candidates: list[Sequence[str | None]] = []
        for index in inspector.get_indexes(table):
            options = index.get("dialect_options", {})
            if any(name.endswith("_where") for name in options):
                continue
            if options.get("postgresql_using", "btree") != "btree":
                continue
            candidates.append(list(index["column_names"]))
        candidates += [u["column_names"] for u in inspector.get_unique_constraints(table)]
        candidates.append(inspector.get_pk_constraint(table)["constrained_columns"])
        served_by[table] = candidates
    return keys, served_by


async def test_every_foreign_key_of_the_migrated_schema_leads_an_index(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        keys, served_by = await conn.run_sync(_catalog)
    assert len(keys) >= 9  # every relation of customers, and the notes of actions
    assert ("customer_actions", ("customer_id",), "customers") in keys
    assert _unserved(keys, served_by) == []


def test_every_foreign_key_of_the_metadata_leads_an_index() -> None:
    """The same rule on ``tables.py`` (the source of truth the migrations follow)."""
    keys: list[tuple[str, tuple[str, ...], str]] = []
    served_by: dict[str, list[Sequence[str | None]]] = {}
    for table in metadata.sorted_tables:
        assert isinstance(table, Table)
        for fk in table.foreign_key_constraints:
            keys.append((table.name, tuple(fk.column_keys), fk.referred_table.name))
        served_by[table.name] = [
            [c.name for c in index.columns]
            for index in table.indexes
            if not any(
                index.dialect_options[dialect].get("where") is not None
                for dialect in ("sqlite", "postgresql")
            )
        ]
        served_by[table.name] += [
            [c.name for c in constraint.columns]
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        ]
        served_by[table.name].append([c.name for c in table.primary_key.columns])
    assert _unserved(keys, served_by) == []


def test_the_rule_sees_a_key_without_an_index() -> None:
    keys = [("customer_actions", ("customer_id",), "customers")]
    only_org_first = {"customer_actions": [["organization_id", "customer_id"], ["id"]]}
    assert _unserved(keys, only_org_first) == ["customer_actions(customer_id) -> customers"]
    assert _unserved(keys, {"customer_actions": [["customer_id", "created_at"]]}) == []
    composite = [("t", ("a", "b"), "p")]
    assert _unserved(composite, {"t": [["b", "a", "c"]]}) == []
    assert _unserved(composite, {"t": [["a", None, "b"]]}) == ["t(a, b) -> p"]

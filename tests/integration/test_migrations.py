"""The Alembic migrations build exactly the schema of ``tables.metadata``, on both databases.

SQLite migrates a fresh file; PostgreSQL a fresh database created (and dropped) by the test, so
the session's shared test schema is not touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, UniqueConstraint, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from customers_hub.adapters.sql import migrate
from customers_hub.adapters.sql.tables import metadata
from customers_hub.entrypoints import cli, settings

DATABASES = ("sqlite", "postgresql")
HEAD = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
"""The newest revision shipped: what an upgrade to ``head`` reaches."""
TRIGRAM_INDEXES = {
    ("customers", "ix_customers_name_search_trgm"),
    ("customers", "ix_customers_phone_digits_trgm"),
    ("customer_actions", "ix_customer_actions_search_text_trgm"),
    # PostgreSQL-only expression indexes (email trigram, DESC NULLS LAST sort keys).
    ("customers", "ix_customers_email_trgm"),
    ("customers", "ix_customers_org_contact_desc"),
    ("customers", "ix_customers_org_deal_desc"),
    ("customer_actions", "ix_actions_org_due_desc"),
}


@pytest.fixture(params=DATABASES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The plain URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'hub.db'}"
        return
    url = os.environ.get("CUSTOMERS_HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("CUSTOMERS_HUB_TEST_POSTGRES_URL is not set: run the tests with `make test`")
    server = make_url(url)
    name = f"hub_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        migrate.sync_url(server.render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _engine(url: str) -> Engine:
    return create_engine(migrate.sync_url(url), poolclass=NullPool)


def _schema(url: str) -> dict[str, Any]:
    """Tables with their columns (name, nullability), indexes and unique constraints."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            found: dict[str, Any] = {}
            for table in inspector.get_table_names():
                columns = {(c["name"], c["nullable"]) for c in inspector.get_columns(table)}
                # PostgreSQL lists a UNIQUE constraint's backing index too: it is the constraint.
                indexes = {
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                    if not i.get("duplicates_constraint")
                }
                uniques = {
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table)
                }
                keys = {
                    (f["referred_table"], tuple(f["constrained_columns"]))
                    for f in inspector.get_foreign_keys(table)
                }
                pk = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
                found[table] = (columns, indexes, uniques, keys, pk)
            return found
    finally:
        engine.dispose()


def _expected() -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for table in metadata.sorted_tables:
        columns = {(c.name, c.nullable) for c in table.columns}
        indexes = {
            (i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
        }
        uniques = {
            (u.name, tuple(c.name for c in u.columns))
            for u in table.constraints
            if isinstance(u, UniqueConstraint)
        }
        keys = {
            (f.referred_table.name, tuple(c.name for c in f.columns))
            for f in table.foreign_key_constraints
        }
        pk = tuple(c.name for c in table.primary_key.columns)
        expected[table.name] = (columns, indexes, uniques, keys, pk)
    return expected


def _without_sqlite_autoindexes(schema: dict[str, Any]) -> dict[str, Any]:
    # SQLite reports a UNIQUE constraint's backing index too; it is the constraint, not extra.
    cleaned: dict[str, Any] = {}
    for table, (columns, indexes, uniques, keys, pk) in schema.items():
        kept = {i for i in indexes if not str(i[0]).startswith("sqlite_autoindex")}
        cleaned[table] = (columns, kept, uniques, keys, pk)
    return cleaned


def test_upgrade_builds_every_table_and_index_of_the_metadata(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    found = _without_sqlite_autoindexes(_schema(empty_database))
    assert found.pop("alembic_version")
    is_postgres = empty_database.startswith("postgresql")
    if is_postgres:
        for table, name in TRIGRAM_INDEXES:
            names = {i[0] for i in found[table][1]}
            assert name in names, f"{name} missing"
            found[table] = (
                found[table][0],
                {i for i in found[table][1] if i[0] != name},
                *found[table][2:],
            )
    assert found == _expected()
    assert migrate.current(empty_database) == HEAD


def test_alembic_finds_no_difference_between_the_migrated_database_and_the_metadata(
    empty_database: str,
) -> None:
    migrate.upgrade(empty_database)
    engine = _engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    trigram_names = {name for _table, name in TRIGRAM_INDEXES}
    unexpected = [
        d
        for d in differences
        if not (isinstance(d, tuple) and d[0] == "remove_index" and d[1].name in trigram_names)
    ]
    assert unexpected == []


def test_postgresql_gets_the_trigram_extension_and_a_partial_phone_index(
    empty_database: str,
) -> None:
    migrate.upgrade(empty_database)
    engine = _engine(empty_database)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                assert conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname='pg_trgm'"))
                query = text("SELECT indexdef FROM pg_indexes WHERE indexname = :name")
                definition = conn.scalar(query, {"name": "uq_customers_org_phone_live"})
                trigram = conn.scalar(query, {"name": "ix_customers_name_search_trgm"})
                assert "gin_trgm_ops" in str(trigram)
            else:
                definition = conn.scalar(
                    text("SELECT sql FROM sqlite_master WHERE name='uq_customers_org_phone_live'")
                )
        assert "deleted_at IS NULL" in str(definition)
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_removes_everything(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)  # already at head: nothing to do, no error
    from alembic import command

    command.downgrade(migrate.alembic_config(empty_database), "base")
    assert set(_schema(empty_database)) == {"alembic_version"}
    assert migrate.current(empty_database) is None


async def test_ensure_schema_migrates_from_a_running_event_loop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'embedded' / 'hub.db'}"
    await migrate.ensure_schema(url)
    await migrate.ensure_schema(url)  # a second start finds it migrated
    assert set(_schema(url)) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}


def test_sync_urls() -> None:
    assert migrate.sync_url("sqlite:///x.db") == "sqlite:///x.db"
    assert migrate.sync_url("sqlite+aiosqlite:///x.db") == "sqlite:///x.db"
    assert (
        migrate.sync_url("postgresql://u:p%40ss@h:1/db") == "postgresql+psycopg://u:p%40ss@h:1/db"
    )
    assert migrate.sync_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ValueError, match="mysql"):
        migrate.sync_url("mysql://h/db")


def test_the_migrations_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert migrate.MIGRATIONS_DIR.parent.name == "sql"


def test_cli_db_upgrade_with_a_url(empty_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "upgrade", "--database-url", empty_database]) == 0
    assert "head" in capsys.readouterr().out
    assert migrate.current(empty_database) == HEAD


def test_cli_db_upgrade_defaults_to_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(settings.DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "data"))
    assert cli.main(["db", "upgrade"]) == 0
    assert migrate.current(f"sqlite:///{tmp_path / 'data' / 'hub.db'}") == HEAD


def test_cli_db_upgrade_takes_the_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env' / 'hub.db'}"
    monkeypatch.setenv(settings.DATABASE_URL_ENV, url)
    assert cli.main(["db", "upgrade"]) == 0
    assert migrate.current(url) == HEAD


def test_cli_refuses_a_bad_url_and_unknown_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["db", "upgrade", "--database-url", "mysql://h/db"]) == 2
    assert "unsupported" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        cli.main(["db", "frobnicate"])
    assert exited.value.code == 2
    assert cli.main(["db"]) == 2
    assert cli.main([]) == 0
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert "customers-hub" in capsys.readouterr().out

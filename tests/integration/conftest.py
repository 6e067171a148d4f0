"""Integration fixtures: the same tests run on SQLite and on a real PostgreSQL.

The test command (``make test``) starts PostgreSQL on 127.0.0.1 and exports
``CUSTOMERS_HUB_TEST_POSTGRES_URL``. Without it the PostgreSQL half fails loudly rather than
being skipped: a skipped database is not a passing one.

The schema is created once per database per session — on PostgreSQL in a database of this
session's own, so two test runs on one server never disturb each other — and each test gets its
own organization id, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.migrate import ensure_schema

POSTGRES_ENV = "CUSTOMERS_HUB_TEST_POSTGRES_URL"
DATABASES = ("sqlite", "postgresql")


def postgres_url() -> str:
    """The test PostgreSQL URL, or a failure that says how to get one."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.fail(
            f"{POSTGRES_ENV} is not set: run the tests with `make test`, which starts PostgreSQL"
        )
    return url


def _admin(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction: autocommit on the server's own db.
    server = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session", params=DATABASES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A plain URL of an empty database for this session: a SQLite file or a new PG database."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "hub.db"
        yield f"sqlite:///{path}"
        return
    base = postgres_url()
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated schema (the Alembic migrations, as in production)."""
    await ensure_schema(database_url)
    eng = create_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def org_id() -> str:
    """A fresh organization per test: isolation without re-creating the schema."""
    return f"org_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    """``sqlite`` or ``postgresql``."""
    return engine.dialect.name

"""Integration fixtures: the same tests run on SQLite and on a real PostgreSQL.

The test command (``make test``) starts PostgreSQL on 127.0.0.1 and exports
``CUSTOMERS_HUB_TEST_POSTGRES_URL``. Without it the PostgreSQL half fails loudly rather than
being skipped: a skipped database is not a passing one.

The schema is created once per database per session; each test gets its own organization id,
so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.engine import create_engine, create_schema, drop_schema

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


@pytest.fixture(scope="session", params=DATABASES)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """An engine with a fresh schema, once per database."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "hub.db"
        url = f"sqlite:///{path}"
    else:
        url = postgres_url()
    eng = create_engine(url)
    await drop_schema(eng)
    await create_schema(eng)
    yield eng
    await drop_schema(eng)
    await eng.dispose()


@pytest.fixture
def org_id() -> str:
    """A fresh organization per test: isolation without re-creating the schema."""
    return f"org_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    """``sqlite`` or ``postgresql``."""
    return engine.dialect.name

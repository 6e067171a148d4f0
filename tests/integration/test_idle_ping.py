"""The pool pings a PostgreSQL connection before use only after it rested
(``engine.ping_when_idle``): a connection whose server session died while it rested is replaced
before the request's statement; one taken again at once is not pinged (no round trip a request
on a busy service) — its death then fails the statement as an outage, and the pool recovers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from conftest import postgres_url
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import engine as engine_module
from customers_hub.adapters.sql.engine import create_engine, is_database_unavailable

IDLE = 0.3


@pytest.fixture
def database_url() -> str:
    """The test server (no schema needed; SQLite has no server session to lose)."""
    return postgres_url()


@pytest.fixture
async def pg_engine(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", IDLE)
    made = create_engine(database_url, pool_size=1)
    try:
        yield made
    finally:
        await made.dispose()


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _terminate(database_url: str, pid: int) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        # Waits (up to 5 s) until the session has ended.
        conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


async def test_a_connection_that_died_while_resting_is_replaced_before_use(
    pg_engine: AsyncEngine, database_url: str
) -> None:
    first = await _backend(pg_engine)
    assert await _backend(pg_engine) == first  # pooled: the same session again
    _terminate(database_url, first)
    await asyncio.sleep(IDLE * 2)  # rested longer than IDLE: pinged at checkout
    second = await _backend(pg_engine)  # no error: the ping failed, a new connection served
    assert second != first


async def test_a_connection_taken_again_at_once_is_not_pinged(
    pg_engine: AsyncEngine, database_url: str
) -> None:
    first = await _backend(pg_engine)
    _terminate(database_url, first)
    # Checked out again within IDLE: no ping, so the statement itself meets the dead session —
    # an outage (503 at the edge), never a wrong answer — and the pool is renewed after it.
    with pytest.raises(DBAPIError) as failed:
        await _backend(pg_engine)
    assert is_database_unavailable(failed.value)
    assert await _backend(pg_engine) not in (first,)

"""Engines from plain database URLs, for SQLite (aiosqlite) and PostgreSQL (psycopg 3).

``sqlite:///path/hub.db`` and ``postgresql://user@host:port/db`` are accepted as users write
them; the async driver is chosen here. SQLite gets foreign keys, WAL and a busy timeout;
PostgreSQL gets a connection pool with pre-ping so a restarted server is survived.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from customers_hub.adapters.sql.tables import metadata

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a plain ``sqlite://`` or ``postgresql://`` URL."""
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).drivername.startswith("sqlite")


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` (plain or driver-qualified)."""
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        # JIT compilation costs more than it saves on these short aggregate queries
        # (measured: customer stats 1.40 s -> 1.18 s, action stats 3.2 s -> 2.5 s at 1M rows).
        kwargs["connect_args"] = {"options": "-c jit=off"}
    engine = create_async_engine(target, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def create_schema(engine: AsyncEngine) -> None:
    """Create every table directly (tests; production runs the Alembic migrations)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def drop_schema(engine: AsyncEngine) -> None:
    """Drop every table (tests)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)

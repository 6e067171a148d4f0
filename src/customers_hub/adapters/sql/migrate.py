"""Apply the Alembic migrations shipped inside the package, from a plain database URL.

``customers-hub db upgrade`` calls :func:`upgrade`; the embedded SQLite default calls
:func:`ensure_schema` when it starts, so a fresh install migrates itself. No ``alembic.ini`` is
involved: the migrations live in ``customers_hub/adapters/sql/migrations``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current", "ensure_schema", "sync_url", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
"""Where the Alembic environment and its ``versions/`` are (inside the installed package)."""

_SYNC_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}


def sync_url(url: str) -> str:
    """The synchronous SQLAlchemy URL for a plain (or async-qualified) database URL."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` using the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option: ini values interpolate "%" (passwords).
    config.attributes["url"] = url
    return config


def _prepare_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (synchronous; for the CLI).

    A SQLite file's directory is created when missing.
    """
    _prepare_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None before the first migration."""
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


async def ensure_schema(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is already there).

    Runs the synchronous migrations in a worker thread so the event loop is not blocked.
    """
    await asyncio.to_thread(upgrade, url)

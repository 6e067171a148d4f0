"""The session settings every PostgreSQL connection of the service starts with
(``adapters/sql/engine.py``)."""

from __future__ import annotations

import pytest
from conftest import postgres_url
from sqlalchemy import text

from customers_hub.adapters.sql.engine import create_engine

pytestmark = pytest.mark.integration


async def test_postgres_sessions_start_with_the_service_settings() -> None:
    engine = create_engine(postgres_url())
    try:
        async with engine.connect() as conn:
            shown = {
                name: await conn.scalar(text(f"SHOW {name}"))
                for name in ("jit", "synchronize_seqscans", "statement_timeout")
            }
    finally:
        await engine.dispose()
    # No JIT for short aggregates; bounded scans start at block 0 (a search answers the same
    # page twice); no statement runs past the timeout.
    assert shown == {"jit": "off", "synchronize_seqscans": "off", "statement_timeout": "30s"}

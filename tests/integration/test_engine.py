"""The engine factory: plain URLs, both databases reachable, UTC round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.engine import async_url
from customers_hub.adapters.sql.tables import employees


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("sqlite:///data/hub.db", "sqlite+aiosqlite:///data/hub.db"),
        ("postgresql://hub@127.0.0.1:5432/hub", "postgresql+psycopg://hub@127.0.0.1:5432/hub"),
        ("postgres://hub:pw@db/hub", "postgresql+psycopg://hub:pw@db/hub"),
        ("postgresql+psycopg://hub@db/hub", "postgresql+psycopg://hub@db/hub"),
    ],
)
def test_plain_urls_get_the_async_driver(plain: str, expected: str) -> None:
    assert async_url(plain) == expected


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        async_url("mysql://db/hub")


async def test_datetimes_come_back_aware_utc(engine: AsyncEngine, org_id: str) -> None:
    riyadh = timezone(timedelta(hours=3))
    written = datetime(2024, 1, 22, 13, 30, tzinfo=riyadh)
    async with engine.begin() as conn:
        await conn.execute(
            insert(employees).values(
                organization_id=org_id,
                id="emp_1",
                name="أحمد",
                role="sales_agent",
                is_active=True,
                created_at=written,
                updated_at=written,
            )
        )
        row = (
            await conn.execute(
                select(employees.c.created_at).where(employees.c.organization_id == org_id)
            )
        ).one()
    assert row.created_at == written
    assert row.created_at.tzinfo is not None
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at == datetime(2024, 1, 22, 10, 30, tzinfo=UTC)

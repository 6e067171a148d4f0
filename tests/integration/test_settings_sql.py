"""Organization settings in SQL (``organization_settings``), on SQLite and PostgreSQL: the row
round-trips through the JSON column, versions guard every write, organizations never see each
other's row, and two admins changing different settings at once both keep their change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.use_cases.settings import (
    get_organization_settings,
    update_organization_settings,
)
from customers_hub.domain.enums import Role
from customers_hub.domain.model import Actor
from customers_hub.domain.settings import (
    OrganizationSettings,
    OrganizationSettingsRecord,
    SettingsPatch,
)

AT = datetime(2025, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC)


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


def deps_for(engine: AsyncEngine) -> Dependencies:
    unused = cast(Any, _Unused())
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
    )


def record(org_id: str, version: int = 1, **settings: Any) -> OrganizationSettingsRecord:
    return OrganizationSettingsRecord(
        organization_id=org_id,
        settings=OrganizationSettings(**settings),
        version=version,
        updated_at=AT,
        updated_by="emp_admin",
    )


async def stored(engine: AsyncEngine, org_id: str) -> OrganizationSettingsRecord | None:
    async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        return await uow.organization_settings.get(org_id)


async def test_a_row_round_trips_and_is_versioned(engine: AsyncEngine, org_id: str) -> None:
    assert await stored(engine, org_id) is None
    first = record(
        org_id, time_zone="Asia/Dubai", require_fal_licence=True, currency="AED", retention_years=7
    )
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.organization_settings.save(first, expected_version=0)
        await uow.commit()
    assert await stored(engine, org_id) == first

    second = record(org_id, version=2, time_zone="Asia/Riyadh", retention_years=30)
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.organization_settings.save(second, expected_version=1)
        await uow.commit()
    assert await stored(engine, org_id) == second


@pytest.mark.parametrize("expected_version", [0, 1, 3])
async def test_a_moved_version_writes_nothing(
    engine: AsyncEngine, org_id: str, expected_version: int
) -> None:
    current = record(org_id, version=2, currency="USD")
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.organization_settings.save(record(org_id), expected_version=0)
        await uow.organization_settings.save(current, expected_version=1)
        await uow.commit()
    async with SqlUnitOfWorkFactory(engine)() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.organization_settings.save(
                record(org_id, version=expected_version + 1, currency="EUR"),
                expected_version=expected_version,
            )
    assert await stored(engine, org_id) == current


async def test_the_json_column_holds_camel_case_keys_and_missing_keys_read_as_defaults(
    engine: AsyncEngine, org_id: str
) -> None:
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.organization_settings.save(
            record(org_id, require_fal_licence=True), expected_version=0
        )
        await uow.commit()
    s = tables.organization_settings
    async with engine.connect() as conn:
        raw = (await conn.execute(select(s.c.settings).where(s.c.organization_id == org_id))).one()
        assert raw.settings == {
            "timeZone": "Asia/Riyadh",
            "requireFalLicence": True,
            "currency": "SAR",
            "retentionYears": 10,
        }
        # A row written before a setting existed (and with one a newer version wrote).
        older = f"{org_id}_old"
        await conn.execute(
            insert(s).values(
                organization_id=older,
                settings={"timeZone": "Asia/Qatar", "laterSetting": 1},
                version=1,
                updated_at=AT,
                updated_by="emp_admin",
            )
        )
        await conn.commit()
    read = await stored(engine, older)
    assert read is not None
    assert read.settings == OrganizationSettings(time_zone="Asia/Qatar")


async def test_organizations_never_read_or_write_each_others_row(
    engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_for(engine)
    mine = Actor("emp_admin", org_id, Role.ADMIN)
    theirs = Actor("emp_admin", f"{org_id}_b", Role.ADMIN)
    await update_organization_settings(deps, theirs, SettingsPatch(currency="GBP"))
    read = await get_organization_settings(deps, mine)
    assert read.version == 0
    assert read.settings == OrganizationSettings()
    await update_organization_settings(deps, mine, SettingsPatch(currency="AED"))
    other = await get_organization_settings(deps, Actor("emp_v", f"{org_id}_b", Role.VIEWER))
    assert other.settings.currency == "GBP"
    assert other.version == 1


async def test_two_admins_at_once_both_keep_their_change(engine: AsyncEngine, org_id: str) -> None:
    """Both start from "no row": one inserts, the other's insert finds the row, is retried on
    fresh data and updates it — neither change is lost."""
    deps = deps_for(engine)
    first, second = (Actor(f"emp_{n}", org_id, Role.ADMIN) for n in (1, 2))
    results = await asyncio.gather(
        update_organization_settings(deps, first, SettingsPatch(require_fal_licence=True)),
        update_organization_settings(deps, second, SettingsPatch(retention_years=15)),
    )
    assert sorted(r.version for r in results) == [1, 2]
    final = await stored(engine, org_id)
    assert final is not None
    assert final.version == 2
    assert final.settings.require_fal_licence is True
    assert final.settings.retention_years == 15

"""Consents and privacy requests in SQL (migration 0009), on SQLite and PostgreSQL: the ledger
and its current-state table move together in one transaction, records round-trip field by field,
request updates are versioned, the list filters and the statistics count the right rows, the
customers list filters by consent, every write is audited, and organizations never meet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.audit import AuditCommitHook
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.privacy import sql_privacy_repository
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.queries import Condition, CustomerListQuery, Op, PageRequest
from customers_hub.application.use_cases import privacy
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import NotFound, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.domain.privacy import (
    ConsentChange,
    ConsentChannel,
    RequestStatus,
    RequestType,
)

NOW = datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC)


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


def deps_for(engine: AsyncEngine) -> Dependencies:
    unused = cast(Any, _Unused())
    ids = PrefixedIdGenerator()
    clock = SystemClock()
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=clock,
        ids=ids,
        publisher=InProcessEventPublisher(),
        customer_queries=SqlCustomerQueries(engine),
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
        commit_hooks=(AuditCommitHook(clock, ids),),
        privacy=sql_privacy_repository,
    )


def admin(org_id: str) -> Actor:
    return Actor("emp_admin", org_id, Role.ADMIN, name="Admin")


async def add_customer(engine: AsyncEngine, org_id: str, customer_id: str) -> None:
    phone = f"+9665{abs(hash((org_id, customer_id))) % 10**8:08d}"
    async with engine.begin() as conn:
        await conn.execute(
            insert(tables.customers).values(
                id=customer_id,
                organization_id=org_id,
                name="سارة",
                name_search="ساره",
                phone=phone,
                phone_digits=phone[1:],
                source="manual",
                stage="new_lead",
                preferences={},
                priority="medium",
                priority_rank=2,
                tags=[],
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def test_consents_append_history_and_keep_the_current_row(
    engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_for(engine)
    customer_id = f"cus_{org_id}"
    await add_customer(engine, org_id, customer_id)
    changes = [
        ConsentChange(channel=ConsentChannel.WHATSAPP, granted=True, source="form", notes="n1"),
        ConsentChange(channel=ConsentChannel.SMS, granted=True, source="form"),
    ]
    await privacy.record_consents(
        deps,
        admin(org_id),
        privacy.RecordConsents(customer_id=customer_id, changes=tuple(changes)),
    )
    ledger = await privacy.record_consents(
        deps,
        admin(org_id),
        privacy.RecordConsents(
            customer_id=customer_id,
            changes=(ConsentChange(channel=ConsentChannel.WHATSAPP, granted=False, source="call"),),
        ),
    )
    assert [(c.channel, c.granted) for c in ledger.current.values()] == [
        (ConsentChannel.WHATSAPP, False),
        (ConsentChannel.SMS, True),
    ]
    # The current entry is the newest ledger entry of its channel, field for field.
    newest = ledger.history[0]
    assert ledger.current[ConsentChannel.WHATSAPP] == newest
    assert newest.at.tzinfo is not None
    assert len(ledger.history) == 3
    async with engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count())
            .select_from(tables.customer_consents)
            .where(tables.customer_consents.c.customer_id == customer_id)
        )
        audited = await conn.scalar(
            select(func.count())
            .select_from(tables.audit_log)
            .where(
                tables.audit_log.c.customer_id == customer_id,
                tables.audit_log.c.action == "consent.changed",
            )
        )
    assert rows == 2
    assert audited == 3


async def test_a_bad_change_writes_nothing_and_another_organization_sees_nothing(
    engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_for(engine)
    customer_id = f"cus_{org_id}"
    await add_customer(engine, org_id, customer_id)
    bad = [
        ConsentChange(channel=ConsentChannel.EMAIL, granted=True, source="form"),
        ConsentChange(channel=ConsentChannel.CALL, granted=True, source=" "),
    ]
    with pytest.raises(ValidationFailed):
        await privacy.record_consents(
            deps,
            admin(org_id),
            privacy.RecordConsents(customer_id=customer_id, changes=tuple(bad)),
        )
    ledger = await privacy.get_consents(deps, admin(org_id), customer_id)
    assert ledger.history == ()
    with pytest.raises(NotFound):
        await privacy.get_consents(deps, admin("org_other"), customer_id)


async def test_the_customers_list_filters_by_current_consent(
    engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_for(engine)
    ids = [f"cus_{org_id}_{i}" for i in range(3)]
    for customer_id in ids:
        await add_customer(engine, org_id, customer_id)
    for customer_id, granted in zip(ids[:2], (True, False), strict=True):
        await privacy.record_consents(
            deps,
            admin(org_id),
            privacy.RecordConsents(
                customer_id=customer_id,
                changes=(
                    ConsentChange(channel=ConsentChannel.MARKETING, granted=granted, source="form"),
                ),
            ),
        )
    scope = ScopeFilter(org_id, Reach.ALL)

    async def listed(op: Op) -> set[str]:
        query = CustomerListQuery(
            scope=scope,
            conditions=(Condition("consent", op, "marketing"),),
            page=PageRequest(limit=100),
        )
        return {c.id for c in (await deps.customer_queries.list(query)).items}

    everyone = CustomerListQuery(scope=scope, page=PageRequest(limit=100))
    assert {c.id for c in (await deps.customer_queries.list(everyone)).items} == set(ids)
    assert await listed(Op.EQ) == {ids[0]}
    assert await listed(Op.NE) == {ids[1], ids[2]}


async def test_requests_round_trip_are_versioned_and_counted(
    engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_for(engine)
    actor = admin(org_id)
    customer_id = f"cus_{org_id}"
    await add_customer(engine, org_id, customer_id)
    now = deps.clock.now()
    made = {
        age: await privacy.create_privacy_request(
            deps,
            actor,
            privacy.CreatePrivacyRequest(
                customer_id=customer_id,
                type=RequestType.ACCESS,
                received_at=now - timedelta(days=age),
                notes=f"age {age}",
            ),
        )
        for age in (40, 27, 0)
    }
    read = await privacy.get_privacy_request(deps, actor, made[40].id)
    assert read == made[40]  # every field round-trips (aware UTC instants, enums, texts)

    moved = await privacy.change_request_status(
        deps,
        actor,
        privacy.ChangeRequestStatus(request_id=made[0].id, status=RequestStatus.IN_PROGRESS),
    )
    assert moved.version == 2
    stale = made[0]
    async with deps.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await sql_privacy_repository(uow).save_request(stale, expected_version=1)

    stats = await privacy.privacy_request_stats(deps, actor)
    assert (stats.open, stats.overdue, stats.due_soon) == (3, 1, 1)

    async def ids(**params: Any) -> list[str]:
        page = await privacy.list_privacy_requests(
            deps, actor, privacy.ListPrivacyRequests(**params)
        )
        return [r.id for r in page.items]

    assert await ids() == [made[0].id, made[27].id, made[40].id]
    assert await ids(overdue=True) == [made[40].id]
    assert await ids(due_soon=True) == [made[27].id]
    assert await ids(statuses=(RequestStatus.IN_PROGRESS,)) == [made[0].id]
    other = await privacy.list_privacy_requests(
        deps, admin("org_other"), privacy.ListPrivacyRequests()
    )
    assert other.items == []
    async with engine.connect() as conn:
        actions = (
            await conn.execute(
                select(tables.audit_log.c.action).where(
                    tables.audit_log.c.customer_id == customer_id
                )
            )
        ).scalars()
        assert sorted(actions) == ["privacyRequest.created"] * 3 + ["privacyRequest.updated"]

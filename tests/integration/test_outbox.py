"""The transactional outbox on SQLite and PostgreSQL: committed events only, in order, read as a
stream that resumes; relays that share the work deliver each event once; bounded pruning;
delivery claims that never hand one hook's deliveries to two senders at once."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.cache import InMemoryCache
from customers_hub.adapters.event_wire import to_outbound
from customers_hub.adapters.redis_events import EventBus, InProcessEventBus, RedisEventBus
from customers_hub.adapters.relay import WEBHOOKS_CURSOR, OutboxRelay, OutboxSettings
from customers_hub.adapters.sql import outbox as sql_outbox
from customers_hub.adapters.sql.outbox import RelayRow, SqlOutboxWriter, event_payload
from customers_hub.adapters.sql.tables import (
    outbox,
    outbox_cursors,
    webhook_deliveries,
    webhooks,
)
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.adapters.sql.webhooks import claim_due, create_deliveries, sql_webhook_repository
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.outbox import OutboxRecord
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    update_customer,
)
from customers_hub.application.use_cases.webhooks import CreateWebhook, create_webhook
from customers_hub.domain.enums import CustomerSource, Permission, Role
from customers_hub.domain.errors import Duplicate
from customers_hub.domain.events import CustomerCreated, EmployeeSaved
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft, CustomerPatch
from customers_hub.domain.webhooks import Webhook
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.settings import HubConfig

CREATED = "customer.created"
_phones = itertools.count(int(uuid.uuid4().int % 10_000_000))


def phone() -> str:
    return f"05{next(_phones) % 10**8:08d}"


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub on the session's migrated database (no background workers: tests drive them)."""
    built = build_hub(
        config=HubConfig(data_dir=tmp_path, database_url=database_url, rate_limits_enabled=False)
    )
    built.config.documents_dir.mkdir(parents=True, exist_ok=True)
    yield built
    await built.close()


def admin_of(org_id: str) -> Actor:
    return Actor(
        user_id="emp_admin",
        organization_id=org_id,
        role=Role.ADMIN,
        permissions=frozenset(Permission),
    )


async def new_customer(hub: Hub, org_id: str, name: str = "محمد الفهد") -> str:
    customer = (
        await create_customer(
            hub.deps,
            admin_of(org_id),
            CreateCustomer(CustomerDraft(name=name, phone=phone(), source=CustomerSource.INQUIRY)),
        )
    ).customer
    return customer.id


async def newest(hub: Hub) -> int:
    async with hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.coalesce(func.max(outbox.c.position), 0))) or 0)


async def collect(
    hub: Hub, after: int, count: int, *, only: str | None = None, **kwargs: Any
) -> list[OutboxRecord]:
    """The next ``count`` records after ``after`` (of the event ``only``, if given)."""
    records: list[OutboxRecord] = []
    async with asyncio.timeout(10):
        async for record in hub.events(after, poll_interval=0.01, **kwargs):
            if only is None or record.event == only:
                records.append(record)
            if len(records) == count:
                break
    return records


async def test_a_write_commits_its_events_to_the_outbox_in_order(hub: Hub, org_id: str) -> None:
    start = await newest(hub)
    seen: list[Any] = []

    async def handler(event: Any) -> None:
        seen.append(event)

    unsubscribe = hub.publisher.subscribe(handler)
    try:
        customer_id = await new_customer(hub, org_id)
        await update_customer(
            hub.deps, admin_of(org_id), UpdateCustomer(customer_id, CustomerPatch(city="جدة"))
        )
    finally:
        unsubscribe()
    records = await collect(hub, start, len(seen), organization_id=org_id)
    assert [r.event for r in records] == [e.name for e in seen]  # in-process handlers still run
    assert [r.position for r in records] == sorted(r.position for r in records)
    created = next(e for e in seen if isinstance(e, CustomerCreated))
    first = next(r for r in records if r.event == "customer.created")
    # The webhook body is the WebSocket event's shape, with the event's id and organization.
    outbound = to_outbound(created)
    assert outbound is not None
    assert first.payload == {
        "id": first.event_id,
        "event": "customer.created",
        "organizationId": org_id,
        "timestamp": outbound.timestamp,
        "data": dict(outbound.data),
    }
    assert first.payload == event_payload(created, first.event_id)


async def test_a_rolled_back_write_leaves_nothing_in_the_outbox(hub: Hub, org_id: str) -> None:
    taken = phone()
    draft = CustomerDraft(name="سالم", phone=taken, source=CustomerSource.INQUIRY)
    await create_customer(hub.deps, admin_of(org_id), CreateCustomer(draft))
    before = await newest(hub)
    with pytest.raises(Duplicate):
        await create_customer(hub.deps, admin_of(org_id), CreateCustomer(draft))
    assert await newest(hub) == before


def test_events_without_a_real_time_form_still_have_a_payload() -> None:
    event = EmployeeSaved(
        organization_id="org_1",
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        employee_id="emp_1",
    )
    assert event_payload(event, "evt_1") == {
        "id": "evt_1",
        "event": "employee.saved",
        "organizationId": "org_1",
        "timestamp": "2026-01-02T03:04:05Z",
        "data": {"employeeId": "emp_1"},
    }


async def test_the_stream_resumes_after_a_position(hub: Hub, org_id: str) -> None:
    start = await newest(hub)
    ids = [await new_customer(hub, org_id, f"عميل {i}") for i in range(3)]
    first_two = await collect(hub, start, 2, only=CREATED, organization_id=org_id)
    rest = await collect(hub, first_two[-1].position, 1, only=CREATED, organization_id=org_id)
    streamed = [r.payload["data"]["customer"]["id"] for r in [*first_two, *rest]]
    assert streamed == ids
    # A new event arrives on a stream already waiting at the end.
    waiting = asyncio.create_task(
        collect(hub, rest[-1].position, 1, only=CREATED, organization_id=org_id)
    )
    await asyncio.sleep(0.05)
    later = await new_customer(hub, org_id)
    [record] = await waiting
    assert record.payload["data"]["customer"]["id"] == later


async def test_a_later_commit_never_becomes_visible_before_an_earlier_position(
    hub: Hub, org_id: str
) -> None:
    """Positions become visible in order: while a write that took position N is still open,
    a write that would take N+1 waits (the advisory lock on PostgreSQL, the write lock on
    SQLite), so a reader never moves past N and skips it."""
    start = await newest(hub)
    writer = SqlOutboxWriter(PrefixedIdGenerator())

    def saved(employee_id: str) -> EmployeeSaved:
        return EmployeeSaved(
            organization_id=org_id, occurred_at=datetime.now(UTC), employee_id=employee_id
        )

    async def second() -> None:
        async with hub.deps.uow() as uow:
            await writer(uow, [saved("emp_second")])
            await uow.commit()

    async with hub.deps.uow() as first:
        await writer(first, [saved("emp_first")])
        later = asyncio.create_task(second())
        await asyncio.sleep(0.3)  # the second write would have committed by now
        async with hub.engine.connect() as conn:
            visible = await sql_outbox.read_after(conn, start, organization_id=org_id)
        assert visible == []  # not the second alone: the reader would skip the first
        await first.commit()
    await later
    records = await collect(hub, start, 2, organization_id=org_id)
    assert [r.payload["data"]["employeeId"] for r in records] == ["emp_first", "emp_second"]


async def local_hook(hub: Hub, org_id: str) -> Webhook:
    """A hook on a closed local port (private targets allowed, as in the tests' setting)."""
    services = attrs.evolve(hub.webhooks, allow_private=True)
    deps = attrs.evolve(hub.deps, webhooks=services)
    command = CreateWebhook(url="http://127.0.0.1:9/hook", events=("*",))
    return await create_webhook(deps, admin_of(org_id), command)


def is_created(message: dict[str, Any]) -> bool:
    return bool(message["payload"]["event"] == CREATED)


def relay_for(
    hub: Hub, bus: EventBus, cursor: str, engine: AsyncEngine | None = None
) -> OutboxRelay:
    return OutboxRelay(
        engine=engine,
        database_url=hub.config.database_url,
        bus_cursor=cursor,
        event_bus=bus,
        cache=InMemoryCache(),
        ids=PrefixedIdGenerator(),
        clock=SystemClock(),
        settings=OutboxSettings(),
    )


async def test_two_relays_deliver_each_event_once_and_in_order(hub: Hub, org_id: str) -> None:
    bus = InProcessEventBus()
    cursor = f"bus:test:{uuid.uuid4().hex}"
    relays = [relay_for(hub, bus, cursor) for _ in range(2)]
    for relay in relays:
        await relay.open()  # each on an engine of its own, driven by hand below
    hook = await local_hook(hub, org_id)
    subscription = await bus.subscribe(org_id)
    try:
        for relay in relays:  # both cursors exist before the writes
            await relay.run_once()
        start = await newest(hub)
        ids = [await new_customer(hub, org_id, f"ترتيب {i}") for i in range(12)]

        async def drain(relay: OutboxRelay) -> None:
            for _ in range(200):
                outcome = await relay.run_once()
                if not outcome.handled and not outcome.busy:
                    return

        await asyncio.gather(*(drain(r) for r in relays))
        messages = []
        while (message := await subscription.get(timeout=0.2)) is not None:
            messages.append(message)
        got = [m["payload"]["data"]["customer"]["id"] for m in messages if is_created(m)]
        assert got == ids  # each once, in commit order
        async with hub.engine.connect() as conn:
            delivered_events = (
                (
                    await conn.execute(
                        select(webhook_deliveries.c.event_id).where(
                            webhook_deliveries.c.webhook_id == hook.id
                        )
                    )
                )
                .scalars()
                .all()
            )
            committed = (
                (
                    await conn.execute(
                        select(outbox.c.event_id).where(
                            outbox.c.organization_id == org_id, outbox.c.position > start
                        )
                    )
                )
                .scalars()
                .all()
            )
        # One delivery per committed event of the organization ("*"), none twice.
        assert sorted(delivered_events) == sorted(committed)
        assert len(committed) >= 12
    finally:
        await subscription.aclose()
        for relay in relays:
            await relay.stop()


async def test_pruning_deletes_old_relayed_events_in_bounded_batches(hub: Hub, org_id: str) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    async with hub.engine.begin() as conn:
        rows = [
            {
                "event_id": f"evt_old_{org_id}_{i}",
                "organization_id": org_id,
                "event": "customer.updated",
                "payload": {},
                "routing": {"message": None, "tags": []},
                "occurred_at": old,
            }
            for i in range(5)
        ]
        await conn.execute(insert(outbox), rows)
        top = await conn.scalar(select(func.max(outbox.c.position)))
        # Everything is relayed for webhooks (the cursor sits past these rows).
        existing = await conn.scalar(
            select(outbox_cursors.c.position).where(outbox_cursors.c.name == WEBHOOKS_CURSOR)
        )
        if existing is None:
            await conn.execute(
                insert(outbox_cursors).values(
                    name=WEBHOOKS_CURSOR, position=top, updated_at=datetime.now(UTC)
                )
            )
        else:
            await conn.execute(
                update(outbox_cursors)
                .where(outbox_cursors.c.name == WEBHOOKS_CURSOR)
                .values(position=max(existing, top))
            )
    relay = relay_for(hub, InProcessEventBus(), f"bus:test:{uuid.uuid4().hex}", hub.engine)
    async with SqlUnitOfWork(hub.engine) as uow:
        deleted = await sql_outbox.prune(
            uow.connection,
            older_than=datetime.now(UTC) - timedelta(days=7),
            up_to_position=top,
            limit=2,
        )
        await uow.commit()
    assert deleted == 2  # bounded
    # The relay prunes in bounded batches, a pass a minute: the shared test database may hold
    # older rows of other tests (written with fixed clocks) before these.
    for _ in range(1000):
        if not await relay.prune():
            break
    async with hub.engine.connect() as conn:
        left = await conn.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.organization_id == org_id)
        )
    assert left == 0


def due_delivery(hook: Webhook, org_id: str, position: int, now: datetime) -> dict[str, Any]:
    """A pending delivery row of ``hook``, due a second ago."""
    return {
        "id": f"whd_{uuid.uuid4().hex}",
        "webhook_id": hook.id,
        "organization_id": org_id,
        "position": position,
        "event_id": f"evt_{position}",
        "event": "customer.created",
        "payload": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now - timedelta(seconds=1),
        "leased_until": None,
        "created_at": now,
        "updated_at": now,
    }


async def test_one_hooks_deliveries_are_never_claimed_twice_at_once(hub: Hub, org_id: str) -> None:
    hook = await local_hook(hub, org_id)
    now = datetime.now(UTC)
    async with hub.engine.begin() as conn:
        await conn.execute(
            insert(webhook_deliveries), [due_delivery(hook, org_id, i, now) for i in range(1, 6)]
        )

    async def claim() -> list[str]:
        async with SqlUnitOfWork(hub.engine) as uow:
            claimed = await claim_due(
                uow.connection, datetime.now(UTC), concurrency=2, lease=timedelta(seconds=30)
            )
            await uow.commit()
        return [c.id for c in claimed if c.webhook_id == hook.id]

    first, second = await asyncio.gather(claim(), claim())
    assert len(first) + len(second) == 2  # at most 2 in flight for the hook, across claimers
    assert not set(first) & set(second)
    assert await claim() == []  # both slots are leased


async def test_hooks_that_cannot_send_never_starve_one_that_can(hub: Hub, org_id: str) -> None:
    # A disabled hook keeps its pending deliveries (they resume when it is enabled again) and a
    # hook at its concurrency keeps a backlog: the claimer must pick among hooks that can send,
    # or enough of the others fill its batch.
    disabled = [await local_hook(hub, org_id) for _ in range(6)]
    busy = [await local_hook(hub, org_id) for _ in range(6)]
    active = await local_hook(hub, org_id)
    now = datetime.now(UTC)
    leased = now + timedelta(minutes=5)
    in_flight = [
        {**due_delivery(h, org_id, 100 + i, now), "leased_until": leased, "next_attempt_at": leased}
        for i, h in enumerate(busy)
    ]
    due = [due_delivery(h, org_id, i, now) for i, h in enumerate([*disabled, *busy, active])]
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(webhooks)
            .where(webhooks.c.id.in_([h.id for h in disabled]))
            .values(is_active=False)
        )
        await conn.execute(insert(webhook_deliveries), [*in_flight, *due])
    seen: list[str] = []
    for _ in range(100):  # other tests' due deliveries may come first, one per call
        async with SqlUnitOfWork(hub.engine) as uow:
            claimed = await claim_due(
                uow.connection,
                datetime.now(UTC),
                concurrency=1,
                lease=timedelta(seconds=60),
                limit=1,
            )
            await uow.commit()
        assert claimed, "a hook that can send has a due delivery, yet nothing was claimed"
        seen += [c.webhook_id for c in claimed]
        if active.id in seen:
            break
    assert active.id in seen
    assert not set(seen) & {h.id for h in [*disabled, *busy]}


async def test_claiming_reads_no_hooks_backlog_per_due_row(hub: Hub, org_id: str) -> None:
    # A failing hook's backlog grows; the claim must not count it once per due row (a
    # correlated subquery: quadratic, it spun a fuzzed server at 100 % CPU).
    hook = await local_hook(hub, org_id)
    now = datetime.now(UTC)
    async with hub.engine.begin() as conn:
        await conn.execute(
            insert(webhook_deliveries), [due_delivery(hook, org_id, i, now) for i in range(50)]
        )
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(hub.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with SqlUnitOfWork(hub.engine) as uow:
            claimed = await claim_due(
                uow.connection, datetime.now(UTC), concurrency=1, lease=timedelta(seconds=60)
            )
            await uow.rollback()
    finally:
        event.remove(hub.engine.sync_engine, "before_cursor_execute", capture)
    assert claimed
    sqlite = hub.engine.dialect.name == "sqlite"
    async with hub.engine.connect() as conn:
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = " ".join(
                str(row[-1]) for row in await conn.exec_driver_sql(explain + statement, params)
            )
            assert "CORRELATED" not in plan, (statement, plan)
            assert "SubPlan" not in plan, (statement, plan)


async def test_a_webhook_and_its_deliveries_read_back_as_stored(hub: Hub, org_id: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    webhook = Webhook(
        id=f"whk_{uuid.uuid4().hex[:20]}",
        organization_id=org_id,
        url="https://hooks.example.com/in",
        events=("customer.created", "action.updated"),
        secret="whsec_x",
        description="وصف",
        is_active=False,
        disabled_reason="disabled",
        failing_since=now - timedelta(days=1),
        created_at=now - timedelta(seconds=5),
        updated_at=now,
        created_by="emp_admin",
    )
    record = OutboxRecord(
        position=123,
        event_id="evt_rt",
        organization_id=org_id,
        event="customer.created",
        payload={"id": "evt_rt", "data": {"x": 1}},
        occurred_at=now,
    )
    async with SqlUnitOfWork(hub.engine) as uow:
        repo = sql_webhook_repository(uow)
        await repo.add(webhook)
        assert await repo.get(org_id, webhook.id) == webhook
        assert await repo.get("org_other", webhook.id) is None
        await repo.save(attrs.evolve(webhook, is_active=True))  # the relay takes active hooks
        rows = [RelayRow(record, None, ())]
        assert await create_deliveries(uow.connection, rows, PrefixedIdGenerator(), now) == 1
        page = await repo.deliveries(org_id, webhook.id, page=1, limit=10)
        [delivery] = page.items
        assert (delivery.position, delivery.event_id, delivery.event) == (123, "evt_rt", CREATED)
        assert (delivery.status.value, delivery.attempts, delivery.next_attempt_at) == (
            "pending",
            0,
            now,
        )
        assert page.total_items == 1
        await uow.rollback()


async def test_the_background_workers_publish_a_write_before_it_returns(
    hub: Hub, org_id: str
) -> None:
    """Embedding: ``async with hub.background_workers()`` relays; a write returns after its
    real-time message is on the bus (the first write after the start included)."""
    subscription = await hub.event_bus.subscribe(org_id)
    try:
        async with hub.background_workers():
            customer_id = await new_customer(hub, org_id)
            message = await subscription.get(timeout=0.01)  # already there
            assert message is not None
            assert message["payload"]["event"] == CREATED
            assert message["payload"]["data"]["customer"]["id"] == customer_id
    finally:
        await subscription.aclose()


async def test_events_written_while_redis_is_down_reach_the_other_instances_when_it_returns(
    hub: Hub, org_id: str, tmp_path: Path
) -> None:
    """The relay keeps its bus cursor before an event Redis did not take (a fallback to this
    instance's subscribers only would lose it for the others) and hands it over, in order,
    once Redis answers; meanwhile writes do not wait for it."""
    from test_redis_adapters import ThrowawayRedis

    redis = ThrowawayRedis(tmp_path)
    await redis.start()
    relay_bus = RedisEventBus.from_url(redis.url)  # the bus of the relaying instance
    other_bus = RedisEventBus.from_url(redis.url)  # another instance's
    subscription = await other_bus.subscribe(org_id)
    relay = relay_for(hub, relay_bus, f"bus:redis-test:{uuid.uuid4().hex}", hub.engine)
    await relay.open()
    try:
        await redis.kill()
        first = await new_customer(hub, org_id)
        second = await new_customer(hub, org_id, name="سارة العتيبي")
        await relay.run_once()
        assert relay.bus_down
        assert await relay.wait_published(await newest(hub), timeout=5) is False  # at once

        await redis.start()
        for _ in range(100):  # the other instance subscribes again
            if other_bus.reconnections:
                break
            await asyncio.sleep(0.05)
        assert other_bus.reconnections
        await relay.run_once()
        assert not relay.bus_down
        received: list[str] = []
        while len(received) < 2:
            message = await subscription.get(timeout=5)
            assert message is not None, received
            if is_created(message):
                received.append(message["payload"]["data"]["customer"]["id"])
        assert received == [first, second]
    finally:
        await subscription.aclose()
        await relay_bus.aclose()
        await other_bus.aclose()
        await redis.kill()


async def test_a_relay_step_that_read_everything_waits_for_the_next_wake_up(
    hub: Hub, org_id: str
) -> None:
    """No second pass after a batch that was not full (a read transaction per write, beside the
    request after it); a full batch is followed at once by the next; every event goes out."""
    bus = InProcessEventBus()
    relay = OutboxRelay(
        database_url=hub.config.database_url,
        bus_cursor=f"bus:test:{uuid.uuid4().hex}",
        event_bus=bus,
        cache=InMemoryCache(),
        ids=PrefixedIdGenerator(),
        clock=SystemClock(),
        settings=OutboxSettings(batch_size=3),
    )
    await relay.open()
    subscription = await bus.subscribe(org_id)
    try:
        for _ in range(10_000):  # to the outbox's end (the shared database holds other tests')
            if await relay._step() != 0.0:
                break
        assert await relay._step() is None  # nothing new: idle until woken or polled
        await new_customer(hub, org_id, "واحد")
        assert await relay._step() is None  # fewer events than a batch: no immediate pass
        assert (await subscription.get(timeout=1)) is not None
        ids = [await new_customer(hub, org_id, f"دفعة {i}") for i in range(4)]
        assert await relay._step() == 0.0  # a full batch: the rest at once
        for _ in range(10):
            if await relay._step() is None:
                break
        got = []
        while (message := await subscription.get(timeout=0.2)) is not None:
            if is_created(message):
                got.append(message["payload"]["data"]["customer"]["id"])
        assert got == ids
    finally:
        await subscription.aclose()
        await relay.stop()

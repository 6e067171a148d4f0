"""Idempotency keys on SQLite and PostgreSQL: the embedding form (``run_once``), the store's
claim/commit/complete/release/sweep rules, and the README's example."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from test_embedding import readme_example

from customers_hub.adapters.sql.tables import customers, idempotency_keys
from customers_hub.application.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    KeyScope,
    StoredResponse,
    bound_claim,
    run_once,
)
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.domain.enums import CustomerSource, Permission, Role
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.settings import HubConfig

_PHONE = iter(range(4_000_001, 4_999_999))


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub on the session's migrated database (its own engine, closed after the test)."""
    built = build_hub(config=HubConfig(data_dir=tmp_path, database_url=database_url))
    yield built
    await built.close()


def admin(org_id: str, user_id: str = "emp_admin") -> Actor:
    return Actor(user_id, org_id, Role.ADMIN, frozenset(Permission), name="سارة")


def creator(hub: Hub, actor: Actor, calls: list[str]) -> Callable[[], Awaitable[Any]]:
    """A write that creates a customer and counts how often it ran."""
    phone = f"+96657{next(_PHONE):07d}"

    async def work() -> dict[str, str]:
        calls.append(phone)
        customer = (
            await create_customer(
                hub.deps,
                actor,
                CreateCustomer(
                    CustomerDraft(name="محمد", phone=phone, source=CustomerSource.MANUAL)
                ),
            )
        ).customer
        return {"customerId": customer.id}

    return work


async def customer_count(engine: AsyncEngine, org_id: str) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(customers).where(customers.c.organization_id == org_id)
        )
    return int(count or 0)


async def key_rows(engine: AsyncEngine, org_id: str) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.organization_id == org_id)
        )
        return list(result)


async def set_key(engine: AsyncEngine, org_id: str, key: str, **values: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.organization_id == org_id, idempotency_keys.c.key == key)
            .values(**values)
        )


async def test_a_keyed_call_runs_once_and_replays_its_result(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    work = creator(hub, actor, calls)
    first = await run_once(hub.idempotency, actor, "import-1", {"row": 1}, work)
    again = await run_once(hub.idempotency, actor, "import-1", {"row": 1}, work)
    assert again == first
    assert first["customerId"].startswith("cust_")
    assert len(calls) == 1
    assert await customer_count(engine, org_id) == 1
    [row] = await key_rows(engine, org_id)
    assert (row.status, row.response_status) == ("completed", None)


async def test_the_same_key_with_another_request_is_refused(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    await run_once(hub.idempotency, actor, "k", {"row": 1}, creator(hub, actor, calls))
    with pytest.raises(IdempotencyKeyReused):
        await run_once(hub.idempotency, actor, "k", {"row": 2}, creator(hub, actor, calls))
    assert len(calls) == 1
    assert await customer_count(engine, org_id) == 1


async def test_a_call_while_the_first_runs_is_in_progress(hub: Hub, org_id: str) -> None:
    actor, started, finish = admin(org_id), asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        await finish.wait()
        return "done"

    first = asyncio.create_task(run_once(hub.idempotency, actor, "k", None, slow))
    await asyncio.wait_for(started.wait(), 5)
    with pytest.raises(IdempotencyInProgress) as refused:
        await run_once(hub.idempotency, actor, "k", None, slow)
    assert refused.value.committed is False
    finish.set()
    assert await first == "done"
    assert await run_once(hub.idempotency, actor, "k", None, slow) == "done"


async def test_keys_of_other_users_and_organizations_are_independent(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    calls: list[str] = []
    for actor in (admin(org_id), admin(org_id, "emp_other"), admin(f"{org_id}_b")):
        await run_once(hub.idempotency, actor, "same", {"a": 1}, creator(hub, actor, calls))
    assert len(calls) == 3


async def test_a_failed_call_frees_its_key(hub: Hub, engine: AsyncEngine, org_id: str) -> None:
    actor, calls = admin(org_id), []

    async def refused() -> None:
        await create_customer(
            hub.deps, actor, CreateCustomer(CustomerDraft(name="x", phone="not a phone"))
        )

    with pytest.raises(ValidationFailed):
        await run_once(hub.idempotency, actor, "k", {"a": 1}, refused)
    assert await key_rows(engine, org_id) == []
    await run_once(hub.idempotency, actor, "k", {"a": 1}, creator(hub, actor, calls))
    assert len(calls) == 1


async def test_a_bad_key_is_a_validation_error(hub: Hub, org_id: str) -> None:
    for key in ("", " lead", "x" * 256, "مفتاح"):
        with pytest.raises(ValidationFailed):
            await run_once(hub.idempotency, admin(org_id), key, None, lambda: asyncio.sleep(0))


async def test_a_crash_between_claim_and_commit_lets_a_retry_run_once(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    scope = KeyScope(org_id, actor.user_id, "k")
    store = hub.idempotency
    crashed = await store.claim(scope, "f" * 64)  # the holder then died before writing
    assert not isinstance(crashed, StoredResponse)
    await set_key(engine, org_id, "k", locked_until=datetime.now(UTC) - timedelta(seconds=1))
    # A retry of the same request (same fingerprint) takes the lease over and runs once.
    taken = await store.claim(scope, "f" * 64)
    assert not isinstance(taken, StoredResponse)
    assert taken.token != crashed.token
    with bound_claim(taken):
        await creator(hub, actor, calls)()
    # The old holder, had it only been slow, can no longer commit under the key.
    with bound_claim(crashed), pytest.raises(IdempotencyInProgress):
        await creator(hub, actor, calls)()
    assert await customer_count(engine, org_id) == 1
    [row] = await key_rows(engine, org_id)
    assert row.status == "committed"


async def test_a_committed_write_without_a_stored_result_never_runs_again(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    claim = await hub.idempotency.claim(KeyScope(org_id, actor.user_id, "k"), "f" * 64)
    assert not isinstance(claim, StoredResponse)
    with bound_claim(claim):
        await creator(hub, actor, calls)()  # committed, then the process "died"
    await set_key(engine, org_id, "k", locked_until=datetime.now(UTC) - timedelta(hours=1))
    await hub.idempotency.release(claim)  # a release never frees a committed key
    with pytest.raises(IdempotencyInProgress) as refused:
        await hub.idempotency.claim(KeyScope(org_id, actor.user_id, "k"), "f" * 64)
    assert refused.value.committed is True
    assert await customer_count(engine, org_id) == 1


async def test_expired_keys_are_swept_and_run_again(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    await run_once(hub.idempotency, actor, "old", 1, creator(hub, actor, calls))
    await run_once(hub.idempotency, actor, "live", 1, creator(hub, actor, calls))
    await set_key(engine, org_id, "old", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    # Before the sweep, an expired key is already free again.
    await run_once(hub.idempotency, actor, "old", 1, creator(hub, actor, calls))
    assert len(calls) == 3
    await set_key(engine, org_id, "old", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert await hub.idempotency.sweep() >= 1
    assert [row.key for row in await key_rows(engine, org_id)] == ["live"]
    await run_once(hub.idempotency, actor, "old", 1, creator(hub, actor, calls))
    assert len(calls) == 4


async def test_a_stored_http_response_round_trips(hub: Hub, org_id: str) -> None:
    scope = KeyScope(org_id, "emp_admin", "k")
    claim = await hub.idempotency.claim(scope, "a" * 64)
    assert not isinstance(claim, StoredResponse)
    response = StoredResponse(201, (("content-type", "application/json"),), b'{"\xd8\xa7":1}')
    assert await hub.idempotency.complete(claim, response)
    assert await hub.idempotency.claim(scope, "a" * 64) == response
    binary = StoredResponse(200, (), bytes(range(256)))
    other = await hub.idempotency.claim(KeyScope(org_id, "emp_admin", "b"), "a" * 64)
    assert not isinstance(other, StoredResponse)
    assert await hub.idempotency.complete(other, binary)
    assert await hub.idempotency.claim(KeyScope(org_id, "emp_admin", "b"), "a" * 64) == binary


async def test_the_readme_example_runs(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    url = database_url if engine.dialect.name == "postgresql" else f"sqlite:///{tmp_path / 'h.db'}"
    await readme_example("idempotency-example")(url)


async def test_a_write_left_behind_after_the_result_was_stored_keeps_it(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    actor, calls = admin(org_id), []
    scope = KeyScope(org_id, actor.user_id, "k")
    claim = await hub.idempotency.claim(scope, "f" * 64)
    assert not isinstance(claim, StoredResponse)
    stored = StoredResponse(201, (), b"{}")
    assert await hub.idempotency.complete(claim, stored)
    with bound_claim(claim):  # e.g. a task the request started, writing later
        await creator(hub, actor, calls)()
    assert await customer_count(engine, org_id) == 1
    assert await hub.idempotency.claim(scope, "f" * 64) == stored

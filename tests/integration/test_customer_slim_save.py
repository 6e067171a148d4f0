"""``save()`` writes the changed columns (issue 13, "a slim write path"), on SQLite and
PostgreSQL: the versioned ``UPDATE customers`` sets only the columns whose value moved (plus
``version`` and ``updated_at``) when the unit of work loaded that version, every column when it
did not, and whatever it sets reads back equal to the domain object."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from test_sql_repositories import (
    NOW,
    _fully_filled,
    add_customers,
    admin,
    canonical,
    drawn,
    fresh_customer,
    plain_customer,
    suffix,
)

from customers_hub.adapters.sql import mappers
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.domain import lifecycle
from customers_hub.domain.enums import CustomerSource, Permission, Role, Stage
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import Actor, Customer
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import build_hub
from customers_hub.testing.strategies import customers

ALWAYS = {"version", "updated_at"}
KEY = {"id", "organization_id", "created_at"}
# A patch may change any field of the row; the history is append-only (its own test) and the
# key never changes.
PATCHABLE = sorted(
    f.name
    for f in attrs.fields(Customer)
    if f.name not in {*KEY, "version", "stage_history", "updated_at"}
)
_SET_COLUMN = re.compile(r"(\w+)\s*=\s*(?:\?|\$\d+|%\(\w+\)s|:\w+)")


def _set_columns(statement: str) -> set[str]:
    """The column names of an ``UPDATE customers SET … WHERE …`` statement's ``SET``."""
    set_clause = statement.split(" SET ", 1)[1].rsplit(" WHERE ", 1)[0]
    return set(_SET_COLUMN.findall(set_clause))


@contextmanager
def customer_updates(engine: AsyncEngine | AsyncConnection) -> Iterator[list[set[str]]]:
    """The ``SET`` columns of each ``UPDATE customers`` sent to the database in the block."""
    seen: list[set[str]] = []
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine.sync_connection

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.match(r"\s*UPDATE customers SET", statement):
            seen.append(_set_columns(statement))

    event.listen(target, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", before)


def changed_columns(before: Customer, after: Customer) -> set[str]:
    """The columns whose mapped value differs between two versions of a customer."""
    old, new = mappers.customer_values(before), mappers.customer_values(after)
    return {c for c in new if c not in KEY and (old[c] != new[c] or repr(old[c]) != repr(new[c]))}


async def test_a_stage_change_updates_only_the_columns_it_changed(
    engine: AsyncEngine, database_url: str, org_id: str
) -> None:
    actor = Actor("emp_admin", org_id, Role.ADMIN, frozenset(Permission), name="سارة")
    async with build_hub(database_url) as hub:
        created = await create_customer(
            hub.deps,
            actor,
            CreateCustomer(
                CustomerDraft(name="محمد", phone="0551234567", source=CustomerSource.MANUAL)
            ),
        )
        with customer_updates(hub.engine) as updates:
            moved = await change_stage(
                hub.deps,
                actor,
                ChangeStage(created.customer.id, StageChangeRequest(to_stage=Stage.QUALIFIED)),
            )
    assert len(updates) == 1, updates
    (columns,) = updates
    expected = changed_columns(created.customer, moved.customer) | ALWAYS
    assert columns == expected
    assert "stage" in columns
    # A stage change leaves the contact data, preferences and notes alone: not in the SET.
    assert not columns & {"name", "phone", "email", "preferences", "notes", "tags", "source"}
    assert len(columns) < len(mappers.customer_values(moved.customer)) // 3


async def test_without_a_snapshot_of_the_version_every_column_is_written(
    engine: AsyncEngine, org_id: str
) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    moved, _ = lifecycle.change_stage(
        customer,
        lifecycle.StageChangeRequest(to_stage=Stage.QUALIFIED),
        actor=admin(org_id),
        entry_id=f"stage_{suffix()}",
        now=NOW + timedelta(hours=1),
    )
    async with factory() as uow:  # a unit of work that never loaded the customer
        with customer_updates(uow.connection) as updates:
            await uow.customers.save(moved, expected_version=customer.version)
        await uow.commit()
    assert updates == [set(mappers.customer_values(moved)) - KEY]
    async with factory() as uow:
        assert await uow.customers.get(org_id, customer.id) == canonical(moved)


@st.composite
def _patches(draw: st.DrawFn, org: str) -> tuple[Customer, list[Customer]]:
    """A new customer of ``org`` and one to three later versions of it, each taking a random set
    of fields from another drawn customer (the id, the key and the history stay)."""
    some = st.one_of(customers(organization_id=org), _fully_filled(org))
    base = fresh_customer(draw(some), org)
    versions: list[Customer] = []
    current = base
    for _ in range(draw(st.integers(1, 3))):
        other = fresh_customer(draw(some), org)  # a phone and interest ids of its own
        names = draw(st.sets(st.sampled_from(PATCHABLE), min_size=1))
        current = attrs.evolve(
            current,
            **{name: getattr(other, name) for name in names},
            version=current.version + 1,
            updated_at=max(current.updated_at, other.updated_at) + timedelta(seconds=1),
        )
        versions.append(current)
    return base, versions


async def test_random_patches_saved_by_the_slim_path_read_back_equal(
    engine: AsyncEngine, org_id: str
) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    for base, versions in drawn(_patches(org_id), 25):
        await add_customers(factory, base)
        async with factory() as uow:
            loaded = await uow.customers.get_for_update(org_id, base.id)
            assert loaded == canonical(base)
            previous = loaded
            for version in versions:
                with customer_updates(uow.connection) as updates:
                    await uow.customers.save(version, expected_version=previous.version)
                # Only what moved since the version this unit of work loaded or wrote.
                assert updates == [changed_columns(previous, version) | ALWAYS]
                previous = version
            await uow.commit()
        async with factory() as uow:
            stored = await uow.customers.get(org_id, base.id)
        assert stored == canonical(versions[-1])

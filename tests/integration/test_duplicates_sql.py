"""Duplicate candidates in SQL on SQLite and PostgreSQL: what the indexed lookups find is exactly
what the domain's rule (checked pairwise here, in the test) says — for one customer and for the
pairs of an organization — within the scope, never across organizations or with deleted
customers; and revision 0003 fills the keys of customers stored before it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from customers_hub.adapters.sql import migrate
from customers_hub.adapters.sql.duplicates import SqlDuplicateQueries
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import PageRequest
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.duplicates import duplicate_reasons, score_of
from customers_hub.domain.enums import CustomerSource, Role, Stage
from customers_hub.domain.model import Customer, Employee

BASE = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
PHONES = [f"+9665500000{n:02d}" for n in range(12)]
NAMES = ["محمد الفهد", "مُحَمَّد الفهد", "أحمد السعيد", "احمد السعيد", "نورة", "سارة"]
NAMES_EN = [None, "Mohammed Al-Fahd", "mohammed al-fahd ", "Ahmed", None]
CITIES = ["الرياض", "الریاض", "جدة", "جده", None]
EMAILS = [None, "a@example.com", "A@Example.COM", "b@example.com", None, None]
NATIONAL_IDS = [None, "1000000008", "1000000016", None, None]
ASSIGNEES = [None, "agt_1", "agt_2", "agt_3"]


def employees(org: str) -> list[Employee]:
    return [
        Employee("mgr_1", org, "منيرة", Role.SALES_MANAGER),
        Employee("agt_1", org, "أحمد", Role.SALES_AGENT, manager_id="mgr_1"),
        Employee("agt_2", org, "بدر", Role.SALES_AGENT, manager_id="mgr_1"),
        Employee("agt_3", org, "تركي", Role.SALES_AGENT),
    ]


def random_customers(org: str, count: int, seed: int) -> list[Customer]:
    """Customers drawn from small pools, so every kind of key is shared by several."""
    rng = random.Random(seed)
    phones = iter(rng.sample(range(10**7), count))
    out = []
    for n in range(count):
        created = BASE + timedelta(minutes=n)
        # Live phones are unique: each gets its own; WhatsApp numbers come from a pool that
        # overlaps the phones of the first customers.
        own_phone = f"+96656{next(phones):07d}" if n >= len(PHONES) else PHONES[n]
        out.append(
            Customer(
                id=f"{org}_c{n:03d}",
                organization_id=org,
                name=rng.choice(NAMES),
                name_en=rng.choice(NAMES_EN),
                phone=own_phone,
                whatsapp=rng.choice([None, None, *PHONES]),
                email=rng.choice(EMAILS),
                national_id=rng.choice(NATIONAL_IDS),
                city=rng.choice(CITIES),
                source=CustomerSource.MANUAL,
                stage=Stage.NEW_LEAD,
                created_at=created,
                updated_at=created,
                assigned_employee_id=rng.choice(ASSIGNEES),
                deleted_at=BASE if rng.random() < 0.1 else None,
            )
        )
    return out


async def store(engine: AsyncEngine, org: str, customers: list[Customer]) -> None:
    async with SqlUnitOfWork(engine) as uow:
        for employee in employees(org):
            await uow.employees.save(employee)
        for customer in customers:
            await uow.customers.add(customer)
        await uow.commit()


def in_scope(customer: Customer, scope: ScopeFilter) -> bool:
    if customer.organization_id != scope.organization_id or customer.deleted_at is not None:
        return False
    if scope.kind is Reach.ALL:
        return True
    if scope.kind is Reach.OWN:
        return customer.assigned_employee_id == scope.employee_id
    team = {"mgr_1": {"mgr_1", "agt_1", "agt_2"}}.get(scope.employee_id or "", set())
    return customer.assigned_employee_id in team


def expected_pairs(customers: list[Customer], scope: ScopeFilter) -> list[tuple[str, str, int]]:
    """Every pair the domain's rule accepts, both in scope: the brute force of the test."""
    seen = [c for c in customers if in_scope(c, scope)]
    found = []
    for i, first in enumerate(seen):
        for second in seen[i + 1 :]:
            reasons = duplicate_reasons(first, second)
            if reasons:
                low, high = sorted((first.id, second.id))
                found.append((low, high, score_of(reasons)))
    return sorted(found, key=lambda p: (-p[2], p[0], p[1]))


SCOPES = {
    "admin": lambda org: ScopeFilter(org, Reach.ALL),
    "manager": lambda org: ScopeFilter(org, Reach.TEAM, "mgr_1"),
    "agent": lambda org: ScopeFilter(org, Reach.OWN, "agt_1"),
}


@pytest.mark.parametrize("who", sorted(SCOPES))
async def test_pairs_are_exactly_the_rules_pairs(
    engine: AsyncEngine, org_id: str, who: str
) -> None:
    customers = random_customers(org_id, 60, seed=7)
    await store(engine, org_id, customers)
    # Another organization with the very same keys: never paired with ours.
    other = f"{org_id}_x"
    await store(engine, other, random_customers(other, 30, seed=7))
    scope = SCOPES[who](org_id)
    expected = expected_pairs(customers, scope)
    assert len(expected) > 5  # the pools make plenty of pairs

    queries = SqlDuplicateQueries(engine)
    everything = await queries.pairs(scope, PageRequest(page=1, limit=100))
    found = [(p.first_id, p.second_id, p.score) for p in everything.items]
    assert found == expected[:100]
    assert everything.total_items == len(expected)

    paged: list[tuple[str, str, int]] = []
    page = 1
    while True:
        result = await queries.pairs(scope, PageRequest(page=page, limit=7))
        paged += [(p.first_id, p.second_id, p.score) for p in result.items]
        if not result.has_next:
            break
        page += 1
    assert paged == expected


async def test_candidates_of_each_customer_are_the_rules(engine: AsyncEngine, org_id: str) -> None:
    customers = random_customers(org_id, 40, seed=11)
    await store(engine, org_id, customers)
    other = f"{org_id}_x"
    await store(engine, other, random_customers(other, 40, seed=11))
    queries = SqlDuplicateQueries(engine)
    for scope in (SCOPES["admin"](org_id), SCOPES["manager"](org_id)):
        for customer in customers:
            if customer.deleted_at is not None:
                continue
            expected = sorted(
                (
                    (-score_of(duplicate_reasons(customer, other_one)), other_one.id)
                    for other_one in customers
                    if in_scope(other_one, scope) and duplicate_reasons(customer, other_one)
                ),
            )
            found = await queries.candidates(customer, scope, 50)
            assert found == [i for _, i in expected][:50], customer.id


async def test_candidates_are_limited_strongest_first(engine: AsyncEngine, org_id: str) -> None:
    base = Customer(
        id=f"{org_id}_base",
        organization_id=org_id,
        name="فهد",
        phone="+966551110000",
        email="f@example.com",
        city="الرياض",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=BASE,
        updated_at=BASE,
    )
    same_name = [
        Customer(
            id=f"{org_id}_n{n}",
            organization_id=org_id,
            name="فهد",
            phone=f"+96655222{n:04d}",
            city="الرياض",
            source=CustomerSource.MANUAL,
            stage=Stage.NEW_LEAD,
            created_at=BASE,
            updated_at=BASE,
        )
        for n in range(5)
    ]
    same_email = Customer(
        id=f"{org_id}_z",
        organization_id=org_id,
        name="آخر",
        phone="+966553330000",
        email="F@EXAMPLE.COM",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=BASE,
        updated_at=BASE,
    )
    await store(engine, org_id, [base, *same_name, same_email])
    found = await SqlDuplicateQueries(engine).candidates(base, ScopeFilter(org_id, Reach.ALL), 3)
    assert found == [same_email.id, same_name[0].id, same_name[1].id]
    assert (
        await SqlDuplicateQueries(engine).candidates(base, ScopeFilter(f"{org_id}_x", Reach.ALL), 3)
        == []
    )
    assert (
        await SqlDuplicateQueries(engine).candidates(base, ScopeFilter(org_id, Reach.NONE), 3) == []
    )


async def test_an_edited_customer_is_found_by_its_new_keys(
    engine: AsyncEngine, org_id: str
) -> None:
    def plain(n: int, name: str) -> Customer:
        return Customer(
            id=f"{org_id}_e{n}",
            organization_id=org_id,
            name=name,
            phone=f"+96655444000{n}",
            source=CustomerSource.MANUAL,
            stage=Stage.NEW_LEAD,
            created_at=BASE,
            updated_at=BASE,
        )

    first, second = plain(1, "هند"), plain(2, "ريم")
    await store(engine, org_id, [first, second])
    queries = SqlDuplicateQueries(engine)
    scope = ScopeFilter(org_id, Reach.ALL)
    assert await queries.candidates(first, scope, 10) == []
    changed = attrs.evolve(first, email="NEW@example.com", version=2)
    target = attrs.evolve(second, email="new@EXAMPLE.com", city="جدة", version=2)
    async with SqlUnitOfWork(engine) as uow:
        await uow.customers.save(changed, expected_version=1)
        await uow.customers.save(target, expected_version=1)
        await uow.commit()
    assert await queries.candidates(changed, scope, 10) == [second.id]
    renamed = attrs.evolve(changed, name="ريم", email=None, city="جده", version=3)
    async with SqlUnitOfWork(engine) as uow:
        await uow.customers.save(renamed, expected_version=2)
        await uow.commit()
    assert await queries.candidates(renamed, scope, 10) == [second.id]  # name and city now
    pairs = await queries.pairs(scope, PageRequest(limit=10))
    assert [(p.first_id, p.second_id, p.score) for p in pairs.items] == [(first.id, second.id, 50)]


# --- revision 0003 fills the keys of existing customers ------------------------------------------


@pytest.fixture
def empty_database(dialect: str, tmp_path: Path, database_url: str) -> Iterator[str]:
    """A new empty database of the session's kind (dropped after the test on PostgreSQL)."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'before-0003.db'}"
        return
    server = make_url(database_url)
    name = f"hub_dup_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        migrate.sync_url(server.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_revision_0003_fills_the_keys_of_existing_customers(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0002")
    engine = create_engine(migrate.sync_url(empty_database), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for n, (name, name_en, city, email) in enumerate(
                [
                    ("مُحَمَّد الفهد", "Mohammed  AL-FAHD", "الریاض", " Mo@Example.COM "),
                    ("نورة", None, None, None),
                ]
            ):
                conn.execute(
                    text(
                        "INSERT INTO customers (id, organization_id, name, name_en, name_search, "
                        "phone, phone_digits, email, source, stage, preferences, priority, "
                        "priority_rank, tags, city, created_at, updated_at) VALUES (:id, 'org', "
                        ":name, :name_en, '', :phone, '', :email, 'manual', 'new_lead', '{}', "
                        "'medium', 2, '[]', :city, :at, :at)"
                    ),
                    {
                        "id": f"c{n}",
                        "name": name,
                        "name_en": name_en,
                        "phone": f"+96655000000{n}",
                        "email": email,
                        "city": city,
                        "at": "2024-01-01 00:00:00",
                    },
                )
        migrate.upgrade(empty_database, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, name_key, name_en_key, city_key, email_key FROM customers "
                    "ORDER BY id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("c0", "محمد الفهد", "mohammed al-fahd", "الرياض", "mo@example.com"),
            ("c1", "نوره", None, None, None),
        ]
        command.downgrade(migrate.alembic_config(empty_database), "0002")  # drops them again
        with engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM customers")).keys()
        assert "name_key" not in columns
    finally:
        engine.dispose()

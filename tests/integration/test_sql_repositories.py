"""The SQL repositories and unit of work, on SQLite and PostgreSQL (the ``engine`` fixture).

Round trips draw their entities from the public Hypothesis strategies. Hypothesis drives
synchronous functions while the engine lives on the session's event loop, so each round-trip
test first collects the drawn values (:func:`drawn`) and then runs them through the database.
Ids are renewed per draw (:func:`fresh_customer`, …) because ids are global primary keys and
the schema is shared by the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.repositories import SqlPropertyCatalog
from customers_hub.adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain import inbox, lifecycle
from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    SakaniEligibility,
    WafiLicence,
)
from customers_hub.domain.enums import (
    ActionStatus,
    AppointmentStatus,
    AppointmentType,
    CustomerSource,
    DocumentType,
    InteractionDirection,
    InteractionType,
    PaymentFrequency,
    Priority,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    ReminderStatus,
    ReminderType,
    Role,
    Sentiment,
    Stage,
)
from customers_hub.domain.errors import Duplicate, NotFound
from customers_hub.domain.matching import match_properties
from customers_hub.domain.model import (
    ActionNote,
    Actor,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Interaction,
    Preferences,
    Property,
    PropertyInterest,
    Reminder,
    StageChange,
)
from customers_hub.testing.strategies import (
    actions,
    customers,
    employees,
    preferences,
)

T = TypeVar("T")

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


# --- helpers ---------------------------------------------------------------------------------


def drawn(strategy: st.SearchStrategy[T], count: int = 20) -> list[T]:
    """``count`` values drawn by Hypothesis from ``strategy`` (generation only, no database)."""
    values: list[T] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        values.append(value)

    collect()
    assert values, "Hypothesis drew nothing"
    return values


def suffix() -> str:
    return uuid.uuid4().hex[:12]


def unique_phone() -> str:
    return f"+9665{uuid.uuid4().int % 10**8:08d}"


def fresh_customer(customer: Customer, org: str) -> Customer:
    """``customer`` in organization ``org`` with new ids for itself, its history and interests."""
    s = suffix()
    return attrs.evolve(
        customer,
        id=f"cust_{s}",
        organization_id=org,
        phone=unique_phone(),
        stage_history=tuple(
            attrs.evolve(h, id=f"stage_{s}_{n}") for n, h in enumerate(customer.stage_history, 1)
        ),
        property_interests=tuple(
            attrs.evolve(i, id=f"pi_{s}_{n}") for n, i in enumerate(customer.property_interests, 1)
        ),
    )


def canonical(customer: Customer) -> Customer:
    """The customer as the repository returns it: interests ordered by (added_at, id)."""
    return attrs.evolve(
        customer,
        property_interests=tuple(
            sorted(customer.property_interests, key=lambda i: (i.added_at, i.id))
        ),
    )


def fresh_action(action: CustomerAction) -> CustomerAction:
    s = suffix()
    aid = f"action_{s}"
    return attrs.evolve(
        action,
        id=aid,
        notes=tuple(
            attrs.evolve(n, id=f"note_{s}_{k}", action_id=aid) for k, n in enumerate(action.notes)
        ),
    )


def plain_customer(org: str, **changes: Any) -> Customer:
    """A small valid customer at ``new_lead`` with one history entry."""
    s = suffix()
    base = Customer(
        id=f"cust_{s}",
        organization_id=org,
        name="أحمد الغامدي",
        phone=unique_phone(),
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        stage_history=(
            StageChange(
                id=f"stage_{s}_1",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=NOW,
                auto_generated=True,
            ),
        ),
    )
    return attrs.evolve(base, **changes)


def interest(property_id: str, **changes: Any) -> PropertyInterest:
    base = PropertyInterest(
        id=f"pi_{suffix()}",
        property_id=property_id,
        status=PropertyInterestStatus.INTERESTED,
        added_at=NOW,
        property_price=Decimal("1250000.50"),
        property_type=PropertyType.VILLA,
    )
    return attrs.evolve(base, **changes)


def admin(org: str) -> Actor:
    return Actor(user_id="emp_admin", organization_id=org, role=Role.ADMIN, name="مدير النظام")


@contextmanager
def counting(conn: AsyncConnection) -> Iterator[list[str]]:
    """The statements executed on ``conn`` inside the block (one per ``execute`` call)."""
    seen: list[str] = []

    def before(_conn: Any, clause: Any, *_args: Any) -> None:
        seen.append(str(clause).split("\n", 1)[0])

    event.listen(conn.sync_connection, "before_execute", before)
    try:
        yield seen
    finally:
        event.remove(conn.sync_connection, "before_execute", before)


async def add_customers(factory: SqlUnitOfWorkFactory, *items: Customer) -> None:
    async with factory() as uow:
        for c in items:
            await uow.customers.add(c)
        await uow.commit()


async def count_rows(engine: AsyncEngine, table: Any, **where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        return int(await conn.scalar(query) or 0)


@pytest.fixture
def factory(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


# --- mappers (no database) -------------------------------------------------------------------


def test_customer_values_cover_every_column_of_the_table() -> None:
    customer = plain_customer("org_x")
    assert set(mappers.customer_values(customer)) == set(tables.customers.c.keys())


def test_action_values_cover_every_column_of_the_table() -> None:
    action = drawn(actions(), 1)[0]
    written = set(mappers.action_values(action))
    kept = mappers.ACTION_COLUMNS_KEPT_BY_THE_DATABASE
    assert written | kept == set(tables.customer_actions.c.keys())
    assert not written & kept


@pytest.mark.parametrize(
    ("values", "table"),
    [
        (mappers.employee_values(drawn(employees(), 1)[0]), tables.employees),
        (
            mappers.interaction_values(
                "org",
                Interaction(
                    id="i",
                    customer_id="c",
                    type=InteractionType.CALL,
                    date=NOW,
                    notes="n",
                    agent_id="a",
                    agent_name="A",
                ),
            ),
            tables.interactions,
        ),
        (
            mappers.property_values(
                Property(
                    id="p",
                    organization_id="o",
                    title="t",
                    type=PropertyType.VILLA,
                    city="الرياض",
                    price=Decimal(1),
                )
            ),
            tables.properties,
        ),
    ],
)
def test_other_values_cover_every_column(values: dict[str, object], table: Any) -> None:
    assert set(values) == set(table.c.keys())


def test_json_columns_round_trip_exactly_with_camel_case_keys() -> None:
    for customer in drawn(customers(), 30):
        values = mappers.customer_values(customer)
        assert mappers.from_json(values["preferences"], Preferences) == customer.preferences
        if customer.ai_insights is not None:
            stored = values["ai_insights"]
            assert isinstance(stored, dict)
            assert "scoreFactors" in stored
            assert mappers.from_json(stored, type(customer.ai_insights)) == customer.ai_insights
    prefs = Preferences(budget_min=Decimal("1000000.10"), property_type=(PropertyType.VILLA,))
    data = mappers.to_json(prefs, Preferences)
    assert data["budgetMin"] == "1000000.10"
    assert data["propertyType"] == ["villa"]


def test_facets_are_normalized_and_deduplicated() -> None:
    customer = plain_customer(
        "org_f",
        tags=("VIP", "vip ", "investor"),
        preferences=Preferences(
            property_type=(PropertyType.VILLA,),
            preferred_areas=("الرياض - حي النرجس",),
            preferred_cities=("الرياض", "الریاض"),  # the second has a Persian yeh
        ),
    )
    rows = {(r["kind"], r["value"]) for r in mappers.facet_rows(customer)}
    assert rows == {
        ("tag", "vip"),
        ("tag", "investor"),
        ("property_type", "villa"),
        ("area", "الرياض - حي النرجس"),
        ("city", "الرياض"),
    }


def test_appointment_local_columns_are_in_the_organization_time_zone() -> None:
    appointment = Appointment(
        id="a",
        customer_id="c",
        title="معاينة",
        type=AppointmentType.SITE_VISIT,
        at=datetime(2025, 1, 1, 22, 30, tzinfo=UTC),
        duration=60,
        created_at=NOW,
        updated_at=NOW,
    )
    values = mappers.appointment_values("org", appointment)
    assert values["date"] == date(2025, 1, 2)  # 01:30 the next day in Riyadh (UTC+3)
    assert values["time"] == time(1, 30)


# --- customers -------------------------------------------------------------------------------


@st.composite
def _fully_filled(draw: st.DrawFn, org: str) -> Customer:
    """A drawn customer with the fields the strategy leaves at their defaults filled in too."""
    customer = draw(customers(organization_id=org))
    day = st.dates(date(2024, 1, 1), date(2030, 12, 31))
    money = st.integers(1, 10**9).map(lambda n: Decimal(n).scaleb(-2))
    ksa = KsaCompliance(
        ejar=draw(
            st.builds(
                EjarContract,
                contract_number=st.just("EJ-1"),
                landlord_name=st.just("مالك"),
                tenant_name=st.just(customer.name),
                start_date=day,
                end_date=day,
                annual_rent=money,
                payment_frequency=st.sampled_from(PaymentFrequency),
            )
        ),
        wafi=WafiLicence("W-1", "مشروع", draw(st.none() | day)),
        sakani=SakaniEligibility(draw(st.booleans()), "B-1", draw(st.none() | day)),
        financing=Financing(bank="الراجحي", pre_approval_amount=draw(money), is_citizen=True),
    )
    return attrs.evolve(
        customer,
        region="منطقة الرياض",
        address="طريق الملك فهد",
        latitude=draw(st.integers(-90 * 10**8, 90 * 10**8).map(lambda n: Decimal(n).scaleb(-8))),
        longitude=draw(st.integers(-180 * 10**8, 180 * 10**8).map(lambda n: Decimal(n).scaleb(-8))),
        avg_response_time=draw(st.floats(0, 10_000, allow_nan=False)),
        ksa_compliance=ksa,
        source_details={"campaign": "ramadan", "inquiryId": "inq_1"},
        property_interests=tuple(
            attrs.evolve(
                i,
                property_title_en="Villa",
                property_image="https://img.example/p.jpg",
                property_location="حي النرجس",
                viewed_at=i.added_at + timedelta(days=1),
                feedback="أعجبه التصميم",
                rating=draw(st.integers(1, 5)),
                notes="يفضل الدور الأرضي",
            )
            for i in customer.property_interests
        ),
    )


async def test_customers_round_trip(factory: SqlUnitOfWorkFactory, org_id: str) -> None:
    items = [fresh_customer(c, org_id) for c in drawn(customers(organization_id=org_id))]
    items += [fresh_customer(c, org_id) for c in drawn(_fully_filled(org_id), 10)]
    items += [
        fresh_customer(c, org_id) for c in drawn(customers(organization_id=org_id, deleted=True), 5)
    ]
    await add_customers(factory, *items)
    async with factory() as uow:
        for c in items:
            with counting(uow.connection) as statements:
                loaded = await uow.customers.get(org_id, c.id)
            assert loaded == canonical(c)
            assert len(statements) == 3


async def test_get_many_loads_any_number_of_customers_in_three_statements(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    items = [fresh_customer(c, org_id) for c in drawn(customers(organization_id=org_id), 12)]
    await add_customers(factory, *items)
    async with factory() as uow:
        with counting(uow.connection) as statements:
            found = await uow.customers.get_many(org_id, [c.id for c in items] + ["cust_missing"])
        assert len(statements) == 3
        assert found == {c.id: canonical(c) for c in items}
        with counting(uow.connection) as statements:
            assert await uow.customers.get_many(org_id, []) == {}
        assert statements == []


async def test_a_missing_customer_is_none(factory: SqlUnitOfWorkFactory, org_id: str) -> None:
    async with factory() as uow:
        assert await uow.customers.get(org_id, "cust_nope") is None
        assert await uow.customers.get_for_update(org_id, "cust_nope") is None


async def test_save_writes_a_stage_change_and_appends_one_history_entry(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id, tags=("vip",))
    await add_customers(factory, customer)
    async with factory() as uow:
        loaded = await uow.customers.get_for_update(org_id, customer.id)
        assert loaded is not None
        moved, _ = lifecycle.change_stage(
            loaded,
            lifecycle.StageChangeRequest(to_stage=Stage.QUALIFIED, notes="ميزانية مؤكدة"),
            actor=admin(org_id),
            entry_id=f"stage_{suffix()}",
            now=NOW + timedelta(hours=1),
        )
        with counting(uow.connection) as statements:
            await uow.customers.save(moved, expected_version=loaded.version)
        # The versioned UPDATE and the one new history row; tags and preferences are unchanged.
        assert len(statements) == 2
        await uow.commit()
    async with factory() as uow:
        stored = await uow.customers.get(org_id, customer.id)
    assert stored == canonical(moved)
    assert stored is not None
    assert stored.version == customer.version + 1
    assert [h.to_stage for h in stored.stage_history] == [Stage.NEW_LEAD, Stage.QUALIFIED]
    assert await count_rows(engine, tables.stage_history, customer_id=customer.id) == 2


async def test_a_stale_version_raises_and_writes_nothing(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    moved, _ = lifecycle.change_stage(
        customer,
        lifecycle.StageChangeRequest(to_stage=Stage.QUALIFIED),
        actor=admin(org_id),
        entry_id=f"stage_{suffix()}",
        now=NOW,
    )
    async with factory() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.customers.save(moved, expected_version=customer.version + 7)
        await uow.commit()
    async with factory() as uow:
        assert await uow.customers.get(org_id, customer.id) == canonical(customer)
    assert await count_rows(engine, tables.stage_history, customer_id=customer.id) == 1


async def test_history_is_append_only(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    first = customer.stage_history[0]
    rewritten = attrs.evolve(
        customer,
        stage_history=(attrs.evolve(first, changed_by="someone else"),),
        version=customer.version + 1,
    )
    # Loaded in this unit of work: rewriting a stored entry is refused.
    async with factory() as uow:
        await uow.customers.get(org_id, customer.id)
        with pytest.raises(ValueError, match="append-only"):
            await uow.customers.save(rewritten, expected_version=customer.version)
    # Not loaded here: the stored entry is kept as it was (inserts skip known ids).
    async with factory() as uow:
        await uow.customers.save(rewritten, expected_version=customer.version)
        await uow.commit()
    async with factory() as uow:
        stored = await uow.customers.get(org_id, customer.id)
    assert stored is not None
    assert stored.stage_history == customer.stage_history
    assert await count_rows(engine, tables.stage_history, customer_id=customer.id) == 1


async def test_two_writers_of_one_history_position_conflict(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    # The history row of position 2 already exists (as if written by another transaction).
    other = StageChange(
        id=f"stage_{suffix()}",
        from_stage=Stage.NEW_LEAD,
        to_stage=Stage.QUALIFIED,
        changed_by="x",
        changed_by_id="emp_x",
        changed_at=NOW,
    )
    async with engine.begin() as conn:
        await conn.execute(
            tables.stage_history.insert().values(
                mappers.history_values(org_id, customer.id, 2, other)
            )
        )
    mine, _ = lifecycle.change_stage(
        customer,
        lifecycle.StageChangeRequest(to_stage=Stage.QUALIFIED),
        actor=admin(org_id),
        entry_id=f"stage_{suffix()}",
        now=NOW,
    )
    # Saved from what this writer read before the other's entry existed (no fresh load here).
    async with factory() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.customers.save(mine, expected_version=customer.version)
    assert await count_rows(engine, tables.stage_history, customer_id=customer.id) == 2
    async with factory() as uow:
        stored = await uow.customers.get(org_id, customer.id)
    assert stored is not None
    assert stored.version == customer.version  # the customer row rolled back too


async def test_interests_and_facets_follow_the_customer(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    first = interest("prop_1")
    customer = plain_customer(
        org_id,
        property_interests=(first,),
        preferences=Preferences(preferred_cities=("جدة",)),
    )
    await add_customers(factory, customer)
    changed = attrs.evolve(
        customer,
        property_interests=(
            attrs.evolve(first, status=PropertyInterestStatus.VIEWED, viewed_at=NOW),
            interest("prop_2", added_at=NOW + timedelta(minutes=5)),
        ),
        tags=("investor",),
        preferences=Preferences(preferred_cities=("الرياض",), property_type=(PropertyType.LAND,)),
        version=customer.version + 1,
    )
    async with factory() as uow:
        await uow.customers.get(org_id, customer.id)
        await uow.customers.save(changed, expected_version=customer.version)
        await uow.commit()
    async with factory() as uow:
        assert await uow.customers.get(org_id, customer.id) == canonical(changed)
    async with engine.connect() as conn:
        facets = {
            (r.kind, r.value)
            for r in await conn.execute(
                select(tables.customer_facets).where(
                    tables.customer_facets.c.customer_id == customer.id
                )
            )
        }
    assert facets == {("tag", "investor"), ("city", "الرياض"), ("property_type", "land")}


async def test_a_duplicate_phone_is_refused_and_a_soft_deleted_customer_frees_it(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    first = plain_customer(org_id)
    await add_customers(factory, first)
    second = plain_customer(org_id, phone=first.phone)
    async with factory() as uow:
        assert await uow.customers.phone_in_use(org_id, first.phone)
        assert not await uow.customers.phone_in_use(org_id, first.phone, excluding_id=first.id)
        with pytest.raises(Duplicate) as refused:
            await uow.customers.add(second)
    assert refused.value.field == "phone"
    assert await count_rows(engine, tables.customers, id=second.id) == 0

    # Another organization may use the same phone.
    await add_customers(factory, plain_customer(f"{org_id}_b", phone=first.phone))

    # Changing a customer's phone to a taken one is refused the same way.
    third = plain_customer(org_id)
    await add_customers(factory, third)
    async with factory() as uow:
        with pytest.raises(Duplicate) as refused:
            await uow.customers.save(
                attrs.evolve(third, phone=first.phone, version=third.version + 1),
                expected_version=third.version,
            )
    assert refused.value.field == "phone"

    async with factory() as uow:
        await uow.customers.save(
            attrs.evolve(first, deleted_at=NOW, version=first.version + 1),
            expected_version=first.version,
        )
        await uow.commit()
    async with factory() as uow:
        assert not await uow.customers.phone_in_use(org_id, first.phone)
        await uow.customers.add(second)
        await uow.commit()
    assert await count_rows(engine, tables.customers, id=second.id) == 1


async def test_a_duplicate_property_interest_is_refused(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id, property_interests=(interest("prop_1"),))
    await add_customers(factory, customer)
    doubled = attrs.evolve(
        customer,
        property_interests=(*customer.property_interests, interest("prop_1")),
        version=customer.version + 1,
    )
    async with factory() as uow:
        await uow.customers.get(org_id, customer.id)
        with pytest.raises(Duplicate) as refused:
            await uow.customers.save(doubled, expected_version=customer.version)
    assert refused.value.field == "propertyId"
    assert await count_rows(engine, tables.property_interests, customer_id=customer.id) == 1
    async with factory() as uow:
        assert await uow.customers.get(org_id, customer.id) == canonical(customer)


async def test_delete_removes_the_customer_and_what_belongs_to_it(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id, property_interests=(interest("prop_1"),), tags=("vip",))
    await add_customers(factory, customer)
    action = fresh_action(drawn(actions(customer=customer), 1)[0])
    async with factory() as uow:
        await uow.actions.add_many([action])
        await uow.customers.delete(f"{org_id}_other", customer.id)  # another organization: no-op
        await uow.commit()
    assert await count_rows(engine, tables.customers, id=customer.id) == 1
    async with factory() as uow:
        await uow.customers.delete(org_id, customer.id)
        await uow.commit()
    for table in (tables.stage_history, tables.property_interests, tables.customer_facets):
        assert await count_rows(engine, table, customer_id=customer.id) == 0
    assert await count_rows(engine, tables.customer_actions, id=action.id) == 0
    assert await count_rows(engine, tables.action_notes, action_id=action.id) == 0


# --- organization isolation and the unit of work -----------------------------------------------


async def test_a_repository_never_returns_another_organizations_rows(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    other = f"{org_id}_other"
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    action = fresh_action(drawn(actions(customer=customer), 1)[0])
    employee = attrs.evolve(drawn(employees(organization_id=org_id), 1)[0], manager_id="emp_boss")
    reminder = Reminder(
        id=f"rem_{suffix()}",
        customer_id=customer.id,
        title="اتصال",
        type=ReminderType.CALL,
        at=NOW,
        created_by="x",
        created_by_id="emp_x",
    )
    async with factory() as uow:
        await uow.actions.add_many([action])
        await uow.employees.save(employee)
        await uow.relations.add_reminder(org_id, reminder)
        await uow.commit()
    async with factory() as uow:
        assert await uow.customers.get(other, customer.id) is None
        assert await uow.customers.get_many(other, [customer.id]) == {}
        assert not await uow.customers.phone_in_use(other, customer.phone)
        assert await uow.actions.get(other, action.id) is None
        assert await uow.employees.get(other, employee.id) is None
        assert await uow.employees.team_member_ids(other, "emp_boss") == set()
        assert await uow.relations.get_reminder(other, customer.id, reminder.id) is None
        listed = await uow.relations.list_for_customer(
            other, customer.id, frozenset({"reminders"}), 10
        )
        assert listed == {"reminders": []}
        # Writing through another organization finds nothing to write.
        with pytest.raises(ConcurrentUpdate):
            await uow.customers.save(
                attrs.evolve(customer, organization_id=other, version=customer.version + 1),
                expected_version=customer.version,
            )
        with pytest.raises(ConcurrentUpdate):
            await uow.actions.save(
                attrs.evolve(action, organization_id=other, version=action.version + 1),
                expected_version=action.version,
            )
        with pytest.raises(NotFound):
            await uow.relations.save_reminder(other, reminder)
        # And the owner still sees everything.
        assert await uow.customers.get(org_id, customer.id) == canonical(customer)
        assert await uow.actions.get(org_id, action.id) == action
        assert await uow.employees.get(org_id, employee.id) == employee


async def _add_then_fail(factory: SqlUnitOfWorkFactory, customer: Customer) -> None:
    async with factory() as uow:
        await uow.customers.add(customer)
        raise RuntimeError("boom")


async def test_the_unit_of_work_rolls_back_unless_committed(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id, property_interests=(interest("prop_1"),), tags=("vip",))
    async with factory() as uow:
        await uow.customers.add(customer)
    with pytest.raises(RuntimeError, match="boom"):
        await _add_then_fail(factory, customer)
    for table, key in (
        (tables.customers, "id"),
        (tables.stage_history, "customer_id"),
        (tables.property_interests, "customer_id"),
        (tables.customer_facets, "customer_id"),
    ):
        assert await count_rows(engine, table, **{key: customer.id}) == 0
    # A committed one is there.
    async with factory() as uow:
        await uow.customers.add(customer)
        await uow.commit()
    assert await count_rows(engine, tables.customers, id=customer.id) == 1


async def test_a_unit_of_work_is_entered_once(factory: SqlUnitOfWorkFactory) -> None:
    uow = factory()
    with pytest.raises(RuntimeError):
        _ = uow.connection
    async with uow:
        with pytest.raises(RuntimeError, match="once"):
            await uow.__aenter__()
    assert isinstance(uow, SqlUnitOfWork)


# --- actions ---------------------------------------------------------------------------------


async def test_actions_round_trip(factory: SqlUnitOfWorkFactory, org_id: str) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    items = [
        fresh_action(a)
        for a in drawn(
            actions(customer=customer, assigned_to=st.sampled_from([None, "emp_a", "emp_b"])), 25
        )
    ]
    async with factory() as uow:
        with counting(uow.connection) as statements:
            await uow.actions.add_many(items)
        assert len(statements) == (2 if any(a.notes for a in items) else 1)
        await uow.commit()
    async with factory() as uow:
        with counting(uow.connection) as statements:
            found = await uow.actions.get_many(org_id, [a.id for a in items])
        assert len(statements) == 2
        assert found == {a.id: a for a in items}
        for a in items[:3]:
            assert await uow.actions.get(org_id, a.id) == a


async def test_action_search_text_and_priority_rank_are_written(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id, name="مُحَمَّد")
    await add_customers(factory, customer)
    action = attrs.evolve(
        fresh_action(drawn(actions(customer=customer), 1)[0]),
        title="Call Back",
        description="العميل يريد فيلا",
        priority=Priority.URGENT,
    )
    async with factory() as uow:
        await uow.actions.add_many([action])
        await uow.commit()
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(tables.customer_actions).where(tables.customer_actions.c.id == action.id)
            )
        ).one()
    assert row.search_text == "محمد call back العميل يريد فيلا"
    assert row.priority_rank == Priority.URGENT.rank


async def test_action_save_checks_the_version_and_writes_new_notes(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    action = fresh_action(drawn(actions(customer=customer, status=ActionStatus.PENDING), 1)[0])
    async with factory() as uow:
        await uow.actions.add_many([action])
        await uow.commit()
    async with factory() as uow:
        loaded = await uow.actions.get(org_id, action.id)
        assert loaded is not None
        done, _ = inbox.complete(
            loaded, actor=admin(org_id), now=NOW, outcome="تم", notes="اتصلت", note_id="note_x1"
        )
        with counting(uow.connection) as statements:
            await uow.actions.save(done, expected_version=loaded.version)
        assert len(statements) == 2  # the UPDATE and the one new note
        await uow.commit()
    async with factory() as uow:
        assert await uow.actions.get(org_id, action.id) == done
        with pytest.raises(ConcurrentUpdate):
            await uow.actions.save(done, expected_version=loaded.version)
    assert await count_rows(engine, tables.action_notes, action_id=action.id) == len(done.notes)


async def test_save_many_writes_set_based_and_reports_moved_versions(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    items = [
        fresh_action(a) for a in drawn(actions(customer=customer, status=ActionStatus.PENDING), 8)
    ]
    async with factory() as uow:
        await uow.actions.add_many(items)
        await uow.commit()
    until = NOW + timedelta(days=2)
    async with factory() as uow:
        loaded = await uow.actions.get_many(org_id, [a.id for a in items])
        changes = []
        for n, a in enumerate(items):
            snoozed, _ = inbox.snooze(loaded[a.id], actor=admin(org_id), now=NOW, until=until)
            # Every third one claims a version that has moved.
            expected = a.version + 5 if n % 3 == 0 else a.version
            changes.append((snoozed, expected))
        ghost = attrs.evolve(items[1], id="action_ghost")
        changes.append((ghost, ghost.version))
        with counting(uow.connection) as statements:
            moved = await uow.actions.save_many(changes)
        assert len(statements) == 2  # the version read and one executemany UPDATE
        await uow.commit()
    expected_moved = {a.id for n, a in enumerate(items) if n % 3 == 0} | {"action_ghost"}
    assert moved == expected_moved
    async with factory() as uow:
        stored = await uow.actions.get_many(org_id, [a.id for a in items])
    for a in items:
        if a.id in expected_moved:
            assert stored[a.id] == a
        else:
            assert stored[a.id].status is ActionStatus.SNOOZED
            assert stored[a.id].snoozed_until == until
            assert stored[a.id].version == a.version + 1
    async with factory() as uow:
        assert await uow.actions.save_many([]) == set()


async def test_add_note_snoozed_due_and_set_customer_name(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    due = fresh_action(drawn(actions(customer=customer, status=ActionStatus.SNOOZED), 1)[0])
    due = attrs.evolve(due, snoozed_until=datetime(2001, 1, 1, tzinfo=UTC))
    later = attrs.evolve(
        fresh_action(drawn(actions(customer=customer, status=ActionStatus.SNOOZED), 1)[0]),
        snoozed_until=datetime(2099, 1, 1, tzinfo=UTC),
    )
    async with factory() as uow:
        await uow.actions.add_many([due, later])
        note = ActionNote(
            id=f"note_{suffix()}",
            action_id=due.id,
            content="ملاحظة",
            created_by="x",
            created_by_id="emp_x",
            created_at=NOW,
        )
        await uow.actions.add_note(note)
        with pytest.raises(NotFound):
            await uow.actions.add_note(attrs.evolve(note, id="note_y", action_id="action_none"))
        await uow.commit()
    async with factory() as uow:
        woken = await uow.actions.snoozed_due(NOW, 10_000)
        mine = [a for a in woken if a.organization_id == org_id]
        assert [a.id for a in mine] == [due.id]
        assert mine[0].notes[-1] == note or note in mine[0].notes

        with counting(uow.connection) as statements:
            await uow.actions.set_customer_name(org_id, customer.id, "خالد العتيبي")
        assert len(statements) == 2
        await uow.commit()
    async with factory() as uow:
        renamed = await uow.actions.get_many(org_id, [due.id, later.id])
    for before in (due, later):
        after = renamed[before.id]
        assert after.customer_name == "خالد العتيبي"
        assert after.version == before.version + 1
    async with engine.connect() as conn:
        texts = set(
            await conn.scalars(
                select(tables.customer_actions.c.search_text).where(
                    tables.customer_actions.c.customer_id == customer.id
                )
            )
        )
    assert all(t.startswith("خالد العتيبي ") for t in texts)


# --- relations -------------------------------------------------------------------------------


async def test_relations_round_trip(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    cid = customer.id
    interactions = [
        Interaction(
            id=f"int_{suffix()}",
            customer_id=cid,
            type=InteractionType.WHATSAPP,
            date=NOW + timedelta(hours=n),
            notes="أرسلت العروض",
            agent_id="emp_1",
            agent_name="سارة",
            direction=InteractionDirection.OUTBOUND,
            duration=5 * n or None,
            outcome="مهتم",
            sentiment=Sentiment.POSITIVE,
            follow_up_required=bool(n % 2),
            follow_up_date=NOW + timedelta(days=n) if n % 2 else None,
        )
        for n in range(4)
    ]
    appointment = Appointment(
        id=f"appt_{suffix()}",
        customer_id=cid,
        title="معاينة فيلا",
        type=AppointmentType.SITE_VISIT,
        at=datetime(2025, 3, 2, 21, 15, tzinfo=UTC),
        duration=90,
        created_at=NOW,
        updated_at=NOW,
        title_en="Villa viewing",
        location="حي النرجس",
        property_id="prop_1",
        property_title="فيلا",
        notes="n",
        agent_id="emp_1",
        agent_name="سارة",
    )
    reminder = Reminder(
        id=f"rem_{suffix()}",
        customer_id=cid,
        title="اتصال",
        type=ReminderType.FOLLOW_UP,
        at=NOW,
        created_by="سارة",
        created_by_id="emp_1",
        priority=Priority.HIGH,
        title_en="Call",
        description="d",
        related_to="appointment",
    )
    document = Document(
        id=f"doc_{suffix()}",
        customer_id=cid,
        name="هوية.pdf",
        type=DocumentType.ID_COPY,
        storage_key=f"doc_{suffix()}",
        file_size=1234,
        mime_type="application/pdf",
        uploaded_by="سارة",
        uploaded_by_id="emp_1",
        uploaded_at=NOW,
        description="نسخة الهوية",
        tags=("id", "kyc"),
    )
    async with factory() as uow:
        for i in interactions:
            await uow.relations.add_interaction(org_id, i)
        await uow.relations.add_appointment(org_id, appointment)
        await uow.relations.add_reminder(org_id, reminder)
        await uow.relations.add_document(org_id, document)
        await uow.commit()
    async with factory() as uow:
        with pytest.raises(Duplicate):
            await uow.relations.add_document(org_id, attrs.evolve(document, id=f"doc_{suffix()}"))
    async with factory() as uow:
        assert await uow.relations.get_appointment(org_id, cid, appointment.id) == appointment
        assert await uow.relations.get_reminder(org_id, cid, reminder.id) == reminder
        assert await uow.relations.get_document(org_id, cid, document.id) == document
        assert await uow.relations.get_appointment(org_id, "cust_other", appointment.id) is None
        with counting(uow.connection) as statements:
            listed = await uow.relations.list_for_customer(
                org_id,
                cid,
                frozenset({"interactions", "appointments", "reminders", "documents"}),
                3,
            )
        assert len(statements) == 4
        assert (
            listed["interactions"] == sorted(interactions, key=lambda i: i.date, reverse=True)[:3]
        )
        assert listed["appointments"] == [appointment]
        assert listed["reminders"] == [reminder]
        assert listed["documents"] == [document]
        with pytest.raises(ValueError, match="unknown"):
            await uow.relations.list_for_customer(org_id, cid, frozenset({"secrets"}), 3)

        moved = attrs.evolve(
            appointment,
            at=appointment.at + timedelta(days=1),
            status=AppointmentStatus.CONFIRMED,
            outcome="ok",
        )
        await uow.relations.save_appointment(org_id, moved)
        done = attrs.evolve(reminder, status=ReminderStatus.COMPLETED, completed_at=NOW)
        await uow.relations.save_reminder(org_id, done)
        await uow.relations.delete_document(org_id, document.id)
        await uow.commit()
    async with factory() as uow:
        assert await uow.relations.get_appointment(org_id, cid, appointment.id) == moved
        assert await uow.relations.get_reminder(org_id, cid, reminder.id) == done
        assert await uow.relations.get_document(org_id, cid, document.id) is None
        with pytest.raises(NotFound):
            await uow.relations.save_appointment(org_id, attrs.evolve(moved, id="appt_none"))
    async with engine.connect() as conn:
        local = (
            await conn.execute(
                select(tables.appointments.c.date, tables.appointments.c.time).where(
                    tables.appointments.c.id == appointment.id
                )
            )
        ).one()
    assert (local.date, local.time) == (date(2025, 3, 4), time(0, 15))  # Riyadh, UTC+3


# --- employees -------------------------------------------------------------------------------


async def test_employees_round_trip_and_upsert(factory: SqlUnitOfWorkFactory, org_id: str) -> None:
    items = [
        attrs.evolve(
            e,
            id=f"emp_{suffix()}",
            manager_id=None,
            avatar=f"https://img.example/{n}.png" if n % 2 else None,
        )
        for n, e in enumerate(drawn(employees(organization_id=org_id)))
    ]
    manager = items[0]
    team = [attrs.evolve(e, manager_id=manager.id) for e in items[1:4]]
    items = [manager, *team, *items[4:]]
    async with factory() as uow:
        for e in items:
            await uow.employees.save(e)
        await uow.commit()
    async with factory() as uow:
        assert await uow.employees.get_many(org_id, [e.id for e in items]) == {
            e.id: e for e in items
        }
        assert await uow.employees.team_member_ids(org_id, manager.id) == {e.id for e in team}
        changed = attrs.evolve(team[0], is_active=False, title="Former agent", fal_licence=None)
        await uow.employees.save(changed)
        await uow.commit()
    async with factory() as uow:
        assert await uow.employees.get(org_id, changed.id) == changed
        assert await uow.employees.get(org_id, "emp_none") is None
        assert await uow.employees.get_many(org_id, []) == {}


async def test_the_same_employee_id_may_exist_in_two_organizations(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    employee = attrs.evolve(drawn(employees(organization_id=org_id), 1)[0], id="emp_idp_1")
    elsewhere = attrs.evolve(employee, organization_id=f"{org_id}_b", name="آخر")
    async with factory() as uow:
        await uow.employees.save(employee)
        await uow.employees.save(elsewhere)
        await uow.commit()
    async with factory() as uow:
        assert await uow.employees.get(org_id, "emp_idp_1") == employee
        assert await uow.employees.get(f"{org_id}_b", "emp_idp_1") == elsewhere


# --- the property catalog --------------------------------------------------------------------


@st.composite
def _catalog_case(draw: st.DrawFn, org: str) -> tuple[Customer, list[Property]]:
    """A customer and a catalog drawn around its preferences: near misses and matches alike."""
    customer = draw(customers(organization_id=org, preferences=preferences()))
    prefs = customer.preferences
    cities = (*prefs.preferred_cities * 3, "الرياض", "جدة", "الدمام")
    districts = (*prefs.preferred_areas, "حي النرجس", "حي الشاطئ")
    high = prefs.budget_max or (prefs.budget_min or Decimal(500_000)) * 3
    low = prefs.budget_min or high / 3
    # Prices around the budget band and its 10 % tolerance, bounds included.
    edges = [low * Decimal("0.90"), low, high, high * Decimal("1.10")]
    prices = st.sampled_from(edges) | st.integers(
        int(low * Decimal("0.8")), int(high * Decimal("1.2")) + 1
    ).map(Decimal)
    types = st.sampled_from(prefs.property_type) if prefs.property_type else st.nothing()
    catalog = [
        Property(
            id=f"prop_{n}",
            organization_id=org,
            title=f"عقار {n}",
            type=draw(types | st.sampled_from(PropertyType)),
            city=draw(st.sampled_from(cities)),
            price=draw(prices).quantize(Decimal("0.01")),
            # Mostly available and roomy enough, so that the price band decides often.
            status=draw(st.sampled_from([PropertyStatus.AVAILABLE] * 3 + list(PropertyStatus))),
            district=draw(st.none() | st.sampled_from(districts)),
            bedrooms=draw(st.none() | st.integers(max(1, (prefs.bedrooms or 2) - 1), 8)),
            area=draw(st.none() | st.integers(int(prefs.min_area or 80) - 5, 2000).map(Decimal)),
            off_plan=draw(st.booleans()),
        )
        for n in range(draw(st.integers(8, 25)))
    ]
    return customer, catalog


async def test_catalog_candidates_never_drop_a_match(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    cases = drawn(_catalog_case(org_id), 25)
    matched = narrowed = 0
    for n, (customer, catalog) in enumerate(cases):
        org = f"{org_id}_{n}"
        customer = attrs.evolve(customer, organization_id=org)
        catalog = [attrs.evolve(p, organization_id=org) for p in catalog]
        # Reject one property to check the SQL pre-filter drops it too.
        rejected = attrs.evolve(interest(catalog[0].id), status=PropertyInterestStatus.REJECTED)
        customer = attrs.evolve(customer, property_interests=(rejected,))
        async with factory() as uow:
            for prop in catalog:
                await uow.properties.add(prop)
            await uow.commit()
        async with factory() as uow:
            candidates = await uow.properties.candidates(customer, 1000)
        expected = match_properties(customer, catalog, limit=100)
        assert match_properties(customer, candidates, limit=100) == expected
        matched += bool(expected)
        available = [p for p in catalog[1:] if p.status is PropertyStatus.AVAILABLE]
        narrowed += len(candidates) < len(available)
        assert all(p.status is PropertyStatus.AVAILABLE for p in candidates)
        assert catalog[0].id not in {p.id for p in candidates}
        assert {p.id for p in candidates} <= {p.id for p in catalog}
    # The draws exercised both sides: some customers matched, some catalogs were pre-filtered.
    assert matched > 0
    assert narrowed > 0


async def test_catalog_add_round_trips_and_updates(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    prop = Property(
        id="prop_1",
        organization_id=org_id,
        title="فيلا",
        type=PropertyType.VILLA,
        city="الرياض",
        price=Decimal("1500000.25"),
        title_en="Villa",
        district="حي النرجس",
        bedrooms=5,
        area=Decimal("420.50"),
        off_plan=True,
    )
    customer = plain_customer(org_id)
    async with factory() as uow:
        await uow.properties.add(prop)
        await uow.properties.add(attrs.evolve(prop, price=Decimal("1400000")))
        await uow.commit()
    async with factory() as uow:
        assert await uow.properties.candidates(customer, 10) == [
            attrs.evolve(prop, price=Decimal("1400000"))
        ]
        assert await uow.properties.candidates(customer, 0) == []
        assert await SqlPropertyCatalog(uow.connection).count(org_id) == 1


async def test_open_for_customer_lists_open_actions_oldest_first(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    customer = plain_customer(org_id)
    other = plain_customer(org_id)
    await add_customers(factory, customer, other)
    mine = [
        attrs.evolve(fresh_action(a), created_at=NOW - timedelta(days=n))
        for n, a in enumerate(drawn(actions(customer=customer), 12))
    ]
    mine = [attrs.evolve(a, updated_at=max(a.updated_at, a.created_at)) for a in mine]
    theirs = [fresh_action(a) for a in drawn(actions(customer=other), 3)]
    async with factory() as uow:
        await uow.actions.add_many([*mine, *theirs])
        await uow.commit()
    open_statuses = {ActionStatus.PENDING, ActionStatus.IN_PROGRESS, ActionStatus.SNOOZED}
    expected = sorted(
        (a for a in mine if a.status in open_statuses), key=lambda a: (a.created_at, a.id)
    )
    async with factory() as uow:
        with counting(uow.connection) as statements:
            found = await uow.actions.open_for_customer(org_id, customer.id)
        assert found == expected
        assert len(statements) == (2 if expected else 1)
        assert await uow.actions.open_for_customer(f"{org_id}_x", customer.id) == []


async def test_catalog_candidates_keep_prices_on_the_tolerance_bounds(
    factory: SqlUnitOfWorkFactory, org_id: str
) -> None:
    customer = plain_customer(
        org_id,
        preferences=Preferences(
            budget_min=Decimal("500000"),
            budget_max=Decimal("1000000"),
            property_type=(PropertyType.APARTMENT,),
            bedrooms=3,
            min_area=Decimal("150"),
        ),
    )
    prices = {
        "prop_top": Decimal("1100000.00"),  # budget max + 10 %: a match
        "prop_over": Decimal("1100000.01"),
        "prop_bottom": Decimal("450000.00"),  # budget min - 10 %: a match
        "prop_under": Decimal("449999.99"),
    }
    catalog = [
        Property(
            id=pid,
            organization_id=org_id,
            title=pid,
            type=PropertyType.APARTMENT,
            city="الرياض",
            price=price,
            bedrooms=3,
            area=Decimal("150"),
        )
        for pid, price in prices.items()
    ]
    catalog += [
        attrs.evolve(catalog[0], id="prop_villa", type=PropertyType.VILLA),
        attrs.evolve(catalog[0], id="prop_small", bedrooms=2),
        attrs.evolve(catalog[0], id="prop_tiny", area=Decimal("149.99")),
        attrs.evolve(catalog[0], id="prop_unknown", bedrooms=None, area=None),
        attrs.evolve(catalog[0], id="prop_sold", status=PropertyStatus.SOLD),
    ]
    async with factory() as uow:
        for prop in catalog:
            await uow.properties.add(prop)
        await uow.commit()
    async with factory() as uow:
        found = {p.id for p in await uow.properties.candidates(customer, 100)}
    assert {"prop_top", "prop_bottom", "prop_unknown"} <= found
    assert not found & {"prop_villa", "prop_small", "prop_sold"}
    assert {m.property_id for m in match_properties(customer, catalog)} <= found


async def test_adding_an_existing_customer_id_is_a_duplicate(
    factory: SqlUnitOfWorkFactory, engine: AsyncEngine, org_id: str
) -> None:
    customer = plain_customer(org_id)
    await add_customers(factory, customer)
    again = attrs.evolve(customer, phone=unique_phone(), name="اسم آخر")
    async with factory() as uow:
        with pytest.raises(Duplicate) as refused:
            await uow.customers.add(again)
    assert refused.value.field == "id"
    async with factory() as uow:
        assert await uow.customers.get(org_id, customer.id) == canonical(customer)

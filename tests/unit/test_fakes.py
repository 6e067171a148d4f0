"""The in-memory fakes keep the SQL adapter's semantics: rollback, versions, constraints,
organization isolation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from customers_hub.application.context import transaction
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import StatsWindow
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DocumentType,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import Duplicate
from customers_hub.domain.events import CustomerRestored, DomainEvent
from customers_hub.domain.model import (
    ActionNote,
    Customer,
    CustomerAction,
    Document,
    Employee,
    Interaction,
    Property,
    PropertyInterest,
)
from customers_hub.testing.fakes import (
    DEFAULT_NOW,
    FakeUnitOfWorkFactory,
    FixedClock,
    InMemoryDocumentStorage,
    InMemoryStore,
    RecordingPublisher,
    SequentialIds,
    UnavailableActionQueries,
    UnavailableCustomerQueries,
    UnavailableEmployeeQueries,
    build_fake_dependencies,
)

ORG = "org_a"
OTHER_ORG = "org_b"
NOW = DEFAULT_NOW


def customer(
    cid: str = "cust_1", *, org: str = ORG, phone: str = "+966501234567", **kw: object
) -> Customer:
    return Customer(
        id=cid,
        organization_id=org,
        name="أحمد",
        phone=phone,
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


def action(aid: str = "action_1", *, cid: str = "cust_1", org: str = ORG) -> CustomerAction:
    return CustomerAction(
        id=aid,
        organization_id=org,
        customer_id=cid,
        customer_name="أحمد",
        type=ActionType.CALLBACK_REQUEST,
        title="اتصال",
        priority=Priority.MEDIUM,
        status=ActionStatus.PENDING,
        source=CustomerSource.MANUAL,
        created_at=NOW,
        updated_at=NOW,
    )


def interest(iid: str, property_id: str) -> PropertyInterest:
    return PropertyInterest(
        id=iid, property_id=property_id, status=PropertyInterestStatus.INTERESTED, added_at=NOW
    )


def interaction(iid: str, cid: str, when: datetime) -> Interaction:
    return Interaction(
        id=iid,
        customer_id=cid,
        type=InteractionType.CALL,
        date=when,
        notes="call",
        agent_id="emp_1",
        agent_name="Agent",
    )


def seeded() -> tuple[InMemoryStore, FakeUnitOfWorkFactory]:
    store = InMemoryStore()
    store.put_customer(customer())
    store.put_customer(customer("cust_2", org=OTHER_ORG, phone="+966501234568"))
    store.put_action(action())
    store.put_employee(Employee(id="emp_1", organization_id=ORG, name="A", role=Role.SALES_AGENT))
    return store, FakeUnitOfWorkFactory(store)


async def test_nothing_is_written_without_commit() -> None:
    store, factory = seeded()
    before = store.copy()
    async with factory() as uow:
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        assert await uow.customers.get(ORG, "cust_9") is not None  # visible inside
    assert store == before
    assert store.commits == 0


async def test_an_exception_rolls_back() -> None:
    store, factory = seeded()
    before = store.copy()
    uow = factory()
    with pytest.raises(RuntimeError, match="boom"):  # noqa: PT012 - the block is the subject
        async with uow:
            await uow.customers.add(customer("cust_9", phone="+966509999999"))
            raise RuntimeError("boom")
    assert store == before


async def test_commit_writes_adds_changes_and_deletes() -> None:
    store, factory = seeded()
    async with factory() as uow:
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        stored = await uow.customers.get(ORG, "cust_1")
        assert stored is not None
        await uow.customers.save(evolve(stored, name="جديد", version=2), expected_version=1)
        await uow.customers.delete(ORG, "cust_9")
        await uow.customers.add(customer("cust_8", phone="+966508888888"))
        await uow.commit()
    assert set(store.customers) == {"cust_1", "cust_2", "cust_8"}
    assert store.customers["cust_1"].name == "جديد"
    assert store.commits == 1


async def test_save_with_a_moved_version_is_a_concurrent_update() -> None:
    store, factory = seeded()
    async with factory() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.customers.save(
                evolve(store.customers["cust_1"], version=3), expected_version=2
            )
        with pytest.raises(ConcurrentUpdate):
            await uow.actions.save(evolve(store.actions["action_1"], version=5), expected_version=4)


async def test_two_units_of_work_changing_one_customer_conflict_at_commit() -> None:
    store, factory = seeded()
    first, second = factory(), factory()
    async with first as a, second as b:
        for uow, name in ((a, "أول"), (b, "ثاني")):
            current = await uow.customers.get(ORG, "cust_1")
            assert current is not None
            await uow.customers.save(evolve(current, name=name, version=2), expected_version=1)
        await a.commit()
        with pytest.raises(ConcurrentUpdate):
            await b.commit()
    assert store.customers["cust_1"].name == "أول"


async def test_units_of_work_on_different_records_both_commit() -> None:
    store, factory = seeded()
    async with factory() as a, factory() as b:
        await a.customers.add(customer("cust_8", phone="+966508888888"))
        await b.customers.add(customer("cust_9", phone="+966509999999"))
        await a.commit()
        await b.commit()
    assert {"cust_8", "cust_9"} <= set(store.customers)


async def test_save_many_reports_moved_versions_and_writes_the_rest() -> None:
    store, factory = seeded()
    store.put_action(action("action_2"))
    async with factory() as uow:
        first, second = store.actions["action_1"], store.actions["action_2"]
        moved = await uow.actions.save_many(
            [
                (evolve(first, title="x", version=2), 1),
                (evolve(second, title="y", version=9), 8),
            ]
        )
        await uow.commit()
    assert moved == {"action_2"}
    assert store.actions["action_1"].title == "x"
    assert store.actions["action_2"].title == "اتصال"


async def test_live_phone_is_unique_per_organization() -> None:
    store, factory = seeded()
    async with factory() as uow:
        with pytest.raises(Duplicate) as caught:
            await uow.customers.add(customer("cust_9"))
        assert caught.value.field == "phone"
        # Another organization may have the same phone.
        await uow.customers.add(customer("cust_10", org=OTHER_ORG))
        assert await uow.customers.phone_in_use(ORG, "+966501234567")
        assert not await uow.customers.phone_in_use(ORG, "+966501234567", excluding_id="cust_1")
        # A deleted customer frees the phone.
        await uow.customers.save(
            evolve(store.customers["cust_1"], deleted_at=NOW, version=2), expected_version=1
        )
        assert not await uow.customers.phone_in_use(ORG, "+966501234567")
        await uow.customers.add(customer("cust_11"))


async def test_saving_a_phone_taken_by_another_customer_is_a_duplicate() -> None:
    store, factory = seeded()
    store.put_customer(customer("cust_3", phone="+966503333333"))
    async with factory() as uow:
        with pytest.raises(Duplicate) as caught:
            await uow.customers.save(
                evolve(store.customers["cust_3"], phone="+966501234567", version=2),
                expected_version=1,
            )
    assert caught.value.field == "phone"


async def test_one_interest_per_customer_and_property() -> None:
    store, factory = seeded()
    twice = (interest("pi_1", "prop_1"), interest("pi_2", "prop_1"))
    async with factory() as uow:
        with pytest.raises(Duplicate) as caught:
            await uow.customers.save(
                evolve(store.customers["cust_1"], property_interests=twice, version=2),
                expected_version=1,
            )
    assert caught.value.field == "propertyId"


async def test_another_organizations_records_read_as_absent() -> None:
    store, factory = seeded()
    store.put_property(
        Property(
            id="prop_1",
            organization_id=OTHER_ORG,
            title="فيلا",
            type=PropertyType.VILLA,
            city="الرياض",
            price=Decimal(1_000_000),
        )
    )
    async with factory() as uow:
        assert await uow.customers.get(OTHER_ORG, "cust_1") is None
        assert await uow.customers.get_many(OTHER_ORG, ["cust_1", "cust_2"]) == {
            "cust_2": store.customers["cust_2"]
        }
        assert await uow.actions.get(OTHER_ORG, "action_1") is None
        assert await uow.employees.get(OTHER_ORG, "emp_1") is None
        assert await uow.employees.get(ORG, "emp_1") is not None
        assert await uow.properties.candidates(store.customers["cust_1"], 10) == []
        assert await uow.properties.candidates(store.customers["cust_2"], 10) != []
        await uow.relations.add_interaction(ORG, interaction("int_1", "cust_1", NOW))
        kinds = frozenset({"interactions"})
        assert await uow.relations.list_for_customer(OTHER_ORG, "cust_1", kinds, 10) == {
            "interactions": []
        }
        with pytest.raises(ValueError, match="no customer"):
            await uow.relations.add_interaction(OTHER_ORG, interaction("int_2", "cust_1", NOW))


async def test_list_for_customer_gives_the_newest_first_up_to_the_limit() -> None:
    _, factory = seeded()
    async with factory() as uow:
        for n in range(5):
            when = NOW - timedelta(days=n)
            await uow.relations.add_interaction(ORG, interaction(f"int_{n}", "cust_1", when))
        found = await uow.relations.list_for_customer(
            ORG, "cust_1", frozenset({"interactions", "documents"}), 3
        )
    assert [i.id for i in found["interactions"]] == ["int_0", "int_1", "int_2"]
    assert found["documents"] == []


async def test_permanent_delete_cascades_to_relations_and_actions() -> None:
    store, factory = seeded()
    store.documents["doc_1"] = Document(
        id="doc_1",
        customer_id="cust_1",
        name="هوية",
        type=DocumentType.ID_COPY,
        storage_key="doc_1.pdf",
        file_size=3,
        mime_type="application/pdf",
        uploaded_by="A",
        uploaded_by_id="emp_1",
        uploaded_at=NOW,
    )
    async with factory() as uow:
        await uow.relations.add_interaction(ORG, interaction("int_1", "cust_1", NOW))
        await uow.customers.delete(OTHER_ORG, "cust_1")  # not this organization's: no-op
        assert await uow.customers.get(ORG, "cust_1") is not None
        await uow.customers.delete(ORG, "cust_1")
        await uow.commit()
    assert "cust_1" not in store.customers
    assert store.actions == {}
    assert store.interactions == {}
    assert store.documents == {}
    assert "cust_2" in store.customers


async def test_notes_are_appended_without_touching_the_action_version() -> None:
    store, factory = seeded()
    note = ActionNote(
        id="note_1",
        action_id="action_1",
        content="hi",
        created_by="A",
        created_by_id="emp_1",
        created_at=NOW,
    )
    async with factory() as uow:
        await uow.actions.add_note(note)
        await uow.commit()
    assert store.actions["action_1"].notes == (note,)
    assert store.actions["action_1"].version == 1


async def test_a_customer_rename_reaches_its_actions_and_bumps_their_version() -> None:
    store, factory = seeded()
    async with factory() as uow:
        await uow.actions.set_customer_name(ORG, "cust_1", "اسم جديد")
        await uow.actions.set_customer_name(OTHER_ORG, "cust_1", "لا")
        await uow.commit()
    stored = store.actions["action_1"]
    assert stored.customer_name == "اسم جديد"
    assert stored.version == 2  # a concurrent save that read the old name now conflicts


async def test_snoozed_due_lists_only_passed_snoozes() -> None:
    store, factory = seeded()
    snoozed = evolve(action("action_2"), status=ActionStatus.SNOOZED)
    store.put_action(evolve(snoozed, snoozed_until=NOW - timedelta(hours=1)))
    store.put_action(evolve(snoozed, id="action_3", snoozed_until=NOW + timedelta(hours=1)))
    async with factory() as uow:
        due = await uow.actions.snoozed_due(NOW, 10)
    assert [a.id for a in due] == ["action_2"]


async def test_employees_team_members() -> None:
    store, factory = seeded()
    store.put_employee(
        Employee(id="emp_2", organization_id=ORG, name="B", role=Role.SALES_AGENT, manager_id="m")
    )
    store.put_employee(
        Employee(
            id="emp_3", organization_id=OTHER_ORG, name="C", role=Role.SALES_AGENT, manager_id="m"
        )
    )
    async with factory() as uow:
        assert await uow.employees.team_member_ids(ORG, "m") == {"emp_2"}


async def test_candidates_are_the_available_properties_of_the_organization() -> None:
    store, factory = seeded()
    base = Property(
        id="prop_1",
        organization_id=ORG,
        title="شقة",
        type=PropertyType.APARTMENT,
        city="الرياض",
        price=Decimal(500_000),
    )
    store.put_property(base)
    store.put_property(evolve(base, id="prop_2", status=PropertyStatus.SOLD))
    async with factory() as uow:
        found = await uow.properties.candidates(store.customers["cust_1"], 10)
    assert [p.id for p in found] == ["prop_1"]


async def test_injected_conflicts_fail_commits_and_write_nothing() -> None:
    store, factory = seeded()
    before = store.copy()
    store.fail_next_commits(1)
    async with factory() as uow:
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        with pytest.raises(ConcurrentUpdate):
            await uow.commit()
    assert store == before
    async with factory() as uow:
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        await uow.commit()
    assert "cust_9" in store.customers


def restored_event() -> CustomerRestored:
    return CustomerRestored(
        organization_id=ORG, occurred_at=NOW, employee_ids=(), customer_id="cust_1"
    )


async def test_transaction_on_fakes_publishes_after_commit_and_retries() -> None:
    deps, store, publisher, _ = build_fake_dependencies()
    store.put_customer(customer())
    seen_at_publish: list[bool] = []
    publisher.on_publish = lambda batch: seen_at_publish.append("cust_9" in store.customers)
    store.fail_next_commits(1)
    attempts = 0

    async def work(uow: UnitOfWork) -> tuple[str, Sequence[DomainEvent]]:
        nonlocal attempts
        attempts += 1
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        return "done", [restored_event()]

    assert await transaction(deps, work) == "done"
    assert attempts == 2
    assert seen_at_publish == [True]
    assert publisher.names() == ["customer.restored"]


async def test_transaction_on_fakes_publishes_nothing_on_failure() -> None:
    deps, store, publisher, _ = build_fake_dependencies()
    before = store.copy()

    async def work(uow: UnitOfWork) -> tuple[str, Sequence[DomainEvent]]:
        await uow.customers.add(customer("cust_9", phone="+966509999999"))
        raise Duplicate("nope")

    with pytest.raises(Duplicate):
        await transaction(deps, work)
    assert store == before
    assert publisher.events == []


def test_fixed_clock_is_aware_utc_and_movable() -> None:
    clock = FixedClock()
    assert clock.now() == NOW
    assert clock.now().tzinfo is UTC
    assert clock.advance(timedelta(hours=2)) == NOW + timedelta(hours=2)
    clock.set(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    assert clock.now() == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2025, 3, 1, 12, 0))


def test_sequential_ids_count_per_prefix() -> None:
    ids = SequentialIds()
    assert [ids.new_id("cust"), ids.new_id("cust"), ids.new_id("action")] == [
        "cust_000001",
        "cust_000002",
        "action_000001",
    ]


async def test_recording_publisher_keeps_order_and_batches() -> None:
    publisher = RecordingPublisher()
    first, second = restored_event(), evolve(restored_event(), customer_id="cust_2")
    await publisher.publish([first])
    await publisher.publish([second, first])
    assert publisher.events == [first, second, first]
    assert publisher.batches == [[first], [second, first]]


async def test_document_storage_round_trip_and_injected_failure() -> None:
    storage = InMemoryDocumentStorage()
    await storage.put("doc_1.pdf", b"abc")
    assert await storage.get("doc_1.pdf") == b"abc"
    await storage.delete("doc_1.pdf")
    await storage.delete("doc_1.pdf")
    assert await storage.get("doc_1.pdf") is None
    storage.fail_puts = 1
    with pytest.raises(OSError, match="injected"):
        await storage.put("doc_2.pdf", b"x")
    assert storage.blobs == {}


async def test_read_side_placeholders_say_they_are_unavailable() -> None:
    scope = ScopeFilter(ORG, Reach.ALL)
    window = StatsWindow(now=NOW, tz=UTC)
    with pytest.raises(NotImplementedError, match="SQLite"):
        await UnavailableCustomerQueries().filter_options(scope)
    with pytest.raises(NotImplementedError):
        await UnavailableActionQueries().stats(scope, window, None)
    with pytest.raises(NotImplementedError):
        await UnavailableEmployeeQueries().list(ORG, role=None, is_active=None)


async def test_open_for_customer_lists_pending_in_progress_and_snoozed_actions() -> None:
    store, factory = seeded()
    store.put_action(evolve(action("action_2"), status=ActionStatus.SNOOZED))
    store.put_action(evolve(action("action_3"), status=ActionStatus.COMPLETED))
    store.put_action(evolve(action("action_4"), status=ActionStatus.IN_PROGRESS))
    async with factory() as uow:
        found = await uow.actions.open_for_customer(ORG, "cust_1")
        assert await uow.actions.open_for_customer(OTHER_ORG, "cust_1") == []
    assert [a.id for a in found] == ["action_1", "action_2", "action_4"]

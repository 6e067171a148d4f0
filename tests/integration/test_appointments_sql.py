"""Appointment conflicts and employee calendars on SQLite and PostgreSQL (rules §10).

* :class:`~customers_hub.adapters.sql.appointments.SqlAppointmentBook` reads exactly the
  blocking appointments of live customers of one employee in ``(start - 24 h, end)``, with what
  the caller's scope needs, and nothing of another organization;
* its statement is one index range seek of ``ix_appointments_org_agent_datetime`` (the plan
  says so, on both databases);
* two concurrent HTTP requests booking the same slot of one employee never both succeed: the
  check waits for the other booking's commit (PostgreSQL: the advisory lock; SQLite: the write
  lock) — with a pause between the check and the insert that would let both through otherwise;
* the demo data books around conflicts: no two blocking appointments of one agent overlap.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.appointments import SqlAppointmentBook
from customers_hub.application.ports_appointments import BookedAppointment
from customers_hub.application.use_cases.customer_deletion import DeleteCustomer, delete_customer
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.scheduling import (
    ScheduleAppointment,
    UpdateAppointment,
    schedule_appointment,
    update_appointment,
)
from customers_hub.domain.appointments import BLOCKING_STATUSES, AppointmentConflict, conflict
from customers_hub.domain.enums import (
    AppointmentStatus,
    AppointmentType,
    CustomerSource,
    Permission,
    Role,
)
from customers_hub.domain.model import Actor, Appointment, Customer
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.demo import load_demo_data
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.settings import HubConfig
from customers_hub.testing import actor_for

SECRET = "appointments-sql-test-secret-long-enough-for-hs256"
PAUSE = 0.2  # between a booking's check and its insert: room for the other one to pass


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub on the migrated test database (``engine`` migrated it)."""
    built = build_hub(
        config=HubConfig(
            data_dir=tmp_path,
            database_url=database_url,
            rate_limits_enabled=False,
            snooze_interval=None,  # no background job in these tests
        )
    )
    await built.start(migrate=False)
    yield built
    await built.close()


class Team:
    """An organization's admin, manager, the manager's agent and an agent outside the team."""

    def __init__(self, org: str) -> None:
        self.org = org
        self.admin = Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة")
        self.actors: dict[str, Actor] = {}

    async def create(self, hub: Hub) -> Team:
        plan = [
            ("emp_manager", Role.SALES_MANAGER, None),
            ("emp_agent", Role.SALES_AGENT, "emp_manager"),
            ("emp_outsider", Role.SALES_AGENT, None),
        ]
        for employee_id, role, manager in plan:
            employee = await create_employee(
                hub.deps,
                self.admin,
                CreateEmployee(id=employee_id, name=employee_id, role=role, manager_id=manager),
            )
            self.actors[employee_id] = actor_for(employee)
        return self

    async def customer(self, hub: Hub, assignee: str = "emp_agent") -> Customer:
        draft = CustomerDraft(
            name="محمد الفهد",
            phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
            source=CustomerSource.MANUAL,
            city="الرياض",
            assigned_employee_id=assignee,
        )
        return (await create_customer(hub.deps, self.admin, CreateCustomer(draft))).customer


def base_time() -> datetime:
    """A whole hour ten days ahead (appointments must be in the future)."""
    return (datetime.now(UTC) + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)


async def book(
    hub: Hub,
    team: Team,
    customer: Customer,
    at: datetime,
    duration: int = 60,
    *,
    agent: str = "emp_agent",
    status: AppointmentStatus | None = None,
) -> Appointment:
    """An appointment of ``agent`` (booked over anything: the reads are what is tested)."""
    booked = await schedule_appointment(
        hub.deps,
        team.admin,
        ScheduleAppointment(
            customer_id=customer.id,
            title="معاينة",
            type=AppointmentType.MEETING,
            at=at,
            duration=duration,
            agent_id=agent,
            allow_conflict=True,
        ),
    )
    if status is not None:
        booked = await update_appointment(
            hub.deps,
            team.admin,
            UpdateAppointment(customer_id=customer.id, appointment_id=booked.id, status=status),
        )
    return booked


async def booked(
    hub: Hub, org: str, agent: str, start: datetime, end: datetime, **kw: Any
) -> list[BookedAppointment]:
    async with hub.deps.uow(read_only=True) as uow:
        return await uow.appointments.booked(org, agent, start, end, **kw)


async def test_the_book_reads_blocking_appointments_of_the_window(hub: Hub, org_id: str) -> None:
    team = await Team(org_id).create(hub)
    t0 = base_time()
    mine, outsiders, gone = (
        await team.customer(hub),
        await team.customer(hub, "emp_outsider"),
        await team.customer(hub),
    )
    day_before = await book(hub, team, mine, t0 - timedelta(hours=24))  # at the bound: out
    just_in = await book(hub, team, mine, t0 - timedelta(hours=24) + timedelta(minutes=1))
    confirmed = await book(hub, team, outsiders, t0, status=AppointmentStatus.CONFIRMED)
    rescheduled = await book(hub, team, mine, t0 + timedelta(minutes=30))
    rescheduled = await update_appointment(
        hub.deps,
        team.admin,
        UpdateAppointment(
            customer_id=mine.id,
            appointment_id=rescheduled.id,
            at=t0 + timedelta(minutes=45),
            allow_conflict=True,
        ),
    )
    for closed in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
    ):
        await book(hub, team, mine, t0, status=closed)
    await book(hub, team, mine, t0, agent="emp_outsider")  # another employee
    await book(hub, team, mine, t0 + timedelta(hours=2))  # at the end: out
    await book(hub, team, gone, t0)
    await delete_customer(hub.deps, team.admin, DeleteCustomer(gone.id))
    # The same employee id in another organization.
    other = await Team(f"org_{uuid.uuid4().hex[:12]}").create(hub)
    await book(hub, other, await other.customer(hub), t0)

    found = await booked(hub, org_id, "emp_agent", t0, t0 + timedelta(hours=2))
    assert [b.appointment.id for b in found] == [just_in.id, confirmed.id, rescheduled.id]
    assert day_before.id not in {b.appointment.id for b in found}
    by_id = {b.appointment.id: b for b in found}
    assert by_id[just_in.id].customer_assignee_id == "emp_agent"
    assert by_id[just_in.id].customer_assignee_manager_id == "emp_manager"
    assert by_id[confirmed.id].customer_assignee_id == "emp_outsider"
    assert by_id[confirmed.id].customer_assignee_manager_id is None
    assert by_id[rescheduled.id].appointment == rescheduled
    limited = await booked(hub, org_id, "emp_agent", t0, t0 + timedelta(hours=2), limit=2)
    assert [b.appointment.id for b in limited] == [just_in.id, confirmed.id]


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every (statement, parameters) sent while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def test_the_overlap_query_is_an_index_range_seek(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    t0 = base_time()
    with statements(hub.engine) as seen:
        await booked(hub, org_id, "emp_agent", t0, t0 + timedelta(hours=1))
    (statement, parameters) = next((s, p) for s, p in seen if "FROM appointments" in s)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Small tables: forbid the alternatives so the plan shows what the index does.
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                await conn.execute(text(f"SET LOCAL {setting} = off"))
            plan = (
                await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
            ).scalar_one()
            scans = [n for n in _nodes(plan[0]["Plan"]) if n.get("Relation Name") == "appointments"]
            assert len(scans) == 1, plan
            (scan,) = scans
            assert scan["Index Name"] == "ix_appointments_org_agent_datetime", scan
            condition = scan["Index Cond"]
            assert "organization_id" in condition
            assert "agent_id" in condition
            assert re.search(r"datetime > .*datetime < |datetime < .*datetime > ", condition), scan
            await conn.rollback()
            return
        details = [
            str(list(row)[3])
            for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    searches = [d for d in details if d.startswith("SEARCH appointments")]
    assert searches == [
        "SEARCH appointments USING INDEX ix_appointments_org_agent_datetime "
        "(organization_id=? AND agent_id=? AND datetime>? AND datetime<?)"
    ], details


def test_the_partial_index_holds_the_blocking_statuses() -> None:
    """The index's predicate and the query's inline list are the domain's blocking statuses."""
    listed = set(re.findall(r"'(\w+)'", tables.BLOCKING_APPOINTMENTS))
    assert listed == {s.value for s in BLOCKING_STATUSES}


async def test_the_lock_key_is_per_employee_and_organization() -> None:
    from customers_hub.adapters.sql.appointments import employee_lock_key

    keys = {
        employee_lock_key(org, agent)
        for org in ("org_a", "org_b")
        for agent in ("emp_1", "emp_2", "emp_3")
    }
    assert len(keys) == 6
    assert all(-(2**31) <= key < 2**31 for key in keys)
    assert employee_lock_key("org_a", "emp_1") == employee_lock_key("org_a", "emp_1")


# ---------------------------------------------------------------------------------------------
# Concurrency, over HTTP


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """A client that really sends requests at once: httpx's ASGI transport runs each request
    as its own task in this loop (Litestar's test client runs one request at a time). The
    hub is started by its fixture, so the app needs no lifespan of its own."""
    app = create_app(hub, auth=AuthSettings(secret=SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c


def bearer(actor: Actor) -> dict[str, str]:
    token = issue_token(
        AuthSettings(secret=SECRET),
        actor.user_id,
        actor.role,
        actor.organization_id,
        list(actor.permissions),
        3600,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pause after each overlap read, before the booking writes: without the lock, two
    bookings would both read an empty slot and both insert."""
    original = SqlAppointmentBook.booked

    async def slow(self: SqlAppointmentBook, *args: Any, **kwargs: Any) -> Any:
        found = await original(self, *args, **kwargs)
        await asyncio.sleep(PAUSE)
        return found

    monkeypatch.setattr(SqlAppointmentBook, "booked", slow)


@pytest.mark.usefixtures("slow_check")
async def test_concurrent_bookings_of_one_slot_never_both_succeed(
    client: httpx.AsyncClient, hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    team = await Team(org_id).create(hub)
    customers = [await team.customer(hub) for _ in range(4)]
    t0 = base_time()
    body = {"title": "معاينة", "type": "meeting", "duration": 60, "agentId": "emp_agent"}
    headers = bearer(team.admin)

    async def post(customer: Customer, minutes: int) -> Any:
        return await client.post(
            f"/api/v1/customers/{customer.id}/appointments",
            headers=headers,
            json={**body, "datetime": (t0 + timedelta(minutes=minutes)).isoformat()},
        )

    # Four requests for overlapping times (each overlaps each other) at once.
    responses = await asyncio.gather(*(post(c, 10 * i) for i, c in enumerate(customers)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()["data"]["appointment"]
    for refused in (r for r in responses if r.status_code == 409):
        error = refused.json()["error"]
        assert error["code"] == "APPOINTMENT_CONFLICT"
        assert [c["id"] for c in error["details"]["conflicts"]] == [winner["id"]]
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(tables.appointments.c.id).where(
                    tables.appointments.c.organization_id == org_id
                )
            )
        ).all()
    assert [r.id for r in rows] == [winner["id"]]

    # Moving two appointments into the same free slot at once: one of them gets it.
    later = [await post(c, 24 * 60 + 180 * i) for i, c in enumerate(customers[:2])]
    assert [r.status_code for r in later] == [201, 201]
    moves = await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/customers/{c.id}/appointments/{r.json()['data']['appointment']['id']}",
                headers=headers,
                json={"datetime": (t0 + timedelta(days=2)).isoformat()},
            )
            for c, r in zip(customers[:2], later, strict=True)
        )
    )
    assert sorted(m.status_code for m in moves) == [200, 409], [m.text for m in moves]


async def test_a_conflict_over_http_names_the_other_appointment(
    client: httpx.AsyncClient, hub: Hub, org_id: str
) -> None:
    team = await Team(org_id).create(hub)
    first, second = await team.customer(hub), await team.customer(hub)
    t0 = base_time()
    existing = await book(hub, team, first, t0, 90)
    agent = team.actors["emp_agent"]
    response = await client.post(
        f"/api/v1/customers/{second.id}/appointments",
        headers=bearer(agent),
        json={
            "title": "اجتماع",
            "type": "meeting",
            "datetime": (t0 + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 409, response.text
    details = response.json()["error"]["details"]
    assert details == {
        "field": "datetime",
        "agentId": "emp_agent",
        "conflicts": [
            {
                "id": existing.id,
                "customerId": first.id,
                "datetime": t0.isoformat().replace("+00:00", "Z"),
                "duration": 90,
            }
        ],
    }


# ---------------------------------------------------------------------------------------------
# The demo data


async def test_the_demo_data_books_no_overlapping_appointments(hub: Hub, org_id: str) -> None:
    await load_demo_data(hub, org=org_id, customers=30, seed=11)
    async with hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(tables.appointments).where(tables.appointments.c.organization_id == org_id)
            )
        ).mappings()
        from customers_hub.adapters.sql import mappers

        by_agent: dict[str | None, list[Appointment]] = defaultdict(list)
        for row in rows:
            appointment = mappers.appointment_from_row(row)
            by_agent[appointment.agent_id].append(appointment)
    assert by_agent
    for appointments in by_agent.values():
        clashes = [
            (a.id, b.id)
            for i, a in enumerate(appointments)
            for b in appointments[i + 1 :]
            if conflict(a, b)
        ]
        assert clashes == []


async def test_a_refused_booking_writes_nothing(hub: Hub, engine: AsyncEngine, org_id: str) -> None:
    team = await Team(org_id).create(hub)
    customer = await team.customer(hub)
    t0 = base_time()
    await book(hub, team, customer, t0)
    before = await _counts(engine, org_id)
    with pytest.raises(AppointmentConflict):
        await schedule_appointment(
            hub.deps,
            team.admin,
            ScheduleAppointment(
                customer_id=customer.id,
                title="معاينة",
                type=AppointmentType.SITE_VISIT,
                at=t0,
                agent_id="emp_agent",
            ),
        )
    assert await _counts(engine, org_id) == before


async def _counts(engine: AsyncEngine, org: str) -> tuple[int, ...]:
    async with engine.connect() as conn:
        counted = []
        for table in (tables.appointments, tables.customer_actions, tables.customers):
            rows = await conn.execute(select(table.c.id).where(table.c.organization_id == org))
            counted.append(len(rows.all()))
        version = await conn.execute(
            select(tables.customers.c.version).where(tables.customers.c.organization_id == org)
        )
        counted.extend(v for (v,) in version.all())
    return tuple(counted)

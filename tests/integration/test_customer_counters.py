"""Customer counters (issue 9): after any sequence of real writes, statistics and filter options
read from the counters equal a fresh scan, on SQLite and PostgreSQL, for every scope; concurrent
writers lose no count; folding and ``recount_all`` change no number."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.counter_folder import CounterFolder
from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.counters import (
    customer_counters,
    fold,
    recount_all,
    write_transaction,
)
from customers_hub.adapters.sql.statistics import (
    customer_stats,
    filter_options,
    recount_customer_stats,
    recount_filter_options,
)
from customers_hub.application.queries import StatsWindow
from customers_hub.application.use_cases.customer_assignment import AssignCustomer, assign_customer
from customers_hub.application.use_cases.customer_deletion import (
    DeleteCustomer,
    RestoreCustomer,
    delete_customer,
    restore_customer,
)
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    update_customer,
)
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.relations import LogInteraction, log_interaction
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    CustomerSource,
    InteractionType,
    Permission,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import DomainError
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import Actor, Preferences
from customers_hub.domain.validation import CustomerDraft, CustomerPatch, PreferencesPatch
from customers_hub.entrypoints import cli
from customers_hub.entrypoints.bootstrap import Hub, build_hub

RIYADH = ZoneInfo("Asia/Riyadh")
EMPLOYEES = ("emp_m", "emp_a", "emp_b")  # emp_m leads emp_a; emp_b is on no team
CITIES = ("الرياض", "جدة", None)
MONEY = st.one_of(st.none(), st.integers(0, 10_000_000).map(lambda c: Decimal(c) / 100))
# Minutes before now of a last contact: anywhere around the 30-day window, often within the
# day that straddles its start (counted by a range, the whole days after it by counter rows).
_DAY = 24 * 60
CONTACT_AGO = st.one_of(
    st.none(),
    st.integers(-2 * _DAY, 40 * _DAY),
    st.integers(29 * _DAY, 31 * _DAY),
)


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str) -> AsyncIterator[Hub]:
    """A hub on the session's (migrated) database."""
    async with build_hub(database_url) as built:
        yield built


def admin_of(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة")


def scopes(org: str) -> list[ScopeFilter]:
    return [
        ScopeFilter(org, Reach.ALL),
        ScopeFilter(org, Reach.TEAM, "emp_m"),
        ScopeFilter(org, Reach.OWN, "emp_a"),
        ScopeFilter(org, Reach.OWN, "emp_b"),
    ]


async def staff(hub: Hub, org: str) -> None:
    admin = admin_of(org)
    await create_employee(
        hub.deps, admin, CreateEmployee(id="emp_m", name="منيرة", role=Role.SALES_MANAGER)
    )
    for employee_id, manager in (("emp_a", "emp_m"), ("emp_b", None)):
        await create_employee(
            hub.deps,
            admin,
            CreateEmployee(
                id=employee_id, name=employee_id, role=Role.SALES_AGENT, manager_id=manager
            ),
        )


def draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values drawn by Hypothesis (generation only: the programs run async)."""
    values: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    collect()
    return values[:count]


_target = st.integers(0, 30)
OPERATIONS = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(list(CustomerSource)),
        st.sampled_from(list(Priority)),
        st.sampled_from(CITIES),
        MONEY,
        MONEY,
        st.lists(st.sampled_from(list(PropertyType)), max_size=3, unique=True),
        st.sampled_from((*EMPLOYEES, None)),
    ),
    st.tuples(
        st.just("update"),
        _target,
        st.sampled_from(list(Priority)),
        st.sampled_from(CITIES),
        MONEY,
        st.lists(st.sampled_from(list(PropertyType)), max_size=3, unique=True),
    ),
    st.tuples(st.just("stage"), _target, st.sampled_from(list(Stage))),
    st.tuples(st.just("assign"), _target, st.sampled_from(EMPLOYEES)),
    st.tuples(st.just("soft_delete"), _target),
    st.tuples(st.just("restore"), _target),
    st.tuples(st.just("hard_delete"), _target),
    # Set-based writes of many rows in one statement (as bulk paths and erasure issue them).
    st.tuples(
        st.just("bulk"),
        st.sampled_from(("lead_score", "response_rate", "total_interactions", "restricted")),
        st.integers(0, 100),
        st.integers(2, 5),
    ),
    st.tuples(st.just("fold")),
    # Last contacts: an interaction logged through the use case, and a set-based UPDATE.
    st.tuples(st.just("interaction"), _target, st.integers(0, 31 * _DAY)),
    st.tuples(st.just("contact"), CONTACT_AGO, st.integers(1, 4)),
)
PROGRAMS = st.lists(OPERATIONS, min_size=5, max_size=30)


async def run(hub: Hub, org: str, program: list[tuple[Any, ...]]) -> None:
    """Play ``program``; an operation the rules refuse is a refused write (and must count
    nothing)."""
    admin = admin_of(org)
    ids: list[str] = []
    engine = hub.engine

    def pick(n: int) -> str | None:
        return ids[n % len(ids)] if ids else None

    for step in program:
        kind = step[0]
        target = pick(step[1]) if len(step) > 1 and isinstance(step[1], int) else None
        try:
            if kind == "create":
                _, source, priority, city, deal, revenue, types, assignee = step
                draft = CustomerDraft(
                    name="محمد",
                    phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
                    source=source,
                    priority=priority,
                    city=city,
                    total_deal_value=deal,
                    expected_revenue=revenue,
                    preferences=Preferences(property_type=tuple(types)),
                    assigned_employee_id=assignee,
                )
                ids.append(
                    ((await create_customer(hub.deps, admin, CreateCustomer(draft))).customer).id
                )
            elif kind == "update" and target:
                _, _, priority, city, deal, types = step
                patch = CustomerPatch(
                    priority=priority,
                    city=city,
                    total_deal_value=deal,
                    preferences=PreferencesPatch(property_type=tuple(types)),
                )
                await update_customer(hub.deps, admin, UpdateCustomer(target, patch))
            elif kind == "stage" and target:
                request = StageChangeRequest(to_stage=step[2], reason="سبب")
                await change_stage(hub.deps, admin, ChangeStage(target, request))
            elif kind == "assign" and target:
                await assign_customer(hub.deps, admin, AssignCustomer(target, step[2]))
            elif kind == "soft_delete" and target:
                await delete_customer(hub.deps, admin, DeleteCustomer(target))
            elif kind == "restore" and target:
                await restore_customer(hub.deps, admin, RestoreCustomer(target))
            elif kind == "hard_delete" and target:
                await delete_customer(hub.deps, admin, DeleteCustomer(target, permanent=True))
                ids.remove(target)
            elif kind == "interaction" and target:
                when = datetime.now(UTC) - timedelta(minutes=step[2])
                command = LogInteraction(customer_id=target, type=InteractionType.CALL, date=when)
                await log_interaction(hub.deps, admin, command)
            elif kind == "contact":
                await contact(engine, org, *step[1:])
            elif kind == "bulk":
                await bulk(engine, org, *step[1:])
            elif kind == "fold":
                async with write_transaction(engine) as conn:
                    await fold(conn, customer_counters, org)
        except DomainError:
            pass


async def bulk(engine: AsyncEngine, org: str, column: str, value: int, every: int) -> None:
    c = tables.customers.c
    # every n-th customer (by id) in one UPDATE statement
    chosen = select(c.id).where(c.organization_id == org).order_by(c.id)
    async with write_transaction(engine) as conn:
        ids = list((await conn.execute(chosen)).scalars())[::every]
        values: dict[str, Any] = (
            {"restricted_until": datetime.now(UTC) + timedelta(days=value + 1)}
            if column == "restricted"
            else {column: value}
        )
        await conn.execute(
            update(tables.customers).where(c.organization_id == org, c.id.in_(ids)).values(values)
        )


async def contact(engine: AsyncEngine, org: str, minutes_ago: int | None, every: int) -> None:
    """Every ``every``-th customer (by id) last contacted ``minutes_ago`` (never when None), in
    one UPDATE statement."""
    c = tables.customers.c
    chosen = select(c.id).where(c.organization_id == org).order_by(c.id)
    when = None if minutes_ago is None else datetime.now(UTC) - timedelta(minutes=minutes_ago)
    async with write_transaction(engine) as conn:
        ids = list((await conn.execute(chosen)).scalars())[::every]
        await conn.execute(
            update(tables.customers)
            .where(c.organization_id == org, c.id.in_(ids))
            .values(last_contact_at=when)
        )


async def assert_counters_equal_a_recount(hub: Hub, org: str) -> None:
    engine = hub.engine
    window = StatsWindow(now=datetime.now(UTC), tz=RIYADH)
    for scope in scopes(org):
        for group_by in (None, "employee", "city", "stage"):
            counted = await customer_stats(engine, scope, window, group_by)
            scanned = await recount_customer_stats(engine, scope, window, group_by)
            assert counted == scanned, (scope, group_by)
        assert await filter_options(engine, scope) == await recount_filter_options(engine, scope)


PROGRAM_EXAMPLES = draw(PROGRAMS, 6)


@pytest.mark.parametrize("program", PROGRAM_EXAMPLES, ids=lambda p: f"{len(p)}ops")
async def test_counters_equal_a_recount_after_random_writes(
    hub: Hub, org_id: str, program: list[tuple[Any, ...]]
) -> None:
    await staff(hub, org_id)
    await run(hub, org_id, program)
    await assert_counters_equal_a_recount(hub, org_id)
    # A fold and a rebuild from a scan change no number.
    async with write_transaction(hub.engine) as conn:
        await fold(conn, customer_counters, org_id)
    await assert_counters_equal_a_recount(hub, org_id)
    await recount_all(hub.engine, org_id)
    await assert_counters_equal_a_recount(hub, org_id)


async def test_a_fixed_story_counts_what_it_should(hub: Hub, org_id: str) -> None:
    """Counters answer known numbers, not only what the scan answers."""
    await staff(hub, org_id)
    admin = admin_of(org_id)
    made = []
    for assignee, types in (("emp_a", (PropertyType.VILLA,)), ("emp_b", ()), (None, ())):
        draft = CustomerDraft(
            name="نورة",
            phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
            city="جدة",
            total_deal_value=Decimal("100.50"),
            preferences=Preferences(property_type=types),
            assigned_employee_id=assignee,
        )
        made.append(((await create_customer(hub.deps, admin, CreateCustomer(draft))).customer).id)
    window = StatsWindow(now=datetime.now(UTC), tz=RIYADH)
    everyone = ScopeFilter(org_id, Reach.ALL)
    stats = await customer_stats(hub.engine, everyone, window, "employee")
    assert stats.total == 3
    assert stats.financial["totalDealValue"] == Decimal("301.50")
    assert stats.grouped == {"emp_a": 1, "emp_b": 1, "unassigned": 1}
    team = await customer_stats(hub.engine, ScopeFilter(org_id, Reach.TEAM, "emp_m"), window, None)
    assert team.total == 1
    options = await filter_options(hub.engine, everyone)
    villas = [o.count for o in options.property_types if o.value == PropertyType.VILLA.value]
    assert villas == [1]
    # A restricted (erased) customer leaves the filter options and stays in the statistics.
    async with write_transaction(hub.engine) as conn:
        await conn.execute(
            update(tables.customers)
            .where(tables.customers.c.id == made[0])
            .values(restricted_until=datetime.now(UTC) + timedelta(days=30))
        )
    options = await filter_options(hub.engine, everyone)
    assert [o.count for o in options.property_types if o.value == PropertyType.VILLA.value] == [0]
    assert {o.id: o.count for o in options.employees}["emp_a"] == 0
    assert (await customer_stats(hub.engine, everyone, window, None)).total == 3
    async with write_transaction(hub.engine) as conn:
        await conn.execute(
            update(tables.customers)
            .where(tables.customers.c.id == made[0])
            .values(restricted_until=None)
        )
    # Hard-deleting the customer removes its property type too (the BEFORE DELETE trigger).
    await delete_customer(hub.deps, admin, DeleteCustomer(made[0], permanent=True))
    options = await filter_options(hub.engine, everyone)
    assert [o.count for o in options.property_types if o.value == PropertyType.VILLA.value] == [0]
    assert (await customer_stats(hub.engine, everyone, window, None)).total == 2


async def test_active_customers_sum_contact_days_and_the_first_days_range(
    hub: Hub, org_id: str
) -> None:
    """Contacted in the last 30 days: the whole UTC days from counter rows (0020's triggers),
    the part of the first day by a range; known numbers, scopes, deletion, and a fold."""
    await staff(hub, org_id)
    admin = admin_of(org_id)
    now = datetime.now(UTC)
    since = now - timedelta(days=30)
    # The first whole UTC day of the window: contacts from it on are counter rows.
    first_day = datetime.combine(since.date(), datetime.min.time(), UTC) + timedelta(days=1)
    tick = timedelta(microseconds=1)
    contacts = {  # last contact -> assignee
        since: "emp_a",  # the window's first instant, in the partial first day (a range)
        first_day - tick: "emp_b",  # the partial day's last instant
        first_day: "emp_a",  # the first whole day's first instant (a counter row)
        now - timedelta(days=5): "emp_a",
        since - tick: "emp_b",  # just outside
        now + timedelta(hours=2): "emp_b",  # ahead of the clock: counted, as the scan does
    }
    made = []
    for when, assignee in (*contacts.items(), (None, "emp_a")):
        draft = CustomerDraft(
            name="ريم",
            phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
            assigned_employee_id=assignee,
        )
        customer_id = ((await create_customer(hub.deps, admin, CreateCustomer(draft))).customer).id
        made.append(customer_id)
        async with write_transaction(hub.engine) as conn:
            await conn.execute(
                update(tables.customers)
                .where(tables.customers.c.id == customer_id)
                .values(last_contact_at=when)
            )

    async def contact_days() -> int:
        k = customer_counters.c
        async with hub.engine.connect() as conn:
            found = select(func.coalesce(func.sum(k.n), 0)).where(
                k.organization_id == org_id, k.dimension == "contact_day"
            )
            return int((await conn.execute(found)).scalar_one())

    async def active(scope: ScopeFilter) -> object:
        window = StatsWindow(now=now, tz=RIYADH)
        return (await customer_stats(hub.engine, scope, window, None)).engagement["activeCustomers"]

    everyone = ScopeFilter(org_id, Reach.ALL)
    assert await contact_days() == 6  # the contacted live customers, one each
    assert await active(everyone) == 5
    assert await active(ScopeFilter(org_id, Reach.OWN, "emp_a")) == 3
    assert await active(ScopeFilter(org_id, Reach.OWN, "emp_b")) == 2
    await delete_customer(hub.deps, admin, DeleteCustomer(made[2]))  # the first whole day's
    assert await contact_days() == 5
    assert await active(everyone) == 4
    async with write_transaction(hub.engine) as conn:
        await fold(conn, customer_counters, org_id)
    assert await active(everyone) == 4
    await assert_counters_equal_a_recount(hub, org_id)


async def test_an_update_of_no_counted_column_writes_no_counter_row(hub: Hub, org_id: str) -> None:
    await staff(hub, org_id)
    admin = admin_of(org_id)
    draft = CustomerDraft(name="خالد", phone=f"+9665{uuid.uuid4().int % 10**8:08d}")
    customer_id = ((await create_customer(hub.deps, admin, CreateCustomer(draft))).customer).id

    async def rows() -> int:
        k = customer_counters.c
        async with hub.engine.connect() as conn:
            found = select(func.count()).where(k.organization_id == org_id)
            return int((await conn.execute(found)).scalar_one())

    before = await rows()
    await update_customer(
        hub.deps, admin, UpdateCustomer(customer_id, CustomerPatch(notes="ملاحظة"))
    )
    assert await rows() == before
    await update_customer(
        hub.deps, admin, UpdateCustomer(customer_id, CustomerPatch(priority=Priority.URGENT))
    )
    assert await rows() == before + 2  # priority: -1 medium, +1 urgent


async def test_concurrent_writers_lose_no_count(hub: Hub, org_id: str, dialect: str) -> None:
    """Several connections write at once — use cases and multi-row statements — while folds
    run: no error, and the counters equal the recount."""
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no concurrency to test")
    await staff(hub, org_id)
    admin = admin_of(org_id)

    async def creator(n: int) -> None:
        for i in range(6):
            draft = CustomerDraft(
                name=f"عميل {n} {i}",
                phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
                city=CITIES[i % 3],
                preferences=Preferences(property_type=(PropertyType.APARTMENT,)),
                assigned_employee_id=EMPLOYEES[(n + i) % 3],
            )
            await create_customer(hub.deps, admin, CreateCustomer(draft))

    async def mover(n: int) -> None:
        c = tables.customers.c
        for i in range(6):
            async with write_transaction(hub.engine) as conn:
                # disjoint rows per writer (hash of the id), many rows per statement
                await conn.execute(
                    update(tables.customers)
                    .where(
                        c.organization_id == org_id,
                        func.length(c.id) % 3 == n,
                    )
                    .values(
                        assigned_employee_id=EMPLOYEES[(n + i) % 3],
                        lead_score=(n * 7 + i) % 100,
                        last_contact_at=datetime.now(UTC) - timedelta(days=(n * 11 + i) % 40),
                    )
                )

    async def folder() -> None:
        for _ in range(6):
            async with write_transaction(hub.engine) as conn:
                await fold(conn, customer_counters, org_id)
            await asyncio.sleep(0.01)

    jobs: list[Callable[[], Any]] = [
        *(lambda n=n: creator(n) for n in range(4)),
        *(lambda n=n: mover(n) for n in range(3)),
        folder,
        folder,
    ]
    await asyncio.gather(*(job() for job in jobs))
    await assert_counters_equal_a_recount(hub, org_id)


async def test_recount_all_repairs_wiped_counters(hub: Hub, org_id: str) -> None:
    """Counters wiped (as if the rows predated them): a recount restores every number."""
    await staff(hub, org_id)
    await run(hub, org_id, PROGRAM_EXAMPLES[0])
    window = StatsWindow(now=datetime.now(UTC), tz=RIYADH)
    everyone = ScopeFilter(org_id, Reach.ALL)
    expected = await recount_customer_stats(hub.engine, everyone, window, None)
    async with write_transaction(hub.engine) as conn:
        await conn.execute(
            text("DELETE FROM customer_counters WHERE organization_id = :o"), {"o": org_id}
        )
    if expected.total:
        assert await customer_stats(hub.engine, everyone, window, None) != expected
    assert await recount_all(hub.engine, org_id) == [org_id]
    assert await customer_stats(hub.engine, everyone, window, None) == expected


async def test_the_background_folder_compacts_rows_and_changes_no_number(
    hub: Hub, org_id: str
) -> None:
    await staff(hub, org_id)
    await run(hub, org_id, PROGRAM_EXAMPLES[1])
    k = customer_counters.c

    async def rows() -> int:
        async with hub.engine.connect() as conn:
            found = select(func.count()).where(k.organization_id == org_id)
            return int((await conn.execute(found)).scalar_one())

    many = await rows()
    folder = CounterFolder((customer_counters,), engine=hub.engine, threshold=1)
    await folder.step()
    folded = await rows()
    assert folded <= many
    async with hub.engine.connect() as conn:
        keys = select(k.assignee, k.dimension, k.value).where(k.organization_id == org_id)
        distinct = select(func.count()).select_from(keys.distinct().subquery())
        assert folded == int((await conn.execute(distinct)).scalar_one())  # one row per key
    await assert_counters_equal_a_recount(hub, org_id)
    await folder.step()  # nothing new since: not folded again
    assert await rows() == folded


async def test_closes_follow_history_writes_moves_and_deletions(hub: Hub, org_id: str) -> None:
    """The first close of each customer (pipeline days, closes this month/year) follows
    history rows inserted, moved to another customer (as a merge does), deleted, and the
    customer's deletion; the month's first and last UTC days count exactly."""
    await staff(hub, org_id)
    admin = admin_of(org_id)
    ids = []
    for assignee in ("emp_a", "emp_b", None):
        draft = CustomerDraft(
            name="ريم",
            phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
            assigned_employee_id=assignee,
        )
        ids.append(((await create_customer(hub.deps, admin, CreateCustomer(draft))).customer).id)
    now = datetime.now(UTC)
    month_start = datetime(now.year, now.month, 1, tzinfo=RIYADH).astimezone(UTC)
    h = tables.stage_history

    async def history(customer_id: str, seq: int, stage: str, at: datetime) -> str:
        row_id = f"sh_{uuid.uuid4().hex[:12]}"
        async with write_transaction(hub.engine) as conn:
            await conn.execute(
                h.insert().values(
                    id=row_id,
                    organization_id=org_id,
                    customer_id=customer_id,
                    seq=100 + seq,
                    from_stage=None,
                    to_stage=stage,
                    changed_by="x",
                    changed_by_id="emp_admin",
                    changed_at=at,
                )
            )
        return row_id

    window = StatsWindow(now=now, tz=RIYADH)
    everyone = ScopeFilter(org_id, Reach.ALL)
    # The local month starts at 21:00 UTC of the day before: a close at 22:00 UTC that day is
    # this month, one at 20:00 UTC is not.
    inside = await history(ids[0], 1, Stage.CLOSING.value, month_start + timedelta(hours=1))
    await history(ids[0], 2, Stage.POST_SALE.value, month_start + timedelta(hours=2))
    await history(ids[1], 3, Stage.CLOSING.value, month_start - timedelta(hours=1))
    await history(ids[2], 4, Stage.POST_SALE.value, now - timedelta(days=400))
    stats = await customer_stats(hub.engine, everyone, window, None)
    assert (stats.conversion["closedThisMonth"], stats.conversion["closedThisYear"]) == (
        1,
        1 + (month_start - timedelta(hours=1) >= datetime(now.year, 1, 1, tzinfo=RIYADH)),
    )
    await assert_counters_equal_a_recount(hub, org_id)
    # Move the first close of ids[0] to ids[1] (a merge moves history rows like this).
    async with write_transaction(hub.engine) as conn:
        await conn.execute(update(h).where(h.c.id == inside).values(customer_id=ids[1]))
    await assert_counters_equal_a_recount(hub, org_id)
    async with write_transaction(hub.engine) as conn:
        await conn.execute(h.delete().where(h.c.id == inside))
    await assert_counters_equal_a_recount(hub, org_id)
    await assign_customer(hub.deps, admin, AssignCustomer(ids[0], "emp_b"))
    await delete_customer(hub.deps, admin, DeleteCustomer(ids[2]))
    await assert_counters_equal_a_recount(hub, org_id)
    await restore_customer(hub.deps, admin, RestoreCustomer(ids[2]))
    await delete_customer(hub.deps, admin, DeleteCustomer(ids[0], permanent=True))
    await assert_counters_equal_a_recount(hub, org_id)
    stats = await customer_stats(hub.engine, everyone, window, None)
    assert stats.conversion["avgDaysInPipeline"] is not None


async def test_cli_db_recount_rebuilds_one_organization(
    hub: Hub, org_id: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await staff(hub, org_id)
    await run(hub, org_id, PROGRAM_EXAMPLES[2])
    async with write_transaction(hub.engine) as conn:
        await conn.execute(
            text("DELETE FROM customer_counters WHERE organization_id = :o"), {"o": org_id}
        )
    argv = ["db", "recount", "--database-url", database_url, "--org", org_id]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert "1 organization" in capsys.readouterr().out
    await assert_counters_equal_a_recount(hub, org_id)
    # A mistyped organization rebuilds nothing and says so.
    argv[-1] = f"{org_id}_typo"
    assert await asyncio.to_thread(cli.main, argv) == 1
    assert "nothing rebuilt" in capsys.readouterr().err

"""Employee use cases on the fakes: admin only, caller-given ids, manager rules, bad input —
a failure changes nothing and publishes nothing."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import TypeVar

import pytest
from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.employees import (
    CreateEmployee,
    DeactivateEmployee,
    UpdateEmployee,
    create_employee,
    deactivate_employee,
    update_employee,
)
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import (
    Duplicate,
    NotFound,
    PermissionDenied,
    UnprocessableInput,
    ValidationFailed,
)
from customers_hub.domain.model import Actor, Employee, FalLicence
from customers_hub.testing import actor_for
from customers_hub.testing.fakes import (
    InMemoryStore,
    RecordingPublisher,
    Staff,
    build_fake_dependencies,
    seed_staff,
)

ORG, OTHER_ORG = "org_a", "org_b"
E = TypeVar("E", bound=BaseException)


@frozen
class Env:
    deps: Dependencies
    store: InMemoryStore
    publisher: RecordingPublisher
    staff: Staff
    other: Staff

    @property
    def admin(self) -> Actor:
        return actor_for(self.staff.admin)

    def employee(self, employee_id: str, org: str = ORG) -> Employee:
        return self.store.employees[(org, employee_id)]


@pytest.fixture
def env() -> Env:
    deps, store, publisher, _ = build_fake_dependencies()
    return Env(
        deps, store, publisher, seed_staff(store, ORG), seed_staff(store, OTHER_ORG, prefix="b")
    )


async def refused(env: Env, error: type[E], call: Awaitable[object]) -> E:
    before = env.store.copy()
    published = len(env.publisher.events)
    with pytest.raises(error) as caught:
        await call
    assert env.store == before
    assert len(env.publisher.events) == published
    return caught.value


def fields_of(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


# ---------------------------------------------------------------------------------------------
# create_employee


async def test_an_admin_creates_an_employee_with_the_identity_providers_id(env: Env) -> None:
    employee = await create_employee(
        env.deps,
        env.admin,
        CreateEmployee(
            id="auth0|64f1c2",
            name=" منى  العتيبي ",
            role=Role.SALES_AGENT,
            email="Mona@Example.COM",
            phone="0551234567",
            manager_id="emp_manager",
            fal_licence=FalLicence(" 1100000001 ", date(2027, 1, 1)),
        ),
    )
    assert env.employee("auth0|64f1c2") == employee
    assert employee.organization_id == ORG
    assert employee.name == "منى العتيبي"
    assert employee.email == "Mona@example.com"
    assert employee.phone == "+966551234567"
    assert employee.fal_licence == FalLicence("1100000001", date(2027, 1, 1))
    assert employee.is_active
    assert env.publisher.names() == ["employee.saved"]


async def test_without_an_id_one_is_generated(env: Env) -> None:
    employee = await create_employee(
        env.deps, env.admin, CreateEmployee(name="سلمان", role=Role.VIEWER)
    )
    assert employee.id == "emp_000001"
    assert env.employee(employee.id) == employee


async def test_ids_are_unique_per_organization(env: Env) -> None:
    error = await refused(
        env,
        Duplicate,
        create_employee(
            env.deps, env.admin, CreateEmployee(id="emp_agent", name="x", role=Role.SALES_AGENT)
        ),
    )
    assert error.field == "id"
    # The same id in another organization is another person.
    other = await create_employee(
        env.deps,
        actor_for(env.other.admin),
        CreateEmployee(id="emp_agent", name="y", role=Role.VIEWER),
    )
    assert env.employee("emp_agent", OTHER_ORG) == other
    assert env.employee("emp_agent") == env.staff.agent


@pytest.mark.parametrize("who", ["manager", "agent", "viewer"])
async def test_only_admins_manage_employees(env: Env, who: str) -> None:
    actor = actor_for(getattr(env.staff, who))
    error = await refused(
        env,
        PermissionDenied,
        create_employee(env.deps, actor, CreateEmployee(name="x", role=Role.SALES_AGENT)),
    )
    assert error.current_role == actor.role.value
    await refused(
        env,
        PermissionDenied,
        update_employee(env.deps, actor, UpdateEmployee(employee_id="emp_agent", title="x")),
    )
    await refused(
        env,
        PermissionDenied,
        deactivate_employee(env.deps, actor, DeactivateEmployee(employee_id="emp_agent")),
    )


async def test_an_admin_token_with_no_permission_still_manages_employees(env: Env) -> None:
    # Employees are the admin role's (rules §4): no claim outside the document's five is needed.
    actor = actor_for(env.staff.admin, permissions=frozenset())
    created = await create_employee(
        env.deps, actor, CreateEmployee(name="سارة العتيبي", role=Role.SALES_AGENT)
    )
    assert created.name == "سارة العتيبي"
    assert created.organization_id == env.staff.admin.organization_id


async def test_create_bad_input_names_every_field(env: Env) -> None:
    error = await refused(
        env,
        ValidationFailed,
        create_employee(
            env.deps,
            env.admin,
            CreateEmployee(
                id="has space",
                name=" ",
                role=Role.SALES_AGENT,
                email="nope",
                phone="123",
                title="t" * 200,
                manager_id="emp_outsider",  # an agent cannot manage
                fal_licence=FalLicence(" ", date(2027, 1, 1)),
            ),
        ),
    )
    # Every malformed field in one 400; the manager (a rule on stored employees) comes after.
    assert type(error) is ValidationFailed
    assert fields_of(error) == {"id", "name", "email", "phone", "title", "falLicence.number"}


@pytest.mark.parametrize(
    "manager_id", ["emp_nobody", "b_manager", "emp_agent", "emp_viewer", "emp_inactive"]
)
async def test_the_manager_must_be_an_active_manager_of_the_organization(
    env: Env, manager_id: str
) -> None:
    error = await refused(
        env,
        UnprocessableInput,
        create_employee(
            env.deps,
            env.admin,
            CreateEmployee(name="x", role=Role.SALES_AGENT, manager_id=manager_id),
        ),
    )
    assert fields_of(error) == {"managerId"}


async def test_an_inactive_manager_is_refused(env: Env) -> None:
    env.store.put_employee(evolve(env.staff.manager, is_active=False))
    error = await refused(
        env,
        UnprocessableInput,
        create_employee(
            env.deps,
            env.admin,
            CreateEmployee(name="x", role=Role.SALES_AGENT, manager_id="emp_manager"),
        ),
    )
    assert fields_of(error) == {"managerId"}


async def test_creating_someone_whose_report_is_their_manager_is_a_cycle(env: Env) -> None:
    # emp_manager reports to "idp_boss", who does not exist yet; the boss cannot report back.
    env.store.put_employee(evolve(env.staff.manager, manager_id="idp_boss"))
    error = await refused(
        env,
        UnprocessableInput,
        create_employee(
            env.deps,
            env.admin,
            CreateEmployee(
                id="idp_boss", name="x", role=Role.SALES_MANAGER, manager_id="emp_manager"
            ),
        ),
    )
    assert fields_of(error) == {"managerId"}


# ---------------------------------------------------------------------------------------------
# update_employee and deactivate_employee


async def test_an_admin_updates_an_employee(env: Env) -> None:
    second_manager = await create_employee(
        env.deps, env.admin, CreateEmployee(id="emp_m2", name="مدير ثان", role=Role.SALES_MANAGER)
    )
    env.publisher.clear()
    updated = await update_employee(
        env.deps,
        env.admin,
        UpdateEmployee(
            employee_id="emp_agent", manager_id=second_manager.id, title="مستشار أول", email=None
        ),
    )
    assert updated.manager_id == "emp_m2"
    assert updated.title == "مستشار أول"
    assert updated.email is None
    assert updated.name == env.staff.agent.name
    assert env.employee("emp_agent") == updated
    assert env.publisher.names() == ["employee.saved"]


async def test_an_update_changing_nothing_publishes_nothing(env: Env) -> None:
    before = env.store.copy()
    same = await update_employee(
        env.deps, env.admin, UpdateEmployee(employee_id="emp_agent", name=env.staff.agent.name)
    )
    assert same == env.staff.agent
    assert env.store == before
    assert env.publisher.events == []


async def test_only_sent_fields_are_validated(env: Env) -> None:
    # A stored phone from before the rules does not block an unrelated change.
    env.store.put_employee(evolve(env.staff.agent, phone="legacy"))
    updated = await update_employee(
        env.deps, env.admin, UpdateEmployee(employee_id="emp_agent", title="x")
    )
    assert updated.phone == "legacy"
    assert updated.title == "x"


async def test_an_employee_cannot_be_their_own_manager(env: Env) -> None:
    error = await refused(
        env,
        UnprocessableInput,
        update_employee(
            env.deps, env.admin, UpdateEmployee(employee_id="emp_manager", manager_id="emp_manager")
        ),
    )
    assert fields_of(error) == {"managerId"}


async def test_no_management_cycles(env: Env) -> None:
    # emp_manager manages emp_m2 → emp_manager cannot report to emp_m2.
    await create_employee(
        env.deps,
        env.admin,
        CreateEmployee(id="emp_m2", name="x", role=Role.SALES_MANAGER, manager_id="emp_manager"),
    )
    env.publisher.clear()
    error = await refused(
        env,
        UnprocessableInput,
        update_employee(
            env.deps, env.admin, UpdateEmployee(employee_id="emp_manager", manager_id="emp_m2")
        ),
    )
    assert fields_of(error) == {"managerId"}


async def test_a_manager_with_a_team_keeps_a_managing_role(env: Env) -> None:
    error = await refused(
        env,
        UnprocessableInput,
        update_employee(
            env.deps, env.admin, UpdateEmployee(employee_id="emp_manager", role=Role.SALES_AGENT)
        ),
    )
    assert fields_of(error) == {"role"}
    promoted = await update_employee(
        env.deps, env.admin, UpdateEmployee(employee_id="emp_manager", role=Role.ADMIN)
    )
    assert promoted.role is Role.ADMIN


async def test_update_bad_input_names_every_field(env: Env) -> None:
    error = await refused(
        env,
        ValidationFailed,
        update_employee(
            env.deps,
            env.admin,
            UpdateEmployee(
                employee_id="emp_agent", name="", email="x@", phone="abc", manager_id="emp_outsider"
            ),
        ),
    )
    assert type(error) is ValidationFailed
    assert fields_of(error) == {"name", "email", "phone"}  # the manager is checked after


async def test_update_of_another_organizations_or_a_missing_employee_is_not_found(
    env: Env,
) -> None:
    await refused(
        env,
        NotFound,
        update_employee(env.deps, env.admin, UpdateEmployee(employee_id="b_agent", title="x")),
    )
    await refused(
        env,
        NotFound,
        deactivate_employee(env.deps, env.admin, DeactivateEmployee(employee_id="emp_nobody")),
    )


async def test_deactivating_an_employee(env: Env) -> None:
    deactivated = await deactivate_employee(
        env.deps, env.admin, DeactivateEmployee(employee_id="emp_agent")
    )
    assert not deactivated.is_active
    assert env.employee("emp_agent") == deactivated
    assert env.publisher.names() == ["employee.saved"]
    # Deactivating again changes nothing.
    before = env.store.copy()
    assert (
        await deactivate_employee(env.deps, env.admin, DeactivateEmployee(employee_id="emp_agent"))
        == deactivated
    )
    assert env.store == before
    assert len(env.publisher.events) == 1

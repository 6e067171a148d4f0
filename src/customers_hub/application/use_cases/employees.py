"""Use cases of the sales team: create, update and deactivate employees (admin only).

Decisions where the contracts are silent (documented for ``docs/``):

* The id may be given by the caller (the identity provider's user id: at most 50 characters, no
  white space); otherwise one is generated (``emp_…``). An id already used in the organization is
  409 ``DUPLICATE_RESOURCE`` on ``id``. Ids are unique per organization only.
* A manager must be an active ``sales_manager`` or ``admin`` of the same organization; an
  employee cannot be their own manager, nor (directly or through others) their manager's
  manager — every such problem is a 422 ``VALIDATION_ERROR`` on ``managerId``.
* An employee who still manages others cannot be given a role that manages nobody
  (``sales_agent``, ``viewer``): 422 on ``role``; move the team first.
* Those rules depend on what is stored, which no schema states: like an assignee who is no
  active employee, they are 422, checked once the fields themselves are valid (a 400 names
  every malformed field first).
* Deactivating keeps the employee's customers and actions where they are (an admin reassigns
  them); an inactive employee can no longer be assigned anything.
* Each accepted change publishes ``employee.saved``; a change that changes nothing publishes
  nothing.
* A write on an existing employee takes one command naming it (:class:`EmployeeCommand`); the
  routes take no ``If-Match``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from attrs import evolve, fields, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import EmployeeRepository, UnitOfWork
from customers_hub.application.write_context import transaction_as
from customers_hub.domain.access import Operation, RecordScope, enforce
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import Duplicate, NotFound, UnprocessableInput
from customers_hub.domain.events import DomainEvent, EmployeeSaved
from customers_hub.domain.model import Actor, Employee, FalLicence
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation import (
    ID_MAX_LENGTH,
    URL_MAX_LENGTH,
    Errors,
    FieldValidator,
    normalize_phone,
    refused_character,
    validate_email,
    validate_fal_licence,
    validate_name,
)

__all__ = [
    "EMPLOYEE_ID_MAX_LENGTH",
    "MANAGER_ROLES",
    "CreateEmployee",
    "DeactivateEmployee",
    "EmployeeCommand",
    "UpdateEmployee",
    "create_employee",
    "deactivate_employee",
    "update_employee",
    "with_display_name",
]

EMPLOYEE_ID_MAX_LENGTH = 50
"""Longest employee id (the ``employees.id`` column)."""

MANAGER_ROLES = frozenset({Role.SALES_MANAGER, Role.ADMIN})
"""Roles that can be someone's manager."""

TITLE_MAX_LENGTH = 100  # employees.title is String(100)
# The manager chain is walked at most this far (a real hierarchy is a few levels deep).
_MAX_CHAIN = 100


@frozen(kw_only=True)
class CreateEmployee:
    """A new employee; ``id`` is the identity provider's user id when given."""

    name: str
    role: Role
    id: str | None = None
    name_en: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    avatar: str | None = None
    manager_id: str | None = None
    is_active: bool = True
    fal_licence: FalLicence | None = None


@frozen(kw_only=True)
class EmployeeCommand:
    """A write on one existing employee: the employee's id (declared here only)."""

    employee_id: str


@frozen(kw_only=True)
class UpdateEmployee(EmployeeCommand):
    """Change the sent fields (:data:`UNSET` = not sent, ``None`` = clear)."""

    name: str | Unset = UNSET
    role: Role | Unset = UNSET
    name_en: str | Unset | None = UNSET
    email: str | Unset | None = UNSET
    phone: str | Unset | None = UNSET
    title: str | Unset | None = UNSET
    avatar: str | Unset | None = UNSET
    manager_id: str | Unset | None = UNSET
    is_active: bool | Unset = UNSET
    fal_licence: FalLicence | Unset | None = UNSET


@frozen(kw_only=True)
class DeactivateEmployee(EmployeeCommand):
    """Mark the employee inactive (``PATCH`` with ``isActive: false`` does the same)."""


# The employee attributes an UpdateEmployee may change: its fields but the command's id.
_PATCHABLE = tuple(
    a.name
    for a in fields(UpdateEmployee)
    if a.name not in {b.name for b in fields(EmployeeCommand)}
)


def _check_id(errors: Errors, raw: str) -> str:
    text = raw.strip()
    if not text:
        errors.add("id", "must not be empty")
    elif len(raw) > EMPLOYEE_ID_MAX_LENGTH:  # as sent, as the OpenAPI maxLength counts
        errors.add("id", f"must be at most {EMPLOYEE_ID_MAX_LENGTH} characters")
    elif any(ch.isspace() or refused_character(ch, multiline=False) for ch in text):
        # What the OpenAPI pattern states: no whitespace, nothing a one-line text refuses.
        errors.add("id", "must not contain spaces, control or invisible characters")
    return text


_Normalizer = Callable[[Errors, str, Any, date], Any]


def _optional(validator: FieldValidator[str, str]) -> _Normalizer:
    def normalize(errors: Errors, field: str, raw: Any, today: date) -> Any:
        if raw is None or not raw.strip():
            return None
        return errors.check(field, validator, raw) or raw

    return normalize


def _limited(max_length: int) -> _Normalizer:
    return lambda errors, field, raw, today: errors.text(field, raw, max_length=max_length)


def _fal(errors: Errors, field: str, raw: FalLicence | None, today: date) -> FalLicence | None:
    return None if raw is None else validate_fal_licence(errors, raw, today, field=field)


# attribute -> (API field, normalizer); the others (role, is_active) are typed by the edge.
# Every text goes through clean_text (via validate_name, errors.text or validate_fal_licence).
_NORMALIZERS: Mapping[str, tuple[str, _Normalizer]] = {
    "name": (
        "name",
        lambda errors, field, raw, today: errors.check(field, validate_name, raw) or raw,
    ),
    "name_en": ("nameEn", _optional(validate_name)),
    "email": ("email", _optional(validate_email)),
    "phone": ("phone", _optional(normalize_phone)),
    "title": ("title", _limited(TITLE_MAX_LENGTH)),
    "avatar": ("avatar", _limited(URL_MAX_LENGTH)),
    "manager_id": ("managerId", _limited(ID_MAX_LENGTH)),
    "fal_licence": ("falLicence", _fal),
}


def _fields(
    errors: Errors, employee: Employee, today: date, sent: Iterable[str] | None = None
) -> Employee:
    """The employee with the ``sent`` fields (default: all) normalized; failures in ``errors``.

    Only sent fields are checked on an update, so a stored value from before a rule existed
    never blocks an unrelated change.
    """
    names = _NORMALIZERS.keys() if sent is None else set(sent) & _NORMALIZERS.keys()
    changes = {}
    for name in names:
        field, normalize = _NORMALIZERS[name]
        changes[name] = normalize(errors, field, getattr(employee, name), today)
    return evolve(employee, **changes)


async def _check_manager(errors: Errors, repo: EmployeeRepository, employee: Employee) -> None:
    """The manager exists, may manage, and is not the employee or one of their reports."""
    manager_id = employee.manager_id
    if manager_id is None:
        return
    if manager_id == employee.id:
        errors.add("managerId", "An employee cannot be their own manager")
        return
    manager = await repo.get(employee.organization_id, manager_id)
    if manager is None:
        errors.add("managerId", "Manager is not an employee of this organization")
        return
    if manager.role not in MANAGER_ROLES:
        errors.add("managerId", "Manager must be a sales manager or an admin")
    elif not manager.is_active:
        errors.add("managerId", "Manager is not an active employee")
    # Walk up from the manager: meeting the employee again would close a loop.
    seen = {employee.id}
    current: Employee | None = manager
    for _ in range(_MAX_CHAIN):
        if current is None or current.manager_id is None:
            return
        if current.manager_id in seen or current.id in seen:
            errors.add("managerId", "This manager would make a management cycle")
            return
        seen.add(current.id)
        current = await repo.get(employee.organization_id, current.manager_id)


def _saved(employee: Employee, deps: Dependencies) -> list[DomainEvent]:
    return [
        EmployeeSaved(
            organization_id=employee.organization_id,
            occurred_at=deps.clock.now(),
            employee_ids=(employee.id,),
            employee_id=employee.id,
        )
    ]


async def create_employee(deps: Dependencies, actor: Actor, command: CreateEmployee) -> Employee:
    """Create an employee of the actor's organization (the admin role alone decides)."""
    enforce(actor, Operation.MANAGE_EMPLOYEES, resource_type="employee", resource_id="")
    errors = Errors()
    given_id = _check_id(errors, command.id) if command.id is not None else None

    async def work(uow: UnitOfWork) -> tuple[Employee, list[DomainEvent]]:
        employee_id = given_id or deps.ids.new_id("emp")
        draft = Employee(
            id=employee_id,
            organization_id=actor.organization_id,
            name=command.name,
            role=command.role,
            is_active=command.is_active,
            name_en=command.name_en,
            email=command.email,
            phone=command.phone,
            title=command.title,
            avatar=command.avatar,
            manager_id=command.manager_id,
            fal_licence=command.fal_licence,
        )
        all_errors = Errors()
        all_errors.extend(errors.errors)
        employee = _fields(all_errors, draft, await deps.today_of(actor.organization_id))
        all_errors.raise_if_any()
        refused = Errors()
        await _check_manager(refused, uow.employees, employee)
        refused.raise_if_any(UnprocessableInput)
        if given_id is not None and await uow.employees.get(actor.organization_id, given_id):
            raise Duplicate("An employee with this id already exists", field="id")
        await uow.employees.save(employee)
        return employee, _saved(employee, deps)

    return await transaction_as(deps, actor, work)


async def update_employee(deps: Dependencies, actor: Actor, command: UpdateEmployee) -> Employee:
    """Change an employee (admin): texts validated, manager rules, role kept while managing."""
    employee_id = command.employee_id
    enforce(actor, Operation.MANAGE_EMPLOYEES, resource_type="employee", resource_id=employee_id)

    async def work(uow: UnitOfWork) -> tuple[Employee, list[DomainEvent]]:
        current = await uow.employees.get(actor.organization_id, employee_id)
        if current is None:
            raise NotFound("employee", employee_id)
        enforce(
            actor,
            Operation.MANAGE_EMPLOYEES,
            RecordScope.for_employee(current),
            resource_type="employee",
            resource_id=employee_id,
        )
        sent: dict[str, Any] = {
            name: getattr(command, name)
            for name in _PATCHABLE
            if getattr(command, name) is not UNSET
        }
        errors = Errors()
        changed = _fields(
            errors, evolve(current, **sent), await deps.today_of(actor.organization_id), sent
        )
        errors.raise_if_any()
        refused = Errors()
        if changed.manager_id != current.manager_id:
            await _check_manager(refused, uow.employees, changed)
        if changed.role not in MANAGER_ROLES and current.role in MANAGER_ROLES:
            team = await uow.employees.team_member_ids(actor.organization_id, employee_id)
            if team:
                refused.add(
                    "role",
                    f"Still manages {len(team)} employee(s); give them another manager first",
                )
        refused.raise_if_any(UnprocessableInput)
        if changed == current:
            return current, []
        await uow.employees.save(changed)
        return changed, _saved(changed, deps)

    return await transaction_as(deps, actor, work)


async def deactivate_employee(
    deps: Dependencies, actor: Actor, command: DeactivateEmployee
) -> Employee:
    """Mark an employee inactive (admin); their customers and actions stay where they are."""
    update = UpdateEmployee(employee_id=command.employee_id, is_active=False)
    return await update_employee(deps, actor, update)


async def with_display_name(deps: Dependencies, actor: Actor) -> Actor:
    """``actor`` with the name of its employee record when it carries none.

    Tokens shaped like the API document's example have no ``name`` claim; what a write records
    for people to read (``changedBy``, ``agentName``, ``createdBy``, ``uploadedBy``) is then the
    employee's name rather than the raw user id. An actor that has a name, or whose user id is no
    employee of its organization, is returned as it is. One primary-key read.
    """
    if actor.name is not None:
        return actor
    async with deps.uow(read_only=True) as uow:
        employee = await uow.employees.get(actor.organization_id, actor.user_id)
    return actor if employee is None else evolve(actor, name=employee.name)

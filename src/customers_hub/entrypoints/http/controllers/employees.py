"""The sales team: endpoint 29 and employee management (``/api/v1/employees…``).

* ``GET /employees`` (29) — ``role``, ``isActive``, ``includeStats``;
* ``POST /employees`` (admin, 201) — with an optional caller-given ``id`` (the identity
  provider's user id);
* ``PATCH /employees/{id}`` (admin).

Decisions where the API document is silent (for ``docs/``):

* Every role may list the organization's employees (the assignment pickers need them); the list
  is ordered as the query service returns it, not paged (a team is small).
* ``role`` in an employee is what a person reads (the job title, else the role's English label),
  as in a customer's ``assignedEmployee``; ``accessRole`` is the access role. The ``role`` filter
  and the write bodies' ``role`` take the access role (``admin``, ``sales_manager``,
  ``sales_agent``, ``viewer``); ``title`` sets the job title.
* ``includeStats=true`` adds ``stats`` (customers assigned, open actions, actions completed this
  local calendar month, average response time in hours — ``null`` when nothing was answered yet).
* Deactivating is ``PATCH {"isActive": false}``: the employee keeps their customers and actions
  until an admin reassigns them, and can no longer be assigned anything.
* An id already used in the organization is 409 ``DUPLICATE_RESOURCE`` on ``id``.
* The list is read through the application cache (``employees:list:{hash}``, invalidated by
  employee, customer-list and action changes) and carries ``ETag``/``Cache-Control``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, patch, post
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import employees as use_cases
from customers_hub.application.use_cases import reads
from customers_hub.domain.enums import Role
from customers_hub.domain.model import Actor, FalLicence
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_read import cached_read
from customers_hub.entrypoints.http.caching import IF_NONE_MATCH, NOT_MODIFIED, CachedBody
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import EMPLOYEE_ID
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import Wire
from customers_hub.entrypoints.http.wire.commands import body_of, to_command
from customers_hub.entrypoints.http.wire_actions import (
    EmployeeOut,
    FalLicenceWire,
    employee_to_wire,
)

__all__ = [
    "ROUTES",
    "EmployeeData",
    "EmployeeIn",
    "EmployeeListData",
    "EmployeePatchIn",
    "EmployeesController",
]


# ---------------------------------------------------------------------------------------------
# Wire: bodies and data


# Both bodies are made from their commands (wire.commands.body_of): a licence as its body.
_LICENCE: dict[type, type] = {FalLicence: FalLicenceWire}


_EmployeeBody: Any = body_of(use_cases.CreateEmployee, nested=_LICENCE)
_EmployeePatchBody: Any = body_of(use_cases.UpdateEmployee, skip=("employee_id",), nested=_LICENCE)


class EmployeeIn(_EmployeeBody):  # type: ignore[misc]  # fields made from the command
    """``POST /employees``: the fields of :class:`CreateEmployee`; ``name`` and ``role`` (the
    access role) are required; ``id`` is optional (generated ``emp_…`` otherwise)."""

    echoes = EmployeeOut  # its read-only keys are checked and ignored


class EmployeePatchIn(_EmployeePatchBody):  # type: ignore[misc]  # fields made from the command
    """``PATCH /employees/{id}``: the fields of :class:`UpdateEmployee`; absent keys keep,
    ``null`` clears (``name``, ``role`` and ``isActive`` cannot be cleared). ``id`` is read-only
    and ignored."""

    echoes = EmployeeOut  # its read-only keys are checked and ignored


class EmployeeData(Wire, kw_only=True):
    """``data`` of a single-employee response."""

    employee: EmployeeOut


class EmployeeListData(Wire, kw_only=True):
    """``data`` of the employees list."""

    employees: list[EmployeeOut]


# ---------------------------------------------------------------------------------------------
# The controller


class EmployeesController(StrictController):
    """``/api/v1/employees``."""

    path = "/employees"
    tags = ("Employees",)

    @get(
        "/",
        operation_id="listEmployees",
        summary="List employees",
        responses={**error_responses(403), **NOT_MODIFIED},
    )
    async def list_employees(
        self,
        deps: Dependencies,
        actor: Actor,
        hub: Hub,
        if_none_match: IF_NONE_MATCH = None,
        role: Annotated[
            Role | None,
            Parameter(description="Access role: admin, sales_manager, sales_agent, viewer"),
        ] = None,
        is_active: Annotated[
            bool | None, Parameter(query="isActive", description="Active (or inactive) only")
        ] = None,
        include_stats: Annotated[
            bool, Parameter(query="includeStats", description="Add workload statistics")
        ] = False,
    ) -> Response[Envelope[EmployeeListData]]:
        """The organization's employees, for assignment, with their workload on request."""
        plan = reads.plan_list_employees(
            actor, role=role, is_active=is_active, include_stats=include_stats
        )
        if include_stats:  # workloads count "this month": the organization's day tells them apart
            plan = plan.on_day(await deps.today_of(plan.reader.organization_id))

        async def load() -> CachedBody:
            result = await reads.run_list_employees(deps, plan)
            workloads = result.workloads
            return caching.body_of(
                EmployeeListData(
                    employees=[
                        employee_to_wire(e, workloads.get(e.id) if workloads is not None else None)
                        for e in result.employees
                    ]
                )
            )

        return await cached_read(
            hub.cache,
            plan,
            load,
            ttl="employees:list",
            if_none_match=if_none_match,
        )

    @post(
        "/",
        operation_id="createEmployee",
        summary="Create an employee",
        responses=error_responses(403, 409, 422),
    )
    async def create_employee(
        self, deps: Dependencies, actor: Actor, data: EmployeeIn
    ) -> Response[Envelope[EmployeeData]]:
        """Add an employee to the organization (admin); 201 with the employee."""
        licence = data.fal_licence.to_domain() if data.fal_licence else None
        command = to_command(data, use_cases.CreateEmployee, fal_licence=licence)
        employee = await use_cases.create_employee(deps, actor, command)
        return ok(
            EmployeeData(employee=employee_to_wire(employee)),
            message="Employee created successfully",
        )

    @patch(
        "/{employee_id:str}",
        operation_id="updateEmployee",
        summary="Update an employee",
        responses=error_responses(403, 404, 409, 422),
    )
    async def update_employee(
        self, deps: Dependencies, actor: Actor, employee_id: EMPLOYEE_ID, data: EmployeePatchIn
    ) -> Response[Envelope[EmployeeData]]:
        """Change the sent fields of an employee (admin); ``isActive: false`` deactivates."""
        licence = data.fal_licence  # UNSET keeps, None clears, a licence replaces
        given = {"fal_licence": licence.to_domain()} if isinstance(licence, FalLicenceWire) else {}
        command = to_command(data, use_cases.UpdateEmployee, employee_id=employee_id, **given)
        employee = await use_cases.update_employee(deps, actor, command)
        return ok(
            EmployeeData(employee=employee_to_wire(employee)),
            message="Employee updated successfully",
        )


ROUTES: list[Any] = [EmployeesController]
"""Mounted under ``/api/v1``."""

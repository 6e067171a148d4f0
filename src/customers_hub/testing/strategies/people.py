"""Strategies for actors, employees and teams."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

from attrs import frozen
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain.access import default_permissions
from customers_hub.domain.enums import (
    Permission,
    Role,
)
from customers_hub.domain.model import (
    Actor,
    Employee,
    FalLicence,
)
from customers_hub.testing.strategies.actions import (
    _optional,
)
from customers_hub.testing.strategies.options import (
    UNSET,
    OrStrategy,
    _resolve,
    _Unset,
)
from customers_hub.testing.strategies.values import (
    arabic_names,
    ids,
    organizations,
    person_names,
    saudi_mobiles,
)

# --- people: actors, employees, teams --------------------------------------------------------

ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = MappingProxyType(
    {role: default_permissions(role) for role in Role}
)
"""The permissions a token of each role usually carries; :func:`actors` grants them by default."""


@st.composite
def _actors(
    draw: st.DrawFn,
    *,
    user_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    role: SearchStrategy[Role],
    permissions: SearchStrategy[frozenset[Permission]] | None,
    name: SearchStrategy[str | None],
) -> Actor:
    chosen = draw(role)
    return Actor(
        user_id=draw(user_id),
        organization_id=draw(organization_id),
        role=chosen,
        permissions=ROLE_PERMISSIONS[chosen] if permissions is None else draw(permissions),
        name=draw(name),
    )


def actors(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    role: OrStrategy[Role] | _Unset = UNSET,
    permissions: OrStrategy[frozenset[Permission]] | _Unset = UNSET,
    user_id: OrStrategy[str] | _Unset = UNSET,
    name: OrStrategy[str | None] | _Unset = UNSET,
) -> SearchStrategy[Actor]:
    """Callers (verified token claims). ``permissions`` defaults to :data:`ROLE_PERMISSIONS` of
    the drawn role; pass ``st.frozensets(st.sampled_from(Permission))`` for arbitrary claims.
    User ids are employee ids (``emp_…``), as assignees are."""
    return _actors(
        user_id=_resolve(user_id, ids("emp")),
        organization_id=_resolve(organization_id, organizations()),
        role=_resolve(role, st.sampled_from(Role)),
        permissions=_optional(permissions),
        name=_resolve(name, st.none() | arabic_names(diacritics=False)),
    )


_TITLES: Final[Mapping[Role, str]] = {
    Role.ADMIN: "مدير النظام",
    Role.SALES_MANAGER: "مدير المبيعات",
    Role.SALES_AGENT: "مستشار عقاري",
    Role.VIEWER: "مساعد إداري",
}


@st.composite
def _employees(
    draw: st.DrawFn,
    *,
    employee_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    role: SearchStrategy[Role],
    manager_id: SearchStrategy[str | None] | None,
    is_active: SearchStrategy[bool],
) -> Employee:
    chosen = draw(role)
    person = draw(person_names(diacritics=False))
    if manager_id is not None:
        manager = draw(manager_id)
    elif chosen in (Role.SALES_AGENT, Role.VIEWER):
        manager = draw(st.none() | ids("emp"))
    else:
        manager = None
    brokers = (Role.SALES_AGENT, Role.SALES_MANAGER)
    licence = (
        draw(
            st.none()
            | st.builds(
                FalLicence,
                number=st.integers(1_000_000_000, 1_999_999_999).map(str),
                expires_on=st.dates(date(2024, 1, 1), date(2031, 12, 31)),
            )
        )
        if chosen in brokers
        else None
    )
    first_en = person.english.split()[0].lower()
    return Employee(
        id=draw(employee_id),
        organization_id=draw(organization_id),
        name=person.arabic,
        role=chosen,
        is_active=draw(is_active),
        name_en=person.english,
        email=f"{first_en}.{draw(st.integers(1, 999))}@example.com",
        phone=draw(saudi_mobiles()),
        title=_TITLES[chosen],
        manager_id=manager,
        fal_licence=licence,
    )


def employees(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    role: OrStrategy[Role] | _Unset = UNSET,
    manager_id: OrStrategy[str | None] | _Unset = UNSET,
    is_active: OrStrategy[bool] | _Unset = UNSET,
    employee_id: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[Employee]:
    """Employees. Agents and viewers report to a drawn manager id (or none) unless
    ``manager_id`` is given; admins and managers report to nobody by default. Active by default.
    """
    return _employees(
        employee_id=_resolve(employee_id, ids("emp")),
        organization_id=_resolve(organization_id, organizations()),
        role=_resolve(role, st.sampled_from(Role)),
        manager_id=_optional(manager_id),
        is_active=_resolve(is_active, st.just(True)),
    )


@frozen
class Team:
    """A sales manager and the agents whose ``manager_id`` is the manager (one organization)."""

    manager: Employee
    agents: tuple[Employee, ...]

    @property
    def organization_id(self) -> str:
        """The team's organization."""
        return self.manager.organization_id

    @property
    def members(self) -> tuple[Employee, ...]:
        """The manager first, then the agents."""
        return (self.manager, *self.agents)

    @property
    def member_ids(self) -> frozenset[str]:
        """Ids of everyone in the team: the records a ``sales_manager`` may see are theirs."""
        return frozenset(m.id for m in self.members)


@st.composite
def _teams(
    draw: st.DrawFn, organization_id: SearchStrategy[str], min_agents: int, max_agents: int
) -> Team:
    org = draw(organization_id)
    manager = draw(employees(organization_id=org, role=Role.SALES_MANAGER))
    agents = draw(
        st.lists(
            employees(organization_id=org, role=Role.SALES_AGENT, manager_id=manager.id),
            min_size=min_agents,
            max_size=max_agents,
            unique_by=lambda e: e.id,
        ).filter(lambda members: all(m.id != manager.id for m in members))
    )
    return Team(manager, tuple(agents))


def teams(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    min_agents: int = 1,
    max_agents: int = 4,
) -> SearchStrategy[Team]:
    """A manager (role ``sales_manager``) and ``min_agents``–``max_agents`` active agents
    reporting to them, all of one organization, with distinct ids."""
    return _teams(_resolve(organization_id, organizations()), min_agents, max_agents)


def actor_for(employee: Employee, *, permissions: frozenset[Permission] | None = None) -> Actor:
    """The caller an employee is: same id, organization, role and name.

    ``permissions`` defaults to :data:`ROLE_PERMISSIONS` of the employee's role.
    """
    return Actor(
        user_id=employee.id,
        organization_id=employee.organization_id,
        role=employee.role,
        permissions=ROLE_PERMISSIONS[employee.role] if permissions is None else permissions,
        name=employee.name,
        email=employee.email,
    )

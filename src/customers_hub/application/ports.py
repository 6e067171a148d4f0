"""Ports: what the use cases need from the outside world, as ``typing.Protocol``s.

Adapters implement them (SQLAlchemy, Redis, local files); tests use in-memory fakes. Nothing
here imports an adapter library.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Customer, CustomerAction, Employee


class Clock(Protocol):
    """The current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class IdGenerator(Protocol):
    """New unique ids with a readable prefix (``cust_…``, ``action_…``)."""

    def new_id(self, prefix: str) -> str:
        """A new id starting with ``prefix`` and an underscore."""
        ...


class CustomerRepository(Protocol):
    """Customers of one organization at a time; never commits."""

    async def get(self, organization_id: str, customer_id: str) -> Customer | None:
        """The customer (deleted ones included), or None when absent in this organization."""
        ...

    async def add(self, customer: Customer) -> None:
        """Insert a new customer with its history and interests."""
        ...

    async def save(self, customer: Customer, *, expected_version: int) -> None:
        """Write a changed customer; raises ``ConcurrentUpdate`` if the version moved."""
        ...

    async def phone_in_use(
        self, organization_id: str, phone: str, *, excluding_id: str | None = None
    ) -> bool:
        """True when a live customer of the organization already has this phone."""
        ...


class ActionRepository(Protocol):
    """Inbox actions; never commits."""

    async def get(self, organization_id: str, action_id: str) -> CustomerAction | None:
        """The action with its notes, or None."""
        ...

    async def add_many(self, actions: Sequence[CustomerAction]) -> None:
        """Insert new actions in one statement."""
        ...

    async def save(self, action: CustomerAction, *, expected_version: int) -> None:
        """Write a changed action; raises ``ConcurrentUpdate`` if the version moved."""
        ...


class EmployeeRepository(Protocol):
    """Employees of an organization."""

    async def get(self, organization_id: str, employee_id: str) -> Employee | None:
        """The employee, or None when absent in this organization."""
        ...

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Employee]:
        """The employees among ``ids`` that exist in the organization, by id."""
        ...

    async def save(self, employee: Employee) -> None:
        """Insert or update an employee."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories share it; nothing is written unless ``commit`` is called."""

    customers: CustomerRepository
    actions: ActionRepository
    employees: EmployeeRepository

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None:
        """Make the transaction's writes durable."""
        ...


class EventPublisher(Protocol):
    """Delivers domain events after their transaction committed."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Deliver ``events`` in order."""
        ...

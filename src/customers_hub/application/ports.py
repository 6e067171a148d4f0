"""Ports: what the use cases need from the outside world, as ``typing.Protocol``s.

Adapters implement them (SQLAlchemy, Redis, local files); tests use in-memory fakes. Nothing
here imports an adapter library.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from customers_hub.application.ports_appointments import AppointmentBook
from customers_hub.application.queries import (
    ActionListQuery,
    ActionStats,
    CustomerListQuery,
    CustomerStats,
    EmployeeWorkload,
    FilterOptions,
    Page,
    SearchQuery,
    SearchResult,
    StatsWindow,
)
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import (
    ActionNote,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Employee,
    Interaction,
    Property,
    Reminder,
)
from customers_hub.domain.settings import OrganizationSettingsRecord


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

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids`` that exist in the organization, by id (one query)."""
        ...

    async def get_for_update(self, organization_id: str, customer_id: str) -> Customer | None:
        """Like :meth:`get`, locking the row until the transaction ends where the database can."""
        ...

    async def add(self, customer: Customer) -> None:
        """Insert a new customer with its history and interests."""
        ...

    async def delete(self, organization_id: str, customer_id: str) -> None:
        """Remove the customer and everything that belongs to it (permanent delete)."""
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
    """Inbox actions and their notes; never commits."""

    async def get(self, organization_id: str, action_id: str) -> CustomerAction | None:
        """The action with its notes, or None."""
        ...

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, CustomerAction]:
        """The actions among ``ids`` of the organization, with notes, by id (set-based)."""
        ...

    async def add_many(self, actions: Sequence[CustomerAction]) -> None:
        """Insert new actions (and their notes) in one statement per table."""
        ...

    async def save(self, action: CustomerAction, *, expected_version: int) -> None:
        """Write a changed action and its new notes; ``ConcurrentUpdate`` if the version moved."""
        ...

    async def save_many(self, changes: Sequence[tuple[CustomerAction, int]]) -> set[str]:
        """Write changed actions set-based; returns the ids whose expected version had moved.

        Each pair is (changed action, expected version). Rows whose version moved are left
        untouched and reported, so a bulk operation can answer per item.
        """
        ...

    async def add_note(self, note: ActionNote) -> None:
        """Append a note (notes can be added to terminal actions too)."""
        ...

    async def snoozed_due(self, now: datetime, limit: int) -> list[CustomerAction]:
        """Snoozed actions of every organization whose ``snoozed_until`` has passed."""
        ...

    async def set_customer_name(self, organization_id: str, customer_id: str, name: str) -> None:
        """Keep the denormalized ``customer_name`` of a customer's actions in step (set-based;
        bumps their versions so a concurrent save of an action cannot restore the old name)."""
        ...

    async def open_for_customer(
        self, organization_id: str, customer_id: str
    ) -> list[CustomerAction]:
        """The customer's actions whose stored status is pending, in_progress or snoozed, with
        their notes, oldest first (one query per table; reassigning a customer moves them)."""
        ...


class RelationRepository(Protocol):
    """Interactions, appointments, reminders and documents of customers; never commits."""

    async def add_interaction(self, organization_id: str, interaction: Interaction) -> None:
        """Insert an interaction."""
        ...

    async def add_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Insert an appointment."""
        ...

    async def get_appointment(
        self, organization_id: str, customer_id: str, appointment_id: str
    ) -> Appointment | None:
        """The customer's appointment, or None."""
        ...

    async def save_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Update an appointment."""
        ...

    async def add_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Insert a reminder."""
        ...

    async def get_reminder(
        self, organization_id: str, customer_id: str, reminder_id: str
    ) -> Reminder | None:
        """The customer's reminder, or None."""
        ...

    async def save_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Update a reminder."""
        ...

    async def add_document(self, organization_id: str, document: Document) -> None:
        """Insert a document's record (the bytes live in :class:`DocumentStorage`)."""
        ...

    async def get_document(
        self, organization_id: str, customer_id: str, document_id: str
    ) -> Document | None:
        """The customer's document record, or None."""
        ...

    async def delete_document(self, organization_id: str, document_id: str) -> None:
        """Remove a document's record."""
        ...

    async def list_for_customer(
        self, organization_id: str, customer_id: str, kinds: frozenset[str], limit: int
    ) -> dict[str, list[Interaction] | list[Appointment] | list[Reminder] | list[Document]]:
        """The newest ``limit`` rows of each kind in ``kinds`` (``interactions``,
        ``appointments``, ``reminders``, ``documents``), one query per kind."""
        ...

    async def recent_with_sentiment(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[Interaction]:
        """The customer's newest ``limit`` interactions that carry a sentiment, newest first
        (by ``date``, then id): the input of :func:`~customers_hub.domain.scoring.sentiment_score`.
        """
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

    async def team_member_ids(self, organization_id: str, manager_id: str) -> set[str]:
        """Ids of the employees whose ``manager_id`` is ``manager_id``."""
        ...


class OrganizationSettingsRepository(Protocol):
    """One organization's settings (rules §9), at most one row each; never commits."""

    async def get(self, organization_id: str) -> OrganizationSettingsRecord | None:
        """The stored settings, or None when the organization never stored any."""
        ...

    async def save(self, record: OrganizationSettingsRecord, *, expected_version: int) -> None:
        """Store ``record`` (its ``version`` is the new one): an insert when
        ``expected_version`` is 0, else an update of that version. ``ConcurrentUpdate`` when
        the stored version is not ``expected_version`` (another request saved first)."""
        ...


class PropertyCatalog(Protocol):
    """The properties on offer; an embedding service can plug in its own catalog."""

    async def candidates(self, customer: Customer, limit: int) -> list[Property]:
        """Available properties of the customer's organization worth scoring for a match.

        The adapter may pre-filter (type, price band, city) but must not drop a property that
        :func:`customers_hub.domain.matching.match_properties` would accept.
        """
        ...

    async def get(self, organization_id: str, property_id: str) -> Property | None:
        """The organization's property with this id, whatever its status; None when absent —
        another organization's property is absent."""
        ...

    async def add(self, prop: Property) -> None:
        """Insert or update a property."""
        ...


class DocumentStorage(Protocol):
    """Where the bytes of documents live, under generated keys (never client file names)."""

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or None."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes under ``key`` (no error when absent)."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories share it; nothing is written unless ``commit`` is called."""

    customers: CustomerRepository
    actions: ActionRepository
    employees: EmployeeRepository
    relations: RelationRepository
    properties: PropertyCatalog
    organization_settings: OrganizationSettingsRepository
    appointments: AppointmentBook  # an employee's booked time (ports_appointments)

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


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use-case call."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new, not yet entered, unit of work. A ``read_only`` one only reads: it never
        waits for writers (no write lock on SQLite) and cannot commit."""
        ...


class CustomerQueries(Protocol):
    """Read side of customers: lists, search, stats and filter options, scoped in SQL."""

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        """One page of customers (with stage history and interests, loaded set-based)."""
        ...

    async def list_with_assignees(
        self, query: CustomerListQuery
    ) -> tuple[Page[Customer], dict[str, Employee]]:
        """:meth:`list` and the page's assignees that exist in the organization, by id, read
        on the page's connection (no second connection or transaction per request)."""
        ...

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        """Customers matching free text, best first."""
        ...

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        """Aggregates over the customers in scope."""
        ...

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        """Filter options with counts over the customers in scope."""
        ...


class ActionQueries(Protocol):
    """Read side of the inbox."""

    async def list(self, query: ActionListQuery) -> Page[CustomerAction]:
        """One page of actions (effective status applied; notes not loaded)."""
        ...

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        """Aggregates over the actions in scope."""
        ...


class EmployeeQueries(Protocol):
    """Read side of employees."""

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        """Employees of the organization, filtered."""
        ...

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        """Workload statistics of the given employees (one query per measure, not per row)."""
        ...

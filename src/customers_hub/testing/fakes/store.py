"""The in-memory store, the fake repositories and units of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self, TypeVar

from attrs import asdict, define, evolve, field

from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.ports import UnitOfWork
from customers_hub.domain.enums import ActionStatus, PropertyStatus
from customers_hub.domain.errors import Duplicate
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
from customers_hub.testing.fakes.appointments import FakeAppointmentBook

DEFAULT_NOW = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
"""The instant a :class:`FixedClock` shows unless told otherwise (a Wednesday, 12:00 Riyadh)."""

RELATION_KINDS = frozenset({"interactions", "appointments", "reminders", "documents"})
"""The kinds :meth:`FakeRelationRepository.list_for_customer` knows."""


class _CustomerRow(Protocol):
    """A row that belongs to a customer (an interaction, appointment, reminder or document)."""

    @property
    def id(self) -> str: ...

    @property
    def customer_id(self) -> str: ...


_Row = TypeVar("_Row", bound=_CustomerRow)

_OPEN_STATUSES = frozenset({ActionStatus.PENDING, ActionStatus.IN_PROGRESS, ActionStatus.SNOOZED})

# Tables whose rows carry a version: a concurrent commit of the same row is a conflict.
_VERSIONED = ("customers", "actions", "organization_settings")
_TABLES = (
    "customers",
    "actions",
    "employees",
    "interactions",
    "appointments",
    "reminders",
    "documents",
    "properties",
    "organization_settings",
)


@define
class InMemoryStore:
    """The committed state: one dict per table.

    Customers, actions and relation rows are keyed by id (ids are global, like the SQL primary
    keys); employees and properties by ``(organization_id, id)`` (their ids are unique within an
    organization only); organization settings by organization id. Action notes live inside
    their action. ``blobs`` holds document bytes (written by :class:`InMemoryDocumentStorage`,
    which is not transactional, like a file store).

    Two stores compare equal when their data is equal; take :meth:`copy` before a call and
    compare afterwards to check that a failed use case left nothing behind.
    """

    customers: dict[str, Customer] = field(factory=dict)
    actions: dict[str, CustomerAction] = field(factory=dict)
    employees: dict[tuple[str, str], Employee] = field(factory=dict)
    interactions: dict[str, Interaction] = field(factory=dict)
    appointments: dict[str, Appointment] = field(factory=dict)
    reminders: dict[str, Reminder] = field(factory=dict)
    documents: dict[str, Document] = field(factory=dict)
    properties: dict[tuple[str, str], Property] = field(factory=dict)
    organization_settings: dict[str, OrganizationSettingsRecord] = field(factory=dict)
    blobs: dict[str, bytes] = field(factory=dict)
    commits: int = field(default=0, eq=False)
    """How many units of work committed (bookkeeping, not data)."""
    pending_conflicts: int = field(default=0, eq=False)

    def copy(self) -> InMemoryStore:
        """A copy whose dicts (every table) can change independently (entities are immutable,
        so shared); the conflicts to simulate stay with this store."""
        copied = InMemoryStore(commits=self.commits)
        for name, table in asdict(self, recurse=False).items():
            if isinstance(table, dict):
                setattr(copied, name, dict(table))
        return copied

    def fail_next_commits(self, count: int = 1) -> None:
        """Make the next ``count`` commits raise ``ConcurrentUpdate`` and write nothing."""
        self.pending_conflicts = count

    # Seeding helpers for tests: write straight into the committed state.

    def put_customer(self, customer: Customer) -> Customer:
        """Seed a customer (no checks)."""
        self.customers[customer.id] = customer
        return customer

    def put_employee(self, employee: Employee) -> Employee:
        """Seed an employee."""
        self.employees[(employee.organization_id, employee.id)] = employee
        return employee

    def put_action(self, action: CustomerAction) -> CustomerAction:
        """Seed an action."""
        self.actions[action.id] = action
        return action

    def put_property(self, prop: Property) -> Property:
        """Seed a catalog property."""
        self.properties[(prop.organization_id, prop.id)] = prop
        return prop

    def actions_of(self, customer_id: str) -> list[CustomerAction]:
        """The customer's actions, oldest first (for assertions)."""
        return sorted(
            (a for a in self.actions.values() if a.customer_id == customer_id),
            key=lambda a: (a.created_at, a.id),
        )


def _table(store: InMemoryStore, name: str) -> dict[Any, Any]:
    table: dict[Any, Any] = getattr(store, name)
    return table


def _customer_org(store: InMemoryStore, customer_id: str) -> str | None:
    customer = store.customers.get(customer_id)
    return customer.organization_id if customer else None


def _check_customer_constraints(store: InMemoryStore, customer: Customer) -> None:
    """The unique constraints of the SQL schema, as the database would enforce them."""
    if customer.deleted_at is None:
        for other in store.customers.values():
            if (
                other.id != customer.id
                and other.organization_id == customer.organization_id
                and other.deleted_at is None
                and other.phone == customer.phone
            ):
                raise Duplicate("A customer with this phone already exists", field="phone")
    seen: set[str] = set()
    for interest in customer.property_interests:
        if interest.property_id in seen:
            raise Duplicate("The customer already has this property", field="propertyId")
        seen.add(interest.property_id)


class FakeCustomerRepository:
    """:class:`~customers_hub.application.ports.CustomerRepository` over a working copy."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    async def get(self, organization_id: str, customer_id: str) -> Customer | None:
        """The customer of the organization (deleted ones included), or None."""
        customer = self._work.customers.get(customer_id)
        if customer is None or customer.organization_id != organization_id:
            return None
        return customer

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids`` in the organization."""
        found = {}
        for customer_id in ids:
            customer = await self.get(organization_id, customer_id)
            if customer is not None:
                found[customer_id] = customer
        return found

    async def get_for_update(self, organization_id: str, customer_id: str) -> Customer | None:
        """Same as :meth:`get` (conflicts are caught at save and commit)."""
        return await self.get(organization_id, customer_id)

    async def add(self, customer: Customer) -> None:
        """Insert a new customer."""
        if customer.id in self._work.customers:
            raise Duplicate("A customer with this id already exists", field="id")
        _check_customer_constraints(self._work, customer)
        self._work.customers[customer.id] = customer

    async def delete(self, organization_id: str, customer_id: str) -> None:
        """Remove the customer and its relations and actions (the SQL cascade)."""
        if await self.get(organization_id, customer_id) is None:
            return
        del self._work.customers[customer_id]
        for name in ("actions", "interactions", "appointments", "reminders", "documents"):
            table = _table(self._work, name)
            for key in [k for k, row in table.items() if row.customer_id == customer_id]:
                del table[key]

    async def save(self, customer: Customer, *, expected_version: int) -> None:
        """Write a changed customer; ``ConcurrentUpdate`` when the version moved."""
        stored = await self.get(customer.organization_id, customer.id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate("customer", customer.id)
        _check_customer_constraints(self._work, customer)
        self._work.customers[customer.id] = customer

    async def phone_in_use(
        self, organization_id: str, phone: str, *, excluding_id: str | None = None
    ) -> bool:
        """True when a live customer of the organization has this phone."""
        return any(
            c.organization_id == organization_id
            and c.deleted_at is None
            and c.phone == phone
            and c.id != excluding_id
            for c in self._work.customers.values()
        )


class FakeActionRepository:
    """:class:`~customers_hub.application.ports.ActionRepository` over a working copy."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    async def get(self, organization_id: str, action_id: str) -> CustomerAction | None:
        """The action with its notes, or None."""
        action = self._work.actions.get(action_id)
        if action is None or action.organization_id != organization_id:
            return None
        return action

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, CustomerAction]:
        """The actions among ``ids`` of the organization."""
        found = {}
        for action_id in ids:
            action = await self.get(organization_id, action_id)
            if action is not None:
                found[action_id] = action
        return found

    async def add_many(self, actions: Sequence[CustomerAction]) -> None:
        """Insert new actions (all or none)."""
        ids = [a.id for a in actions]
        if len(set(ids)) != len(ids) or any(i in self._work.actions for i in ids):
            raise Duplicate("An action with this id already exists", field="id")
        for action in actions:
            if _customer_org(self._work, action.customer_id) != action.organization_id:
                raise ValueError(f"action {action.id}: no such customer in the organization")
        for action in actions:
            self._work.actions[action.id] = action

    async def save(self, action: CustomerAction, *, expected_version: int) -> None:
        """Write a changed action; ``ConcurrentUpdate`` when the version moved."""
        stored = await self.get(action.organization_id, action.id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate("action", action.id)
        self._work.actions[action.id] = action

    async def save_many(self, changes: Sequence[tuple[CustomerAction, int]]) -> set[str]:
        """Write the actions whose version still matches; return the ids that had moved."""
        moved: set[str] = set()
        for action, expected_version in changes:
            stored = await self.get(action.organization_id, action.id)
            if stored is None or stored.version != expected_version:
                moved.add(action.id)
            else:
                self._work.actions[action.id] = action
        return moved

    async def add_note(self, note: ActionNote) -> None:
        """Append a note to its action (the action's own row and version stay as they are)."""
        action = self._work.actions.get(note.action_id)
        if action is None:
            raise ValueError(f"no action {note.action_id}")
        self._work.actions[action.id] = evolve(action, notes=(*action.notes, note))

    async def snoozed_due(self, now: datetime, limit: int) -> list[CustomerAction]:
        """Snoozed actions of every organization whose snooze has passed, earliest first."""
        due = [
            a
            for a in self._work.actions.values()
            if a.status == ActionStatus.SNOOZED
            and a.snoozed_until is not None
            and a.snoozed_until <= now
        ]
        due.sort(key=lambda a: (a.snoozed_until or now, a.id))
        return due[:limit]

    async def open_for_customer(
        self, organization_id: str, customer_id: str
    ) -> list[CustomerAction]:
        """The customer's pending, in-progress and snoozed actions, oldest first."""
        found = [
            a
            for a in self._work.actions.values()
            if a.organization_id == organization_id
            and a.customer_id == customer_id
            and a.status in _OPEN_STATUSES
        ]
        found.sort(key=lambda a: (a.created_at, a.id))
        return found

    async def set_customer_name(self, organization_id: str, customer_id: str, name: str) -> None:
        """Rewrite ``customer_name`` on the customer's actions, bumping their versions like the
        SQL adapter: a concurrent save that read the old name must not write it back."""
        for action in list(self._work.actions.values()):
            if (
                action.organization_id == organization_id
                and action.customer_id == customer_id
                and action.customer_name != name
            ):
                self._work.actions[action.id] = evolve(
                    action, customer_name=name, version=action.version + 1
                )


class FakeRelationRepository:
    """:class:`~customers_hub.application.ports.RelationRepository` over a working copy."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    def _owned(self, organization_id: str, customer_id: str) -> bool:
        return _customer_org(self._work, customer_id) == organization_id

    def _require_customer(self, organization_id: str, customer_id: str) -> None:
        # The SQL foreign key would refuse a row of a missing customer.
        if not self._owned(organization_id, customer_id):
            raise ValueError(f"no customer {customer_id} in organization {organization_id}")

    def _put(
        self, table: dict[str, _Row], organization_id: str, row: _Row, *, update: str = ""
    ) -> None:
        """Insert ``row`` of a customer of the organization into ``table``; with ``update`` (the
        kind's name, for the error) replace an existing row instead."""
        self._require_customer(organization_id, row.customer_id)
        if update and row.id not in table:
            raise ValueError(f"no {update} {row.id}")
        table[row.id] = row

    def _get(
        self, table: dict[str, _Row], organization_id: str, customer_id: str, row_id: str
    ) -> _Row | None:
        """The customer's row ``row_id`` of ``table``, or None (another customer's, or one of a
        customer outside the organization)."""
        found = table.get(row_id)
        if found is None or found.customer_id != customer_id:
            return None
        return found if self._owned(organization_id, customer_id) else None

    async def add_interaction(self, organization_id: str, interaction: Interaction) -> None:
        """Insert an interaction."""
        self._put(self._work.interactions, organization_id, interaction)

    async def add_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Insert an appointment."""
        self._put(self._work.appointments, organization_id, appointment)

    async def get_appointment(
        self, organization_id: str, customer_id: str, appointment_id: str
    ) -> Appointment | None:
        """The customer's appointment, or None."""
        return self._get(self._work.appointments, organization_id, customer_id, appointment_id)

    async def save_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Update an appointment."""
        self._put(self._work.appointments, organization_id, appointment, update="appointment")

    async def add_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Insert a reminder."""
        self._put(self._work.reminders, organization_id, reminder)

    async def get_reminder(
        self, organization_id: str, customer_id: str, reminder_id: str
    ) -> Reminder | None:
        """The customer's reminder, or None."""
        return self._get(self._work.reminders, organization_id, customer_id, reminder_id)

    async def save_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Update a reminder."""
        self._put(self._work.reminders, organization_id, reminder, update="reminder")

    async def add_document(self, organization_id: str, document: Document) -> None:
        """Insert a document record."""
        self._put(self._work.documents, organization_id, document)

    async def get_document(
        self, organization_id: str, customer_id: str, document_id: str
    ) -> Document | None:
        """The customer's document record, or None."""
        return self._get(self._work.documents, organization_id, customer_id, document_id)

    async def delete_document(self, organization_id: str, document_id: str) -> None:
        """Remove a document record of the organization (nothing when absent)."""
        found = self._work.documents.get(document_id)
        if found is not None and self._owned(organization_id, found.customer_id):
            del self._work.documents[document_id]

    async def list_for_customer(
        self, organization_id: str, customer_id: str, kinds: frozenset[str], limit: int
    ) -> dict[str, list[Interaction] | list[Appointment] | list[Reminder] | list[Document]]:
        """The newest ``limit`` rows of each requested kind (newest first)."""
        unknown = kinds - RELATION_KINDS
        if unknown:
            raise ValueError(f"unknown relation kinds: {sorted(unknown)}")
        owned = self._owned(organization_id, customer_id)

        def newest(rows: Iterable[Any], key: Callable[[Any], datetime]) -> list[Any]:
            mine = [r for r in rows if owned and r.customer_id == customer_id]
            mine.sort(key=lambda r: (key(r), r.id), reverse=True)
            return mine[:limit]

        result: dict[
            str, list[Interaction] | list[Appointment] | list[Reminder] | list[Document]
        ] = {}
        if "interactions" in kinds:
            result["interactions"] = newest(self._work.interactions.values(), lambda r: r.date)
        if "appointments" in kinds:
            result["appointments"] = newest(self._work.appointments.values(), lambda r: r.at)
        if "reminders" in kinds:
            result["reminders"] = newest(self._work.reminders.values(), lambda r: r.at)
        if "documents" in kinds:
            result["documents"] = newest(self._work.documents.values(), lambda r: r.uploaded_at)
        return result

    async def recent_with_sentiment(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[Interaction]:
        """The newest ``limit`` interactions carrying a sentiment (by date, then id)."""
        if not self._owned(organization_id, customer_id):
            return []
        rated = [
            i
            for i in self._work.interactions.values()
            if i.customer_id == customer_id and i.sentiment is not None
        ]
        rated.sort(key=lambda i: (i.date, i.id), reverse=True)
        return rated[: max(limit, 0)]


class FakeEmployeeRepository:
    """:class:`~customers_hub.application.ports.EmployeeRepository` over a working copy."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    async def get(self, organization_id: str, employee_id: str) -> Employee | None:
        """The employee of the organization, or None."""
        return self._work.employees.get((organization_id, employee_id))

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Employee]:
        """The employees among ``ids`` of the organization."""
        return {
            i: e for i in ids if (e := self._work.employees.get((organization_id, i))) is not None
        }

    async def save(self, employee: Employee) -> None:
        """Insert or update."""
        self._work.employees[(employee.organization_id, employee.id)] = employee

    async def team_member_ids(self, organization_id: str, manager_id: str) -> set[str]:
        """Ids of the employees whose manager is ``manager_id``."""
        return {
            e.id
            for (org, _), e in self._work.employees.items()
            if org == organization_id and e.manager_id == manager_id
        }


class InMemoryPropertyCatalog:
    """:class:`~customers_hub.application.ports.PropertyCatalog` over a working copy."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    async def candidates(self, customer: Customer, limit: int) -> list[Property]:
        """Available properties of the customer's organization, by id (no pre-filtering)."""
        found = [
            p
            for (org, _), p in self._work.properties.items()
            if org == customer.organization_id and p.status == PropertyStatus.AVAILABLE
        ]
        found.sort(key=lambda p: p.id)
        return found[:limit]

    async def get(self, organization_id: str, property_id: str) -> Property | None:
        """The organization's property (any status), or None; keyed by organization, so
        another organization's property of the same id is never returned."""
        return self._work.properties.get((organization_id, property_id))

    async def add(self, prop: Property) -> None:
        """Insert or update a property."""
        self._work.properties[(prop.organization_id, prop.id)] = prop


class FakeOrganizationSettingsRepository:
    """:class:`~customers_hub.application.ports.OrganizationSettingsRepository` over a working
    copy (versioned like the SQL row: a save of a version that moved is ``ConcurrentUpdate``)."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work

    async def get(self, organization_id: str) -> OrganizationSettingsRecord | None:
        """The stored settings of the organization, or None."""
        return self._work.organization_settings.get(organization_id)

    async def save(self, record: OrganizationSettingsRecord, *, expected_version: int) -> None:
        """Insert (``expected_version`` 0) or update the stored version ``expected_version``."""
        stored = self._work.organization_settings.get(record.organization_id)
        if (stored.version if stored is not None else 0) != expected_version:
            raise ConcurrentUpdate("organization_settings", record.organization_id)
        self._work.organization_settings[record.organization_id] = record


class FakeUnitOfWork(UnitOfWork):
    """A unit of work on a copy of the store; ``commit`` writes the changes back.

    Not re-entrant: enter it once, as the ``transaction`` runner does. A ``read_only`` one
    refuses to commit, as the SQL one does. The port declares the repositories' types.
    """

    def __init__(self, store: InMemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._base: InMemoryStore | None = None
        self._work: InMemoryStore | None = None
        self.read_only = read_only
        self.committed = False

    async def __aenter__(self) -> Self:
        """Take the snapshot the repositories work on."""
        if self._work is not None:
            raise RuntimeError("a FakeUnitOfWork can be entered only once")
        self._base = self._store.copy()
        self._work = self._store.copy()
        self.customers = FakeCustomerRepository(self._work)
        self.actions = FakeActionRepository(self._work)
        self.employees = FakeEmployeeRepository(self._work)
        self.relations = FakeRelationRepository(self._work)
        self.properties = InMemoryPropertyCatalog(self._work)
        self.organization_settings = FakeOrganizationSettingsRepository(self._work)
        self.appointments = FakeAppointmentBook(self._work)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Drop whatever was not committed."""
        self._work = None

    async def commit(self) -> None:
        """Write the records changed since entering back to the store.

        Raises ``ConcurrentUpdate`` (writing nothing) when a versioned record this unit of work
        changed was changed in the store by another commit meanwhile, or when a failure was
        injected with :meth:`InMemoryStore.fail_next_commits`.
        """
        if self._work is None or self._base is None:
            raise RuntimeError("commit outside the unit of work")
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self._store.pending_conflicts > 0:
            self._store.pending_conflicts -= 1
            self._work = None
            raise ConcurrentUpdate("unit_of_work", "injected")
        changes: list[tuple[dict[Any, Any], Any, Any]] = []
        for name in _TABLES:
            base, work, current = (
                _table(self._base, name),
                _table(self._work, name),
                _table(self._store, name),
            )
            for key in base.keys() | work.keys():
                before, after = base.get(key), work.get(key)
                if before is after:
                    continue
                if name in _VERSIONED and current.get(key) is not before:
                    self._work = None
                    raise ConcurrentUpdate(name.removesuffix("s"), str(key))
                changes.append((current, key, after))
        for table, key, value in changes:
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
        self._store.commits += 1
        self.committed = True
        # Later writes in the same unit of work compare against what was just committed.
        self._base = self._work.copy()


class FakeUnitOfWorkFactory:
    """Makes a :class:`FakeUnitOfWork` on the shared store per call; counts them."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.created: list[FakeUnitOfWork] = []

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        """A fresh unit of work."""
        uow = FakeUnitOfWork(self.store, read_only=read_only)
        self.created.append(uow)
        return uow

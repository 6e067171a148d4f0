"""In-memory fakes of every write port, for fast use-case tests.

The fakes keep the transactional semantics of the SQL adapter:

- A :class:`FakeUnitOfWork` works on a *copy* of the :class:`InMemoryStore` taken when it is
  entered; ``commit()`` writes the changed records back, and leaving without a commit throws the
  copy away. A use case that fails therefore leaves nothing behind.
- ``save(..., expected_version=…)`` raises
  :class:`~customers_hub.application.errors.ConcurrentUpdate` when the stored version differs;
  ``commit()`` raises it too when a versioned record (customer, action) that this unit of work
  changed was committed by someone else in between.
- A live customer's phone is unique per organization (``Duplicate(field="phone")``), a
  (customer, property) interest exists once (``Duplicate(field="propertyId")``).
- Every lookup is scoped by organization: another organization's record reads as absent.

To exercise the retry path, :meth:`InMemoryStore.fail_next_commits` makes the next commits raise
``ConcurrentUpdate`` (discarding their work). :func:`build_fake_dependencies` wires everything
into a :class:`~customers_hub.application.context.Dependencies`; the read-side query ports are
:class:`UnavailableQueries` placeholders (read-side use cases are tested against SQLite).
:func:`seed_staff` puts a small sales team (admin, manager with an agent, an agent outside the
team, a viewer, an inactive agent) into a store, for access tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, NoReturn, Self

from attrs import define, evolve, field, frozen

from customers_hub.application.context import Dependencies, HubSettings
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.ports import (
    ActionRepository,
    CustomerRepository,
    EmployeeRepository,
    OrganizationSettingsRepository,
    PropertyCatalog,
    RelationRepository,
)
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
from customers_hub.domain.enums import ActionStatus, PropertyStatus, Role
from customers_hub.domain.errors import Duplicate
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

DEFAULT_NOW = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
"""The instant a :class:`FixedClock` shows unless told otherwise (a Wednesday, 12:00 Riyadh)."""

RELATION_KINDS = frozenset({"interactions", "appointments", "reminders", "documents"})
"""The kinds :meth:`FakeRelationRepository.list_for_customer` knows."""

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
        """A copy whose dicts can change independently (entities are immutable, so shared)."""
        return InMemoryStore(
            customers=dict(self.customers),
            actions=dict(self.actions),
            employees=dict(self.employees),
            interactions=dict(self.interactions),
            appointments=dict(self.appointments),
            reminders=dict(self.reminders),
            documents=dict(self.documents),
            properties=dict(self.properties),
            organization_settings=dict(self.organization_settings),
            blobs=dict(self.blobs),
            commits=self.commits,
        )

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

    async def add_interaction(self, organization_id: str, interaction: Interaction) -> None:
        """Insert an interaction."""
        self._require_customer(organization_id, interaction.customer_id)
        self._work.interactions[interaction.id] = interaction

    async def add_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Insert an appointment."""
        self._require_customer(organization_id, appointment.customer_id)
        self._work.appointments[appointment.id] = appointment

    async def get_appointment(
        self, organization_id: str, customer_id: str, appointment_id: str
    ) -> Appointment | None:
        """The customer's appointment, or None."""
        found = self._work.appointments.get(appointment_id)
        if found is None or found.customer_id != customer_id:
            return None
        return found if self._owned(organization_id, customer_id) else None

    async def save_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Update an appointment."""
        self._require_customer(organization_id, appointment.customer_id)
        if appointment.id not in self._work.appointments:
            raise ValueError(f"no appointment {appointment.id}")
        self._work.appointments[appointment.id] = appointment

    async def add_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Insert a reminder."""
        self._require_customer(organization_id, reminder.customer_id)
        self._work.reminders[reminder.id] = reminder

    async def get_reminder(
        self, organization_id: str, customer_id: str, reminder_id: str
    ) -> Reminder | None:
        """The customer's reminder, or None."""
        found = self._work.reminders.get(reminder_id)
        if found is None or found.customer_id != customer_id:
            return None
        return found if self._owned(organization_id, customer_id) else None

    async def save_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Update a reminder."""
        self._require_customer(organization_id, reminder.customer_id)
        if reminder.id not in self._work.reminders:
            raise ValueError(f"no reminder {reminder.id}")
        self._work.reminders[reminder.id] = reminder

    async def add_document(self, organization_id: str, document: Document) -> None:
        """Insert a document record."""
        self._require_customer(organization_id, document.customer_id)
        self._work.documents[document.id] = document

    async def get_document(
        self, organization_id: str, customer_id: str, document_id: str
    ) -> Document | None:
        """The customer's document record, or None."""
        found = self._work.documents.get(document_id)
        if found is None or found.customer_id != customer_id:
            return None
        return found if self._owned(organization_id, customer_id) else None

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


class FakeUnitOfWork:
    """A unit of work on a copy of the store; ``commit`` writes the changes back.

    Not re-entrant: enter it once, as the ``transaction`` runner does. A ``read_only`` one
    refuses to commit, as the SQL one does.
    """

    # Typed as the ports: the protocol's attributes are mutable, hence invariant.
    customers: CustomerRepository
    actions: ActionRepository
    employees: EmployeeRepository
    relations: RelationRepository
    properties: PropertyCatalog
    organization_settings: OrganizationSettingsRepository

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
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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


class FixedClock:
    """A clock that shows a set instant until it is moved."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self._now = _aware_utc(now)

    def now(self) -> datetime:
        """The current (fixed) instant, aware UTC."""
        return self._now

    def set(self, now: datetime) -> None:
        """Move the clock to ``now`` (must be timezone-aware)."""
        self._now = _aware_utc(now)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new instant."""
        self._now = self._now + delta
        return self._now


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("FixedClock needs a timezone-aware datetime")
    return value.astimezone(UTC)


class SequentialIds:
    """Predictable ids: ``cust_000001``, ``cust_000002``, ``action_000001``, … (one counter per
    prefix)."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n:06d}"


class RecordingPublisher:
    """Keeps published events in order; ``batches`` keeps each ``publish`` call apart.

    ``on_publish`` (optional) is called with each batch before it is recorded — a test can use it
    to look at the store at the moment of publishing (events must come after the commit).
    """

    def __init__(self, on_publish: Callable[[list[DomainEvent]], None] | None = None) -> None:
        self.events: list[DomainEvent] = []
        self.batches: list[list[DomainEvent]] = []
        self.on_publish = on_publish

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Record ``events``."""
        batch = list(events)
        if self.on_publish is not None:
            self.on_publish(batch)
        self.batches.append(batch)
        self.events.extend(batch)

    def names(self) -> list[str]:
        """The wire names of the published events, in order."""
        return [e.name for e in self.events]

    def clear(self) -> None:
        """Forget what was published so far."""
        self.events.clear()
        self.batches.clear()


class InMemoryDocumentStorage:
    """:class:`~customers_hub.application.ports.DocumentStorage` in a dict (not transactional).

    ``fail_puts`` makes the next ``put`` calls raise ``OSError`` (a full disk, say).
    """

    def __init__(self, blobs: dict[str, bytes] | None = None) -> None:
        self.blobs: dict[str, bytes] = {} if blobs is None else blobs
        self.fail_puts = 0

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        if self.fail_puts > 0:
            self.fail_puts -= 1
            raise OSError("injected storage failure")
        self.blobs[key] = bytes(data)

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        return self.blobs.get(key)

    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error when absent)."""
        self.blobs.pop(key, None)


class UnavailableQueries:
    """Base of the read-side placeholders: every method raises ``NotImplementedError``.

    Read-side use cases are tested against SQLite, not against fakes.
    """

    def _unavailable(self, what: str) -> NoReturn:
        raise NotImplementedError(
            f"{type(self).__name__}.{what}: read-side queries are not faked; test against SQLite"
        )


class UnavailableCustomerQueries(UnavailableQueries):
    """A :class:`~customers_hub.application.ports.CustomerQueries` that is not available."""

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        """Not available."""
        self._unavailable("list")

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        """Not available."""
        self._unavailable("search")

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        """Not available."""
        self._unavailable("stats")

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        """Not available."""
        self._unavailable("filter_options")


class UnavailableActionQueries(UnavailableQueries):
    """An :class:`~customers_hub.application.ports.ActionQueries` that is not available."""

    async def list(self, query: ActionListQuery) -> Page[CustomerAction]:
        """Not available."""
        self._unavailable("list")

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        """Not available."""
        self._unavailable("stats")


class UnavailableEmployeeQueries(UnavailableQueries):
    """An :class:`~customers_hub.application.ports.EmployeeQueries` that is not available."""

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        """Not available."""
        self._unavailable("list")

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        """Not available."""
        self._unavailable("workloads")


@frozen
class Staff:
    """One organization's seeded employees: an admin, a sales manager with one agent in the
    team, an agent outside the team (no manager), a viewer, and an inactive agent."""

    admin: Employee
    manager: Employee
    agent: Employee
    outsider: Employee
    viewer: Employee
    inactive: Employee

    @property
    def organization_id(self) -> str:
        """The organization of everyone here."""
        return self.admin.organization_id


def seed_staff(store: InMemoryStore, organization_id: str, *, prefix: str = "emp") -> Staff:
    """Put a :class:`Staff` of ``organization_id`` into the committed store.

    Ids are ``{prefix}_admin``, ``{prefix}_manager``, ``{prefix}_agent``, ``{prefix}_outsider``,
    ``{prefix}_viewer`` and ``{prefix}_inactive``.
    """

    def person(key: str, role: Role, name: str, **kw: Any) -> Employee:
        return store.put_employee(
            Employee(
                id=f"{prefix}_{key}",
                organization_id=organization_id,
                name=name,
                role=role,
                **kw,
            )
        )

    manager = person("manager", Role.SALES_MANAGER, "سارة المدير")
    return Staff(
        admin=person("admin", Role.ADMIN, "نورة المشرفة"),
        manager=manager,
        agent=person("agent", Role.SALES_AGENT, "أحمد السعيد", manager_id=manager.id),
        outsider=person("outsider", Role.SALES_AGENT, "خالد الحربي"),
        viewer=person("viewer", Role.VIEWER, "ريم المساعدة", manager_id=manager.id),
        inactive=person(
            "inactive", Role.SALES_AGENT, "فهد السابق", manager_id=manager.id, is_active=False
        ),
    )


def build_fake_dependencies(
    *,
    store: InMemoryStore | None = None,
    now: datetime = DEFAULT_NOW,
    settings: HubSettings | None = None,
    publisher: RecordingPublisher | None = None,
) -> tuple[Dependencies, InMemoryStore, RecordingPublisher, FixedClock]:
    """Dependencies on in-memory fakes: ``(deps, store, publisher, clock)``.

    ``deps.uow`` is a :class:`FakeUnitOfWorkFactory`, ``deps.ids`` a :class:`SequentialIds`,
    ``deps.storage`` an :class:`InMemoryDocumentStorage` writing into ``store.blobs``; the query
    ports are :class:`UnavailableQueries`.
    """
    store = InMemoryStore() if store is None else store
    publisher = RecordingPublisher() if publisher is None else publisher
    clock = FixedClock(now)
    deps = Dependencies(
        uow=FakeUnitOfWorkFactory(store),
        clock=clock,
        ids=SequentialIds(),
        publisher=publisher,
        customer_queries=UnavailableCustomerQueries(),
        action_queries=UnavailableActionQueries(),
        employee_queries=UnavailableEmployeeQueries(),
        storage=InMemoryDocumentStorage(store.blobs),
        settings=HubSettings() if settings is None else settings,
    )
    return deps, store, publisher, clock


__all__ = [
    "DEFAULT_NOW",
    "RELATION_KINDS",
    "FakeActionRepository",
    "FakeCustomerRepository",
    "FakeEmployeeRepository",
    "FakeOrganizationSettingsRepository",
    "FakeRelationRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FixedClock",
    "InMemoryDocumentStorage",
    "InMemoryPropertyCatalog",
    "InMemoryStore",
    "RecordingPublisher",
    "SequentialIds",
    "Staff",
    "UnavailableActionQueries",
    "UnavailableCustomerQueries",
    "UnavailableEmployeeQueries",
    "UnavailableQueries",
    "build_fake_dependencies",
    "seed_staff",
]

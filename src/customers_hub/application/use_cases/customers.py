"""Customer use cases (write side, and reading one customer): create, get, update; the building
blocks the other customer use cases share. Changing the stage is :mod:`.customer_stage`,
deleting and restoring :mod:`.customer_deletion`, assigning :mod:`.customer_assignment`.

Each write is a plain async function ``(deps, actor, command) -> result``, the customer's id in
the command; it answers what the response needs (:class:`CustomerWithAssignee`: the customer
and its assigned employee, read in the write's own unit of work). Writes run in one unit of work
through :func:`~customers_hub.application.context.transaction`: access, rules, save, system
actions — all or nothing — and the events are published only after the commit.

Order of checks, the same everywhere: the role and the token (403, before anything is loaded, so
it says nothing about whether an id exists); the record (404 when absent, soft-deleted or of
another organization); the record's scope (403); ``If-Match`` (412); the input (400, every
failing field at once); the business rules (409/422).

Decisions where the contracts are silent (documented for ``docs/``):

* **Property matching.** On create, and on every update that changes the preferences, the
  customer is matched against the catalog (:func:`~customers_hub.domain.matching.match_properties`
  over :meth:`PropertyCatalog.candidates`, at most :data:`CANDIDATE_LIMIT` candidates, best
  ``settings.property_match_limit`` kept); the ids go to ``aiInsights.propertyMatches``. A system
  ``property_match`` action is created when the matching finds at least one property that was not
  matched before (on create: any match): title ``عقارات مطابقة لتفضيلات {name}``, due
  :data:`PROPERTY_MATCH_DUE_AFTER` (48 h) later, assigned like every system action, metadata
  ``trigger="property.matched"``, ``propertyIds`` and ``matchScores``.
* **Lead score events.** Whenever a write moves the lead score, ``customer.score_changed`` is
  published after the write's own event.
* **Soft delete** leaves the customer's actions as they are; a deleted customer reads as absent
  (404) for every operation except restore and permanent delete, and for ``get_customer`` by an
  admin asking ``include_deleted``.
* **Restore** is refused (409 on ``phone``) when another live customer took the phone meanwhile.
* **Permanent delete** removes the rows (history, interests, relations, actions) in the
  transaction; the documents' bytes are removed from storage after the commit (bytes that fail
  to go are unreachable: keys are never reused).
* **Assign** moves the customer's open (pending, in progress, snoozed) *system* actions that were
  assigned to the previous assignee (or to nobody, when the customer had none) to the new one,
  each with ``action.updated``; actions a person created keep their assignee. The optional
  ``notes`` are appended as a note to each moved action (the schema has no place for them on the
  customer); with no action to move they are not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final, cast

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import PreconditionFailed
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.read_plans import (
    CustomerViewPlan,
    customer_record_decision,
    hide_restricted,
    reader_for,
)
from customers_hub.application.use_cases.assignment import plan_assignments, record_assignments
from customers_hub.application.use_cases.privacy import require_admin
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain import validation
from customers_hub.domain.access import (
    UNKNOWN_ASSIGNEE_REASON,
    Operation,
    RecordScope,
    creation_assignee_id,
    decide_create_customer,
    enforce,
    enforce_decision,
)
from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import ActionType, Role
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    Duplicate,
    FieldError,
    NotFound,
    ValidationFailed,
)
from customers_hub.domain.events import (
    ActionCreated,
    DomainEvent,
    LeadScoreChanged,
)
from customers_hub.domain.matching import PropertyMatch, match_properties
from customers_hub.domain.model import (
    Actor,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Employee,
    Interaction,
    PropertyInterest,
    Reminder,
    StageChange,
)
from customers_hub.domain.scoring import refresh_score
from customers_hub.domain.system_actions import new_system_action, system_actions_for
from customers_hub.domain.validation import (
    CustomerDraft,
    CustomerPatch,
    validate_customer_draft,
    validate_customer_patch,
)

__all__ = [
    "CANDIDATE_LIMIT",
    "CUSTOMER_INCLUDES",
    "DETAIL_RELATION_LIMIT",
    "NOTES_MAX_LENGTH",
    "PROPERTY_MATCH_DUE_AFTER",
    "STAGE_REASON_MAX_LENGTH",
    "CreateCustomer",
    "CustomerDetails",
    "CustomerWithAssignee",
    "UpdateCustomer",
    "check_version",
    "create_customer",
    "create_system_actions",
    "distinct_employee_ids",
    "get_customer",
    "load_customer",
    "plan_get_customer",
    "run_get_customer",
    "score_changed",
    "update_customer",
]

CANDIDATE_LIMIT = 500
"""At most this many catalog candidates are scored for one customer."""

PROPERTY_MATCH_DUE_AFTER = timedelta(hours=48)
"""A system ``property_match`` action is due this long after the matching."""

DETAIL_RELATION_LIMIT = 100
"""``get_customer`` includes at most this many of each relation, newest first."""

RELATION_INCLUDES = frozenset({"interactions", "appointments", "reminders", "documents"})
# ``consents`` (admins; rules §8) is read by the privacy use cases, not here.
CUSTOMER_INCLUDES = frozenset(
    {*RELATION_INCLUDES, "properties", "stageHistory", "ksaCompliance", "consents"}
)
"""What ``include=`` of get customer accepts."""

NOTES_MAX_LENGTH = validation.NOTES_MAX_LENGTH
"""Longest free-text note a command accepts (assignment notes, stage-change notes, …)."""

STAGE_REASON_MAX_LENGTH = validation.SHORT_TEXT_MAX_LENGTH
"""Longest stage-change reason (the ``stage_history.reason`` column is ``String(500)``)."""


# ---------------------------------------------------------------------------------------------
# Building blocks shared by the customer-side use cases


@frozen
class CustomerWithAssignee:
    """A customer with its assigned employee when that one is known: what a write loads (the
    actor may touch it) and what it answers (the written customer, read in the write's own unit
    of work, so that a response embedding ``assignedEmployee`` needs no second transaction)."""

    customer: Customer
    assignee: Employee | None

    @property
    def assignee_name(self) -> str | None:
        """The assignee's display name (system actions carry it)."""
        return self.assignee.name if self.assignee is not None else None

    async def follow_on_events(
        self,
        uow: UnitOfWork,
        deps: Dependencies,
        updated: Customer,
        events: Sequence[DomainEvent],
        now: datetime,
    ) -> list[DomainEvent]:
        """``events`` of a saved change of this customer to ``updated``, then what follows from
        them: the system actions they call for (inserted here) and the lead score's change."""
        created = await create_system_actions(
            uow, deps, updated, events, assignee_name=self.assignee_name, now=now
        )
        return [*events, *created, *score_changed(self.customer, updated, now)]


_REFUSED_AFTER_ERASURE: Final = frozenset({Operation.UPDATE_CUSTOMER, Operation.ASSIGN_CUSTOMER})
"""What an erased customer refuses: fields, stage, relations and assignment (deleting stays)."""


async def load_customer(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: str,
    operation: Operation,
    *,
    for_update: bool = True,
    include_deleted: bool = False,
) -> CustomerWithAssignee:
    """Load a customer for ``operation``, or raise what the caller must answer.

    Role and token first (403 whatever the id), then 404 for an absent, other-organization or
    (unless ``include_deleted``) soft-deleted customer, then 403 for one out of scope.
    """
    enforce(actor, operation, resource_type="customer", resource_id=customer_id)
    repo = uow.customers
    customer = await (
        repo.get_for_update(actor.organization_id, customer_id)
        if for_update
        else repo.get(actor.organization_id, customer_id)
    )
    if customer is None or (customer.is_deleted and not include_deleted):
        raise NotFound("customer", customer_id)
    # Before the erasure rule: to anyone but an admin a restricted customer does not exist.
    hide_restricted(actor, customer_id, restricted=customer.is_restricted)
    if customer.erased_at is not None and operation in _REFUSED_AFTER_ERASURE:
        # An edit could bring personal data back: an erased record is read-only (rules §8).
        raise BusinessRuleViolation(
            "the customer's personal data was erased: the record is read-only",
            {"rule": "customer_erased", "erasedAt": customer.erased_at.isoformat()},
        )
    assignee = None
    if customer.assigned_employee_id is not None:
        assignee = await uow.employees.get(actor.organization_id, customer.assigned_employee_id)
    customer_record_decision(
        actor,
        operation,
        customer_id,
        RecordScope.for_customer(customer, assignee),
        restricted=customer.is_restricted,
    )
    return CustomerWithAssignee(customer, assignee)


def check_version(customer: Customer, expected_version: int | None) -> None:
    """Raise :class:`PreconditionFailed` when ``If-Match`` named another version."""
    if expected_version is not None and expected_version != customer.version:
        raise PreconditionFailed(
            "customer",
            customer.id,
            expected_version=expected_version,
            current_version=customer.version,
        )


def score_changed(before: Customer, after: Customer, now: datetime) -> list[DomainEvent]:
    """``customer.score_changed`` when the write moved the lead score."""
    if before.lead_score == after.lead_score:
        return []
    return [
        LeadScoreChanged(
            organization_id=after.organization_id,
            occurred_at=now,
            employee_ids=distinct_employee_ids(
                before.assigned_employee_id, after.assigned_employee_id
            ),
            customer_id=after.id,
            previous_score=before.lead_score,
            new_score=after.lead_score,
        )
    ]


async def create_system_actions(
    uow: UnitOfWork,
    deps: Dependencies,
    customer: Customer,
    events: Sequence[DomainEvent],
    *,
    assignee_name: str | None,
    now: datetime,
) -> list[DomainEvent]:
    """Insert the system actions ``events`` call for (rules §2); their ``action.created`` events."""
    created: list[tuple[CustomerAction, ActionCreated]] = []
    for event in events:
        created.extend(
            system_actions_for(
                event,
                customer,
                assignee_name=assignee_name,
                new_id=lambda: deps.ids.new_id("action"),
                now=now,
            )
        )
    if created:
        await uow.actions.add_many([action for action, _ in created])
    return [event for _, event in created]


def distinct_employee_ids(*ids: str | None) -> tuple[str, ...]:
    """The given employee ids, blanks dropped, each once, in order (an event's recipients)."""
    return tuple(dict.fromkeys(i for i in ids if i))


async def _match_catalog(
    uow: UnitOfWork, deps: Dependencies, customer: Customer
) -> tuple[PropertyMatch, ...]:
    candidates = await uow.properties.candidates(customer, CANDIDATE_LIMIT)
    return match_properties(customer, candidates, limit=deps.settings.property_match_limit)


def _previous_matches(customer: Customer) -> tuple[str, ...]:
    return customer.ai_insights.property_matches if customer.ai_insights else ()


def _with_matches(customer: Customer, matches: Sequence[PropertyMatch], now: datetime) -> Customer:
    """The customer with ``aiInsights.propertyMatches`` set and its insights refreshed."""
    scored = refresh_score(customer, now)
    insights = scored.ai_insights
    if insights is None:  # pragma: no cover - refresh_score always builds insights
        raise AssertionError("refresh_score built no insights")
    ids = tuple(m.property_id for m in matches)
    # Refresh again: the next best action depends on the matches.
    return refresh_score(evolve(scored, ai_insights=evolve(insights, property_matches=ids)), now)


def _property_match_action(
    customer: Customer,
    matches: Sequence[PropertyMatch],
    *,
    action_id: str,
    assignee_name: str | None,
    now: datetime,
) -> tuple[CustomerAction, ActionCreated]:
    """The system ``property_match`` action for newly matched properties (see module docs)."""
    return new_system_action(
        customer,
        action_id=action_id,
        action_type=ActionType.PROPERTY_MATCH,
        title=f"عقارات مطابقة لتفضيلات {customer.name}",
        description=f"عدد العقارات المطابقة: {len(matches)}؛ أرسل التوصيات للعميل.",
        due_date=now + PROPERTY_MATCH_DUE_AFTER,
        trigger="property.matched",
        details={
            "propertyIds": [m.property_id for m in matches],
            "matchScores": {m.property_id: m.score for m in matches},
        },
        assignee_name=assignee_name,
        now=now,
    )


async def _add_property_match_action(
    uow: UnitOfWork,
    deps: Dependencies,
    customer: Customer,
    new_matches: Sequence[PropertyMatch],
    *,
    assignee_name: str | None,
    now: datetime,
) -> list[DomainEvent]:
    if not new_matches:
        return []
    action, event = _property_match_action(
        customer,
        new_matches,
        action_id=deps.ids.new_id("action"),
        assignee_name=assignee_name,
        now=now,
    )
    await uow.actions.add_many([action])
    return [event]


# ---------------------------------------------------------------------------------------------
# Create


@frozen
class CreateCustomer:
    """Create a customer from a draft (types parsed by the edge; business checks here)."""

    draft: CustomerDraft


async def create_customer(
    deps: Dependencies, actor: Actor, command: CreateCustomer
) -> CustomerWithAssignee:
    """Create a customer at ``new_lead``, matched against the catalog, with its system actions.

    The assignee is :func:`~customers_hub.domain.access.creation_assignee_id`: the requested one,
    else the creating agent or manager, else nobody (admin). It must be an active employee of the
    organization in the actor's reach (422 on ``assignedEmployeeId``; 403 out of reach).
    """
    enforce_decision(decide_create_customer(actor, None), resource_type="customer", resource_id="")
    draft = validate_customer_draft(command.draft, await deps.today_of(actor.organization_id))
    assignee_id = creation_assignee_id(actor, draft.assigned_employee_id)
    draft = evolve(draft, assigned_employee_id=assignee_id)

    async def work(uow: UnitOfWork) -> tuple[CustomerWithAssignee, list[DomainEvent]]:
        now = deps.clock.now()
        assignee = None
        if assignee_id is not None:
            assignee = await uow.employees.get(actor.organization_id, assignee_id)
            if assignee is None:
                raise AssignmentRejected(UNKNOWN_ASSIGNEE_REASON, {"field": "assignedEmployeeId"})
        enforce_decision(
            decide_create_customer(actor, assignee),
            resource_type="customer",
            resource_id="",
            assignee_field="assignedEmployeeId",
        )
        if await uow.customers.phone_in_use(actor.organization_id, draft.phone):
            raise Duplicate("A customer with this phone number already exists", field="phone")
        customer, events = aggregate.new_customer(
            draft,
            customer_id=deps.ids.new_id("cust"),
            organization_id=actor.organization_id,
            actor=actor,
            history_entry_id=deps.ids.new_id("stage"),
            now=now,
        )
        # Nobody named and nobody implied (an admin's create): the assignment rules decide.
        routing = await plan_assignments(
            deps, uow, actor.organization_id, [customer] if assignee is None else []
        )
        customer, assignee = routing.routed(customer, assignee)
        matches = await _match_catalog(uow, deps, customer)
        if matches:
            customer = _with_matches(customer, matches, now)
        await uow.customers.add(customer)
        events += await record_assignments(deps, uow, routing, now=now)
        name = assignee.name if assignee is not None else None
        events += await create_system_actions(
            uow, deps, customer, events, assignee_name=name, now=now
        )
        events += await _add_property_match_action(
            uow, deps, customer, matches, assignee_name=name, now=now
        )
        return CustomerWithAssignee(customer, assignee), events

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Get


@frozen
class CustomerDetails:
    """A customer and the relations asked for with ``include`` (``included`` says which).

    Relations not asked for are empty; the HTTP layer shows only the ``included`` keys.
    """

    customer: Customer
    included: frozenset[str] = frozenset()
    assignee: Employee | None = None
    properties: tuple[PropertyInterest, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    documents: tuple[Document, ...] = ()
    stage_history: tuple[StageChange, ...] = ()
    ksa_compliance: KsaCompliance | None = None


def plan_get_customer(
    actor: Actor,
    customer_id: str,
    *,
    include: frozenset[str] = frozenset(),
    include_deleted: bool = False,
) -> CustomerViewPlan:
    """``GET /customers/{id}`` planned: 403 (the role and the token; ``consents`` need an
    admin), then 400 on an ``include`` outside :data:`CUSTOMER_INCLUDES`."""
    reader = reader_for(actor, Operation.READ_CUSTOMERS)
    if "consents" in include:
        require_admin(actor)  # consents are privacy data (rules §8)
    unknown = include - CUSTOMER_INCLUDES
    if unknown:
        raise ValidationFailed.single(
            "include",
            f"Unknown include {', '.join(sorted(unknown))}; "
            f"expected any of {', '.join(sorted(CUSTOMER_INCLUDES))}",
        )
    return CustomerViewPlan(
        reader, customer_id, include, include_deleted and actor.role is Role.ADMIN
    )


async def run_get_customer(deps: Dependencies, plan: CustomerViewPlan) -> CustomerDetails:
    """The customer of a planned read, with its relations (at most
    :data:`DETAIL_RELATION_LIMIT` each); 404 when it is not there or hidden, 403 when outside
    the caller's scope."""
    actor, customer_id, include = plan.reader.actor, plan.customer_id, plan.include
    async with deps.uow(read_only=True) as uow:
        loaded = await load_customer(
            uow,
            actor,
            customer_id,
            Operation.READ_CUSTOMERS,
            for_update=False,
            include_deleted=plan.include_deleted,
        )
        kinds = include & RELATION_INCLUDES
        relations = (
            await uow.relations.list_for_customer(
                actor.organization_id, customer_id, kinds, DETAIL_RELATION_LIMIT
            )
            if kinds
            else {}
        )
    customer = loaded.customer
    return CustomerDetails(
        customer=customer,
        included=include,
        assignee=loaded.assignee,
        properties=customer.property_interests if "properties" in include else (),
        interactions=tuple(cast(list[Interaction], relations.get("interactions", []))),
        appointments=tuple(cast(list[Appointment], relations.get("appointments", []))),
        reminders=tuple(cast(list[Reminder], relations.get("reminders", []))),
        documents=tuple(cast(list[Document], relations.get("documents", []))),
        stage_history=customer.stage_history if "stageHistory" in include else (),
        ksa_compliance=customer.ksa_compliance if "ksaCompliance" in include else None,
    )


async def get_customer(
    deps: Dependencies,
    actor: Actor,
    customer_id: str,
    *,
    include: frozenset[str] = frozenset(),
    include_deleted: bool = False,
) -> CustomerDetails:
    """One customer with the requested relations (at most :data:`DETAIL_RELATION_LIMIT` each).

    ``include`` takes :data:`CUSTOMER_INCLUDES` (400 on ``include`` otherwise, after the role's
    403, as every read plan). A soft-deleted customer is found only by an admin asking
    ``include_deleted``.
    """
    plan = plan_get_customer(actor, customer_id, include=include, include_deleted=include_deleted)
    return await run_get_customer(deps, plan)


# ---------------------------------------------------------------------------------------------
# Update


@frozen
class UpdateCustomer:
    """Change the sent fields of customer ``customer_id``; ``expected_version`` is the
    ``If-Match`` version, if any."""

    customer_id: str
    patch: CustomerPatch
    expected_version: int | None = None


_ASSIGN_ELSEWHERE = FieldError(
    "assignedEmployeeId", "Use the assign operation to change the assigned employee"
)


def _validate_patch(patch: CustomerPatch, current: Customer, today: date) -> CustomerPatch:
    # Every failing field at once, the refused reassignment included.
    extra = [_ASSIGN_ELSEWHERE] if "assigned_employee_id" in patch.given() else []
    try:
        validated = validate_customer_patch(patch, current, today)
    except ValidationFailed as failure:
        raise ValidationFailed([*failure.errors, *extra]) from None
    if extra:
        raise ValidationFailed(extra)
    return validated


async def update_customer(
    deps: Dependencies, actor: Actor, command: UpdateCustomer
) -> CustomerWithAssignee:
    """Update a customer: validated patch, unique phone, rematching when preferences change.

    A patch that changes nothing writes nothing and publishes nothing. The assignee does not
    change here (that is the assign operation).
    """
    today = await deps.today_of(actor.organization_id)

    async def work(uow: UnitOfWork) -> tuple[CustomerWithAssignee, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
        customer = loaded.customer
        check_version(customer, command.expected_version)
        patch = _validate_patch(command.patch, customer, today)
        if (
            isinstance(patch.phone, str)
            and patch.phone != customer.phone
            and await uow.customers.phone_in_use(
                actor.organization_id, patch.phone, excluding_id=customer.id
            )
        ):
            raise Duplicate("A customer with this phone number already exists", field="phone")
        updated, events = aggregate.update_customer(customer, patch, now=now)
        if updated is customer:
            return loaded, []
        new_matches: tuple[PropertyMatch, ...] = ()
        if updated.preferences != customer.preferences:
            matches = await _match_catalog(uow, deps, updated)
            before = set(_previous_matches(customer))
            new_matches = tuple(m for m in matches if m.property_id not in before)
            updated = _with_matches(updated, matches, now)
        await uow.customers.save(updated, expected_version=customer.version)
        if updated.name != customer.name:
            await uow.actions.set_customer_name(actor.organization_id, customer.id, updated.name)
        events += score_changed(customer, updated, now)
        events += await _add_property_match_action(
            uow, deps, updated, new_matches, assignee_name=loaded.assignee_name, now=now
        )
        return CustomerWithAssignee(updated, loaded.assignee), events

    return await transaction_as(deps, actor, work)

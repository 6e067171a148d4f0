"""Merge duplicate customers and undo a merge (issue 12, Deliver 3, rules §10).

The rules are :mod:`customers_hub.domain.merging`; the moves are the
:class:`~customers_hub.application.ports_merging.MergeStore`'s set-based statements. Both use
cases run in one transaction (:func:`transaction_as`: audited, events after the commit); each
takes ``(deps, actor, command)``, the command naming the survivor (:class:`MergeCommand`).

Order of checks, as every customer write: the role and token (403 before anything is loaded);
the request's shape (400 naming ``sourceIds`` or ``fields.<name>``; a repeated id or the
survivor among the sources 422 naming ``sourceIds``); the survivor and each source (404 when
absent or another organization's — existence never leaks); their scope (403: an agent merges
customers assigned to them, a manager within the team, an admin any); a source that is not live
(deleted, or merged already) 422 naming ``sourceIds``; the ``fields`` choices (422 naming
``fields.<name>``).

Decisions where the rules are silent (``docs/merging.md``):

* **Who.** Merging changes the survivor and removes the sources from view, so it takes the
  right to *update* each of them (``customers.write``, rules §4): agents their own customers,
  managers the team's, admins all; viewers never. Unmerge takes the same on the survivor and on
  each source.
* **What moves.** Interactions, appointments, reminders, documents, actions (with their notes)
  and stage history entries; property interests unless the survivor already has one in the same
  property. Moved actions keep their assignee and carry the survivor's name. Consents and
  privacy requests stay with the source (they are the source person's own records).
* **Counters** (interactions, positive inbound, last contact, next follow-up, appointments)
  are recomputed from the survivor's rows after the move; property views add the moved
  interests' views; then the lead score, the sentiment and (when preferences were filled) the
  catalog matches are recomputed.
* **Events**: ``customer.merged`` (survivor, sources, merge id), ``customer.deleted`` for each
  source, ``customer.updated`` for the survivor's filled fields and counters,
  ``customer.score_changed`` when the score moved; an unmerge: ``customer.unmerged``,
  ``customer.restored`` for each source, ``customer.updated`` and the score.
* **Unmerge** takes the survivor's newest merge not undone unless ``mergeId`` names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

import attrs
from attrs import evolve, field, frozen

from customers_hub.application.context import Dependencies, present
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_merging import MergeStore
from customers_hub.application.use_cases.customers import CANDIDATE_LIMIT, score_changed
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import merging as rules
from customers_hub.domain.access import Operation, RecordScope, enforce
from customers_hub.domain.errors import NotFound, ValidationFailed
from customers_hub.domain.events import (
    CustomerDeleted,
    CustomerMerged,
    CustomerRestored,
    CustomerUnmerged,
    CustomerUpdated,
    DomainEvent,
)
from customers_hub.domain.matching import match_properties
from customers_hub.domain.merging import MergeRecord, MergeRejected, UnmergeConflictItem
from customers_hub.domain.model import Actor, Customer
from customers_hub.domain.naming import camel_case
from customers_hub.domain.scoring import SENTIMENT_WINDOW, refresh_score, with_sentiment
from customers_hub.domain.validation import CustomerPatch, validate_customer_patch
from customers_hub.domain.validation.customers import apply_customer_patch

__all__ = [
    "MergeCommand",
    "MergeCustomers",
    "MergeOutcome",
    "UnmergeCustomers",
    "UnmergeOutcome",
    "merge_customers",
    "unmerge_customers",
]

_OPERATION = Operation.UPDATE_CUSTOMER


@frozen(kw_only=True)
class MergeCommand:
    """A merge or an unmerge: the survivor's customer id. Both commands are one of these, so
    the field is declared here only; the routes take no ``If-Match`` (every customer's stored
    version guards the save)."""

    survivor_id: str


@frozen(kw_only=True)
class MergeCustomers(MergeCommand):
    """``POST /customers/{id}/merge``: the sources in order, and ``fields`` choices
    (field name → the customer to take it from)."""

    source_ids: tuple[str, ...]
    fields: Mapping[str, str] = field(factory=dict)


@frozen
class MergeOutcome:
    """The merge's record and the survivor as it is now."""

    merge: MergeRecord
    survivor: Customer


@frozen(kw_only=True)
class UnmergeCustomers(MergeCommand):
    """``POST /customers/{id}/unmerge``: which merge (None: the survivor's newest)."""

    merge_id: str | None = None


@frozen
class UnmergeOutcome:
    """The undone merge (``unmerged_at`` set), the survivor and the restored sources."""

    merge: MergeRecord
    survivor: Customer
    sources: tuple[Customer, ...]


def _store(deps: Dependencies, uow: UnitOfWork) -> MergeStore:
    return present(deps.merges, "merges")(uow)


def _employees(*customers: Customer) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.assigned_employee_id for c in customers if c.assigned_employee_id))


async def _load_all(
    uow: UnitOfWork,
    store: MergeStore,
    actor: Actor,
    survivor_id: str,
    source_ids: Sequence[str],
    *,
    missing_ok: bool = False,
) -> tuple[Customer, list[Customer]]:
    """The live survivor and the sources (deleted ones too), locked, each in the actor's
    scope: 404 for an absent one (unless ``missing_ok``: then left out), 403 for one out of
    scope."""
    org = actor.organization_id
    await store.lock(org, [survivor_id, *source_ids])
    found = await uow.customers.get_many(org, [survivor_id, *source_ids])
    survivor = found.get(survivor_id)
    if survivor is None or survivor.is_deleted:
        raise NotFound("customer", survivor_id)
    missing = [i for i in source_ids if i not in found]
    if missing and not missing_ok:
        raise NotFound("customer", missing[0])
    sources = [found[i] for i in source_ids if i in found]
    assignee_ids = sorted({c.assigned_employee_id or "" for c in (survivor, *sources)} - {""})
    assignees = await uow.employees.get_many(org, assignee_ids)
    for customer in (survivor, *sources):
        assignee = assignees.get(customer.assigned_employee_id or "")
        enforce(
            actor,
            _OPERATION,
            RecordScope.for_customer(customer, assignee),
            resource_type="customer",
            resource_id=customer.id,
        )
    return survivor, sources


def _validated_fill(plan: rules.FillPlan, survivor: Customer, today: date) -> CustomerPatch:
    """The fill patch through the customer's own validation (cross-field rules included);
    a refusal names ``fields.<field>``."""
    try:
        return validate_customer_patch(plan.patch, survivor, today)
    except ValidationFailed as failed:
        first = failed.errors[0]
        raise MergeRejected(
            f"fields.{first.field}", f"the merged value is refused: {first.message}"
        ) from None


async def _recount(
    deps: Dependencies,
    uow: UnitOfWork,
    store: MergeStore,
    customer: Customer,
    *,
    property_views: int,
    rematch: bool,
    now: datetime,
) -> Customer:
    """``customer`` with counters from its rows, its catalog matches (when asked), lead score
    and sentiment recomputed."""
    org = customer.organization_id
    counters = (await store.counters(org, [customer.id]))[customer.id]
    counted = rules.with_counters(customer, counters, property_views=property_views)
    scored = refresh_score(counted, now)
    if rematch and scored.ai_insights is not None:
        candidates = await uow.properties.candidates(scored, CANDIDATE_LIMIT)
        matches = match_properties(scored, candidates, limit=deps.settings.property_match_limit)
        ids = tuple(m.property_id for m in matches)
        scored = refresh_score(
            evolve(scored, ai_insights=evolve(scored.ai_insights, property_matches=ids)), now
        )
    recent = await uow.relations.recent_with_sentiment(org, customer.id, SENTIMENT_WINDOW)
    return with_sentiment(scored, recent)


async def merge_customers(
    deps: Dependencies, actor: Actor, command: MergeCustomers
) -> MergeOutcome:
    """Merge ``command.source_ids`` into ``command.survivor_id`` (see the module docs)."""
    survivor_id = command.survivor_id
    enforce(actor, _OPERATION, resource_type="customer", resource_id=survivor_id)
    source_ids = tuple(command.source_ids)
    rules.validate_merge_request(survivor_id, source_ids, command.fields)

    async def work(uow: UnitOfWork) -> tuple[MergeOutcome, list[DomainEvent]]:
        now = deps.clock.now()
        org = actor.organization_id
        store = _store(deps, uow)
        survivor, sources = await _load_all(uow, store, actor, survivor_id, source_ids)
        for source in sources:
            if source.is_deleted:
                raise MergeRejected(
                    "sourceIds",
                    f"customer {source.id} is not live (deleted or merged already)",
                )
        plan = rules.plan_fill(survivor, sources, command.fields)
        patch = _validated_fill(plan, survivor, await deps.today_of(org))
        interest_ids = rules.movable_interests(survivor, sources)
        moving = [i for s in sources for i in s.property_interests if i.id in set(interest_ids)]
        moved = await store.move(
            org,
            survivor.id,
            source_ids,
            interest_ids=interest_ids,
            history=rules.merged_history(survivor, sources),
        )
        current = await uow.customers.get(org, survivor.id)
        assert current is not None  # locked above
        views = rules.viewed_count(moving)
        filled = apply_customer_patch(current, patch)
        updated = await _recount(
            deps,
            uow,
            store,
            filled,
            property_views=current.total_property_views + views,
            rematch=filled.preferences != current.preferences,
            now=now,
        )
        updated = evolve(updated, updated_at=now, version=current.version + 1)
        await uow.customers.save(updated, expected_version=current.version)
        await uow.actions.set_customer_name(org, survivor.id, survivor.name)
        events: list[DomainEvent] = []
        for source in sources:
            gone = evolve(
                source,
                deleted_at=now,
                merged_into=survivor.id,
                updated_at=now,
                version=source.version + 1,
            )
            await uow.customers.save(gone, expected_version=source.version)
            events.append(
                CustomerDeleted(
                    organization_id=org,
                    occurred_at=now,
                    employee_ids=_employees(source),
                    customer_id=source.id,
                    permanent=False,
                )
            )
        record = MergeRecord(
            id=deps.ids.new_id("merge"),
            organization_id=org,
            survivor_id=survivor.id,
            source_ids=source_ids,
            moved=moved,
            history=rules.history_origins(sources),
            fields=plan.filled,
            property_views=views,
            merged_at=now,
            merged_by=actor.user_id,
        )
        await store.add(record)
        events.insert(
            0,
            CustomerMerged(
                organization_id=org,
                occurred_at=now,
                employee_ids=_employees(survivor, *sources),
                customer_id=survivor.id,
                source_ids=source_ids,
                merge_id=record.id,
            ),
        )
        events += _updated_events(current, updated, now)
        return MergeOutcome(record, updated), events

    return await transaction_as(deps, actor, work)


def _updated_events(before: Customer, after: Customer, now: datetime) -> list[DomainEvent]:
    changes = _field_changes(before, after)
    events: list[DomainEvent] = []
    if changes:
        events.append(
            CustomerUpdated(
                organization_id=after.organization_id,
                occurred_at=now,
                employee_ids=_employees(after),
                customer_id=after.id,
                changes=changes,
            )
        )
    return [*events, *score_changed(before, after, now)]


_NOT_CHANGES = frozenset(
    {"version", "updated_at", "stage_history", "property_interests", "ai_insights", "lead_score"}
)


def _field_changes(before: Customer, after: Customer) -> dict[str, object]:
    """``customer.updated``'s ``changes``: the fields (filled, counters) that moved."""
    return {
        camel_case(a.name): getattr(after, a.name)
        for a in attrs.fields(Customer)
        if a.name not in _NOT_CHANGES and getattr(after, a.name) != getattr(before, a.name)
    }


async def _merge_to_undo(
    store: MergeStore, actor: Actor, survivor_id: str, merge_id: str | None
) -> MergeRecord:
    org = actor.organization_id
    record = (
        await store.get(org, merge_id)
        if merge_id is not None
        else await store.latest(org, survivor_id)
    )
    if record is None or record.survivor_id != survivor_id:
        raise NotFound("merge", merge_id or survivor_id)
    return record


async def _source_conflicts(
    uow: UnitOfWork, record: MergeRecord, sources: Sequence[Customer]
) -> list[UnmergeConflictItem]:
    found: list[UnmergeConflictItem] = []
    for source in sources:
        what = f"customers.{source.id}"
        if not source.is_deleted:
            found.append(UnmergeConflictItem(what, "was restored"))
        elif source.merged_into != record.survivor_id:
            found.append(UnmergeConflictItem(what, "was merged or deleted again"))
        elif await uow.customers.phone_in_use(
            source.organization_id, source.phone, excluding_id=source.id
        ):
            found.append(UnmergeConflictItem(f"{what}.phone", "was taken by another customer"))
    return found


async def unmerge_customers(
    deps: Dependencies, actor: Actor, command: UnmergeCustomers
) -> UnmergeOutcome:
    """Undo a merge of ``command.survivor_id`` within 30 days (see the module docs)."""
    survivor_id = command.survivor_id
    enforce(actor, _OPERATION, resource_type="customer", resource_id=survivor_id)
    rules.validate_merge_id(command.merge_id)

    async def work(uow: UnitOfWork) -> tuple[UnmergeOutcome, list[DomainEvent]]:
        now = deps.clock.now()
        org = actor.organization_id
        store = _store(deps, uow)
        await _load_all(uow, store, actor, survivor_id, [])  # 404/403 on the survivor first
        record = await _merge_to_undo(store, actor, survivor_id, command.merge_id)
        survivor, sources = await _load_all(
            uow, store, actor, survivor_id, record.source_ids, missing_ok=True
        )
        present = {s.id for s in sources}
        gone = [
            UnmergeConflictItem(f"customers.{i}", "was deleted permanently")
            for i in record.source_ids
            if i not in present
        ]
        rules.check_unmergeable(record, now)
        conflicts = [
            *gone,
            *await _source_conflicts(uow, record, sources),
            *rules.field_conflicts(survivor, record.fields),
            *await store.conflicts(record),
        ]
        if conflicts:
            raise rules.UnmergeConflict(conflicts)
        await store.move_back(record, rules.remaining_history(survivor, record.history))
        current = await uow.customers.get(org, survivor.id)
        assert current is not None  # locked above
        cleared = apply_customer_patch(current, rules.unfill_patch(record.fields))
        updated = await _recount(
            deps,
            uow,
            store,
            cleared,
            property_views=current.total_property_views - record.property_views,
            rematch=cleared.preferences != current.preferences,
            now=now,
        )
        updated = evolve(updated, updated_at=now, version=current.version + 1)
        await uow.customers.save(updated, expected_version=current.version)
        events: list[DomainEvent] = [
            CustomerUnmerged(
                organization_id=org,
                occurred_at=now,
                employee_ids=_employees(survivor, *sources),
                customer_id=survivor.id,
                source_ids=record.source_ids,
                merge_id=record.id,
            )
        ]
        restored: list[Customer] = []
        for source in sources:
            back = refresh_score(
                evolve(
                    source,
                    deleted_at=None,
                    merged_into=None,
                    updated_at=now,
                    version=source.version + 1,
                ),
                now,
            )
            await uow.customers.save(back, expected_version=source.version)
            await uow.actions.set_customer_name(org, source.id, source.name)
            restored.append(back)
            events.append(
                CustomerRestored(
                    organization_id=org,
                    occurred_at=now,
                    employee_ids=_employees(source),
                    customer_id=source.id,
                )
            )
        await store.mark_unmerged(org, record.id, now, actor.user_id)
        events += _updated_events(current, updated, now)
        undone = evolve(record, unmerged_at=now, unmerged_by=actor.user_id)
        return UnmergeOutcome(undone, updated, tuple(restored)), events

    return await transaction_as(deps, actor, work)

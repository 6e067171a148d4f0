"""Merging duplicate customers, and undoing a merge (rules §10).

A merge takes one **survivor** and 1–:data:`MAX_SOURCES` **sources** of the same organization.
The survivor keeps its id, stage, stage history, assignee and every field it has. Each of its
empty fields (:data:`MERGE_FIELDS`) takes a value from a source by these rules, in order:

1. the survivor has a value → it keeps it (``fields`` may not name another source for it);
2. ``fields`` names a source for the field → that source's value (naming the survivor's own id
   keeps the field empty);
3. otherwise → the value of the first source, in ``sourceIds`` order, that has one.

Fields that a rule ties together (:data:`FIELD_GROUPS`: the budget range, the area range, the
deal's paid amount and value, the two coordinates) are filled together from one source and only
when the survivor has none of them, so a merge never builds a pair that validation refuses.
Fields never filled (:data:`KEPT_FIELDS`) are the survivor's own by definition: name, phone,
source and priority always have a value, the assignee changes through assignment only.

The relations, actions and stage history entries of the sources move to the survivor (the
adapter's set-based UPDATEs); history entries keep their timestamps, are marked ``merged_from``
and take their place in the survivor's history by time (:func:`merged_history`). Property
interests move unless the survivor (or an earlier source) already has an interest in the same
property (:func:`movable_interests`): one interest per (customer, property), rules §1.
Counters come from the moved rows (:class:`RelationCounters`, :func:`with_counters`) and the
lead score is recomputed by the use case. Sources end soft-deleted with ``merged_into``.

An **unmerge** within :data:`UNMERGE_WINDOW` of the merge restores the sources, moves back what
came from them and clears the fields the merge filled — unless something moved since: a moved
row changed, moved again or was deleted, a filled field of the survivor was edited, a source
was restored, deleted or its phone taken. Then nothing changes and :class:`UnmergeConflict`
(409 ``UNMERGE_CONFLICT``) names what; after the window, or a second time,
:class:`UnmergeRefused` (422 ``UNMERGE_NOT_ALLOWED``) says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

import attrs
from attrs import evolve, frozen

from customers_hub.domain.audit import jsonable
from customers_hub.domain.enums import InteractionType, PropertyInterestStatus
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    Duplicate,
    FieldError,
    ValidationFailed,
)
from customers_hub.domain.model import Customer, PropertyInterest
from customers_hub.domain.naming import camel_case
from customers_hub.domain.validation import ID_MAX_LENGTH, CustomerPatch, PreferencesPatch

__all__ = [
    "FIELD_GROUPS",
    "KEPT_FIELDS",
    "MAX_SOURCES",
    "MERGE_FIELDS",
    "UNMERGE_WINDOW",
    "FieldFill",
    "FillPlan",
    "HistoryOrigin",
    "MergeField",
    "MergeRecord",
    "MergeRejected",
    "RelationCounters",
    "UnmergeConflict",
    "UnmergeConflictItem",
    "UnmergeRefused",
    "check_unmergeable",
    "field_conflicts",
    "field_value",
    "history_origins",
    "is_empty",
    "merged_history",
    "movable_interests",
    "plan_fill",
    "remaining_history",
    "unfill_patch",
    "validate_merge_id",
    "validate_merge_request",
    "viewed_count",
    "with_counters",
]

MAX_SOURCES: Final = 10
"""At most this many sources in one merge."""

UNMERGE_WINDOW: Final = timedelta(days=30)
"""How long after a merge it can be undone."""

KEPT_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "name": "always has a value",
        "phone": "always has a value",
        "source": "always has a value",
        "priority": "always has a value",
        "assigned_employee_id": "changes through assignment only",
        "preferences": "merged key by key (preferences.*)",
    }
)
"""Attributes of a customer patch that a merge never fills, and why."""

FIELD_GROUPS: Final[tuple[tuple[str, ...], ...]] = (
    ("preferences.budgetMin", "preferences.budgetMax"),
    ("preferences.minArea", "preferences.maxArea"),
    ("paidAmount", "totalDealValue"),
    ("latitude", "longitude"),
)
"""Fields filled together from one source, and only when the survivor has none of them."""


@frozen
class MergeField:
    """A field a merge may fill: its API name, where it lives, and the group it fills with."""

    name: str
    attribute: str
    in_preferences: bool
    group: str


def _merge_fields() -> Mapping[str, MergeField]:
    # Every field a patch can set, read from the patch classes: a new customer field is
    # mergeable without being named here.
    group_of = {name: group[0] for group in FIELD_GROUPS for name in group}
    rows: list[MergeField] = []
    for attribute in CustomerPatch.field_names:
        if attribute in KEPT_FIELDS:
            continue
        name = camel_case(attribute)
        rows.append(MergeField(name, attribute, False, group_of.get(name, name)))
    for attribute in PreferencesPatch.field_names:
        name = f"preferences.{camel_case(attribute)}"
        rows.append(MergeField(name, attribute, True, group_of.get(name, name)))
    return MappingProxyType({row.name: row for row in rows})


MERGE_FIELDS: Final[Mapping[str, MergeField]] = _merge_fields()
"""The fields a merge fills, by API name (``email``, ``preferences.budgetMin``)."""


# ---------------------------------------------------------------------------------------------
# Errors


class MergeRejected(AssignmentRejected):
    """A merge or unmerge request a rule refuses, naming the one field at fault
    (422 ``VALIDATION_ERROR`` with ``[{field, message}]``, as a refused assignee)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, {"field": field})


class UnmergeRefused(BusinessRuleViolation):
    """An unmerge that cannot happen any more: the window passed or it was undone already
    (422 ``UNMERGE_NOT_ALLOWED``, ``details``: ``reason``, ``mergeId``, ``mergedAt``,
    ``deadline``)."""

    code = "UNMERGE_NOT_ALLOWED"


@frozen
class UnmergeConflictItem:
    """One thing that moved since the merge: ``what`` names it (``interactions.int_1``,
    ``fields.email``, ``customers.cust_2``)."""

    what: str
    message: str


class UnmergeConflict(Duplicate):
    """Something moved since the merge (409 ``UNMERGE_CONFLICT``); ``conflicts`` lists all,
    the first is named in the answer's ``details``."""

    code = "UNMERGE_CONFLICT"

    def __init__(self, conflicts: Sequence[UnmergeConflictItem]) -> None:
        if not conflicts:
            raise ValueError("an unmerge conflict names at least one thing")
        self.conflicts = tuple(conflicts)
        first = self.conflicts[0]
        more = len(self.conflicts) - 1
        suffix = f" ({more} more thing{'s' if more > 1 else ''} moved too)" if more else ""
        super().__init__(
            f"Cannot unmerge: {first.what} {first.message} since the merge{suffix}",
            field=first.what,
        )


# ---------------------------------------------------------------------------------------------
# The request


_ID_MESSAGE: Final = f"must be a customer id (1 to {ID_MAX_LENGTH} characters)"


def _is_id(value: str) -> bool:
    return bool(value.strip()) and len(value) <= ID_MAX_LENGTH


def validate_merge_id(merge_id: str | None) -> None:
    """400 naming ``mergeId`` when it is given but cannot be an id."""
    if merge_id is not None and not _is_id(merge_id):
        raise ValidationFailed.single("mergeId", f"must be 1 to {ID_MAX_LENGTH} characters")


def validate_merge_request(
    survivor_id: str, source_ids: Sequence[str], fields: Mapping[str, str]
) -> None:
    """Check the request's shape: 400 naming ``sourceIds`` or ``fields.<name>`` for a wrong
    count, an empty id or an unknown field; then 422 (:class:`MergeRejected`) naming
    ``sourceIds`` when an id repeats or is the survivor's."""
    errors: list[FieldError] = []
    if not 1 <= len(source_ids) <= MAX_SOURCES:
        errors.append(FieldError("sourceIds", f"must list 1 to {MAX_SOURCES} customer ids"))
    if any(not _is_id(i) for i in source_ids):
        errors.append(FieldError("sourceIds", _ID_MESSAGE))
    for name, source in fields.items():
        if name not in MERGE_FIELDS:
            errors.append(FieldError(f"fields.{name}", "is not a field a merge fills"))
        elif not _is_id(source):
            errors.append(FieldError(f"fields.{name}", _ID_MESSAGE))
    if errors:
        raise ValidationFailed(errors)
    if len(set(source_ids)) != len(source_ids):
        raise MergeRejected("sourceIds", "must not list a customer twice")
    if survivor_id in source_ids:
        raise MergeRejected("sourceIds", "must not list the customer merged into")


# ---------------------------------------------------------------------------------------------
# Fields


def is_empty(value: object) -> bool:
    """True for what counts as no value: None, an empty text, list or mapping."""
    return value is None or value == "" or value == () or value == {}


def field_value(customer: Customer, field: MergeField) -> object:
    """The value of ``field`` on ``customer``."""
    holder: object = customer.preferences if field.in_preferences else customer
    return getattr(holder, field.attribute)


def _groups() -> dict[str, tuple[MergeField, ...]]:
    groups: dict[str, list[MergeField]] = {}
    for row in MERGE_FIELDS.values():
        groups.setdefault(row.group, []).append(row)
    return {name: tuple(rows) for name, rows in groups.items()}


_GROUPS: Final = _groups()


@frozen
class FieldFill:
    """A survivor's field the merge filled: from which source, and the value (as JSON)."""

    source_id: str
    value: object


@frozen
class FillPlan:
    """What a merge writes into the survivor: a patch of its empty fields, and what each is."""

    patch: CustomerPatch
    filled: Mapping[str, FieldFill]


def _patch_of(values: Mapping[str, object]) -> CustomerPatch:
    """The customer patch that sets each named field (``None`` clears it)."""
    top: dict[str, Any] = {}
    preferences: dict[str, Any] = {}
    for name, value in values.items():
        row = MERGE_FIELDS[name]
        (preferences if row.in_preferences else top)[row.attribute] = value
    if preferences:
        top["preferences"] = PreferencesPatch(**preferences)
    return CustomerPatch(**top)


def _chosen_source(
    members: Sequence[MergeField], choices: Mapping[str, str], allowed: frozenset[str]
) -> str | None:
    named = {m.name: choices[m.name] for m in members if m.name in choices}
    for name, source in named.items():
        if source not in allowed:
            raise MergeRejected(
                f"fields.{name}",
                "must name one of sourceIds (or the survivor's id to keep the field empty)",
            )
    if len(set(named.values())) > 1:
        together = ", ".join(m.name for m in members)
        raise MergeRejected(
            f"fields.{sorted(named)[-1]}", f"{together} are filled together from one customer"
        )
    return next(iter(named.values()), None)


def plan_fill(
    survivor: Customer, sources: Sequence[Customer], choices: Mapping[str, str]
) -> FillPlan:
    """Which empty fields of ``survivor`` take which source's value (module rules 1–3), as a
    patch. ``sources`` are in ``sourceIds`` order; ``choices`` maps field names to a source id
    (or the survivor's). 422 (:class:`MergeRejected`) naming ``fields.<name>`` for a choice of
    a customer not in the merge, for a field the survivor has, or for one group split."""
    by_id = {s.id: s for s in sources}
    allowed = frozenset({*by_id, survivor.id})
    values: dict[str, object] = {}
    filled: dict[str, FieldFill] = {}
    for members in _GROUPS.values():
        chosen = _chosen_source(members, choices, allowed)
        if any(not is_empty(field_value(survivor, m)) for m in members):
            if chosen is not None and chosen != survivor.id:
                named = next(m.name for m in members if m.name in choices)
                raise MergeRejected(
                    f"fields.{named}", "the survivor has a value here and keeps it (rules §10)"
                )
            continue
        if chosen == survivor.id:
            continue
        candidates = [by_id[chosen]] if chosen is not None else list(sources)
        donor = next(
            (c for c in candidates if any(not is_empty(field_value(c, m)) for m in members)),
            None,
        )
        if donor is None:
            continue
        for m in members:
            value = field_value(donor, m)
            if not is_empty(value):
                values[m.name] = value
                filled[m.name] = FieldFill(donor.id, jsonable(value))
    return FillPlan(_patch_of(values), MappingProxyType(filled))


def unfill_patch(filled: Mapping[str, FieldFill]) -> CustomerPatch:
    """The patch that empties again the fields a merge filled (an unmerge)."""
    return _patch_of(dict.fromkeys(filled))


def field_conflicts(
    survivor: Customer, filled: Mapping[str, FieldFill]
) -> list[UnmergeConflictItem]:
    """The filled fields of ``survivor`` that no longer hold what the merge put there."""
    return [
        UnmergeConflictItem(f"fields.{name}", "was edited")
        for name, fill in filled.items()
        if jsonable(field_value(survivor, MERGE_FIELDS[name])) != fill.value
    ]


# ---------------------------------------------------------------------------------------------
# Relations, history and counters


def movable_interests(survivor: Customer, sources: Sequence[Customer]) -> tuple[str, ...]:
    """Ids of the sources' property interests that move: those in a property the survivor (or
    an earlier source) has no interest in yet; the others stay with their source."""
    taken = {i.property_id for i in survivor.property_interests}
    moving: list[str] = []
    for source in sources:
        for interest in source.property_interests:
            if interest.property_id not in taken:
                taken.add(interest.property_id)
                moving.append(interest.id)
    return tuple(moving)


def viewed_count(interests: Sequence[PropertyInterest]) -> int:
    """How many of ``interests`` count as property views (viewed now or once)."""
    return sum(
        1 for i in interests if i.viewed_at is not None or i.status is PropertyInterestStatus.VIEWED
    )


def merged_history(
    survivor: Customer, sources: Sequence[Customer]
) -> tuple[tuple[str, str | None], ...]:
    """The survivor's history after the merge, oldest first: ``(entry id, merged_from)`` with
    ``merged_from`` None for the survivor's own entries. Entries are ordered by time; at the
    same instant the survivor's come first, then each source's in ``sourceIds`` order, each
    customer's in its own order."""
    keyed = [
        (entry.changed_at, rank, position, entry.id, None if rank == 0 else owner.id)
        for rank, owner in enumerate([survivor, *sources])
        for position, entry in enumerate(owner.stage_history)
    ]
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return tuple((entry_id, merged_from) for *_, entry_id, merged_from in keyed)


def history_origins(sources: Sequence[Customer]) -> dict[str, HistoryOrigin]:
    """Where each source's history entry was, to put it back on an unmerge."""
    return {
        entry.id: HistoryOrigin(source.id, position, entry.merged_from)
        for source in sources
        for position, entry in enumerate(source.stage_history, start=1)
    }


def remaining_history(survivor: Customer, moved: Mapping[str, object]) -> tuple[str, ...]:
    """The survivor's history entry ids, in order, without those in ``moved`` (an unmerge)."""
    return tuple(e.id for e in survivor.stage_history if e.id not in moved)


@frozen
class HistoryOrigin:
    """Where a moved history entry was: its source, its 1-based position there, and its own
    ``merged_from`` mark (set when the source had merged that entry in itself)."""

    source_id: str
    position: int
    merged_from: str | None = None


@frozen
class RelationCounters:
    """The customer counters that its interactions and appointments determine (named as the
    customer's attributes)."""

    total_interactions: int = 0
    positive_inbound_interactions: int = 0
    last_contact_at: datetime | None = None
    last_contact_type: InteractionType | None = None
    next_follow_up_date: date | None = None
    total_appointments: int = 0


def with_counters(
    customer: Customer, counters: RelationCounters, *, property_views: int
) -> Customer:
    """``customer`` with the counters of its rows (the lead score is the caller's)."""
    return evolve(
        customer,
        total_property_views=max(property_views, 0),
        **attrs.asdict(counters, recurse=False),
    )


# ---------------------------------------------------------------------------------------------
# The record of a merge


@frozen(kw_only=True)
class MergeRecord:
    """One merge and what it moved, kept so an unmerge undoes exactly that.

    ``moved`` is ``{table: {row id: (source id, fingerprint)}}`` as the adapter wrote it (the
    fingerprint is the row's content: a row changed since no longer matches); ``history`` where
    each moved history entry was; ``fields`` the survivor's filled fields;
    ``property_views`` the views the moved interests added to the survivor.
    """

    id: str
    organization_id: str
    survivor_id: str
    source_ids: tuple[str, ...]
    moved: Mapping[str, Mapping[str, tuple[str, str]]]
    history: Mapping[str, HistoryOrigin]
    fields: Mapping[str, FieldFill]
    property_views: int
    merged_at: datetime
    merged_by: str
    unmerged_at: datetime | None = None
    unmerged_by: str | None = None

    @property
    def deadline(self) -> datetime:
        """The last instant an unmerge is allowed."""
        return self.merged_at + UNMERGE_WINDOW


def check_unmergeable(record: MergeRecord, now: datetime) -> None:
    """:class:`UnmergeRefused` when ``record`` was undone already or its window passed."""
    details: dict[str, object] = {
        "mergeId": record.id,
        "mergedAt": jsonable(record.merged_at),
        "deadline": jsonable(record.deadline),
    }
    if record.unmerged_at is not None:
        raise UnmergeRefused(
            "This merge was undone already",
            {**details, "reason": "already_unmerged", "unmergedAt": jsonable(record.unmerged_at)},
        )
    if now > record.deadline:
        raise UnmergeRefused(
            f"A merge can be undone within {UNMERGE_WINDOW.days} days; this one is older",
            {**details, "reason": "expired"},
        )

"""Strategies for actions of the inbox, their notes and stage change requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
    Stage,
)
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    ActionNote,
    Customer,
    CustomerAction,
)
from customers_hub.testing.strategies.options import (
    UNSET,
    OrStrategy,
    T,
    _resolve,
    _Unset,
)
from customers_hub.testing.strategies.values import (
    _AGGREGATE_START_MAX,
    _NOTES,
    _REASONS,
    _after,
    arabic_names,
    aware_datetimes,
    ids,
    organizations,
    person_names,
)

# --- actions (the requests inbox) ------------------------------------------------------------

_DISMISS_REASONS: Final = (
    "العميل غير مهتم حالياً",
    "رقم الهاتف غير صحيح",
    "Duplicate request",
    "تم التواصل عبر قناة أخرى",
)
_OUTCOMES: Final = ("تم التواصل مع العميل", "حُدد موعد معاينة", "Customer will call back")
_ACTION_NOTES: Final = ("اتصلت ولم يرد", "أرسلت العروض عبر واتساب", "Customer asked for a discount")

SNOOZE_HORIZON: Final = timedelta(days=365)
"""How far ahead an action may be snoozed (rules §2: at most one year)."""


def _pick(
    draw: st.DrawFn,
    given: SearchStrategy[T] | None,
    owner: Customer | None,
    of_owner: Callable[[Customer], T],
    otherwise: SearchStrategy[T],
) -> T:
    """The option as given, else the customer's value, else a fresh draw of ``otherwise``."""
    if given is not None:
        return draw(given)
    if owner is not None:
        return of_owner(owner)
    return draw(otherwise)


@st.composite
def _actions(
    draw: st.DrawFn,
    *,
    customer: SearchStrategy[Customer] | None,
    organization_id: SearchStrategy[str] | None,
    customer_id: SearchStrategy[str] | None,
    customer_name: SearchStrategy[str] | None,
    assigned_to: SearchStrategy[str | None] | None,
    priority: SearchStrategy[Priority] | None,
    created_at: SearchStrategy[datetime] | None,
    action_id: SearchStrategy[str],
    status: SearchStrategy[ActionStatus],
    action_type: SearchStrategy[ActionType],
    source: SearchStrategy[CustomerSource],
) -> CustomerAction:
    # Options left out take the customer's values when a customer is given.
    owner = draw(customer) if customer is not None else None
    aid = draw(action_id)
    suffix = aid.rsplit("_", 1)[-1]
    org = _pick(draw, organization_id, owner, lambda c: c.organization_id, organizations())
    cust_id = _pick(draw, customer_id, owner, lambda c: c.id, ids("cust"))
    name = _pick(draw, customer_name, owner, lambda c: c.name, arabic_names())
    assignee = _pick(
        draw, assigned_to, owner, lambda c: c.assigned_employee_id, st.none() | ids("emp")
    )
    chosen_priority = (
        draw(priority) if priority is not None else owner.priority if owner else None
    ) or draw(st.sampled_from(Priority))
    if created_at is not None:
        created = draw(created_at)
    elif owner is not None:
        created = draw(_after(owner.created_at, at_most=timedelta(days=30)))
    else:
        created = draw(aware_datetimes(max_value=_AGGREGATE_START_MAX))
    updated = draw(_after(created, at_most=timedelta(days=30)))
    chosen = draw(status)
    kind = draw(action_type)

    completed_at = completed_by = outcome = dismiss_reason = None
    snoozed_until: datetime | None = None
    if chosen is ActionStatus.COMPLETED:
        completed_at = updated
        completed_by = assignee or draw(ids("emp"))
        outcome = draw(st.none() | st.sampled_from(_OUTCOMES))
    elif chosen is ActionStatus.DISMISSED:
        dismiss_reason = draw(st.sampled_from(_DISMISS_REASONS))
    elif chosen is ActionStatus.SNOOZED:
        # Snoozed at ``updated``: strictly later, at most a year ahead.
        snoozed_until = draw(
            _after(updated, at_least=timedelta(minutes=1), at_most=SNOOZE_HORIZON - timedelta(1))
        )

    note_times = sorted(
        draw(st.lists(aware_datetimes(min_value=created, max_value=updated), max_size=3))
    )
    author = draw(person_names(diacritics=False))
    author_id = assignee or draw(ids("emp"))
    notes = tuple(
        ActionNote(
            id=f"note_{suffix}_{n}",
            action_id=aid,
            content=draw(st.sampled_from(_ACTION_NOTES)),
            created_by=author.arabic,
            created_by_id=author_id,
            created_at=at,
        )
        for n, at in enumerate(note_times, start=1)
    )
    return CustomerAction(
        id=aid,
        organization_id=org,
        customer_id=cust_id,
        customer_name=name,
        type=kind,
        title=f"{kind.label} - {name}",
        priority=chosen_priority,
        status=chosen,
        source=draw(source),
        created_at=created,
        updated_at=updated,
        description=draw(st.none() | st.sampled_from(_NOTES)),
        due_date=draw(st.none() | _after(created, at_most=timedelta(days=14))),
        snoozed_until=snoozed_until,
        assigned_to=assignee,
        assigned_to_name=draw(arabic_names(diacritics=False)) if assignee else None,
        completed_at=completed_at,
        completed_by=completed_by,
        outcome=outcome,
        dismiss_reason=dismiss_reason,
        metadata=draw(st.sampled_from(({}, {"autoGenerated": True}))),
        notes=notes,
    )


def _optional(value: OrStrategy[T] | _Unset) -> SearchStrategy[T] | None:
    return None if isinstance(value, _Unset) else _resolve(value, st.nothing())


def actions(
    *,
    customer: OrStrategy[Customer] | None = None,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    customer_id: OrStrategy[str] | _Unset = UNSET,
    customer_name: OrStrategy[str] | _Unset = UNSET,
    status: OrStrategy[ActionStatus] | _Unset = UNSET,
    action_type: OrStrategy[ActionType] | _Unset = UNSET,
    priority: OrStrategy[Priority] | _Unset = UNSET,
    source: OrStrategy[CustomerSource] | _Unset = UNSET,
    assigned_to: OrStrategy[str | None] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
    action_id: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[CustomerAction]:
    """Valid inbox actions whose fields agree with their status (rules §2).

    * ``completed``: ``completed_at`` (== ``updated_at``) and ``completed_by`` set;
    * ``dismissed``: a non-empty ``dismiss_reason``;
    * ``snoozed``: ``snoozed_until`` after ``updated_at`` and less than a year after it;
    * otherwise none of those fields; ``created_at <= notes' created_at <= updated_at``.

    With ``customer`` (a value or a strategy), the organization, customer id and name, assignee
    and priority default to the customer's.
    """
    owner = None if customer is None else _resolve(customer, st.nothing())
    return _actions(
        customer=owner,
        organization_id=_optional(organization_id),
        customer_id=_optional(customer_id),
        customer_name=_optional(customer_name),
        assigned_to=_optional(assigned_to),
        priority=_optional(priority),
        created_at=_optional(created_at),
        action_id=_resolve(action_id, ids("action")),
        status=_resolve(status, st.sampled_from(ActionStatus)),
        action_type=_resolve(action_type, st.sampled_from(ActionType)),
        source=_resolve(source, st.sampled_from(CustomerSource)),
    )


def action_notes(
    *,
    action_id: OrStrategy[str] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
) -> SearchStrategy[ActionNote]:
    """Notes to add to an action."""
    return st.builds(
        ActionNote,
        id=ids("note"),
        action_id=_resolve(action_id, ids("action")),
        content=st.sampled_from(_ACTION_NOTES),
        created_by=arabic_names(diacritics=False),
        created_by_id=ids("emp"),
        created_at=_resolve(created_at, aware_datetimes()),
    )


# --- stage change requests -------------------------------------------------------------------


def reasons() -> SearchStrategy[str | None]:
    """Reasons as callers send them: ``None``, blank (``""``, ``"   "``, which count as no
    reason) or a real one."""
    return st.none() | st.sampled_from(("", "   ")) | st.sampled_from(_REASONS)


def stage_change_requests(
    *,
    to_stage: OrStrategy[Stage] | _Unset = UNSET,
    reason: OrStrategy[str | None] | _Unset = UNSET,
    notes: OrStrategy[str | None] | _Unset = UNSET,
) -> SearchStrategy[StageChangeRequest]:
    """Bodies of the stage-change endpoint, valid or not for a given customer."""
    return st.builds(
        StageChangeRequest,
        to_stage=_resolve(to_stage, st.sampled_from(Stage)),
        notes=_resolve(notes, st.none() | st.sampled_from(_NOTES)),
        reason=_resolve(reason, reasons()),
    )

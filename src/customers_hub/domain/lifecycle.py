"""The customer lifecycle stage machine (rules §1), written as data plus pure functions.

Two tables drive it:

* :data:`TRANSITION_RULES` — rules on the *move* (from stage → to stage), checked in table order;
  the first rule that applies and is not satisfied refuses the change.
* :data:`STAGE_GUARDS` — rules on the *customer's data* needed to be in a stage. Entering a stage
  requires the guard of that stage and of every earlier guarded stage (they are cumulative).

Order of checks (:func:`check_stage_change`), most structural first so that the answer names the
real blocker:

1. ``same_stage`` — a move to the current stage is no move (422).
2. ``reopen_requires_admin`` — leaving ``post_sale`` needs role ``admin`` (403). Checked before any
   payload rule: a caller who may never re-open learns that, not that a reason is missing.
3. ``reopen_requires_reason`` — an admin re-opening must give a reason (422).
4. ``post_sale_only_from_closing`` — ``post_sale`` is entered only from ``closing``, even with a
   reason (422).
5. ``backward_requires_reason`` — any backward move needs a reason (422).
6. ``forward_skip_requires_reason`` — a forward move of more than one step needs a reason (422).
7. Stage guards of the target stage, earliest guarded stage first (422). Guards apply to every
   entry, backward and re-open moves included: a customer is never *in* a stage whose data
   requirements fail at the moment of entering it. Given :class:`ComplianceFacts`, the Saudi
   compliance rules of §7 (:mod:`~customers_hub.domain.compliance_rules`) join them on forward
   moves: the earliest stage's failing rule is reported, §1's before §7's within a stage.

A reason counts only if it is non-empty after stripping whitespace. Reasons and notes are stored
stripped; a blank one is stored as ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum

import attrs
from attrs import frozen

from customers_hub.domain import scoring
from customers_hub.domain.compliance_rules import (
    COMPLIANCE_RULES,
    ChecklistItem,
    CheckState,
    ComplianceFacts,
    compliance_failure,
)
from customers_hub.domain.enums import PropertyInterestStatus, Role, Stage
from customers_hub.domain.errors import InvalidStageTransition, PermissionDenied
from customers_hub.domain.events import CustomerStageChanged, DomainEvent
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    SYSTEM_ACTOR_NAME,
    Actor,
    Customer,
    StageChange,
)
from customers_hub.domain.validation.texts import stripped_or_none

INITIAL_STAGE = Stage.NEW_LEAD
"""Every customer is created at this stage."""

REOPEN_PERMISSION = "customers.reopen"
"""``details.requiredPermission`` of the 403 answered when a non-admin moves out of ``post_sale``.

It is not a JWT permission anyone can be granted: re-opening is reserved to role ``admin``.
"""

REOPEN_ROLES: frozenset[Role] = frozenset({Role.ADMIN})
"""Roles that may move a customer out of ``post_sale``."""


@frozen
class StageChangeRequest:
    """A request to move a customer to ``to_stage`` (the body of the stage-change endpoint)."""

    to_stage: Stage
    notes: str | None = None
    reason: str | None = None


# --- the move: direction helpers -----------------------------------------------------------------


class Direction(Enum):
    """Direction of a move between two stages."""

    SAME = "same"
    FORWARD = "forward"
    BACKWARD = "backward"


def direction(from_stage: Stage, to_stage: Stage) -> Direction:
    """Whether ``to_stage`` is the same as, later than or earlier than ``from_stage``."""
    if to_stage.rank == from_stage.rank:
        return Direction.SAME
    return Direction.FORWARD if to_stage.rank > from_stage.rank else Direction.BACKWARD


def distance(from_stage: Stage, to_stage: Stage) -> int:
    """Number of steps between two stages (0 for the same stage), regardless of direction."""
    return abs(to_stage.rank - from_stage.rank)


def is_forward_skip(from_stage: Stage, to_stage: Stage) -> bool:
    """True for a forward move of more than one step."""
    return to_stage.rank - from_stage.rank > 1


def is_backward(from_stage: Stage, to_stage: Stage) -> bool:
    """True for a move to an earlier stage (any distance)."""
    return to_stage.rank < from_stage.rank


def is_reopen(from_stage: Stage, to_stage: Stage) -> bool:
    """True for a move out of ``post_sale``."""
    return from_stage is Stage.POST_SALE and to_stage is not Stage.POST_SALE


def has_reason(reason: str | None) -> bool:
    """True when ``reason`` has some text after stripping whitespace."""
    return bool(reason and reason.strip())


# --- the move: rules as data ---------------------------------------------------------------------


class Requirement(Enum):
    """What a transition rule demands when it applies."""

    FORBIDDEN = "forbidden"  # never allowed (422)
    REASON = "reason"  # allowed only with a non-empty reason (422 otherwise)
    ADMIN_ROLE = "admin_role"  # allowed only to a role of REOPEN_ROLES (403 otherwise)


@frozen
class TransitionRule:
    """One row of the transition table: when ``applies(from, to)``, ``requirement`` must hold."""

    name: str
    applies: Callable[[Stage, Stage], bool]
    requirement: Requirement
    message: str


TRANSITION_RULES: tuple[TransitionRule, ...] = (
    TransitionRule(
        "same_stage",
        lambda f, t: f is t,
        Requirement.FORBIDDEN,
        "The customer is already at this stage",
    ),
    TransitionRule(
        "reopen_requires_admin",
        is_reopen,
        Requirement.ADMIN_ROLE,
        "Only an admin may re-open a customer out of post_sale",
    ),
    TransitionRule(
        "reopen_requires_reason",
        is_reopen,
        Requirement.REASON,
        "Re-opening a customer out of post_sale requires a reason",
    ),
    TransitionRule(
        "post_sale_only_from_closing",
        lambda f, t: t is Stage.POST_SALE and f is not Stage.CLOSING,
        Requirement.FORBIDDEN,
        "post_sale can only be entered from closing",
    ),
    TransitionRule(
        "backward_requires_reason",
        is_backward,
        Requirement.REASON,
        "Moving a customer back to an earlier stage requires a reason",
    ),
    TransitionRule(
        "forward_skip_requires_reason",
        is_forward_skip,
        Requirement.REASON,
        "Skipping stages requires a reason",
    ),
)
"""The transition table of rules §1, in the order the rules are checked."""


# --- the customer's data: guards as data ---------------------------------------------------------


def has_active_property_interest(customer: Customer) -> bool:
    """At least one property interest whose status is not ``rejected``."""
    return any(i.status is not PropertyInterestStatus.REJECTED for i in customer.property_interests)


def has_deal_value(customer: Customer) -> bool:
    """``totalDealValue`` is given and > 0."""
    return customer.total_deal_value is not None and customer.total_deal_value > Decimal(0)


def has_payment(customer: Customer) -> bool:
    """``paidAmount`` is given and > 0."""
    return customer.paid_amount is not None and customer.paid_amount > Decimal(0)


@frozen
class StageGuard:
    """One row of the guard table: entering ``stage`` or any later stage requires ``predicate``."""

    stage: Stage
    rule: str
    predicate: Callable[[Customer], bool]
    message: str
    message_ar: str


STAGE_GUARDS: tuple[StageGuard, ...] = (
    StageGuard(
        Stage.SITE_VISIT,
        "active_property_interest_required",
        has_active_property_interest,
        "At least one property interest that is not rejected is required",
        "يلزم اهتمام بعقار واحد على الأقل غير مرفوض",
    ),
    StageGuard(
        Stage.CONTRACT_PREP,
        "deal_value_required",
        has_deal_value,
        "A total deal value greater than zero is required",
        "يلزم إدخال قيمة إجمالية للصفقة أكبر من صفر",
    ),
    StageGuard(
        Stage.CLOSING,
        "payment_required",
        has_payment,
        "A paid amount greater than zero is required",
        "يلزم تسجيل مبلغ مدفوع أكبر من صفر",
    ),
)
"""The guard table of rules §1, earliest guarded stage first."""


def guards_for(stage: Stage) -> tuple[StageGuard, ...]:
    """Every guard that entering ``stage`` requires (cumulative), earliest first."""
    return tuple(g for g in STAGE_GUARDS if g.stage.rank <= stage.rank)


def failed_guard(customer: Customer, stage: Stage) -> StageGuard | None:
    """The first guard of ``stage`` that ``customer`` fails, or ``None`` when all pass."""
    return next((g for g in guards_for(stage) if not g.predicate(customer)), None)


def can_enter(customer: Customer, stage: Stage) -> bool:
    """True when ``customer``'s data satisfies every guard of ``stage``."""
    return failed_guard(customer, stage) is None


# --- checking and applying a change --------------------------------------------------------------


def _refusal(
    customer: Customer, request: StageChangeRequest, rule: str, message: str
) -> InvalidStageTransition:
    return InvalidStageTransition(
        message,
        details={
            "fromStage": customer.stage.value,
            "toStage": request.to_stage.value,
            "rule": rule,
        },
    )


def check_stage_change(
    customer: Customer,
    request: StageChangeRequest,
    actor: Actor,
    facts: ComplianceFacts | None = None,
) -> None:
    """Raise if rules §1 (and, given ``facts``, §7) refuse ``request`` for ``customer`` by
    ``actor``; return otherwise.

    Raises :class:`InvalidStageTransition` (422, ``details`` = ``fromStage``, ``toStage``,
    ``rule``) or :class:`PermissionDenied` (403, ``required_permission`` =
    :data:`REOPEN_PERMISSION`). See the module docstring for the order of checks.
    """
    from_stage, to_stage = customer.stage, request.to_stage
    for rule in TRANSITION_RULES:
        if not rule.applies(from_stage, to_stage):
            continue
        if rule.requirement is Requirement.FORBIDDEN:
            raise _refusal(customer, request, rule.name, rule.message)
        if rule.requirement is Requirement.REASON and not has_reason(request.reason):
            raise _refusal(customer, request, rule.name, rule.message)
        if rule.requirement is Requirement.ADMIN_ROLE and actor.role not in REOPEN_ROLES:
            raise PermissionDenied(
                rule.message,
                required_permission=REOPEN_PERMISSION,
                current_role=actor.role.value,
            )
    failed = first_failed_rule(customer, to_stage, facts)
    if failed is not None:
        raise _refusal(customer, request, *failed)


def first_failed_rule(
    customer: Customer, to_stage: Stage, facts: ComplianceFacts | None = None
) -> tuple[str, str] | None:
    """``(rule, message)`` of the guard that refuses ``customer`` entering ``to_stage``, or
    ``None``. §1's guards apply to every entry; with ``facts``, §7's rules apply too on a
    forward move. The earliest stage's failure is reported, §1 before §7 within a stage."""
    guard = failed_guard(customer, to_stage)
    found = None if guard is None else (guard.stage.rank, 0, guard.rule, guard.message)
    if facts is not None and to_stage.rank > customer.stage.rank:
        rule = compliance_failure(customer, to_stage, facts)
        if rule is not None and (found is None or rule.stage.rank < found[0]):
            found = (rule.stage.rank, 1, rule.rule, rule.message)
    return None if found is None else (found[2], found[3])


def checklist(customer: Customer, facts: ComplianceFacts) -> tuple[ChecklistItem, ...]:
    """For every stage after ``customer``'s, each rule of §1 and §7 that entering it requires,
    with its state: ``block`` (would refuse the move), ``pass``, ``not_applicable`` (a §7 rule
    whose condition does not hold) or ``warn`` (passes, but the broker's FAL licence expires
    soon: the rule's ``warns``)."""
    items: list[ChecklistItem] = []
    for stage in Stage:
        if stage.rank <= customer.stage.rank:
            continue
        for guard in STAGE_GUARDS:
            if guard.stage is stage:
                state = CheckState.PASS if guard.predicate(customer) else CheckState.BLOCK
                items.append(
                    ChecklistItem(stage, guard.rule, state, guard.message, guard.message_ar)
                )
        for rule in COMPLIANCE_RULES:
            if rule.stage is not stage:
                continue
            if not rule.applies(customer, facts):
                state = CheckState.NOT_APPLICABLE
            elif not rule.satisfied(customer, facts):
                state = CheckState.BLOCK
            elif rule.warns is not None and rule.warns(customer, facts):
                state = CheckState.WARN
            else:
                state = CheckState.PASS
            items.append(ChecklistItem(stage, rule.rule, state, rule.message, rule.message_ar))
    return tuple(items)


def change_stage(
    customer: Customer,
    request: StageChangeRequest,
    *,
    actor: Actor,
    entry_id: str,
    now: datetime,
    facts: ComplianceFacts | None = None,
) -> tuple[Customer, list[DomainEvent]]:
    """Apply ``request``: append one history entry, set the stage, recompute the lead score.

    Raises like :func:`check_stage_change` and then changes nothing. On success returns the new
    customer (``updated_at=now``, ``version+1``) and one :class:`CustomerStageChanged` event.
    """
    check_stage_change(customer, request, actor, facts)
    entry = StageChange(
        id=entry_id,
        from_stage=customer.stage,
        to_stage=request.to_stage,
        changed_by=actor.display_name,
        changed_by_id=actor.user_id,
        changed_at=now,
        notes=stripped_or_none(request.notes),
        reason=stripped_or_none(request.reason),
        auto_generated=False,
    )
    moved = attrs.evolve(
        customer,
        stage=request.to_stage,
        stage_history=(*customer.stage_history, entry),
        updated_at=now,
        version=customer.version + 1,
    )
    # The stage is an input of the lead score: never return a stale score.
    moved = scoring.refresh_score(moved, now)
    event = CustomerStageChanged(
        organization_id=customer.organization_id,
        occurred_at=now,
        employee_ids=_employee_ids(customer),
        customer_id=customer.id,
        from_stage=customer.stage,
        to_stage=request.to_stage,
        changed_by=actor.user_id,
    )
    return moved, [event]


def _employee_ids(customer: Customer) -> tuple[str, ...]:
    return (customer.assigned_employee_id,) if customer.assigned_employee_id else ()


def initial_stage_entry(entry_id: str, now: datetime) -> StageChange:
    """The first history entry of every new customer: ``None → new_lead`` by the system."""
    return StageChange(
        id=entry_id,
        from_stage=None,
        to_stage=INITIAL_STAGE,
        changed_by=SYSTEM_ACTOR_NAME,
        changed_by_id=SYSTEM_ACTOR_ID,
        changed_at=now,
        notes=None,
        reason=None,
        auto_generated=True,
    )

"""Plain models of rules §1 and §2 that the machines check the domain against."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Final

from attrs import frozen

from customers_hub.domain.enums import ActionStatus, PropertyInterestStatus, Role, Stage
from customers_hub.domain.errors import (
    InvalidActionTransition,
    InvalidStageTransition,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.model import (
    Customer,
)


class Outcome(Enum):
    """What an operation answered, as the plain models predict it."""

    ACCEPTED = "accepted"
    INVALID_TRANSITION = "invalid_transition"  # 422 INVALID_STAGE/ACTION_TRANSITION
    PERMISSION_DENIED = "permission_denied"  # 403 PERMISSION_DENIED
    VALIDATION_FAILED = "validation_failed"  # 400 VALIDATION_ERROR


def _outcome_of(error: Exception) -> Outcome:
    if isinstance(error, InvalidStageTransition | InvalidActionTransition):
        return Outcome.INVALID_TRANSITION
    if isinstance(error, PermissionDenied):
        return Outcome.PERMISSION_DENIED
    if isinstance(error, ValidationFailed):
        return Outcome.VALIDATION_FAILED
    raise error  # anything else is a bug of the system under test, not a refusal


def _has_text(text: str | None) -> bool:
    return bool(text and text.strip())


def _normalized(text: str | None) -> str | None:
    return (text.strip() or None) if text else None


def _same_text(stored: str | None, sent: str | None) -> bool:
    # Whether stored text keeps what was sent; storing it stripped, blank as None, is fine.
    return _normalized(stored) == _normalized(sent)


# --- plain model of rules §1 ---------------------------------------------------------------

MODEL_STAGE_ORDER: Final[tuple[str, ...]] = (
    "new_lead",
    "qualified",
    "property_matching",
    "site_visit",
    "negotiation",
    "contract_prep",
    "down_payment",
    "closing",
    "post_sale",
)
"""The nine stages in lifecycle order, as wire strings."""

# Entering a stage at or after the key needs the fact (guards are cumulative).
_MODEL_GUARD_FROM: Final[Mapping[str, str]] = {
    "live_interest": "site_visit",
    "deal_value": "contract_prep",
    "payment": "closing",
}


@frozen
class GuardFacts:
    """The customer data the stage guards read, computed here independently of the domain."""

    live_interest: bool
    deal_value: bool
    payment: bool

    @classmethod
    def of(cls, customer: Customer) -> GuardFacts:
        """The facts of ``customer`` now."""
        return cls(
            live_interest=any(
                i.status != PropertyInterestStatus.REJECTED for i in customer.property_interests
            ),
            deal_value=(customer.total_deal_value or Decimal(0)) > 0,
            payment=(customer.paid_amount or Decimal(0)) > 0,
        )


def model_guards_hold(stage: Stage | str, facts: GuardFacts) -> bool:
    """Whether a customer with ``facts`` may be in ``stage`` (rules §1 guard table)."""
    position = MODEL_STAGE_ORDER.index(str(stage))
    return all(
        getattr(facts, fact) or position < MODEL_STAGE_ORDER.index(from_stage)
        for fact, from_stage in _MODEL_GUARD_FROM.items()
    )


def model_stage_change(
    from_stage: Stage | str,
    to_stage: Stage | str,
    *,
    reason: str | None,
    role: Role | str,
    facts: GuardFacts,
) -> frozenset[Outcome]:
    """The outcomes rules §1 allow for a stage change request.

    ``{ACCEPTED}`` when every rule passes; otherwise the set of the errors of every rule that
    refuses (any of them is an acceptable answer).
    """
    here, there = MODEL_STAGE_ORDER.index(str(from_stage)), MODEL_STAGE_ORDER.index(str(to_stage))
    if here == there:
        return frozenset({Outcome.INVALID_TRANSITION})
    failures: set[Outcome] = set()
    reasoned = _has_text(reason)
    if str(from_stage) == "post_sale":  # re-open: admin only, with a reason
        if str(role) != "admin":
            failures.add(Outcome.PERMISSION_DENIED)
        if not reasoned:
            failures.add(Outcome.INVALID_TRANSITION)
    if str(to_stage) == "post_sale" and str(from_stage) != "closing":
        failures.add(Outcome.INVALID_TRANSITION)
    if (there < here or there - here > 1) and not reasoned:
        failures.add(Outcome.INVALID_TRANSITION)
    if not model_guards_hold(to_stage, facts):
        failures.add(Outcome.INVALID_TRANSITION)
    return frozenset(failures) if failures else frozenset({Outcome.ACCEPTED})


# --- plain model of rules §2 ---------------------------------------------------------------

MODEL_ACTION_MOVES: Final[Mapping[str, frozenset[str]]] = {
    "pending": frozenset({"in_progress", "completed", "dismissed", "snoozed"}),
    "in_progress": frozenset({"pending", "completed", "dismissed", "snoozed"}),
    "snoozed": frozenset({"pending", "in_progress", "completed", "dismissed", "snoozed"}),
    "completed": frozenset(),
    "dismissed": frozenset(),
}
"""The action status matrix of rules §2 as wire strings: ``to in MODEL_ACTION_MOVES[from]``."""

_COMMAND_TARGETS: Final[Mapping[str, str]] = {
    "start": "in_progress",
    "reopen": "pending",
    "complete": "completed",
    "dismiss": "dismissed",
    "snooze": "snoozed",
}

MODEL_MAX_SNOOZE: Final = timedelta(days=365)
"""Snoozes end at most this far ahead; the machine never draws dates near this boundary."""


def model_effective_status(
    status: ActionStatus | str, snoozed_until: datetime | None, now: datetime
) -> str:
    """The status reported at ``now``: a snooze that has ended (``until <= now``) is pending."""
    if str(status) == "snoozed" and snoozed_until is not None and snoozed_until <= now:
        return "pending"
    return str(status)


def model_action_command(
    command: str,
    effective: ActionStatus | str,
    *,
    now: datetime,
    reason: str | None = None,
    until: datetime | None = None,
) -> frozenset[Outcome]:
    """The outcomes rules §2 allow for ``command`` (start, reopen, complete, dismiss, snooze) on
    an action whose effective status is ``effective``."""
    failures: set[Outcome] = set()
    if _COMMAND_TARGETS[command] not in MODEL_ACTION_MOVES[str(effective)]:
        failures.add(Outcome.INVALID_TRANSITION)
    if command == "dismiss" and not _has_text(reason):
        failures.add(Outcome.VALIDATION_FAILED)
    if command == "snooze" and (until is None or not now < until <= now + MODEL_MAX_SNOOZE):
        failures.add(Outcome.VALIDATION_FAILED)
    return frozenset(failures) if failures else frozenset({Outcome.ACCEPTED})

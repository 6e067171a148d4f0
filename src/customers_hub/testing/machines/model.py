"""Plain models of rules §1 and §2 that the machines check the domain against."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Final

from attrs import frozen

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import ActionStatus, PropertyInterestStatus, Purpose, Role, Stage
from customers_hub.domain.errors import (
    InvalidActionTransition,
    InvalidStageTransition,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.model import Customer, FalLicence


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
    compliance: ComplianceModelFacts | None = None,
) -> frozenset[Outcome]:
    """The outcomes rules §1 (and, given ``compliance``, §7 on forward moves) allow for a stage
    change request.

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
    if there > here and not model_compliance_holds(to_stage, compliance):
        failures.add(Outcome.INVALID_TRANSITION)
    return frozenset(failures) if failures else frozenset({Outcome.ACCEPTED})


# --- plain model of rules §7 ---------------------------------------------------------------

_HALALA: Final = Decimal("0.01")

# Entering a stage at or after the value, on a forward move, needs the fact.
_MODEL_COMPLIANCE_FROM: Final[Mapping[str, str]] = {
    "fal_ok": "negotiation",
    "wafi_ok": "down_payment",
    "ejar_ok": "closing",
    "down_payment_ok": "closing",
}

_MODEL_DOWN_PAYMENT: Final[Mapping[tuple[bool, bool], Decimal]] = {
    # (a citizen's first home, REDF support) -> SAMA minimum share of the deal value
    (True, True): Decimal("0.05"),
    (True, False): Decimal("0.10"),
    (False, True): Decimal("0.30"),
    (False, False): Decimal("0.30"),
}


@frozen
class ComplianceModelFacts:
    """Whether each §7 rule is met (or does not apply), computed here independently."""

    fal_ok: bool = True
    wafi_ok: bool = True
    ejar_ok: bool = True
    down_payment_ok: bool = True

    @classmethod
    def of(
        cls,
        customer: Customer,
        *,
        today: date,
        require_fal_licence: bool,
        licence: FalLicence | None,
        assigned: bool,
        off_plan: bool,
    ) -> ComplianceModelFacts:
        """The §7 facts of ``customer`` given what lies outside it."""
        records = customer.ksa_compliance or KsaCompliance()
        licensed = (
            assigned
            and licence is not None
            and licence.number.strip() != ""
            and licence.expires_on >= today
        )
        ejar = records.ejar
        ejar_ok = ejar is not None and (
            all(t.strip() for t in (ejar.contract_number, ejar.landlord_name, ejar.tenant_name))
            and ejar.start_date < ejar.end_date
            and ejar.end_date <= _plus_years(ejar.start_date, 30)
            and ejar.annual_rent > 0
        )
        financing = records.financing
        down_payment_ok = True
        if financing is not None:
            share = _MODEL_DOWN_PAYMENT[
                (financing.is_citizen and financing.first_home, financing.redf_supported)
            ]
            deal = customer.total_deal_value
            required = None if deal is None else (deal * share).quantize(_HALALA, ROUND_HALF_UP)
            down_payment_ok = required is not None and (customer.paid_amount or 0) >= required
        return cls(
            fal_ok=licensed or not require_fal_licence,
            wafi_ok=not off_plan or bool(records.wafi and records.wafi.licence_number.strip()),
            ejar_ok=ejar_ok or customer.preferences.purpose != Purpose.RENT,
            down_payment_ok=down_payment_ok,
        )


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def model_compliance_holds(stage: Stage | str, facts: ComplianceModelFacts | None) -> bool:
    """Whether a forward move into ``stage`` passes §7 (always without facts)."""
    if facts is None:
        return True
    position = MODEL_STAGE_ORDER.index(str(stage))
    return all(
        getattr(facts, fact) or position < MODEL_STAGE_ORDER.index(from_stage)
        for fact, from_stage in _MODEL_COMPLIANCE_FROM.items()
    )


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

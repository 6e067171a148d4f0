"""The lifecycle machine: one customer moved through the stages by random requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Final

import attrs
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from hypothesis.strategies import SearchStrategy

from customers_hub.domain import lifecycle
from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    WafiLicence,
)
from customers_hub.domain.compliance_rules import ComplianceFacts
from customers_hub.domain.enums import (
    PaymentFrequency,
    PropertyInterestStatus,
    Purpose,
    Role,
    Stage,
)
from customers_hub.domain.errors import (
    InvalidStageTransition,
    PermissionDenied,
)
from customers_hub.domain.events import (
    CustomerStageChanged,
    DomainEvent,
)
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    Actor,
    Customer,
    FalLicence,
    StageChange,
)
from customers_hub.testing.machines.model import (
    ComplianceModelFacts,
    GuardFacts,
    Outcome,
    _outcome_of,
    _same_text,
    model_guards_hold,
    model_stage_change,
)
from customers_hub.testing.strategies import (
    actors,
    customers,
    property_interests,
    reasons,
    sar_amounts,
)

# --- the lifecycle machine -----------------------------------------------------------------

_NOTES: Final = st.none() | st.sampled_from(("", "  ", "اتصال متابعة", " notes with spaces "))
_AMOUNTS: Final = sar_amounts(min_value=Decimal("1000"))
# Mostly real amounts, so guards pass often enough for runs to go deep; sometimes none or zero.
_MONEY: Final = st.one_of(_AMOUNTS, _AMOUNTS, st.none(), st.just(Decimal(0)))


@attrs.frozen
class OutsideFacts:
    """What §7 reads outside the customer, as the machine sets it: the organization's setting,
    the assigned broker's FAL licence (expiry as days from the machine's day) and whether the
    deal's property is off-plan."""

    require_fal_licence: bool = False
    assigned: bool = True
    licence_days: int | None = None
    off_plan: bool = False

    def licence(self, today: date) -> FalLicence | None:
        """The broker's licence seen from ``today``."""
        if self.licence_days is None:
            return None
        return FalLicence("1100012345", today + timedelta(days=self.licence_days))


_OUTSIDE: Final = st.builds(
    OutsideFacts,
    require_fal_licence=st.booleans(),
    assigned=st.booleans(),
    licence_days=st.none() | st.integers(-30, 400),
    off_plan=st.booleans(),
)
_TEXT: Final = st.sampled_from(("", " ", "EJ-1", "عبدالله"))


@st.composite
def _ejar_contracts(draw: st.DrawFn) -> EjarContract:
    start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 1, 1)))
    return EjarContract(
        contract_number=draw(_TEXT),
        landlord_name=draw(_TEXT),
        tenant_name=draw(_TEXT),
        start_date=start,
        end_date=start + timedelta(days=draw(st.sampled_from((0, 1, 365, 10957, 10958)))),
        annual_rent=draw(st.sampled_from((Decimal(0), Decimal("60000")))),
        payment_frequency=draw(st.sampled_from(PaymentFrequency)),
    )


_RECORDS: Final = st.builds(
    KsaCompliance,
    ejar=st.none() | _ejar_contracts(),
    wafi=st.none() | st.builds(WafiLicence, licence_number=_TEXT, project_name=st.just("مشروع")),
    financing=st.none()
    | st.builds(
        Financing,
        redf_supported=st.booleans(),
        first_home=st.booleans(),
        is_citizen=st.booleans(),
    ),
)


class LifecycleMachine(RuleBasedStateMachine):
    """One customer moved through the lifecycle by random requests, checked against
    :func:`model_stage_change`.

    Rules: request a stage change (to any stage, or to the next one, with or without reason and
    notes, as a drawn role); add a property interest; reject one; set the deal value; set the
    paid amount.

    Invariants: the history grows by exactly one entry per accepted change (its length is
    ``1 + accepted changes`` for a fresh customer) and never changes
    otherwise (append-only); its last ``to_stage`` is the stage; entries chain
    (``from_stage`` = previous ``to_stage``) from the system ``new_lead`` entry; every entered
    stage's guards held at the moment of entering; ``post_sale`` is only entered from
    ``closing``.

    Hooks to override (see the module docstring): :meth:`initial_customers`,
    :meth:`on_start`, :meth:`perform_stage_change`, :meth:`perform_edit`,
    :meth:`observe_customer`.
    """

    customer: Customer
    """The customer as the machine last received it from a hook."""
    now: datetime
    """The machine's clock; it moves forward before every operation."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_changes = 0
        self._entry_numbers = 0
        self._property_numbers = 0
        self._initial_history_length = 0
        self._history_seen: tuple[StageChange, ...] = ()
        # (entry, facts of the customer when the entry was made) for every accepted change.
        self._entered: list[tuple[StageChange, GuardFacts]] = []
        self.outside = OutsideFacts()
        """§7's facts outside the customer (rule :meth:`set_outside_facts` changes them)."""

    # --- hooks -------------------------------------------------------------------------------

    def initial_customers(self) -> SearchStrategy[Customer]:
        """Where a run starts; default: half the time a fresh customer at ``new_lead`` (history
        of one), otherwise a customer at any stage (with a history of its own)."""
        return customers(stage=Stage.NEW_LEAD) | customers()

    def on_start(self, customer: Customer) -> None:
        """Called once with the initial customer (store it in your system here)."""

    def perform_stage_change(
        self,
        customer: Customer,
        request: StageChangeRequest,
        *,
        actor: Actor,
        entry_id: str,
        now: datetime,
    ) -> tuple[Customer, Sequence[DomainEvent]]:
        """Apply ``request``; raise the domain's refusal or return ``(customer, events)``.

        The default applies §7 with :meth:`compliance_facts` (what :attr:`outside` says)."""
        return lifecycle.change_stage(
            customer,
            request,
            actor=actor,
            entry_id=entry_id,
            now=now,
            facts=self.compliance_facts(now),
        )

    def compliance_facts(self, now: datetime) -> ComplianceFacts:
        """The domain's view of :attr:`outside` at ``now`` (its UTC day is "today")."""
        today = now.date()
        return ComplianceFacts(
            today=today,
            require_fal_licence=self.outside.require_fal_licence,
            assigned=self.outside.assigned,
            broker_licence=self.outside.licence(today),
            deal_property_off_plan=self.outside.off_plan,
        )

    def perform_edit(self, before: Customer, after: Customer) -> Customer:
        """Store a change of the customer's data (interests, deal value, paid amount); return
        the customer as stored. Default: ``after`` as is."""
        return after

    def observe_customer(self) -> Customer:
        """The customer as the system under test holds it now; the invariants check this."""
        return self.customer

    # --- helpers -----------------------------------------------------------------------------

    def _tick(self, minutes: int = 5) -> datetime:
        self.now = self.now + timedelta(minutes=minutes)
        return self.now

    def _edit(self, after: Customer) -> None:
        # ``after`` is the current customer with some data changed.
        before = self.customer
        self.customer = self.perform_edit(before, attrs.evolve(after, updated_at=self._tick()))

    # --- rules -------------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_with_customer(self, data: st.DataObject) -> None:
        """Draw the initial customer."""
        customer = data.draw(self.initial_customers(), label="initial customer")
        self.customer = customer
        self.now = customer.updated_at
        self._initial_history_length = len(customer.stage_history)
        self._history_seen = customer.stage_history
        self.on_start(customer)

    @rule(
        data=st.data(),
        to_stage=st.sampled_from(Stage),
        reason=reasons(),
        notes=_NOTES,
        role=st.sampled_from(Role),
    )
    def request_stage_change(
        self,
        data: st.DataObject,
        to_stage: Stage,
        reason: str | None,
        notes: str | None,
        role: Role,
    ) -> None:
        """Ask for a move to any stage; the model predicts acceptance or the refusal."""
        before = self.customer
        actor = data.draw(actors(organization_id=before.organization_id, role=role), label="actor")
        minutes = data.draw(st.integers(1, 60 * 24 * 3), label="minutes later")
        request = StageChangeRequest(to_stage=to_stage, notes=notes, reason=reason)
        facts = GuardFacts.of(before)
        self._entry_numbers += 1
        entry_id = f"stage_machine_{self._entry_numbers}"
        now = self._tick(minutes)
        compliance = ComplianceModelFacts.of(
            before,
            today=now.date(),
            require_fal_licence=self.outside.require_fal_licence,
            licence=self.outside.licence(now.date()),
            assigned=self.outside.assigned,
            off_plan=self.outside.off_plan,
        )
        expected = model_stage_change(
            before.stage, to_stage, reason=reason, role=role, facts=facts, compliance=compliance
        )
        try:
            after, events = self.perform_stage_change(
                before, request, actor=actor, entry_id=entry_id, now=now
            )
        except (InvalidStageTransition, PermissionDenied) as refusal:
            outcome = _outcome_of(refusal)
            assert outcome in expected, (
                f"{before.stage} → {to_stage} (reason={reason!r}, role={role}, {facts}, "
                f"{compliance}) refused with {outcome}, model expects {set(expected)}"
            )
            assert self.observe_customer() == before, "a refused change changed the customer"
            event(f"stage change refused: {outcome.value}")
            return
        assert Outcome.ACCEPTED in expected, (
            f"{before.stage} → {to_stage} (reason={reason!r}, role={role}, {facts}, "
            f"{compliance}) accepted, model expects {set(expected)}"
        )
        self._check_accepted(before, after, events, request, actor, now)
        self.customer = after
        self.accepted_changes += 1
        event(f"stage change accepted into {after.stage.value}")
        self._entered.append((after.stage_history[-1], GuardFacts.of(after)))

    @precondition(lambda self: self.customer.stage is not Stage.POST_SALE)
    @rule(data=st.data(), reason=reasons(), notes=_NOTES, role=st.sampled_from(Role))
    def request_next_stage(
        self, data: st.DataObject, reason: str | None, notes: str | None, role: Role
    ) -> None:
        """Ask for the next stage, so runs get deep into the lifecycle (guards decide)."""
        following = list(Stage)[list(Stage).index(self.customer.stage) + 1]
        self.request_stage_change(data, following, reason=reason, notes=notes, role=role)

    def _check_accepted(
        self,
        before: Customer,
        after: Customer,
        events: Sequence[DomainEvent],
        request: StageChangeRequest,
        actor: Actor,
        now: datetime,
    ) -> None:
        entry = after.stage_history[-1]
        assert after.stage is request.to_stage
        assert after.updated_at == now
        assert (entry.from_stage, entry.to_stage) == (before.stage, request.to_stage)
        assert entry.changed_by_id == actor.user_id
        assert entry.changed_at == now
        assert not entry.auto_generated
        assert _same_text(entry.reason, request.reason), (entry.reason, request.reason)
        assert _same_text(entry.notes, request.notes), (entry.notes, request.notes)
        # A stage change moves the stage only: the guarded data stay as they were.
        assert GuardFacts.of(after) == GuardFacts.of(before)
        moved = [e for e in events if isinstance(e, CustomerStageChanged)]
        assert len(moved) == 1, events
        assert (moved[0].customer_id, moved[0].from_stage, moved[0].to_stage) == (
            before.id,
            before.stage,
            request.to_stage,
        )
        assert moved[0].organization_id == before.organization_id

    @rule(data=st.data(), status=st.sampled_from(PropertyInterestStatus))
    def add_property_interest(self, data: st.DataObject, status: PropertyInterestStatus) -> None:
        """Add an interest in a new property (any status, rejected included)."""
        self._property_numbers += 1
        interest = data.draw(
            property_interests(
                status=status,
                property_id=f"prop_machine_{self._property_numbers}",
                added_at=self.now,
            ),
            label="interest",
        )
        self._edit(
            attrs.evolve(
                self.customer, property_interests=(*self.customer.property_interests, interest)
            )
        )

    @precondition(lambda self: GuardFacts.of(self.customer).live_interest)
    @rule(pick=st.integers(0, 20))
    def reject_property_interest(self, pick: int) -> None:
        """Mark one non-rejected interest as rejected."""
        interests = list(self.customer.property_interests)
        live = [n for n, i in enumerate(interests) if i.status != PropertyInterestStatus.REJECTED]
        chosen = live[pick % len(live)]
        interests[chosen] = attrs.evolve(interests[chosen], status=PropertyInterestStatus.REJECTED)
        self._edit(attrs.evolve(self.customer, property_interests=tuple(interests)))

    @rule(value=_MONEY)
    def set_deal_value(self, value: Decimal | None) -> None:
        """Set (or clear) ``total_deal_value``."""
        self._edit(attrs.evolve(self.customer, total_deal_value=value))

    @rule(value=_MONEY)
    def set_paid_amount(self, value: Decimal | None) -> None:
        """Set (or clear) ``paid_amount``."""
        self._edit(attrs.evolve(self.customer, paid_amount=value))

    @rule(outside=_OUTSIDE)
    def set_outside_facts(self, outside: OutsideFacts) -> None:
        """Change what §7 reads outside the customer (setting, broker licence, off-plan)."""
        self.outside = outside

    @rule(purpose=st.sampled_from(Purpose))
    def set_purpose(self, purpose: Purpose) -> None:
        """Buy or rent (a rental needs its EJAR contract to close)."""
        preferences = self.customer.preferences
        self._edit(
            attrs.evolve(self.customer, preferences=attrs.evolve(preferences, purpose=purpose))
        )

    @rule(records=_RECORDS)
    def set_compliance_records(self, records: KsaCompliance) -> None:
        """Replace the customer's KSA records (EJAR, Wafi, financing), complete or not."""
        self._edit(attrs.evolve(self.customer, ksa_compliance=records))

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def history_grows_by_one_per_accepted_change(self) -> None:
        """``len(history) == initial length + accepted changes`` (1 + accepted by default)."""
        history = self.observe_customer().stage_history
        assert len(history) == self._initial_history_length + self.accepted_changes

    @invariant()
    def last_entry_is_the_stage(self) -> None:
        """The last history entry's ``to_stage`` is the current stage."""
        customer = self.observe_customer()
        assert customer.stage_history[-1].to_stage is customer.stage

    @invariant()
    def history_chains_from_the_system_entry(self) -> None:
        """The first entry is ``None → new_lead`` by the system; each next entry starts where
        the previous one ended."""
        history = self.observe_customer().stage_history
        first = history[0]
        assert (first.from_stage, first.to_stage) == (None, Stage.NEW_LEAD)
        assert first.auto_generated
        assert first.changed_by_id == SYSTEM_ACTOR_ID
        for previous, entry in pairwise(history):
            assert entry.from_stage is previous.to_stage, (previous, entry)

    @invariant()
    def history_is_append_only(self) -> None:
        """Entries once seen never change or disappear."""
        history = self.observe_customer().stage_history
        assert history[: len(self._history_seen)] == self._history_seen
        self._history_seen = history

    @invariant()
    def entered_stages_met_their_guards(self) -> None:
        """Every stage entered by this run had its guards met at the moment of entering."""
        for entry, facts in self._entered:
            assert model_guards_hold(entry.to_stage, facts), (entry, facts)

    @invariant()
    def post_sale_entered_only_from_closing(self) -> None:
        """Every move into ``post_sale`` came from ``closing``."""
        for entry in self.observe_customer().stage_history:
            if entry.to_stage is Stage.POST_SALE:
                assert entry.from_stage is Stage.CLOSING, entry

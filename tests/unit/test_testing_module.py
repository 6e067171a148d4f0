"""The public testing module keeps its promises: its strategies draw valid values and its
machines run green against the domain."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import ClassVar

import phonenumbers
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from customers_hub.domain import lifecycle
from customers_hub.domain.enums import ActionStatus, PropertyInterestStatus, Role, Stage
from customers_hub.domain.errors import InvalidStageTransition
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee, Preferences
from customers_hub.testing import (
    DATETIME_MAX,
    DATETIME_MIN,
    ROLE_PERMISSIONS,
    ActionMachine,
    GuardFacts,
    LifecycleMachine,
    Outcome,
    Team,
    actions,
    actor_for,
    actors,
    arabic_names,
    aware_datetimes,
    cities,
    customers,
    employees,
    english_names,
    guard_level,
    model_action_command,
    model_guards_hold,
    model_stage_change,
    national_id_check_digit_ok,
    national_ids,
    preferences,
    sar_amounts,
    saudi_mobiles,
    stage_change_requests,
    teams,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the machines ------------------------------------------------------------------------

MACHINE_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = MACHINE_SETTINGS

TestActions = ActionMachine.TestCase
TestActions.settings = MACHINE_SETTINGS


class _CountingLifecycle(LifecycleMachine):
    """A subclass as another team writes one: it records what reached its 'system'."""

    seen_requests: ClassVar[list[Stage]] = []

    def perform_stage_change(
        self,
        customer: Customer,
        request: lifecycle.StageChangeRequest,
        *,
        actor: Actor,
        entry_id: str,
        now: datetime,
    ) -> tuple[Customer, Sequence[DomainEvent]]:
        type(self).seen_requests.append(request.to_stage)
        return super().perform_stage_change(
            customer, request, actor=actor, entry_id=entry_id, now=now
        )


def test_a_subclass_hook_sees_every_stage_change_request() -> None:
    _CountingLifecycle.seen_requests.clear()
    case = _CountingLifecycle.TestCase
    case.settings = settings(MACHINE_SETTINGS, max_examples=5)
    case().runTest()
    assert _CountingLifecycle.seen_requests


class _BrokenLifecycle(LifecycleMachine):
    """A system that never lets a customer go back, even with a reason: the machine must
    catch it."""

    def perform_stage_change(
        self,
        customer: Customer,
        request: lifecycle.StageChangeRequest,
        *,
        actor: Actor,
        entry_id: str,
        now: datetime,
    ) -> tuple[Customer, Sequence[DomainEvent]]:
        if request.to_stage.rank < customer.stage.rank:
            raise InvalidStageTransition("no going back")
        return super().perform_stage_change(
            customer, request, actor=actor, entry_id=entry_id, now=now
        )


def test_the_lifecycle_machine_catches_a_system_that_breaks_the_rules() -> None:
    case = _BrokenLifecycle.TestCase
    # No shrinking, no example database: only "is it caught" matters here.
    case.settings = settings(
        MACHINE_SETTINGS, max_examples=200, database=None, phases=[Phase.generate]
    )
    with pytest.raises(AssertionError, match="model expects"):
        case().runTest()


class _NoComplianceLifecycle(LifecycleMachine):
    """A system that applies §1 but forgets the Saudi compliance rules of §7."""

    def perform_stage_change(
        self,
        customer: Customer,
        request: lifecycle.StageChangeRequest,
        *,
        actor: Actor,
        entry_id: str,
        now: datetime,
    ) -> tuple[Customer, Sequence[DomainEvent]]:
        return lifecycle.change_stage(customer, request, actor=actor, entry_id=entry_id, now=now)


def test_the_lifecycle_machine_catches_a_system_that_skips_compliance_rules() -> None:
    case = _NoComplianceLifecycle.TestCase
    case.settings = settings(
        MACHINE_SETTINGS, max_examples=300, database=None, phases=[Phase.generate]
    )
    with pytest.raises(AssertionError, match="model expects"):
        case().runTest()


class _OffByOneInbox(ActionMachine):
    """A system that still reports ``snoozed`` at the exact end of the snooze."""

    def observe_effective_status(self, action: CustomerAction, now: datetime) -> ActionStatus:
        if action.status is ActionStatus.SNOOZED and action.snoozed_until == now:
            return ActionStatus.SNOOZED
        return super().observe_effective_status(action, now)


def test_the_action_machine_catches_an_off_by_one_snooze_end() -> None:
    case = _OffByOneInbox.TestCase
    case.settings = settings(
        MACHINE_SETTINGS, max_examples=200, database=None, phases=[Phase.generate]
    )
    with pytest.raises(AssertionError):
        case().runTest()


# --- the plain models ----------------------------------------------------------------------

NO_DATA = GuardFacts(live_interest=False, deal_value=False, payment=False)
ALL_DATA = GuardFacts(live_interest=True, deal_value=True, payment=True)


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "reason", "role", "facts", "expected"),
    [
        ("new_lead", "new_lead", "r", "admin", ALL_DATA, {Outcome.INVALID_TRANSITION}),
        ("new_lead", "qualified", None, "viewer", NO_DATA, {Outcome.ACCEPTED}),
        ("new_lead", "property_matching", " ", "admin", NO_DATA, {Outcome.INVALID_TRANSITION}),
        ("new_lead", "property_matching", "why", "sales_agent", NO_DATA, {Outcome.ACCEPTED}),
        ("negotiation", "qualified", None, "admin", ALL_DATA, {Outcome.INVALID_TRANSITION}),
        ("negotiation", "qualified", "why", "sales_agent", NO_DATA, {Outcome.ACCEPTED}),
        ("property_matching", "site_visit", None, "admin", NO_DATA, {Outcome.INVALID_TRANSITION}),
        ("down_payment", "post_sale", "why", "admin", ALL_DATA, {Outcome.INVALID_TRANSITION}),
        ("closing", "post_sale", None, "sales_agent", ALL_DATA, {Outcome.ACCEPTED}),
        ("post_sale", "closing", "why", "sales_agent", ALL_DATA, {Outcome.PERMISSION_DENIED}),
        ("post_sale", "closing", "why", "admin", ALL_DATA, {Outcome.ACCEPTED}),
        ("post_sale", "closing", None, "admin", ALL_DATA, {Outcome.INVALID_TRANSITION}),
        (
            "post_sale",
            "closing",
            None,
            "sales_manager",
            ALL_DATA,
            {Outcome.INVALID_TRANSITION, Outcome.PERMISSION_DENIED},
        ),
    ],
)
def test_the_lifecycle_model_restates_rules_1(
    from_stage: str,
    to_stage: str,
    reason: str | None,
    role: str,
    facts: GuardFacts,
    expected: set[Outcome],
) -> None:
    assert model_stage_change(from_stage, to_stage, reason=reason, role=role, facts=facts) == (
        expected
    )


def test_guards_are_cumulative_in_the_model() -> None:
    interest_only = GuardFacts(live_interest=True, deal_value=False, payment=False)
    assert model_guards_hold(Stage.NEGOTIATION, interest_only)
    assert not model_guards_hold(Stage.CONTRACT_PREP, interest_only)
    assert not model_guards_hold(Stage.POST_SALE, GuardFacts(False, True, True))
    assert model_guards_hold(Stage.PROPERTY_MATCHING, NO_DATA)


def test_the_action_model_restates_rules_2() -> None:
    now = DATETIME_MIN
    assert model_action_command("start", "pending", now=now) == {Outcome.ACCEPTED}
    assert model_action_command("start", "in_progress", now=now) == {Outcome.INVALID_TRANSITION}
    assert model_action_command("reopen", "pending", now=now) == {Outcome.INVALID_TRANSITION}
    assert model_action_command("complete", "completed", now=now) == {Outcome.INVALID_TRANSITION}
    assert model_action_command("dismiss", "pending", now=now, reason=" ") == {
        Outcome.VALIDATION_FAILED
    }
    assert model_action_command("dismiss", "dismissed", now=now, reason=None) == {
        Outcome.VALIDATION_FAILED,
        Outcome.INVALID_TRANSITION,
    }
    assert model_action_command("snooze", "snoozed", now=now, until=now + timedelta(days=1)) == {
        Outcome.ACCEPTED
    }
    assert model_action_command("snooze", "pending", now=now, until=now) == {
        Outcome.VALIDATION_FAILED
    }


# --- the strategies ------------------------------------------------------------------------


def _check_history(customer: Customer) -> None:
    history = customer.stage_history
    first = history[0]
    assert (first.from_stage, first.to_stage, first.auto_generated) == (None, Stage.NEW_LEAD, True)
    assert (first.changed_by, first.changed_by_id) == ("System", "system")
    assert first.changed_at == customer.created_at
    assert history[-1].to_stage is customer.stage
    assert len({entry.id for entry in history}) == len(history)
    for previous, entry in pairwise(history):
        assert entry.from_stage is previous.to_stage
        assert entry.changed_at > previous.changed_at
        assert not entry.auto_generated
        if entry.to_stage is Stage.POST_SALE:
            assert entry.from_stage is Stage.CLOSING
        assert entry.from_stage is not None
        skips = entry.to_stage.rank - entry.from_stage.rank
        if skips < 0 or skips > 1:
            assert entry.reason
            assert entry.reason.strip()
    assert customer.created_at <= history[-1].changed_at <= customer.updated_at


def _check_aware(*moments: datetime | None) -> None:
    for moment in moments:
        if moment is not None:
            assert moment.tzinfo is UTC, moment
            assert DATETIME_MIN <= moment <= DATETIME_MAX


def _has_two_places_at_most(amount: Decimal | None) -> bool:
    return amount is None or amount == amount.quantize(Decimal("0.01"))


@FAST
@given(customers())
def test_customers_have_a_consistent_history_and_meet_their_stage_guards(
    customer: Customer,
) -> None:
    _check_history(customer)
    facts = GuardFacts.of(customer)
    assert model_guards_hold(customer.stage, facts)
    assert lifecycle.can_enter(customer, customer.stage)
    _check_aware(customer.created_at, customer.updated_at, customer.last_contact_at)
    _check_aware(*(e.changed_at for e in customer.stage_history))
    _check_aware(*(i.added_at for i in customer.property_interests))
    for amount in (customer.total_deal_value, customer.paid_amount, customer.expected_revenue):
        assert _has_two_places_at_most(amount)
    if customer.paid_amount is not None and customer.total_deal_value is not None:
        assert customer.paid_amount <= customer.total_deal_value
    properties = [i.property_id for i in customer.property_interests]
    assert len(set(properties)) == len(properties)
    assert re.fullmatch(r"\+9665\d{8}", customer.phone)
    assert customer.national_id is None or national_id_check_digit_ok(customer.national_id)
    assert customer.positive_inbound_interactions <= customer.total_interactions
    assert customer.deleted_at is None


@FAST
@given(customers(stage=st.sampled_from([Stage.CLOSING, Stage.POST_SALE])))
def test_late_stage_customers_have_interest_deal_value_and_payment(customer: Customer) -> None:
    assert GuardFacts.of(customer) == GuardFacts(True, True, True)


@FAST
@given(customers(satisfy_guards=False, stage=Stage.CLOSING))
def test_customers_without_guards_still_have_a_consistent_history(customer: Customer) -> None:
    _check_history(customer)


def test_customers_without_guards_sometimes_fail_them() -> None:
    failing: list[Customer] = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(customers(satisfy_guards=False, stage=Stage.CLOSING))
    def collect(customer: Customer) -> None:
        if not model_guards_hold(customer.stage, GuardFacts.of(customer)):
            failing.append(customer)

    collect()
    assert failing


@FAST
@given(
    customers(
        organization_id="org_1",
        stage=Stage.SITE_VISIT,
        assigned_employee_id=None,
        deleted=True,
    )
)
def test_customer_options_are_honoured(customer: Customer) -> None:
    assert customer.organization_id == "org_1"
    assert customer.stage is Stage.SITE_VISIT
    assert customer.assigned_employee_id is None
    assert customer.deleted_at == customer.updated_at
    assert any(i.status is not PropertyInterestStatus.REJECTED for i in customer.property_interests)


@FAST
@given(national_ids())
def test_national_ids_pass_the_check_digit(national_id: str) -> None:
    assert re.fullmatch(r"[12]\d{9}", national_id)
    assert national_id_check_digit_ok(national_id)


@FAST
@given(national_ids(kind="citizen"), national_ids(kind="resident"))
def test_national_id_kinds(citizen: str, resident: str) -> None:
    assert citizen.startswith("1")
    assert resident.startswith("2")


@pytest.mark.parametrize(
    ("national_id", "valid"),
    [
        ("1000000008", True),
        ("1000000009", False),
        ("3000000008", False),
        ("100000000", False),
        ("١٠٠٠٠٠٠٠٠٨", False),
    ],
)
def test_the_check_digit_rule(national_id: str, valid: bool) -> None:
    assert national_id_check_digit_ok(national_id) is valid


@FAST
@given(saudi_mobiles())
def test_saudi_mobiles_are_e164_and_valid(phone: str) -> None:
    assert re.fullmatch(r"\+9665\d{8}", phone)
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone))


@FAST
@given(arabic_names(), english_names(), cities())
def test_names_and_cities(arabic: str, english: str, city: str) -> None:
    assert re.search("[\u0621-\u064a]", arabic)
    assert english.isascii()
    assert len(english.split()) >= 2
    assert city in {"الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة", "الخبر"}


@FAST
@given(preferences(), sar_amounts())
def test_preferences_budgets_are_ordered_and_money_has_two_places(
    chosen: Preferences, amount: Decimal
) -> None:
    if chosen.budget_min is not None:
        assert chosen.budget_min > 0
        assert _has_two_places_at_most(chosen.budget_min)
    if chosen.budget_min is not None and chosen.budget_max is not None:
        assert chosen.budget_max >= chosen.budget_min
    assert amount > 0
    assert _has_two_places_at_most(amount)


@FAST
@given(aware_datetimes())
def test_datetimes_are_aware_utc_in_range(moment: datetime) -> None:
    _check_aware(moment)


@FAST
@given(actions())
def test_actions_fields_agree_with_their_status(action: CustomerAction) -> None:
    _check_aware(
        action.created_at,
        action.updated_at,
        action.due_date,
        action.snoozed_until,
        action.completed_at,
        *(n.created_at for n in action.notes),
    )
    assert action.created_at <= action.updated_at
    done = action.status is ActionStatus.COMPLETED
    assert (action.completed_at is not None) is done
    assert (action.completed_by is not None) is done
    dismissed = action.status is ActionStatus.DISMISSED
    assert bool(action.dismiss_reason and action.dismiss_reason.strip()) is dismissed
    snoozed = action.status is ActionStatus.SNOOZED
    assert (action.snoozed_until is not None) is snoozed
    if action.snoozed_until is not None:
        assert action.updated_at < action.snoozed_until <= action.updated_at + timedelta(365)
    for note in action.notes:
        assert note.action_id == action.id
        assert action.created_at <= note.created_at <= action.updated_at
    assert len({n.id for n in action.notes}) == len(action.notes)


@FAST
@given(customers().flatmap(lambda c: st.tuples(st.just(c), actions(customer=c))))
def test_actions_of_a_customer_take_its_ids(pair: tuple[Customer, CustomerAction]) -> None:
    customer, action = pair
    assert action.organization_id == customer.organization_id
    assert action.customer_id == customer.id
    assert action.customer_name == customer.name
    assert action.assigned_to == customer.assigned_employee_id
    assert action.created_at >= customer.created_at


@FAST
@given(stage_change_requests(to_stage=Stage.QUALIFIED))
def test_stage_change_requests(change: lifecycle.StageChangeRequest) -> None:
    assert change.to_stage is Stage.QUALIFIED


@FAST
@given(actors(organization_id="org_1", role=Role.VIEWER), employees(role=Role.SALES_AGENT))
def test_actors_and_employees(actor: Actor, agent: Employee) -> None:
    assert actor.organization_id == "org_1"
    assert actor.permissions == ROLE_PERMISSIONS[Role.VIEWER]
    assert agent.role is Role.SALES_AGENT
    assert agent.is_active


@FAST
@given(teams())
def test_teams_report_to_their_manager(team: Team) -> None:
    assert team.manager.role is Role.SALES_MANAGER
    assert team.agents
    assert len(team.member_ids) == 1 + len(team.agents)
    for agent in team.agents:
        assert agent.manager_id == team.manager.id
        assert agent.organization_id == team.organization_id
    actor = actor_for(team.manager)
    assert (actor.user_id, actor.role) == (team.manager.id, Role.SALES_MANAGER)


def test_guard_level_follows_the_guard_table() -> None:
    assert [guard_level(s) for s in Stage] == [0, 0, 0, 1, 1, 2, 2, 3, 3]

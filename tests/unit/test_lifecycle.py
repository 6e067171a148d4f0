"""The lifecycle stage machine (rules §1): the rule table row by row, then properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from customers_hub.domain import lifecycle, scoring
from customers_hub.domain.enums import CustomerSource, PropertyInterestStatus, Role, Stage
from customers_hub.domain.errors import InvalidStageTransition, PermissionDenied
from customers_hub.domain.events import CustomerStageChanged
from customers_hub.domain.lifecycle import (
    REOPEN_PERMISSION,
    STAGE_GUARDS,
    StageChangeRequest,
    change_stage,
    check_stage_change,
    initial_stage_entry,
)
from customers_hub.domain.model import Actor, Customer, PropertyInterest, StageChange

NOW = datetime(2024, 1, 22, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=30)
S = Stage
IS = PropertyInterestStatus


# --- factories -----------------------------------------------------------------------------------


def interest(status: PropertyInterestStatus = IS.INTERESTED, n: int = 1) -> PropertyInterest:
    return PropertyInterest(
        id=f"pi_{n}", property_id=f"prop_{n}", status=status, added_at=CREATED + timedelta(days=1)
    )


def make_customer(
    stage: Stage = S.NEW_LEAD,
    *,
    interests: tuple[PropertyInterestStatus, ...] = (),
    deal: str | None = None,
    paid: str | None = None,
    assigned: str | None = "emp_001",
) -> Customer:
    return Customer(
        id="cust_001",
        organization_id="org_001",
        name="محمد الفهد",
        phone="+966512345678",
        source=CustomerSource.INQUIRY,
        stage=stage,
        created_at=CREATED,
        updated_at=CREATED,
        stage_history=(initial_stage_entry("sh_0", CREATED),),
        property_interests=tuple(interest(s, n) for n, s in enumerate(interests)),
        total_deal_value=None if deal is None else Decimal(deal),
        paid_amount=None if paid is None else Decimal(paid),
        assigned_employee_id=assigned,
        version=3,
    )


def make_actor(role: Role = Role.SALES_AGENT, name: str | None = "أحمد السعيد") -> Actor:
    return Actor(user_id="emp_001", organization_id="org_001", role=role, name=name)


# --- the rule table, one row per rule row of §1 --------------------------------------------------

OK = "accepted"
DENIED = "403"
FULL: dict[str, Any] = {"interests": (IS.INTERESTED,), "deal": "1500000", "paid": "150000"}
NONE: dict[str, Any] = {}
REASON = "طلب العميل"


def row(
    case: str,
    from_stage: Stage,
    to_stage: Stage,
    data: dict[str, Any],
    expected: str,
    *,
    reason: str | None = None,
    role: Role = Role.SALES_AGENT,
) -> Any:
    return pytest.param(from_stage, to_stage, data, reason, role, expected, id=case)


RULE_ROWS = [
    # same stage
    row("same-stage", S.QUALIFIED, S.QUALIFIED, FULL, "same_stage", reason=REASON),
    row(
        "same-stage-post-sale-admin", S.POST_SALE, S.POST_SALE, FULL, "same_stage", role=Role.ADMIN
    ),
    # forward by one
    row("forward-by-one", S.NEW_LEAD, S.QUALIFIED, NONE, OK),
    row("forward-by-one-no-guard-before-site-visit", S.QUALIFIED, S.PROPERTY_MATCHING, NONE, OK),
    # forward skip
    row("skip-with-reason", S.NEW_LEAD, S.PROPERTY_MATCHING, NONE, OK, reason=REASON),
    row(
        "skip-without-reason",
        S.NEW_LEAD,
        S.PROPERTY_MATCHING,
        NONE,
        "forward_skip_requires_reason",
    ),
    row(
        "skip-blank-reason",
        S.NEW_LEAD,
        S.PROPERTY_MATCHING,
        NONE,
        "forward_skip_requires_reason",
        reason=" \t ",
    ),
    row("skip-far-with-reason", S.QUALIFIED, S.CLOSING, FULL, OK, reason=REASON),
    # backward
    row("backward-with-reason", S.NEGOTIATION, S.QUALIFIED, FULL, OK, reason=REASON),
    row("backward-without-reason", S.NEGOTIATION, S.QUALIFIED, FULL, "backward_requires_reason"),
    row(
        "backward-by-one-without-reason", S.QUALIFIED, S.NEW_LEAD, NONE, "backward_requires_reason"
    ),
    row(
        "backward-blank-reason",
        S.NEGOTIATION,
        S.QUALIFIED,
        FULL,
        "backward_requires_reason",
        reason="   ",
    ),
    # into post_sale
    row("into-post-sale-from-closing", S.CLOSING, S.POST_SALE, FULL, OK),
    row(
        "into-post-sale-from-down-payment-with-reason",
        S.DOWN_PAYMENT,
        S.POST_SALE,
        FULL,
        "post_sale_only_from_closing",
        reason=REASON,
    ),
    row(
        "into-post-sale-from-new-lead-with-reason",
        S.NEW_LEAD,
        S.POST_SALE,
        FULL,
        "post_sale_only_from_closing",
        reason=REASON,
        role=Role.ADMIN,
    ),
    # out of post_sale
    row(
        "reopen-by-admin-with-reason",
        S.POST_SALE,
        S.NEGOTIATION,
        FULL,
        OK,
        reason=REASON,
        role=Role.ADMIN,
    ),
    row(
        "reopen-by-admin-to-closing",
        S.POST_SALE,
        S.CLOSING,
        FULL,
        OK,
        reason=REASON,
        role=Role.ADMIN,
    ),
    row(
        "reopen-by-admin-without-reason",
        S.POST_SALE,
        S.NEGOTIATION,
        FULL,
        "reopen_requires_reason",
        role=Role.ADMIN,
    ),
    row(
        "reopen-by-sales-manager",
        S.POST_SALE,
        S.NEGOTIATION,
        FULL,
        DENIED,
        reason=REASON,
        role=Role.SALES_MANAGER,
    ),
    row("reopen-by-sales-agent", S.POST_SALE, S.CLOSING, FULL, DENIED, reason=REASON),
    row(
        "reopen-by-viewer", S.POST_SALE, S.QUALIFIED, FULL, DENIED, reason=REASON, role=Role.VIEWER
    ),
    row("reopen-by-agent-without-reason-is-403-first", S.POST_SALE, S.CLOSING, FULL, DENIED),
    # guard: site_visit and later
    row(
        "site-visit-guard-passes",
        S.PROPERTY_MATCHING,
        S.SITE_VISIT,
        {"interests": (IS.VIEWED,)},
        OK,
    ),
    row(
        "site-visit-guard-no-interest",
        S.PROPERTY_MATCHING,
        S.SITE_VISIT,
        NONE,
        "active_property_interest_required",
    ),
    row(
        "site-visit-guard-only-rejected",
        S.PROPERTY_MATCHING,
        S.SITE_VISIT,
        {"interests": (IS.REJECTED, IS.REJECTED)},
        "active_property_interest_required",
    ),
    row(
        "site-visit-guard-one-not-rejected",
        S.PROPERTY_MATCHING,
        S.SITE_VISIT,
        {"interests": (IS.REJECTED, IS.SHORTLISTED)},
        OK,
    ),
    # guard: contract_prep and later
    row(
        "contract-prep-guard-passes",
        S.NEGOTIATION,
        S.CONTRACT_PREP,
        {"interests": (IS.OFFER_MADE,), "deal": "2000000"},
        OK,
    ),
    row(
        "contract-prep-guard-no-deal-value",
        S.NEGOTIATION,
        S.CONTRACT_PREP,
        {"interests": (IS.OFFER_MADE,)},
        "deal_value_required",
    ),
    row(
        "contract-prep-guard-zero-deal-value",
        S.NEGOTIATION,
        S.CONTRACT_PREP,
        {"interests": (IS.OFFER_MADE,), "deal": "0"},
        "deal_value_required",
    ),
    # guard: closing and later
    row("closing-guard-passes", S.DOWN_PAYMENT, S.CLOSING, FULL, OK),
    row(
        "closing-guard-no-payment",
        S.DOWN_PAYMENT,
        S.CLOSING,
        {"interests": (IS.OFFER_MADE,), "deal": "2000000"},
        "payment_required",
    ),
    row(
        "closing-guard-zero-payment",
        S.DOWN_PAYMENT,
        S.CLOSING,
        {"interests": (IS.OFFER_MADE,), "deal": "2000000", "paid": "0"},
        "payment_required",
    ),
    # cumulative guards
    row(
        "closing-with-payment-but-no-deal-value",
        S.DOWN_PAYMENT,
        S.CLOSING,
        {"interests": (IS.OFFER_MADE,), "paid": "100000"},
        "deal_value_required",
    ),
    row(
        "contract-prep-with-deal-value-but-no-interest",
        S.NEGOTIATION,
        S.CONTRACT_PREP,
        {"deal": "2000000"},
        "active_property_interest_required",
    ),
    row(
        "post-sale-from-closing-with-nothing",
        S.CLOSING,
        S.POST_SALE,
        NONE,
        "active_property_interest_required",
    ),
    row(
        "post-sale-from-closing-without-payment",
        S.CLOSING,
        S.POST_SALE,
        {"interests": (IS.PURCHASED,), "deal": "2000000"},
        "payment_required",
    ),
    row(
        "skip-into-negotiation-needs-interest",
        S.QUALIFIED,
        S.NEGOTIATION,
        NONE,
        "active_property_interest_required",
        reason=REASON,
    ),
    row(
        "backward-into-guarded-stage-checks-its-guards",
        S.CLOSING,
        S.CONTRACT_PREP,
        {"interests": (IS.OFFER_MADE,), "paid": "1000"},
        "deal_value_required",
        reason=REASON,
    ),
    row(
        "backward-below-guards-needs-none",
        S.CLOSING,
        S.PROPERTY_MATCHING,
        NONE,
        OK,
        reason=REASON,
    ),
    # order of checks: structural rules before guards
    row(
        "skip-without-reason-reported-before-guard",
        S.QUALIFIED,
        S.NEGOTIATION,
        NONE,
        "forward_skip_requires_reason",
    ),
]


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "data", "reason", "role", "expected"), RULE_ROWS
)
def test_stage_rule_table(
    from_stage: Stage,
    to_stage: Stage,
    data: dict[str, Any],
    reason: str | None,
    role: Role,
    expected: str,
) -> None:
    customer = make_customer(from_stage, **data)
    snapshot = attrs.evolve(customer)
    request = StageChangeRequest(to_stage=to_stage, reason=reason)
    actor = make_actor(role)

    if expected == OK:
        check_stage_change(customer, request, actor)
        moved, events = change_stage(customer, request, actor=actor, entry_id="sh_1", now=NOW)
        assert moved.stage is to_stage
        assert len(moved.stage_history) == len(customer.stage_history) + 1
        assert [type(e) for e in events] == [CustomerStageChanged]
    elif expected == DENIED:
        with pytest.raises(PermissionDenied) as denied:
            change_stage(customer, request, actor=actor, entry_id="sh_1", now=NOW)
        assert denied.value.required_permission == REOPEN_PERMISSION
        assert denied.value.current_role == role.value
        assert denied.value.code == "PERMISSION_DENIED"
    else:
        with pytest.raises(InvalidStageTransition) as refused:
            change_stage(customer, request, actor=actor, entry_id="sh_1", now=NOW)
        assert refused.value.code == "INVALID_STAGE_TRANSITION"
        assert refused.value.details == {
            "fromStage": from_stage.value,
            "toStage": to_stage.value,
            "rule": expected,
        }
        with pytest.raises(InvalidStageTransition):
            check_stage_change(customer, request, actor)
    assert customer == snapshot


def test_every_rule_name_has_a_row() -> None:
    expected_rules = {r.values[-1] for r in RULE_ROWS}
    names = {r.name for r in lifecycle.TRANSITION_RULES if r.name != "reopen_requires_admin"}
    assert names | {g.rule for g in STAGE_GUARDS} <= expected_rules


def test_guard_table_is_cumulative_and_ordered() -> None:
    assert [(g.stage, g.rule) for g in STAGE_GUARDS] == [
        (S.SITE_VISIT, "active_property_interest_required"),
        (S.CONTRACT_PREP, "deal_value_required"),
        (S.CLOSING, "payment_required"),
    ]
    assert lifecycle.guards_for(S.PROPERTY_MATCHING) == ()
    assert [g.rule for g in lifecycle.guards_for(S.POST_SALE)] == [g.rule for g in STAGE_GUARDS]
    assert [g.rule for g in lifecycle.guards_for(S.DOWN_PAYMENT)] == [
        "active_property_interest_required",
        "deal_value_required",
    ]


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "direction", "skip"),
    [
        (S.NEW_LEAD, S.NEW_LEAD, lifecycle.Direction.SAME, False),
        (S.NEW_LEAD, S.QUALIFIED, lifecycle.Direction.FORWARD, False),
        (S.NEW_LEAD, S.PROPERTY_MATCHING, lifecycle.Direction.FORWARD, True),
        (S.CLOSING, S.NEW_LEAD, lifecycle.Direction.BACKWARD, False),
    ],
)
def test_direction_helpers(
    from_stage: Stage, to_stage: Stage, direction: lifecycle.Direction, skip: bool
) -> None:
    assert lifecycle.direction(from_stage, to_stage) is direction
    assert lifecycle.is_forward_skip(from_stage, to_stage) is skip
    assert lifecycle.is_backward(from_stage, to_stage) is (
        direction is lifecycle.Direction.BACKWARD
    )


# --- what an accepted change writes --------------------------------------------------------------


def test_history_entry_and_event_fields() -> None:
    customer = make_customer(S.NEGOTIATION, interests=(IS.OFFER_MADE,), deal="2000000")
    request = StageChangeRequest(
        to_stage=S.QUALIFIED, notes="  العميل يعيد النظر  ", reason="  تغيرت الميزانية "
    )
    moved, events = change_stage(
        customer, request, actor=make_actor(Role.SALES_MANAGER), entry_id="sh_9", now=NOW
    )

    assert moved.stage_history[:-1] == customer.stage_history
    assert moved.stage_history[-1] == StageChange(
        id="sh_9",
        from_stage=S.NEGOTIATION,
        to_stage=S.QUALIFIED,
        changed_by="أحمد السعيد",
        changed_by_id="emp_001",
        changed_at=NOW,
        notes="العميل يعيد النظر",
        reason="تغيرت الميزانية",
        auto_generated=False,
    )
    assert moved.updated_at == NOW
    assert moved.version == customer.version + 1
    assert events == [
        CustomerStageChanged(
            organization_id="org_001",
            occurred_at=NOW,
            employee_ids=("emp_001",),
            customer_id="cust_001",
            from_stage=S.NEGOTIATION,
            to_stage=S.QUALIFIED,
            changed_by="emp_001",
        )
    ]


def test_unnamed_actor_and_unassigned_customer() -> None:
    customer = make_customer(S.NEW_LEAD, assigned=None)
    moved, events = change_stage(
        customer,
        StageChangeRequest(to_stage=S.QUALIFIED, notes="   "),
        actor=make_actor(name=None),
        entry_id="sh_1",
        now=NOW,
    )
    entry = moved.stage_history[-1]
    assert entry.changed_by == "emp_001"
    assert entry.notes is None
    assert entry.reason is None
    assert events[0].employee_ids == ()


def test_change_recomputes_the_score_on_the_moved_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Stage, datetime]] = []

    def fake_refresh(customer: Customer, now: datetime) -> Customer:
        seen.append((customer.stage, now))
        return attrs.evolve(customer, lead_score=77)

    monkeypatch.setattr(scoring, "refresh_score", fake_refresh)
    moved, _ = change_stage(
        make_customer(), StageChangeRequest(S.QUALIFIED), actor=make_actor(), entry_id="x", now=NOW
    )
    assert seen == [(S.QUALIFIED, NOW)]
    assert moved.lead_score == 77


def test_initial_stage_entry() -> None:
    assert initial_stage_entry("sh_0", NOW) == StageChange(
        id="sh_0",
        from_stage=None,
        to_stage=S.NEW_LEAD,
        changed_by="System",
        changed_by_id="system",
        changed_at=NOW,
        notes=None,
        reason=None,
        auto_generated=True,
    )


# --- properties ----------------------------------------------------------------------------------

reasons = st.sampled_from([None, "", "   ", REASON])
amounts = st.sampled_from([None, "0", "500000"])
interest_sets = st.lists(st.sampled_from(list(IS)), max_size=3).map(tuple)


def oracle_accepts(customer: Customer, to_stage: Stage, reason: str | None, role: Role) -> bool:
    """§1 restated independently of the module under test."""
    f, t = customer.stage, to_stage
    given_reason = bool(reason and reason.strip())
    order = list(Stage)
    fi, ti = order.index(f), order.index(t)
    if fi == ti:
        return False
    if f is S.POST_SALE and (role is not Role.ADMIN or not given_reason):
        return False
    if t is S.POST_SALE and f is not S.CLOSING:
        return False
    if (ti < fi or ti - fi > 1) and not given_reason:
        return False
    if ti >= order.index(S.SITE_VISIT) and all(
        i.status is IS.REJECTED for i in customer.property_interests
    ):
        return False
    if ti >= order.index(S.CONTRACT_PREP) and not (customer.total_deal_value or 0) > 0:
        return False
    return not (ti >= order.index(S.CLOSING) and not (customer.paid_amount or 0) > 0)


@settings(max_examples=300, deadline=None)
@given(
    stage=st.sampled_from(list(Stage)),
    interests=interest_sets,
    deal=amounts,
    paid=amounts,
    to_stage=st.sampled_from(list(Stage)),
    reason=reasons,
    role=st.sampled_from(list(Role)),
)
def test_change_matches_the_rules(
    stage: Stage,
    interests: tuple[PropertyInterestStatus, ...],
    deal: str | None,
    paid: str | None,
    to_stage: Stage,
    reason: str | None,
    role: Role,
) -> None:
    customer = make_customer(stage, interests=interests, deal=deal, paid=paid)
    request = StageChangeRequest(to_stage=to_stage, reason=reason)
    try:
        moved, _ = change_stage(customer, request, actor=make_actor(role), entry_id="n", now=NOW)
    except (InvalidStageTransition, PermissionDenied):
        assert not oracle_accepts(customer, to_stage, reason, role)
        return
    assert oracle_accepts(customer, to_stage, reason, role)
    assert len(moved.stage_history) == len(customer.stage_history) + 1
    assert lifecycle.can_enter(moved, moved.stage)
    if to_stage is S.POST_SALE:
        assert stage is S.CLOSING


class LifecycleMachine(RuleBasedStateMachine):
    """Random stage changes and data edits; the history always tells the customer's story."""

    def __init__(self) -> None:
        super().__init__()
        self.customer = make_customer()
        self.accepted = 0
        self.clock = NOW

    @rule(to_stage=st.sampled_from(list(Stage)), reason=reasons, role=st.sampled_from(list(Role)))
    def change(self, to_stage: Stage, reason: str | None, role: Role) -> None:
        self.clock += timedelta(minutes=5)
        before = self.customer
        request = StageChangeRequest(to_stage=to_stage, reason=reason)
        try:
            self.customer, _ = change_stage(
                before,
                request,
                actor=make_actor(role),
                entry_id=f"sh_{self.accepted + 1}",
                now=self.clock,
            )
        except (InvalidStageTransition, PermissionDenied):
            return
        self.accepted += 1
        assert len(self.customer.stage_history) == len(before.stage_history) + 1
        if to_stage is S.POST_SALE:
            assert before.stage is S.CLOSING

    @rule(interests=interest_sets, deal=amounts, paid=amounts)
    def edit_data(
        self, interests: tuple[PropertyInterestStatus, ...], deal: str | None, paid: str | None
    ) -> None:
        self.customer = attrs.evolve(
            self.customer,
            property_interests=tuple(interest(s, n) for n, s in enumerate(interests)),
            total_deal_value=None if deal is None else Decimal(deal),
            paid_amount=None if paid is None else Decimal(paid),
        )

    @invariant()
    def history_is_a_chain(self) -> None:
        history = self.customer.stage_history
        assert len(history) == 1 + self.accepted
        assert history[0].from_stage is None
        assert history[0].to_stage is S.NEW_LEAD
        for previous, entry in itertools.pairwise(history):
            assert entry.from_stage is previous.to_stage
            assert entry.auto_generated is False
            assert entry.to_stage is not S.POST_SALE or entry.from_stage is S.CLOSING
        assert history[-1].to_stage is self.customer.stage


LifecycleMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycleMachine = LifecycleMachine.TestCase

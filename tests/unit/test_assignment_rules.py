"""Assignment rules (rules §10), sentence by sentence, as tables over the pure domain.

§10: "checked in priority order; the first active rule whose ``match`` fits (every given
criterion fits; an empty criterion fits everything) assigns the customer. Round robin takes the
next active employee after the last one chosen by that rule; load balanced takes the active
employee with the fewest live customers in ``new_lead`` … ``negotiation`` (ties: round-robin
order). No active employee left → the customer stays unassigned and an admin sees it in the
inbox as a ``follow_up`` action titled for assignment."
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from customers_hub.domain.assignment import (
    ASSIGNMENT_DUE_AFTER,
    LOAD_STAGES,
    AssignmentRule,
    Decision,
    RuleDraft,
    RuleMatch,
    Strategy,
    clean_draft,
    first_fitting,
    fits,
    in_team,
    manage_refusal,
    pick,
    plan,
    round_robin_order,
    unassigned_follow_up,
)
from customers_hub.domain.audit import Change, EntityType, FieldChange, Write, entries_for
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Permission,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Actor, Customer, Employee, Preferences

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ANY = RuleMatch()  # fits everything
ORG = "org_1"
S, P = CustomerSource, PropertyType


def customer(
    cid: str = "cust_1",
    *,
    source: CustomerSource = S.MANUAL,
    city: str | None = "الرياض",
    types: tuple[PropertyType, ...] = (),
) -> Customer:
    return Customer(
        id=cid,
        organization_id=ORG,
        name="محمد الفهد",
        phone="+966551234567",
        source=source,
        stage=Stage.NEW_LEAD,
        city=city,
        preferences=Preferences(property_type=types),
        priority=Priority.MEDIUM,
        created_at=NOW,
        updated_at=NOW,
    )


def rule(
    rid: str = "rule_1",
    *,
    strategy: Strategy = Strategy.ROUND_ROBIN,
    employees: tuple[str, ...] = ("a", "b", "c"),
    match: RuleMatch = ANY,
    priority: int = 100,
    active: bool = True,
    last: str | None = None,
    created: datetime = NOW,
) -> AssignmentRule:
    return AssignmentRule(
        id=rid,
        organization_id=ORG,
        name="توزيع",
        strategy=strategy,
        employee_ids=employees,
        match=match,
        priority=priority,
        active=active,
        last_employee_id=last,
        created_at=created,
        updated_at=created,
        created_by="emp_admin",
    )


# --- "every given criterion fits; an empty criterion fits everything" -----------------------

FITS = [
    # (match, customer, fits?)
    (RuleMatch(), customer(), True),
    (RuleMatch(), customer(city=None), True),
    (RuleMatch(sources=(S.WHATSAPP,)), customer(source=S.WHATSAPP), True),
    (RuleMatch(sources=(S.WHATSAPP, S.INQUIRY)), customer(source=S.INQUIRY), True),
    (RuleMatch(sources=(S.WHATSAPP,)), customer(source=S.MANUAL), False),
    (RuleMatch(cities=("الرياض",)), customer(city="الرياض"), True),
    # The §6 search form: diacritics, letter variants and case do not matter.
    (RuleMatch(cities=("الرياض",)), customer(city="الرِّياض"), True),
    (RuleMatch(cities=("Riyadh",)), customer(city="RIYADH"), True),
    (RuleMatch(cities=("جدة",)), customer(city="جده"), True),
    (RuleMatch(cities=("جدة",)), customer(city="الرياض"), False),
    (RuleMatch(cities=("جدة",)), customer(city=None), False),
    (RuleMatch(property_types=(P.VILLA,)), customer(types=(P.APARTMENT, P.VILLA)), True),
    (RuleMatch(property_types=(P.VILLA,)), customer(types=(P.APARTMENT,)), False),
    (RuleMatch(property_types=(P.VILLA,)), customer(types=()), False),
    # Every given criterion must fit.
    (
        RuleMatch(sources=(S.WHATSAPP,), cities=("الرياض",), property_types=(P.VILLA,)),
        customer(source=S.WHATSAPP, city="الرياض", types=(P.VILLA,)),
        True,
    ),
    (
        RuleMatch(sources=(S.WHATSAPP,), cities=("الرياض",), property_types=(P.VILLA,)),
        customer(source=S.WHATSAPP, city="جدة", types=(P.VILLA,)),
        False,
    ),
]


@pytest.mark.parametrize(("match", "subject", "expected"), FITS)
def test_a_match_fits_when_every_given_criterion_fits(
    match: RuleMatch, subject: Customer, expected: bool
) -> None:
    assert fits(match, subject) is expected


# --- "checked in priority order; the first active rule whose match fits" ---------------------

WHATSAPP = RuleMatch(sources=(S.WHATSAPP,))
ORDER = [
    # (rules as (id, priority, created offset, match), customer, deciding rule)
    ([("r1", 10, 0, RuleMatch()), ("r2", 5, 0, RuleMatch())], customer(), "r2"),
    ([("r1", 5, 1, RuleMatch()), ("r2", 5, 0, RuleMatch())], customer(), "r2"),  # older wins
    ([("r1", 1, 0, WHATSAPP), ("r2", 9, 0, RuleMatch())], customer(), "r2"),  # r1 does not fit
    ([("r1", 1, 0, WHATSAPP), ("r2", 9, 0, RuleMatch())], customer(source=S.WHATSAPP), "r1"),
    ([("r1", 1, 0, WHATSAPP)], customer(), None),
    ([], customer(), None),
]


@pytest.mark.parametrize(("rules", "subject", "expected"), ORDER)
def test_the_first_fitting_rule_in_priority_order_decides(
    rules: list[tuple[str, int, int, RuleMatch]], subject: Customer, expected: str | None
) -> None:
    heads = [
        rule(rid, priority=p, created=NOW + timedelta(seconds=s), match=m).head
        for rid, p, s, m in rules
    ]
    found = first_fitting(heads, subject)
    assert (found.id if found else None) == expected


def test_an_inactive_rule_is_skipped_by_the_plan() -> None:
    rules = [rule("r1", priority=1, active=False, employees=("x",)), rule("r2", priority=2)]
    decisions, _ = plan(rules, [customer()], frozenset({"a", "b", "c", "x"}), {})
    assert decisions == [Decision("cust_1", "r2", "a")]


# --- "Round robin takes the next active employee after the last one chosen" ------------------

ROUND_ROBIN = [
    # (employees, last, active, chosen)
    (("a", "b", "c"), None, "abc", "a"),
    (("a", "b", "c"), "a", "abc", "b"),
    (("a", "b", "c"), "c", "abc", "a"),  # wraps around
    (("a", "b", "c"), "a", "ac", "c"),  # inactive b skipped
    (("a", "b", "c"), "b", "b", "b"),  # only the last one is active: it again
    (("a", "b", "c"), "z", "abc", "a"),  # the last one left the rule: from the start
    (("a", "b", "c"), "a", "", None),  # nobody active
]


@pytest.mark.parametrize(("employees", "last", "active", "chosen"), ROUND_ROBIN)
def test_round_robin_takes_the_next_active_employee_after_the_last(
    employees: tuple[str, ...], last: str | None, active: str, chosen: str | None
) -> None:
    subject = rule(employees=employees, last=last)
    assert pick(subject, frozenset(active), {}) == chosen


def test_round_robin_order_starts_after_the_last() -> None:
    assert round_robin_order(("a", "b", "c"), "b") == ("c", "a", "b")
    assert round_robin_order(("a", "b", "c"), None) == ("a", "b", "c")


# --- "load balanced takes the active employee with the fewest live customers … (ties:
# round-robin order)" ----------------------------------------------------------------------

LOAD_BALANCED = [
    # (last, active, loads, chosen)
    (None, "abc", {"a": 3, "b": 1, "c": 2}, "b"),
    (None, "abc", {"a": 3, "b": 1, "c": 0}, "c"),
    (None, "abc", {}, "a"),  # all zero: round-robin order from the start
    ("a", "abc", {"a": 1, "b": 1, "c": 1}, "b"),  # a tie: after the last one
    ("b", "abc", {"a": 1, "b": 1, "c": 1}, "c"),
    ("c", "abc", {"a": 2, "b": 1, "c": 1}, "b"),
    (None, "ac", {"a": 5, "b": 0, "c": 4}, "c"),  # the least loaded b is inactive
    (None, "", {"a": 0}, None),
]


@pytest.mark.parametrize(("last", "active", "loads", "chosen"), LOAD_BALANCED)
def test_load_balanced_takes_the_least_loaded_active_employee(
    last: str | None, active: str, loads: dict[str, int], chosen: str | None
) -> None:
    subject = rule(strategy=Strategy.LOAD_BALANCED, last=last)
    assert pick(subject, frozenset(active), loads) == chosen


def test_the_load_counts_new_lead_to_negotiation() -> None:
    assert LOAD_STAGES == (
        Stage.NEW_LEAD,
        Stage.QUALIFIED,
        Stage.PROPERTY_MATCHING,
        Stage.SITE_VISIT,
        Stage.NEGOTIATION,
    )


# --- batches spread like one create after another --------------------------------------------


def test_a_round_robin_batch_spreads_evenly_and_moves_the_pointer() -> None:
    batch = [customer(f"cust_{i}") for i in range(7)]
    decisions, pointers = plan([rule(last="b")], batch, frozenset("abc"), {})
    assert [d.employee_id for d in decisions] == ["c", "a", "b", "c", "a", "b", "c"]
    assert pointers == {"rule_1": "c"}


def test_a_load_balanced_batch_fills_the_least_loaded_first() -> None:
    batch = [customer(f"cust_{i}") for i in range(4)]
    subject = rule(strategy=Strategy.LOAD_BALANCED)
    decisions, pointers = plan([subject], batch, frozenset("abc"), {"a": 2, "b": 0, "c": 1})
    # b (0) → 1; then c and b tie at 1, c comes after b; then b (1); then a, b, c tie at 2
    # and c comes after b.
    assert [d.employee_id for d in decisions] == ["b", "c", "b", "c"]
    assert pointers == {"rule_1": "c"}


def test_customers_no_rule_fits_get_no_decision_and_no_pointer_moves() -> None:
    subject = rule(match=WHATSAPP)
    decisions, pointers = plan([subject], [customer()], frozenset("abc"), {})
    assert (decisions, pointers) == ([], {})


# --- "No active employee left → unassigned, a follow_up action for the admins" -------------


def test_nobody_active_leaves_the_customer_unassigned_without_trying_the_next_rule() -> None:
    rules = [rule("r1", priority=1, employees=("x",)), rule("r2", priority=2)]
    decisions, pointers = plan(rules, [customer()], frozenset("abc"), {})
    assert decisions == [Decision("cust_1", "r1", None)]
    assert pointers == {}


def test_the_follow_up_asks_the_admins_to_assign() -> None:
    subject = customer()
    action, event = unassigned_follow_up(subject, rule(), action_id="action_1", now=NOW)
    assert action.type is ActionType.FOLLOW_UP
    assert action.status is ActionStatus.PENDING
    assert action.assigned_to is None  # no assignee: the admins' inbox
    assert "تعيين" in action.title
    assert subject.name in action.title
    assert action.due_date == NOW + ASSIGNMENT_DUE_AFTER
    assert action.metadata["assignmentRuleId"] == "rule_1"
    assert action.metadata["autoGenerated"] is True
    assert event.action_id == "action_1"
    assert event.employee_ids == ()


# --- input -----------------------------------------------------------------------------------


def draft(**changes: object) -> RuleDraft:
    base = RuleDraft(name=" توزيع  الرياض ", strategy=Strategy.ROUND_ROBIN, employee_ids=("a",))
    return attrs.evolve(base, **changes)


def test_a_draft_is_cleaned_and_its_lists_lose_repeats() -> None:
    cleaned = clean_draft(
        draft(
            employee_ids=("a", "b", "a"),
            match=RuleMatch(cities=(" جدة ", "جدة"), sources=(S.WHATSAPP, S.WHATSAPP)),
        )
    )
    assert cleaned.name == "توزيع الرياض"
    assert cleaned.employee_ids == ("a", "b")
    assert cleaned.match == RuleMatch(cities=("جدة",), sources=(S.WHATSAPP,))


BAD_DRAFTS = [
    (draft(name="   "), "name"),
    (draft(name="a\nb"), "name"),
    (draft(employee_ids=()), "employeeIds"),
    (draft(employee_ids=tuple(f"e{i}" for i in range(51))), "employeeIds"),
    (draft(employee_ids=("a", " ")), "employeeIds[1]"),
    (draft(employee_ids=("x" * 51,)), "employeeIds[0]"),
    (draft(match=RuleMatch(cities=("",))), "match.cities[0]"),
    (draft(match=RuleMatch(cities=("c" * 101,))), "match.cities[0]"),
    (draft(match=RuleMatch(cities=tuple(f"c{i}" for i in range(51)))), "match.cities"),
    (draft(priority=-1), "priority"),
    (draft(priority=1_000_001), "priority"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_DRAFTS)
def test_bad_input_names_the_field(bad: RuleDraft, field: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        clean_draft(bad)
    assert field in {e.field for e in failed.value.errors}


# --- who manages rules -----------------------------------------------------------------------


def actor(role: Role, user: str = "m") -> Actor:
    return Actor(user, ORG, role, frozenset(Permission))


def employee(eid: str, manager: str | None) -> Employee:
    return Employee(
        id=eid, organization_id=ORG, name=eid, role=Role.SALES_AGENT, manager_id=manager
    )


TEAM = {"a": employee("a", "m"), "b": employee("b", "m"), "z": employee("z", "other")}
REACH = [
    (Role.ADMIN, ("a", "z"), True),
    (Role.SALES_MANAGER, ("a", "b"), True),
    (Role.SALES_MANAGER, ("m", "a"), True),  # the manager's own id
    (Role.SALES_MANAGER, ("a", "z"), False),  # z reports to someone else
    (Role.SALES_MANAGER, ("a", "unknown"), False),
    (Role.SALES_AGENT, ("a",), False),
    (Role.VIEWER, ("a",), False),
]


@pytest.mark.parametrize(("role", "ids", "allowed"), REACH)
def test_a_manager_manages_rules_of_the_team_only(
    role: Role, ids: tuple[str, ...], allowed: bool
) -> None:
    assert in_team(actor(role), ids, TEAM) is allowed


@pytest.mark.parametrize(
    ("role", "refused"),
    [
        (Role.ADMIN, False),
        (Role.SALES_MANAGER, False),
        (Role.SALES_AGENT, True),
        (Role.VIEWER, True),
    ],
)
def test_agents_and_viewers_may_not_manage_rules(role: Role, refused: bool) -> None:
    assert (manage_refusal(actor(role)) is not None) is refused


# --- the audit entry names the rule -----------------------------------------------------------


def test_the_creation_entry_carries_the_rule_and_a_rule_change_hides_its_pointer() -> None:
    created = customer()
    context = (FieldChange("assignmentRuleId", None, "rule_1"),)
    change = Change(
        Write.INSERT, EntityType.CUSTOMER, ORG, created.id, created.id, None, created, context
    )
    [entry] = entries_for([change])
    assert entry.action == "customer.created"
    assert FieldChange("assignmentRuleId", None, "rule_1") in entry.changes
    before = rule()
    moved = attrs.evolve(before, last_employee_id="a")
    pointer_only = Change(
        Write.UPDATE, EntityType.ASSIGNMENT_RULE, ORG, "rule_1", None, before, moved
    )
    assert entries_for([pointer_only]) == []
    renamed = Change(
        Write.UPDATE,
        EntityType.ASSIGNMENT_RULE,
        ORG,
        "rule_1",
        None,
        before,
        attrs.evolve(before, name="جديد"),
    )
    [entry] = entries_for([renamed])
    assert entry.action == "assignmentRule.updated"
    assert [c.field for c in entry.changes] == ["name"]

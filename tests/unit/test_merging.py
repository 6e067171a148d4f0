"""The merge rules of §10 as tables (domain.merging): which value each empty field of the
survivor takes, the groups filled together, the request's checks, the history's order, the
interests that move, the unmerge window and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from attrs import evolve

from customers_hub.domain.enums import CustomerSource, PropertyInterestStatus, Stage
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.merging import (
    FIELD_GROUPS,
    KEPT_FIELDS,
    MAX_SOURCES,
    MERGE_FIELDS,
    UNMERGE_WINDOW,
    FieldFill,
    MergeRecord,
    MergeRejected,
    UnmergeConflict,
    UnmergeConflictItem,
    UnmergeRefused,
    check_unmergeable,
    field_conflicts,
    merged_history,
    movable_interests,
    plan_fill,
    unfill_patch,
    validate_merge_request,
)
from customers_hub.domain.model import Customer, Preferences, PropertyInterest, StageChange
from customers_hub.domain.validation import apply_customer_patch

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def customer(customer_id: str, **fields: Any) -> Customer:
    return Customer(
        id=customer_id,
        organization_id="org_1",
        name="محمد",
        phone="+966550000001",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=T0,
        updated_at=T0,
        **fields,
    )


# (survivor fields, sources' fields in order, fields choices, expected {field: (source, value)})
FILL_CASES: list[
    tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, str], dict[str, Any]]
] = [
    ("the survivor keeps its value", {"email": "s@x.sa"}, [{"email": "a@x.sa"}], {}, {}),
    (
        "an empty field takes the first source's",
        {},
        [{"email": "a@x.sa"}, {"email": "b@x.sa"}],
        {},
        {"email": ("a", "a@x.sa")},
    ),
    (
        "the first source that has one",
        {},
        [{}, {"email": "b@x.sa"}],
        {},
        {"email": ("b", "b@x.sa")},
    ),
    (
        "fields names the source",
        {},
        [{"email": "a@x.sa"}, {"email": "b@x.sa"}],
        {"email": "b"},
        {"email": ("b", "b@x.sa")},
    ),
    ("naming the survivor keeps it empty", {}, [{"email": "a@x.sa"}], {"email": "s"}, {}),
    (
        "a named source without a value fills nothing",
        {},
        [{"email": "a@x.sa"}, {}],
        {"email": "b"},
        {},
    ),
    ("an empty tuple is empty", {"tags": ()}, [{"tags": ("vip",)}], {}, {"tags": ("a", ["vip"])}),
    (
        "preferences key by key",
        {"preferences": Preferences(bedrooms=3)},
        [{"preferences": Preferences(bedrooms=4, bathrooms=2)}],
        {},
        {"preferences.bathrooms": ("a", 2)},
    ),
    (
        "a pair is filled together",
        {},
        [{"latitude": Decimal("24.7"), "longitude": Decimal("46.6")}],
        {},
        {"latitude": ("a", 24.7), "longitude": ("a", 46.6)},
    ),
    (
        "a half-present pair is the survivor's",
        {"preferences": Preferences(budget_max=Decimal(900000))},
        [{"preferences": Preferences(budget_min=Decimal(950000), budget_max=Decimal(990000))}],
        {},
        {},
    ),
    (
        "a pair from the named source",
        {},
        [{"paid_amount": Decimal(1)}, {"total_deal_value": Decimal(100)}],
        {"totalDealValue": "b"},
        {"totalDealValue": ("b", 100)},
    ),
]


@pytest.mark.parametrize(
    ("survivor_fields", "sources_fields", "choices", "expected"),
    [case[1:] for case in FILL_CASES],
    ids=[case[0] for case in FILL_CASES],
)
def test_field_choice_rules(
    survivor_fields: dict[str, Any],
    sources_fields: list[dict[str, Any]],
    choices: dict[str, str],
    expected: dict[str, Any],
) -> None:
    survivor = customer("s", **survivor_fields)
    sources = [customer(chr(ord("a") + n), **f) for n, f in enumerate(sources_fields)]
    plan = plan_fill(survivor, sources, choices)
    assert {k: (v.source_id, v.value) for k, v in plan.filled.items()} == expected
    filled = apply_customer_patch(survivor, plan.patch)
    for name, (source_id, _) in expected.items():
        row = MERGE_FIELDS[name]
        donor = next(s for s in sources if s.id == source_id)
        holder_after = filled.preferences if row.in_preferences else filled
        holder_donor = donor.preferences if row.in_preferences else donor
        assert getattr(holder_after, row.attribute) == getattr(holder_donor, row.attribute)
    # Undoing the fill empties exactly those fields again.
    assert apply_customer_patch(filled, unfill_patch(plan.filled)) == survivor


# (survivor fields, choices, field named in the 422)
REFUSED_CHOICES: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("a customer not in the merge", {}, {"email": "zzz"}, "fields.email"),
    ("a field the survivor has", {"email": "s@x.sa"}, {"email": "a"}, "fields.email"),
    ("one group from two customers", {}, {"latitude": "a", "longitude": "b"}, "fields.longitude"),
]


@pytest.mark.parametrize(
    ("survivor_fields", "choices", "field"),
    [case[1:] for case in REFUSED_CHOICES],
    ids=[case[0] for case in REFUSED_CHOICES],
)
def test_refused_choices_name_the_field(
    survivor_fields: dict[str, Any], choices: dict[str, str], field: str
) -> None:
    sources = [customer("a", email="a@x.sa"), customer("b")]
    with pytest.raises(MergeRejected) as refused:
        plan_fill(customer("s", **survivor_fields), sources, choices)
    assert refused.value.details == {"field": field}


def test_the_field_table_covers_every_patchable_field_once() -> None:
    assert not {"name", "phone", "source", "priority"} & set(MERGE_FIELDS)
    assert set(KEPT_FIELDS) >= {"assigned_employee_id"}
    for group in FIELD_GROUPS:
        assert {MERGE_FIELDS[name].group for name in group} == {group[0]}


# (source ids, fields, status, field)
REQUESTS: list[tuple[str, list[str], dict[str, str], type[Exception] | None, str | None]] = [
    ("one source", ["a"], {}, None, None),
    ("ten sources", [f"c{n}" for n in range(MAX_SOURCES)], {}, None, None),
    ("none", [], {}, ValidationFailed, "sourceIds"),
    ("eleven", [f"c{n}" for n in range(MAX_SOURCES + 1)], {}, ValidationFailed, "sourceIds"),
    ("a blank id", [" "], {}, ValidationFailed, "sourceIds"),
    ("a long id", ["x" * 51], {}, ValidationFailed, "sourceIds"),
    ("an unknown field", ["a"], {"phone": "a"}, ValidationFailed, "fields.phone"),
    ("a repeated id", ["a", "a"], {}, MergeRejected, "sourceIds"),
    ("the survivor", ["s"], {}, MergeRejected, "sourceIds"),
]


@pytest.mark.parametrize(
    ("source_ids", "fields", "error", "field"),
    [case[1:] for case in REQUESTS],
    ids=[case[0] for case in REQUESTS],
)
def test_request_checks(
    source_ids: list[str],
    fields: dict[str, str],
    error: type[Exception] | None,
    field: str | None,
) -> None:
    if error is None:
        validate_merge_request("s", source_ids, fields)
        return
    with pytest.raises(error) as raised:
        validate_merge_request("s", source_ids, fields)
    if isinstance(raised.value, ValidationFailed):
        assert [e.field for e in raised.value.errors] == [field]
    else:
        assert isinstance(raised.value, MergeRejected)
        assert raised.value.details == {"field": field}


def entry(entry_id: str, minutes: int, merged_from: str | None = None) -> StageChange:
    return StageChange(
        id=entry_id,
        from_stage=None,
        to_stage=Stage.NEW_LEAD,
        changed_by="x",
        changed_by_id="x",
        changed_at=T0 + timedelta(minutes=minutes),
        merged_from=merged_from,
    )


def test_history_is_ordered_by_time_survivor_first_and_marked() -> None:
    survivor = customer("s", stage_history=(entry("s1", 0), entry("s2", 10)))
    a = customer("a", stage_history=(entry("a1", 5), entry("a2", 10)))
    b = customer("b", stage_history=(entry("b1", 0),))
    assert merged_history(survivor, [a, b]) == (
        ("s1", None),
        ("b1", "b"),
        ("a1", "a"),
        ("s2", None),
        ("a2", "a"),
    )


def interest(interest_id: str, property_id: str, **fields: Any) -> PropertyInterest:
    return PropertyInterest(
        interest_id, property_id, PropertyInterestStatus.INTERESTED, T0, **fields
    )


def test_one_interest_per_property_survives() -> None:
    survivor = customer("s", property_interests=(interest("i1", "p1"),))
    a = customer("a", property_interests=(interest("i2", "p1"), interest("i3", "p2")))
    b = customer("b", property_interests=(interest("i4", "p2"), interest("i5", "p3")))
    assert movable_interests(survivor, [a, b]) == ("i3", "i5")


def record(**fields: Any) -> MergeRecord:
    values: dict[str, Any] = {
        "id": "merge_1",
        "organization_id": "org_1",
        "survivor_id": "s",
        "source_ids": ("a",),
        "moved": {},
        "history": {},
        "fields": {"email": FieldFill("a", "a@x.sa")},
        "property_views": 0,
        "merged_at": T0,
        "merged_by": "emp",
    }
    values.update(fields)
    return MergeRecord(**values)


@pytest.mark.parametrize(
    ("merge", "now", "reason"),
    [
        (record(), T0 + UNMERGE_WINDOW, None),
        (record(), T0 + UNMERGE_WINDOW + timedelta(seconds=1), "expired"),
        (record(unmerged_at=T0, unmerged_by="emp"), T0, "already_unmerged"),
    ],
    ids=["on the last instant", "a second later", "undone already"],
)
def test_the_unmerge_window(merge: MergeRecord, now: datetime, reason: str | None) -> None:
    if reason is None:
        check_unmergeable(merge, now)
        return
    with pytest.raises(UnmergeRefused) as refused:
        check_unmergeable(merge, now)
    assert refused.value.details["reason"] == reason


def test_an_edited_filled_field_is_a_conflict() -> None:
    merged = customer("s", email="a@x.sa")
    assert field_conflicts(merged, record().fields) == []
    edited = evolve(merged, email="new@x.sa")
    assert field_conflicts(edited, record().fields) == [
        UnmergeConflictItem("fields.email", "was edited")
    ]
    conflict = UnmergeConflict(field_conflicts(edited, record().fields))
    assert (conflict.code, conflict.field) == ("UNMERGE_CONFLICT", "fields.email")

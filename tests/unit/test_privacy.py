"""Rules §8 as data: the request status machine row by row, the 30-day clock in the
organization's zone, the one extension, and the consent ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.errors import BusinessRuleViolation, ValidationFailed
from customers_hub.domain.privacy import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    REASON_REQUIRED,
    STATUS_TRANSITIONS,
    ConsentChange,
    ConsentChannel,
    ConsentEntry,
    PrivacyRequest,
    RequestStatus,
    RequestType,
    change_status,
    current_consents,
    due_at_for,
    due_soon_until,
    extend,
    is_overdue,
    new_entries,
)

RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def request(status: RequestStatus = RequestStatus.RECEIVED, **fields: object) -> PrivacyRequest:
    due = due_at_for(NOW, RIYADH)
    values: dict[str, object] = {
        "id": "prq_1",
        "organization_id": "org",
        "customer_id": "cus_1",
        "type": RequestType.ACCESS,
        "status": status,
        "received_at": NOW,
        "due_at": due,
        "original_due_at": due,
        "created_at": NOW,
        "updated_at": NOW,
        "created_by": "emp_admin",
    }
    values.update(fields)
    return PrivacyRequest(**values)  # type: ignore[arg-type]


# --- the status machine, every (from, to) pair -------------------------------------------------

PAIRS = [(a, b) for a in RequestStatus for b in RequestStatus]
ALLOWED = {
    (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS),
    (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED),
    (RequestStatus.IN_PROGRESS, RequestStatus.REJECTED),
}


def test_the_table_is_the_rule() -> None:
    assert {(a, b) for a, after in STATUS_TRANSITIONS.items() for b in after} == ALLOWED
    assert {RequestStatus.COMPLETED, RequestStatus.REJECTED} == CLOSED_STATUSES
    assert {RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS} == OPEN_STATUSES
    assert {RequestStatus.REJECTED} == REASON_REQUIRED


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_each_move_is_allowed_exactly_when_the_rule_says(
    source: RequestStatus, target: RequestStatus
) -> None:
    current = request(source)
    later = NOW + timedelta(days=1)
    if (source, target) not in ALLOWED:
        with pytest.raises(BusinessRuleViolation) as refused:
            change_status(current, target, "a reason", later)
        assert refused.value.details["field"] == "status"
        return
    moved = change_status(current, target, "a reason", later)
    assert moved.status is target
    assert moved.updated_at == later
    assert (moved.closed_at == later) is (target in CLOSED_STATUSES)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(ValidationFailed) as bad:
        change_status(request(RequestStatus.IN_PROGRESS), RequestStatus.REJECTED, reason, NOW)
    assert [e.field for e in bad.value.errors] == ["reason"]
    done = change_status(request(RequestStatus.IN_PROGRESS), RequestStatus.COMPLETED, None, NOW)
    assert done.reason is None


@given(st.lists(st.sampled_from(list(RequestStatus)), max_size=6))
def test_a_closed_request_never_moves_again(moves: list[RequestStatus]) -> None:
    current = request()
    for target in moves:
        try:
            current = change_status(current, target, "why", NOW)
        except BusinessRuleViolation:
            continue
    if current.status in CLOSED_STATUSES:
        for target in RequestStatus:
            with pytest.raises(BusinessRuleViolation):
                change_status(current, target, "why", NOW)


# --- the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "zone", "due_local_day"),
    [
        ("2026-01-10T20:59:00+00:00", "Asia/Riyadh", "2026-02-09"),  # 23:59 local, 10 Jan
        ("2026-01-10T21:00:00+00:00", "Asia/Riyadh", "2026-02-10"),  # already 11 Jan locally
        ("2026-01-31T12:00:00+00:00", "Asia/Riyadh", "2026-03-02"),  # across February
        ("2026-03-20T12:00:00+00:00", "Europe/London", "2026-04-19"),  # across the DST change
        ("2026-01-10T23:30:00+00:00", "UTC", "2026-02-09"),
    ],
)
def test_due_at_is_the_end_of_the_local_day_30_days_after_receipt(
    received: str, zone: str, due_local_day: str
) -> None:
    tz = ZoneInfo(zone)
    due = due_at_for(datetime.fromisoformat(received), tz)
    local = due.astimezone(tz)
    assert local.date().isoformat() == due_local_day
    assert (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 999999)
    assert (due + timedelta(microseconds=1)).astimezone(tz).time().hour == 0


def test_overdue_is_a_passed_due_at_of_an_open_request() -> None:
    open_request = request()
    assert not is_overdue(open_request, open_request.due_at)
    assert is_overdue(open_request, open_request.due_at + timedelta(microseconds=1))
    closed = request(RequestStatus.COMPLETED)
    assert not is_overdue(closed, closed.due_at + timedelta(days=5))


def test_due_soon_ends_with_the_local_day_seven_days_ahead() -> None:
    until = due_soon_until(datetime(2026, 3, 1, 22, 0, tzinfo=UTC), RIYADH)  # 2 March locally
    assert until.astimezone(RIYADH).date().isoformat() == "2026-03-09"


# --- the extension -----------------------------------------------------------------------------


def test_one_extension_moves_due_at_by_local_days() -> None:
    extended = extend(request(), 30, " complex request ", NOW, RIYADH)
    assert extended.due_at - request().due_at == timedelta(days=30)
    assert extended.original_due_at == request().due_at
    assert extended.extension_reason == "complex request"
    assert extended.extended
    with pytest.raises(BusinessRuleViolation) as twice:
        extend(extended, 1, "again", NOW, RIYADH)
    assert twice.value.details["field"] == "extendedAt"


@pytest.mark.parametrize(
    ("days", "reason", "fields"),
    [(0, "r", {"days"}), (31, "r", {"days"}), (5, " ", {"reason"}), (-1, None, {"days", "reason"})],
)
def test_a_bad_extension_names_its_fields(days: int, reason: str | None, fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as bad:
        extend(request(), days, reason, NOW, RIYADH)
    assert {e.field for e in bad.value.errors} == fields


@pytest.mark.parametrize(
    ("current", "now", "field"),
    [
        (request(), request().due_at + timedelta(seconds=1), "dueAt"),
        (request(RequestStatus.REJECTED, reason="x"), NOW, "status"),
    ],
)
def test_an_extension_is_refused_after_due_at_or_once_closed(
    current: PrivacyRequest, now: datetime, field: str
) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        extend(current, 10, "late", now, RIYADH)
    assert refused.value.details["field"] == field


# --- the consent ledger ------------------------------------------------------------------------


def entries(
    changes: list[ConsentChange], current: dict[ConsentChannel, ConsentEntry] | None = None
) -> list[ConsentEntry]:
    return new_entries(
        changes,
        current or {},
        ids=(f"cns_{i}" for i in range(100)),
        organization_id="org",
        customer_id="cus_1",
        actor_id="emp_admin",
        now=NOW,
    )


def test_each_change_becomes_an_entry_and_the_last_one_is_current() -> None:
    first = entries(
        [
            ConsentChange(channel=ConsentChannel.WHATSAPP, granted=True, source=" form "),
            ConsentChange(channel=ConsentChannel.SMS, granted=False, source="call", notes=" "),
        ]
    )
    assert [(e.channel, e.granted, e.source, e.notes) for e in first] == [
        (ConsentChannel.WHATSAPP, True, "form", None),
        (ConsentChannel.SMS, False, "call", None),
    ]
    withdrawn = new_entries(
        [ConsentChange(channel=ConsentChannel.WHATSAPP, granted=False, source="call")],
        current_consents(first),
        ids=iter(["cns_9"]),
        organization_id="org",
        customer_id="cus_1",
        actor_id="emp_admin",
        now=NOW + timedelta(hours=1),
    )
    state = current_consents([*withdrawn, *first])  # any order: by time
    assert state[ConsentChannel.WHATSAPP].granted is False
    assert state[ConsentChannel.SMS].granted is False


def test_repeating_the_current_entry_appends_nothing() -> None:
    first = entries([ConsentChange(channel=ConsentChannel.EMAIL, granted=True, source="form")])
    again = entries(
        [ConsentChange(channel=ConsentChannel.EMAIL, granted=True, source="form")],
        current_consents(first),
    )
    assert again == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ([], {"consents"}),
        (
            [
                ConsentChange(channel=ConsentChannel.CALL, granted=True, source="a"),
                ConsentChange(channel=ConsentChannel.CALL, granted=False, source="b"),
            ],
            {"consents[1].channel"},
        ),
        (
            [ConsentChange(channel=ConsentChannel.CALL, granted=True, source=" ")],
            {"consents[0].source"},
        ),
        (
            [ConsentChange(channel=ConsentChannel.CALL, granted=True, source="x" * 101)],
            {"consents[0].source"},
        ),
        (
            [ConsentChange(channel=ConsentChannel.CALL, granted=True, source="a", notes="\x00")],
            {"consents[0].notes"},
        ),
    ],
)
def test_bad_changes_name_each_field(changes: list[ConsentChange], fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as bad:
        entries(changes)
    assert {e.field for e in bad.value.errors} == fields

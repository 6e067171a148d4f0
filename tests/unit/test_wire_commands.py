"""The edge's generic input steps: request bodies into commands, date windows from queries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from msgspec import UNSET, UnsetType

from customers_hub.application.use_cases import actions, bulk
from customers_hub.domain.enums import ActionStatus, Priority
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.entrypoints.http.controllers.actions import ActionPatchIn, DismissIn
from customers_hub.entrypoints.http.controllers.bulk import BulkUpdatesIn
from customers_hub.entrypoints.http.wire.commands import to_command
from customers_hub.entrypoints.http.wire.params import parse_window


def test_a_body_fills_the_command_by_name_and_given_values_win() -> None:
    body = DismissIn(reason="duplicate", notes="seen twice")

    command = to_command(body, actions.DismissAction, action_id="a1", expected_version=3)

    assert command == actions.DismissAction(
        action_id="a1", reason="duplicate", notes="seen twice", expected_version=3
    )
    assert to_command(body, actions.DismissAction, action_id="a1", notes=None).notes is None


def test_a_field_not_sent_is_the_domains_unset_and_null_stays_a_clear() -> None:
    body = ActionPatchIn(title="Call back", description=None)

    command = to_command(body, actions.UpdateAction, action_id="a1")

    assert command.title == "Call back"
    assert command.description is None  # sent as null: clear it
    assert command.priority is DOMAIN_UNSET  # not sent: keep
    assert command.due_date is DOMAIN_UNSET
    assert command.expected_version is None  # the command's default, not in the body


def test_every_msgspec_unset_becomes_the_domains() -> None:
    body = BulkUpdatesIn(priority=Priority.HIGH, status=ActionStatus.IN_PROGRESS)

    updates = to_command(body, bulk.ActionUpdates)

    assert updates == bulk.ActionUpdates(priority=Priority.HIGH, status=ActionStatus.IN_PROGRESS)
    assert not any(
        isinstance(getattr(updates, name), UnsetType) or getattr(updates, name) is UNSET
        for name in ("priority", "due_date", "status", "assigned_to")
    )


def test_a_window_reads_each_bound_by_its_field() -> None:
    window = parse_window(
        ("dateFrom", "2025-03-01"), ("dateTo", "2025-03-02T10:00:00Z"), ("x", " ")
    )

    assert window == {
        "dateFrom": date(2025, 3, 1),
        "dateTo": datetime(2025, 3, 2, 10, tzinfo=UTC),
        "x": None,
    }


def test_every_bad_bound_is_named_in_one_400() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_window(("from", "yesterday"), ("to", "2025-13-01"))

    assert [e.field for e in failed.value.errors] == ["from", "to"]


def test_with_an_error_list_the_bad_bounds_are_collected_and_left_out() -> None:
    errors: list[FieldError] = [FieldError("budgetMin", "must be a number")]

    window = parse_window(("createdFrom", "soon"), ("createdTo", "2025-01-31"), errors=errors)

    assert window == {"createdFrom": None, "createdTo": date(2025, 1, 31)}
    assert [e.field for e in errors] == ["budgetMin", "createdFrom"]

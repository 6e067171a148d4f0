"""Action rows and their notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import RowMapping

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.mappers.base import (
    to_json,
)
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
)
from customers_hub.domain.model import (
    ActionNote,
    CustomerAction,
)
from customers_hub.domain.search_text import normalize_search_text

# --- actions ---------------------------------------------------------------------------------


def action_search_text(customer_name: str, title: str, description: str | None) -> str:
    """The normalized text an action is searched by: customer name, title and description."""
    return normalize_search_text(f"{customer_name} {title} {description or ''}")


ACTION_COLUMNS_KEPT_BY_THE_DATABASE: Final = frozenset(
    {"first_note_at", "customer_assignee_id", "customer_live"}
)
"""Columns of ``customer_actions`` a trigger keeps (:func:`action_values` never writes them)."""


def action_values(action: CustomerAction) -> dict[str, object]:
    """Column values of ``tables.customer_actions`` (notes are rows of ``action_notes``)."""
    return {
        "id": action.id,
        "organization_id": action.organization_id,
        "customer_id": action.customer_id,
        "customer_name": action.customer_name,
        "type": action.type.value,
        "title": action.title,
        "description": action.description,
        "search_text": action_search_text(action.customer_name, action.title, action.description),
        "priority": action.priority.value,
        "priority_rank": action.priority.rank,
        "status": action.status.value,
        "source": action.source.value,
        "due_date": action.due_date,
        "snoozed_until": action.snoozed_until,
        "assigned_to": action.assigned_to,
        "assigned_to_name": action.assigned_to_name,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
        "completed_at": action.completed_at,
        "completed_by": action.completed_by,
        "outcome": action.outcome,
        "dismiss_reason": action.dismiss_reason,
        "metadata": to_json(dict(action.metadata), dict[str, Any]),
        "version": action.version,
    }


def action_from_row(
    row: RowMapping | Mapping[str, Any], notes: Sequence[RowMapping | Mapping[str, Any]] = ()
) -> CustomerAction:
    """The action of a ``customer_actions`` row with its note rows (ordered by creation)."""
    return CustomerAction(
        id=row["id"],
        organization_id=row["organization_id"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        type=ActionType(row["type"]),
        title=row["title"],
        priority=Priority(row["priority"]),
        status=ActionStatus(row["status"]),
        source=CustomerSource(row["source"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        description=row["description"],
        due_date=row["due_date"],
        snoozed_until=row["snoozed_until"],
        assigned_to=row["assigned_to"],
        assigned_to_name=row["assigned_to_name"],
        completed_at=row["completed_at"],
        completed_by=row["completed_by"],
        outcome=row["outcome"],
        dismiss_reason=row["dismiss_reason"],
        metadata=dict(row["metadata"] or {}),
        notes=tuple(
            note_from_row(n) for n in sorted(notes, key=lambda n: (n["created_at"], str(n["id"])))
        ),
        version=int(row["version"]),
    )


def note_values(note: ActionNote, organization_id: str) -> dict[str, object]:
    """An ``action_notes`` row."""
    return row_values(note, tables.action_notes, organization_id=organization_id)


def note_from_row(row: RowMapping | Mapping[str, Any]) -> ActionNote:
    """The note of an ``action_notes`` row."""
    return from_row(ActionNote, tables.action_notes, row)

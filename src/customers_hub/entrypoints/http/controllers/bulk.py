"""Bulk operations on inbox actions: endpoints 19–23 (``/api/v1/customers/actions/bulk…``).

* ``POST /customers/actions/bulk`` (19) — ``operation`` ``update`` (the document's) with
  ``updates``, or ``complete`` / ``dismiss`` / ``snooze`` / ``assign`` with the fields of the
  dedicated endpoint at the top level of the body;
* ``POST /customers/actions/bulk/complete`` (20), ``…/dismiss`` (21), ``…/snooze`` (22),
  ``…/assign`` (23).

Every one answers 200 with a per-item result: the operation's count (``updatedCount``,
``completedCount``, ``dismissedCount``, ``snoozedCount`` or ``assignedCount``), ``failed``
(``[{id, reason, code}]``: ``RESOURCE_NOT_FOUND`` for a missing id or another organization's
action, ``PERMISSION_DENIED`` out of scope, ``INVALID_ACTION_TRANSITION`` for a completed or
dismissed action, ``CONCURRENT_UPDATE`` when another request changed it meanwhile — retry that
id) and ``actions`` (``[{id, status: "success" | "failed"}]`` for every distinct id, in request
order); an assignment adds ``assignedTo: {id, name}``.

Decisions where the API document is silent (for ``docs/``):

* The count key is named for the **operation**, whichever endpoint ran it: ``POST …/bulk`` with
  ``operation: "complete"`` answers ``completedCount``. Without ``operation`` the request is an
  ``update``. ``updates`` is accepted only with ``update`` (400 on ``updates`` otherwise).
* ``updates`` may set ``priority``, ``dueDate`` (``null`` clears it), ``status`` (``pending`` or
  ``in_progress`` only) and ``assignedTo`` (a reassignment, as ``…/bulk/assign``; it cannot
  clear the assignee).
* Input that would fail every item alike — no ids, more than 500 distinct ids, a blank dismiss
  reason, a snooze date not within the next year, an unknown assignee — refuses the whole request
  (400 naming the field, or 422 for the assignee) and changes nothing. A ``sales_agent`` may send
  at most 25 ids and never reassigns (403); a viewer never runs bulk operations (403).
* ``assignedToName`` of ``…/bulk/assign`` is ignored: the name comes from the employee record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import attrs
import msgspec
from litestar import Response, post
from litestar.handlers import HTTPRouteHandler
from msgspec import UNSET, UnsetType

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import bulk as use_cases
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_body import post_route
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import Wire, WireIn
from customers_hub.entrypoints.http.wire.commands import body_of, to_command
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = [
    "ROUTES",
    "BulkAssignIn",
    "BulkAssigneeOut",
    "BulkCompleteIn",
    "BulkController",
    "BulkDismissIn",
    "BulkFailureOut",
    "BulkItemOut",
    "BulkOperation",
    "BulkOperationIn",
    "BulkResultData",
    "BulkSnoozeIn",
    "BulkUpdatesIn",
    "bulk_result_to_wire",
]

BULK_PATH: Final = "/customers/actions/bulk"
"""Path of the bulk operations, relative to ``/api/v1``."""


class BulkOperation(StrEnum):
    """``operation`` of ``POST /customers/actions/bulk``."""

    UPDATE = "update"
    COMPLETE = "complete"
    DISMISS = "dismiss"
    SNOOZE = "snooze"
    ASSIGN = "assign"


# ---------------------------------------------------------------------------------------------
# Wire: bodies


# The bodies of the bulk endpoints take the fields of their commands (wire.commands.body_of);
# a missing ``actionIds`` is an empty list, a missing ``reason`` or ``assignedTo`` None or "",
# so that the use case names them with every other failing field.
_NO_IDS: Final[dict[str, Any]] = {"action_ids": attrs.Factory(list)}
_UpdatesBody: Any = body_of(use_cases.ActionUpdates)
_CompleteBody: Any = body_of(use_cases.BulkComplete, defaults=_NO_IDS)
_DismissBody: Any = body_of(use_cases.BulkDismiss, defaults={**_NO_IDS, "reason": None})
_SnoozeBody: Any = body_of(use_cases.BulkSnooze, defaults=_NO_IDS)
_AssignBody: Any = body_of(
    use_cases.BulkAssign,
    defaults={**_NO_IDS, "assigned_to": ""},
    # the document sends it; the record's name is used
    extra=(("assigned_to_name", str | None, None),),
)


class BulkUpdatesIn(_UpdatesBody):  # type: ignore[misc]  # fields made from the command
    """``updates`` of a bulk update (absent keys keep; ``dueDate: null`` clears)."""


class BulkOperationIn(WireIn, kw_only=True):
    """``POST /customers/actions/bulk``: ``actionIds``, ``operation`` (default ``update``),
    ``updates`` for an update; ``notes``, ``outcome``, ``reason``, ``snoozedUntil`` or
    ``assignedTo`` for the other operations (as their own endpoints take them)."""

    action_ids: list[str] = msgspec.field(default_factory=list)
    operation: BulkOperation = BulkOperation.UPDATE
    updates: BulkUpdatesIn | None = None
    notes: str | None = None
    outcome: str | None = None
    reason: str | None = None
    snoozed_until: datetime | None = None
    assigned_to: str | None = None


class BulkCompleteIn(_CompleteBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/actions/bulk/complete``: every action gets ``notes`` as a note."""


class BulkDismissIn(_DismissBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/actions/bulk/dismiss``; ``reason`` is required."""


class BulkSnoozeIn(_SnoozeBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/actions/bulk/snooze``; ``snoozedUntil`` within the next 365 days."""


class BulkAssignIn(_AssignBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/actions/bulk/assign`` (``assignedToName`` is ignored)."""


# ---------------------------------------------------------------------------------------------
# Wire: the result


class BulkFailureOut(Wire, kw_only=True):
    """An id that was not changed, why, and the error code it would have had alone."""

    id: str
    reason: str
    code: str


class BulkItemOut(Wire, kw_only=True):
    """The outcome of one id: ``success`` or ``failed``."""

    id: str
    status: str


class BulkAssigneeOut(Wire, kw_only=True):
    """``assignedTo`` of a bulk assignment."""

    id: str
    name: str


class BulkResultData(Wire, kw_only=True):
    """``data`` of every bulk operation: the count named for the operation, ``failed``,
    ``actions``, and ``assignedTo`` for an assignment."""

    updated_count: int | UnsetType = UNSET
    completed_count: int | UnsetType = UNSET
    dismissed_count: int | UnsetType = UNSET
    snoozed_count: int | UnsetType = UNSET
    assigned_count: int | UnsetType = UNSET
    assigned_to: BulkAssigneeOut | UnsetType = UNSET
    failed: list[BulkFailureOut]
    actions: list[BulkItemOut]


_COUNT_KEYS: Final = {
    BulkOperation.UPDATE: "updated_count",
    BulkOperation.COMPLETE: "completed_count",
    BulkOperation.DISMISS: "dismissed_count",
    BulkOperation.SNOOZE: "snoozed_count",
    BulkOperation.ASSIGN: "assigned_count",
}


def bulk_result_to_wire(operation: BulkOperation, result: use_cases.BulkResult) -> BulkResultData:
    """The response ``data`` of ``result`` for ``operation``."""
    counts: dict[str, Any] = {_COUNT_KEYS[operation]: result.count}
    if operation is BulkOperation.ASSIGN and result.assignee is not None:
        counts["assigned_to"] = BulkAssigneeOut(id=result.assignee.id, name=result.assignee.name)
    return BulkResultData(
        **counts,
        failed=[to_wire(f, BulkFailureOut) for f in result.failed],
        actions=[BulkItemOut(id=i, status=s) for i, s in result.statuses()],
    )


_MESSAGES: Final = {
    BulkOperation.UPDATE: "Actions updated",
    BulkOperation.COMPLETE: "Actions completed",
    BulkOperation.DISMISS: "Actions dismissed",
    BulkOperation.SNOOZE: "Actions snoozed",
    BulkOperation.ASSIGN: "Actions assigned",
}


_USE_CASES: Final[
    dict[BulkOperation, tuple[Callable[[Dependencies, Actor, Any], Awaitable[Any]], type[Any]]]
] = {
    BulkOperation.UPDATE: (use_cases.bulk_update, use_cases.BulkUpdate),
    BulkOperation.COMPLETE: (use_cases.bulk_complete, use_cases.BulkComplete),
    BulkOperation.DISMISS: (use_cases.bulk_dismiss, use_cases.BulkDismiss),
    BulkOperation.SNOOZE: (use_cases.bulk_snooze, use_cases.BulkSnooze),
    BulkOperation.ASSIGN: (use_cases.bulk_assign, use_cases.BulkAssign),
}
"""Each operation's use case and its command (filled from the body by the same names)."""


async def _run(
    deps: Dependencies,
    actor: Actor,
    operation: BulkOperation,
    body: msgspec.Struct,
    **given: Any,
) -> Response[Envelope[BulkResultData]]:
    """One bulk operation through its use case, answered with the operation's result."""
    run, command = _USE_CASES[operation]
    result: use_cases.BulkResult = await run(deps, actor, to_command(body, command, **given))
    return ok(bulk_result_to_wire(operation, result), message=_MESSAGES[operation])


def _require_snooze_date(value: datetime | None) -> datetime:
    if value is None:
        raise ValidationFailed.single("snoozedUntil", "is required")
    return value


def _given(body: BulkOperationIn) -> dict[str, Any]:
    """The command values of a generic body that are not its same-named fields."""
    if body.operation is BulkOperation.UPDATE:
        updates = body.updates or BulkUpdatesIn()
        return {"updates": to_command(updates, use_cases.ActionUpdates)}
    if body.operation is BulkOperation.SNOOZE:
        return {"snoozed_until": _require_snooze_date(body.snoozed_until)}
    if body.operation is BulkOperation.ASSIGN:
        return {"assigned_to": body.assigned_to or ""}
    return {}


def _check_generic(body: BulkOperationIn) -> None:
    """Keys that belong to another operation than the one asked for (400 naming them)."""
    misplaced: list[FieldError] = []
    if body.operation is not BulkOperation.UPDATE and body.updates is not None:
        misplaced.append(FieldError("updates", "is accepted only with operation update"))
    if body.operation is BulkOperation.UPDATE:
        for name, value in (
            ("notes", body.notes),
            ("outcome", body.outcome),
            ("reason", body.reason),
            ("snoozedUntil", body.snoozed_until),
            ("assignedTo", body.assigned_to),
        ):
            if value is not None:
                misplaced.append(
                    FieldError(name, "is not accepted with operation update; use updates")
                )
    if misplaced:
        raise ValidationFailed(misplaced)


_BULK_ERRORS: Final = (403, 422)


def _dedicated(
    operation: BulkOperation,
    body: type[msgspec.Struct],
    *,
    summary: str,
    doc: str,
) -> HTTPRouteHandler:
    """The route ``POST …/bulk/<operation>`` (``bulk<Operation>Actions``): ``body`` (the
    operation's own fields) run as ``operation``, documented by ``summary`` and ``doc``."""

    async def handler(
        self: Any, deps: Dependencies, actor: Actor, data: Any
    ) -> Response[Envelope[BulkResultData]]:
        return await _run(deps, actor, operation, data)

    return post_route(
        handler,
        body,
        path=f"/{operation.value}",
        operation_id=f"bulk{operation.value.title()}Actions",
        summary=summary,
        doc=doc,
        errors=_BULK_ERRORS,
    )


class BulkController(StrictController):
    """``/api/v1/customers/actions/bulk``."""

    path = BULK_PATH
    tags = ("Bulk",)

    @post(
        "/",
        operation_id="bulkUpdateActions",
        summary="Bulk update actions (or any bulk operation)",
        status_code=200,
        responses=error_responses(*_BULK_ERRORS),
    )
    async def bulk(
        self, deps: Dependencies, actor: Actor, data: BulkOperationIn
    ) -> Response[Envelope[BulkResultData]]:
        """Set ``priority``, ``dueDate``, ``status`` and/or ``assignedTo`` on many actions
        (``operation: "update"``), or run ``complete``, ``dismiss``, ``snooze`` or ``assign``."""
        _check_generic(data)
        return await _run(deps, actor, data.operation, data, **_given(data))

    # The dedicated endpoints differ only in their body and operation (:func:`_dedicated`).
    bulk_complete = _dedicated(
        BulkOperation.COMPLETE,
        BulkCompleteIn,
        summary="Complete many actions",
        doc="Complete many actions; each gets ``notes`` as its own note.",
    )
    bulk_dismiss = _dedicated(
        BulkOperation.DISMISS,
        BulkDismissIn,
        summary="Dismiss many actions",
        doc="Dismiss many actions with one reason (400 on ``reason`` when blank).",
    )
    bulk_snooze = _dedicated(
        BulkOperation.SNOOZE,
        BulkSnoozeIn,
        summary="Snooze many actions",
        doc="Snooze many actions until a moment within the next 365 days.",
    )
    bulk_assign = _dedicated(
        BulkOperation.ASSIGN,
        BulkAssignIn,
        summary="Assign many actions to an employee",
        doc="Assign many actions to one active employee (managers: within the team).",
    )


ROUTES: list[Any] = [BulkController]
"""Mounted under ``/api/v1``."""

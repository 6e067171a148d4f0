"""Action counters: what the action statistics read instead of scanning (``docs/statistics.md``).

``tables.action_counters`` holds append-only delta rows keyed by (organization, action's
assignee, customer's assignee, dimension, value); the triggers of migration ``0017`` insert
them in the writer's transaction on every write to ``customer_actions`` (and on the customer
changes that move an action's counts: assignee, soft deletion, permanent deletion; and on a
note earlier than the action's ``first_note_at``). An action counts while its customer is live.

======================  =======================================================================
dimension (value)       counted
======================  =======================================================================
status (stored status)  every action
type, priority, source  open actions (stored ``pending``/``in_progress``)
no_due ("")             open actions without a due date
completion ("")         completed actions with ``completed_at``; ``millis`` sums creation →
                        completion
response ("")           actions with a first response (the first note or the completion,
                        whichever came first); ``millis`` sums creation → first response
======================  =======================================================================

Stored statuses only: what depends on "now" (snoozes that woke up, due-date buckets) is counted
by index range queries (:mod:`.action_statistics`). :func:`~.counters.fold` compacts the rows;
:func:`rebuild_action_counters` rebuilds an organization's from a scan. The trigger SQL lives in
the migration (migrations are history); :func:`contribution_selects` here is its twin, and the
tests check both against the scanning statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import tables as t

__all__ = [
    "contribution_selects",
    "rebuild_action_counters",
]

_KEY: Final = "organization_id, action_assignee, customer_assignee, dimension, value"


def _millis(postgres: bool, start: str, end: str) -> str:
    """Milliseconds from ``start`` to ``end`` (exact: PostgreSQL keeps the microseconds as
    decimals, SQLite's date functions have millisecond precision)."""
    if postgres:
        return f"((EXTRACT(EPOCH FROM {end}) - EXTRACT(EPOCH FROM {start})) * 1000)"
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000.0)"


def contribution_selects(postgres: bool, a: str, c: str, source: str, sign: int) -> list[str]:
    """One SELECT per dimension: the contribution of an action (alias prefix ``a``) of a
    customer (``c``) times ``sign``; ``source`` is the FROM … WHERE … clause (conditions are
    appended with AND)."""
    live = f"{c}deleted_at IS NULL"
    open_ = f"{live} AND {a}{t.OPEN_ACTIONS}"
    responded = (
        f"CASE WHEN {a}first_note_at IS NULL THEN {a}completed_at"
        f" WHEN {a}completed_at IS NULL THEN {a}first_note_at"
        f" WHEN {a}first_note_at < {a}completed_at THEN {a}first_note_at"
        f" ELSE {a}completed_at END"
    )
    s = str(sign)
    dims = [
        # dimension, value, millis, condition
        ("status", f"{a}status", "0", live),
        ("type", f"{a}type", "0", open_),
        ("priority", f"{a}priority", "0", open_),
        ("source", f"{a}source", "0", open_),
        ("no_due", "''", "0", f"{open_} AND {a}due_date IS NULL"),
        (
            "completion",
            "''",
            f"{s} * {_millis(postgres, f'{a}created_at', f'{a}completed_at')}",
            f"{live} AND {a}status = 'completed' AND {a}completed_at IS NOT NULL",
        ),
        (
            "response",
            "''",
            f"{s} * {_millis(postgres, f'{a}created_at', responded)}",
            f"{live} AND ({responded}) IS NOT NULL",
        ),
    ]
    return [
        f"SELECT {a}organization_id AS organization_id,"
        f" COALESCE({a}assigned_to, '') AS action_assignee,"
        f" COALESCE({c}assigned_employee_id, '') AS customer_assignee,"
        f" '{name}' AS dimension, {value} AS value, {s} AS n, {millis} AS millis"
        f" {source} AND {condition}"
        for name, value, millis, condition in dims
    ]


def _insert(selects: Sequence[str]) -> str:
    """One INSERT of the selects' contributions netted per key (zero nets are not written)."""
    union = " UNION ALL ".join(selects)
    return (
        f"INSERT INTO action_counters ({_KEY}, n, millis)"
        f" SELECT {_KEY}, SUM(n), SUM(millis) FROM ({union}) AS d GROUP BY {_KEY}"
        " HAVING SUM(n) <> 0 OR SUM(millis) <> 0"
    )


async def rebuild_action_counters(connection: AsyncConnection, organization_id: str) -> None:
    """Recount the organization's action counters from its actions (and ``first_note_at`` from
    its notes, and the copy of each action's customer's assignee and liveness of migration
    0019), in the caller's transaction: four set-based statements.

    On PostgreSQL the counter table is locked against writers' triggers (``SHARE ROW
    EXCLUSIVE``) first: a writer whose delta is not in yet waits, and its delta then applies to
    the state counted here."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        await connection.execute(text("LOCK TABLE action_counters IN SHARE ROW EXCLUSIVE MODE"))
    org = {"org": organization_id}
    first_note = (
        "(SELECT MIN(n.created_at) FROM action_notes n WHERE n.action_id = customer_actions.id)"
    )
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
    await connection.execute(
        text(
            f"UPDATE customer_actions SET first_note_at = {first_note}"
            f" WHERE organization_id = :org AND first_note_at {distinct} {first_note}"
        ),
        org,
    )
    customer = "FROM customers c WHERE c.id = customer_actions.customer_id"
    await connection.execute(
        text(
            "UPDATE customer_actions SET (customer_assignee_id, customer_live) ="
            f" (SELECT c.assigned_employee_id, c.deleted_at IS NULL {customer})"
            f" WHERE organization_id = :org AND EXISTS (SELECT 1 {customer} AND"
            f" (c.assigned_employee_id {distinct} customer_actions.customer_assignee_id"
            " OR (c.deleted_at IS NULL) <> customer_actions.customer_live))"
        ),
        org,
    )
    c = t.action_counters.c
    await connection.execute(delete(t.action_counters).where(c.organization_id == organization_id))
    source = (
        "FROM customer_actions a JOIN customers c ON c.id = a.customer_id"
        " WHERE a.organization_id = :org"
    )
    await connection.execute(
        text(_insert(contribution_selects(postgres, "a.", "c.", source, 1))), org
    )

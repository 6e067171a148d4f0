"""Assignment rules in SQL (rules §10): :class:`SqlAssignmentRules` implements the port on a
unit of work's connection.

What a new customer costs:

* no rule — one read of ``ix_assignment_rules_org_active_order`` (:meth:`heads`), which finds
  nothing;
* a fitting rule — that read, the rule row locked ``FOR UPDATE`` with its employees (one
  statement each: :meth:`lock`), the employees' states (the caller's ``get_many``), for
  ``load_balanced`` one grouped count over ``ix_customers_org_assigned_stage_live``
  (:meth:`loads`), and one ``UPDATE`` of the pointer (:meth:`advance`) — the same for a batch
  (one statement per kind, rules locked in id order so two batches never deadlock).

The row lock is what makes the round-robin pointer safe on several instances: a second create
of the same rule waits at :meth:`lock` until the first commits, then reads its pointer. SQLite
has no row locks, but its writers are serialized (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.adapters.sql.offset_pages import offset_page
from customers_hub.adapters.sql.repositories import ChangeLog
from customers_hub.adapters.sql.repositories.base import _update_versioned
from customers_hub.adapters.sql.tables import (
    assignment_rule_employees,
    assignment_rules,
    customers,
    employees,
)
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.assignment import (
    LOAD_STAGES,
    AssignmentRule,
    RuleHead,
)
from customers_hub.domain.audit import EntityType, FieldChange, Write

__all__ = ["SqlAssignmentRules", "sql_assignment_rules"]

_R = assignment_rules
_E = assignment_rule_employees
_C = customers
_EMP = employees
_CONTEXT_FIELD: Final = "assignmentRuleId"

# Columns are the rule's attributes by name (mappers.rows; ``match`` in JSON), but for its
# employees, stored apart in ``assignment_rule_employees``.


def _values(rule: AssignmentRule) -> dict[str, Any]:
    return row_values(rule, _R)


def _rule(row: Row[Any], employee_ids: Sequence[str]) -> AssignmentRule:
    return from_row(AssignmentRule, _R, row._mapping, employee_ids=tuple(employee_ids))


class SqlAssignmentRules:
    """The assignment rules port on one unit of work (its connection and change log)."""

    def __init__(self, connection: AsyncConnection, log: ChangeLog) -> None:
        self._conn = connection
        self._log = log

    # --- assigning -------------------------------------------------------------------------

    async def heads(self, organization_id: str) -> list[RuleHead]:
        """The active rules in checking order (no employees)."""
        rows = await self._conn.execute(
            select(_R.c.id, _R.c.priority, _R.c.created_at, _R.c.version, _R.c.match)
            .where(_R.c.organization_id == organization_id, _R.c.active.is_(True))
            .order_by(_R.c.priority, _R.c.created_at, _R.c.id)
        )
        return [from_row(RuleHead, _R, r._mapping) for r in rows]

    async def lock(self, organization_id: str, rule_ids: Sequence[str]) -> list[AssignmentRule]:
        """The rules locked ``FOR UPDATE`` in id order, with their employees."""
        if not rule_ids:
            return []
        rows = (
            await self._conn.execute(
                select(_R)
                .where(_R.c.organization_id == organization_id, _R.c.id.in_(rule_ids))
                .order_by(_R.c.id)
                .with_for_update()
            )
        ).all()
        return await self._with_employees(rows)

    async def loads(self, organization_id: str, employee_ids: Sequence[str]) -> dict[str, int]:
        """Live customers in ``new_lead`` … ``negotiation`` per employee (one grouped count)."""
        if not employee_ids:
            return {}
        rows = await self._conn.execute(
            select(_C.c.assigned_employee_id, func.count())
            .where(
                _C.c.organization_id == organization_id,
                _C.c.assigned_employee_id.in_(employee_ids),
                _C.c.stage.in_([s.value for s in LOAD_STAGES]),
                _C.c.deleted_at.is_(None),
            )
            .group_by(_C.c.assigned_employee_id)
        )
        return {str(employee_id): int(count) for employee_id, count in rows}

    async def advance(self, organization_id: str, pointers: Mapping[str, str]) -> None:
        """Move the pointers (one executemany; the rows are locked by :meth:`lock`)."""
        if not pointers:
            return
        await self._conn.execute(
            update(_R)
            .where(_R.c.organization_id == organization_id, _R.c.id == bindparam("rule_id"))
            .values(last_employee_id=bindparam("employee_id")),
            [{"rule_id": r, "employee_id": e} for r, e in sorted(pointers.items())],
        )

    async def note_decisions(self, organization_id: str, rule_of: Mapping[str, str]) -> None:
        """``assignmentRuleId`` in the audit entries of the customers written here."""
        self._log.annotate(
            EntityType.CUSTOMER,
            {c: (FieldChange(_CONTEXT_FIELD, None, r),) for c, r in rule_of.items()},
        )

    # --- the rules themselves --------------------------------------------------------------

    async def add(self, rule: AssignmentRule) -> None:
        """Insert the rule and its employees (audited)."""
        await self._conn.execute(insert(_R).values(_values(rule)))
        await self._insert_employees(rule)
        self._log.record(
            Write.INSERT,
            EntityType.ASSIGNMENT_RULE,
            rule.organization_id,
            rule.id,
            None,
            None,
            rule,
        )

    async def get(
        self, organization_id: str, rule_id: str, *, for_update: bool = False
    ) -> AssignmentRule | None:
        """The rule of the organization with its employees, or None."""
        query = select(_R).where(_R.c.organization_id == organization_id, _R.c.id == rule_id)
        if for_update:
            query = query.with_for_update()
        rows = (await self._conn.execute(query)).all()
        found = await self._with_employees(rows)
        return found[0] if found else None

    async def count(self, organization_id: str) -> int:
        """How many rules the organization has."""
        total = await self._conn.scalar(
            select(func.count()).select_from(_R).where(_R.c.organization_id == organization_id)
        )
        return int(total or 0)

    async def save(self, rule: AssignmentRule, *, expected_version: int) -> None:
        """Replace the rule if its version is still ``expected_version`` (audited)."""
        before = await self.get(rule.organization_id, rule.id)
        await _update_versioned(
            self._conn,
            _R,
            _values(rule),
            kind="assignment_rule",
            organization_id=rule.organization_id,
            record_id=rule.id,
            expected_version=expected_version,
            written_once=("id", "organization_id", "created_at", "created_by", "last_employee_id"),
        )
        if before is None or before.employee_ids != rule.employee_ids:
            await self._conn.execute(delete(_E).where(_E.c.rule_id == rule.id))
            await self._insert_employees(rule)
        self._log.record(
            Write.UPDATE,
            EntityType.ASSIGNMENT_RULE,
            rule.organization_id,
            rule.id,
            None,
            before,
            rule,
        )

    async def delete(self, rule: AssignmentRule) -> None:
        """Delete the rule (its employees cascade; audited)."""
        await self._conn.execute(delete(_E).where(_E.c.rule_id == rule.id))
        await self._conn.execute(
            delete(_R).where(_R.c.organization_id == rule.organization_id, _R.c.id == rule.id)
        )
        self._log.record(
            Write.DELETE,
            EntityType.ASSIGNMENT_RULE,
            rule.organization_id,
            rule.id,
            None,
            rule,
            None,
        )

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _outside_team(manager_id: str) -> Any:
        """An employee of the rule who is neither ``manager_id`` nor reports to them."""
        reports = select(_EMP.c.id).where(
            _EMP.c.organization_id == _E.c.organization_id,
            _EMP.c.id == _E.c.employee_id,
            _EMP.c.manager_id == manager_id,
        )
        return (
            select(_E.c.rule_id)
            .where(
                _E.c.rule_id == _R.c.id,
                _E.c.employee_id != manager_id,
                ~exists(reports),
            )
            .correlate(_R)
        )

    async def _insert_employees(self, rule: AssignmentRule) -> None:
        await self._conn.execute(
            insert(_E),
            [
                {
                    "rule_id": rule.id,
                    "position": i,
                    "organization_id": rule.organization_id,
                    "employee_id": e,
                }
                for i, e in enumerate(rule.employee_ids)
            ],
        )

    async def _with_employees(self, rows: Sequence[Row[Any]]) -> list[AssignmentRule]:
        """The rules of ``rows`` with their employees (one query for all of them)."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        listed: defaultdict[str, list[str]] = defaultdict(list)
        for rule_id, employee_id in await self._conn.execute(
            select(_E.c.rule_id, _E.c.employee_id)
            .where(_E.c.rule_id.in_(ids))
            .order_by(_E.c.rule_id, _E.c.position)
        ):
            listed[rule_id].append(employee_id)
        return [_rule(r, listed[r.id]) for r in rows]

    # Last: in the class body its name shadows the builtin ``list`` of the annotations.
    async def list(
        self, organization_id: str, *, page: int, limit: int, team_of: str | None = None
    ) -> Page[AssignmentRule]:
        """A page of the rules in checking order, with the total."""
        where = [_R.c.organization_id == organization_id]
        if team_of is not None:
            where.append(~exists(self._outside_team(team_of)))
        query = select(_R).where(*where).order_by(_R.c.priority, _R.c.created_at, _R.c.id)
        found = await offset_page(self._conn, query, lambda r: r, page=page, limit=limit)
        # The rules' employees: one query for the whole page.
        rules = await self._with_employees(found.items)
        return Page(items=rules, limit=limit, page=page, total_items=found.total_items)


def sql_assignment_rules(uow: UnitOfWork) -> SqlAssignmentRules:
    """The repository on ``uow``'s transaction (the port's factory)."""
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError("the SQL assignment rules need the SQL unit of work")
    return SqlAssignmentRules(uow.connection, uow.change_log)

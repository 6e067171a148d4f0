"""The assignment rules' port (rules §10): rules and the reads and writes assigning needs, on
the caller's unit of work (every method joins its transaction; none commits)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.assignment import AssignmentRule, RuleHead

__all__ = ["AssignmentRuleRepository", "AssignmentRuleRepositoryFactory"]


class AssignmentRuleRepository(Protocol):
    """An organization's assignment rules."""

    async def heads(self, organization_id: str) -> list[RuleHead]:
        """The active rules in checking order, without their employees: the one indexed read
        every new customer costs when the organization has no rule."""
        ...

    async def lock(self, organization_id: str, rule_ids: Sequence[str]) -> list[AssignmentRule]:
        """The rules, with their employees, locked until the transaction ends (``FOR UPDATE``
        in id order, so concurrent creates take the round-robin pointer one after another)."""
        ...

    async def loads(self, organization_id: str, employee_ids: Sequence[str]) -> dict[str, int]:
        """Live customers in ``new_lead`` … ``negotiation`` per employee (one grouped count;
        an employee without any is absent)."""
        ...

    async def advance(self, organization_id: str, pointers: Mapping[str, str]) -> None:
        """Set each rule's round-robin pointer (rule id → employee chosen last)."""
        ...

    async def note_decisions(self, organization_id: str, rule_of: Mapping[str, str]) -> None:
        """Name the deciding rule in the audit entry of each customer (customer id → rule id)
        written in this unit of work."""
        ...

    async def add(self, rule: AssignmentRule) -> None:
        """Insert the rule and its employees."""
        ...

    async def get(
        self, organization_id: str, rule_id: str, *, for_update: bool = False
    ) -> AssignmentRule | None:
        """The rule of the organization, or None."""
        ...

    async def list(
        self, organization_id: str, *, page: int, limit: int, team_of: str | None = None
    ) -> Page[AssignmentRule]:
        """The rules in checking order; with ``team_of`` only those whose employees are all
        that manager or report to them."""
        ...

    async def count(self, organization_id: str) -> int:
        """How many rules the organization has."""
        ...

    async def save(self, rule: AssignmentRule, *, expected_version: int) -> None:
        """Replace the rule (its ``version`` is the new one) if it still has
        ``expected_version``, else ``ConcurrentUpdate``."""
        ...

    async def delete(self, rule: AssignmentRule) -> None:
        """Delete the rule and its employees."""
        ...


AssignmentRuleRepositoryFactory = Callable[[UnitOfWork], AssignmentRuleRepository]
"""The repository on a unit of work's transaction."""

"""Saudi compliance (rules §7) in the use cases: gathering the facts the domain rules need, the
licensed-assignee check, and the agent's checklist (``GET /customers/{id}/compliance``).

The rules themselves are data in :mod:`customers_hub.domain.compliance_rules`; here is what they
need from storage, read in the caller's unit of work: the organization's settings (whether FAL
licences are required, its time zone for "today"), the assigned employee's licence, and whether
the deal's property is off-plan in the catalog.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.domain import lifecycle
from customers_hub.domain.access import Operation
from customers_hub.domain.compliance_rules import (
    ChecklistItem,
    ComplianceFacts,
    licence_is_valid,
)
from customers_hub.domain.enums import PropertyInterestStatus, Stage
from customers_hub.domain.errors import AssignmentRejected
from customers_hub.domain.model import Actor, Customer, Employee
from customers_hub.domain.settings import OrganizationSettings

__all__ = [
    "ComplianceReport",
    "compliance_facts",
    "get_compliance",
    "organization_settings",
    "require_licensed_assignee",
]

_DEAL_STATUSES = frozenset({PropertyInterestStatus.OFFER_MADE, PropertyInterestStatus.PURCHASED})


async def organization_settings(uow: UnitOfWork, organization_id: str) -> OrganizationSettings:
    """The organization's stored settings, or §9's defaults when none are stored."""
    record = await uow.organization_settings.get(organization_id)
    return record.settings if record is not None else OrganizationSettings()


async def _deal_property_off_plan(uow: UnitOfWork, customer: Customer) -> bool:
    for interest in customer.property_interests:
        if interest.status in _DEAL_STATUSES:
            prop = await uow.properties.get(customer.organization_id, interest.property_id)
            if prop is not None and prop.off_plan:
                return True
    return False


async def compliance_facts(
    uow: UnitOfWork, customer: Customer, assignee: Employee | None, now: datetime
) -> ComplianceFacts:
    """Everything §7 needs about ``customer`` besides the customer, read in ``uow``."""
    settings = await organization_settings(uow, customer.organization_id)
    return ComplianceFacts(
        today=settings.local_today(now),
        require_fal_licence=settings.require_fal_licence,
        assigned=assignee is not None,
        broker_licence=assignee.fal_licence if assignee is not None else None,
        deal_property_off_plan=await _deal_property_off_plan(uow, customer),
    )


async def require_licensed_assignee(
    uow: UnitOfWork, customer: Customer, target: Employee, now: datetime, *, field: str
) -> None:
    """§7: with FAL licences required, a customer in ``negotiation`` or later is assigned only
    to an employee whose licence is valid today (else 422 ``VALIDATION_ERROR`` on ``field``)."""
    if customer.stage.rank < Stage.NEGOTIATION.rank:
        return
    settings = await organization_settings(uow, customer.organization_id)
    if settings.require_fal_licence and not licence_is_valid(
        target.fal_licence, settings.local_today(now)
    ):
        raise AssignmentRejected(
            "A customer in negotiation or later needs an assignee with a FAL licence valid "
            "today (the organization requires FAL licences)",
            {"field": field},
        )


@frozen
class ComplianceReport:
    """The checklist of one customer: its stage and, for each later stage, every rule's state."""

    customer_id: str
    stage: Stage
    require_fal_licence: bool
    items: tuple[ChecklistItem, ...]

    @property
    def next_stage(self) -> Stage | None:
        """The stage after the customer's (``None`` at ``post_sale``)."""
        later = [s for s in Stage if s.rank == self.stage.rank + 1]
        return later[0] if later else None


async def get_compliance(deps: Dependencies, actor: Actor, customer_id: str) -> ComplianceReport:
    """The compliance checklist of a customer the actor may read (404 / 403 as a read)."""
    # Imported here: the customers use cases import this module for the stage change.
    from customers_hub.application.use_cases.customers import load_customer

    async with deps.uow(read_only=True) as uow:
        loaded = await load_customer(
            uow, actor, customer_id, Operation.READ_CUSTOMERS, for_update=False
        )
        facts = await compliance_facts(uow, loaded.customer, loaded.assignee, deps.clock.now())
    customer = loaded.customer
    return ComplianceReport(
        customer_id=customer.id,
        stage=customer.stage,
        require_fal_licence=facts.require_fal_licence,
        items=lifecycle.checklist(customer, facts),
    )

"""Moving a customer along the lifecycle (API document, endpoint 5; rules §1 and §7).

The checks run in the order of :mod:`.customers`; the stage machine and its guards are
:mod:`customers_hub.domain.lifecycle`'s."""

from __future__ import annotations

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.compliance import (
    compliance_facts,
)
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    STAGE_REASON_MAX_LENGTH,
    CustomerWithAssignee,
    check_version,
    load_customer,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import lifecycle
from customers_hub.domain.access import (
    Operation,
)
from customers_hub.domain.events import (
    DomainEvent,
)
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import (
    Errors,
)

__all__ = ["ChangeStage", "change_stage"]


# ---------------------------------------------------------------------------------------------
# Stage


@frozen
class ChangeStage:
    """Move customer ``customer_id`` to another stage (rules §1); ``expected_version`` is
    ``If-Match``."""

    customer_id: str
    request: lifecycle.StageChangeRequest
    expected_version: int | None = None


async def change_stage(
    deps: Dependencies, actor: Actor, command: ChangeStage
) -> CustomerWithAssignee:
    """Apply a stage change with its history entry, score and system actions (contract_prep:
    ``document_required``; down_payment: ``payment_due``); the moved customer with its
    (unchanged) assignee."""

    errors = Errors()
    # The reason is a String(500) column; notes are free text. Blank stays blank (None): the
    # lifecycle decides whether a reason was required.
    request = evolve(
        command.request,
        reason=errors.text("reason", command.request.reason, max_length=STAGE_REASON_MAX_LENGTH),
        notes=errors.text(
            "notes", command.request.notes, max_length=NOTES_MAX_LENGTH, multiline=True
        ),
    )

    async def work(uow: UnitOfWork) -> tuple[CustomerWithAssignee, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
        customer = loaded.customer
        check_version(customer, command.expected_version)
        errors.raise_if_any()
        moved, events = lifecycle.change_stage(
            customer,
            request,
            actor=actor,
            entry_id=deps.ids.new_id("stage"),
            now=now,
            facts=await compliance_facts(uow, customer, loaded.assignee, now),
        )
        await uow.customers.save(moved, expected_version=customer.version)
        result = CustomerWithAssignee(moved, loaded.assignee)
        return result, await loaded.follow_on_events(uow, deps, moved, events, now)

    return await transaction_as(deps, actor, work)

"""Deleting a customer (soft, or permanent for an admin) and restoring a soft-deleted one.

The checks run in the order of :mod:`.customers`, where the decisions about deleting are
written down."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from attrs import frozen

from customers_hub.application.context import Dependencies, delete_stored_files
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.customers import (
    CustomerWithAssignee,
    check_version,
    load_customer,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import (
    Operation,
)
from customers_hub.domain.errors import (
    Duplicate,
)
from customers_hub.domain.events import (
    DomainEvent,
)
from customers_hub.domain.model import (
    Actor,
    Document,
)

__all__ = [
    "CustomerDeletion",
    "DeleteCustomer",
    "RestoreCustomer",
    "delete_customer",
    "restore_customer",
]


# Every document of a customer is loaded for a permanent delete (a customer holds a handful).
_ALL_DOCUMENTS = 100_000


# ---------------------------------------------------------------------------------------------
# Delete and restore


@frozen
class DeleteCustomer:
    """Delete customer ``customer_id``: soft (restorable) or, with ``permanent``, for good;
    ``expected_version`` is the ``If-Match`` version, if any."""

    customer_id: str
    permanent: bool = False
    expected_version: int | None = None


@frozen
class RestoreCustomer:
    """Undo the soft delete of customer ``customer_id``."""

    customer_id: str


@frozen
class CustomerDeletion:
    """What a delete did: ``deleted_at`` is the moment of the (soft or permanent) delete."""

    customer_id: str
    deleted_at: datetime
    permanent: bool


async def delete_customer(
    deps: Dependencies, actor: Actor, command: DeleteCustomer
) -> CustomerDeletion:
    """Soft-delete (sales manager in team, admin) or, with ``permanent``, remove for good (admin;
    a soft-deleted customer can be removed too). Document bytes go after the commit.
    ``expected_version`` is the ``If-Match`` version (412 when the customer moved on)."""
    customer_id, expected_version = command.customer_id, command.expected_version
    if not command.permanent:

        async def soft(uow: UnitOfWork) -> tuple[CustomerDeletion, list[DomainEvent]]:
            now = deps.clock.now()
            loaded = await load_customer(uow, actor, customer_id, Operation.SOFT_DELETE_CUSTOMER)
            check_version(loaded.customer, expected_version)
            deleted, events = aggregate.soft_delete(loaded.customer, now=now)
            await uow.customers.save(deleted, expected_version=loaded.customer.version)
            return CustomerDeletion(customer_id, now, permanent=False), events

        return await transaction_as(deps, actor, soft)

    async def hard(
        uow: UnitOfWork,
    ) -> tuple[tuple[CustomerDeletion, list[str]], list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(
            uow, actor, customer_id, Operation.PERMANENT_DELETE_CUSTOMER, include_deleted=True
        )
        check_version(loaded.customer, expected_version)
        listed = await uow.relations.list_for_customer(
            actor.organization_id, customer_id, frozenset({"documents"}), _ALL_DOCUMENTS
        )
        keys = [d.storage_key for d in cast(list[Document], listed.get("documents", []))]
        await uow.customers.delete(actor.organization_id, customer_id)
        events = aggregate.permanent_delete(loaded.customer, now=now)
        return (CustomerDeletion(customer_id, now, permanent=True), keys), events

    deletion, keys = await transaction_as(deps, actor, hard)
    # The rows are gone and the key is never reused: leftover bytes are unreachable.
    await delete_stored_files(deps.storage, keys)
    return deletion


async def restore_customer(
    deps: Dependencies, actor: Actor, command: RestoreCustomer
) -> CustomerWithAssignee:
    """Undo a soft delete (admin). 409 when the customer is not deleted, or when another live
    customer has its phone now. The restored customer with its assignee."""

    async def work(uow: UnitOfWork) -> tuple[CustomerWithAssignee, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(
            uow, actor, command.customer_id, Operation.RESTORE_CUSTOMER, include_deleted=True
        )
        customer = loaded.customer
        restored, events = aggregate.restore(customer, now=now)
        if await uow.customers.phone_in_use(
            actor.organization_id, customer.phone, excluding_id=customer.id
        ):
            raise Duplicate(
                "Another customer has this phone number now; change it before restoring",
                field="phone",
            )
        await uow.customers.save(restored, expected_version=customer.version)
        return CustomerWithAssignee(restored, loaded.assignee), events

    return await transaction_as(deps, actor, work)

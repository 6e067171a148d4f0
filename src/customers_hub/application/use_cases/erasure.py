"""The erasure of a customer's personal data (rules §8, PDPL): admins only.

``erase_customer`` runs in one transaction (:func:`transaction_as`, so it is audited):

1. the customer is read for update (another organization's, or none: 404; a soft-deleted one
   is erased too — it still holds the data);
2. :func:`customers_hub.domain.erasure.erase` replaces its personal fields, and the customer
   repository saves it (a versioned UPDATE that also recomputes its search and duplicate
   columns); its audit entry, ``customer.erased``, holds masked values only;
3. the :class:`ErasureStore` clears the free text of its relations, masks its earlier audit
   values and the stored events naming it;
4. ``customer.erased`` is emitted (its cache invalidation drops every view embedding the name).

After the commit the documents' files are deleted from storage (as the permanent delete does: a
file deleted before a commit that then failed would be lost for a customer still holding it),
and the store reclaims freed space. A second erasure changes nothing and answers the same
state; it deletes the files again (deleting is idempotent), which completes an erasure whose
file deletion failed.

A customer with an EJAR contract or a sale that reached ``closing`` is *restricted*: it keeps
its name and national id until the organization's retention period (``retentionYears``) ends,
and is hidden from every list, search, duplicate check and export; only admins read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from attrs import frozen

from customers_hub.application.context import Dependencies, delete_stored_files, present
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.settings import settings_in
from customers_hub.application.write_context import transaction_as
from customers_hub.domain.access import require_admin_role
from customers_hub.domain.erasure import erase, personal_values, redact
from customers_hub.domain.errors import NotFound
from customers_hub.domain.events import CustomerErased, DomainEvent
from customers_hub.domain.model import Actor, Customer
from customers_hub.domain.validation.texts import SHORT_TEXT_MAX_LENGTH, clean_text

__all__ = [
    "REASON_MAX",
    "EraseCustomer",
    "Erasure",
    "check_reason",
    "erase_customer",
]

REASON_MAX: Final = SHORT_TEXT_MAX_LENGTH
"""Longest ``reason`` of an erasure (one line, like every reason)."""


@frozen
class Erasure:
    """The state of an erased customer: the same however often it is asked for."""

    customer_id: str
    erased_at: datetime
    restricted_until: datetime | None

    @property
    def restricted(self) -> bool:
        """True while the customer is kept, hidden, for its contract."""
        return self.restricted_until is not None


def check_reason(reason: str | None) -> str | None:
    """The cleaned reason (blank: none), or a 400 naming ``reason``."""
    if reason is None:
        return None
    cleaned = clean_text("reason", reason, max_length=REASON_MAX)
    return cleaned or None


def _admin_only(actor: Actor) -> None:
    # Rules §8: every privacy operation is admin-only (403 whatever the id).
    require_admin_role(actor, "erase customers")


def _state(customer: Customer) -> Erasure:
    assert customer.erased_at is not None
    return Erasure(customer.id, customer.erased_at, customer.restricted_until)


@frozen(kw_only=True)
class EraseCustomer:
    """Erase customer ``customer_id``'s personal data, for ``reason`` (optional, one line)."""

    customer_id: str
    reason: str | None = None


async def erase_customer(deps: Dependencies, actor: Actor, command: EraseCustomer) -> Erasure:
    """Erase the customer's personal data (admin); irreversible, idempotent."""
    _admin_only(actor)
    erasure = present(deps.erasure, "erasure")
    cleaned = check_reason(command.reason)  # bad input never opens a write transaction
    organization_id = actor.organization_id
    customer_id = command.customer_id

    async def work(uow: UnitOfWork) -> tuple[tuple[Erasure, list[str]], list[DomainEvent]]:
        customer = await uow.customers.get_for_update(organization_id, customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        store = erasure.on(uow)
        keys = await store.storage_keys(organization_id, customer_id)
        if customer.erased_at is not None:
            return (_state(customer), keys), []  # irreversible: nothing more to do
        now = deps.clock.now()
        settings = await settings_in(deps, uow, organization_id)
        erased = erase(customer, now=now, retention_years=settings.retention_years).customer
        await uow.customers.save(erased, expected_version=customer.version)
        await store.erase_relations(organization_id, customer_id, personal_values(customer))
        event = CustomerErased(
            organization_id=organization_id,
            occurred_at=now,
            employee_ids=(customer.assigned_employee_id,) if customer.assigned_employee_id else (),
            customer_id=customer_id,
            restricted=erased.is_restricted,
            restricted_until=erased.restricted_until,
            # The admin's words stay, the customer's identifiers in them do not.
            reason=redact(cleaned, personal_values(customer)) if cleaned else None,
        )
        return (_state(erased), keys), [event]

    state, keys = await transaction_as(deps, actor, work)
    # The erasure stands even where a file fails to go; a second erase deletes it again.
    await delete_stored_files(deps.storage, keys)
    await erasure.reclaim_space()
    return state

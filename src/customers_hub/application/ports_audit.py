"""The audit trail's read port (a commit hook writes the trail: ``adapters.sql.audit``)."""

from __future__ import annotations

from typing import Protocol

from customers_hub.application.queries import Page, PageRequest
from customers_hub.domain.audit import AuditEntry

__all__ = ["AuditLog"]


class AuditLog(Protocol):
    """A customer's audit entries, and the masking of their personal values."""

    async def customer_page(
        self, organization_id: str, customer_id: str, page: PageRequest
    ) -> Page[AuditEntry]:
        """One page of the customer's entries, newest first, by cursor (``""``: the first)."""
        ...

    async def mask_customer(self, organization_id: str, customer_id: str) -> int:
        """Mask the personal values of the customer's entries; how many entries changed."""
        ...

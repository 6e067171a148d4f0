"""The fields every wire form of an audit entry shares (the timeline's and the access export's)."""

from __future__ import annotations

from typing import Any

from customers_hub.domain.audit import AuditEntry
from customers_hub.entrypoints.http.wire.convert import out_of

__all__ = ["AuditEntryFields"]


# Never the organization; the customer is the path's; changes and request id per subclass.
_EntryFields: Any = out_of(
    AuditEntry, skip=("organization_id", "customer_id", "changes", "request_id")
)


class AuditEntryFields(_EntryFields):  # type: ignore[misc]  # fields made from the record
    """Who changed which entity, how and when; each subclass adds ``changes`` and ``requestId``
    in its own form. Never a response on its own (so never a schema of its own)."""

"""The fields every wire form of an audit entry shares (the timeline's and the access export's)."""

from __future__ import annotations

from datetime import datetime

from customers_hub.entrypoints.http.wire.base import Wire

__all__ = ["AuditEntryFields"]


class AuditEntryFields(Wire, kw_only=True):
    """Who changed which entity, how and when; each subclass adds ``changes`` and ``requestId``
    in its own form. Never a response on its own (so never a schema of its own)."""

    id: str
    at: datetime
    actor_id: str
    actor_name: str
    action: str
    entity_type: str
    entity_id: str

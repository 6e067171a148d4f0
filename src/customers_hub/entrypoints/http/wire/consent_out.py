"""The wire form of a consent entry (rules §8): shown by the consent endpoints, the access
export and ``GET /customers/{id}?include=consents`` (its own module so that the customer's
wire shape can embed it without importing the privacy endpoints' schemas)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from customers_hub.domain.privacy import ConsentChannel
from customers_hub.entrypoints.http.wire.base import Wire

__all__ = ["ConsentOut"]


class ConsentOut(Wire, kw_only=True):
    """One consent entry: the current state of its channel, or a line of the history."""

    id: str
    channel: ConsentChannel
    granted: bool
    source: str
    at: datetime
    actor_id: str
    notes: str | msgspec.UnsetType = msgspec.UNSET

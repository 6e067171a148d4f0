"""The wire form of a consent entry (rules §8): shown by the consent endpoints, the access
export and ``GET /customers/{id}?include=consents`` (its own module so that the customer's
wire shape can embed it without importing the privacy endpoints' schemas)."""

from __future__ import annotations

from typing import Any

from customers_hub.domain.privacy import ConsentEntry
from customers_hub.entrypoints.http.wire.convert import out_of

__all__ = ["ConsentOut"]


# Never the organization; the customer is the path's (or the record's that embeds it).
_ConsentFields: Any = out_of(ConsentEntry, skip=("organization_id", "customer_id"))


class ConsentOut(_ConsentFields):  # type: ignore[misc]  # fields made from the record
    """One consent entry: the current state of its channel, or a line of the history."""

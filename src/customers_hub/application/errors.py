"""Errors of the application layer (the domain's errors pass through unchanged)."""

from __future__ import annotations

from customers_hub.domain.errors import DomainError


class ConcurrentUpdate(DomainError):
    """The record changed since it was read (optimistic concurrency; 409 or 412 at the edge)."""

    code = "CONCURRENT_UPDATE"

    def __init__(self, resource_type: str, resource_id: str) -> None:
        self.resource_type = resource_type
        self.resource_id = resource_id
        super().__init__(f"{resource_type} {resource_id} was changed by another request")

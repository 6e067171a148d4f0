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


class PreconditionFailed(DomainError):
    """``If-Match`` named a version the record no longer has (412 ``PRECONDITION_FAILED``).

    Unlike :class:`ConcurrentUpdate` it is never retried: the caller decided on an old version
    and must read the record again.
    """

    code = "PRECONDITION_FAILED"

    def __init__(
        self, resource_type: str, resource_id: str, *, expected_version: int, current_version: int
    ) -> None:
        self.resource_type = resource_type
        self.resource_id = resource_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"{resource_type} {resource_id} is at version {current_version}, not {expected_version}"
        )


class PayloadTooLarge(DomainError):
    """An uploaded file larger than the configured limit (413 ``PAYLOAD_TOO_LARGE``)."""

    code = "PAYLOAD_TOO_LARGE"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"File of {size} bytes exceeds the limit of {limit} bytes")


class UnsupportedMediaType(DomainError):
    """An uploaded file of a type that is not accepted (415 ``UNSUPPORTED_MEDIA_TYPE``)."""

    code = "UNSUPPORTED_MEDIA_TYPE"

    def __init__(self, mime_type: str, allowed: tuple[str, ...]) -> None:
        self.mime_type = mime_type
        self.allowed = allowed
        super().__init__(f"Files of type {mime_type or 'unknown'} are not accepted")

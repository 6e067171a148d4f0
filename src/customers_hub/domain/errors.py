"""Domain errors. Each carries what an edge needs to answer with the API document's error codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen


class DomainError(Exception):
    """Base of every error a rule of the domain raises."""

    code: str = "DOMAIN_ERROR"


@frozen
class FieldError:
    """One failing field, named by its camelCase API path (``preferences.budgetMin``)."""

    field: str
    message: str


class ValidationFailed(DomainError):
    """Bad input: every failing field, not only the first (400 ``VALIDATION_ERROR``)."""

    code = "VALIDATION_ERROR"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        """A failure of one field."""
        return cls([FieldError(field, message)])


class UnprocessableInput(ValidationFailed):
    """Input of the right shape whose content cannot be used — a file that is no spreadsheet, a
    text that is not the JSON object it must hold, a mapping naming columns the file lacks:
    422 ``VALIDATION_ERROR`` naming each field (no schema can state these)."""


class BusinessRuleViolation(DomainError):
    """Input of the right shape that a business rule refuses (422)."""

    code = "BUSINESS_RULE_VIOLATION"

    def __init__(self, message: str, details: Mapping[str, object] | None = None) -> None:
        self.message = message
        self.details: dict[str, object] = dict(details or {})
        super().__init__(message)


class InvalidStageTransition(BusinessRuleViolation):
    """A stage change the lifecycle refuses (422 ``INVALID_STAGE_TRANSITION``)."""

    code = "INVALID_STAGE_TRANSITION"


class InvalidActionTransition(BusinessRuleViolation):
    """An action status change the action machine refuses (422 ``INVALID_ACTION_TRANSITION``)."""

    code = "INVALID_ACTION_TRANSITION"


class AssignmentRejected(BusinessRuleViolation):
    """An assignee that is not an active employee of the organization (422 ``VALIDATION_ERROR``)."""

    code = "VALIDATION_ERROR"


class PermissionDenied(DomainError):
    """Same organization, but outside the caller's scope or role (403 ``PERMISSION_DENIED``)."""

    code = "PERMISSION_DENIED"

    def __init__(self, message: str, *, required_permission: str, current_role: str) -> None:
        self.message = message
        self.required_permission = required_permission
        self.current_role = current_role
        super().__init__(message)


class NotFound(DomainError):
    """No such record for this caller; also what another organization's record looks like (404)."""

    code = "RESOURCE_NOT_FOUND"

    def __init__(self, resource_type: str, resource_id: str) -> None:
        self.resource_type = resource_type
        self.resource_id = resource_id
        super().__init__(f"{resource_type.capitalize()} not found")


class Duplicate(DomainError):
    """A resource that already exists (409 ``DUPLICATE_RESOURCE``)."""

    code = "DUPLICATE_RESOURCE"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)

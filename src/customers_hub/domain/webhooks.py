"""Webhooks as data and pure rules: what a hook subscribes to, where it may point, how a
delivery is signed, when a failed delivery is retried and when a failing hook is disabled.

No I/O here: resolving a host name, sending a request and reading the clock belong to the
application and the adapters, which pass the results (addresses, ``now``, a random number) in.

* **Event names** (:data:`EVENT_NAMES`): the ``name`` of every domain event; a hook lists some
  of them or ``["*"]`` (:data:`ALL_EVENTS`) for every one.
* **Target URLs** (:func:`url_errors`, :func:`is_public_address`): ``http`` or ``https`` with a
  host, no credentials, no fragment; an address that is private, loopback, link-local,
  multicast, reserved or unspecified is refused (the service would otherwise be a proxy into its
  own network) unless the deployment allows them (tests, private installations).
* **Signatures** (:func:`signature_header`, :func:`verify_signature`):
  ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`` with the hook's secret.
* **Retries** (:class:`RetryPolicy`, :func:`retry_delay`, :func:`next_attempt_at`): exponential
  backoff with jitter, capped, for about a day; then the delivery is ``failed``.
* **Disabling** (:func:`should_disable`): a hook whose deliveries keep failing for
  :attr:`RetryPolicy.disable_after` is turned off, with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Literal
from urllib.parse import urlsplit

from attrs import frozen

from customers_hub.domain.errors import FieldError
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.validation.texts import NOTES_MAX_LENGTH

__all__ = [
    "ALL_EVENTS",
    "DESCRIPTION_MAX",
    "EVENTS_MAX",
    "EVENT_NAMES",
    "SIGNATURE_TOLERANCE",
    "URL_MAX",
    "DeliveryStatus",
    "EventName",
    "IpAddress",
    "RetryPolicy",
    "Webhook",
    "WebhookDelivery",
    "event_errors",
    "is_public_address",
    "matches",
    "next_attempt_at",
    "normalized_events",
    "retry_delay",
    "should_disable",
    "sign",
    "signature_header",
    "url_errors",
    "verify_signature",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALL_EVENTS: Final = "*"
"""The subscription to every event."""
URL_MAX: Final = 2048
DESCRIPTION_MAX: Final = NOTES_MAX_LENGTH
"""A description is a note (the API's every ``description``: 2000 characters, no control
characters)."""
EVENTS_MAX: Final = 50
SIGNATURE_TOLERANCE: Final = 300
"""Seconds a receiver should accept between the signature's ``t`` and its own clock."""


EventName = Literal[
    "*",
    "action.created",
    "action.note_added",
    "action.updated",
    "customer.appointment_scheduled",
    "customer.assigned",
    "customer.consent_changed",
    "customer.created",
    "customer.deleted",
    "customer.document_uploaded",
    "customer.erased",
    "customer.interaction_logged",
    "customer.merged",
    "customer.personal_data_exported",
    "customer.property_added",
    "customer.reminder_created",
    "customer.restored",
    "customer.score_changed",
    "customer.stage_changed",
    "customer.unmerged",
    "customer.updated",
    "customers.exported",
    "customers.imported",
    "employee.saved",
    "organization.settings_updated",
    "privacy_request.created",
    "privacy_request.updated",
]
"""What a hook's ``events`` may list, as a type (the API schema's enum); a unit test checks it
against :data:`EVENT_NAMES`."""


def _event_names() -> frozenset[str]:
    names: set[str] = set()
    pending: list[type[DomainEvent]] = [DomainEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not DomainEvent:
            names.add(cls.name)
    return frozenset(names)


EVENT_NAMES: Final = _event_names()
"""Every domain event's wire name (``customer.created``, ``action.updated``, …)."""


class DeliveryStatus(StrEnum):
    """Where a delivery stands: waiting for an attempt, done, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@frozen(kw_only=True)
class Webhook:
    """A subscription of one organization's events by an HTTP endpoint."""

    id: str
    organization_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    description: str | None = None
    is_active: bool = True
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str


@frozen(kw_only=True)
class WebhookDelivery:
    """One event to send to one hook, and what its attempts gave so far."""

    id: str
    webhook_id: str
    organization_id: str
    position: int
    event_id: str
    event: str
    status: DeliveryStatus
    attempts: int
    last_response_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


def matches(subscribed: Iterable[str], event: str) -> bool:
    """True when a hook subscribed to ``subscribed`` receives ``event``."""
    wanted = set(subscribed)
    return ALL_EVENTS in wanted or event in wanted


def event_errors(events: Sequence[str], field: str = "events") -> list[FieldError]:
    """What is wrong with a hook's event list: empty, too long, unknown names (each reported
    with its index)."""
    if not events:
        return [FieldError(field, "must list at least one event name, or '*'")]
    if len(events) > EVENTS_MAX:
        return [FieldError(field, f"must list at most {EVENTS_MAX} event names")]
    return [
        FieldError(f"{field}[{i}]", f"unknown event name {name!r}")
        for i, name in enumerate(events)
        if name != ALL_EVENTS and name not in EVENT_NAMES
    ]


def normalized_events(events: Sequence[str]) -> tuple[str, ...]:
    """The stored form of an event list: ``("*",)`` when it holds ``*`` (every event already),
    else its names once each, in the order given."""
    if ALL_EVENTS in events:
        return (ALL_EVENTS,)
    return tuple(dict.fromkeys(events))


def url_errors(url: str, field: str = "url") -> list[FieldError]:
    """What is wrong with a target URL's shape (its addresses are judged separately)."""
    if len(url) > URL_MAX:
        return [FieldError(field, f"must be at most {URL_MAX} characters")]
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in 0..65535
    except ValueError as error:
        return [FieldError(field, f"is not a valid URL ({error})")]
    if parts.scheme not in ("http", "https"):
        return [FieldError(field, "must be an http or https URL")]
    if not parts.hostname:
        return [FieldError(field, "must name a host")]
    if parts.username is not None or parts.password is not None:
        return [FieldError(field, "must not carry credentials; the signature authenticates")]
    if parts.fragment or "#" in url:
        return [FieldError(field, "must not have a fragment")]
    if port == 0:
        return [FieldError(field, "must not use port 0")]
    if not all("!" <= c <= "~" for c in url):
        return [
            FieldError(field, "must be printable ASCII without spaces (percent-encode the rest)")
        ]
    return []


def is_public_address(address: IpAddress) -> bool:
    """True for a globally routable unicast address (never private, loopback, link-local,
    multicast, reserved, unspecified — nor an IPv4 one hidden in an IPv6 form)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast


# ---------------------------------------------------------------------------------------------
# Signatures


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """``X-CustomersHub-Signature``: ``t=<timestamp>,v1=<signature>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance: int = SIGNATURE_TOLERANCE
) -> bool:
    """What a receiver checks: one ``v1`` of ``header`` signs ``body`` and ``t`` is within
    ``tolerance`` seconds of ``now`` (constant-time comparison)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)


# ---------------------------------------------------------------------------------------------
# Retries


@frozen
class RetryPolicy:
    """Exponential backoff with jitter: attempt ``n`` failed → wait ``base * factor**(n-1)``
    seconds (at most ``cap``), times a random factor in ``[1 - jitter, 1 + jitter]``; no attempt
    later than ``give_up_after`` seconds after the delivery was created (then it is
    ``failed``). A hook failing without a success for ``disable_after`` seconds is disabled.

    The defaults retry for about a day: 10 s, 20 s, 40 s … an hour, then hourly.
    """

    base: float = 10.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.2
    give_up_after: float = 86_400.0
    disable_after: float = 3 * 86_400.0

    def __attrs_post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base:
            raise ValueError(f"invalid retry policy {self!r}: need 0 < base <= cap, factor >= 1")
        if not 0 <= self.jitter < 1 or self.give_up_after <= 0 or self.disable_after <= 0:
            raise ValueError(f"invalid retry policy {self!r}: jitter in [0, 1), positive ages")


def retry_delay(policy: RetryPolicy, attempts: int, rand: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts (``rand`` uniform in [0, 1))."""
    if attempts < 1:
        raise ValueError("a retry follows at least one attempt")
    # The exponent is bounded so a huge attempt count cannot overflow a float.
    exponent = min(attempts - 1, 64)
    delay = min(policy.cap, policy.base * policy.factor**exponent)
    return delay * (1 - policy.jitter + 2 * policy.jitter * rand)


def next_attempt_at(
    policy: RetryPolicy, attempts: int, created_at: datetime, now: datetime, rand: float
) -> datetime | None:
    """When to try again after ``attempts`` failures, or ``None`` once past
    ``give_up_after`` (the delivery is then ``failed``)."""
    at = now + timedelta(seconds=retry_delay(policy, attempts, rand))
    if at - created_at > timedelta(seconds=policy.give_up_after):
        return None
    return at


def should_disable(policy: RetryPolicy, failing_since: datetime | None, now: datetime) -> bool:
    """True when a hook has failed without a success for ``disable_after`` seconds."""
    return failing_since is not None and now - failing_since >= timedelta(
        seconds=policy.disable_after
    )

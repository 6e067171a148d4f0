"""Rate limits at the HTTP edge: one token bucket per user and endpoint category.

Every request to the API (``/api/v1/…``; not ``/health``, ``/ready``, the OpenAPI document or
the interactive docs, nor WebSocket connections) is counted in one category
(:func:`request_category`):

* ``bulk`` — ``/customers/actions/bulk…``;
* ``search`` — ``POST /customers/search`` and ``POST /customers/query``;
* ``upload`` — ``POST /customers/{id}/documents``;
* ``read`` — any other ``GET`` (``HEAD``, ``OPTIONS``);
* ``write`` — any other ``POST``, ``PUT``, ``PATCH``, ``DELETE``.

The bucket belongs to the token's user (``organizationId`` + ``userId``) and the limit to the
token's role (:data:`~customers_hub.adapters.ratelimit.RATE_LIMITS`: the document's two tables).
A request without a valid token is counted by client address in the ``auth`` category (5/min,
burst 10): guessing tokens is throttled, and the 401 still answers until the budget is spent.
The token is verified once per request (:func:`~.auth.verified_actor`): the rate limiter runs
before the authentication middleware (:class:`~.middleware.AuthenticationMiddleware`, which
answers the 401) and both read the same verified caller from the scope state.
Behind a proxy, let the ASGI server rewrite the client address from ``X-Forwarded-For``
(uvicorn ``--proxy-headers --forwarded-allow-ips=…``).

Every counted response carries ``X-RateLimit-Limit`` (the role's requests per minute, the
document's "Limit"), ``X-RateLimit-Remaining`` (requests that may still be sent now, at most the
limit, so that Remaining never reads above Limit), ``X-RateLimit-Burst`` (the most that may be
sent at once, the document's "Burst": a client with unused burst may send up to that many before
a 429 even though Remaining shows at most Limit) and ``X-RateLimit-Reset`` (Unix seconds when the
bucket is full again). Over budget the
answer is 429 ``RATE_LIMIT_EXCEEDED`` with ``Retry-After`` (seconds until one more request is
allowed) and ``details`` ``{limit, remaining, resetAt}``. A category the role may not use at all
(a viewer's writes and bulk operations: limit 0) is not refused here: the request goes on and the
access policy answers 403.

With Redis the buckets are shared by every instance; while Redis is unreachable each instance
counts on its own (see :mod:`customers_hub.adapters.ratelimit`).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

import msgspec
from attrs import field, frozen
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from customers_hub.adapters.metrics import RATE_LIMIT_REFUSALS
from customers_hub.adapters.ratelimit import (
    CATEGORY_LIMITS,
    RATE_LIMITS,
    RATE_WINDOW,
    rate_limit_key,
)
from customers_hub.application.rate_limits import (
    RateCategory,
    RateLimit,
    RateLimitDecision,
    RateLimiter,
)
from customers_hub.domain.enums import Role
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.auth import AuthenticationFailed, AuthSettings, verified_actor
from customers_hub.entrypoints.http.envelope import current_context, meta, utc_timestamp
from customers_hub.entrypoints.http.errors import ErrorBody, ErrorEnvelope
from customers_hub.entrypoints.http.wire.base import API_PREFIX, QUERY_POSTS, READ_METHODS

__all__ = [
    "LIMIT_HEADER",
    "RATE_LIMIT_MESSAGE",
    "REMAINING_HEADER",
    "RESET_HEADER",
    "RateLimitMiddleware",
    "RateLimitPolicy",
    "rate_limit_headers",
    "request_category",
]

LOGGER: Final = logging.getLogger("customers_hub.http")

LIMIT_HEADER: Final = "X-RateLimit-Limit"
REMAINING_HEADER: Final = "X-RateLimit-Remaining"
RESET_HEADER: Final = "X-RateLimit-Reset"
BURST_HEADER: Final = "X-RateLimit-Burst"
RATE_LIMIT_MESSAGE: Final = "Rate limit exceeded. Please try again later."

_BULK_PREFIX: Final = f"{API_PREFIX}/customers/actions/bulk"
_UPLOAD_PATH: Final = re.compile(rf"^{re.escape(API_PREFIX)}/customers/[^/]+/documents$")
_UNLIMITED: Final = (f"{API_PREFIX}/docs", f"{API_PREFIX}/openapi.json")


def request_category(method: str, path: str) -> RateCategory | None:
    """The category a request is counted in, or ``None`` when it is not limited."""
    path = path.rstrip("/") or "/"
    if not path.startswith(API_PREFIX + "/"):
        return None  # /health, /ready and anything outside the API
    if any(path == p or path.startswith(p + "/") for p in _UNLIMITED):
        return None
    if path == _BULK_PREFIX or path.startswith(_BULK_PREFIX + "/"):
        return RateCategory.BULK
    verb = method.upper()
    if path in QUERY_POSTS and verb not in READ_METHODS:
        return RateCategory.SEARCH
    if verb == "POST" and _UPLOAD_PATH.match(path):
        return RateCategory.UPLOAD
    return RateCategory.READ if verb in READ_METHODS else RateCategory.WRITE


def _anonymous_rule() -> RateLimit:
    limit, burst = CATEGORY_LIMITS[RateCategory.AUTH]
    return RateLimit(limit, RATE_WINDOW, burst)


@frozen
class RateLimitPolicy:
    """The buckets: per role and category for authenticated callers, ``anonymous`` for requests
    without a valid token (by client address). Override for tests or a deployment's own
    numbers."""

    limits: Mapping[Role, Mapping[RateCategory, RateLimit]] = RATE_LIMITS
    anonymous: RateLimit = field(factory=_anonymous_rule)

    def rule(self, role: Role | None, category: RateCategory) -> RateLimit:
        """The bucket of ``role`` (``None``: no valid token) in ``category``."""
        if role is None:
            return self.anonymous
        return self.limits[role][category]


def rate_limit_headers(decision: RateLimitDecision) -> dict[str, str]:
    """``X-RateLimit-*`` of a decision (and ``Retry-After`` when refused)."""
    headers = {
        LIMIT_HEADER: str(decision.limit),
        REMAINING_HEADER: str(min(decision.remaining, decision.limit)),
        BURST_HEADER: str(decision.burst),
        RESET_HEADER: str(math.ceil(decision.reset_at)),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after_seconds)
    return headers


def _caller(scope: Scope, auth: AuthSettings) -> Actor | None:
    # The one verification of the request (kept in its scope state): the authentication
    # middleware inside this one reads the same result and answers the 401.
    try:
        return verified_actor(scope, auth)
    except AuthenticationFailed:
        return None


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class RateLimitMiddleware:
    """ASGI middleware counting each API request against its caller's bucket.

    Built by ``create_app`` with ``DefineMiddleware(RateLimitMiddleware, limiter=…,
    policy=…, auth=…)`` after the request-context middleware (so a 429 has a request id and a
    log line) and before the authentication middleware (so a request without a valid token is
    counted before its 401).
    """

    def __init__(
        self, app: ASGIApp, *, limiter: RateLimiter, policy: RateLimitPolicy, auth: AuthSettings
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.policy = policy
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        category = request_category(str(scope.get("method", "GET")), str(scope.get("path", "")))
        if category is None:
            await self.app(scope, receive, send)
            return
        actor = _caller(scope, self.auth)
        if actor is None:
            category = RateCategory.AUTH
            key = rate_limit_key("anonymous", _client_address(scope), category)
            rule = self.policy.anonymous
        else:
            key = rate_limit_key(actor.organization_id, actor.user_id, category)
            rule = self.policy.rule(actor.role, category)
        try:
            decision = await self.limiter.hit(key, rule)
        except Exception:  # the limiters never raise on outages; anything else must not 500
            LOGGER.exception("rate limiter failed; request let through unlimited")
            await self.app(scope, receive, send)
            return
        headers = _encode_headers(rate_limit_headers(decision))
        # A limit of 0 means the role may not do this at all: the access policy answers (403).
        if not decision.allowed and rule.limit > 0:
            RATE_LIMIT_REFUSALS.labels(category=category.value).inc()
            await self._refuse(scope, send, decision, headers, actor, category)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        decision: RateLimitDecision,
        headers: list[tuple[bytes, bytes]],
        actor: Actor | None,
        category: RateCategory,
    ) -> None:
        context = current_context()
        if actor is not None:
            context.user_id = actor.user_id
            context.organization_id = actor.organization_id
        reset_at = datetime.fromtimestamp(math.ceil(decision.reset_at), UTC)
        envelope = ErrorEnvelope(
            success=False,
            error=ErrorBody(
                code="RATE_LIMIT_EXCEEDED",
                message=RATE_LIMIT_MESSAGE,
                details={
                    "limit": decision.limit,
                    "remaining": decision.remaining,
                    "resetAt": utc_timestamp(reset_at),
                },
            ),
            meta=meta(),
        )
        body = msgspec.json.encode(envelope)
        LOGGER.info(
            json.dumps(
                {
                    "event": "http.rate_limited",
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "category": category.value,
                    "requestId": context.request_id,
                    "userId": context.user_id,
                    "organizationId": context.organization_id,
                },
                ensure_ascii=False,
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("latin-1")),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

"""``Idempotency-Key`` on the HTTP writes (Stripe's semantics; ``docs/idempotency.md``).

:class:`IdempotencyMiddleware` runs after authentication (it knows the caller's organization
and user) on every ``POST`` but the read-only ones (:data:`READ_ONLY_POSTS`) and on
:data:`KEYED_PATCHES`. For a request with the header it

1. checks the key (1–255 printable ASCII: else 422 ``VALIDATION_ERROR`` naming the header);
2. buffers the body and fingerprints the request (sha256 of method, path, query, content type
   and body);
3. claims the key in a short transaction of its own
   (:meth:`~customers_hub.application.idempotency.IdempotencyStore.claim`): a stored response is
   replayed with ``Idempotent-Replayed: true``; another request under the key is 422
   ``IDEMPOTENCY_KEY_REUSED``; a key still running is 409 ``IDEMPOTENCY_IN_PROGRESS``;
4. runs the handler with the claim in a context variable: the SQL commit hook marks the key
   ``committed`` in the write's own transaction, so the write and its key are durable together;
5. stores the response (status, headers, body) before it leaves, so every response a client
   saw can be replayed; a 5xx stores nothing and frees a key whose write did not commit.

The response of a keyed request is not compressed (``Accept-Encoding`` is dropped for it): the
stored body is the same whatever the retrying client accepts. Expired keys are swept at most
once a minute per process, after a keyed response has been sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final, cast

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, HTTPScope, Message, Receive, Scope, Send

from customers_hub.application.idempotency import (
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    Claim,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotencyStore,
    KeyScope,
    StoredResponse,
    bound_claim,
    check_key,
    fingerprint,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.auth import ACTOR_STATE_KEY
from customers_hub.entrypoints.http.errors import (
    ApiError,
    FieldDetail,
    error_response,
    handle_exception,
)
from customers_hub.entrypoints.http.headers import scope_header
from customers_hub.entrypoints.http.wire.base import API_PREFIX, QUERY_POSTS

__all__ = [
    "KEYED_PATCHES",
    "KEY_HEADER",
    "READ_ONLY_POSTS",
    "REPLAYED_HEADER",
    "SWEEP_INTERVAL",
    "IdempotencyMiddleware",
    "document_idempotency",
    "http_fingerprint",
    "is_keyed",
]

LOGGER: Final = logging.getLogger("customers_hub.http")

KEY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
READ_ONLY_POSTS: Final = QUERY_POSTS
"""POSTs that only read (a query in a body): they ignore the key."""
KEYED_PATCHES: Final = frozenset({f"{API_PREFIX}/customers/{{customer_id}}/stage"})
"""PATCHes that act (a stage change adds history and actions) and so take the key too."""
SWEEP_INTERVAL: Final = 60.0
"""Seconds between two sweeps of expired keys by one process."""

_KEY_NAME: Final = KEY_HEADER.lower().encode("latin-1")
_DROPPED_REQUEST_HEADERS: Final = frozenset({b"accept-encoding"})
# Set again on the replay (length) or per request (the outer middleware's id, the date).
_UNSTORED_RESPONSE_HEADERS: Final = frozenset({"content-length", "date", "x-request-id", "server"})


def is_keyed(method: str, path_template: str) -> bool:
    """Whether a request to ``path_template`` with ``method`` takes an ``Idempotency-Key``."""
    method = method.upper()
    if method == "POST":
        return path_template.startswith(API_PREFIX) and path_template not in READ_ONLY_POSTS
    return method == "PATCH" and path_template in KEYED_PATCHES


def http_fingerprint(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    """What identifies a keyed HTTP request: the same key with another fingerprint is reused."""
    return fingerprint(
        [b"http", method.encode("latin-1"), path.encode(), query, content_type.encode(), body]
    )


async def _answer(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer with the error envelope of ``exc`` (as the exception handler would)."""
    request: Request[Any, Any, Any] = Request(scope, receive)
    if isinstance(exc, ValidationFailed):
        # A header the request cannot be run with: 422, naming the header.
        fields = [FieldDetail(KEY_HEADER, e.message) for e in exc.errors]
        response = error_response(
            ApiError(422, "VALIDATION_ERROR", "Invalid Idempotency-Key header", fields), request
        )
    else:
        response = handle_exception(request, exc)
    handler = scope.get("route_handler")
    encoders = handler.resolve_type_encoders() if handler is not None else None
    asgi = response.to_asgi_response(app=None, request=request, type_encoders=encoders)
    await asgi(scope, receive, send)


async def _replay(send: Send, stored: StoredResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
    headers.append((b"content-length", str(len(stored.body)).encode("latin-1")))
    headers.append((REPLAYED_HEADER.lower().encode("latin-1"), b"true"))
    await send({"type": "http.response.start", "status": stored.status or 200, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


class IdempotencyMiddleware:
    """ASGI middleware: the ``Idempotency-Key`` of the HTTP writes (see the module docstring).

    ``store``: the keys (the hub's database); ``max_body``: the largest body buffered for a
    fingerprint (a larger one is passed on unkeyed, for the body limit to refuse it).
    """

    def __init__(self, app: ASGIApp, *, store: IdempotencyStore, max_body: int) -> None:
        self.app = app
        self.store = store
        self.max_body = max_body
        self._last_sweep = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        template = scope.get("path_template")
        raw_key = scope_header(scope, _KEY_NAME) if scope["type"] == ScopeType.HTTP else None
        actor = scope.get("state", {}).get(ACTOR_STATE_KEY)
        if (
            raw_key is None
            or not isinstance(template, str)
            or not isinstance(actor, Actor)
            or not is_keyed(cast("HTTPScope", scope)["method"], template)
        ):
            await self.app(scope, receive, send)
            return
        http = cast("HTTPScope", scope)
        try:
            key = check_key(raw_key, KEY_HEADER)
        except ValidationFailed as invalid:
            await _answer(scope, receive, send, invalid)
            return
        chunks, complete = await self._buffer(receive)
        replay = _replaying(chunks, receive if not complete else None)
        if not complete:  # too large to fingerprint: the body limit answers (413)
            await self.app(scope, replay, send)
            return
        request_fingerprint = http_fingerprint(
            http["method"],
            http["path"],
            bytes(http.get("query_string", b"")),
            scope_header(scope, b"content-type") or "",
            b"".join(chunks),
        )
        scope_key = KeyScope(actor.organization_id, actor.user_id, key)
        try:
            outcome = await self.store.claim(scope_key, request_fingerprint)
        except (IdempotencyKeyReused, IdempotencyInProgress) as refused:
            await _answer(scope, replay, send, refused)
            return
        if isinstance(outcome, StoredResponse):
            await _replay(send, outcome)
            return
        await self._run(scope, replay, send, outcome)
        await self._sweep_now_and_then()

    async def _buffer(self, receive: Receive) -> tuple[list[bytes], bool]:
        """The body's chunks, and whether they are all of it (within ``max_body``)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return chunks, False  # a disconnect: let the app see it
            chunk = bytes(message.get("body", b""))
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                return chunks, True
            if size > self.max_body:
                return chunks, False

    async def _run(self, scope: Scope, receive: Receive, send: Send, claim: Claim) -> None:
        """Run the handler under ``claim``, store its response, then send it."""
        starts: list[Any] = []  # the http.response.start message
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                starts.append(message)
            elif message["type"] == "http.response.body":
                body.append(bytes(message.get("body", b"")))

        headers = scope.get("headers", ())
        inner = {
            **scope,
            "headers": [
                (k, v) for k, v in headers if bytes(k).lower() not in _DROPPED_REQUEST_HEADERS
            ],
        }
        try:
            with bound_claim(claim):
                await self.app(inner, receive, capture)  # type: ignore[arg-type]
        except BaseException:
            await self.store.release(claim)
            raise
        if not starts:  # pragma: no cover - the app always answers
            await self.store.release(claim)
            return
        started = starts[0]
        status = int(started["status"])
        content = b"".join(body)
        if status >= 500:
            await self.store.release(claim)  # kept when its write committed: never run twice
        else:
            stored = tuple(
                (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                for k, v in started.get("headers", ())
                if bytes(k).decode("latin-1").lower() not in _UNSTORED_RESPONSE_HEADERS
            )
            await self.store.complete(claim, StoredResponse(status, stored, content))
        await send(started)
        await send({"type": "http.response.body", "body": content, "more_body": False})

    async def _sweep_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < SWEEP_INTERVAL:
            return
        self._last_sweep = now
        try:
            await self.store.sweep()
        except Exception:  # the next sweep catches up; a request never fails for it
            LOGGER.exception("sweeping expired idempotency keys failed")


def _replaying(chunks: list[bytes], rest: Receive | None) -> Receive:
    """A ``receive`` that gives the buffered ``chunks`` again, then ``rest`` (if any)."""
    pending = list(chunks)

    async def receive() -> Any:
        if pending:
            chunk = pending.pop(0)
            more = bool(pending) or rest is not None
            message: HTTPRequestEvent = {"type": "http.request", "body": chunk, "more_body": more}
            return message
        if rest is not None:
            return await rest()
        return {"type": "http.disconnect"}

    return receive


# ---------------------------------------------------------------------------------------------
# The OpenAPI document


def document_idempotency(schema: dict[str, Any]) -> None:
    """Declare the optional ``Idempotency-Key`` header, its 409/422 answers and the
    ``Idempotent-Replayed`` response header on every keyed operation of ``schema``."""
    parameter = {
        "name": KEY_HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Run this write at most once: a retry with the same key within 24 hours gets the "
            "first response back (with `Idempotent-Replayed: true`); the same key with another "
            "request is 422 `IDEMPOTENCY_KEY_REUSED`, while the first runs 409 "
            "`IDEMPOTENCY_IN_PROGRESS`. Keys are per user."
        ),
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": KEY_MAX_LENGTH,
            "pattern": KEY_PATTERN,
            "examples": ["3f9c2a1e-7b4d-4c36-9a52-2d1f0e8b6c11"],
        },
    }
    replayed = {
        "description": "`true` when the response is the stored first response of the key",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not is_keyed(method, path):
                continue
            parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
            if not any(p.get("name") == KEY_HEADER for p in parameters):
                parameters.append(dict(parameter))
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status, response in responses.items():
                if not status.startswith("5"):  # any stored answer may be replayed
                    response.setdefault("headers", {})[REPLAYED_HEADER] = dict(replayed)
            for status, note in (
                (
                    "409",
                    "or the idempotency key's first request still running "
                    "(`IDEMPOTENCY_IN_PROGRESS`)",
                ),
                (
                    "422",
                    "or the idempotency key used with another request "
                    "(`IDEMPOTENCY_KEY_REUSED`) or malformed (`VALIDATION_ERROR`)",
                ),
            ):
                entry = responses.get(status)
                if entry is not None and note not in entry.get("description", ""):
                    entry["description"] = f"{entry.get('description', '')}; {note}".lstrip("; ")

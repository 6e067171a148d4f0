"""Idempotency keys: "run this write once for this key" (Stripe's semantics).

A write sent with a key is claimed for ``(organization, user, key)`` before it runs. The claim
becomes durable *with* the write: :data:`~customers_hub.application.context.CommitHook` of the
SQL adapter marks it ``committed`` inside the write's own transaction, so a write can never
commit while its key stays free to run it again. The first result is then stored for
:data:`KEY_TTL` and every later call with the same key and the same request gets it back
unchanged; the same key with another request is :class:`IdempotencyKeyReused`, and a call while
the first is still running (or committed without a stored result) is
:class:`IdempotencyInProgress`.

Two forms share the store and its rules:

* the HTTP edge (``entrypoints/http/idempotency.py``) stores each keyed response;
* :func:`run_once` is the embedding form for services that call the use cases directly::

      async def create() -> dict[str, str]:
          created = await create_customer(hub.deps, actor, CreateCustomer(draft))
          return {"customerId": created.customer.id}

      result = await run_once(hub.idempotency, actor, "crm-42", {"phone": phone}, create)

The claim travels from whoever claimed to the commit hook in a context variable
(:func:`current_claim`): the write's use case needs no parameter for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Final, Protocol, TypeAlias

from attrs import frozen

from customers_hub.application.write_context import bound
from customers_hub.domain.errors import DomainError, ValidationFailed
from customers_hub.domain.model import Actor

__all__ = [
    "KEY_MAX_LENGTH",
    "KEY_PATTERN",
    "KEY_TTL",
    "LEASE",
    "Claim",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IdempotencyStore",
    "JsonValue",
    "KeyScope",
    "StoredResponse",
    "bound_claim",
    "check_key",
    "current_claim",
    "fingerprint",
    "run_once",
]

KEY_MAX_LENGTH: Final = 255
KEY_PATTERN: Final = r"^[!-~]([ -~]{0,253}[!-~])?$"
"""1–255 printable ASCII characters, not starting or ending with a space (HTTP strips those, so
such a key could never arrive as sent)."""
_KEY: Final = re.compile(KEY_PATTERN)

KEY_TTL: Final = timedelta(hours=24)
"""How long a key and its stored result are kept (then swept, and the key is free again)."""
LEASE: Final = timedelta(seconds=60)
"""How long a claim is held for a write that has not committed yet. A holder that crashed
before committing leaves an expired lease, which the next call with the key takes over."""

JsonValue: TypeAlias = Any
"""A value :func:`json.dumps` accepts (dicts, lists, strings, numbers, booleans, None)."""


class IdempotencyKeyReused(DomainError):
    """The key was used before with another request (422 ``IDEMPOTENCY_KEY_REUSED``)."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            "This idempotency key was already used with another request; use a new key"
        )


class IdempotencyInProgress(DomainError):
    """The key's first request is still running (409 ``IDEMPOTENCY_IN_PROGRESS``).

    ``committed``: its write committed but its result was never stored (the process stopped in
    between); the write is never run again, so this answer stands until the key expires.
    """

    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self, key: str, *, committed: bool = False) -> None:
        self.key = key
        self.committed = committed
        super().__init__(
            "The write of this idempotency key was done but its response was lost; read the "
            "resource instead of retrying"
            if committed
            else "A request with this idempotency key is still in progress; retry later"
        )


@frozen
class KeyScope:
    """Whose key: keys of different users or organizations never meet."""

    organization_id: str
    user_id: str
    key: str


@frozen
class Claim:
    """A key held by this caller; ``token`` proves it (a taken-over claim has another)."""

    scope: KeyScope
    token: str


@frozen
class StoredResponse:
    """The first result of a key: an HTTP response (status, headers, body) or, for
    :func:`run_once`, a JSON document as ``body`` with no status."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes


class IdempotencyStore(Protocol):
    """Keys and their first results, shared by every instance (the database)."""

    async def claim(self, scope: KeyScope, request_fingerprint: str) -> Claim | StoredResponse:
        """Hold the key for a request, or return its stored result.

        Raises :class:`IdempotencyKeyReused` when the key was claimed for another fingerprint,
        :class:`IdempotencyInProgress` when its holder's lease is live or its write committed
        without a stored result. An expired key, or a lease that passed before its write
        committed, is taken over.
        """
        ...

    async def complete(self, claim: Claim, response: StoredResponse) -> bool:
        """Store the result of ``claim``; False when the claim was lost (taken over)."""
        ...

    async def release(self, claim: Claim) -> None:
        """Free the key again when nothing of it committed (a failed request may be retried)."""
        ...

    async def sweep(self, limit: int = 1000) -> int:
        """Delete at most ``limit`` expired keys; how many were deleted."""
        ...


_CLAIM: ContextVar[Claim | None] = ContextVar("customers_hub_idempotency_claim", default=None)


def current_claim() -> Claim | None:
    """The claim of the write being run, for the commit hook (None without a key)."""
    return _CLAIM.get()


def bound_claim(claim: Claim | None) -> AbstractContextManager[None]:
    """Make ``claim`` the current one while the write runs."""
    return bound(_CLAIM, claim)


def check_key(key: str, field: str = "idempotencyKey") -> str:
    """``key`` when it is 1–255 printable ASCII characters, else ``ValidationFailed``."""
    if not _KEY.fullmatch(key):
        raise ValidationFailed.single(
            field,
            f"must be 1-{KEY_MAX_LENGTH} printable ASCII characters without leading or "
            "trailing spaces",
        )
    return key


def fingerprint(parts: Sequence[bytes]) -> str:
    """The sha256 (hex) of ``parts``, each length-prefixed so no two lists hash alike."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _canonical(value: JsonValue) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def run_once(
    store: IdempotencyStore,
    actor: Actor,
    key: str,
    request: JsonValue,
    work: Callable[[], Awaitable[JsonValue]],
) -> JsonValue:
    """Run ``work`` once for ``key``: its JSON-able result is stored, and a later call with the
    same key and ``request`` returns it without running ``work``.

    ``request`` is what identifies the call (JSON-able; compared by content): the same key with
    another ``request`` raises :class:`IdempotencyKeyReused`; while the first call runs,
    :class:`IdempotencyInProgress`. Every write ``work`` makes through the use cases marks the
    key in its own transaction. When ``work`` raises, the key is freed for a retry unless one
    of its writes had committed (then the key answers :class:`IdempotencyInProgress` until it
    expires: the write is never run twice). The result is returned as stored (JSON-decoded), the
    first time too, so both calls see the same value.
    """
    scope = KeyScope(actor.organization_id, actor.user_id, check_key(key))
    outcome = await store.claim(scope, fingerprint([b"call", _canonical(request)]))
    if isinstance(outcome, StoredResponse):
        return json.loads(outcome.body)
    try:
        with bound_claim(outcome):
            result = await work()
        body = _canonical(result)
    except BaseException:
        await store.release(outcome)
        raise
    await store.complete(outcome, StoredResponse(None, (), body))
    return json.loads(body)

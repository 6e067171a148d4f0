"""Idempotency keys in SQL (table ``idempotency_keys``), shared by every instance.

A key's row moves ``in_progress`` → ``committed`` → ``completed``:

1. :meth:`SqlIdempotencyStore.claim` inserts it ``in_progress`` with a random ``claim_token``
   and a lease (``INSERT … ON CONFLICT DO NOTHING``, a short transaction of its own). An existing
   row is read under ``FOR UPDATE`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serializes
   writers anyway) and decides: replay, reuse, in progress, or take-over of an expired lease or
   an expired key.
2. :meth:`SqlIdempotencyStore.mark_committed` — a
   :data:`~customers_hub.application.context.CommitHook` — updates the claimed row to
   ``committed`` inside the write's own transaction, *only while the claim token is still the
   row's*: the key's claim is durable exactly when the write is, and a holder whose lease was
   taken over cannot commit (its write rolls back with ``IdempotencyInProgress``).
3. :meth:`SqlIdempotencyStore.complete` stores the response (one ``UPDATE``, same token).

:meth:`SqlIdempotencyStore.release` deletes a claim whose write never committed (a 5xx: the
client may retry). :meth:`SqlIdempotencyStore.sweep` deletes expired keys by the
``expires_at`` index, in bounded batches.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.tables import idempotency_keys as keys
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.application.idempotency import (
    KEY_TTL,
    LEASE,
    Claim,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    KeyScope,
    StoredResponse,
    current_claim,
)
from customers_hub.application.ports import Clock, UnitOfWork
from customers_hub.domain.events import DomainEvent

__all__ = ["SqlIdempotencyStore"]

IN_PROGRESS: Final = "in_progress"
COMMITTED: Final = "committed"
COMPLETED: Final = "completed"
_CLAIM_ATTEMPTS: Final = 3


def _is(scope: KeyScope) -> ColumnElement[bool]:
    return and_(
        keys.c.organization_id == scope.organization_id,
        keys.c.user_id == scope.user_id,
        keys.c.key == scope.key,
    )


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(_is(claim.scope), keys.c.claim_token == claim.token)


def _encode(body: bytes) -> tuple[str, str]:
    # JSON bodies are text; anything else is kept exactly, as base64.
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def _stored(row: Any) -> StoredResponse:
    meta = row.response_headers or {}
    text = row.response_body or ""
    body = base64.b64decode(text) if meta.get("bodyEncoding") == "base64" else text.encode()
    headers = tuple((str(name), str(value)) for name, value in meta.get("headers", ()))
    return StoredResponse(row.response_status, headers, body)


class SqlIdempotencyStore:
    """:class:`~customers_hub.application.idempotency.IdempotencyStore` on the hub's database.

    ``ttl``: how long a key lives; ``lease``: how long a claim that has not committed is held
    before another request may take it over. Times come from ``clock`` (every instance's
    clock should agree to within a fraction of the lease).
    """

    def __init__(
        self,
        uow: SqlUnitOfWorkFactory,
        clock: Clock,
        *,
        ttl: timedelta = KEY_TTL,
        lease: timedelta = LEASE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.ttl = ttl
        self.lease = lease

    async def claim(self, scope: KeyScope, request_fingerprint: str) -> Claim | StoredResponse:
        """See :meth:`IdempotencyStore.claim`."""
        for _ in range(_CLAIM_ATTEMPTS):
            async with self._uow() as uow:
                outcome = await self._claim(uow.connection, scope, request_fingerprint)
                await uow.commit()
            if outcome is not None:
                return outcome
        # The row kept vanishing between the insert and the read (released or swept each time).
        raise IdempotencyInProgress(scope.key)

    async def _claim(
        self, conn: AsyncConnection, scope: KeyScope, request_fingerprint: str
    ) -> Claim | StoredResponse | None:
        now = self._clock.now()
        token = secrets.token_hex(16)
        fresh = {
            "fingerprint": request_fingerprint,
            "status": IN_PROGRESS,
            "claim_token": token,
            "locked_until": now + self.lease,
            "response_status": None,
            "response_headers": None,
            "response_body": None,
            "created_at": now,
            "expires_at": now + self.ttl,
        }
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        inserted = await conn.execute(
            insert(keys)
            .values(
                organization_id=scope.organization_id,
                user_id=scope.user_id,
                key=scope.key,
                **fresh,
            )
            .on_conflict_do_nothing(index_elements=["organization_id", "user_id", "key"])
            .returning(keys.c.key)  # rowcount of an upsert is not reliable on every driver
        )
        if inserted.first() is not None:
            return Claim(scope, token)
        row = (await conn.execute(select(keys).where(_is(scope)).with_for_update())).one_or_none()
        if row is None:
            return None
        if row.expires_at <= now:
            # An expired key the sweep has not reached yet: it is free again.
            await conn.execute(update(keys).where(_is(scope)).values(**fresh))
            return Claim(scope, token)
        if row.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused(scope.key)
        if row.status == COMPLETED:
            return _stored(row)
        if row.status == COMMITTED:
            raise IdempotencyInProgress(scope.key, committed=True)
        if row.locked_until > now:
            raise IdempotencyInProgress(scope.key)
        # The holder's lease passed before its write committed (it crashed, or is too slow: its
        # commit hook will find the token changed and roll its write back). Take it over.
        await conn.execute(
            update(keys).where(_is(scope)).values(claim_token=token, locked_until=now + self.lease)
        )
        return Claim(scope, token)

    async def mark_committed(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        """The commit hook: the current claim (if any) becomes ``committed`` in the write's own
        transaction; a lost claim raises :class:`IdempotencyInProgress` (the write rolls back).
        Several writes under one claim each mark it (the first makes it durable); a write after
        the response was stored (a task the request started) leaves the stored key alone."""
        claim = current_claim()
        if claim is None:
            return
        conn = getattr(uow, "connection", None)
        if not isinstance(conn, AsyncConnection):
            raise TypeError("the idempotency commit hook needs a SQL unit of work")
        marked = await conn.execute(
            update(keys)
            .where(_held(claim), keys.c.status.in_((IN_PROGRESS, COMMITTED)))
            .values(status=COMMITTED)
            .returning(keys.c.key)
        )
        if marked.first() is not None:
            return
        # Not marked: the claim was taken over (then this write must not commit), or its response
        # is stored already and this is a task the request left behind, which may write freely.
        still_ours = await conn.execute(select(keys.c.key).where(_held(claim)))
        if still_ours.first() is None:
            raise IdempotencyInProgress(claim.scope.key)

    async def complete(self, claim: Claim, response: StoredResponse) -> bool:
        """See :meth:`IdempotencyStore.complete`."""
        body, encoding = _encode(response.body)
        async with self._uow() as uow:
            stored = await uow.connection.execute(
                update(keys)
                .where(_held(claim))
                .values(
                    status=COMPLETED,
                    response_status=response.status,
                    response_headers={
                        "headers": [list(pair) for pair in response.headers],
                        "bodyEncoding": encoding,
                    },
                    response_body=body,
                )
                .returning(keys.c.key)
            )
            done = stored.first() is not None
            await uow.commit()
        return done

    async def release(self, claim: Claim) -> None:
        """See :meth:`IdempotencyStore.release` (a committed claim is kept)."""
        async with self._uow() as uow:
            await uow.connection.execute(
                delete(keys).where(_held(claim), keys.c.status == IN_PROGRESS)
            )
            await uow.commit()

    async def sweep(self, limit: int = 1000) -> int:
        """See :meth:`IdempotencyStore.sweep` (one batch, by the ``expires_at`` index)."""
        expired = (
            select(keys.c.organization_id, keys.c.user_id, keys.c.key)
            .where(keys.c.expires_at < self._clock.now())
            .order_by(keys.c.expires_at)
            .limit(literal_rows(limit))
        )
        async with self._uow() as uow:
            deleted = await uow.connection.execute(
                delete(keys)
                .where(tuple_(keys.c.organization_id, keys.c.user_id, keys.c.key).in_(expired))
                .returning(keys.c.key)
            )
            count = len(deleted.all())
            await uow.commit()
        return count

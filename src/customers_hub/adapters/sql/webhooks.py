"""Webhooks and their deliveries in SQL.

* :class:`SqlWebhookRepository` — the use cases' port, on a unit of work's connection.
* :func:`create_deliveries` — the relay's step: the deliveries of a batch of outbox events for
  the active hooks of the same organization that subscribe to them (one ``INSERT``).
* :func:`claim_due` / :func:`record_success` / :func:`record_failure` — the sender's steps.
  A claim locks the due hooks' rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), counts what each
  already has in flight, and leases at most ``concurrency - in_flight`` of its oldest due
  deliveries (``leased_until`` and ``next_attempt_at`` move to the lease's end, so no other
  instance takes them; a sender that dies leaves them to be taken again when the lease ends).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from attrs import frozen
from sqlalchemy import Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.adapters.sql.offset_pages import offset_page
from customers_hub.adapters.sql.outbox import RelayRow
from customers_hub.adapters.sql.tables import webhook_deliveries, webhooks
from customers_hub.application.ports import IdGenerator, UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.webhooks import (
    DeliveryStatus,
    RetryPolicy,
    Webhook,
    WebhookDelivery,
    matches,
    next_attempt_at,
    should_disable,
)

__all__ = [
    "ClaimedDelivery",
    "SqlWebhookRepository",
    "claim_due",
    "create_deliveries",
    "prune_deliveries",
    "record_failure",
    "record_success",
    "sql_webhook_repository",
]

_W = webhooks
_D = webhook_deliveries
_ERROR_MAX: Final = 500


# Rows and records share their names: the conversions are by name (mappers.rows; a new field
# needs a column of the same name, and a lost one fails the round trips of
# tests/integration/test_outbox.py).


def _webhook(row: Row[Any]) -> Webhook:
    return from_row(Webhook, _W, row._mapping)


def _values(webhook: Webhook) -> dict[str, Any]:
    return row_values(webhook, _W)


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return from_row(WebhookDelivery, _D, row._mapping)


class SqlWebhookRepository:
    """The webhook port on one connection (the unit of work's)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, webhook: Webhook) -> None:
        """Insert the hook."""
        await self._conn.execute(insert(_W).values(_values(webhook)))

    async def get(self, organization_id: str, webhook_id: str) -> Webhook | None:
        """The hook of the organization, or ``None``."""
        row = (
            await self._conn.execute(
                select(_W).where(_W.c.id == webhook_id, _W.c.organization_id == organization_id)
            )
        ).first()
        return _webhook(row) if row is not None else None

    async def list(self, organization_id: str, *, page: int, limit: int) -> Page[Webhook]:
        """The organization's hooks, oldest first, with the total."""
        query = (
            select(_W)
            .where(_W.c.organization_id == organization_id)
            .order_by(_W.c.created_at, _W.c.id)
        )
        return await offset_page(self._conn, query, _webhook, page=page, limit=limit)

    async def save(self, webhook: Webhook) -> None:
        """Replace the stored hook."""
        values = _values(webhook)
        del values["id"], values["organization_id"], values["created_at"], values["created_by"]
        await self._conn.execute(
            update(_W)
            .where(_W.c.id == webhook.id, _W.c.organization_id == webhook.organization_id)
            .values(values)
        )

    async def delete(self, organization_id: str, webhook_id: str) -> bool:
        """Delete the hook and its deliveries."""
        found = await self._conn.scalar(
            select(_W.c.id).where(_W.c.id == webhook_id, _W.c.organization_id == organization_id)
        )
        if found is None:
            return False
        # Deliveries first: SQLite enforces the cascade only with foreign keys on; be explicit.
        await self._conn.execute(delete(_D).where(_D.c.webhook_id == webhook_id))
        await self._conn.execute(delete(_W).where(_W.c.id == webhook_id))
        return True

    async def deliveries(
        self,
        organization_id: str,
        webhook_id: str,
        *,
        page: int,
        limit: int,
        status: DeliveryStatus | None = None,
    ) -> Page[WebhookDelivery]:
        """The hook's deliveries, newest first."""
        where = [_D.c.webhook_id == webhook_id, _D.c.organization_id == organization_id]
        if status is not None:
            where.append(_D.c.status == status.value)
        query = select(_D).where(*where).order_by(_D.c.position.desc(), _D.c.id.desc())
        return await offset_page(self._conn, query, _delivery, page=page, limit=limit)

    async def retry(
        self, organization_id: str, webhook_id: str, delivery_id: str, now: datetime
    ) -> WebhookDelivery | None:
        """Make the delivery due now, with a fresh retry budget (``created_at`` is not moved:
        the budget counts from the retry, through ``next_attempt_at`` and ``attempts``)."""
        where = (
            _D.c.id == delivery_id,
            _D.c.webhook_id == webhook_id,
            _D.c.organization_id == organization_id,
        )
        result = await self._conn.execute(
            update(_D)
            .where(*where)
            .values(
                status=DeliveryStatus.PENDING.value,
                next_attempt_at=now,
                leased_until=None,
                created_at=now,  # the retry budget (about a day) starts again
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            return None
        row = (await self._conn.execute(select(_D).where(*where))).first()
        return _delivery(row) if row is not None else None


def sql_webhook_repository(uow: UnitOfWork) -> SqlWebhookRepository:
    """The :class:`~customers_hub.application.outbox.WebhookRepositoryFactory` of SQL units."""
    connection: AsyncConnection = getattr(uow, "connection")  # noqa: B009 - SQL units only
    return SqlWebhookRepository(connection)


# ---------------------------------------------------------------------------------------------
# The relay's step


async def create_deliveries(
    connection: AsyncConnection, rows: Sequence[RelayRow], ids: IdGenerator, now: datetime
) -> int:
    """Insert a delivery for each event of ``rows`` and each active hook of the event's own
    organization that subscribes to it and existed when it occurred; the number created."""
    organizations = {row.record.organization_id for row in rows}
    if not organizations:
        return 0
    hooks = [
        _webhook(r)
        for r in await connection.execute(
            select(_W).where(_W.c.organization_id.in_(organizations), _W.c.is_active.is_(True))
        )
    ]
    values = [
        {
            "id": ids.new_id("whd"),
            "webhook_id": hook.id,
            "organization_id": row.record.organization_id,
            "position": row.record.position,
            "event_id": row.record.event_id,
            "event": row.record.event,
            "payload": dict(row.record.payload),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
        for hook in hooks
        # Never another organization's hook: the organization is part of the match; and a
        # hook gets what happened from its creation on (not a backlog the relay had not reached).
        if hook.organization_id == row.record.organization_id
        and row.record.occurred_at >= hook.created_at
        and matches(hook.events, row.record.event)
    ]
    if values:
        await connection.execute(insert(_D), values)
    return len(values)


# ---------------------------------------------------------------------------------------------
# The sender's steps


@frozen
class ClaimedDelivery:
    """A leased delivery with what sending it needs."""

    id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


async def claim_due(
    connection: AsyncConnection,
    now: datetime,
    *,
    concurrency: int,
    lease: timedelta,
    limit: int = 100,
) -> list[ClaimedDelivery]:
    """Lease due deliveries of active hooks, at most ``concurrency`` in flight per hook, the
    oldest (by outbox position) first."""
    due = (_D.c.status == DeliveryStatus.PENDING.value) & (_D.c.next_attempt_at <= now)
    # Hooks are picked among those that can send now: active (a disabled hook keeps its pending
    # deliveries, which resume when it is enabled again) and below their concurrency (a slow
    # receiver with a backlog stays leased for a while). Either kind would otherwise fill the
    # batch and starve every other hook.
    # In-flight counts grouped once (a correlated count per due row would read a hook's whole
    # backlog for each of its rows: quadratic in a failing hook's backlog).
    busy = (
        select(_D.c.webhook_id, func.count().label("n"))
        .where(_D.c.status == DeliveryStatus.PENDING.value, _D.c.leased_until > now)
        .group_by(_D.c.webhook_id)
        .subquery("busy")
    )
    hook_ids = [
        r[0]
        for r in await connection.execute(
            select(_D.c.webhook_id)
            .join(_W, _W.c.id == _D.c.webhook_id)
            .outerjoin(busy, busy.c.webhook_id == _D.c.webhook_id)
            .where(due, _W.c.is_active.is_(True), func.coalesce(busy.c.n, 0) < concurrency)
            .group_by(_D.c.webhook_id)
            .limit(literal_rows(limit))
        )
    ]
    if not hook_ids:
        return []
    hooks_query = select(_W).where(_W.c.id.in_(hook_ids), _W.c.is_active.is_(True))
    if connection.dialect.name == "postgresql":
        # One claimer per hook at a time: the in-flight count below stays true.
        hooks_query = hooks_query.with_for_update(skip_locked=True)
    hooks = {r.id: r for r in await connection.execute(hooks_query)}
    if not hooks:
        return []
    in_flight = {
        r.webhook_id: r.n
        for r in await connection.execute(
            select(_D.c.webhook_id, func.count().label("n"))
            .where(
                _D.c.webhook_id.in_(hooks),
                _D.c.status == DeliveryStatus.PENDING.value,
                _D.c.leased_until > now,
            )
            .group_by(_D.c.webhook_id)
        )
    }
    claimed: list[ClaimedDelivery] = []
    for hook_id, hook in hooks.items():
        free = concurrency - in_flight.get(hook_id, 0)
        if free <= 0:
            continue
        rows = await connection.execute(
            select(_D)
            .where(due, _D.c.webhook_id == hook_id)
            .order_by(_D.c.position, _D.c.id)
            .limit(literal_rows(free))
        )
        claimed.extend(
            ClaimedDelivery(
                id=r.id,
                webhook_id=hook_id,
                url=hook.url,
                secret=hook.secret,
                event=r.event,
                payload=r.payload,
                attempts=r.attempts,
                created_at=r.created_at,
            )
            for r in rows
        )
    if claimed:
        until = now + lease
        await connection.execute(
            update(_D)
            .where(_D.c.id.in_([c.id for c in claimed]))
            .values(leased_until=until, next_attempt_at=until, updated_at=now)
        )
    return claimed


async def record_success(
    connection: AsyncConnection, delivery: ClaimedDelivery, status_code: int, now: datetime
) -> None:
    """The delivery is done; its hook is healthy again."""
    await connection.execute(
        update(_D)
        .where(_D.c.id == delivery.id)
        .values(
            status=DeliveryStatus.DELIVERED.value,
            attempts=_D.c.attempts + 1,
            last_response_code=status_code,
            last_error=None,
            next_attempt_at=None,
            leased_until=None,
            delivered_at=now,
            updated_at=now,
        )
    )
    await connection.execute(
        update(_W)
        .where(_W.c.id == delivery.webhook_id, _W.c.failing_since.is_not(None))
        .values(failing_since=None)
    )


async def record_failure(
    connection: AsyncConnection,
    delivery: ClaimedDelivery,
    *,
    status_code: int | None,
    error: str,
    now: datetime,
    policy: RetryPolicy,
    rand: Callable[[], float],
) -> DeliveryStatus:
    """Schedule the next attempt (or give up: ``failed``); start or continue the hook's
    failure clock and disable it once it has failed for ``policy.disable_after``."""
    attempts = delivery.attempts + 1
    retry_at = next_attempt_at(policy, attempts, delivery.created_at, now, rand())
    status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
    await connection.execute(
        update(_D)
        .where(_D.c.id == delivery.id)
        .values(
            status=status.value,
            attempts=attempts,
            last_response_code=status_code,
            last_error=error[:_ERROR_MAX],
            next_attempt_at=retry_at,
            leased_until=None,
            updated_at=now,
        )
    )
    await connection.execute(
        update(_W)
        .where(_W.c.id == delivery.webhook_id, _W.c.failing_since.is_(None))
        .values(failing_since=now)
    )
    since = await connection.scalar(
        select(_W.c.failing_since).where(_W.c.id == delivery.webhook_id, _W.c.is_active.is_(True))
    )
    if should_disable(policy, since, now):
        await connection.execute(
            update(_W)
            .where(_W.c.id == delivery.webhook_id)
            .values(
                is_active=False,
                disabled_reason=(
                    "disabled automatically: every delivery failed since "
                    f"{since:%Y-%m-%dT%H:%M:%SZ} (last: {error[:200]})"
                ),
                updated_at=now,
            )
        )
    return status


async def prune_deliveries(
    connection: AsyncConnection, *, older_than: datetime, limit: int = 1000
) -> int:
    """Delete at most ``limit`` finished (delivered or failed) deliveries last changed before
    ``older_than``."""
    finished = or_(
        _D.c.status == DeliveryStatus.DELIVERED.value, _D.c.status == DeliveryStatus.FAILED.value
    )
    oldest = (
        select(_D.c.id)
        .where(and_(finished, _D.c.updated_at < older_than))
        .order_by(_D.c.updated_at)
        .limit(literal_rows(limit))
    )
    result = await connection.execute(delete(_D).where(_D.c.id.in_(oldest)))
    return int(result.rowcount or 0)

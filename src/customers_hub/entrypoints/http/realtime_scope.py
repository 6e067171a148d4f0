"""Which staff an event concerns, for the real-time fan-out of one instance.

:class:`ScopeResolver` fills in what a bus message lacks before each WebSocket or Socket.IO
connection checks an event against its scope: for action events the customer's assignee (found
through the action when the message names no customer), and for everyone involved their
manager. One database lookup per event and instance, shared by every connection, kept a couple
of seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Final

from attrs import define, field

from customers_hub.adapters.event_wire import CHANNEL_ACTIONS, OutboundEvent
from customers_hub.application.context import Dependencies
from customers_hub.domain.access import RecordScope
from customers_hub.domain.model import Employee

__all__ = ["SCOPE_TTL", "ScopeResolver"]

SCOPE_TTL: Final = 2.0
"""Seconds a looked-up event scope is reused (for the other connections of the instance)."""


_ScopeKey = tuple[str, str | None, str | None, tuple[str, ...], bool]


@define(eq=False)
class ScopeResolver:
    """The full :class:`RecordScope` of events, looked up once per event for an instance.

    Adds what the bus message lacks: for action events the customer's assignee (found through
    the action when the message names no customer), and for everyone involved their manager.
    Lookups of the same event by several connections are coalesced; results are kept
    ``ttl`` seconds (and dropped for a customer whose assignment changes).
    """

    _deps: Dependencies
    _ttl: float = field(default=SCOPE_TTL, kw_only=True)
    _clock: Callable[[], float] = field(default=time.monotonic, kw_only=True)
    _max_entries: int = field(default=4096, kw_only=True)
    _entries: dict[_ScopeKey, tuple[float, asyncio.Future[RecordScope]]] = field(
        factory=dict, init=False
    )
    lookups: int = field(default=0, init=False)
    """Database lookups made (for tests and metrics)."""

    @staticmethod
    def _key(event: OutboundEvent) -> _ScopeKey:
        is_action = CHANNEL_ACTIONS in event.channels
        action_id = event.action_id if is_action and event.customer_id is None else None
        return (
            event.organization_id,
            event.customer_id,
            action_id,
            tuple(sorted(event.employee_ids)),
            is_action,
        )

    def forget_customer(self, organization_id: str, customer_id: str) -> None:
        """Drop kept scopes of ``customer_id`` (its assignee changed)."""
        for key in [k for k in self._entries if k[0] == organization_id and k[1] == customer_id]:
            del self._entries[key]

    async def scope(self, event: OutboundEvent) -> RecordScope:
        """The event's record scope with customer assignee and managers filled in."""
        key = self._key(event)
        now = self._clock()
        kept = self._entries.get(key)
        if kept is not None and kept[0] > now:
            return await asyncio.shield(kept[1])
        if len(self._entries) >= self._max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
        future: asyncio.Future[RecordScope] = asyncio.get_running_loop().create_future()
        self._entries[key] = (now + self._ttl, future)
        try:
            result = await self._load(event, is_action=key[4])
        except BaseException as error:
            self._entries.pop(key, None)
            if isinstance(error, Exception):
                future.set_exception(error)
                future.exception()  # retrieved: nobody else may be waiting
            else:
                future.cancel()
            raise
        future.set_result(result)
        return result

    async def _load(self, event: OutboundEvent, *, is_action: bool) -> RecordScope:
        organization_id = event.organization_id
        self.lookups += 1
        async with self._deps.uow(read_only=True) as uow:
            customer_id = event.customer_id
            ids: list[str | None] = list(event.employee_ids)
            if is_action and customer_id is None and event.action_id is not None:
                action = await uow.actions.get(organization_id, event.action_id)
                if action is not None:
                    customer_id = action.customer_id
                    ids.append(action.assigned_to)
            if is_action and customer_id is not None:
                customer = await uow.customers.get(organization_id, customer_id)
                if customer is not None:
                    ids.append(customer.assigned_employee_id)
            wanted = list(dict.fromkeys(i for i in ids if i))
            employees: Mapping[str, Employee] = (
                await uow.employees.get_many(organization_id, wanted) if wanted else {}
            )
        return RecordScope.of(organization_id, [employees.get(i, i) for i in wanted])

"""Real-time updates over a WebSocket: ``/api/v1/ws?token=<JWT>``.

Protocol
--------
**Connect** with the same JWT as the REST API in the ``token`` query parameter (clients that can
set headers may send ``Authorization: Bearer …`` instead; an ``organizationId`` query parameter,
when sent, must be the token's organization like ``X-Organization-ID``). A missing, malformed,
tampered, expired or otherwise refused token: the server accepts the handshake and closes at once
with **1008** (policy violation) and a short reason, so every client sees the code (a refusal
before the handshake would reach browsers as a bare HTTP 403). A connection is also closed with
1008 when its token expires while it is open; reconnect with a fresh token.

**Client → server** (JSON text frames; binary frames are read as UTF-8 JSON too):

* ``{"event": "subscribe", "channels": ["actions", "customers", "stats", "employee:<id>"]}`` →
  ``{"event": "subscribed", "channels": [...], "refused": [{"channel", "reason"}, ...],
  "timestamp"}``. ``channels`` is every channel the connection is subscribed to after this
  message (subscriptions add up; subscribing twice is harmless); ``refused`` lists the requested
  channels that were not granted (empty when none was), with ``reason`` ``"unknown channel"`` or
  ``"not permitted"``. Grants: ``actions`` needs ``actions.read``, ``customers``
  ``customers.read``, ``stats`` the action statistics (``actions.read``); ``employee:<id>`` the
  caller itself, or an admin (any employee of the organization), or the employee's manager — an
  unknown employee is "not permitted" too (nobody learns which ids exist).
* ``{"event": "unsubscribe", "channels": [...]}`` → ``{"event": "unsubscribed", "channels":
  [...remaining], "timestamp"}``.
* ``{"event": "ping"}`` → ``{"event": "pong", "timestamp"}`` (keepalive for proxies).
* Anything else (not JSON, not an object, unknown ``event``, bad ``channels``) →
  ``{"event": "error", "data": {"code": "VALIDATION_ERROR", "message", "details": [{"field",
  "message"}]}, "timestamp"}``; the connection stays open.

**Server → client**: the API document's events, ``{"event", "data", "timestamp"}`` (see
:mod:`customers_hub.adapters.event_wire` for every event's ``data``), from the organization's
event bus (``hub.event_bus``: in the process, or Redis pub/sub across instances). A connection
gets an event when one of its channels carries it (:meth:`OutboundEvent.matches`) **and** the
caller's read scope admits the record: ``domain.access.scope_filter(actor, READ_ACTIONS)`` for
action events, ``READ_CUSTOMERS`` for customer events — an agent only its own customers and
actions (an action counts as its own when the action *or its customer* is assigned to it), a
manager its team's, an admin everything of its organization. Never another organization's.

Scope of an event: the bus message names the employees the change touched (the action's
assignee(s) for action events — ``action.updated`` does not name the customer's assignee, and
``action.note_added`` not even its customer). When the caller is not among those names, the scope
is completed by a lookup (:class:`ScopeResolver`): the customer's assignee (through the action
for a note) and the managers of everyone involved, once per event per instance (coalesced and
kept :data:`SCOPE_TTL` seconds, forgotten for a customer as soon as its ``customer.assigned`` /
``customer.deleted`` / ``customer.restored`` passes), never per connection.

``stats.updated``: a connection subscribed to ``stats`` gets ``{"stats": {"pending", "overdue",
"today"}}`` computed in *its own* scope (the numbers of ``GET /customers/actions/stats``), once
right after subscribing and then after events that change the inbox numbers and touch its scope
(``action.created``, ``action.updated``, ``customer.assigned``, ``customer.deleted``,
``customer.restored``) — at most once per :data:`STATS_INTERVAL` seconds, and only when the
numbers differ from the last ones sent. (Overdue counts that grow by the mere passing of time
are not pushed by themselves.)

Delivery is at most once: nothing is replayed after a reconnect or a Redis outage (clients
re-read what they show). A client that reads too slowly loses its oldest events (bounded
queues), never slows the others. When the service shuts down every connection is closed with
**1001** (going away) before the server stops (:func:`close_connections`, called by the graceful
shutdown of :mod:`.shutdown`); reconnect, to another instance if there is one. While the database
is unreachable the connection stays open: ``stats.updated`` is skipped until it answers again.

socket.io clients get the same protocol from the same code: :mod:`.socketio_server` serves each
session with a :class:`Connection` and authenticates it with :func:`authenticate_connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import jwt
from attrs import define, field
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from customers_hub.adapters.event_wire import (
    CHANNEL_ACTIONS,
    CHANNEL_STATS,
    OutboundEvent,
    employee_channel,
    stats_updated,
    wire_timestamp,
)
from customers_hub.adapters.metrics import WEBSOCKET_CONNECTIONS
from customers_hub.adapters.redis_events import EventSubscription
from customers_hub.adapters.sql.engine import is_database_unavailable
from customers_hub.application.use_cases.statistics_reads import action_stats
from customers_hub.domain import access
from customers_hub.domain.access import Operation, RecordScope, ScopeFilter
from customers_hub.domain.errors import DomainError
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.auth import AuthenticationFailed, AuthSettings, actor_from_token
from customers_hub.entrypoints.http.realtime_scope import SCOPE_TTL, ScopeResolver

__all__ = [
    "GOING_AWAY",
    "INTERNAL_ERROR",
    "MAX_CHANNELS",
    "MAX_MESSAGE_CHARS",
    "POLICY_VIOLATION",
    "ROUTES",
    "SCOPE_TTL",
    "STATS_EVENTS",
    "STATS_INTERVAL",
    "TOKEN_EXPIRED",
    "WS_PATH",
    "Connection",
    "ScopeResolver",
    "authenticate_connection",
    "close_connections",
    "connection_token",
    "open_connections",
    "realtime_socket",
    "token_expiry",
]

logger = logging.getLogger(__name__)

WS_PATH: Final = "/ws"
"""Path under ``/api/v1``."""
POLICY_VIOLATION: Final = 1008
"""Close code for a refused or expired token."""
TOKEN_EXPIRED: Final = "token expired"
"""Reason of :class:`AuthenticationFailed` (and of the close) for an expired token."""
GOING_AWAY: Final = 1001
"""Close code when the server shuts down (the event bus ended the subscription)."""
INTERNAL_ERROR: Final = 1011
"""Close code after an unexpected failure of the connection's handling."""
STATS_INTERVAL: Final = 1.0
"""At most one ``stats.updated`` per connection per this many seconds."""
MAX_CHANNELS: Final = 50
"""Most channels one ``subscribe`` may name."""
MAX_MESSAGE_CHARS: Final = 64 * 1024
"""Longest client message read; longer ones get an error reply."""
STATS_EVENTS: Final = frozenset(
    {
        "action.created",
        "action.updated",
        "customer.assigned",
        "customer.deleted",
        "customer.restored",
    }
)
"""Events after which ``stats`` subscribers get fresh numbers (see ``refreshes_stats``)."""

_FORGETS_CUSTOMER: Final = frozenset({"customer.assigned", "customer.deleted", "customer.restored"})
_STATE_CONNECTIONS: Final = "realtime_connections"
_STATE_RESOLVER: Final = "realtime_scope_resolver"
_UNKNOWN_CHANNEL: Final = "unknown channel"
_NOT_PERMITTED: Final = "not permitted"
_CHANNEL_OPERATIONS: Final[Mapping[str, Operation]] = {
    "actions": Operation.READ_ACTIONS,
    "customers": Operation.READ_CUSTOMERS,
    "stats": Operation.READ_ACTION_STATS,
}
_EMPLOYEE_PREFIX: Final = employee_channel("")


def _now_text() -> str:
    return wire_timestamp(datetime.now(UTC))


# ---------------------------------------------------------------------------------------------
# One connection


class _Finished(Exception):
    """Ends a connection: the close code to send (``None``: the client is gone)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _error(message: str, field: str) -> dict[str, Any]:
    return {
        "event": "error",
        "data": {
            "code": "VALIDATION_ERROR",
            "message": message,
            "details": [{"field": field, "message": message}],
        },
        "timestamp": _now_text(),
    }


@define(eq=False)  # compared and hashed by identity (a registry holds them in a set)
class Connection:
    """One WebSocket client: its caller, channels, bus subscription and ``stats`` pushes."""

    socket: WebSocket[Any, Any, Any]
    hub: Hub
    actor: Actor
    resolver: ScopeResolver = field(kw_only=True)
    expires_at: float | None = field(default=None, kw_only=True)
    stats_interval: float = field(default=STATS_INTERVAL, kw_only=True)
    channels: list[str] = field(factory=list, init=False)
    _filters: dict[Operation, ScopeFilter] = field(init=False)
    _subscription: EventSubscription | None = field(default=None, init=False)
    _send_lock: asyncio.Lock = field(factory=asyncio.Lock, init=False)
    _tasks: set[asyncio.Task[None]] = field(factory=set, init=False)
    _finished: asyncio.Future[_Finished] | None = field(default=None, init=False)
    _stats_task: asyncio.Task[None] | None = field(default=None, init=False)
    _stats_dirty: bool = field(default=False, init=False)
    _stats_sent_at: float = field(default=-math.inf, init=False)
    _last_stats: dict[str, int] | None = field(default=None, init=False)

    @_filters.default
    def _scope_filters(self) -> dict[Operation, ScopeFilter]:
        return {op: access.scope_filter(self.actor, op) for op in set(_CHANNEL_OPERATIONS.values())}

    # --- lifecycle ----------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read the client, push events, until either side ends; then clean up."""
        loop = asyncio.get_running_loop()
        self._finished = loop.create_future()
        self._spawn(self._read())
        if self.expires_at is not None:
            self._spawn(self._expire(self.expires_at))
        try:
            outcome = await self._finished
        finally:
            await self._cleanup()
        if outcome.code is not None:
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.socket.close(code=outcome.code, reason=outcome.reason)

    async def going_away(self) -> None:
        """Close with 1001 now (the service shuts down), then end the connection."""
        async with self._send_lock:  # after a message being sent, never in the middle of it
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.socket.close(code=GOING_AWAY, reason="server shutting down")
        self._finish(_Finished(None))

    def _finish(self, outcome: _Finished) -> None:
        if self._finished is not None and not self._finished.done():
            self._finished.set_result(outcome)

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await work
            except _Finished as outcome:
                self._finish(outcome)
            except WebSocketDisconnect:
                self._finish(_Finished(None))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("realtime: connection of %s failed", self.actor.user_id)
                self._finish(_Finished(INTERNAL_ERROR, "internal error"))

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cleanup(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.aclose()

    async def _expire(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        raise _Finished(POLICY_VIOLATION, TOKEN_EXPIRED)

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one JSON message (sends never interleave)."""
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        async with self._send_lock:
            try:
                await self.socket.send_data(text, mode="text")
            except (WebSocketDisconnect, OSError, RuntimeError) as error:
                raise _Finished(None) from error

    # --- client messages ----------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                raise _Finished(None)
            if message["type"] != "websocket.receive":
                continue
            raw = message.get("text")
            if raw is None:
                data = message.get("bytes") or b""
                try:
                    raw = data.decode("utf-8")
                except UnicodeDecodeError:
                    await self.send(_error("messages must be UTF-8 JSON", "body"))
                    continue
            await self.handle_text(raw)

    async def handle_text(self, raw: str) -> None:
        """Answer one client message."""
        if len(raw) > MAX_MESSAGE_CHARS:
            await self.send(
                _error(f"messages must be at most {MAX_MESSAGE_CHARS} characters", "body")
            )
            return
        try:
            body = json.loads(raw)
        except ValueError:
            await self.send(_error("the message is not valid JSON", "body"))
            return
        if not isinstance(body, dict):
            await self.send(_error("the message must be a JSON object", "body"))
            return
        kind = body.get("event")
        if kind == "ping":
            await self.send({"event": "pong", "timestamp": _now_text()})
            return
        if kind not in ("subscribe", "unsubscribe"):
            await self.send(_error("event must be one of subscribe, unsubscribe, ping", "event"))
            return
        channels = body.get("channels")
        if (
            not isinstance(channels, list)
            or not channels
            or not all(isinstance(c, str) and c for c in channels)
        ):
            await self.send(
                _error("channels must be a non-empty list of channel names", "channels")
            )
            return
        if len(channels) > MAX_CHANNELS:
            await self.send(_error(f"at most {MAX_CHANNELS} channels at once", "channels"))
            return
        wanted = list(dict.fromkeys(channels))
        if kind == "subscribe":
            await self.subscribe(wanted)
        else:
            self.channels = [c for c in self.channels if c not in wanted]
            await self.send(
                {"event": "unsubscribed", "channels": list(self.channels), "timestamp": _now_text()}
            )

    async def subscribe(self, wanted: Iterable[str]) -> None:
        """Grant what the caller may have, subscribe to the bus, answer ``subscribed``."""
        refused: list[dict[str, str]] = []
        granted: list[str] = []
        for channel in wanted:
            reason = await self._refusal(channel)
            if reason is None:
                granted.append(channel)
            else:
                refused.append({"channel": channel, "reason": reason})
        if granted and self._subscription is None:
            # Subscribed before answering: everything published after "subscribed" arrives.
            self._subscription = await self.hub.event_bus.subscribe(self.actor.organization_id)
            self._spawn(self._pump(self._subscription))
        new_stats = CHANNEL_STATS in granted and CHANNEL_STATS not in self.channels
        self.channels.extend(c for c in granted if c not in self.channels)
        await self.send(
            {
                "event": "subscribed",
                "channels": list(self.channels),
                "refused": refused,
                "timestamp": _now_text(),
            }
        )
        if new_stats:
            self._last_stats = None
            self._want_stats()

    async def _refusal(self, channel: str) -> str | None:
        """Why ``channel`` is refused to the caller, or ``None`` when granted."""
        operation = _CHANNEL_OPERATIONS.get(channel)
        if operation is not None:
            return None if self._reaches(operation) else _NOT_PERMITTED
        if not channel.startswith(_EMPLOYEE_PREFIX) or channel == _EMPLOYEE_PREFIX:
            return _UNKNOWN_CHANNEL
        employee_id = channel[len(_EMPLOYEE_PREFIX) :]
        reads = self._filters[Operation.READ_ACTIONS]
        if not self._reaches(Operation.READ_ACTIONS):
            return _NOT_PERMITTED
        if employee_id == self.actor.user_id:
            return None
        async with self.hub.deps.uow(read_only=True) as uow:
            employee = await uow.employees.get(self.actor.organization_id, employee_id)
        if employee is None or employee.organization_id != self.actor.organization_id:
            return _NOT_PERMITTED
        return (
            None
            if reads.admits(RecordScope.of(self.actor.organization_id, [employee]))
            else (_NOT_PERMITTED)
        )

    def _reaches(self, operation: Operation) -> bool:
        filter_ = self._filters[operation]
        return filter_.kind is not access.Reach.NONE

    # --- events -------------------------------------------------------------------------------

    async def _pump(self, subscription: EventSubscription) -> None:
        async for message in subscription:
            await self.deliver(message)
        raise _Finished(GOING_AWAY, "server shutting down")

    async def deliver(self, message: Mapping[str, Any]) -> None:
        """Send ``message`` (a bus message) when the caller's channels and scope admit it."""
        try:
            event = OutboundEvent.from_message(message)
        except ValueError as error:
            logger.warning("realtime: dropped a bus message: %s", error)
            return
        if event.organization_id != self.actor.organization_id:
            return
        if event.event in _FORGETS_CUSTOMER and event.customer_id is not None:
            self.resolver.forget_customer(event.organization_id, event.customer_id)
        operation = (
            Operation.READ_ACTIONS
            if CHANNEL_ACTIONS in event.channels
            else Operation.READ_CUSTOMERS
        )
        if event.matches(self.channels) and await self._admits(event, self._filters[operation]):
            await self.send(event.payload)
        if (
            CHANNEL_STATS in self.channels
            and event.event in STATS_EVENTS
            and await self._admits(event, self._filters[Operation.READ_ACTION_STATS])
        ):
            self._want_stats()

    async def _admits(self, event: OutboundEvent, filter_: ScopeFilter) -> bool:
        if filter_.admits(event.scope()):
            return True
        if filter_.employee_id is None:  # everything (already admitted) or nothing
            return False
        try:
            scope = await self.resolver.scope(event)
        except Exception as error:  # the database is away: fail closed, keep the connection
            logger.warning("realtime: scope lookup failed (%s); event not sent", error)
            return False
        return filter_.admits(scope)

    # --- stats.updated ------------------------------------------------------------------------

    def _want_stats(self) -> None:
        self._stats_dirty = True
        if self._stats_task is None or self._stats_task.done():
            self._stats_task = self._spawn(self._push_stats())

    async def _push_stats(self) -> None:
        loop = asyncio.get_running_loop()
        while self._stats_dirty:
            wait = self._stats_sent_at + self.stats_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._stats_dirty = False
            try:
                stats = await action_stats(self.hub.deps, self.actor)
            except DomainError as error:  # e.g. the permission is gone
                logger.info("realtime: no stats for %s: %s", self.actor.user_id, error)
                return
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                # An outage must not close the connection: the next event tries again.
                logger.warning("realtime: no stats while the database is unreachable")
                return
            self._stats_sent_at = loop.time()
            numbers = {
                "pending": int(stats.total.get("pending", 0)),
                "overdue": int(stats.due_dates.get("overdue", 0)),
                "today": int(stats.due_dates.get("today", 0)),
            }
            if numbers != self._last_stats and CHANNEL_STATS in self.channels:
                self._last_stats = numbers
                outbound = stats_updated(
                    self.actor.organization_id,
                    numbers,
                    self.hub.deps.clock.now(),
                    employee_ids=(self.actor.user_id,),
                )
                await self.send(outbound.payload)


# ---------------------------------------------------------------------------------------------
# The handler


def connection_token(query_token: str | None, authorization: str | None) -> str | None:
    """The token of a real-time connection: the ``token`` query parameter, else an
    ``Authorization: Bearer`` header (``None`` when neither carries one)."""
    if query_token and query_token.strip():
        return query_token.strip()
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def token_expiry(token: str) -> float | None:
    """The ``exp`` of a token that :func:`actor_from_token` has verified (Unix seconds)."""
    # Read after verification: only the (signed) exp claim is wanted.
    claims = jwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def authenticate_connection(
    settings: AuthSettings, token: str | None, organization_id: str | None
) -> tuple[Actor, float | None]:
    """The caller of a real-time connection (WebSocket or socket.io) and when its token
    expires (Unix seconds, ``None``: never), or :class:`AuthenticationFailed` — no token, a
    refused one, an ``organizationId`` other than the token's, or an expired one (``reason``
    ``"token expired"``)."""
    if token is None:
        raise AuthenticationFailed("no token")
    actor = actor_from_token(settings, token)
    if organization_id is not None and organization_id != actor.organization_id:
        raise AuthenticationFailed("organizationId does not match the token")
    try:
        expiry = token_expiry(token)
    except jwt.PyJWTError as error:  # verified above, so not expected
        raise AuthenticationFailed(f"unreadable token: {error}") from None
    # The token stays valid for the verification's leeway past its exp, like on the REST API.
    expires_at = None if expiry is None else expiry + settings.leeway.total_seconds()
    if expires_at is not None and expires_at <= time.time():
        raise AuthenticationFailed(TOKEN_EXPIRED)
    return actor, expires_at


def _registry(socket: WebSocket[Any, Any, Any]) -> set[Connection]:
    state = socket.app.state
    connections: set[Connection] | None = state.get(_STATE_CONNECTIONS)
    if connections is None:
        connections = set()
        state[_STATE_CONNECTIONS] = connections
    return connections


def _resolver(socket: WebSocket[Any, Any, Any], hub: Hub) -> ScopeResolver:
    state = socket.app.state
    resolver: ScopeResolver | None = state.get(_STATE_RESOLVER)
    if resolver is None:
        resolver = ScopeResolver(hub.deps)
        state[_STATE_RESOLVER] = resolver
    return resolver


async def close_connections(state: Mapping[str, Any]) -> int:
    """Close every WebSocket client of the app with ``state`` with 1001 (graceful shutdown);
    how many there were."""
    connections = list(state.get(_STATE_CONNECTIONS) or ())
    await asyncio.gather(*(connection.going_away() for connection in connections))
    return len(connections)


def open_connections(state: Mapping[str, Any]) -> int:
    """How many WebSocket clients the app with ``state`` (``app.state``) is serving."""
    connections: set[Connection] | None = state.get(_STATE_CONNECTIONS)
    return len(connections) if connections else 0


@websocket(WS_PATH, name="realtime")
async def realtime_socket(socket: WebSocket[Any, Any, Any], hub: Hub) -> None:
    """Real-time events of the caller's organization and scope (see the module docstring)."""
    await socket.accept()
    organization = socket.query_params.get("organizationId")
    try:
        actor, expires_at = authenticate_connection(
            socket.app.state["auth"],
            connection_token(socket.query_params.get("token"), socket.headers.get("Authorization")),
            None if organization is None else str(organization),
        )
    except AuthenticationFailed as error:
        logger.info("realtime: refused a connection: %s", error.reason)
        reason = TOKEN_EXPIRED if error.reason == TOKEN_EXPIRED else "authentication failed"
        with contextlib.suppress(Exception):
            await socket.close(code=POLICY_VIOLATION, reason=reason)
        return
    connection = Connection(
        socket, hub, actor, resolver=_resolver(socket, hub), expires_at=expires_at
    )
    connections = _registry(socket)
    connections.add(connection)
    WEBSOCKET_CONNECTIONS.inc()
    try:
        await connection.serve()
    finally:
        connections.discard(connection)
        WEBSOCKET_CONNECTIONS.dec()


ROUTES: Final[list[Any]] = [realtime_socket]
"""Mounted under ``/api/v1`` by the app."""

"""Real-time updates for socket.io clients, beside the plain WebSocket of :mod:`.ws`.

The API document's client snippet is a socket.io client::

    const socket = io('https://api.example.com', {auth: {token}});
    socket.on('connect', () => console.log('Connected to real-time updates'));
    socket.emit('subscribe', {channels: ['actions', 'customers', 'stats']});
    socket.on('action.created', (message) => …);

It works unchanged against :func:`with_socketio`'s application: python-socketio serves the
socket.io protocol at ``/socket.io/`` (the clients' default path) and every other request goes to
the Litestar app. Each socket.io connection is served by the very same
:class:`~customers_hub.entrypoints.http.ws.Connection` as a WebSocket client — the same token
checks (``auth: {token}``, the ``token`` query parameter or ``Authorization: Bearer``; an
``organizationId`` that must match), the same channels and grants, the same per-event scope
checks, the same events and payloads — through :class:`SocketIOTransport`, which turns socket.io
events into the client messages ``Connection`` reads and its messages into socket.io events:

* client → server: ``subscribe`` / ``unsubscribe`` with ``{channels}``, ``ping``;
* server → client: the event named by each message's ``event`` (``subscribed``,
  ``action.created``, ``stats.updated``, ``error`` …) with the whole message as its argument
  (``{event, data, timestamp}``, exactly what a WebSocket client reads).

A refused token refuses the connection (the client's ``connect_error`` fires with
``authentication failed``, or ``token expired``).

Across instances
----------------
The API's events reach every instance through the organization's event bus (Redis pub/sub when
``CUSTOMERS_HUB_REDIS_URL`` is set), and each session's :class:`Connection` reads that bus and
checks every event against *its* caller's scope: an event caused on instance B reaches a
socket.io client of instance A exactly once. Those messages are emitted to the session locally
(``ignore_queue``): the session lives on this instance by construction, so they need no second
trip through Redis, and an outage of Redis never delays them.

With a Redis URL the server also uses python-socketio's :class:`socketio.AsyncRedisManager`
(channel :data:`SOCKETIO_CHANNEL`; in process otherwise), so socket.io itself is one server
across the instances: every session is in the rooms :func:`organization_room` and
:func:`employee_room`, and anything emitted to a room — by any instance, or by a trusted
process of the deployment with ``socketio.AsyncRedisManager(url, channel=SOCKETIO_CHANNEL,
write_only=True)`` — reaches the sessions in it wherever they are connected. Such emits bypass
the scope checks: send only what the room's members may all see.

Behind a load balancer with several instances, use the ``websocket`` transport (``io(url,
{transports: ['websocket']})``) or sticky sessions: socket.io's long-polling transport needs
every request of a session on the same instance (the Redis manager does not change that).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs

import socketio
from litestar import Litestar

from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.auth import AuthenticationFailed, AuthSettings
from customers_hub.entrypoints.http.ws import (
    TOKEN_EXPIRED,
    Connection,
    ScopeResolver,
    authenticate_connection,
    connection_token,
)

__all__ = [
    "SOCKETIO_CHANNEL",
    "SOCKETIO_PATH",
    "SocketIOTransport",
    "client_manager",
    "employee_room",
    "organization_room",
    "with_socketio",
]

SOCKETIO_PATH: Final = "socket.io"
"""Where socket.io is served (``/socket.io/``, the clients' default)."""
SOCKETIO_CHANNEL: Final = "hub:socket.io"
"""The Redis pub/sub channel of the instances' :class:`socketio.AsyncRedisManager`."""

logger = logging.getLogger("customers_hub.realtime")


def organization_room(organization_id: str) -> str:
    """The room of every socket.io session of an organization."""
    return f"organization:{organization_id}"


def employee_room(organization_id: str, employee_id: str) -> str:
    """The room of every socket.io session of one employee (all their tabs and devices)."""
    return f"employee:{organization_id}:{employee_id}"


class SocketIOTransport:
    """What :class:`Connection` needs of a socket (``receive``, ``send_data``, ``close``), over
    one socket.io session."""

    def __init__(self, server: socketio.AsyncServer, sid: str) -> None:
        self.server = server
        self.sid = sid
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)

    def offer(self, message: dict[str, Any]) -> None:
        """Queue a client message (dropped when a client floods faster than it is answered)."""
        with contextlib.suppress(asyncio.QueueFull):
            self._inbox.put_nowait(message)

    def client_event(self, event: str, data: Any) -> None:
        """A socket.io event from the client, as the WebSocket text frame it stands for."""
        body = {**data, "event": event} if isinstance(data, dict) else {"event": event}
        self.offer({"type": "websocket.receive", "text": json.dumps(body, ensure_ascii=False)})

    def gone(self) -> None:
        """The client disconnected."""
        self.offer({"type": "websocket.disconnect"})

    async def receive(self) -> dict[str, Any]:
        """The next client message (``Connection._read``)."""
        return await self._inbox.get()

    async def send_data(self, text: str, mode: str = "text") -> None:
        """One server message, emitted as the socket.io event its ``event`` names."""
        del mode
        message = json.loads(text)
        # The session is on this instance: no trip through the Redis manager (see the module).
        await self.server.emit(
            str(message.get("event", "message")), message, to=self.sid, ignore_queue=True
        )

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """End the session (the reason goes to the log; socket.io has no close codes)."""
        logger.info("realtime: socket.io session %s closed (%s %s)", self.sid, code, reason)
        await self.server.disconnect(self.sid, ignore_queue=True)


def _query(environ: Mapping[str, Any], name: str) -> str | None:
    values = parse_qs(str(environ.get("QUERY_STRING", ""))).get(name)
    return values[0] if values else None


def _token(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"].strip():
        return str(auth["token"]).strip()
    return connection_token(_query(environ, "token"), environ.get("HTTP_AUTHORIZATION"))


def _organization(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("organizationId"), str):
        return str(auth["organizationId"])
    return _query(environ, "organizationId")


def client_manager(redis_url: str | None) -> socketio.AsyncManager:
    """python-socketio's client manager: :class:`socketio.AsyncRedisManager` on
    :data:`SOCKETIO_CHANNEL` with a Redis URL (one socket.io server across the instances),
    else the in-process manager."""
    if redis_url:
        return socketio.AsyncRedisManager(redis_url, channel=SOCKETIO_CHANNEL)
    return socketio.AsyncManager()


async def _stop_manager(manager: socketio.AsyncManager) -> None:
    """Stop the Redis manager's listener and close its client (nothing for the in-process one)."""
    listener: asyncio.Task[None] | None = getattr(manager, "thread", None)
    if listener is not None and not listener.done():
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
    client = getattr(manager, "redis", None)
    if client is not None:
        with contextlib.suppress(Exception):
            await client.aclose()


def with_socketio(app: Litestar) -> socketio.ASGIApp:
    """``app`` with socket.io served beside it at ``/socket.io/`` (everything else, lifespan
    included, goes to ``app``); the client manager is :func:`client_manager` of the hub's
    Redis URL, stopped when ``app`` shuts down."""
    hub: Hub = app.state["hub"]
    settings: AuthSettings = app.state["auth"]
    manager = client_manager(hub.config.redis_url)
    server = socketio.AsyncServer(
        async_mode="asgi", client_manager=manager, cors_allowed_origins="*", logger=False
    )
    sessions: dict[str, tuple[SocketIOTransport, asyncio.Task[None]]] = {}
    resolver = ScopeResolver(hub.deps)

    @server.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = _token(environ, auth)
        try:
            actor, expires_at = authenticate_connection(
                settings, token, _organization(environ, auth)
            )
        except AuthenticationFailed as error:
            logger.info("realtime: refused a socket.io connection: %s", error.reason)
            reason = TOKEN_EXPIRED if error.reason == TOKEN_EXPIRED else "authentication failed"
            raise socketio.exceptions.ConnectionRefusedError(reason) from None
        # Local rooms of a local session (the manager publishes nothing for these).
        await server.enter_room(sid, organization_room(actor.organization_id))
        await server.enter_room(sid, employee_room(actor.organization_id, actor.user_id))
        transport = SocketIOTransport(server, sid)
        connection = Connection(
            transport,  # type: ignore[arg-type]
            hub,
            actor,
            resolver=resolver,
            expires_at=expires_at,
        )

        async def serve() -> None:
            try:
                await connection.serve()
            finally:
                sessions.pop(sid, None)

        sessions[sid] = (transport, asyncio.get_running_loop().create_task(serve()))

    @server.on("*")  # type: ignore[untyped-decorator]
    async def any_event(event: str, sid: str, data: Any = None) -> None:
        session = sessions.get(sid)
        if session is not None:
            # Unknown events too: Connection answers them with its "error" event.
            session[0].client_event(event, data)

    @server.event  # type: ignore[untyped-decorator]
    async def disconnect(sid: str, *_: Any) -> None:
        session = sessions.get(sid)
        if session is not None:
            session[0].gone()

    async def stop() -> None:
        with contextlib.suppress(Exception):
            await server.shutdown()  # engine.io's ping checker
        await _stop_manager(manager)

    # First of the shutdown hooks (they run in list order): before the hub closes.
    app.on_shutdown.insert(0, stop)
    return socketio.ASGIApp(server, other_asgi_app=app, socketio_path=SOCKETIO_PATH)

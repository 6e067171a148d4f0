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
``authentication failed``). Across instances nothing more is needed: each instance's connections
read the organization's event bus (Redis pub/sub when ``CUSTOMERS_HUB_REDIS_URL`` is set), so an
event caused on one instance reaches socket.io clients of every other. Behind a load balancer
with several instances, use the ``websocket`` transport (``io(url, {transports:
['websocket']})``) or sticky sessions: socket.io's long-polling transport needs every request of
a session on the same instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs

import socketio
from litestar import Litestar

from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.auth import AuthenticationFailed, AuthSettings, actor_from_token
from customers_hub.entrypoints.http.ws import Connection, ScopeResolver, token_expiry

__all__ = ["SOCKETIO_PATH", "SocketIOTransport", "with_socketio"]

SOCKETIO_PATH: Final = "socket.io"
"""Where socket.io is served (``/socket.io/``, the clients' default)."""

logger = logging.getLogger("customers_hub.realtime")


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
        await self.server.emit(str(message.get("event", "message")), message, to=self.sid)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """End the session (the reason goes to the log; socket.io has no close codes)."""
        logger.info("realtime: socket.io session %s closed (%s %s)", self.sid, code, reason)
        await self.server.disconnect(self.sid)


def _token(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"].strip():
        return str(auth["token"]).strip()
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if query.get("token") and query["token"][0].strip():
        return query["token"][0].strip()
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _organization(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("organizationId"), str):
        return str(auth["organizationId"])
    values = parse_qs(str(environ.get("QUERY_STRING", ""))).get("organizationId")
    return values[0] if values else None


def with_socketio(app: Litestar) -> socketio.ASGIApp:
    """``app`` with socket.io served beside it at ``/socket.io/`` (everything else, lifespan
    included, goes to ``app``)."""
    hub: Hub = app.state["hub"]
    settings: AuthSettings = app.state["auth"]
    server = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False)
    sessions: dict[str, tuple[SocketIOTransport, asyncio.Task[None]]] = {}
    resolver = ScopeResolver(hub.deps)

    @server.event  # type: ignore[misc]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = _token(environ, auth)
        try:
            if token is None:
                raise AuthenticationFailed("no token")
            actor = actor_from_token(settings, token)
            organization = _organization(environ, auth)
            if organization is not None and organization != actor.organization_id:
                raise AuthenticationFailed("organizationId does not match the token")
        except AuthenticationFailed as error:
            logger.info("realtime: refused a socket.io connection: %s", error.reason)
            raise socketio.exceptions.ConnectionRefusedError("authentication failed") from None
        expiry = token_expiry(token)
        expires_at = None if expiry is None else expiry + settings.leeway.total_seconds()
        if expires_at is not None and expires_at <= time.time():
            raise socketio.exceptions.ConnectionRefusedError("token expired")
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

    @server.on("*")  # type: ignore[misc]
    async def any_event(event: str, sid: str, data: Any = None) -> None:
        session = sessions.get(sid)
        if session is not None:
            # Unknown events too: Connection answers them with its "error" event.
            session[0].client_event(event, data)

    @server.event  # type: ignore[misc]
    async def disconnect(sid: str, *_: Any) -> None:
        session = sessions.get(sid)
        if session is not None:
            session[0].gone()

    return socketio.ASGIApp(server, other_asgi_app=app, socketio_path=SOCKETIO_PATH)

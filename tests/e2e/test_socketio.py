"""socket.io beside the WebSocket, over two real ``customers-hub serve`` instances.

A and B share one PostgreSQL database (made for this module, migrated, dropped at the end) and
the test Redis (a database number of their own, flushed first), started like the instances of
``test_multi_instance.py`` (whose helpers are reused). Clients are real socket.io clients:
python-socketio's ``AsyncClient`` and, where node and npm exist, the npm ``socket.io-client``
running the API document's snippet unchanged.

Shown: a client on A receives the ``action.created`` (and ``customer.created``) of a customer
created on B, with exactly the payload a ``/api/v1/ws`` client gets; the token is taken from the
``auth`` payload, the ``token`` query parameter or ``Authorization: Bearer``; a missing, malformed,
forged or expired token and a mismatched ``organizationId`` are refused; an agent hears nothing
about a customer outside its scope, and nothing of another organization ever arrives; the
subscribe protocol answers as on the WebSocket; the servers' ``AsyncRedisManager`` carries an emit
to an employee's room from another process to the session on A.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import socketio
from attrs import frozen
from test_multi_instance import (  # the multi-instance module's helpers; postgres_url a fixture
    AUTH,
    CLI,
    PERMISSIONS,
    ROOT,
    SECRET,
    WAIT,
    Instance,
    Org,
    clean_env,
    free_port,
    new_customer,
    next_message,
    postgres_url,
    seed,
    spawn,
    stop_process,
    subscribed,
    wait_healthy,
)
from websockets.asyncio.client import connect

from customers_hub.domain.enums import Role
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.http.socketio_server import SOCKETIO_CHANNEL, employee_room

pytestmark = pytest.mark.integration

__all__ = ["postgres_url"]  # imported for pytest, which finds fixtures by module attribute

REDIS_DB = 8
"""Database number of the test Redis used here (flushed when the module starts)."""
CHANNELS = ["actions", "customers"]


@frozen
class Pair:
    """Instances A and B on one database and one Redis."""

    a: Instance
    b: Instance
    redis_url: str
    http: httpx.AsyncClient


def redis_url() -> str:
    """The test Redis, on :data:`REDIS_DB`."""
    url = os.environ.get("CUSTOMERS_HUB_TEST_REDIS_URL")
    assert url, "run the tests through `make test` (scripts/run-tests.sh starts Redis)"
    return f"{url.rsplit('/', 1)[0]}/{REDIS_DB}"


@pytest.fixture(scope="module")
async def pair(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    """A and B, ready; both stopped at the end whatever happens."""
    workdir = tmp_path_factory.mktemp("socketio")
    url = redis_url()
    store = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    store.flushdb()
    store.close()
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_DATABASE_URL": postgres_url,
        "CUSTOMERS_HUB_JWT_SECRET": SECRET,
        "CUSTOMERS_HUB_DB_POOL_SIZE": "3",
        "CUSTOMERS_HUB_REDIS_URL": url,
        "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "off",
    }
    instances: list[Instance] = []
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            instances.extend(spawn(name, env, workdir) for name in ("A", "B"))
            await wait_healthy(http, instances)
            yield Pair(instances[0], instances[1], url, http)
        finally:
            for instance in instances:
                stop_process(instance.process)


def token_of(headers: dict[str, str]) -> str:
    """The bare token of ``Authorization`` headers."""
    return headers["Authorization"].removeprefix("Bearer ")


class Listener:
    """A python-socketio client whose every received event is queued as ``(name, argument)``."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.refusals: list[Any] = []

        async def on_any(event: str, message: Any = None) -> None:
            self.events.put_nowait((event, message))

        async def refused(data: Any = None) -> None:
            self.refusals.append(data)

        self.client.on("*", on_any)
        self.client.on("connect_error", refused)

    async def connect(self, url: str, **options: Any) -> None:
        """Connect to ``url`` (``auth=``, ``headers=`` as python-socketio takes them)."""
        await self.client.connect(url, wait_timeout=WAIT, **options)

    async def next(self, timeout: float = WAIT) -> tuple[str, Any]:
        """The next event (fails after ``timeout`` seconds)."""
        return await asyncio.wait_for(self.events.get(), timeout)

    async def subscribe(self, channels: list[str]) -> dict[str, Any]:
        """Emit ``subscribe`` and return the ``subscribed`` answer."""
        await self.client.emit("subscribe", {"channels": channels})
        name, reply = await self.next()
        assert name == "subscribed", (name, reply)
        return dict(reply)

    async def close(self) -> None:
        """Disconnect (harmless when never connected)."""
        if self.client.connected:
            await self.client.disconnect()


async def listening(instance: Instance, who: dict[str, str], channels: list[str]) -> Listener:
    """A client of ``instance`` with the token of ``who``, subscribed to ``channels``."""
    listener = Listener()
    await listener.connect(instance.base, auth={"token": token_of(who)})
    reply = await listener.subscribe(channels)
    assert reply["channels"] == channels, reply
    assert reply["refused"] == [], reply
    return listener


def about(message: dict[str, Any]) -> str | None:
    """The customer an event is about (``customer.created``, ``action.created``, others)."""
    data = message["data"]
    if "customer" in data:
        return str(data["customer"]["id"])
    if "action" in data:
        return str(data["action"]["customerId"])
    return data.get("customerId")


async def events_until(listener: Listener, customer_id: str) -> list[dict[str, Any]]:
    """Every event received until (and with) the first ``action.created`` of ``customer_id``."""
    seen: list[dict[str, Any]] = []
    while True:
        name, message = await listener.next()
        assert name == message["event"], (name, message)
        seen.append(message)
        if name == "action.created" and about(message) == customer_id:
            return seen


# --- events across instances ---------------------------------------------------------------------


async def test_a_client_on_one_instance_receives_the_action_created_on_the_other(
    pair: Pair,
) -> None:
    http, a, b = pair.http, pair.a, pair.b
    org = await seed(http, a)
    listener = await listening(a, org.agent, CHANNELS)
    socket = await subscribed(a.ws(org.agent), CHANNELS)
    try:
        # An inquiry creates its new_inquiry action (rules §2), on the agent's customer.
        customer = await new_customer(
            http, b, org, assignedEmployeeId=org.agent_id, source="inquiry"
        )
        received = [await listener.next() for _ in range(2)]
        by_event = dict(received)
        assert set(by_event) == {"customer.created", "action.created"}, received
        action = by_event["action.created"]["data"]["action"]
        assert action["customerId"] == customer["id"]
        assert action["type"] == "new_inquiry"
        # The same messages, byte for byte, as a /api/v1/ws client of the same caller gets.
        over_ws = [await next_message(socket) for _ in range(2)]
        assert {m["event"]: m for m in over_ws} == by_event
    finally:
        await listener.close()
        await socket.close()


async def test_an_agent_hears_nothing_outside_its_scope_nor_of_another_organization(
    pair: Pair,
) -> None:
    http, a, b = pair.http, pair.a, pair.b
    org, other = await seed(http, a), await seed(http, a)
    agent = await listening(a, org.agent, CHANNELS)
    stranger = await listening(a, other.admin, CHANNELS)
    try:
        # Unassigned (the admin creates it): outside the agent's scope, and of another org.
        hidden = await new_customer(http, b, org, source="inquiry")
        own = await new_customer(http, b, org, assignedEmployeeId=org.agent_id, source="inquiry")
        theirs = await new_customer(http, b, other, source="inquiry")
        # Events arrive in order: once the later ones are here, the earlier would have been.
        heard = await events_until(agent, own["id"])
        assert {about(m) for m in heard} == {own["id"]}, heard
        foreign = await events_until(stranger, theirs["id"])
        assert {about(m) for m in foreign} == {theirs["id"]}, foreign
        await asyncio.sleep(0.3)
        assert agent.events.empty()
        assert stranger.events.empty()
        assert hidden["id"] not in {about(m) for m in heard + foreign}
    finally:
        await agent.close()
        await stranger.close()


# --- the token -----------------------------------------------------------------------------------


async def test_the_token_is_read_from_auth_the_query_or_the_authorization_header(
    pair: Pair,
) -> None:
    http, a, b = pair.http, pair.a, pair.b
    org = await seed(http, a)
    token = token_of(org.agent)
    ways: dict[str, dict[str, Any]] = {
        "auth": {"auth": {"token": token, "organizationId": org.id}},
        "query": {"url": f"{a.base}?token={token}&organizationId={org.id}"},
        "header": {"headers": {"Authorization": f"Bearer {token}"}},
    }
    listeners: dict[str, Listener] = {}
    try:
        for way, options in ways.items():
            listener = Listener()
            await listener.connect(options.pop("url", a.base), **options)
            assert listener.client.connected, way
            await listener.subscribe(CHANNELS)
            listeners[way] = listener
        customer = await new_customer(
            http, b, org, assignedEmployeeId=org.agent_id, source="inquiry"
        )
        for way, listener in listeners.items():
            heard = await events_until(listener, customer["id"])
            assert heard[-1]["data"]["action"]["customerId"] == customer["id"], way
    finally:
        for listener in listeners.values():
            await listener.close()


async def test_a_missing_bad_forged_or_expired_token_is_refused(pair: Pair) -> None:
    http, a = pair.http, pair.a
    org = await seed(http, a)
    forged = issue_token(
        AuthSettings(secret="another-secret-that-is-also-long-enough-for-hs256"),
        "emp_x",
        Role.ADMIN,
        org.id,
        PERMISSIONS[Role.ADMIN],
        3600,
    )
    expired = issue_token(AUTH, "emp_x", Role.ADMIN, org.id, PERMISSIONS[Role.ADMIN], -3600)
    attempts: dict[str, dict[str, Any]] = {
        "no token": {},
        "empty token": {"auth": {"token": "  "}},
        "not a token": {"auth": {"token": "not-a-token"}},
        "forged": {"auth": {"token": forged}},
        "expired": {"auth": {"token": expired}},
        "bad header": {"headers": {"Authorization": f"Basic {token_of(org.admin)}"}},
        "other organization": {"auth": {"token": token_of(org.admin), "organizationId": "org_x"}},
    }
    for name, options in attempts.items():
        listener = Listener()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await listener.connect(a.base, **options)
        assert listener.refusals == [{"message": "authentication failed"}], name
        assert not listener.client.connected, name


# --- the protocol --------------------------------------------------------------------------------


async def test_subscribe_answers_like_the_websocket(pair: Pair) -> None:
    http, a = pair.http, pair.a
    org = await seed(http, a)
    listener = Listener()
    await listener.connect(a.base, auth={"token": token_of(org.agent)})
    try:
        reply = await listener.subscribe(["actions", "nonsense", "employee:emp_nobody"])
        assert reply["channels"] == ["actions"]
        assert reply["refused"] == [
            {"channel": "nonsense", "reason": "unknown channel"},
            {"channel": "employee:emp_nobody", "reason": "not permitted"},
        ]
        await listener.client.emit("ping")
        name, pong = await listener.next()
        assert (name, pong["event"]) == ("pong", "pong")
        await listener.client.emit("subscribe", {"channels": "actions"})
        name, error = await listener.next()
        assert name == "error"
        assert error["data"]["code"] == "VALIDATION_ERROR"
        assert error["data"]["details"][0]["field"] == "channels"
        await listener.client.emit("unsubscribe", {"channels": ["actions"]})
        name, left = await listener.next()
        assert (name, left["channels"]) == ("unsubscribed", [])
    finally:
        await listener.close()


async def test_the_redis_manager_carries_an_emit_to_an_employees_room_across_processes(
    pair: Pair,
) -> None:
    http, a = pair.http, pair.a
    org = await seed(http, a)
    agent = await listening(a, org.agent, CHANNELS)
    viewer = await listening(a, org.viewer, CHANNELS)
    # Another process of the deployment: python-socketio's write-only Redis manager.
    outside = socketio.AsyncRedisManager(pair.redis_url, channel=SOCKETIO_CHANNEL, write_only=True)
    try:
        notice = {"event": "notice", "data": {"text": "تم تحديث الأسعار"}}
        await outside.emit("notice", notice, room=employee_room(org.id, org.agent_id))
        assert await agent.next() == ("notice", notice)
        await asyncio.sleep(0.3)
        assert viewer.events.empty()  # another employee's room
    finally:
        await agent.close()
        await viewer.close()
        if outside.redis is not None:
            await outside.redis.aclose()


async def test_a_token_in_the_query_string_never_reaches_the_servers_log(tmp_path: Path) -> None:
    # uvicorn logs every WebSocket handshake with its query string at level info.
    port, log = free_port(), tmp_path / "serve.log"
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_DATA_DIR": str(tmp_path),
        "CUSTOMERS_HUB_JWT_SECRET": SECRET,
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--log-level", "info"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    instance = Instance("embedded", port, process, log)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            await wait_healthy(http, [instance])
        token = issue_token(AUTH, "emp_log", Role.ADMIN, "org_log", PERMISSIONS[Role.ADMIN], 600)
        listener = Listener()
        await listener.connect(f"{instance.base}?token={token}", transports=["websocket"])
        await listener.subscribe(CHANNELS)
        await listener.close()
        async with connect(f"ws://127.0.0.1:{port}/api/v1/ws?token={token}") as socket:
            await socket.send(json.dumps({"event": "ping"}))
            assert json.loads(await asyncio.wait_for(socket.recv(), WAIT))["event"] == "pong"
    finally:
        stop_process(process)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "WebSocket /socket.io/?token=…" in text, text  # the lines are there, redacted
    assert "WebSocket /api/v1/ws?token=…" in text, text
    assert token not in text
    assert token.split(".")[2] not in text  # not even the signature


# --- the API document's snippet, with the npm socket.io-client -----------------------------------

# The document's real-time snippet, unchanged but for where it connects and what it prints.
SNIPPET = """
const { io } = require("socket.io-client");
const socket = io(process.env.HUB_URL, { auth: { token: process.env.HUB_TOKEN } });

// Client connects
socket.on('connect', () => {
  console.log('Connected to real-time updates');
});

// Subscribe to channels
socket.emit('subscribe', {
  channels: ['actions', 'customers', 'stats']
});

socket.on('subscribed', (m) => console.log('SUBSCRIBED ' + JSON.stringify(m)));
socket.on('action.created', (m) => { console.log('EVENT ' + JSON.stringify(m)); process.exit(0); });
socket.on('connect_error', (e) => { console.log('REFUSED ' + e.message); process.exit(3); });
setTimeout(() => process.exit(2), 30000);
"""


def socketio_client_package() -> Path | None:
    """``node_modules`` holding the npm package ``socket.io-client`` (installed once into the
    project's ``.cache``), or None when node or npm is missing or cannot install it (the reason
    is printed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print("node or npm is not installed")
        return None
    cache = ROOT / ".cache" / "socketio-client"
    if not (cache / "node_modules" / "socket.io-client").exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(cache),
                "--no-audit",
                "--no-fund",
                "socket.io-client@4",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            print(f"npm could not install socket.io-client: {done.stderr[-500:]}")
            return None
    return cache / "node_modules"


async def test_the_documents_snippet_receives_the_action_created_on_the_other_instance(
    pair: Pair, tmp_path: Path
) -> None:
    modules = socketio_client_package()
    if modules is None:
        pytest.skip("node/npm or the npm package socket.io-client is not available here")
    http, a, b = pair.http, pair.a, pair.b
    org: Org = await seed(http, a)
    script = tmp_path / "snippet.js"
    script.write_text(SNIPPET, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        str(shutil.which("node")),
        str(script),
        env={
            **os.environ,
            "NODE_PATH": str(modules),
            "HUB_URL": a.base,
            "HUB_TOKEN": token_of(org.agent),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not any(line.startswith("SUBSCRIBED") for line in lines):
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
            assert line, lines
            lines.append(line.strip())
        assert "Connected to real-time updates" in lines
        granted = json.loads(lines[-1].removeprefix("SUBSCRIBED "))
        assert granted["channels"] == ["actions", "customers", "stats"]
        customer = await new_customer(
            http, b, org, assignedEmployeeId=org.agent_id, source="inquiry"
        )
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
            assert line, lines
            if line.startswith("EVENT "):
                break
        event = json.loads(line.removeprefix("EVENT "))
        assert event["event"] == "action.created"
        assert event["data"]["action"]["customerId"] == customer["id"]
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

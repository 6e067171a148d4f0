"""Several instances as one: real ``customers-hub serve`` processes on one PostgreSQL and Redis.

Four processes share a PostgreSQL database made for this module (created on the test server,
migrated with ``customers-hub db upgrade``, dropped at the end): A and B use the test Redis (a
database number of their own, flushed first), C and D a throw-away ``redis-server`` this module
starts on a free port (no persistence) so the fault test can stop and restart it. Every wait is
bounded; processes are terminated (then killed) whatever happens.

Shown: a write on A is read on B at once (the cache is invalidated across instances); an ETag
taken on A is honoured on B (304, 412); a user's rate-limit budget is shared by A and B; a
WebSocket client on B receives an event caused on A and a client of another organization
receives nothing, and a bad token closes the socket with 1008 (the same over socket.io in
``test_socketio.py``, which reuses this module's helpers); a passed snooze is woken (and
announced) once although both instances run the wake-up job; with Redis stopped, reads keep
answering 200 from the database, writes keep working and nothing is lost; with Redis back,
caching and cross-instance events resume by themselves.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from attrs import define, frozen
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from customers_hub.domain.enums import Permission, Role
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLI = (
    [str(BIN / "customers-hub")]
    if (BIN / "customers-hub").exists()
    else [sys.executable, "-m", "customers_hub.entrypoints.cli"]
)
SECRET = "multi-instance-test-secret-long-enough-for-hs256"
AUTH = AuthSettings(secret=SECRET)
SHARED_REDIS_DB = 7
"""Database number of the test Redis used by A and B (flushed when the module starts)."""
STARTUP_TIMEOUT = 40.0
WAIT = 5.0
"""Longest wait for something that must happen at once (seconds)."""
RECOVERY_TIMEOUT = 15.0
"""Longest wait for the instances to find Redis again (their retry interval is ~1 s)."""
WAKE_INTERVAL = 0.3
"""Seconds between two runs of each instance's snooze wake-up job."""
VIEWER_BURST = 75
"""A viewer's read bucket: 50 per minute, 75 at once (``adapters.ratelimit``)."""

READ_PERMISSIONS = [Permission.CUSTOMERS_READ, Permission.ACTIONS_READ]
PERMISSIONS: dict[Role, list[Permission]] = {
    Role.ADMIN: list(Permission),
    Role.SALES_AGENT: [*READ_PERMISSIONS, Permission.CUSTOMERS_WRITE, Permission.ACTIONS_WRITE],
    Role.VIEWER: READ_PERMISSIONS,
}
_PHONES = itertools.count(3_000_001)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def phone() -> str:
    """A Saudi mobile number unused in this module."""
    return f"+96656{next(_PHONES):07d}"


def bearer(user_id: str, role: Role, org: str) -> dict[str, str]:
    """Authorization headers of a token signed with the instances' shared secret."""
    token = issue_token(AUTH, user_id, role, org, PERMISSIONS[role], 3600)
    return {"Authorization": f"Bearer {token}"}


def clean_env() -> dict[str, str]:
    """This process's environment without any ``CUSTOMERS_HUB_*`` setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_HUB_")}


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill after a bounded wait."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# --- servers -------------------------------------------------------------------------------------


@frozen
class Instance:
    """One ``customers-hub serve`` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of an API ``path``."""
        return f"{self.base}{path}"

    def ws(self, headers: dict[str, str]) -> str:
        """The WebSocket URL for the token in ``headers``."""
        token = headers["Authorization"].removeprefix("Bearer ")
        return f"ws://127.0.0.1:{self.port}/api/v1/ws?token={token}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process's output (for failure messages)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} log ---\n" + "\n".join(text.splitlines()[-lines:])


def spawn(name: str, env: dict[str, str], workdir: Path) -> Instance:
    """Start ``customers-hub serve`` on a free port (its data directory under ``workdir``)."""
    port = free_port()
    data_dir = workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--log-level", "warning"],
            env={**env, "CUSTOMERS_HUB_DATA_DIR": str(data_dir)},
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Instance(name, port, process, log)


async def wait_healthy(http: httpx.AsyncClient, instances: Sequence[Instance]) -> None:
    """Every instance answers ``/ready`` (its database too), within :data:`STARTUP_TIMEOUT`."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    waiting = list(instances)
    while waiting:
        instance = waiting[0]
        if instance.process.poll() is not None:
            pytest.fail(
                f"{instance.name} exited with {instance.process.returncode}\n{instance.log_tail()}"
            )
        try:
            response = await http.get(instance.url("/ready"), timeout=2)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            waiting.pop(0)
            continue
        if time.monotonic() > deadline:
            pytest.fail(
                f"{instance.name} not ready within {STARTUP_TIMEOUT}s\n{instance.log_tail()}"
            )
        await asyncio.sleep(0.1)


@define
class PrivateRedis:
    """A throw-away ``redis-server`` on 127.0.0.1 (no persistence) that a test may stop."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A synchronous client with short timeouts."""
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        """Start it (again, on the same port) and wait until it answers."""
        server = shutil.which("redis-server")
        assert server, "redis-server is installed by scripts/test-servers.sh"
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"redis-server did not start on {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (the instances see connections refused)."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@frozen
class Cluster:
    """A and B on the test Redis, C and D on :class:`PrivateRedis`, all on one database."""

    a: Instance
    b: Instance
    c: Instance
    d: Instance
    shared_redis: redis.Redis
    private_redis: PrivateRedis
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server, migrated; dropped afterwards."""
    server = os.environ.get("CUSTOMERS_HUB_TEST_POSTGRES_URL")
    assert server, "run the tests through `make test` (scripts/run-tests.sh starts PostgreSQL)"
    name = f"customers_hub_mi_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    try:
        done = subprocess.run(
            [*CLI, "db", "upgrade", "--database-url", url],
            env=clean_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield url
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shared_redis_url() -> str:
    """The test Redis, on :data:`SHARED_REDIS_DB`."""
    url = os.environ.get("CUSTOMERS_HUB_TEST_REDIS_URL")
    assert url, "run the tests through `make test` (scripts/run-tests.sh starts Redis)"
    return f"{url.rsplit('/', 1)[0]}/{SHARED_REDIS_DB}"


@pytest.fixture(scope="module")
async def cluster(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """The four instances, ready; everything stopped at the end."""
    workdir = tmp_path_factory.mktemp("multi-instance")
    shared = redis.Redis.from_url(shared_redis_url(), socket_timeout=2, socket_connect_timeout=2)
    shared.flushdb()
    private = PrivateRedis(free_port(), workdir)
    instances: list[Instance] = []
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            private.start()
            base = {
                **clean_env(),
                "CUSTOMERS_HUB_DATABASE_URL": postgres_url,
                "CUSTOMERS_HUB_JWT_SECRET": SECRET,
                "CUSTOMERS_HUB_DB_POOL_SIZE": "3",
            }
            # A and B run the snooze wake-up job often (the default is 30 s). C and D do not:
            # they share the database but not the Redis, so a wake-up they won would be
            # announced where A's and B's clients never hear it (a real deployment has one Redis).
            for name, redis_url, wake in (
                ("A", shared_redis_url(), str(WAKE_INTERVAL)),
                ("B", shared_redis_url(), str(WAKE_INTERVAL)),
                ("C", private.url, "off"),
                ("D", private.url, "off"),
            ):
                env = {
                    **base,
                    "CUSTOMERS_HUB_REDIS_URL": redis_url,
                    "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": wake,
                }
                instances.append(spawn(name, env, workdir))
            await wait_healthy(http, instances)
            a, b, c, d = instances
            yield Cluster(a, b, c, d, shared, private, http)
        finally:
            for instance in instances:
                stop_process(instance.process)
            private.stop()
            shared.close()


# --- helpers -------------------------------------------------------------------------------------


@frozen
class Org:
    """A seeded organization: an admin, an agent and a viewer (distinct users per test)."""

    id: str
    admin: dict[str, str]
    agent: dict[str, str]
    viewer: dict[str, str]
    agent_id: str


async def seed(http: httpx.AsyncClient, instance: Instance) -> Org:
    """A fresh organization with its employees, created through HTTP."""
    org = f"org_mi_{uuid.uuid4().hex[:10]}"
    bootstrap = bearer("bootstrap", Role.ADMIN, org)
    suffix = uuid.uuid4().hex[:6]
    ids = {
        role: f"emp_{role.value}_{suffix}" for role in (Role.ADMIN, Role.SALES_AGENT, Role.VIEWER)
    }
    for role, employee_id in ids.items():
        response = await http.post(
            instance.url("/api/v1/employees"),
            json={"id": employee_id, "name": f"موظف {role.value}", "role": role.value},
            headers=bootstrap,
        )
        assert response.status_code == 201, response.text
    return Org(
        id=org,
        admin=bearer(ids[Role.ADMIN], Role.ADMIN, org),
        agent=bearer(ids[Role.SALES_AGENT], Role.SALES_AGENT, org),
        viewer=bearer(ids[Role.VIEWER], Role.VIEWER, org),
        agent_id=ids[Role.SALES_AGENT],
    )


async def new_customer(
    http: httpx.AsyncClient, instance: Instance, org: Org, **fields: Any
) -> dict[str, Any]:
    """A customer created through HTTP on ``instance``; its wire form."""
    body = {"name": "محمد الفهد", "phone": phone(), "source": "manual", **fields}
    response = await http.post(instance.url("/api/v1/customers"), json=body, headers=org.admin)
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()["data"]["customer"]
    return customer


async def subscribed(url: str, channels: list[str]) -> ClientConnection:
    """A WebSocket client subscribed to ``channels`` (all granted)."""
    client = await connect(url, open_timeout=WAIT, close_timeout=2)
    await client.send(json.dumps({"event": "subscribe", "channels": channels}))
    reply = json.loads(await asyncio.wait_for(client.recv(), WAIT))
    assert reply["event"] == "subscribed", reply
    assert reply["channels"] == channels
    return client


async def next_message(client: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    """The next message (fails after ``timeout`` seconds)."""
    message: dict[str, Any] = json.loads(await asyncio.wait_for(client.recv(), timeout))
    return message


def cache_entries(store: redis.Redis, org: str, name: str) -> list[bytes]:
    """Keys of the cached view ``name`` (e.g. ``customer:<id>``) of ``org``, any variant or
    generation (``hub:{org}:{name}:…:v{generations}``, see ``adapters.cache``)."""
    return [
        key
        for key in store.scan_iter(match=f"hub:{org}:{name}:*", count=1000)
        if b":v" in key[len(f"hub:{org}:{name}") :]
    ]


# --- A and B on the test Redis -------------------------------------------------------------------


async def test_a_write_on_one_instance_is_read_on_the_other_at_once(cluster: Cluster) -> None:
    http, a, b = cluster.http, cluster.a, cluster.b
    org = await seed(http, a)
    customer = await new_customer(http, a, org, assignedEmployeeId=org.agent_id)
    path = f"/api/v1/customers/{customer['id']}"
    for _ in range(2):  # the second read comes from the shared cache
        warm = await http.get(b.url(path), headers=org.admin)
        assert warm.status_code == 200, warm.text
        assert warm.json()["data"]["customer"]["name"] == "محمد الفهد"
    assert cache_entries(cluster.shared_redis, org.id, f"customer:{customer['id']}")
    listed = await http.get(b.url("/api/v1/customers"), headers=org.admin)
    assert [c["name"] for c in listed.json()["data"]["customers"]] == ["محمد الفهد"]

    changed = await http.put(a.url(path), json={"name": "محمد العتيبي"}, headers=org.admin)
    assert changed.status_code == 200, changed.text

    fresh = await http.get(b.url(path), headers=org.admin)
    assert fresh.json()["data"]["customer"]["name"] == "محمد العتيبي"
    assert fresh.headers["ETag"] != warm.headers["ETag"]
    listed = await http.get(b.url("/api/v1/customers"), headers=org.admin)
    assert [c["name"] for c in listed.json()["data"]["customers"]] == ["محمد العتيبي"]


async def test_an_etag_taken_on_one_instance_is_honoured_on_the_other(cluster: Cluster) -> None:
    http, a, b = cluster.http, cluster.a, cluster.b
    org = await seed(http, a)
    customer = await new_customer(http, a, org)
    path = f"/api/v1/customers/{customer['id']}"
    first = await http.get(a.url(path), headers=org.admin)
    etag = first.headers["ETag"]

    not_modified = await http.get(b.url(path), headers={**org.admin, "If-None-Match": etag})
    assert not_modified.status_code == 304, not_modified.text
    assert not_modified.content == b""

    changed = await http.put(
        a.url(path), json={"city": "جدة"}, headers={**org.admin, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    stale = await http.put(
        b.url(path), json={"city": "الدمام"}, headers={**org.admin, "If-Match": etag}
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["error"]["code"] == "PRECONDITION_FAILED"
    now = await http.get(b.url(path), headers={**org.admin, "If-None-Match": etag})
    assert now.status_code == 200
    assert now.json()["data"]["customer"]["city"] == "جدة"  # B's stale write changed nothing
    assert now.headers["ETag"] != etag


async def test_a_users_rate_limit_budget_is_shared_by_the_instances(cluster: Cluster) -> None:
    http, a, b = cluster.http, cluster.a, cluster.b
    org = await seed(http, a)
    seen: list[tuple[str, int, int]] = []  # instance, status, remaining
    refused: httpx.Response | None = None
    started = time.monotonic()
    for i in range(2 * VIEWER_BURST):  # bounded: twice what one instance alone would allow
        instance = (a, b)[i % 2]
        response = await http.get(instance.url("/api/v1/customers"), headers=org.viewer)
        assert response.status_code in (200, 429), response.text
        assert response.headers["X-RateLimit-Limit"] == "50"
        assert response.headers["X-RateLimit-Burst"] == str(VIEWER_BURST)
        seen.append(
            (instance.name, response.status_code, int(response.headers["X-RateLimit-Remaining"]))
        )
        if response.status_code == 429:
            refused = response
            break
    assert refused is not None, "no 429 within twice the burst"
    # One bucket for both: the budget (75 at once, refilled at 50/min) ran out after about 75
    # requests in all, not 75 per instance; a slow machine earns one more token per 1.2 s.
    refilled = math.ceil((time.monotonic() - started) * 50 / 60)
    assert VIEWER_BURST <= len(seen) - 1 <= VIEWER_BURST + refilled + 1, seen
    remaining = [r for _, status, r in seen if status == 200]
    # Remaining never reads above the limit (50): it shows 50 while burst is left, then falls.
    assert remaining[0] == 50, seen
    below = [r for r in remaining if r < 50]
    assert len(below) >= VIEWER_BURST - 50 - 5, seen
    drops = sum(1 for before, after in itertools.pairwise(below) if after < before)
    assert drops >= len(below) - 5, seen  # each request, on either instance, took one
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(refused.headers["Retry-After"]) >= 1
    # Whichever instance comes next finds the same empty bucket: refused, or (when a token was
    # refilled in between, one per 1.2 s) allowed with nothing left — never the ~37 requests an
    # instance counting on its own would still have.
    for instance in (a, b):
        again = await http.get(instance.url("/api/v1/customers"), headers=org.viewer)
        assert again.status_code in (200, 429), (instance.name, again.text)
        assert again.headers["X-RateLimit-Remaining"] == "0", (instance.name, again.headers)


async def test_a_websocket_client_on_one_instance_receives_events_caused_on_the_other(
    cluster: Cluster,
) -> None:
    http, a, b = cluster.http, cluster.a, cluster.b
    org, other = await seed(http, a), await seed(http, a)
    customer = await new_customer(http, a, org, assignedEmployeeId=org.agent_id)
    listener = await subscribed(b.ws(org.agent), ["actions", "customers"])
    outsider = await subscribed(b.ws(other.admin), ["actions", "customers"])
    try:
        response = await http.post(
            a.url("/api/v1/customers/actions"),
            json={"customerId": customer["id"], "type": "follow_up", "title": "اتصال"},
            headers=org.admin,
        )
        assert response.status_code == 201, response.text
        action = response.json()["data"]["action"]
        message = await next_message(listener)
        assert message["event"] == "action.created", message
        assert message["data"]["action"]["id"] == action["id"]
        assert message["timestamp"].endswith("Z")

        # The other organization's client got nothing: the first thing it receives is the
        # event of its own organization caused after.
        marker = await new_customer(http, a, other)
        first = await next_message(outsider)
        assert first["event"] == "customer.created", first
        assert first["data"]["customer"]["id"] == marker["id"]
    finally:
        await listener.close()
        await outsider.close()


async def test_a_bad_token_closes_the_websocket_with_policy_violation(cluster: Cluster) -> None:
    org = await seed(cluster.http, cluster.a)
    forged = AuthSettings(secret="not-the-secret-of-the-instances-but-long-enough")
    token = issue_token(forged, "emp_x", Role.ADMIN, org.id, PERMISSIONS[Role.ADMIN], 3600)
    for url in (
        cluster.b.ws({"Authorization": f"Bearer {token}"}),
        f"ws://127.0.0.1:{cluster.b.port}/api/v1/ws",
    ):
        client = await connect(url, open_timeout=WAIT, close_timeout=2)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008


async def test_a_passed_snooze_is_woken_once_though_both_instances_run_the_job(
    cluster: Cluster,
) -> None:
    http, a, b = cluster.http, cluster.a, cluster.b
    org = await seed(http, a)
    customer = await new_customer(http, a, org, assignedEmployeeId=org.agent_id)
    created = await http.post(
        a.url("/api/v1/customers/actions"),
        json={"customerId": customer["id"], "type": "follow_up", "title": "اتصال"},
        headers=org.agent,
    )
    assert created.status_code == 201, created.text
    action_id = created.json()["data"]["action"]["id"]
    listener = await subscribed(b.ws(org.agent), ["actions"])
    try:
        until = datetime.now(UTC) + timedelta(seconds=1)
        snoozed = await http.post(
            a.url(f"/api/v1/customers/actions/{action_id}/snooze"),
            json={"snoozedUntil": until.isoformat().replace("+00:00", "Z")},
            headers=org.agent,
        )
        assert snoozed.status_code == 200, snoozed.text
        first = await next_message(listener)
        assert first["data"]["changes"]["status"] == "snoozed"
        woken = await next_message(listener, timeout=WAIT)
        assert woken["event"] == "action.updated", woken
        assert woken["data"] == {
            "actionId": action_id,
            "changes": woken["data"]["changes"],
        }
        assert woken["data"]["changes"]["status"] == "pending"
        assert datetime.now(UTC) >= until
        # Both instances ran the job several times meanwhile: no second wake-up event. The next
        # message is the marker caused after.
        await asyncio.sleep(4 * WAKE_INTERVAL)
        marker = await http.post(
            a.url("/api/v1/customers/actions"),
            json={"customerId": customer["id"], "type": "site_visit", "title": "معاينة"},
            headers=org.agent,
        )
        assert marker.status_code == 201, marker.text
        following = await next_message(listener)
        assert following["event"] == "action.created", following
        assert following["data"]["action"]["id"] == marker.json()["data"]["action"]["id"]
    finally:
        await listener.close()
    for instance in (cluster.a, cluster.b, cluster.c, cluster.d):
        assert "Traceback" not in instance.log.read_text(encoding="utf-8"), instance.log_tail()


# --- C and D on a Redis that goes away -----------------------------------------------------------


async def test_with_redis_down_the_instances_serve_from_the_database_and_recover(
    cluster: Cluster,
) -> None:
    http, c, d, store = cluster.http, cluster.c, cluster.d, cluster.private_redis
    org = await seed(http, c)
    customer = await new_customer(http, c, org, assignedEmployeeId=org.agent_id)
    path = f"/api/v1/customers/{customer['id']}"
    for _ in range(2):
        assert (await http.get(d.url(path), headers=org.admin)).status_code == 200
    assert cache_entries(store.client(), org.id, f"customer:{customer['id']}")
    listener = await subscribed(d.ws(org.admin), ["customers"])
    statuses: list[tuple[str, str, int]] = []

    async def call(instance: Instance, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await http.request(method, instance.url(url), headers=org.admin, **kwargs)
        statuses.append((instance.name, f"{method} {url}", response.status_code))
        return response

    try:
        store.stop()
        # Reads answer from the database; writes go through; every view stays fresh.
        created: list[str] = []
        for round_ in range(3):
            for instance in (c, d):
                assert (await call(instance, "GET", path)).status_code == 200
                for view in (
                    "/api/v1/customers",
                    "/api/v1/customers/stats",
                    "/api/v1/customers/actions",
                    "/api/v1/customers/actions/stats",
                    "/api/v1/employees",
                ):
                    assert (await call(instance, "GET", view)).status_code == 200, view
            name = f"اسم أثناء الانقطاع {round_}"
            changed = await call(c, "PUT", path, json={"name": name})
            assert changed.status_code == 200, changed.text
            seen = await call(d, "GET", path)
            assert seen.json()["data"]["customer"]["name"] == name
            made = await call(
                d,
                "POST",
                "/api/v1/customers",
                json={"name": "جديد", "phone": phone(), "source": "manual"},
            )
            assert made.status_code == 201, made.text
            created.append(made.json()["data"]["customer"]["id"])
        for customer_id in created:  # nothing lost: each is there, read on the other instance
            back = await call(c, "GET", f"/api/v1/customers/{customer_id}")
            assert back.status_code == 200
        listed = await call(c, "GET", "/api/v1/customers?limit=100")
        assert {x["id"] for x in listed.json()["data"]["customers"]} >= set(created)
        assert all(status < 500 for *_, status in statuses), [s for s in statuses if s[2] >= 500]
        assert cluster.c.process.poll() is None
        assert cluster.d.process.poll() is None

        store.start()
        # Caching resumes by itself: a read on D is stored in Redis again.
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while not cache_entries(store.client(), org.id, f"customer:{customer['id']}"):
            assert time.monotonic() < deadline, "caching did not resume\n" + d.log_tail()
            assert (await call(d, "GET", path)).status_code == 200
            await asyncio.sleep(0.2)
        # Invalidation across instances works again: a write on C is read on D at once.
        for name in ("بعد العودة", "بعد العودة مرة أخرى"):
            assert (await call(c, "PUT", path, json={"name": name})).status_code == 200
            seen = await call(d, "GET", path)
            assert seen.json()["data"]["customer"]["name"] == name
        # Events fan out across instances again: the client on D hears a write on C.
        heard: dict[str, Any] | None = None
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while heard is None:
            assert time.monotonic() < deadline, "events did not resume\n" + d.log_tail()
            marker = await call(c, "PUT", path, json={"city": f"مدينة {time.monotonic()}"})
            assert marker.status_code == 200
            with_timeout = time.monotonic() + 1.0
            while heard is None and time.monotonic() < with_timeout:
                try:
                    message = await next_message(listener, timeout=0.5)
                except TimeoutError:
                    break
                changes = message["data"].get("changes", {})
                wanted = marker.json()["data"]["customer"]["city"]
                if message["event"] == "customer.updated" and changes.get("city") == wanted:
                    heard = message
        assert heard["data"]["customerId"] == customer["id"]
        assert all(status < 500 for *_, status in statuses), [s for s in statuses if s[2] >= 500]
    finally:
        await listener.close()
        if store.process is None:
            store.start()

"""PostgreSQL restarted under write load: 503 with ``Retry-After``, never 500, nothing lost.

A throw-away PostgreSQL 15 (``initdb`` into a temp directory, trust auth, its own free port,
``fsync=off`` but ``synchronous_commit`` on, so a commit acknowledged before an immediate
shutdown must still be there) is migrated with ``customers-hub db upgrade``, and a real
``customers-hub serve`` runs on it. Four clients create customers (unique phones, source
``inquiry`` so each create also writes its stage history and a system action) while the server is
restarted ``-m fast``, then stopped ``-m immediate`` and started again. Shown:

* every answer is 201, or 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After`` — no 500, no
  transport error, no request past its bounded timeout;
* while the database is down, ``/ready`` is 503 (with ``Retry-After``) and ``/health`` 200;
  ``/health`` is 200 throughout; after the restarts the service recovers by itself (201s again,
  ``/ready`` 200);
* every acknowledged create reads back (0 lost), and a customer present that was never
  acknowledged (its commit landed but the answer did not) is complete: stage history and
  system action, in the same transaction;
* the classification itself on real errors: a statement timeout and a refused connection are
  outages, a constraint violation, a missing table and a syntax error are not (they stay 409/500).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from attrs import define, field
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_multi_instance import (  # the multi-instance module's process helpers
    Instance,
    clean_env,
    free_port,
    spawn,
    stop_process,
    wait_healthy,
)
from websockets.asyncio.client import connect

from customers_hub.adapters.sql.engine import (
    DatabaseTimeouts,
    create_engine,
    is_database_unavailable,
)
from customers_hub.adapters.sql.migrate import upgrade
from customers_hub.domain.enums import Permission, Role
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

pytestmark = pytest.mark.integration

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET = "database-outage-test-secret-long-enough-for-hs256"
AUTH = AuthSettings(secret=SECRET)
CLIENTS = 4
REQUEST_TIMEOUT = 15.0
"""Longest a request may take: above every bound of the service (connect 5 s, pool 5 s)."""
RECOVERY_TIMEOUT = 20.0
_PHONES = itertools.count(4_000_001)


def as_postgres(*args: str, timeout: float = 60) -> None:
    """Run a PostgreSQL binary as the ``postgres`` user (the server refuses to run as root)."""
    command = [*(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []), *args]
    done = subprocess.run(
        command, cwd="/", capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args[0]} failed: {done.stdout}\n{done.stderr}"


@define
class PrivatePostgres:
    """A PostgreSQL server of this test only, which it may restart and stop."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        """The URL of its ``hub`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/hub"

    def ctl(self, action: str, *options: str) -> None:
        """``pg_ctl <action>``, waiting for it to complete."""
        server_options = (
            f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=50"
        )
        as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "30",
            *options,
            *(["-o", server_options] if action in ("start", "restart") else []),
            action,
        )

    def log(self) -> str:
        """The server's log (for failure messages)."""
        path = self.data / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    """``initdb`` into a temp directory, started on a free port, a ``hub`` database migrated."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 binaries not found in {PG_BIN} (scripts/test-servers.sh)")
    # Not under pytest's tmp_path: its root is private to this user, and the server runs as
    # the postgres user.
    workdir = Path(tempfile.mkdtemp(prefix="customers-hub-outage-"))
    workdir.chmod(0o755)
    data = workdir / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    as_postgres(
        str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
    )
    server = PrivatePostgres(data, free_port())
    server.ctl("start")
    try:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{server.port}/postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute("CREATE DATABASE hub")
        upgrade(server.url)
        yield server
    finally:
        subprocess.run(
            [
                *(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []),
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ],
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
async def service(
    postgres: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Instance]:
    """``customers-hub serve`` on the private PostgreSQL, ready."""
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_DATABASE_URL": postgres.url,
        "CUSTOMERS_HUB_JWT_SECRET": SECRET,
        "CUSTOMERS_HUB_DB_POOL_SIZE": "3",
        "CUSTOMERS_HUB_RATE_LIMITS": "off",
        "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "off",
    }
    instance = spawn("outage", env, tmp_path_factory.mktemp("outage-serve"))
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            await wait_healthy(http, [instance])
        yield instance
    finally:
        stop_process(instance.process)


def bearer(user_id: str, org: str) -> dict[str, str]:
    """An admin's Authorization headers."""
    token = issue_token(AUTH, user_id, Role.ADMIN, org, list(Permission), 3600)
    return {"Authorization": f"Bearer {token}"}


@define
class Load:
    """What the clients saw."""

    answers: list[tuple[str, int, dict[str, Any], httpx.Headers]] = field(factory=list)
    """(phone, status, body, headers) of every answered create."""
    transport_errors: list[tuple[str, str]] = field(factory=list)
    health: list[int] = field(factory=list)
    running: bool = True

    def created(self) -> list[tuple[str, str]]:
        """(phone, id) of every acknowledged create."""
        return [(p, b["data"]["customer"]["id"]) for p, s, b, _ in self.answers if s == 201]

    def since(self, mark: int) -> list[int]:
        """Statuses of the answers after the first ``mark``."""
        return [status for _, status, _, _ in self.answers[mark:]]


async def writer(http: httpx.AsyncClient, base: str, headers: dict[str, str], load: Load) -> None:
    """Create customers one after the other until told to stop."""
    while load.running:
        phone = f"+96658{next(_PHONES):07d}"
        body = {"name": "عميل الاختبار", "phone": phone, "source": "inquiry", "city": "الرياض"}
        try:
            response = await http.post(f"{base}/api/v1/customers", json=body, headers=headers)
        except httpx.TransportError as error:
            load.transport_errors.append((phone, repr(error)))
            continue
        load.answers.append((phone, response.status_code, response.json(), response.headers))
        if response.status_code == 503:
            await asyncio.sleep(0.05)  # a real client waits Retry-After; the test keeps pressing


async def health_poller(http: httpx.AsyncClient, base: str, load: Load) -> None:
    """``/health`` every 100 ms."""
    while load.running:
        try:
            load.health.append((await http.get(f"{base}/health")).status_code)
        except httpx.TransportError:
            load.health.append(-1)
        await asyncio.sleep(0.1)


async def until_created(load: Load, mark: int, count: int = 5) -> None:
    """Wait until ``count`` creates after answer ``mark`` succeeded (the service recovered)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while load.since(mark).count(201) < count:
        assert time.monotonic() < deadline, f"no recovery: {load.since(mark)[-20:]}"
        await asyncio.sleep(0.05)


async def websocket_survives(service: Instance, headers: dict[str, str]) -> str:
    """While the database is down: subscribe to ``stats`` (whose first push needs the
    database), then ping; the event of the answer (``pong`` when the connection stayed open)."""
    async with connect(service.ws(headers), open_timeout=5, close_timeout=2) as client:
        await client.send(json.dumps({"event": "subscribe", "channels": ["stats"]}))
        reply = json.loads(await asyncio.wait_for(client.recv(), 5))
        assert reply["event"] == "subscribed", reply
        await asyncio.sleep(0.5)  # the stats push has failed by now
        await client.send(json.dumps({"event": "ping"}))
        answer: str = json.loads(await asyncio.wait_for(client.recv(), 5))["event"]
        return answer


async def test_a_postgres_restart_under_load_answers_503_never_500_and_loses_nothing(
    postgres: PrivatePostgres, service: Instance
) -> None:
    org = f"org_outage_{uuid.uuid4().hex[:8]}"
    headers = bearer("emp_outage_admin", org)
    load = Load()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as http:
        created = await http.post(
            f"{service.base}/api/v1/employees",
            json={"id": "emp_outage_admin", "name": "مدير", "role": "admin"},
            headers=bearer("bootstrap", org),
        )
        assert created.status_code == 201, created.text
        tasks = [
            asyncio.create_task(writer(http, service.base, headers, load)) for _ in range(CLIENTS)
        ]
        tasks.append(asyncio.create_task(health_poller(http, service.base, load)))
        try:
            await until_created(load, 0)
            # 1. A fast restart: sessions terminated, connections refused for a moment.
            mark = len(load.answers)
            await asyncio.to_thread(postgres.ctl, "restart", "-m", "fast")
            await until_created(load, mark)
            # 2. A crash (immediate: no checkpoint, recovery on start) and a while down.
            await asyncio.to_thread(postgres.ctl, "stop", "-m", "immediate")
            down_mark = len(load.answers)
            await asyncio.sleep(0.5)
            ready_down = await http.get(f"{service.base}/ready")
            health_down = await http.get(f"{service.base}/health")
            started = time.monotonic()
            read_down = await http.get(f"{service.base}/api/v1/customers", headers=headers)
            read_seconds = time.monotonic() - started
            socket_pong = await websocket_survives(service, headers)
            down_statuses = load.since(down_mark)
            await asyncio.to_thread(postgres.ctl, "start")
            mark = len(load.answers)
            await until_created(load, mark)
            ready_after = await http.get(f"{service.base}/ready")
        finally:
            load.running = False
            await asyncio.gather(*tasks, return_exceptions=True)

        statuses = [status for _, status, _, _ in load.answers]
        unexpected = [(s, b) for _, s, b, _ in load.answers if s not in (201, 503)]
        assert unexpected == [], f"{unexpected[:3]}\n{service.log_tail()}"
        assert load.transport_errors == [], load.transport_errors[:3]
        for _, status, body, answer_headers in load.answers:
            if status == 503:
                assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
                assert int(answer_headers["retry-after"]) > 0
        assert 503 in down_statuses, "writes while PostgreSQL was down were not refused"
        assert set(down_statuses) <= {201, 503}
        assert ready_down.status_code == 503
        assert int(ready_down.headers["retry-after"]) > 0
        assert health_down.status_code == 200
        assert read_down.status_code == 503, read_down.text
        assert read_seconds < 10
        assert read_down.headers["retry-after"]
        assert socket_pong == "pong"  # the failed stats push did not close the WebSocket
        assert ready_after.status_code == 200
        assert load.health
        assert set(load.health) == {200}

        # Nothing acknowledged is lost: each reads back after both restarts.
        acknowledged = load.created()
        for _, customer_id in acknowledged:
            response = await http.get(
                f"{service.base}/api/v1/customers/{customer_id}", headers=headers
            )
            assert response.status_code == 200, (customer_id, response.text)

    # Nothing half-exists: every customer present is complete, acknowledged or not.
    acknowledged_phones = {phone for phone, _ in acknowledged}
    with psycopg.connect(postgres.url, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT c.phone, "
            " (SELECT count(*) FROM stage_history h WHERE h.customer_id = c.id), "
            " (SELECT count(*) FROM customer_actions a WHERE a.customer_id = c.id) "
            "FROM customers c WHERE c.organization_id = %s",
            (org,),
        ).fetchall()
    present = {phone: (history, actions) for phone, history, actions in rows}
    assert acknowledged_phones <= set(present)
    incomplete = {phone: counts for phone, counts in present.items() if min(counts) < 1}
    assert incomplete == {}
    unacknowledged = set(present) - acknowledged_phones
    causes = Counter(
        re.findall(r'"exception": "([\w.]+)"', service.log.read_text(errors="replace"))
    )
    print(
        f"\nanswers: {len(statuses)} ({statuses.count(201)} x 201, {statuses.count(503)} x 503); "
        f"present but not acknowledged (complete): {len(unacknowledged)}; 503 causes: {causes}"
    )


async def test_only_outages_are_classified_as_unavailable(postgres: PrivatePostgres) -> None:
    """Real errors of real servers: outages are 503 material, mistakes are not."""
    engine = create_engine(postgres.url, pool_size=1, timeouts=DatabaseTimeouts(statement=0.2))
    refused = create_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/hub", pool_size=1)
    seen: dict[str, BaseException] = {}
    try:
        async with engine.connect() as conn:
            for name, statement in (
                ("statement timeout", "SELECT pg_sleep(2)"),
                ("missing table", "SELECT * FROM no_such_table"),
                ("syntax", "SELEC 1"),
            ):
                try:
                    await conn.execute(text(statement))
                except DBAPIError as error:
                    seen[name] = error
                await conn.rollback()
            await conn.execute(text("CREATE TEMP TABLE once (id int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO once VALUES (1)"))
            try:
                await conn.execute(text("INSERT INTO once VALUES (1)"))
            except DBAPIError as error:
                seen["constraint"] = error
        try:
            async with refused.connect():
                pass
        except DBAPIError as error:
            seen["connection refused"] = error
    finally:
        await engine.dispose()
        await refused.dispose()
    verdicts = {name: is_database_unavailable(error) for name, error in seen.items()}
    assert verdicts == {
        "statement timeout": True,
        "missing table": False,
        "syntax": False,
        "constraint": False,
        "connection refused": True,
    }

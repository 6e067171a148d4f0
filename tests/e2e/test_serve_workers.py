"""``customers-hub serve --workers 2`` without Redis never answers a stale read (issue 13, bug 4).

The real process on SQLite with two uvicorn workers and no Redis. Several keep-alive
connections are opened until two of them are served by different worker processes (the owner of
each connection's server-side socket is looked up in ``/proc``). The filter options and a
customer are read through both (which filled each worker's own cache before the fix), the
customer is changed through one connection and read through the other, and the other way round:
every read shows the latest write.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_serve_smoke import (  # the smoke tests' process helpers
    CLI,
    ROOT,
    free_port,
    stop,
    wait_until_healthy,
)

from customers_hub.domain.enums import Permission
from customers_hub.entrypoints.http.asgi import stored_secret
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")

MAX_CONNECTIONS = 400
WORKERS_READY_SECONDS = 30.0
"""Connections opened at most while looking for the second worker."""


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server-side socket of the connection from ``client_port``."""
    wanted_local = f"0100007F:{server_port:04X}"
    wanted_remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted_local and fields[2] == wanted_remote:
            return fields[9]
    return None


def _owner(inode: str, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …; comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(int(entry.name))
    return children + [d for c in children for d in _descendants(c)]


class Connection:
    """One keep-alive connection (so one worker) to the service."""

    def __init__(self, port: int, token: str) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.http.connect()
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    @property
    def client_port(self) -> int:
        assert self.http.sock is not None
        port: int = self.http.sock.getsockname()[1]
        return port

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        payload = None if body is None else json.dumps(body).encode()
        self.http.request(method, f"/api/v1{path}", body=payload, headers=self.headers)
        response = self.http.getresponse()
        return response.status, json.loads(response.read())


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    log: Path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """``customers-hub serve --workers 2`` on a fresh SQLite data directory, no Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_HUB_")}
    env.pop("WEB_CONCURRENCY", None)
    env["CUSTOMERS_HUB_DATA_DIR"] = str(tmp_path / "data")
    env["CUSTOMERS_HUB_RATE_LIMITS"] = "off"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        yield Service(process, port, env, log)
    finally:
        stop(process)


def cities(connection: Connection) -> set[str]:
    status, body = connection.call("GET", "/customers/filters")
    assert status == 200, body
    return {c["value"] for c in body["data"]["filters"]["cities"]}


def test_two_workers_without_redis_never_answer_a_stale_read(service: Service) -> None:
    # The secret serve stored before starting its workers (quicker than `customers-hub token`).
    secret = stored_secret(Path(service.env["CUSTOMERS_HUB_DATA_DIR"]))
    token = issue_token(AuthSettings(secret=secret), "emp_admin", "admin", "org_w", Permission)
    workers = _descendants(service.process.pid)
    assert len(workers) >= 2, workers

    by_worker: dict[int, Connection] = {}  # worker pid -> a connection it serves
    opened: list[Connection] = []
    try:
        # A worker still starting (a loaded machine) accepts nothing: keep opening connections,
        # a little apart, until both have served one or the deadline passes.
        deadline = time.monotonic() + WORKERS_READY_SECONDS
        while len(by_worker) < 2 and len(opened) < MAX_CONNECTIONS:
            if opened and time.monotonic() > deadline:
                break
            if opened:
                time.sleep(0.05)
            connection = Connection(service.port, token)
            opened.append(connection)
            assert cities(connection) == set()  # a request: the connection is accepted now
            inode = _socket_inode(service.port, connection.client_port)
            owner = _owner(inode, workers) if inode else None
            if owner is not None:
                by_worker.setdefault(owner, connection)
        assert len(by_worker) == 2, "every connection went to the same worker"
        first, second = by_worker.values()

        status, created = first.call(
            "POST",
            "/customers",
            {"name": "سعد القحطاني", "phone": "0551234567", "source": "manual", "city": "الرياض"},
        )
        assert status == 201, created
        url = f"/customers/{created['data']['customer']['id']}"
        for connection in (first, second):  # what each worker would have cached
            status, body = connection.call("GET", url)
            assert (status, body["data"]["customer"]["city"]) == (200, "الرياض"), body
            assert cities(connection) == {"الرياض"}, "stale filter options from a worker"

        for writer, reader, city in ((first, second, "جدة"), (second, first, "الدمام")):
            status, body = writer.call("PUT", url, {"city": city})
            assert status == 200, body
            status, body = reader.call("GET", url)
            assert status == 200, body
            assert body["data"]["customer"]["city"] == city, "a stale customer from a worker"
            assert cities(reader) == {city}, "stale filter options from a worker"
    finally:
        for connection in opened:
            connection.http.close()
    assert "cache is off" in service.log.read_text(encoding="utf-8")

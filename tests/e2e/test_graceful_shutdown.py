"""SIGTERM to a real ``customers-hub serve``: requests in flight finish, WebSockets get 1001,
the process exits 0 promptly.

The service runs on its embedded SQLite in a temp data directory. The in-flight request is a
customer create whose body is sent in two halves over a raw socket: the first half before the
signal, the second after it, so the request is provably in flight while the service shuts down.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_multi_instance import Instance, clean_env, spawn, wait_healthy
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from customers_hub.domain.enums import Permission, Role
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

SECRET = "graceful-shutdown-test-secret-long-enough-for-hs256"
AUTH = AuthSettings(secret=SECRET)
EXIT_TIMEOUT = 10.0
"""The process must be gone this soon after SIGTERM (seconds)."""


def bearer(user_id: str, org: str) -> str:
    """An admin's token."""
    return issue_token(AUTH, user_id, Role.ADMIN, org, list(Permission), 3600)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Instance]:
    """``customers-hub serve`` on a free port (killed at the end if still running)."""
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_JWT_SECRET": SECRET,
        # A background task that must stop cleanly.
        "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "0.5",
    }
    instance = spawn("graceful", env, tmp_path)
    try:
        yield instance
    finally:
        if instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait(timeout=15)


def read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    """Status and JSON body of one HTTP/1.1 response (the server closes after it)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


async def test_sigterm_finishes_requests_in_flight_closes_websockets_1001_and_exits_0(
    serve: Instance,
) -> None:
    process, port, base = serve.process, serve.port, serve.base
    org = f"org_stop_{uuid.uuid4().hex[:8]}"
    token = bearer("emp_stop_admin", org)
    async with httpx.AsyncClient(timeout=10) as http:
        await wait_healthy(http, [serve])
        created = await http.post(
            f"{base}/api/v1/employees",
            json={"id": "emp_stop_admin", "name": "مدير", "role": "admin"},
            headers={"Authorization": f"Bearer {bearer('bootstrap', org)}"},
        )
        assert created.status_code == 201, created.text

    websocket = await connect(f"ws://127.0.0.1:{port}/api/v1/ws?token={token}", open_timeout=5)
    await websocket.send(json.dumps({"event": "ping"}))
    assert json.loads(await asyncio.wait_for(websocket.recv(), 5))["event"] == "pong"

    body = json.dumps(
        {"name": "عميل أثناء الإيقاف", "phone": "0551239876", "source": "manual"}
    ).encode()
    in_flight = socket.create_connection(("127.0.0.1", port), timeout=10)
    in_flight.sendall(
        b"POST /api/v1/customers HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    await asyncio.sleep(0.3)  # the request has reached the app, which waits for its body
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(websocket.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert process.poll() is None, "exited with a request in flight"

    in_flight.sendall(body[10:])
    status, answer = await asyncio.to_thread(read_response, in_flight)
    in_flight.close()
    assert status == 201, answer
    assert answer["success"] is True

    returncode = await asyncio.to_thread(process.wait, EXIT_TIMEOUT)
    elapsed = time.monotonic() - signalled
    output = serve.log.read_text(errors="replace")
    assert returncode == 0, output
    assert elapsed < EXIT_TIMEOUT
    assert "Traceback" not in output, output
    print(f"\nexit 0 {elapsed:.2f} s after SIGTERM")

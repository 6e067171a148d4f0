"""Smoke tests of the real processes: ``customers-hub serve`` and ``make run``'s script.

Each starts the service as a separate process on a free port with its own data directory and no
configuration (the embedded default: SQLite, a generated token secret), loads the demo data with
the command line, gets a token from ``customers-hub token`` and lists customers over real HTTP.
Every wait is bounded; the processes are terminated (then killed) whatever happens.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLI = (
    [str(BIN / "customers-hub")]
    if (BIN / "customers-hub").exists()
    else [
        sys.executable,
        "-m",
        "customers_hub.entrypoints.cli",
    ]
)
STARTUP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 120.0
DEMO_CUSTOMERS = 8


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh clone: nothing configured but a private data directory."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_HUB_")}
    clean["CUSTOMERS_HUB_DATA_DIR"] = str(tmp_path / "data")
    return clean


def cli(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(
        [*CLI, *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def http(url: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode}:\n{log.read_text()}")
        try:
            status, body = http(f"{base}/health", timeout=2)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200 and body == {"status": "ok"}:
            return
        time.sleep(0.2)
    pytest.fail(f"no answer on {base}/health within {STARTUP_TIMEOUT}s:\n{log.read_text()}")


def request_log_lines(log: Path, until: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The service's ``http.request`` log records, once one satisfies ``until`` (the line is
    written just after the response, so it may lag a moment)."""
    deadline = time.monotonic() + 10
    while True:
        records = [
            json.loads(line)
            for line in log.read_text(encoding="utf-8").splitlines()
            if line.startswith("{") and '"http.request"' in line
        ]
        if any(until(r) for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started; stopped at the end whatever happened."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        stop(process)


def assert_lists_demo_customers(base: str, token: str) -> None:
    status, body = http(f"{base}/api/v1/customers?limit=100", token)
    assert status == 200, body
    assert body["success"] is True
    assert set(body["meta"]) >= {"timestamp", "requestId"}
    customers = body["data"]["customers"]
    assert len(customers) == DEMO_CUSTOMERS
    assert body["data"]["pagination"]["totalItems"] == DEMO_CUSTOMERS
    assert {c["city"] for c in customers} <= {"الرياض", "جدة", "الدمام"}
    assert all(c["phone"].startswith("+9665") for c in customers)


def test_serve_process_answers_over_http(
    env: dict[str, str], tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    out = cli(env, "demo-data", "--customers", str(DEMO_CUSTOMERS), "--org", "org_smoke")
    assert "demo data loaded into organization org_smoke" in out
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    started.append(process)
    wait_until_healthy(base, process, log)

    token = cli(
        env, "token", "--user-id", "demo-admin", "--role", "admin", "--org", "org_smoke"
    ).strip()
    assert_lists_demo_customers(base, token)

    status, body = http(f"{base}/ready")
    assert (status, body["status"]) == (200, "ready")
    # One structured line per request, without the query string (a searched phone number).
    status, _ = http(f"{base}/api/v1/customers?search=0551234567", token)
    assert status == 200
    requests = request_log_lines(log, until=lambda r: r["path"] == "/api/v1/customers")
    listed = [r for r in requests if r["path"] == "/api/v1/customers"]
    assert {"method", "status", "duration_ms", "requestId", "organizationId"} <= set(listed[-1])
    assert listed[-1]["userId"] == "demo-admin"
    assert "551234567" not in log.read_text(encoding="utf-8")
    status, body = http(f"{base}/api/v1/customers")
    assert status == 401
    assert body["error"]["code"] == "AUTHENTICATION_FAILED"
    # Loading again changes nothing, also while the service runs.
    again = cli(env, "demo-data", "--customers", str(DEMO_CUSTOMERS), "--org", "org_smoke")
    assert "already loaded" in again
    assert_lists_demo_customers(base, token)


def test_make_run_script_prints_a_working_token(
    env: dict[str, str], tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **env,
        "VENV": str(BIN.parent),
        "CUSTOMERS_HUB_PORT": str(port),
        "CUSTOMERS_HUB_DEMO_CUSTOMERS": str(DEMO_CUSTOMERS),
    }
    log = tmp_path / "run.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    started.append(process)
    wait_until_healthy(base, process, log)

    lines = log.read_text(encoding="utf-8").splitlines()
    assert f"  API:      {base}/api/v1" in lines
    assert f"  Docs:     {base}/api/v1/docs" in lines
    token = lines[next(i for i, line in enumerate(lines) if line.startswith("Admin token")) + 1]
    assert token.count(".") == 2
    assert any("curl" in line for line in lines)
    assert_lists_demo_customers(base, token)

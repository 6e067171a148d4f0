"""uvicorn against granian: cached-list and floor throughput under ``wrk``, in one run.

``.venv/bin/python -m benchmarks.servers [--database-url URL] [--customers N] [--rounds R]``
copies a benchmark database (``benchmarks.million``'s data set, loaded beforehand) into a
scratch database, then serves the cached ``GET /customers?limit=20`` and the floor's ready bytes
(``benchmarks/floor.py``) with each server in turn and drives each with
``wrk -t2 -c16 -d8s``. Needs ``wrk`` (``apt install wrk``) and granian (``pip install
granian``; not a dependency of Customers Hub). A measurement, never a test:
``docs/benchmarks.md`` has its numbers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence

import httpx

from benchmarks import million
from benchmarks.http import VENV_BIN, _free_port, _wrk, clone_database, drop_database, process
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.demo import default_permissions
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

SERVICE = "customers_hub.entrypoints.http.asgi:served_app_factory"


def servers() -> dict[str, list[str]]:
    """The command line of each server and floor (``{port}`` to be filled in)."""
    python, granian = str(VENV_BIN / "python"), str(VENV_BIN / "granian")
    quiet = ["--port", "{port}", "--log-level", "warning"]
    return {
        "uvicorn": [python, "-m", "uvicorn", "--factory", SERVICE, *quiet, "--no-access-log"],
        "granian": [granian, "--interface", "asgi", "--factory", SERVICE, *quiet],
        "floor uvicorn": [python, "-m", "uvicorn", "benchmarks.floor:app", *quiet],
        "floor granian": [granian, "--interface", "asgi", "benchmarks.floor:app", *quiet],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=million.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--small-customers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    if not shutil.which("wrk") or not (VENV_BIN / "granian").exists():
        raise SystemExit("needs wrk (apt install wrk) and granian (pip install granian)")
    scratch = clone_database(args.database_url, "hub_bench_servers")
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "CUSTOMERS_HUB_DATABASE_URL": scratch,
        "CUSTOMERS_HUB_DATA_DIR": tempfile.mkdtemp(prefix="hub-bench-servers-"),
        "CUSTOMERS_HUB_RATE_LIMITS": "off",
        "CUSTOMERS_HUB_JWT_SECRET": secret,
        "FLOOR_DATABASE_URL": scratch,
        "FLOOR_ORG": million.BIG_ORG,
    }
    env.pop("CUSTOMERS_HUB_REDIS_URL", None)
    admin = million.Plan(args.customers, args.small_customers).big_team.admin
    token = issue_token(
        AuthSettings(secret=secret),
        admin.id,
        Role.ADMIN,
        million.BIG_ORG,
        default_permissions(Role.ADMIN),
        ttl=7200,
        name=admin.name,
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for round_ in range(1, args.rounds + 1):
            for name, template in servers().items():
                port = _free_port()
                base = f"http://127.0.0.1:{port}"
                floor = name.startswith("floor")
                url = f"{base}/bytes" if floor else f"{base}/api/v1/customers?limit=20"
                argv_ = [part.replace("{port}", str(port)) for part in template]
                with process(argv_, env, f"{base}/count" if floor else f"{base}/health"):
                    httpx.get(url, headers=headers, timeout=60)  # fills the cache
                    rate = _wrk(url, {} if floor else headers, 16, args.seconds)
                print(f"round {round_} {name}: {rate:,.0f} req/s", flush=True)
    finally:
        drop_database(args.database_url, "hub_bench_servers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

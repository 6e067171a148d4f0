"""The uncached customers list in process, through the real ASGI app, against the floor's SQL.

Run from the repository root on a *copy* of the benchmark data set (the app's background work
may write; ``CREATE DATABASE hub_list_copy TEMPLATE hub_bench_small``)::

    .venv/bin/python -m benchmarks.list_inprocess \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:55432/hub_list_copy \\
        --runs 100 [--profile]

Each timed ``GET /api/v1/customers?limit=20`` goes through ``create_app`` (every middleware,
the authentication of an admin token, the cache) over httpx's ``ASGITransport``, after the
organization's customer-list cache tag is invalidated, as a write's commit does. Between two
requests the floor's statements (:mod:`benchmarks.floor`: page, history, interests, capped
count) run through psycopg on a connection of their own. Prints the p50 of both, their ratio,
the thread's CPU time per request, the statements a request sends (the engine's cursor-execute
events: the pool's pre-ping is not one of them) and the p50 of the main phases (use case,
adapter, wire);
``--profile`` adds cProfile's time by area and its top functions. Results:
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import logging
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import httpx
import psycopg
from psycopg.rows import dict_row
from sqlalchemy import event

from benchmarks import floor, million
from customers_hub.application.caching import CacheTag, Invalidation
from customers_hub.application.queries import EXACT_COUNT_CAP
from customers_hub.application.use_cases import reads
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import build_hub
from customers_hub.entrypoints.demo import default_permissions
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.http.controllers import customers as controller

ADMIN: Final = "emp_bench_big_admin"
AREAS: Final = (
    ("sqlalchemy/", "SQLAlchemy"),
    ("psycopg", "psycopg"),
    ("cattrs", "cattrs"),
    ("json/", "stdlib json"),
    ("<row reader", "row reader"),
    ("<json reader", "JSON-column reader"),
    ("<wire fill", "wire fill"),
    ("<attrs generated", "attrs"),
    ("customers_hub/adapters", "adapters"),
    ("customers_hub/entrypoints/http/wire", "wire"),
    ("customers_hub/", "customers_hub"),
    ("litestar/", "Litestar"),
    ("httpx", "httpx (client)"),
    ("asyncio", "asyncio"),
    ("zlib", "gzip"),
    ("select.epoll", "waiting"),
)

_phases: dict[str, list[float]] = collections.defaultdict(list)


def _timed(name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(call)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            _phases[name].append((time.perf_counter() - started) * 1000)

    return timed


async def _floor_sql(conn: psycopg.AsyncConnection[Any], org: str) -> float:
    started = time.perf_counter()
    cur = conn.cursor(row_factory=dict_row)
    rows = await (await cur.execute(floor._PAGE, (org,))).fetchall()
    ids = [row["id"] for row in rows[:20]]
    await (await cur.execute(floor._HISTORY, (org, ids))).fetchall()
    await (await cur.execute(floor._INTERESTS, (org, ids))).fetchall()
    await (await cur.execute(floor._CAPPED, (org, EXACT_COUNT_CAP + 1))).fetchone()
    return (time.perf_counter() - started) * 1000


def _areas(profile: cProfile.Profile, requests: int) -> None:
    stats = pstats.Stats(profile)
    spent: collections.Counter[str] = collections.Counter()
    for (path, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path}:{name}"
        spent[next((area for mark, area in AREAS if mark in where), "other")] += own
    total = sum(spent.values())
    print(f"profiled: {total / requests * 1000:.2f} ms a request")
    for area, own in spent.most_common():
        print(f"  {area:<22} {own / requests * 1000:6.2f} ms  {100 * own / total:5.1f} %")
    stats.sort_stats("tottime").print_stats(25)


async def run(database_url: str, org: str, runs: int, warmups: int, profile: bool) -> None:
    auth = AuthSettings(secret=secrets.token_urlsafe(48))
    hub = build_hub(database_url)
    app = create_app(hub, auth=auth)
    token = issue_token(auth, ADMIN, Role.ADMIN, org, default_permissions(Role.ADMIN), ttl=7200)
    controller.customer_list_body = _timed("wire + JSON", controller.customer_list_body)  # type: ignore[assignment]
    reads.run_list_customers = _timed("use case", reads.run_list_customers)  # type: ignore[assignment]
    queries: Any = hub.deps.customer_queries
    queries.list_with_assignees = _timed("  adapter (SQL + rows)", queries.list_with_assignees)
    sent: list[str] = []
    event.listen(
        hub.engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: sent.append(statement),
    )
    invalidation = Invalidation(org, frozenset({CacheTag.CUSTOMER_LIST}))
    headers = {"Authorization": f"Bearer {token}"}
    libpq = million._libpq_url(database_url)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=headers
        ) as http,
        await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn,
    ):
        profiler = cProfile.Profile() if profile else None
        requests: list[float] = []
        cpu: list[float] = []
        floors: list[float] = []
        statements: list[int] = []
        for n in range(warmups + runs):
            await hub.cache.invalidate(invalidation)  # what a write's commit does
            if profiler is not None and n >= warmups:
                profiler.enable()
            sent.clear()
            started, thread = time.perf_counter(), time.thread_time()
            response = await http.get("/api/v1/customers", params={"limit": 20})
            elapsed, used = time.perf_counter() - started, time.thread_time() - thread
            if profiler is not None:
                profiler.disable()
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code} {response.text[:300]}")
            took = await _floor_sql(conn, org)
            if n == warmups - 1:
                _phases.clear()
            if n >= warmups:
                requests.append(elapsed * 1000)
                cpu.append(used * 1000)
                floors.append(took)
                statements.append(len(sent))
    p50, floor_p50 = statistics.median(requests), statistics.median(floors)
    print(
        f"uncached list ×{runs}: p50 {p50:.2f} ms (fastest {min(requests):.2f}); floor SQL p50 "
        f"{floor_p50:.2f} ms (fastest {min(floors):.2f}); ratio {p50 / floor_p50:.2f}; "
        f"CPU a request p50 {statistics.median(cpu):.2f} ms; statements a request "
        f"{min(statements)}–{max(statements)}"
    )
    for name, samples in _phases.items():
        print(f"  {name:<24} p50 {statistics.median(samples):6.2f} ms")
    if profiler is not None:
        _areas(profiler, runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", required=True, help="a copy of the data set")
    parser.add_argument("--org", default=million.BIG_ORG)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmups", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    # What `benchmarks.http` serves: no Redis, no rate limits, no log line per request.
    os.environ.pop("CUSTOMERS_HUB_REDIS_URL", None)
    os.environ["CUSTOMERS_HUB_RATE_LIMITS"] = "off"
    os.environ["CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL"] = "off"
    os.environ.setdefault("CUSTOMERS_HUB_DATA_DIR", tempfile.mkdtemp(prefix="hub-list-"))
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.database_url, args.org, args.runs, args.warmups, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The HTTP benchmark (issue 9, Deliver 7): the service against a bare floor, side by side.

Run from the repository root (``make bench-http``)::

    .venv/bin/python -m benchmarks.http \\
        --database-url postgresql://postgres@127.0.0.1:55432/hub_bench

1. Loads the million-customer data set with :mod:`benchmarks.million`'s loader when the source
   database lacks it (migrating it to head first), then copies it into a scratch database
   (``CREATE DATABASE … TEMPLATE``) so the writes of the run never change the source.
2. Starts ``customers-hub serve`` on the scratch database (one worker, no Redis, rate limits
   off) and the floor app (:mod:`benchmarks.floor`, the same SQL by hand through a psycopg
   pool) under uvicorn, each in its own process.
3. Times each request with ``--warmups`` untimed and ``--runs`` timed calls over one keep-alive
   connection, in the same run as its floor, and prints p50/p95 and the ratio:

   - ``GET /customers?limit=20`` just after a write (a customer created between timed reads)
     against the floor's list (same page, history, interests and capped count), the two timed
     in alternation (:func:`timed_side_by_side`);
   - a cursor page 50,000 rows deep against the service's own first cursor page, per sort;
   - customer statistics, action statistics and filter options just after a write, against one
     ``count(*)`` of the organization (action statistics after an action write, which
     invalidates them, for the admin and for the busiest agent's scope);
   - search p95 (a common fragment, a full name, 7 phone digits) against the list p50;
   - the agent's inbox (``dueDate=today``, sorted by priority) and a bulk completion of 100
     actions (no floor: shown for the record);
   - cached list throughput with ``--concurrency`` clients for ``--seconds`` against the floor's
     44 KB of ready bytes, driven by ``wrk`` when it is installed (``apt install wrk``), else
     by Python (httpx) clients on the same two cores, which bound both sides.

Speed is measured here, never asserted by the test suite. Results: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
import psycopg
from attrs import frozen

from benchmarks import million
from customers_hub.adapters.sql.engine import create_engine, is_sqlite
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.demo import default_permissions
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token

ROOT: Final = Path(__file__).resolve().parents[1]
VENV_BIN: Final = Path(sys.executable).parent
API: Final = "/api/v1"
COMMON_FRAGMENT: Final = "القحط"
FULL_NAME: Final = "نورة الفيفي"
CURSOR_DEPTH: Final = 50_000
HTTP_SORT_NAMES: Final = {"totalDealValue": "dealValue"}
"""Sort fields whose cursor names the field but whose documented ``sortBy`` is an alias."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _admin_url(url: str, database: str) -> str:
    return million._libpq_url(url, database)


def clone_database(source_url: str, scratch: str) -> str:
    """A copy of the source database named ``scratch`` (dropped first); its SQLAlchemy URL."""
    source = million._libpq_url(source_url).rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(source_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        # No session may hold the template open while it is copied.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (source,),
        )
        conn.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{source}"')
    return source_url.rsplit("/", 1)[0] + f"/{scratch}"


def wake_ended_snoozes(url: str) -> int:
    """Wake, on the scratch copy, every snooze that has ended: what the service's wake-up job
    (every 30 s) would have done long before a run in a live installation. The data set is
    generated at one instant and used for days; its ended snoozes (≈ 42,000) would otherwise be
    read by the admin's "snoozes that woke up" range count until the job had stored them, which
    made action statistics depend on how far the job had got (third to sixth runs). The same
    change as ``domain.inbox.wake_if_due`` (``pending``, no ``snoozed_until``), set-based; the
    counters follow by their triggers. Returns how many actions were woken."""
    with psycopg.connect(million._libpq_url(url), autocommit=True) as conn:
        woken = conn.execute(
            "UPDATE customer_actions SET status = 'pending', snoozed_until = NULL,"
            " updated_at = now(), version = version + 1"
            " WHERE status = 'snoozed' AND snoozed_until <= now()"
        ).rowcount
        conn.execute("VACUUM (ANALYZE) customer_actions")
    return woken


def drop_database(source_url: str, scratch: str) -> None:
    """Drop the scratch copy."""
    with psycopg.connect(_admin_url(source_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@contextmanager
def process(argv: Sequence[str], env: dict[str, str], health: str) -> Iterator[None]:
    """A server process, ready when ``health`` answers 200, stopped at the end."""
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"{argv[0]} exited:\n{log.read()[-4000:]}")
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{health} never answered")
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


@frozen
class Timing:
    """One request's timings in milliseconds."""

    name: str
    samples: tuple[float, ...]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return million.percentile(self.samples, 0.95)


async def timed(
    name: str,
    call: Callable[[], Awaitable[httpx.Response]],
    *,
    runs: int,
    warmups: int,
    before: Callable[[], Awaitable[object]] | None = None,
) -> Timing:
    """``runs`` timed calls after ``warmups``; ``before`` (a write) runs untimed before each."""
    samples: list[float] = []
    for n in range(warmups + runs):
        if before is not None:
            await before()
        elapsed = await _call_ms(name, call)
        if n >= warmups:
            samples.append(elapsed)
    return _reported(Timing(name, tuple(samples)))


async def _call_ms(name: str, call: Callable[[], Awaitable[httpx.Response]]) -> float:
    """Milliseconds one call took; a 4xx or 5xx answer ends the run."""
    started = time.perf_counter()
    response = await call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code >= 400:
        raise SystemExit(f"{name}: {response.status_code} {response.text[:500]}")
    return elapsed


def _reported(timing: Timing) -> Timing:
    """``timing`` after printing its line."""
    print(f"{timing.name:<48} p50 {timing.p50:>8.1f} ms  p95 {timing.p95:>8.1f} ms", flush=True)
    return timing


async def timed_side_by_side(
    floor: tuple[str, Callable[[], Awaitable[httpx.Response]]],
    service: tuple[str, Callable[[], Awaitable[httpx.Response]]],
    *,
    runs: int,
    warmups: int,
    before: Callable[[], Awaitable[object]] | None = None,
) -> tuple[Timing, Timing]:
    """A floor request and a service request timed in alternation (``before``, untimed, ahead
    of each service call), so that both see the same minutes of the machine: timed one after
    the other, a drift (autovacuum on the fresh copy, another process) moved the ratio."""
    samples: tuple[list[float], list[float]] = ([], [])
    for n in range(warmups + runs):
        for k, (name, call) in enumerate((floor, service)):
            if k == 1 and before is not None:
                await before()
            elapsed = await _call_ms(name, call)
            if n >= warmups:
                samples[k].append(elapsed)
    return (
        _reported(Timing(floor[0], tuple(samples[0]))),
        _reported(Timing(service[0], tuple(samples[1]))),
    )


async def throughput(url: str, headers: dict[str, str], *, clients: int, seconds: float) -> float:
    """Requests per second of ``clients`` keep-alive clients calling ``url`` for ``seconds``.

    ``wrk`` when it is installed (Debian package ``wrk``): a C client leaves the two cores to
    the servers; else Python clients, which understate both sides' throughput."""
    if shutil.which("wrk"):
        return await asyncio.to_thread(_wrk, url, headers, clients, seconds)
    done = 0
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            while time.monotonic() < stop:
                response = await http.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
                done += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.monotonic() - started)


def _wrk(url: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    argv = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{max(1, round(seconds))}s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"{url}: wrk saw error responses\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"{url}: no rate in wrk's output\n{out}")
    return float(match.group(1))


class Bench:
    """The service and its floor, and the requests timed against them."""

    def __init__(self, service: str, floor: str, token: str, database_url: str) -> None:
        self.service = service
        self.floor = floor
        self.headers = {"Authorization": f"Bearer {token}"}
        self.database_url = database_url
        self.http = httpx.AsyncClient(headers=self.headers, timeout=120)
        self._random = random.Random(20261206)

    async def write(self) -> httpx.Response:
        """Create a customer: the write between timed reads (it invalidates their cache)."""
        for _ in range(20):  # a number the data set already holds is 409: draw another
            body = {
                "name": "عميل قياس",
                "phone": f"+9665{self._random.randrange(10**8):08d}",
                "source": "manual",
                "assignedEmployeeId": None,
            }
            response = await self.http.post(f"{self.service}{API}/customers", json=body)
            if response.status_code == 201:
                return response
            if response.status_code != 409:
                break
        raise SystemExit(f"write: {response.status_code} {response.text[:300]}")

    def get(self, path: str, **params: Any) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: self.http.get(f"{self.service}{API}{path}", params=params)

    def get_as(self, token: str, path: str) -> Callable[[], Awaitable[httpx.Response]]:
        """A GET with another caller's token (same connection pool)."""
        headers = {"Authorization": f"Bearer {token}"}
        return lambda: self.http.get(f"{self.service}{API}{path}", headers=headers)

    def action_writer(self) -> Callable[[], Awaitable[httpx.Response]]:
        """A write that invalidates action statistics: the priority of one open action (the
        last by id, which the bulk completion never takes) toggled between two values."""
        url = million._libpq_url(self.database_url)
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT a.id FROM customer_actions a JOIN customers c ON c.id = a.customer_id"
                " WHERE a.organization_id = %s AND a.status = 'pending'"
                " AND c.deleted_at IS NULL AND c.restricted_until IS NULL"
                " ORDER BY a.id DESC LIMIT 1",
                (million.BIG_ORG,),
            ).fetchone()
        if row is None:
            raise SystemExit("action write: no pending action in the data set")
        target = f"{self.service}{API}/customers/actions/{row[0]}"
        priorities = iter(("high", "medium") * 10_000)

        async def write() -> httpx.Response:
            response = await self.http.patch(target, json={"priority": next(priorities)})
            if response.status_code != 200:
                raise SystemExit(f"action write: {response.status_code} {response.text[:300]}")
            return response

        return write

    def floor_get(self, path: str) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: self.http.get(f"{self.floor}{path}")

    def post(self, path: str, body: Any) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: self.http.post(f"{self.service}{API}{path}", json=body)

    def pending_actions(self, count: int) -> list[str]:
        """Ids of open actions of the big organization to complete in bulk."""
        url = million._libpq_url(self.database_url)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT id FROM customer_actions WHERE organization_id = %s "
                "AND status = 'pending' ORDER BY id LIMIT %s",
                (million.BIG_ORG, count),
            ).fetchall()
        return [row[0] for row in rows]


def ratio_rows(
    results: dict[str, Timing], floors: Sequence[tuple[str, str, str, float]]
) -> list[dict[str, Any]]:
    """(request, floor, which percentile of the request, target) → table rows."""
    rows = []
    for name, floor, which, target in floors:
        value = getattr(results[name], which)
        base = results[floor].p50
        rows.append(
            {
                "request": name,
                which: round(value, 1),
                "floor": floor,
                "floor_p50": round(base, 1),
                "ratio": round(value / base, 2),
                "target": target,
                "met": value / base <= target,
            }
        )
    return rows


async def run(
    args: argparse.Namespace,
    database_url: str,
    service: str,
    floor: str,
    token: str,
    agent_token: str,
) -> dict[str, Any]:
    """Every timing of the issue's table, in one run."""
    bench = Bench(service, floor, token, database_url)
    runs, warmups = args.runs, args.warmups
    r: dict[str, Timing] = {}
    try:
        r["floor list"], r["list after write"] = await timed_side_by_side(
            ("floor: list page", bench.floor_get("/list")),
            ("GET /customers?limit=20 after a write", bench.get("/customers", limit=20)),
            runs=runs,
            warmups=warmups,
            before=bench.write,
        )
        r["floor count"] = await timed(
            "floor: count(*)", bench.floor_get("/count"), runs=runs, warmups=warmups
        )
        for name, path in (
            ("customer stats", "/customers/stats"),
            ("filter options", "/customers/filters"),
        ):
            r[name] = await timed(
                f"GET {path} after a write",
                bench.get(path),
                runs=runs,
                warmups=warmups,
                before=bench.write,
            )
        # Uncached: each timed read follows an action write (which invalidates action
        # statistics; a customer created does not), for the admin and for an agent's scope.
        action_write = bench.action_writer()
        r["action stats"] = await timed(
            "GET /customers/actions/stats after an action write",
            bench.get("/customers/actions/stats"),
            runs=runs,
            warmups=warmups,
            before=action_write,
        )
        r["action stats agent"] = await timed(
            "GET /customers/actions/stats (agent) after an action write",
            bench.get_as(agent_token, "/customers/actions/stats"),
            runs=runs,
            warmups=warmups,
            before=action_write,
        )
        for label, query in (
            ("search fragment", COMMON_FRAGMENT),
            ("search full name", FULL_NAME),
            ("search 7 digits", million.phone_of(args.customers * 2 // 3)[-7:]),
        ):
            r[label] = await timed(
                f"POST /customers/search {query}",
                bench.post("/customers/search", {"query": query}),
                runs=runs,
                warmups=warmups,
                before=bench.write,
            )
        r["inbox today"] = await timed(
            "GET /customers/actions?dueDate=today&sortBy=priority",
            bench.get("/customers/actions", dueDate="today", sortBy="priority"),
            runs=runs,
            warmups=warmups,
        )
        ids = bench.pending_actions(100 * (runs + warmups))
        batches = iter([ids[k : k + 100] for k in range(0, len(ids), 100)])
        r["bulk complete 100"] = await timed(
            "POST /customers/actions/bulk/complete (100)",
            lambda: bench.http.post(
                f"{service}{API}/customers/actions/bulk/complete",
                json={"actionIds": next(batches), "notes": "قياس"},
            ),
            runs=min(runs, len(ids) // 100 - warmups),
            warmups=warmups,
        )
        cursor_rows = await cursor_depth(bench, args, runs, warmups, r)
        cached = f"{service}{API}/customers?limit=20"
        await bench.http.get(cached)  # fills the cache
        service_rps = await throughput(
            cached, bench.headers, clients=args.concurrency, seconds=args.seconds
        )
        floor_rps = await throughput(
            f"{floor}/bytes", {}, clients=args.concurrency, seconds=args.seconds
        )
    finally:
        await bench.http.aclose()
    print(f"cached list throughput {service_rps:,.0f} req/s; floor bytes {floor_rps:,.0f} req/s")
    table = ratio_rows(
        r,
        [
            ("list after write", "floor list", "p50", 1.5),
            ("customer stats", "floor count", "p50", 1.3),
            ("action stats", "floor count", "p50", 1.3),
            ("action stats agent", "floor count", "p50", 1.3),
            ("filter options", "floor count", "p50", 1.3),
            ("search fragment", "list after write", "p95", 5.0),
            ("search full name", "list after write", "p95", 5.0),
            ("search 7 digits", "list after write", "p95", 5.0),
        ],
    )
    return {
        "at": datetime.now(UTC).isoformat(),
        "customers": args.customers,
        "runs": runs,
        "timings": {k: {"p50": round(v.p50, 2), "p95": round(v.p95, 2)} for k, v in r.items()},
        "ratios": table + cursor_rows,
        "throughput": {
            "service_rps": round(service_rps),
            "floor_rps": round(floor_rps),
            "share": round(service_rps / floor_rps, 3),
            "target": 0.6,
            "clients": args.concurrency,
        },
    }


async def cursor_depth(
    bench: Bench, args: argparse.Namespace, runs: int, warmups: int, r: dict[str, Timing]
) -> list[dict[str, Any]]:
    """A cursor page ``CURSOR_DEPTH`` rows deep against the first cursor page, per sort."""
    engine = create_engine(bench.database_url)
    try:
        deep = await million.deep_cursors(engine, datetime.now(UTC), CURSOR_DEPTH)
    finally:
        await engine.dispose()
    rows = []
    # Each page is timed just after a write that invalidates it, as the list after a write is:
    # a cached page would cost a cache hit at any depth and say nothing of the seek.
    action_write = bench.action_writer()
    for (kind, field, descending), cursor in deep.items():
        if cursor is None:
            continue
        path = "/customers" if kind == "customers" else "/customers/actions"
        write = bench.write if kind == "customers" else action_write
        params = {
            "sortBy": HTTP_SORT_NAMES.get(field, field),
            "sortOrder": "desc" if descending else "asc",
            "limit": 20,
        }
        label = f"cursor {kind} {field} {params['sortOrder']}"
        first = await timed(
            f"{label}, first page",
            bench.get(path, cursor="", **params),
            runs=runs,
            warmups=warmups,
            before=write,
        )
        deeper = await timed(
            f"{label}, {CURSOR_DEPTH:,} deep",
            bench.get(path, cursor=cursor, **params),
            runs=runs,
            warmups=warmups,
            before=write,
        )
        r[f"{label} first"], r[f"{label} deep"] = first, deeper
        rows.append(
            {
                "request": f"{label}, {CURSOR_DEPTH:,} deep",
                "p50": round(deeper.p50, 1),
                "floor": "first cursor page",
                "floor_p50": round(first.p50, 1),
                "ratio": round(deeper.p50 / first.p50, 2),
                "target": 1.2,
                "met": deeper.p50 / first.p50 <= 1.2,
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The ratio table of one run in Markdown."""
    lines = [
        "| request | p50 / p95 ms | floor (same run) | floor p50 ms | ratio | target |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in report["ratios"]:
        value = row.get("p50", row.get("p95"))
        which = "p95" if "p95" in row else "p50"
        mark = "" if row["met"] else " ✗"
        lines.append(
            f"| {row['request']} | {value} ({which}) | {row['floor']} | {row['floor_p50']} | "
            f"{row['ratio']}×{mark} | ≤ {row['target']}× |"
        )
    tp = report["throughput"]
    lines.append(
        f"| cached list throughput ({tp['clients']} clients) | {tp['service_rps']:,} req/s | "
        f"bare 44 KB | {tp['floor_rps']:,} req/s | {tp['share']:.0%} | ≥ 60 % |"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=million.DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--small-customers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20_260_101)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--scratch", default="hub_bench_http", help="the scratch copy's name")
    parser.add_argument("--json-out", help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if is_sqlite(args.database_url):
        raise SystemExit("the HTTP benchmark runs on PostgreSQL")
    plan = million.Plan(args.customers, args.small_customers)
    million.prepare(args.database_url, plan, args.seed, reset=False)
    print("copying the data set into a scratch database …", flush=True)
    started = time.perf_counter()
    scratch = clone_database(args.database_url, args.scratch)
    print(f"copied in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    woken = wake_ended_snoozes(scratch)
    print(f"woke {woken:,} ended snoozes in {time.perf_counter() - started:.0f} s", flush=True)
    secret = secrets.token_urlsafe(48)
    data_dir = tempfile.mkdtemp(prefix="hub-bench-http-")
    env = {
        **os.environ,
        "CUSTOMERS_HUB_DATABASE_URL": scratch,
        "CUSTOMERS_HUB_DATA_DIR": data_dir,
        "CUSTOMERS_HUB_RATE_LIMITS": "off",
        "CUSTOMERS_HUB_JWT_SECRET": secret,
        "FLOOR_DATABASE_URL": scratch,
        "FLOOR_ORG": million.BIG_ORG,
    }
    env.pop("CUSTOMERS_HUB_REDIS_URL", None)
    admin = plan.big_team.admin
    token = issue_token(
        AuthSettings(secret=secret),
        admin.id,
        Role.ADMIN,
        million.BIG_ORG,
        default_permissions(Role.ADMIN),
        ttl=7200,
        name=admin.name,
    )
    agent = plan.big_team.agents[0]  # the busiest agent (the most customers)
    agent_token = issue_token(
        AuthSettings(secret=secret),
        agent.id,
        Role.SALES_AGENT,
        million.BIG_ORG,
        default_permissions(Role.SALES_AGENT),
        ttl=7200,
        name=agent.name,
    )
    service_port, floor_port = _free_port(), _free_port()
    service, floor = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{floor_port}"
    try:
        with (
            process(
                [
                    str(VENV_BIN / "customers-hub"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(service_port),
                    "--log-level",
                    "warning",
                ],
                env,
                f"{service}/health",
            ),
            process(
                [
                    str(VENV_BIN / "python"),
                    "-m",
                    "uvicorn",
                    "benchmarks.floor:app",
                    "--port",
                    str(floor_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env,
                f"{floor}/count",
            ),
        ):
            report = asyncio.run(run(args, scratch, service, floor, token, agent_token))
    finally:
        drop_database(args.database_url, args.scratch)
    print()
    print(markdown(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

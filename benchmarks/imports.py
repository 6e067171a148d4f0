"""Import benchmark: 100,000 generated rows into a fresh PostgreSQL database (issue 12).

Creates a database on the test server (``BENCH_PG``, default the test PostgreSQL at
127.0.0.1:55432), migrates it, writes a CSV of ``--rows`` rows (Arabic headers; 5 % of the
rows repeat an earlier row's phone in another format; 1 % are bad), then runs the import in
this process exactly as the service's worker does (the same use cases, batches of
``IMPORT_BATCH_SIZE``) and prints rows per second for a dry run and for the real import. The
database is dropped at the end (``--keep`` keeps it)::

    .venv/bin/python -m benchmarks.imports --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from customers_hub.adapters.sql.migrate import ensure_schema
from customers_hub.application.use_cases.imports import ImportUpload, run_import, start_import
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import build_hub
from customers_hub.entrypoints.settings import HubConfig

BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:55432/postgres")
HEADER = ["الاسم", "رقم الجوال", "البريد الإلكتروني", "المدينة", "الميزانية إلى", "نوع العقار"]
CITIES = ("الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة")


def generated(rows: int) -> bytes:
    """The benchmark's file (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        digits = f"5{30_000_000 + i:08d}"
        if i % 20 == 19:
            digits = f"5{30_000_000 + i - 19:08d}"
        number = (f"0{digits}", f"+966 {digits[:2]} {digits[2:5]} {digits[5:]}", f"966{digits}")[
            i % 3
        ]
        if i % 100 == 7:
            number = "12345"
        writer.writerow(
            [
                f"عميل رقم {i}",
                number,
                f"lead{i}@example.com" if i % 4 == 0 else "",
                CITIES[i % len(CITIES)],
                str(500_000 + (i % 50) * 10_000),
                ("شقة", "فيلا", "أرض")[i % 3],
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()


def _admin(statement: str) -> None:
    with psycopg.connect(BASE, autocommit=True) as conn:
        conn.execute(statement)


async def bench(rows: int, keep: bool) -> None:
    name = f"hub_bench_import_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = make_url(BASE).set(drivername="postgresql", database=name)
    database_url = url.render_as_string(hide_password=False)
    try:
        await ensure_schema(database_url)
        content = generated(rows)
        print(f"file: {rows} rows, {len(content) / 1e6:.1f} MB")
        config = HubConfig(data_dir=Path(tempfile.mkdtemp()), database_url=database_url)
        async with build_hub(config=config) as hub:
            actor = Actor("bench", "org_bench", Role.ADMIN, frozenset(Permission), name="Bench")
            for dry_run in (True, False):
                started = time.perf_counter()
                job = await start_import(
                    hub.deps,
                    actor,
                    ImportUpload(content=content, file_name="bench.csv", dry_run=dry_run),
                )
                queued = time.perf_counter()
                job = await run_import(hub.deps, "org_bench", job.id, "bench")
                done = time.perf_counter()
                c = job.counts
                print(
                    f"{'dry run' if dry_run else 'import '}: {job.status.value}, "
                    f"created {c.created}, skipped {c.skipped}, failed {c.failed}; "
                    f"upload checks {queued - started:.1f} s, run {done - queued:.1f} s, "
                    f"{rows / (done - queued):,.0f} rows/s"
                )
    finally:
        if not keep:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    asyncio.run(bench(args.rows, args.keep))


if __name__ == "__main__":
    main()

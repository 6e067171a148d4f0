"""The floor of the HTTP benchmark: a bare Litestar app that runs the service's SQL by hand.

No domain, no authentication, no cache, no envelope: a psycopg pool, the statements a request
of the service needs, and the rows as JSON. What the service costs above this is its own
overhead. Started by :mod:`benchmarks.http` with uvicorn (one worker, like ``customers-hub
serve``)::

    FLOOR_DATABASE_URL=postgresql://… FLOOR_ORG=org_bench_big \\
        .venv/bin/python -m uvicorn benchmarks.floor:app --port 8100

Routes:

* ``GET /list`` — the customers list's work: the first 21 live customers by ``created_at``
  descending, their stage history and property interests, and the capped count
  (``EXACT_COUNT_CAP``) — the statements ``GET /api/v1/customers?limit=20`` sends.
* ``GET /count`` — one ``count(*)`` of the organization's customers: the floor of every
  statistics endpoint.
* ``GET /bytes`` — 44 KB of ready bytes (a cached list page's size): the floor of throughput.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import msgspec
from litestar import Litestar, Response, get
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from customers_hub.application.queries import EXACT_COUNT_CAP

ORG: Final = os.environ.get("FLOOR_ORG", "org_bench_big")
_encoder: Final = msgspec.json.Encoder(enc_hook=str)
_BYTES: Final = b'{"data":"' + b"x" * (44 * 1024 - 11) + b'"}'
_pool: AsyncConnectionPool | None = None

_PAGE: Final = (
    "SELECT * FROM customers WHERE organization_id = %s AND deleted_at IS NULL "
    "ORDER BY created_at DESC, id DESC LIMIT 21"
)
_HISTORY: Final = "SELECT * FROM stage_history WHERE organization_id = %s AND customer_id = ANY(%s)"
_INTERESTS: Final = (
    "SELECT * FROM property_interests WHERE organization_id = %s AND customer_id = ANY(%s)"
)
_CAPPED: Final = (
    "SELECT count(*) AS n FROM (SELECT 1 FROM customers WHERE organization_id = %s "
    "AND deleted_at IS NULL LIMIT %s) AS capped"
)
_COUNT: Final = "SELECT count(*) AS n FROM customers WHERE organization_id = %s"


def _pool_or_fail() -> AsyncConnectionPool:
    if _pool is None:
        raise RuntimeError("the pool opens in the lifespan")
    return _pool


def _json(payload: Any) -> Response[bytes]:
    return Response(_encoder.encode(payload), media_type="application/json")


@get("/list")
async def customers_page() -> Response[bytes]:
    """The statements of a customers list page, by hand."""
    async with _pool_or_fail().connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        rows = await (await cur.execute(_PAGE, (ORG,))).fetchall()
        ids = [row["id"] for row in rows[:20]]
        history = await (await cur.execute(_HISTORY, (ORG, ids))).fetchall()
        interests = await (await cur.execute(_INTERESTS, (ORG, ids))).fetchall()
        total = await (await cur.execute(_CAPPED, (ORG, EXACT_COUNT_CAP + 1))).fetchone()
    return _json({"customers": rows[:20], "history": history, "interests": interests, **total})


@get("/count")
async def count() -> Response[bytes]:
    """One ``count(*)`` of the organization."""
    async with _pool_or_fail().connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        row = await (await cur.execute(_COUNT, (ORG,))).fetchone()
    return _json(row)


@get("/bytes")
async def ready_bytes() -> Response[bytes]:
    """44 KB of bytes made once: nothing but the HTTP stack."""
    return Response(_BYTES, media_type="application/json")


@asynccontextmanager
async def _lifespan(_: Litestar) -> AsyncIterator[None]:
    global _pool
    url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    _pool = AsyncConnectionPool(url, min_size=2, max_size=10, open=False)
    await _pool.open()
    try:
        yield
    finally:
        await _pool.close()


app = Litestar([customers_page, count, ready_bytes], lifespan=[_lifespan], logging_config=None)

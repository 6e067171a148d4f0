"""The background task that folds counter tables (``adapters/sql/counters.py``).

Reads are right without it; folding keeps the number of rows a statistics read sums small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.relay import BackgroundLoop
from customers_hub.adapters.sql.counters import fold, write_transaction
from customers_hub.adapters.sql.engine import DatabaseTimeouts, create_engine

__all__ = ["FOLD_INTERVAL", "FOLD_THRESHOLD", "CounterFolder"]

FOLD_INTERVAL: Final = 5.0
"""Seconds between two looks for organizations to fold."""

FOLD_THRESHOLD: Final = 1_000
"""An organization is folded once it has this many more rows than after its last fold."""


class CounterFolder(BackgroundLoop):
    """Folds the counter ``tables`` of organizations whose rows piled up (every
    :data:`FOLD_INTERVAL` seconds), so reads sum few rows. Correctness never depends on it."""

    def __init__(
        self,
        tables: Sequence[Table],
        *,
        database_url: str | None = None,
        timeouts: DatabaseTimeouts | None = None,
        engine: AsyncEngine | None = None,
        interval: float = FOLD_INTERVAL,
        threshold: int = FOLD_THRESHOLD,
    ) -> None:
        """Fold on ``engine``, or on an engine of ``database_url`` of its own, created in the
        loop that runs the folder (an engine's connections belong to one event loop)."""
        super().__init__("counter-folder", interval)
        if (engine is None) == (database_url is None):
            raise ValueError("give the folder an engine or a database URL")
        self.engine = engine
        self.tables = tuple(tables)
        self.threshold = threshold
        self._url = database_url
        self._timeouts = timeouts
        self._after_fold: dict[tuple[str, str], int] = {}

    async def start(self) -> None:
        """Start folding in the running loop."""
        if self._url is not None:
            self.engine = create_engine(self._url, pool_size=1, timeouts=self._timeouts)
        self.start_loop(self.step)

    async def stop(self) -> None:
        """Stop (a fold in flight is rolled back) and release the engine it created."""
        await self.stop_loop()
        if self._url is not None and self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def step(self) -> float | None:
        """Fold every organization due, one transaction each."""
        engine = self.engine
        if engine is None:
            raise RuntimeError("the folder is not started")
        for table in self.tables:
            org = table.c.organization_id
            async with engine.connect() as conn:
                sizes: dict[str, int] = dict(
                    (await conn.execute(select(org, func.count()).group_by(org))).tuples().all()
                )
            for organization_id, size in sizes.items():
                folded = self._after_fold.get((table.name, organization_id), 0)
                if size - folded < self.threshold:
                    continue
                async with write_transaction(engine) as conn:
                    await fold(conn, table, organization_id)
                    count = select(func.count()).where(org == organization_id)
                    after = int((await conn.execute(count)).scalar_one())
                self._after_fold[(table.name, organization_id)] = after
        return None

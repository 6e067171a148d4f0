"""The import runner of a service process: runs queued customer imports in the background.

:class:`ImportWorker` (started and stopped with the HTTP service's lifespan) takes the oldest
queued import — or one whose runner died (its lease expired) — and runs it batch by batch
(:func:`~customers_hub.application.use_cases.import_runs.run_next_import`); then the next one. It
sleeps :data:`IDLE_SECONDS` between looks when there is nothing to do, and is woken at once by
:func:`wake_import_workers` when a new job is queued (``POST /customers/imports``).

Like the outbox relay it works on an engine of its own, created in its event loop: a job of
minutes never holds the request pool's connections, and nothing of it runs in another loop.
Several instances may run workers: a job is taken with a guarded UPDATE (one runner wins) and
every batch renews the lease only while it still holds it. Stopping cancels the batch in
flight (its transaction is rolled back); the job's lease expires and a worker — this one after
a restart, or another instance's — resumes it from its last committed batch.
"""

from __future__ import annotations

import threading
import uuid
from typing import Final

import attrs
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.relay import BackgroundLoop
from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.import_runs import LEASE, run_next_import
from customers_hub.entrypoints.bootstrap import Hub

__all__ = ["IDLE_SECONDS", "ImportWorker", "wake_import_workers"]

IDLE_SECONDS: Final = LEASE.total_seconds() / 3
"""Seconds between two looks for work when idle: a job whose runner died is taken over within
its lease plus this."""

_RUNNING: dict[str, set[ImportWorker]] = {}
_RUNNING_LOCK = threading.Lock()


def wake_import_workers(database_url: str) -> None:
    """Wake the workers of this process on ``database_url`` (a job was queued)."""
    with _RUNNING_LOCK:
        workers = list(_RUNNING.get(database_url, ()))
    for worker in workers:
        worker.wake()


class ImportWorker(BackgroundLoop):
    """Runs import jobs of ``hub``'s database, one at a time (see the module docstring)."""

    def __init__(self, hub: Hub, *, idle: float = IDLE_SECONDS) -> None:
        super().__init__("import-worker", idle)
        self.hub = hub
        self.owner = f"worker-{uuid.uuid4().hex[:16]}"
        """This runner's name in the jobs' leases."""
        self._engine: AsyncEngine | None = None
        self._deps: Dependencies | None = None

    async def start(self) -> None:
        """Create the engine in this loop, then start looking for jobs."""
        config = self.hub.config
        self._engine = create_engine(config.database_url, pool_size=2, timeouts=config.db_timeouts)
        # Everything the runner reads goes through its own engine (the organization's time zone
        # too: the hub's cached lookup would use the request pool).
        self._deps = attrs.evolve(
            self.hub.deps, uow=SqlUnitOfWorkFactory(self._engine, config.tz), zone_lookup=None
        )
        with _RUNNING_LOCK:
            _RUNNING.setdefault(config.database_url, set()).add(self)
        self.start_loop(self._step)

    async def _step(self) -> float | None:
        assert self._deps is not None
        job = await run_next_import(self._deps, self.owner)
        return 0 if job is not None else None  # one more look at once after a job

    async def stop(self) -> None:
        """Stop looking (the batch in flight is rolled back) and release the engine."""
        with _RUNNING_LOCK:
            _RUNNING.get(self.hub.config.database_url, set()).discard(self)
        await self.stop_loop()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

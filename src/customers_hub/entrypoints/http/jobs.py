"""Background jobs of the HTTP service: the periodic wake-up of passed snoozes.

The app's lifespan starts :func:`snooze_job` after the hub and stops it before the hub closes.
Every :attr:`~customers_hub.entrypoints.settings.HubConfig.snooze_interval` seconds (30 by
default, ``CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL``; ``0`` or ``off`` turns the job off, e.g. for an
embedding service that runs
:func:`~customers_hub.application.use_cases.actions.wake_due_snoozes` itself) it writes the
wake-ups of the snoozes that have passed, so each emits ``action.updated`` within a minute
(rules §2: reads already show a passed snooze as ``pending``; the job makes it real and tells the
WebSocket clients). The first run is at startup, which catches up what passed while the service
was down.

Several instances may run it at once: the write is set-based and versioned, so an action that
another instance woke first is skipped (at worst a lost race surfaces as a concurrent-update or
database error). Whatever a run raises is logged and the loop goes on at the next tick; it never
stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.use_cases.actions import WAKE_BATCH, wake_due_snoozes
from customers_hub.entrypoints.bootstrap import Hub

__all__ = [
    "MAX_WAKE_ROUNDS",
    "PeriodicJob",
    "snooze_job",
    "wake_snoozes_once",
]

logger = logging.getLogger(__name__)

MAX_WAKE_ROUNDS: Final = 20
"""Batches of :data:`WAKE_BATCH` one run may wake when there is a backlog; the rest waits for the
next run (a run stays short whatever piled up while the service was down)."""


async def wake_snoozes_once(
    deps: Dependencies, *, batch: int = WAKE_BATCH, max_rounds: int = MAX_WAKE_ROUNDS
) -> int:
    """Wake every passed snooze (up to ``max_rounds`` batches); how many were woken.

    A concurrent-update error (another instance won the race on the same rows) ends the run
    quietly: the rows it could not write are the other instance's, or the next run's.
    """
    total = 0
    for _ in range(max_rounds):
        try:
            woken = await wake_due_snoozes(deps, limit=batch)
        except ConcurrentUpdate as error:
            logger.info("snooze wake-up: lost a race with another writer (%s)", error)
            break
        total += woken
        if woken < batch:
            break
    return total


class PeriodicJob:
    """Runs ``run()`` now and then every ``interval`` seconds until :meth:`stop`.

    A run that raises is logged (``failures`` counts them) and the next tick comes as usual.
    """

    def __init__(self, name: str, interval: float, run: Callable[[], Awaitable[object]]) -> None:
        if interval <= 0:
            raise ValueError("the interval of a periodic job must be positive")
        self.name = name
        self.interval = interval
        self._run = run
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        """Runs that completed (with or without an error)."""
        self.failures = 0
        """Runs that raised."""

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop in the running event loop (no-op when already running)."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end; a run still going after ``timeout`` seconds is cancelled."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> None:
        """One run, its failure logged, never raised."""
        try:
            await self._run()
        except Exception:  # a background job must outlive any failure of one run
            self.failures += 1
            logger.exception("%s: run failed; retrying in %ss", self.name, self.interval)
        finally:
            self.runs += 1

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)


def snooze_job(hub: Hub, interval: float | None) -> PeriodicJob | None:
    """The snooze wake-up job of ``hub`` every ``interval`` seconds; ``None`` when ``interval``
    is ``None`` (off). The app passes its ``snooze_interval``, by default the hub's setting."""
    if interval is None:
        return None

    async def run() -> None:
        woken = await wake_snoozes_once(hub.deps)
        if woken:
            logger.info("snooze wake-up: %d action(s) back to pending", woken)

    return PeriodicJob("snooze-wake-up", interval, run)

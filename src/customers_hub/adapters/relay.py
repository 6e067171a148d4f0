"""The outbox relay: committed events, in order, to the event bus, the cache and the webhooks.

The outbox has several consumers, each with a cursor row in ``outbox_cursors`` (the last
position it handled):

* ``webhooks`` — one per deployment (database): creates the deliveries of each event for the
  matching hooks, in the same transaction that advances the cursor;
* one per **event bus**: ``bus:redis:<host:port/db>`` for a Redis bus (every instance on that
  Redis shares it), ``bus:process:<uuid>`` for an in-process bus (one per hub). It publishes each
  event's real-time message on the bus (WebSocket fan-out) and invalidates the event's cache
  tags a second time (idempotent: the write's own request already invalidated them).

Every instance runs a relay; for each cursor, the relay that locks its row
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serializes writers with
``BEGIN IMMEDIATE``) handles the next batch, and the others skip it — so each event is handled
once per consumer, in position order, while any instance is alive. A relay that dies mid-batch
rolls back and its batch is handled again (at least once; webhook receivers dedupe on the
delivery id, the bus is best effort).

The relay wakes up right after a commit of its own process (:meth:`OutboxRelay.wake`, safe from
any thread) and polls otherwise (:attr:`OutboxSettings.poll_interval`), so events caused on
another instance wait at most one interval. Between batches a cheap read (newest position,
cursors) avoids opening a locking transaction when there is nothing to do. Every
:attr:`OutboxSettings.prune_interval` it deletes relayed events older than
:attr:`OutboxSettings.retention` (bounded deletes).

The relay uses an engine of its own, created in the event loop it runs in (a server's lifespan
loop is not necessarily the loop that built the hub).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from attrs import frozen
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters import metrics
from customers_hub.adapters.redis_events import EventBus, EventBusUnavailable, RedisEventBus
from customers_hub.adapters.sql import outbox as sql_outbox
from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.adapters.sql.webhooks import create_deliveries, prune_deliveries
from customers_hub.application.caching import Cache, Invalidation
from customers_hub.application.ports import Clock, IdGenerator

__all__ = [
    "PROCESS_BUS_PREFIX",
    "WEBHOOKS_CURSOR",
    "BackgroundLoop",
    "OutboxRelay",
    "OutboxSettings",
    "RelayPass",
    "bus_cursor_name",
    "running_relays",
    "wait_published",
]

logger = logging.getLogger(__name__)

WEBHOOKS_CURSOR: Final = "webhooks"
PROCESS_BUS_PREFIX: Final = "bus:process:"
_BUSY_RETRY: Final = 0.05
"""Seconds before trying a cursor again that another relay held."""


def bus_cursor_name(redis_url: str | None, process_id: str) -> str:
    """The cursor of an event bus: per Redis server and database, or per process."""
    if not redis_url:
        return f"{PROCESS_BUS_PREFIX}{process_id}"
    url = make_url(redis_url)
    return f"bus:redis:{url.host or 'localhost'}:{url.port or 6379}/{url.database or '0'}"


@frozen
class OutboxSettings:
    """How the relay runs (``CUSTOMERS_HUB_OUTBOX_*``)."""

    enabled: bool = True
    """Run the relay and the webhook sender in the HTTP service's lifespan."""
    poll_interval: float = 0.25
    batch_size: int = 500
    retention: timedelta = timedelta(days=7)
    """Relayed events (and finished deliveries) older than this are pruned."""
    prune_interval: float = 60.0
    publish_wait: float = 1.0
    """Longest a write waits after its commit for the relay to publish its events (seconds):
    the response then leaves after its WebSocket messages, as when they were published
    directly."""


_RUNNING: dict[str, list[OutboxRelay]] = {}
_RUNNING_LOCK = threading.Lock()


def running_relays(database_url: str) -> list[OutboxRelay]:
    """The relays of this process running on ``database_url`` (whatever their event loop)."""
    with _RUNNING_LOCK:
        return list(_RUNNING.get(database_url, ()))


async def wait_published(database_url: str, position: int) -> None:
    """Wait until every relay of this process on ``database_url`` has seen the events up to
    ``position`` published on its bus (each at most its ``publish_wait``): a write's response
    then leaves after its real-time messages, on every bus this process feeds."""
    relays = running_relays(database_url)
    if relays:
        await asyncio.gather(*(relay.wait_published(position) for relay in relays))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


STOP_GRACE: Final = 5.0
"""Seconds a stopping :class:`BackgroundLoop` gives the step under way to finish."""


class BackgroundLoop:
    """A task that runs ``step`` again and again: at once while it reports work, after
    ``idle`` seconds otherwise, or as soon as :meth:`wake` is called (from any thread)."""

    def __init__(self, name: str, idle: float) -> None:
        self.name = name
        self.idle = idle
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        """True between :meth:`start_loop` and :meth:`stop_loop`."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Run the next step now (a no-op when not running); callable from any thread."""
        loop, event = self._loop, self._event
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(event.set)

    def start_loop(self, step: Callable[[], Awaitable[float | None]]) -> None:
        """Start the task; ``step`` returns the seconds to wait (``None``: the idle time)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._task = asyncio.create_task(self._run(step), name=self.name)

    async def _run(self, step: Callable[[], Awaitable[float | None]]) -> None:
        # The loop's own event and task: stop_loop forgets both before its cancel arrives, and a
        # cancellation can be swallowed by what it interrupts (a driver's cleanup), so the loop
        # also ends once it is no longer the task being run.
        event, me = self._event, asyncio.current_task()
        assert event is not None
        while self._task is me:
            event.clear()
            try:
                wait = await step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing step (database down) must not end the loop
                logger.exception("%s: step failed", self.name)
                wait = self.idle
            if wait is None:
                wait = self.idle
            if wait <= 0:
                continue
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that
            # arrives as the event is set (the loop then ran on after stop_loop).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await event.wait()

    async def stop_loop(self, grace: float = STOP_GRACE) -> None:
        """End the task: let the step under way finish (at most ``grace`` seconds), then
        cancel what is left, and wait for it to end.

        A step cancelled in the middle could leave its database transaction to the garbage
        collector (on SQLite: the file's write lock, and every writer waited the busy timeout).
        """
        task, event, self._task = self._task, self._event, None
        self._loop = self._event = None
        if task is None:
            return
        if event is not None:
            event.set()  # out of its wait: the loop sees it is no longer the task and ends
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(grace):
                await asyncio.shield(task)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@frozen
class RelayPass:
    """What one :meth:`OutboxRelay.run_once` did."""

    handled: int
    """Events handled, all consumers together."""
    busy: bool
    """Some consumer's cursor was held by another relay."""
    more: bool
    """Some consumer read a whole batch: more may wait."""


class OutboxRelay(BackgroundLoop):
    """The relay of one instance (see the module docstring)."""

    def __init__(
        self,
        *,
        database_url: str,
        bus_cursor: str,
        event_bus: EventBus,
        cache: Cache,
        ids: IdGenerator,
        clock: Clock,
        settings: OutboxSettings,
        on_deliveries: Callable[[], None] | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        super().__init__("outbox-relay", settings.poll_interval)
        self.database_url = database_url
        self.bus_cursor = bus_cursor
        self.event_bus = event_bus
        self.cache = cache
        self.ids = ids
        self.clock = clock
        self.settings = settings
        self.on_deliveries = on_deliveries
        self._engine = engine
        self._own_engine = engine is None
        self._next_prune = 0.0
        self.bus_down = False
        """The last hand-over to Redis failed: writes do not wait for their publication."""
        self.relayed = 0
        """Events this relay handled (per consumer), for tests and metrics."""
        # The newest position known published on the bus (by this relay or another one), and
        # the writes waiting for theirs; touched from the loops of the writers too.
        self._published = 0
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()

    @property
    def engine(self) -> AsyncEngine:
        """The relay's engine (created by :meth:`start`)."""
        if self._engine is None:
            raise RuntimeError("the relay is not started")
        return self._engine

    async def open(self) -> None:
        """Create the engine in this loop (what :meth:`run_once` needs; no task yet) and the
        cursors that do not exist yet: a write committed once :meth:`start` returned is never
        skipped by a cursor created after it."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_size=2)
        async with SqlUnitOfWork(self._engine) as uow:
            for name in (self.bus_cursor, WEBHOOKS_CURSOR):
                await sql_outbox.claim_cursor(uow.connection, name, self.clock.now())
            await uow.commit()

    async def start(self) -> None:
        """:meth:`open`, then relay in a task of this loop."""
        await self.open()
        self.start_loop(self._step)
        with _RUNNING_LOCK:
            _RUNNING.setdefault(self.database_url, []).append(self)

    async def stop(self) -> None:
        """Stop relaying (a batch in progress is rolled back), release the writes waiting
        for it, and release the engine."""
        with _RUNNING_LOCK:
            if self in _RUNNING.get(self.database_url, ()):
                _RUNNING[self.database_url].remove(self)
        await self.stop_loop()
        with self._waiters_lock:
            waiting, self._waiters = self._waiters, []
        for _, loop, future in waiting:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future)
        if self._own_engine and self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    def _known_published(self, position: int) -> None:
        with self._waiters_lock:
            if position <= self._published:
                return
            self._published = position
            ready = [w for w in self._waiters if w[0] <= position]
            self._waiters = [w for w in self._waiters if w[0] > position]
        for _, loop, future in ready:
            with contextlib.suppress(RuntimeError):  # the waiter's loop is gone
                loop.call_soon_threadsafe(_resolve, future)

    async def wait_published(self, position: int, timeout: float | None = None) -> bool:
        """Wake the relay and wait (from any event loop) until the events up to ``position``
        are published on the bus, by this relay or another instance's; False after
        ``timeout`` seconds (default :attr:`OutboxSettings.publish_wait`), when not running,
        or while Redis is down (:attr:`bus_down`: the events go out once it is back)."""
        if not self.running or self.bus_down:
            return False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (position, loop, future)
        with self._waiters_lock:
            if self._published >= position:
                return True
            self._waiters.append(entry)
        self.wake()
        try:
            await asyncio.wait_for(
                future, self.settings.publish_wait if timeout is None else timeout
            )
        except TimeoutError:
            with self._waiters_lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)
            return False
        return True

    async def _step(self) -> float | None:
        outcome = await self.run_once()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + self.settings.prune_interval
            await self.prune()
        if outcome.more:
            return 0.0  # a consumer read a whole batch: more may wait
        # Every consumer read all there was: no second pass (a read transaction per write,
        # next to the request that follows the write). Events committed in this process since
        # then woke the loop already (wake() during the step keeps the event set); other
        # instances' are polled for.
        return _BUSY_RETRY if outcome.busy else None

    async def run_once(self) -> RelayPass:
        """One batch for each consumer that is behind, in one transaction."""
        names = [self.bus_cursor, WEBHOOKS_CURSOR]
        async with self.engine.connect() as connection:
            newest = await sql_outbox.max_position(connection)
            known = await sql_outbox.cursor_positions(connection, names)
            await self._measure(connection, newest, known.get(self.bus_cursor, newest))
        if self.bus_cursor in known:
            self._known_published(known[self.bus_cursor])
        behind = [name for name in names if name not in known or known[name] < newest]
        if not behind:
            return RelayPass(handled=0, busy=False, more=False)
        consumers = {self.bus_cursor: self._to_bus, WEBHOOKS_CURSOR: self._to_hooks}
        handled, busy, more, published = 0, False, False, None
        async with SqlUnitOfWork(self.engine) as uow:
            connection = uow.connection
            if connection.dialect.name == "postgresql":
                # Losing the last few relay commits in a server crash only repeats them (the
                # cursor and the deliveries go back together): no need to wait for the flush.
                await connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            now = self.clock.now()
            for name in behind:
                position = await sql_outbox.claim_cursor(connection, name, now)
                if position is None:
                    busy = True
                    continue
                rows = await sql_outbox.read_routed_after(
                    connection, position, limit=self.settings.batch_size
                )
                more |= len(rows) >= self.settings.batch_size
                done = await consumers[name](uow, rows) if rows else 0
                if done:
                    position = rows[done - 1].record.position
                    await sql_outbox.advance_cursor(connection, name, position, now)
                    handled += done
                if name == self.bus_cursor:
                    published = position
                    metrics.OUTBOX_RELAYED.inc(done)
            await uow.commit()
        if published is not None:
            self._known_published(published)
        self.relayed += handled
        return RelayPass(handled=handled, busy=busy, more=more)

    async def _measure(self, connection: AsyncConnection, newest: int, relayed: int) -> None:
        """Outbox size and lag of this instance's bus (the Prometheus gauges)."""
        metrics.OUTBOX_PENDING.set(max(0, newest - relayed))
        oldest: datetime | None = None
        if newest > relayed:
            oldest = await connection.scalar(sql_outbox.occurred_after(relayed))
        lag = (self.clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_LAG.set(max(0.0, lag))
        await connection.rollback()

    async def _to_bus(self, uow: SqlUnitOfWork, rows: Sequence[sql_outbox.RelayRow]) -> int:
        # Published while the cursor is locked: the next batch (maybe another instance's)
        # cannot overtake this one. On Redis, an event the other instances could not get
        # (Redis down) stops the batch: the cursor stays before it, and the relay hands it
        # over once Redis answers (the poll retries), in order.
        bus = self.event_bus
        tags: dict[str, set[str]] = {}
        done = 0
        for row in rows:
            if row.message is not None:
                try:
                    if isinstance(bus, RedisEventBus):
                        await bus.publish_or_raise(row.record.organization_id, row.message)
                    else:
                        await bus.publish(row.record.organization_id, row.message)
                except EventBusUnavailable:
                    self.bus_down = True
                    break
                except Exception:
                    logger.exception("publishing %s on the event bus failed", row.record.event)
            tags.setdefault(row.record.organization_id, set()).update(row.tags)
            done += 1
        else:
            self.bus_down = False
        for organization_id, names in tags.items():
            if names:
                await self.cache.invalidate(Invalidation(organization_id, frozenset(names)))
        return done

    async def _to_hooks(self, uow: SqlUnitOfWork, rows: Sequence[sql_outbox.RelayRow]) -> int:
        created = await create_deliveries(uow.connection, rows, self.ids, self.clock.now())
        if created and self.on_deliveries is not None:
            self.on_deliveries()
        return len(rows)

    async def prune(self) -> int:
        """Delete relayed events and finished deliveries older than the retention, and the
        cursors of in-process buses not advanced for as long (bounded); the rows deleted."""
        cutoff = self.clock.now() - self.settings.retention
        async with SqlUnitOfWork(self.engine) as uow:
            connection = uow.connection
            positions = await sql_outbox.cursor_positions(connection, [WEBHOOKS_CURSOR])
            deleted = 0
            if WEBHOOKS_CURSOR in positions:
                deleted += await sql_outbox.prune(
                    connection, older_than=cutoff, up_to_position=positions[WEBHOOKS_CURSOR]
                )
            deleted += await prune_deliveries(connection, older_than=cutoff)
            deleted += await sql_outbox.prune_cursors(connection, PROCESS_BUS_PREFIX, cutoff)
            await uow.commit()
        return deleted

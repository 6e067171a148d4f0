"""The Redis cache, rate limiter and event bus against a real Redis — and through its outages.

``make test`` starts Redis on 127.0.0.1 and exports ``CUSTOMERS_HUB_TEST_REDIS_URL``; without it
these tests fail rather than skip. Every test uses key and channel prefixes of its own, so tests
(and test runs) sharing that server never see each other's data, and deletes only its own keys.

Two adapters on two separate clients stand for two service instances. Fault tests never touch
the shared server: they start a throw-away ``redis-server`` of their own on a free port and kill
it mid-test (a crash: SIGKILL), or cut one instance off through a TCP proxy they control.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from customers_hub.adapters.cache import RedisCache
from customers_hub.adapters.event_wire import OutboundEvent, to_outbound
from customers_hub.adapters.ratelimit import RedisRateLimiter
from customers_hub.adapters.redis_events import RedisEventBus
from customers_hub.adapters.redis_support import redis_client
from customers_hub.application.caching import CacheKey, CacheKeys, CacheTag, Invalidation
from customers_hub.application.rate_limits import RateLimit
from customers_hub.domain.enums import ActionType, Priority
from customers_hub.domain.events import ActionCreated

pytestmark = pytest.mark.integration

REDIS_ENV = "CUSTOMERS_HUB_TEST_REDIS_URL"
TIMEOUT = 0.3  # client timeouts: a dead server must not slow the tests down
RETRY = 0.1  # how often a failed adapter probes Redis again


def redis_url() -> str:
    """The shared test Redis, or a failure that says how to get one."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(f"{REDIS_ENV} is not set: run the tests with `make test`, which starts Redis")
    return url


@pytest.fixture
def url() -> str:
    return redis_url()


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def clients(url: str, prefix: str) -> AsyncIterator[Callable[[], Redis]]:
    """Makes clients of the shared Redis (one per "instance"); deletes this test's keys after."""
    made: list[Redis] = []

    def make() -> Redis:
        client = redis_client(url, timeout=TIMEOUT)
        made.append(client)
        return client

    yield make
    admin = redis_client(url)
    try:
        keys = [k async for k in admin.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await admin.delete(*keys)
    finally:
        await admin.aclose()
        for client in made:
            with contextlib.suppress(Exception):
                await client.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _answers_ping(port: int) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 0.5)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"PING\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 0.5) == b"+PONG\r\n"
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class ThrowawayRedis:
    """A ``redis-server`` of one test, on 127.0.0.1, no persistence; killed and restarted."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run the tests with `make test`")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, within: float = 10.0) -> None:
        """Start on the same port; retried while a killed predecessor still holds it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.process = await asyncio.create_subprocess_exec(
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            for _ in range(40):
                if self.process.returncode is not None:
                    break  # could not bind: try again
                if await _answers_ping(self.port):
                    return
                await asyncio.sleep(0.05)
            await self.kill()
            await asyncio.sleep(0.2)
        pytest.fail(f"throw-away redis-server did not start on port {self.port}")

    async def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            if self.process.returncode is None:
                self.process.kill()
            await self.process.wait()
            self.process = None


@pytest.fixture
async def throwaway(tmp_path: Path) -> AsyncIterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


class TcpProxy:
    """Forwards a local port to Redis; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}
        for task in (self._pipe(reader, up_writer), self._pipe(up_reader, writer)):
            t = asyncio.create_task(task)
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# --- cache -------------------------------------------------------------------------------------


async def test_cache_round_trip_under_the_documents_key_pattern(
    clients: Callable[[], Redis], prefix: str
) -> None:
    cache = RedisCache(clients(), prefix=prefix)
    key = CacheKeys.customer("org_1", "cust_001")
    miss = await cache.get(key)
    assert miss.value is None
    assert miss.slot is not None
    assert miss.slot.startswith(f"{prefix}org_1:customer:cust_001:v")
    await cache.put(miss, b'{"id":"cust_001"}')
    assert (await cache.get(key)).value == b'{"id":"cust_001"}'
    ttl_ms = await clients().pttl(miss.slot)
    assert 0 < ttl_ms <= 300_000  # customer details live five minutes


async def test_cache_entries_expire(clients: Callable[[], Redis], prefix: str) -> None:
    cache = RedisCache(clients(), prefix=prefix)
    key = CacheKey("org_1", "customer:c2", 0.2, ("customer:c2",))
    await cache.put(await cache.get(key), b"v")
    assert (await cache.get(key)).hit
    await asyncio.sleep(0.35)
    assert not (await cache.get(key)).hit


async def test_an_invalidation_on_one_instance_is_seen_by_the_other(
    clients: Callable[[], Redis], prefix: str
) -> None:
    a, b = RedisCache(clients(), prefix=prefix), RedisCache(clients(), prefix=prefix)
    pages = [CacheKeys.customer_list("org_1", "h", p) for p in (1, 2)]
    detail = CacheKeys.customer("org_1", "c1")
    other_org = CacheKeys.customer_list("org_2", "h", 1)
    for key in [*pages, detail, other_org]:
        await b.put(await b.get(key), b"cached")
    assert all([(await a.get(k)).hit for k in pages])  # shared: A reads what B stored

    await a.invalidate(Invalidation("org_1", frozenset({CacheTag.CUSTOMER_LIST})))
    assert [(await b.get(k)).hit for k in pages] == [False, False]
    assert (await b.get(detail)).hit
    assert (await b.get(other_org)).hit


async def test_a_value_read_before_a_commit_is_never_served_after_its_invalidation(
    clients: Callable[[], Redis], prefix: str
) -> None:
    reader, writer = RedisCache(clients(), prefix=prefix), RedisCache(clients(), prefix=prefix)
    key = CacheKeys.customer("org_1", "c1")
    lookup = await reader.get(key)  # miss; the reader queries the database …
    await writer.invalidate(Invalidation("org_1", frozenset({"customer:c1"})))  # … a commit
    await reader.put(lookup, b"old")  # the reader stores what it read before the commit
    assert (await writer.get(key)).value is None
    assert (await reader.get(key)).value is None


async def test_instances_creating_a_generation_at_once_agree_on_it(
    clients: Callable[[], Redis], prefix: str
) -> None:
    caches = [RedisCache(clients(), prefix=prefix) for _ in range(4)]
    key = CacheKeys.customer("org_1", "fresh")
    lookups = await asyncio.gather(*(c.get(key) for c in caches))
    assert len({lookup.slot for lookup in lookups}) == 1


# --- rate limiter ------------------------------------------------------------------------------


async def test_two_instances_count_one_budget(clients: Callable[[], Redis], prefix: str) -> None:
    a = RedisRateLimiter(clients(), prefix=prefix)
    b = RedisRateLimiter(clients(), prefix=prefix)
    rule = RateLimit(60, 60.0, 5)  # one per second, five at once
    key = "org_1:emp_1:read"
    decisions = [await (a if i % 2 else b).hit(key, rule) for i in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    denied = decisions[-1]
    assert not (await a.hit(key, rule)).allowed
    assert denied.limit == 60
    assert 0.8 < denied.retry_after <= 1.0
    assert denied.retry_after_seconds == 1
    assert denied.reset_at == pytest.approx(time.time() + 5.0, abs=1.0)
    # Other users and categories have budgets of their own.
    assert (await b.hit("org_1:emp_2:read", rule)).allowed
    assert (await b.hit("org_1:emp_1:write", rule)).allowed


async def test_a_shared_bucket_refills_and_expires_when_full(
    clients: Callable[[], Redis], prefix: str
) -> None:
    redis = clients()
    limiter = RedisRateLimiter(redis, prefix=prefix)
    rule = RateLimit(600, 60.0, 2)  # ten per second
    key = "org_1:emp_1:search"
    assert [(await limiter.hit(key, rule)).allowed for _ in range(3)] == [True, True, False]
    ttl_ms = await redis.pttl(prefix + key)
    assert 0 < ttl_ms <= 1200  # full again in 0.2 s, plus a second of slack
    await asyncio.sleep(0.15)
    assert (await limiter.hit(key, rule)).allowed


# --- event bus ---------------------------------------------------------------------------------


def _event(org: str) -> OutboundEvent:
    outbound = to_outbound(
        ActionCreated(
            organization_id=org,
            occurred_at=datetime(2024, 1, 22, 15, 30, tzinfo=UTC),
            employee_ids=("emp_1",),
            action_id="action_1",
            customer_id="cust_1",
            action_type=ActionType.NEW_INQUIRY,
            priority=Priority.HIGH,
            assigned_to="emp_1",
        )
    )
    assert outbound is not None
    return outbound


async def test_an_event_published_on_one_instance_reaches_the_others_subscribers_of_its_org(
    clients: Callable[[], Redis], prefix: str
) -> None:
    a = RedisEventBus(clients(), channel_prefix=f"{prefix}events:")
    b = RedisEventBus(clients(), channel_prefix=f"{prefix}events:")
    try:
        on_b = await b.subscribe("org_1")
        other_org_on_b = await b.subscribe("org_2")
        on_a = await a.subscribe("org_1")
        event = _event("org_1")
        await a.publish("org_1", event.to_message())
        received = await on_b.get(2.0)
        assert received is not None
        assert OutboundEvent.from_message(received) == event
        assert await on_a.get(2.0) == event.to_message()  # the publisher's own clients too
        assert await other_org_on_b.get(0.3) is None
        assert await on_a.get(0.1) is None  # exactly once
    finally:
        await a.aclose()
        await b.aclose()


async def test_an_instance_listens_to_an_organization_only_while_it_has_subscribers(
    clients: Callable[[], Redis], prefix: str
) -> None:
    admin = clients()
    bus = RedisEventBus(clients(), channel_prefix=f"{prefix}events:")
    channel = bus.channel("org_1")
    try:
        first, second = await bus.subscribe("org_1"), await bus.subscribe("org_1")
        assert dict(await admin.pubsub_numsub(channel)) == {channel.encode(): 1}
        await first.aclose()
        assert dict(await admin.pubsub_numsub(channel)) == {channel.encode(): 1}
        await second.aclose()

        async def unsubscribed() -> bool:
            return dict(await admin.pubsub_numsub(channel)) == {channel.encode(): 0}

        await eventually(unsubscribed, within=3.0)
    finally:
        await bus.aclose()


# --- faults ------------------------------------------------------------------------------------


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def test_the_cache_misses_while_redis_is_down_and_recovers_by_itself(
    throwaway: ThrowawayRedis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="customers_hub.adapters.cache")
    cache = RedisCache(
        redis_client(throwaway.url, timeout=TIMEOUT), prefix=prefix, retry_interval=RETRY
    )
    key = CacheKeys.customer("org_1", "c1")
    try:
        await cache.put(await cache.get(key), b"before")
        assert (await cache.get(key)).value == b"before"

        await throwaway.kill()
        started = time.monotonic()
        for _ in range(5):
            lookup = await cache.get(key)
            assert lookup.value is None
            await cache.put(lookup, b"during")
            await cache.invalidate(Invalidation("org_1", frozenset({"customer:c1"})))
            await asyncio.sleep(RETRY)
        assert time.monotonic() - started < 5 * RETRY + 3 * TIMEOUT + 1.0  # answered at once
        assert not cache.available
        assert cache.outages == 1
        assert _warnings(caplog, "Redis unavailable") == 1  # logged once per outage

        await throwaway.start()

        async def caching_again() -> bool:
            lookup = await cache.get(key)
            if lookup.slot is None:
                return False
            await cache.put(lookup, b"after")
            return (await cache.get(key)).value == b"after"

        await eventually(caching_again)
        assert cache.available
        assert _warnings(caplog, "Redis available again") == 1
    finally:
        await cache.aclose()


async def test_an_invalidation_lost_while_cut_off_drops_the_cache_once_back(
    clients: Callable[[], Redis], url: str, prefix: str
) -> None:
    """Redis keeps its data while one instance is cut off: that instance's lost invalidation
    must not leave the others serving stale entries after it gets through again."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(port)
    await proxy.start()
    cut_off = RedisCache(
        redis_client(proxy.url, timeout=TIMEOUT), prefix=prefix, retry_interval=RETRY
    )
    healthy = RedisCache(clients(), prefix=prefix)
    key = CacheKeys.customer("org_1", "c1")
    other = CacheKeys.customer("org_1", "c2")
    try:
        await healthy.put(await healthy.get(key), b"old")
        await healthy.put(await healthy.get(other), b"untouched")
        assert (await cut_off.get(key)).value == b"old"

        await proxy.cut()
        await cut_off.invalidate(Invalidation("org_1", frozenset({"customer:c1"})))  # lost
        assert not cut_off.available

        await proxy.start()

        async def dropped() -> bool:  # no call on cut_off: its recovery runs by itself
            return (await healthy.get(key)).value is None

        await eventually(dropped)
        assert (await healthy.get(other)).value is None  # the whole cache, to be safe
        assert cut_off.available
    finally:
        await cut_off.aclose()
        await proxy.cut()


async def test_the_rate_limiter_counts_per_instance_while_redis_is_down_then_shares_again(
    throwaway: ThrowawayRedis, prefix: str
) -> None:
    a = RedisRateLimiter(
        redis_client(throwaway.url, timeout=TIMEOUT), prefix=prefix, retry_interval=RETRY
    )
    b = RedisRateLimiter(
        redis_client(throwaway.url, timeout=TIMEOUT), prefix=prefix, retry_interval=RETRY
    )
    rule = RateLimit(6, 60.0, 3)  # one per ten seconds: no refill during the test
    key = "org_1:emp_1:read"
    try:
        assert [(await a.hit(key, rule)).allowed for _ in range(2)] == [True, True]

        await throwaway.kill()
        # Each instance falls back to a bucket of its own, starting full.
        assert [(await a.hit(key, rule)).allowed for _ in range(4)] == [True, True, True, False]
        assert not a.available
        assert (await b.hit(key, rule)).allowed

        await throwaway.start()

        async def back(limiter: RedisRateLimiter) -> bool:
            await limiter.hit("org_1:probe:read", rule)
            return limiter.available

        await eventually(lambda: back(a))
        await eventually(lambda: back(b))
        # Shared again: Redis lost its buckets (no persistence), so a fresh one of three.
        decisions = [await limiter.hit(key, rule) for limiter in (a, b, a, b)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    finally:
        await a.aclose()
        await b.aclose()


async def test_the_event_bus_delivers_locally_while_down_and_resubscribes_after(
    throwaway: ThrowawayRedis,
) -> None:
    a = RedisEventBus(redis_client(throwaway.url, timeout=TIMEOUT), retry_interval=RETRY)
    b = RedisEventBus(redis_client(throwaway.url, timeout=TIMEOUT), retry_interval=RETRY)
    try:
        on_a, on_b = await a.subscribe("org_1"), await b.subscribe("org_1")
        await a.publish("org_1", {"n": 1})
        assert await on_b.get(2.0) == {"n": 1}
        assert await on_a.get(2.0) == {"n": 1}

        await throwaway.kill()
        await a.publish("org_1", {"n": 2})  # no error; A's own subscribers still get it
        assert await on_a.get(2.0) == {"n": 2}
        assert await on_b.get(0.3) is None

        await throwaway.start()

        async def resubscribed() -> bool:
            return b.reconnections >= 1

        await eventually(resubscribed)
        received: dict[str, Any] | None = None

        async def delivered() -> bool:
            nonlocal received
            await a.publish("org_1", {"n": 3})
            received = await on_b.get(0.2)
            return received is not None

        await eventually(delivered)
        assert received == {"n": 3}
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_subscription_made_while_redis_is_down_starts_receiving_when_it_returns(
    throwaway: ThrowawayRedis,
) -> None:
    a = RedisEventBus(redis_client(throwaway.url, timeout=TIMEOUT), retry_interval=RETRY)
    b = RedisEventBus(
        redis_client(throwaway.url, timeout=TIMEOUT), retry_interval=RETRY, subscribe_timeout=0.5
    )
    try:
        await throwaway.kill()
        started = time.monotonic()
        on_b = await b.subscribe("org_1")  # no error, and no long wait
        assert time.monotonic() - started < 1.5

        await throwaway.start()
        received: dict[str, Any] | None = None

        async def delivered() -> bool:
            nonlocal received
            await a.publish("org_1", {"n": 1})
            received = await on_b.get(0.2)
            return received is not None

        await eventually(delivered)
        assert received == {"n": 1}
    finally:
        await a.aclose()
        await b.aclose()


async def test_an_invalidation_is_attempted_even_while_the_instance_believes_redis_is_down(
    clients: Callable[[], Redis], prefix: str
) -> None:
    """Redis is back and another instance caches again, but this one still waits out its retry
    interval: its next write's invalidation must reach Redis, not wait for the epoch bump."""
    writer = RedisCache(clients(), prefix=prefix, retry_interval=3600.0)
    reader = RedisCache(clients(), prefix=prefix)
    key = CacheKeys.customer("org_1", "c1")
    writer._availability.failed(ConnectionError("an outage just ended"))  # believes it is down
    assert not writer.available
    await reader.put(await reader.get(key), b"before the write")
    await writer.invalidate(Invalidation("org_1", frozenset({"customer:c1"})))
    assert (await reader.get(key)).value is None
    assert writer.available

"""Event buses for WebSocket fan-out: in the process, or across instances through Redis pub/sub.

Messages are JSON-able dicts (see :mod:`customers_hub.adapters.event_wire`), published per
organization. With Redis each organization has one channel, ``hub:events:{org}``; an instance
subscribes to it only while one of its own WebSocket clients of that organization is connected,
so it only ever receives what its subscribers may see. Each instance holds one pub/sub connection
for all its subscriptions and fans messages out to local subscribers through bounded queues (a
slow consumer loses its oldest messages, never blocks the others).

Pub/sub keeps no history: a message published while an instance is cut off from Redis is lost
for that instance's subscribers (clients re-read what they display after a reconnect). While
Redis is unreachable :meth:`RedisEventBus.publish` delivers to the subscribers of its own
instance directly, and the reader reconnects every ``retry_interval`` seconds and subscribes
again to every channel it needs; :attr:`RedisEventBus.reconnections` counts those recoveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from customers_hub.adapters.redis_support import REDIS_ERRORS, RedisAvailability, redis_client

__all__ = [
    "EventBus",
    "EventSubscription",
    "InProcessEventBus",
    "QueueSubscription",
    "RedisEventBus",
]

logger = logging.getLogger(__name__)


# The bus is no port of the application: no use case publishes on it. Domain events leave a
# transaction through the one event port, application.ports.EventPublisher; the outbox relay
# (adapters/relay.py) forwards them here, and the WebSocket (entrypoints/http/ws.py) reads them.


class EventSubscription(Protocol):
    """The messages of one organization, in publication order, until closed."""

    organization_id: str

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        """Iterate over messages; ends when the subscription is closed."""
        ...

    async def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or ``None`` after ``timeout`` seconds or once closed."""
        ...

    async def aclose(self) -> None:
        """Stop receiving (idempotent)."""
        ...


class EventBus(Protocol):
    """Publishes JSON-able messages per organization to every instance's subscribers."""

    async def publish(self, organization_id: str, message: Mapping[str, Any]) -> None:
        """Deliver ``message`` to the organization's subscribers on every instance."""
        ...

    async def subscribe(self, organization_id: str) -> EventSubscription:
        """Receive the organization's messages published from now on."""
        ...

    async def aclose(self) -> None:
        """Close every subscription and connection."""
        ...


def _encode(message: Mapping[str, Any]) -> str:
    # Both buses encode, so a message that is not JSON fails the same way in both (TypeError).
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class QueueSubscription:
    """One subscriber's messages of one organization, buffered in a bounded queue.

    Messages are shared between the subscribers of an instance: treat them as read-only.
    """

    def __init__(
        self,
        organization_id: str,
        on_close: Callable[[QueueSubscription], Awaitable[None]],
        *,
        max_queued: int = 1000,
    ) -> None:
        self.organization_id = organization_id
        self._on_close = on_close
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=max_queued)
        self._closed = False
        self.dropped = 0
        """Messages dropped because this subscriber fell ``max_queued`` behind."""

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._closed

    def _push(self, item: dict[str, Any] | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # the oldest goes: a slow reader must not block the others
            self.dropped += 1
        self._queue.put_nowait(item)

    def deliver(self, message: dict[str, Any]) -> None:
        """Queue ``message`` (no-op once closed)."""
        if not self._closed:
            self._push(message)

    async def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or ``None`` after ``timeout`` seconds or once closed."""
        if self._closed and self._queue.empty():
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        """Iterate until closed."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            item = await self.get()
            if item is None:
                return
            yield item

    async def aclose(self) -> None:
        """Stop receiving; a pending :meth:`get` or iteration ends (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._push(None)
        await self._on_close(self)


class _LocalFanOut:
    """Subscribers of this instance by organization."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        self.by_org: dict[str, set[QueueSubscription]] = {}

    def add(self, sub: QueueSubscription) -> bool:
        """Register ``sub``; True when it is its organization's first."""
        subs = self.by_org.setdefault(sub.organization_id, set())
        subs.add(sub)
        return len(subs) == 1

    def remove(self, sub: QueueSubscription) -> bool:
        """Forget ``sub``; True when its organization has no subscriber left."""
        subs = self.by_org.get(sub.organization_id)
        if subs is None:
            return False
        subs.discard(sub)
        if subs:
            return False
        del self.by_org[sub.organization_id]
        return True

    def dispatch(self, organization_id: str, message: dict[str, Any]) -> None:
        for sub in list(self.by_org.get(organization_id, ())):
            sub.deliver(message)


class InProcessEventBus:
    """Delivers each message to this process's subscribers of its organization (embedded mode)."""

    def __init__(self, *, max_queued: int = 1000) -> None:
        self._local = _LocalFanOut(max_queued)

    async def publish(self, organization_id: str, message: Mapping[str, Any]) -> None:
        """Deliver a JSON copy of ``message`` to the organization's subscribers."""
        self._local.dispatch(organization_id, json.loads(_encode(message)))

    async def subscribe(self, organization_id: str) -> QueueSubscription:
        """Receive the organization's messages from now on."""
        sub = QueueSubscription(organization_id, self._closed, max_queued=self._local.max_queued)
        self._local.add(sub)
        return sub

    async def _closed(self, sub: QueueSubscription) -> None:
        self._local.remove(sub)

    async def aclose(self) -> None:
        """Close every subscription."""
        for subs in list(self._local.by_org.values()):
            for sub in list(subs):
                await sub.aclose()


class EventBusUnavailable(Exception):
    """Redis did not take a message for the other instances (see
    :meth:`RedisEventBus.publish_or_raise`)."""


class RedisEventBus:
    """Fan-out across instances through Redis pub/sub, one channel per organization.

    Never raises on Redis failures: publishing falls back to local delivery, subscribing returns
    a subscription that starts receiving once Redis answers.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        channel_prefix: str = "hub:events:",
        retry_interval: float = 0.5,
        subscribe_timeout: float = 2.0,
        max_queued: int = 1000,
    ) -> None:
        self._redis = redis
        self._prefix = channel_prefix
        self._retry_interval = retry_interval
        self._subscribe_timeout = subscribe_timeout
        self._local = _LocalFanOut(max_queued)
        self._publishing = RedisAvailability(
            "event bus (publish)", logger, retry_interval=retry_interval
        )
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()  # guards replacing the pub/sub and (un)subscribing on it
        self._confirmed: dict[str, asyncio.Event] = {}
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._reading_down = False
        self._closed = False
        self.reconnections = 0
        """Times the reader got back to Redis after losing it (and subscribed again)."""

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 1.0) -> RedisEventBus:
        """A bus on a fresh fail-fast client for ``url``."""
        return cls(redis_client(url, timeout=timeout))

    def channel(self, organization_id: str) -> str:
        """The Redis channel of an organization."""
        return f"{self._prefix}{organization_id}"

    def _wanted(self) -> list[str]:
        return sorted(self.channel(org) for org in self._local.by_org)

    def _confirmation(self, channel: str) -> asyncio.Event:
        return self._confirmed.setdefault(channel, asyncio.Event())

    async def publish_or_raise(self, organization_id: str, message: Mapping[str, Any]) -> None:
        """Publish to every instance through Redis, or raise :class:`EventBusUnavailable`.

        The outbox relay's form: it keeps an event it could not hand to every instance and
        hands it over once Redis answers again, where :meth:`publish` would give it to this
        instance's subscribers only."""
        try:
            await self._redis.publish(self.channel(organization_id), _encode(message))
        except REDIS_ERRORS as error:
            self._publishing.failed(error)
            raise EventBusUnavailable(str(error)) from error
        self._publishing.succeeded()

    async def publish(self, organization_id: str, message: Mapping[str, Any]) -> None:
        """Publish to every instance; while Redis is unreachable, to this instance only."""
        data = _encode(message)
        if self._publishing.should_try():
            try:
                await self._redis.publish(self.channel(organization_id), data)
            except REDIS_ERRORS as error:
                self._publishing.failed(error)
            else:
                self._publishing.succeeded()
                return
        self._local.dispatch(organization_id, json.loads(data))

    async def subscribe(self, organization_id: str) -> QueueSubscription:
        """Receive the organization's messages from now on.

        Returns once Redis confirmed the channel's subscription (or after ``subscribe_timeout``
        when Redis does not answer; the reader keeps trying).
        """
        if self._closed:
            raise RuntimeError("the event bus is closed")
        sub = QueueSubscription(
            organization_id, self._unsubscribe, max_queued=self._local.max_queued
        )
        self._local.add(sub)
        channel = self.channel(organization_id)
        confirmed = self._confirmation(channel)
        if not confirmed.is_set():
            async with self._lock:
                if self._pubsub is not None and channel.encode() not in self._pubsub.channels:
                    try:
                        await self._pubsub.subscribe(channel)
                    except REDIS_ERRORS as error:
                        logger.debug("event bus: subscribe %s failed: %s", channel, error)
            self._start_reader()
            if self._reading_down:  # Redis is known to be away: do not hold the caller up
                return sub
            try:
                await asyncio.wait_for(confirmed.wait(), self._subscribe_timeout)
            except TimeoutError:
                logger.warning("event bus: %s not confirmed yet; will keep trying", channel)
        return sub

    async def _unsubscribe(self, sub: QueueSubscription) -> None:
        if not self._local.remove(sub):
            return
        channel = self.channel(sub.organization_id)
        self._confirmed.pop(channel, None)
        async with self._lock:
            if self._pubsub is not None and not self._closed:
                try:
                    await self._pubsub.unsubscribe(channel)
                except REDIS_ERRORS as error:
                    logger.debug("event bus: unsubscribe %s failed: %s", channel, error)

    def _start_reader(self) -> None:
        self._wake.set()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _connect(self) -> None:
        async with self._lock:
            wanted = self._wanted()
            if not wanted:
                return
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(*wanted)
            except BaseException:
                await self._close_pubsub(pubsub)
                raise
            self._pubsub = pubsub

    async def _subscribe_missing(self) -> None:
        # A SUBSCRIBE that failed on its way out is not recorded by redis-py: send it again.
        async with self._lock:
            if self._pubsub is None:
                return
            have = {c.decode() if isinstance(c, bytes) else str(c) for c in self._pubsub.channels}
            missing = [c for c in self._wanted() if c not in have]
            if missing:
                await self._pubsub.subscribe(*missing)

    async def _reset(self) -> None:
        async with self._lock:
            pubsub, self._pubsub = self._pubsub, None
            for event in self._confirmed.values():
                event.clear()
        if pubsub is not None:
            await self._close_pubsub(pubsub)

    @staticmethod
    async def _close_pubsub(pubsub: PubSub) -> None:
        with contextlib.suppress(*REDIS_ERRORS):
            await pubsub.aclose()

    async def _read(self) -> None:
        """Read the pub/sub connection; reconnect and resubscribe after a failure."""
        while not self._closed:
            if not self._local.by_org:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                if self._pubsub is None:
                    await self._connect()
                    if self._pubsub is None:
                        continue
                message = await self._pubsub.get_message(timeout=1.0)
                if message is None:
                    await self._subscribe_missing()
            except REDIS_ERRORS as error:
                if not self._reading_down:
                    self._reading_down = True
                    logger.warning(
                        "event bus: Redis subscription lost (%s: %s); reconnecting",
                        type(error).__name__,
                        error,
                    )
                await self._reset()
                await asyncio.sleep(self._retry_interval)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: Mapping[str, Any]) -> None:
        kind = message.get("type")
        raw_channel = message.get("channel")
        channel = raw_channel.decode() if isinstance(raw_channel, bytes) else str(raw_channel)
        if kind == "subscribe":
            if self._reading_down:
                self._reading_down = False
                self.reconnections += 1
                logger.warning("event bus: Redis subscription restored")
            self._confirmation(channel).set()
        elif kind == "message" and channel.startswith(self._prefix):
            try:
                data = json.loads(message["data"])
            except (ValueError, TypeError):
                logger.warning("event bus: dropped a message that is not JSON on %s", channel)
                return
            if isinstance(data, dict):
                self._local.dispatch(channel[len(self._prefix) :], data)

    async def aclose(self) -> None:
        """Close every subscription, the reader and the client."""
        for subs in list(self._local.by_org.values()):
            for sub in list(subs):
                await sub.aclose()
        self._closed = True
        self._wake.set()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._reset()
        with contextlib.suppress(*REDIS_ERRORS):
            await self._redis.aclose()

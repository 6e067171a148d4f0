"""Sends webhook deliveries: signed ``POST`` requests, retried with backoff, at least once.

Each delivery is ``POST <url>`` with the JSON body ``{id, event, organizationId, timestamp,
data}`` and the headers

* ``X-CustomersHub-Event``: the event name;
* ``X-CustomersHub-Delivery``: the delivery's id — the same on every retry, so a receiver
  dedupes on it;
* ``X-CustomersHub-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
  with the hook's secret (:func:`customers_hub.domain.webhooks.signature_header`).

A 2xx answer delivers it; anything else (another status, a timeout, a refused connection, a
redirect — never followed) schedules the next attempt with the hook's backoff
(:func:`~customers_hub.domain.webhooks.next_attempt_at`), and after about a day the delivery is
``failed``. A hook failing without a success for days is disabled with its reason.

Every instance runs a sender. Deliveries are claimed in a short transaction that leases them
(:func:`~customers_hub.adapters.sql.webhooks.claim_due`, at most
:attr:`WebhookSettings.concurrency` in flight per hook across instances, the hook rows locked
``FOR UPDATE SKIP LOCKED`` while claiming), sent outside any transaction, and their outcome
recorded in another; a sender that dies mid-send leaves its lease to expire
(:attr:`WebhookSettings.lease`), then another instance sends it again. With the default
concurrency of 1 a healthy receiver gets a hook's events in order.

The target's addresses are checked again before each request (a host may resolve elsewhere than
when the hook was created): a private, loopback or link-local address fails the attempt unless
the deployment allows them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Final
from urllib.parse import urlsplit

import httpx
from attrs import field, frozen
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters import metrics
from customers_hub.adapters.relay import BackgroundLoop
from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.adapters.sql.webhooks import (
    ClaimedDelivery,
    claim_due,
    record_failure,
    record_success,
)
from customers_hub.application.ports import Clock
from customers_hub.domain.webhooks import (
    DeliveryStatus,
    IpAddress,
    RetryPolicy,
    is_public_address,
    signature_header,
)

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "SystemHostResolver",
    "WebhookSender",
    "WebhookSettings",
]

logger = logging.getLogger(__name__)

EVENT_HEADER: Final = "X-CustomersHub-Event"
DELIVERY_HEADER: Final = "X-CustomersHub-Delivery"
SIGNATURE_HEADER: Final = "X-CustomersHub-Signature"
_USER_AGENT: Final = "CustomersHub-Webhooks/1"


@frozen
class WebhookSettings:
    """How webhooks are validated and sent (``CUSTOMERS_HUB_WEBHOOKS_*``)."""

    allow_private: bool = False
    """Accept private, loopback and link-local targets (tests, private installations)."""
    timeout: float = 10.0
    concurrency: int = 1
    """Deliveries of one hook in flight at once, across instances."""
    max_in_flight: int = 32
    """Requests one instance has in flight at once, all hooks together."""
    lease: timedelta = timedelta(seconds=60)
    """How long a claimed delivery is reserved for its sender (longer than ``timeout``)."""
    poll_interval: float = 0.5
    policy: RetryPolicy = field(factory=RetryPolicy)

    def __attrs_post_init__(self) -> None:
        if self.concurrency < 1 or self.max_in_flight < 1 or self.timeout <= 0:
            raise ValueError("webhook concurrency, in-flight bound and timeout must be positive")
        if self.lease.total_seconds() <= self.timeout:
            raise ValueError("the webhook lease must be longer than the request timeout")


# The operating system's resolver blocks a thread per lookup and may take many seconds for a
# name nobody answers for: lookups get threads of their own (never the default executor, which
# document storage uses) and a bounded wait, after which the host counts as not resolving yet.
_DNS_THREADS: Final = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
DNS_TIMEOUT: Final = 2.0
"""Longest wait for one host's addresses (seconds)."""


class SystemHostResolver:
    """Resolves host names with the operating system's resolver, within :data:`DNS_TIMEOUT`."""

    async def resolve(self, host: str) -> Sequence[IpAddress]:
        """The host's addresses (an IP literal is its own); empty when it does not resolve
        (within :data:`DNS_TIMEOUT`)."""
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        lookup = partial(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(_DNS_THREADS, lookup), DNS_TIMEOUT
            )
        except (OSError, UnicodeError, TimeoutError):
            return []
        found: list[IpAddress] = []
        for *_, address in infos:
            try:
                ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
            except ValueError:
                continue
            if ip not in found:
                found.append(ip)
        return found


class WebhookSender(BackgroundLoop):
    """The sender of one instance (see the module docstring)."""

    def __init__(
        self,
        *,
        database_url: str,
        clock: Clock,
        settings: WebhookSettings,
        resolver: SystemHostResolver | None = None,
        rand: Callable[[], float] | None = None,
        engine: AsyncEngine | None = None,
    ) -> None:
        super().__init__("webhook-sender", settings.poll_interval)
        self.database_url = database_url
        self.clock = clock
        self.settings = settings
        self.resolver = resolver or SystemHostResolver()
        # Its own generator: jitter never touches the global ``random`` state (which Hypothesis
        # watches in the tests of an embedding service running the sender).
        self.rand = rand or random.Random().random
        self._engine = engine
        self._own_engine = engine is None
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._sending: set[asyncio.Task[None]] = set()
        self.outcomes: dict[str, int] = {}
        """Attempts by outcome (``delivered``, ``retry``, ``failed``), for tests and metrics."""

    @property
    def engine(self) -> AsyncEngine:
        """The sender's engine (created by :meth:`start`)."""
        if self._engine is None:
            raise RuntimeError("the webhook sender is not started")
        return self._engine

    async def open(self) -> None:
        """Create the engine and the HTTP client in this loop (what :meth:`claim` and
        :meth:`send` need; no task yet)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_size=2)
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.settings.timeout,
                follow_redirects=False,
                headers={"User-Agent": _USER_AGENT},
            )

    async def start(self) -> None:
        """:meth:`open`, then send in a task of this loop."""
        await self.open()
        self.start_loop(self._step)

    async def stop(self) -> None:
        """Stop claiming, cancel the requests in flight (their leases expire; another
        instance or the next start sends them), release the client and the engine."""
        await self.stop_loop()
        for task in list(self._sending):
            task.cancel()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._own_engine and self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _step(self) -> float | None:
        if self._slots.locked():
            return self.settings.poll_interval
        claimed = await self.claim()
        for delivery in claimed:
            await self._slots.acquire()
            task = asyncio.create_task(self._send_released(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return None if not claimed else self.settings.poll_interval / 10

    async def claim(self) -> list[ClaimedDelivery]:
        """Lease the due deliveries this instance may send now."""
        async with SqlUnitOfWork(self.engine) as uow:
            claimed = await claim_due(
                uow.connection,
                self.clock.now(),
                concurrency=self.settings.concurrency,
                lease=self.settings.lease,
                limit=self.settings.max_in_flight,
            )
            await uow.commit()
        return claimed

    async def _send_released(self, delivery: ClaimedDelivery) -> None:
        try:
            await self.send(delivery)
        except Exception:
            logger.exception("webhook delivery %s: recording the outcome failed", delivery.id)
        finally:
            self._slots.release()
            self.wake()  # the hook may have its next delivery due

    async def _refused_address(self, url: str) -> str | None:
        if self.settings.allow_private:
            return None
        host = urlsplit(url).hostname or ""
        addresses = await self.resolver.resolve(host)
        if not addresses:
            return f"host {host!r} does not resolve"
        private = [str(a) for a in addresses if not is_public_address(a)]
        return f"refused: {host!r} resolves to {', '.join(private)}" if private else None

    async def send(self, delivery: ClaimedDelivery) -> DeliveryStatus:
        """One attempt of ``delivery`` and its recorded outcome."""
        assert self._http is not None
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: delivery.id,
            SIGNATURE_HEADER: signature_header(delivery.secret, int(time.time()), body),
        }
        status_code: int | None = None
        started = time.monotonic()
        error = await self._refused_address(delivery.url)
        if error is None:
            try:
                response = await self._http.post(delivery.url, content=body, headers=headers)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}".rstrip(": ")
        metrics.WEBHOOK_DELIVERY_DURATION.observe(time.monotonic() - started)
        async with SqlUnitOfWork(self.engine) as uow:
            now = self.clock.now()
            if error is None and status_code is not None:
                await record_success(uow.connection, delivery, status_code, now)
                outcome = DeliveryStatus.DELIVERED
            else:
                outcome = await record_failure(
                    uow.connection,
                    delivery,
                    status_code=status_code,
                    error=error or "failed",
                    now=now,
                    policy=self.settings.policy,
                    rand=self.rand,
                )
            await uow.commit()
        key = "retry" if outcome is DeliveryStatus.PENDING else outcome.value
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        metrics.WEBHOOK_DELIVERIES.labels(outcome=key).inc()
        return outcome

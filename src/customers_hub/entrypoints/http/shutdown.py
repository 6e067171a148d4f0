"""Graceful shutdown: what happens between SIGTERM and the process's exit.

uvicorn, on SIGTERM (or Ctrl+C), stops accepting connections, lets every HTTP request in flight
finish with its normal answer, closes idle keep-alive connections, then runs the app's
lifespan shutdown. Left to itself it would close WebSockets with 1012 ("service restart"); this
module makes them close with **1001** ("going away") first:

1. :meth:`GracefulShutdown.install` (at startup, in the server's main thread) chains a handler
   in front of the server's own for SIGTERM and SIGINT.
2. On the signal it starts :meth:`GracefulShutdown.drain` — ``/ready`` answers 503 from then on
   (load balancers stop sending new requests) and every WebSocket client is closed with 1001
   (:func:`~customers_hub.entrypoints.http.ws.close_connections`) — and hands the signal to the
   server when that is done, or after :data:`DRAIN_TIMEOUT` seconds at most.
3. The server finishes the requests in flight, then the lifespan shutdown of ``create_app``
   stops the background tasks and closes the hub (see ``app.py``).

A second signal during the drain goes straight to the server (a second Ctrl+C forces the exit).
Under a server that does not signal the app (the test client, an embedding service), the
lifespan shutdown drains all the same, before the background tasks stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any, Final

from customers_hub.entrypoints.http.ws import close_connections

__all__ = ["DRAIN_TIMEOUT", "GracefulShutdown"]

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT: Final = 2.0
"""Longest wait for the WebSocket closes before the server is told to stop (seconds)."""

_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)

_Handler = Callable[[int, FrameType | None], Any]


class GracefulShutdown:
    """The drain of one app: a flag ``/ready`` reads, and the WebSocket closes."""

    def __init__(self, state: Mapping[str, Any], *, timeout: float = DRAIN_TIMEOUT) -> None:
        self.state = state
        self.timeout = timeout
        self.draining = False
        self._installed: dict[int, tuple[_Handler, _Handler]] = {}
        self._drained: asyncio.Task[None] | None = None

    def install(self) -> None:
        """Chain the drain in front of the server's SIGTERM/SIGINT handlers (main thread only:
        elsewhere — a test client's thread — signals cannot be handled, and nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for number in _SIGNALS:
            previous = signal.getsignal(number)
            if not callable(previous):
                continue  # nobody handles it gracefully: the default stays
            ours = self._handler(loop, previous)
            signal.signal(number, ours)
            self._installed[number] = (ours, previous)

    def uninstall(self) -> None:
        """Give the signals back to the handlers found at :meth:`install`."""
        for number, (ours, previous) in self._installed.items():
            if signal.getsignal(number) is ours:
                signal.signal(number, previous)
        self._installed.clear()

    def _handler(self, loop: asyncio.AbstractEventLoop, previous: _Handler) -> _Handler:
        def on_signal(number: int, frame: FrameType | None) -> None:
            if self.draining or loop.is_closed():
                previous(number, frame)  # a second signal: the server's own handling, now
                return
            self.draining = True
            loop.call_soon_threadsafe(self._start, previous, number)

        return on_signal

    def _start(self, previous: _Handler, number: int) -> None:
        async def drain_then_stop() -> None:
            try:
                await self.drain()
            finally:
                previous(number, None)

        self._drained = asyncio.get_running_loop().create_task(drain_then_stop())

    async def drain(self) -> None:
        """Say "not ready" and close every WebSocket client with 1001 (bounded; idempotent)."""
        self.draining = True
        try:
            async with asyncio.timeout(self.timeout):
                closed = await close_connections(self.state)
        except TimeoutError:
            logger.warning("shutdown: WebSocket closes took over %.1fs; going on", self.timeout)
            return
        if closed:
            logger.info("shutdown: %d WebSocket connection(s) closed with 1001", closed)

"""In-process delivery of domain events to subscribed handlers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from customers_hub.domain.events import DomainEvent

__all__ = ["EventHandler", "InProcessEventPublisher"]

logger = logging.getLogger(__name__)

EventHandler = Callable[[DomainEvent], Awaitable[None]]
"""An async subscriber, called once per event."""


class InProcessEventPublisher:
    """Calls every subscribed handler for each event, in publication and subscription order.

    A handler that raises is logged and skipped: the other handlers still get the event, and the
    publisher (called after the commit) never fails the use case that already committed.
    """

    def __init__(self) -> None:
        self._handlers: list[EventHandler] = []

    def subscribe(self, handler: EventHandler) -> Callable[[], None]:
        """Register ``handler``; returns a function that unsubscribes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Deliver ``events`` in order to every handler subscribed now."""
        handlers = list(self._handlers)
        for event in events:
            for handler in handlers:
                try:
                    await handler(event)
                except Exception:
                    logger.exception("event handler %r failed on %s", handler, type(event).__name__)

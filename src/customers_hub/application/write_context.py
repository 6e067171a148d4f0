"""Who is writing and why: the context a write's commit hooks read (the audit trail).

A use case runs its transaction with :func:`transaction_as`, which binds the actor for the
duration of the write; an entrypoint binds the request id of what it is serving
(:func:`bind_request_id`; the HTTP ``RequestContextMiddleware`` does). Both are context
variables, so concurrent requests of one process never see each other's, and an embedding
service calling the use cases directly gets its actor recorded without doing anything.
A write with no actor bound (a system job such as the snooze wake-up) is the system's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from typing import TypeVar

from attrs import frozen

from customers_hub.application.context import Dependencies, Work, transaction
from customers_hub.domain.model import SYSTEM_ACTOR_ID, SYSTEM_ACTOR_NAME, Actor

__all__ = [
    "WriteContext",
    "acting_as",
    "bind_request_id",
    "bound",
    "current_write_context",
    "reset_request_id",
    "transaction_as",
]

R = TypeVar("R")
T = TypeVar("T")

_ACTOR: ContextVar[Actor | None] = ContextVar("customers_hub_write_actor", default=None)
_REQUEST_ID: ContextVar[str | None] = ContextVar("customers_hub_request_id", default=None)


@frozen
class WriteContext:
    """The author of the current write and the request it serves (None outside a request)."""

    actor_id: str
    actor_name: str
    request_id: str | None = None


def current_write_context() -> WriteContext:
    """The current write's author (the system when none is bound) and request id."""
    actor = _ACTOR.get()
    request_id = _REQUEST_ID.get()
    if actor is None:
        return WriteContext(SYSTEM_ACTOR_ID, SYSTEM_ACTOR_NAME, request_id)
    return WriteContext(actor.user_id, actor.display_name, request_id)


@contextmanager
def bound(var: ContextVar[T], value: T) -> Iterator[None]:
    """``var`` set to ``value`` inside the block, and back to what it was after it."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def acting_as(actor: Actor | None) -> AbstractContextManager[None]:
    """Bind ``actor`` as the author of the writes made inside the block."""
    return bound(_ACTOR, actor)


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Bind the id of the request being served; give the token to :func:`reset_request_id`."""
    return _REQUEST_ID.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    """Undo :func:`bind_request_id`."""
    _REQUEST_ID.reset(token)


async def transaction_as(deps: Dependencies, actor: Actor | None, work: Work[R]) -> R:
    """:func:`~customers_hub.application.context.transaction` with ``actor`` as the write's
    author (what the audit trail records)."""
    with acting_as(actor):
        return await transaction(deps, work)

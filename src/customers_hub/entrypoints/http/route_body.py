"""Route handlers made by a factory, whose request body type is a value (:func:`with_body`).

Handlers of the same shape that differ only in their body type, command and use case (the bulk
operations, the state moves of an action) are made by one factory each. Litestar reads a
handler's parameters from its signature and their types from its annotations, so the factory's
inner function declares ``data: Any = None`` and :func:`with_body` gives it the real type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import NoneType
from typing import Any, TypeVar, get_args, get_type_hints

from litestar import post
from litestar.handlers import HTTPRouteHandler

from customers_hub.entrypoints.http.errors import error_responses

__all__ = ["body_class", "post_route", "with_body"]

_F = TypeVar("_F", bound=Callable[..., Any])


def body_class(body: Any) -> Any:
    """The class of a body type: ``T`` of ``T`` or of ``T | None``."""
    members = [t for t in get_args(body) if t is not NoneType]
    return members[0] if members else body


def with_body(handler: _F, body: Any, *, name: str, doc: str) -> _F:
    """``handler`` (with a ``data`` parameter) named ``name``, described by ``doc``, taking a
    body of type ``body``: ``T`` a required body, ``T | None`` an optional one (``data`` None
    when absent), None no body (the ``data`` parameter is dropped from what Litestar sees)."""
    hints = get_type_hints(handler, include_extras=True)
    parameters = []
    for parameter in inspect.signature(handler).parameters.values():
        if parameter.name != "data":
            parameters.append(parameter.replace(annotation=hints[parameter.name]))
        elif body is not None:
            optional = NoneType in get_args(body)
            default = None if optional else inspect.Parameter.empty
            parameters.append(parameter.replace(annotation=body, default=default))
    if body is None:
        del hints["data"]
    else:
        hints["data"] = body
    handler.__annotations__ = hints
    handler.__signature__ = inspect.signature(handler).replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", Any)
    )
    handler.__doc__ = doc
    handler.__name__ = handler.__qualname__ = name
    return handler


def post_route(
    handler: Callable[..., Any],
    body: Any,
    *,
    path: str,
    operation_id: str,
    summary: str,
    doc: str,
    errors: tuple[int, ...],
) -> HTTPRouteHandler:
    """``POST path`` run by ``handler`` (its body typed by :func:`with_body`), answering 200,
    documented as ``operation_id`` with ``summary``, ``doc`` and the ``errors`` it may answer."""
    return post(
        path,
        operation_id=operation_id,
        summary=summary,
        status_code=200,
        responses=error_responses(*errors),
    )(with_body(handler, body, name=operation_id, doc=doc))

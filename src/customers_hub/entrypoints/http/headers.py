"""Headers read straight from the ASGI scope and messages.

The middleware, the authentication and the cached hit path read one or two headers of every
request: a scan of the scope's raw ``(name, value)`` pairs costs less than Litestar's parsed
``Headers`` (built from all of them) and needs no ``Request`` object.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.types import Scope

__all__ = ["header_value", "scope_header"]


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of the header ``name`` (lower-case bytes) among raw ASGI ``headers``
    (a request's or a response's), or None."""
    for key, value in headers:
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lower-case bytes) in ``scope``."""
    return header_value(scope.get("headers", ()), name)

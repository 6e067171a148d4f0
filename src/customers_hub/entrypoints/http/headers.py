"""Request headers read straight from the ASGI scope.

The middleware, the authentication and the cached hit path read one or two headers of every
request: a scan of the scope's raw ``(name, value)`` pairs costs less than Litestar's parsed
``Headers`` (built from all of them) and needs no ``Request`` object.
"""

from __future__ import annotations

from litestar.types import Scope

__all__ = ["scope_header"]


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower-case bytes) in ``scope``, or None."""
    for key, value in scope.get("headers", ()):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None

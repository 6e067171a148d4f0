"""The app's own dependencies (``deps``, ``hub``, ``actor``) handed to handlers directly.

Litestar resolves a handler's dependencies per request through its ``Provide`` machinery: each
provider's signature model parses its arguments, and a batch of more than one provider runs in an
anyio task group (a task per provider). With every handler asking for two or three of the app's
dependencies, that was 13 % of the CPU of a cached list request (``docs/benchmarks.md``) — for
values that are constants (``deps``, ``hub``) or already verified by the authentication
middleware (``actor``, kept in the scope state).

:func:`inject_directly` replaces, once the app is built, the dependency step of every HTTP
handler whose dependencies are only those the app declares: the values are put into the
handler's arguments in one plain call, in the same order of events (after the query and path
parameters are parsed, before the handler's signature model validates them). A handler with a
dependency of its own (a ``Provide`` of a controller or router) keeps Litestar's resolution.
The ``Provide`` entries stay declared, so the OpenAPI document and WebSocket handlers are
unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Litestar, Request
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.routes import HTTPRoute

__all__ = ["DirectDependencies", "Provider", "inject_directly"]

Provider = Callable[[Request[Any, Any, Any]], Awaitable[Any]]
"""Gives one dependency's value for a request."""


class DirectDependencies:
    """A handler's :class:`KwargsModel` whose dependencies are filled by ``providers`` in one
    call, without Litestar's per-provider signature parsing and task group.

    Everything else (parsing the query, path, headers and body) is the wrapped model's.
    """

    __slots__ = ("_model", "_providers", "dependency_batches", "has_kwargs", "to_kwargs")

    def __init__(self, model: KwargsModel, providers: tuple[tuple[str, Provider], ...]) -> None:
        self._model = model
        self._providers = providers
        # What Litestar's HTTPRoute reads of the model on every request.
        self.has_kwargs = model.has_kwargs
        self.dependency_batches = model.dependency_batches
        self.to_kwargs = model.to_kwargs

    async def resolve_dependencies(
        self, connection: Request[Any, Any, Any], kwargs: dict[str, Any]
    ) -> DependencyCleanupGroup:
        """Put each dependency's value into ``kwargs``; nothing to clean up afterwards."""
        for key, provide in self._providers:
            kwargs[key] = await provide(connection)
        return DependencyCleanupGroup()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _app_level(app: Litestar, model: KwargsModel, providers: Mapping[str, Provider]) -> bool:
    # Every dependency is one of the app's own Provide (the same object: not a controller's or
    # router's dependency of the same name) that ``providers`` gives.
    dependencies = [d for batch in model.dependency_batches for d in batch]
    return bool(dependencies) and all(
        d.key in providers and app.dependencies.get(d.key) is d.provide for d in dependencies
    )


def inject_directly(app: Litestar, providers: Mapping[str, Provider]) -> int:
    """Give every HTTP handler of ``app`` whose dependencies are all app-level ones that
    ``providers`` gives (by name) a :class:`DirectDependencies`; returns how many were changed.

    Call once, after the app is built (the routes' handler maps are final then).
    """
    changed = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, model) in list(route.route_handler_map.items()):
            if isinstance(model, DirectDependencies):
                continue
            if not _app_level(app, model, providers):
                continue  # none, or one of the handler's own: Litestar resolves them
            # The app's providers depend on no other dependency: any order gives the same.
            keys = sorted({d.key for batch in model.dependency_batches for d in batch})
            chosen = tuple((key, providers[key]) for key in keys)
            route.route_handler_map[method] = (handler, DirectDependencies(model, chosen))  # type: ignore[assignment]
            changed += 1
    return changed

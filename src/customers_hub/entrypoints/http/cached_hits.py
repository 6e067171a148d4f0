"""The cached hit path: a GET that was answered from the application cache before is answered
again without parsing its parameters and running its handler.

A cached GET view (the customers list, filter options …) spends most of a cache hit's Python
before the lookup: Litestar parses and validates the query (the list has 28 parameters), the
handler builds its parameters, plans the read and hashes the plan into the cache key. The
remembered key is the key of a *plan*:

* :func:`~.cached_read.cached_read` tells :class:`CachedHits` the key of the plan it read and the
  view's ``max-age`` (:meth:`CachedHits.remember`) — only for a plan made synchronously (a
  plan with the organization's day needed a read to be made: it is never remembered);
* the next request of that caller to the same handler and path with an equal query string is
  answered by the handler's ``before_request`` hook (:meth:`CachedHits.before_request`): the
  lookup of the remembered key and the same response (:func:`~.caching.cached_response`:
  envelope, ``ETag``, ``Cache-Control``, ``304``) that the handler would return, handed to
  Litestar in its place. On a miss (an invalidated or expired entry) the handler runs as always:
  plans, reads, stores and remembers again.

Why no check runs here. A read plan (:mod:`customers_hub.application.read_plans`) is a pure
function of the handler's inputs — the path, the query and the caller — and it holds every
access decision of the read (role, token, the read's own rules, the scope). What is remembered
is the key of a plan that was made, hence allowed, for this very alias: (handler, path,
:class:`Actor`, normalized query). The actor is immutable and compared whole (user, organization,
role, permissions, name, email), so another role, another token's permissions or another
organization is another alias, which goes through the handler and is planned. An equal alias
would make an equal plan, so its decision holds: checking again would decide the same thing.
What the plan cannot see (a record's scope, read from storage) is not decided by a remembered
plan's read: such reads are not cached views. The memory lives in this process only: code
that plans differently (a new check) starts with nothing remembered.

Everything around the handler still runs for every request: the middleware (request id, the log
line, metrics, rate limits, authentication, ``calendar``), compression and Litestar's response
path. Equal query strings: Litestar's own parsing of the query (``&``-separated, ``+`` and
``%XX`` decoded, blank values kept), then sorted by parameter name only — parameters of
different names are independent, and the values of one name keep their order (``stage=a&stage=b``
is not ``stage=b&stage=a``).

Only GET handlers whose inputs are the path, the query and ``If-None-Match`` take part
(:func:`wire_cached_hits`): no body, cookies, other headers, or the raw request, and no
dependency but the app's own. ``cached_read`` must be the handler's answer as it returns it
(``return await cached_read(…)``; a unit test checks every call site).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, Final
from urllib.parse import parse_qsl

from attrs import define, frozen
from litestar import Litestar, Request, Response
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from customers_hub.adapters.metrics import record_cache_lookup
from customers_hub.application.caching import Cache, CacheKey
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.auth import checked_actor
from customers_hub.entrypoints.http.caching import CachedBody
from customers_hub.entrypoints.http.envelope import current_context
from customers_hub.entrypoints.http.headers import scope_header
from customers_hub.entrypoints.http.injection import DirectDependencies

__all__ = ["BODIES_KEPT", "KEYS_KEPT", "CachedHits", "normalized_query", "wire_cached_hits"]

KEYS_KEPT: Final = 10_000
"""How many requests' keys one app remembers (all forgotten when full)."""
BODIES_KEPT: Final = 64
"""How many entries' decoded bodies are kept beside their stored bytes (the oldest dropped):
an in-process cache returns the very bytes it stored, which then need no decoding again."""

_IF_NONE_MATCH: Final = "if-none-match"
_IF_NONE_MATCH_KEY: Final = _IF_NONE_MATCH.encode("latin-1")
# Handler parameters that reach past the path, the query and If-None-Match: not taken part.
_OPAQUE_PARAMETERS: Final = frozenset(
    {"request", "scope", "headers", "cookies", "state", "socket", "body", "data", "receive"}
)

Hook = Callable[[Request[Any, Any, Any]], Awaitable[Any]]
Alias = tuple[object, ...]


@frozen
class _Known:
    """What the handler read for a request: its plan's key and the view's max-age."""

    cache: Cache
    key: CacheKey
    max_age: float


@define
class _Pending:
    """The hook's note to ``cached_read`` in this request: the request's alias."""

    hits: CachedHits
    alias: Alias
    used: bool = False


@lru_cache(maxsize=4096)
def normalized_query(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """The query's ``(name, value)`` pairs as Litestar parses them, sorted by name only (the
    values of one name keep their order)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, separator="&")
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


class CachedHits:
    """The keys of an app's cached GET views, by request (see the module docstring)."""

    def __init__(self, *, kept: int = KEYS_KEPT) -> None:
        self._kept = kept
        self._known: dict[Alias, _Known] = {}
        self._bodies: dict[Alias, tuple[bytes, CachedBody]] = {}

    def __len__(self) -> int:
        """Requests remembered now."""
        return len(self._known)

    def hook(self, original: Hook | None) -> Hook:
        """A ``before_request`` hook: ``original`` (the handler's own, e.g. the strict body
        decoding) first, then the cached answer when there is one."""

        async def before_request(request: Request[Any, Any, Any]) -> Any:
            if original is not None:
                answered = await original(request)
                if answered:
                    return answered
            return await self.answer(request)

        return before_request

    async def answer(self, request: Request[Any, Any, Any]) -> Response[Any] | None:
        """The handler's response from the cache for a request seen before, or None (the
        handler then runs, and ``cached_read`` remembers what it read)."""
        scope = request.scope
        actor = checked_actor(scope)
        if actor is None:  # not through the authentication middleware: nothing to reuse
            return None
        alias: Alias = (
            scope.get("route_handler"),
            scope["path"],
            actor,
            normalized_query(scope.get("query_string", b"")),
        )
        known = self._known.get(alias)
        if known is not None:
            # No check: the alias made and passed this key's plan (module docstring).
            lookup = await known.cache.get(known.key)
            if lookup.value is not None:
                body = self._body(alias, lookup.value)
                if body is not None:
                    record_cache_lookup(known.key.name, hit=True)
                    return caching.cached_response(
                        body,
                        # The first value, as Litestar hands the handler's header parameter.
                        if_none_match=scope_header(scope, _IF_NONE_MATCH_KEY),
                        max_age=known.max_age,
                    )
        current_context(request).pending_hit = _Pending(self, alias)
        return None

    def _body(self, alias: Alias, raw: bytes) -> CachedBody | None:
        # The same bytes object as last time (an in-process cache): the same body.
        kept = self._bodies.get(alias)
        if kept is not None and kept[0] is raw:
            return kept[1]
        try:
            body = CachedBody.from_bytes(raw)
        except ValueError:
            return None  # another release's entry: the handler loads it again
        if len(self._bodies) >= BODIES_KEPT:
            del self._bodies[next(iter(self._bodies))]
        self._bodies[alias] = (raw, body)
        return body

    def _store(self, alias: Alias, known: _Known) -> None:
        if len(self._known) >= self._kept:
            self._known.clear()
            self._bodies.clear()
        self._known[alias] = known

    def _forget(self, alias: Alias) -> None:
        self._known.pop(alias, None)
        self._bodies.pop(alias, None)

    @staticmethod
    def remember(cache: Cache, key: CacheKey, max_age: float) -> None:
        """Called by ``cached_read`` once it has the response of a GET view: remember the key
        of the request's plan for the current request, when its handler takes part. A second
        cached read in one request forgets it again (the answer would not be one view's)."""
        pending = current_context().pending_hit
        if not isinstance(pending, _Pending):
            return
        if pending.used:
            pending.hits._forget(pending.alias)
            return
        pending.used = True
        pending.hits._store(pending.alias, _Known(cache, key, max_age))


def _takes_part(handler: HTTPRouteHandler, model: object) -> bool:
    # Inputs the alias covers: path, query, If-None-Match, the app's own dependencies.
    if not isinstance(model, DirectDependencies):
        return False
    if model.expected_cookie_params or model.expected_form_data is not None:
        return False
    if model.expected_msgpack_data is not None or model.expected_data_dto is not None:
        return False
    if any(p.field_alias.lower() != _IF_NONE_MATCH for p in model.expected_header_params):
        return False
    parameters = inspect.signature(handler.fn).parameters
    return not (_OPAQUE_PARAMETERS & set(parameters))


def wire_cached_hits(app: Litestar, hits: CachedHits) -> int:
    """Give every GET handler of ``app`` that takes part :meth:`CachedHits.hook` as its
    ``before_request``; returns how many. Call once, after :func:`.injection.inject_directly`
    (it recognizes the handlers whose dependencies are only the app's)."""
    wired = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        entry = route.route_handler_map.get("GET")
        if entry is None:
            continue
        handler, model = entry
        if not _takes_part(handler, model):
            continue
        # The hook Litestar would resolve: the nearest layer's (handler, controller, router, app).
        hooks = [layer.before_request for layer in handler.ownership_layers if layer.before_request]
        handler.before_request = hits.hook(hooks[-1] if hooks else None)
        wired += 1
    return wired

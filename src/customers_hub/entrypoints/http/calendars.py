"""``calendar=hijri``: Hijri twins of the dates of every JSON GET, and Hijri date filters.

One step at the edge (:class:`CalendarMiddleware`), so no controller knows about calendars:

* **Plain path untouched.** A request whose query string does not hold ``calendar`` (or that
  says ``calendar=gregorian``) goes straight on: one substring test, nothing decoded.
* **The parameter.** ``calendar`` of a GET is ``gregorian`` (default) or ``hijri``; anything
  else (an empty value too) is a 400 ``VALIDATION_ERROR`` naming ``calendar``, after
  authentication. Other methods do not read it.
* **Filters** (:data:`DATE_QUERY_PARAMETERS`: ``createdFrom``, ``dateTo``, …): with
  ``calendar=hijri`` a ``YYYY-MM-DD`` value is a Hijri date, rewritten in the query string to
  the Gregorian local day it names before the handler reads it; an ISO-8601 datetime is an
  instant and is left as it is; an impossible Hijri date is a 400 naming the parameter (every
  bad one at once). Dates inside the JSON ``filters`` parameter stay Gregorian.
* **Twins.** The handler runs as usual (its cache entry and ETag stay the Gregorian ones); its
  ``200`` JSON body is decoded, every key of :func:`date_keys` (the date and datetime fields of
  the HTTP wire Structs) at any depth of ``data`` gets a ``<key>Hijri`` twin right after it —
  the Umm al-Qura date of the day (for a datetime, of the organization's local day), ``null``
  when the value is null or outside 1343–1500 AH — and the body is encoded again.
* **ETags.** The Hijri variant's ETag is the Gregorian one with ``-hijri-<hash of the Hijri
  data>`` inside the quotes, so the two representations never share a tag while ``If-Match``
  still reads the version of ``"v3-hijri-…"``. ``If-None-Match`` is answered here, against the
  Hijri tag (the handler does not see it), with the same ``304`` the plain path gives.
* **Compression.** The handler's response is taken uncompressed and compressed after the
  twins are added, with the app's own compression settings.

:func:`document_calendar` declares the parameter on the GET operations and the twins in the
response schemas of the OpenAPI document.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Any, Final
from urllib.parse import quote, unquote_plus

import msgspec
from attrs import define, field
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Empty, HTTPResponseStartEvent, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from customers_hub.application.context import Dependencies
from customers_hub.domain.errors import FieldError, UnprocessableInput, ValidationFailed
from customers_hub.domain.hijri import HIJRI_PATTERN, from_hijri, hijri_of_instant, to_hijri
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.auth import ACTOR_STATE_KEY
from customers_hub.entrypoints.http.caching import etag_matches
from customers_hub.entrypoints.http.errors import handle_exception
from customers_hub.entrypoints.http.headers import header_value, scope_header
from customers_hub.entrypoints.http.middleware import PUBLIC_ROUTES
from customers_hub.entrypoints.http.wire import API_PREFIX

__all__ = [
    "CALENDARS",
    "CALENDAR_PARAMETER",
    "DATE_QUERY_PARAMETERS",
    "HIJRI_SUFFIX",
    "CalendarMiddleware",
    "ZoneOf",
    "add_twins",
    "date_keys",
    "document_calendar",
    "hijri_etag",
    "hijri_query",
    "settings_zone",
]

CALENDAR_PARAMETER: Final = "calendar"
CALENDARS: Final = ("gregorian", "hijri")
"""Values of ``calendar``; the first is the default."""

HIJRI_SUFFIX: Final = "Hijri"
"""A twin's key: the date field's key followed by this (``createdAt`` → ``createdAtHijri``)."""

DATE_QUERY_PARAMETERS: Final = frozenset(
    {"createdFrom", "createdTo", "lastContactFrom", "lastContactTo", "dateFrom", "dateTo"}
    | {"from", "to"}  # the employee calendar's range (controllers/calendar.py)
)
"""The query parameters that take a date (a local day) or a datetime: customer list and export
filters, customer and action statistics windows, the employee calendar's range."""

ETAG_MARK: Final = "-hijri-"
"""What a Hijri variant's ETag holds between the Gregorian tag and the hash of its data."""

ZoneOf = Callable[[Scope], Awaitable[tzinfo]]
"""The organization's time zone for a request (the one "today" is computed in)."""


def settings_zone(deps: Callable[[], Dependencies]) -> ZoneOf:
    """The caller's organization's time zone (rules §9, :meth:`Dependencies.zone_of`) for every
    request: the zone "today" is computed in. Before authentication named a caller (public
    routes), the deployment's default."""

    async def zone(scope: Scope) -> tzinfo:
        actor = scope.get("state", {}).get(ACTOR_STATE_KEY)
        if isinstance(actor, Actor):
            return await deps().zone_of(actor.organization_id)
        return deps().settings.time_zone

    return zone


_WIRE_PACKAGE: Final = "customers_hub.entrypoints.http"
_NEEDLE: Final = CALENDAR_PARAMETER.encode()
_STRIPPED: Final = frozenset({b"accept-encoding", b"if-none-match"})
_DROPPED_ON_304: Final = frozenset({b"content-type", b"content-length", b"content-encoding"})
_JSON: Final = (b"application/json", b"application/vnd.api+json")
_CONTAINERS: Final = frozenset({dict, list})  # what decoded JSON nests
_decoder: Final = msgspec.json.Decoder()
_encoder: Final = msgspec.json.Encoder()


# ---------------------------------------------------------------------------------------------
# Which keys are dates


def _subclasses(cls: type) -> Iterator[type]:
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _subclasses(sub)


def _holds_date(node: msgspec.inspect.Type) -> bool:
    if isinstance(node, msgspec.inspect.DateType | msgspec.inspect.DateTimeType):
        return True
    if isinstance(node, msgspec.inspect.UnionType):
        return any(_holds_date(member) for member in node.types)
    if isinstance(node, msgspec.inspect.ListType | msgspec.inspect.TupleType):
        items = getattr(node, "item_type", None)
        return items is not None and _holds_date(items)
    return False


def date_keys(structs: Iterable[type[msgspec.Struct]] | None = None) -> frozenset[str]:
    """The JSON keys of the date and datetime fields (or lists of them) of ``structs`` —
    by default every msgspec Struct defined under ``customers_hub.entrypoints.http`` (the wire
    package, ``wire_actions`` and the controllers' own Structs), computed once. Nested Structs
    are visited through their own class, so a field typed as another Struct adds nothing."""
    if structs is None:
        return _wire_date_keys()
    keys: set[str] = set()
    for info in msgspec.inspect.multi_type_info(list(structs)):
        if isinstance(info, msgspec.inspect.StructType):
            keys.update(f.encode_name for f in info.fields if _holds_date(f.type))
    return frozenset(keys)


@cache
def _wire_date_keys() -> frozenset[str]:
    # Once per process (the middleware is built once per route): the controllers are imported.
    return date_keys(
        cls
        for cls in _subclasses(msgspec.Struct)
        if cls.__module__.startswith(_WIRE_PACKAGE) and not getattr(cls, "__parameters__", ())
    )


# ---------------------------------------------------------------------------------------------
# Twins


def _twin_of(value: str, zone: tzinfo) -> str | msgspec.UnsetType | None:
    try:
        if len(value) == 10:
            return to_hijri(date.fromisoformat(value))
        return hijri_of_instant(datetime.fromisoformat(value), zone)
    except ValueError:
        return msgspec.UNSET  # not a date after all: no twin


def _twin(value: Any, zone: tzinfo) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return _twin_of(value, zone)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        twins = [_twin_of(item, zone) for item in value]
        return msgspec.UNSET if msgspec.UNSET in twins else twins
    return msgspec.UNSET


def add_twins(node: Any, keys: frozenset[str], zone: tzinfo) -> Any:
    """``node`` (decoded JSON) with a ``<key>Hijri`` twin after every key of ``keys`` whose
    value is a date, a datetime (dated by its local day in ``zone``), a list of them or null,
    at any depth. A key that already has its twin, or whose value is not a date, is left.

    Decoded JSON is ours to change: lists and objects without a date key are updated in place
    (a page of customers is tens of thousands of values; only containers are visited)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            if type(item) in _CONTAINERS:  # leaves are most of a body: skip them fast
                node[index] = add_twins(item, keys, zone)
        return node
    if not isinstance(node, dict):
        return node
    for key, value in node.items():
        if type(value) in _CONTAINERS:
            node[key] = add_twins(value, keys, zone)  # same keys: safe while iterating
    if keys.isdisjoint(node):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        result[key] = value
        twin_key = key + HIJRI_SUFFIX
        if key in keys and twin_key not in node:
            twin = _twin(value, zone)
            if twin is not msgspec.UNSET:
                result[twin_key] = twin
    return result


def hijri_etag(etag: str, data: bytes) -> str:
    """The ETag of the Hijri variant of a response tagged ``etag`` whose ``data`` JSON (with
    the twins) is ``data``: ``"v3"`` → ``"v3-hijri-<hash>"`` (a weak tag stays weak)."""
    text = etag.strip()
    weak = text.startswith("W/")
    opaque = (text[2:] if weak else text).strip('"')
    digest = hashlib.blake2b(data, digest_size=8).hexdigest()
    return f'{"W/" if weak else ""}"{opaque}{ETAG_MARK}{digest}"'


# ---------------------------------------------------------------------------------------------
# The query string


def _pairs(query: bytes) -> list[tuple[str, bytes]]:
    pairs: list[tuple[str, bytes]] = []
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        pairs.append((unquote_plus(name.decode("latin-1")), value))
    return pairs


def _calendar(query: bytes) -> str | None:
    """The ``calendar`` asked for (None when absent); 400 unless one of :data:`CALENDARS`."""
    values = [
        unquote_plus(value.decode("latin-1"))
        for name, value in _pairs(query)
        if name == CALENDAR_PARAMETER
    ]
    if not values:
        return None
    if len(set(values)) != 1 or values[0] not in CALENDARS:
        raise ValidationFailed.single(CALENDAR_PARAMETER, f"must be one of {', '.join(CALENDARS)}")
    return values[0]


def hijri_query(query: bytes) -> bytes:
    """``query`` with the ``YYYY-MM-DD`` values of :data:`DATE_QUERY_PARAMETERS` read as Hijri
    dates and replaced by their Gregorian days; other parts are kept byte for byte. Raises
    :class:`ValidationFailed` naming every parameter whose Hijri date does not exist."""
    errors: list[FieldError] = []
    unusable: list[FieldError] = []  # a day the document's date pattern takes: 422
    parts: list[bytes] = []
    for part in query.split(b"&"):
        raw_name, equals, raw_value = part.partition(b"=")
        name = unquote_plus(raw_name.decode("latin-1"))
        value = unquote_plus(raw_value.decode("latin-1")).strip()
        if name in DATE_QUERY_PARAMETERS and len(value) == 10:  # a day, not an instant
            try:
                day = from_hijri(value, name)
            except ValidationFailed as bad:
                (unusable if _DOCUMENTED_DAY.match(value) else errors).extend(bad.errors)
            else:
                part = raw_name + equals + quote(day.isoformat()).encode()
        parts.append(part)
    if errors:
        raise ValidationFailed([*errors, *unusable])
    if unusable:
        # The shape the document states, but no Umm al-Qura day (a year past 1500): only the
        # calendar parameter makes it wrong, which no schema of the parameter can say.
        raise UnprocessableInput(unusable)
    return b"&".join(parts)


_DOCUMENTED_DAY: Final = re.compile(r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")
"""A day as the OpenAPI document's date-filter pattern takes it (days 1–28 of any month)."""


# ---------------------------------------------------------------------------------------------
# The middleware


class CalendarMiddleware:
    """ASGI middleware of ``calendar``; see the module docstring.

    Installed by ``create_app`` after authentication (a bad token is a 401 before a bad
    ``calendar`` is a 400), just outside Litestar's compression. ``zone`` gives the time zone
    of a request's organization.
    """

    def __init__(self, app: ASGIApp, *, zone: ZoneOf) -> None:
        self.app = app
        self.zone = zone
        self.keys = date_keys()  # every controller is imported when the app is built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"")
        if (
            _NEEDLE not in query  # the plain path: nothing more than this test
            or scope["type"] != ScopeType.HTTP
            or scope["method"] != "GET"  # HEAD runs as GET (middleware.HttpMethods)
            or scope.get("path_template") in PUBLIC_ROUTES
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        try:
            hijri = _calendar(query) == "hijri"
            rewritten = hijri_query(query) if hijri else query
        except ValidationFailed as refused:
            await self._refuse(scope, receive, send, refused)
            return
        if hijri:
            await self._hijri(scope, receive, send, rewritten)
        else:
            await self.app(scope, receive, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, refused: ValidationFailed
    ) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        response = handle_exception(request, refused)
        handler = scope.get("route_handler")
        encoders = handler.resolve_type_encoders() if handler is not None else None
        answer = response.to_asgi_response(app=None, request=request, type_encoders=encoders)
        await answer(scope, receive, send)

    async def _hijri(self, scope: Scope, receive: Receive, send: Send, query: bytes) -> None:
        original = copy.copy(scope)  # the client's headers: compression reads Accept-Encoding
        if_none_match = scope_header(scope, b"if-none-match")
        zone = await self.zone(scope)

        async def handler(_: Scope, receive: Receive, out: Send) -> None:
            # The handler sees the Gregorian query, no If-None-Match (answered here, against
            # the Hijri tag) and no Accept-Encoding (the body is compressed after the twins).
            scope["query_string"] = query
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() not in _STRIPPED]
            # Litestar caches what it parsed of a scope in the state both copies share (the
            # authentication and the compression read the headers already): parse again.
            state = ScopeState.from_scope(scope)
            state.headers = state.parsed_query = state.url = state.accept = Empty
            await self.app(scope, receive, _TwinSender(out, self.keys, zone, if_none_match))

        compression = getattr(scope.get("app"), "compression_config", None)
        if compression is None:
            await handler(original, receive, send)
        else:
            await CompressionMiddleware(handler, compression)(original, receive, send)


@define(eq=False)
class _TwinSender:
    """The ``send`` of a Hijri request: a 200 JSON answer is held, twinned, re-tagged and sent
    (or answered ``304``); anything else goes through as it comes."""

    send: Send
    keys: frozenset[str]
    zone: tzinfo
    if_none_match: str | None
    start: HTTPResponseStartEvent | None = field(default=None, init=False)
    chunks: list[bytes] = field(factory=list, init=False)

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {bytes(k).lower(): bytes(v) for k, v in message.get("headers", ())}
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
            if message["status"] == 200 and content_type in _JSON:
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._answer(self.start, b"".join(self.chunks))
            return
        await self.send(message)

    async def _answer(self, start: HTTPResponseStartEvent, body: bytes) -> None:
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", ())]
        status = start["status"]
        try:
            document = _decoder.decode(body)
        except msgspec.DecodeError:
            document = None
        if isinstance(document, dict) and "data" in document:
            document["data"] = add_twins(document["data"], self.keys, self.zone)
            body = _encoder.encode(document)
            etag = header_value(headers, b"etag")
            if etag is not None:
                etag = hijri_etag(etag, _encoder.encode(document["data"]))
                headers = _put(headers, b"etag", etag)
                if etag_matches(self.if_none_match, etag):
                    status, body = 304, b""
                    headers = [(k, v) for k, v in headers if k.lower() not in _DROPPED_ON_304]
            if status != 304:
                headers = _put(headers, b"content-length", str(len(body)))
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body, "more_body": False})


def _put(headers: list[tuple[bytes, bytes]], name: bytes, value: str) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != name]
    return [*kept, (name, value.encode("latin-1"))]


# ---------------------------------------------------------------------------------------------
# The OpenAPI document


_PARAMETER_DESCRIPTION: Final = (
    "`hijri` adds, next to every date or date-time field of the response (at any depth), a "
    "twin `<field>Hijri` with its Umm al-Qura date `YYYY-MM-DD` (a date-time is dated by the "
    "organization's local day; `null` outside 1343–1500 AH), and reads the `YYYY-MM-DD` values "
    "of the date filters (`createdFrom`, `dateTo`, …) as Hijri dates. `gregorian` (default): "
    "the plain response."
)


def _twin_schema(key: str) -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "pattern": HIJRI_PATTERN}, {"type": "null"}],
        "description": f"`{key}` as an Umm al-Qura (Hijri) date; only with `calendar=hijri`",
    }


def _twin_list_schema(key: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"anyOf": [{"type": "string", "pattern": HIJRI_PATTERN}, {"type": "null"}]},
        "description": f"`{key}` as Umm al-Qura (Hijri) dates; only with `calendar=hijri`",
    }


def _is_list(schema: Mapping[str, Any]) -> bool:
    alternatives = [schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return any(isinstance(a, Mapping) and a.get("type") == "array" for a in alternatives)


def document_calendar(
    schema: dict[str, Any], shown: Iterable[str], keys: frozenset[str] | None = None
) -> None:
    """Declare ``calendar`` on every GET operation of the API that answers JSON or takes a date
    filter, and the twins of ``keys`` (default :func:`date_keys`) as optional properties of the
    components responses hold (``shown``; some forbid additional properties)."""
    keys = date_keys() if keys is None else keys
    components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    for path, item in schema.get("paths", {}).items():
        operation = item.get("get")
        if not path.startswith(API_PREFIX) or not isinstance(operation, dict):
            continue
        parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
        names = {p.get("name") for p in parameters if p.get("in") == "query"}
        ok = operation.get("responses", {}).get("200", {}).get("content", {})
        if "application/json" not in ok and not names & DATE_QUERY_PARAMETERS:
            continue  # a file download: nothing to twin, nothing to filter
        if CALENDAR_PARAMETER not in names:
            parameters.append(
                {
                    "name": CALENDAR_PARAMETER,
                    "in": "query",
                    "required": False,
                    "description": _PARAMETER_DESCRIPTION,
                    "schema": {"type": "string", "enum": list(CALENDARS), "default": CALENDARS[0]},
                }
            )
    for name in shown:
        properties = components.get(name, {}).get("properties")
        if not isinstance(properties, dict):
            continue
        for key in [k for k in properties if k in keys]:
            twin = key + HIJRI_SUFFIX
            if twin not in properties:
                make = _twin_list_schema if _is_list(properties[key]) else _twin_schema
                properties[twin] = make(key)

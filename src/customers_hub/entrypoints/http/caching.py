"""Caching at the HTTP edge: the application cache of read views, ETags and ``304``.

Application cache
-----------------
Read views are cached as the JSON of the response's ``data`` (the envelope's ``meta`` is made
per request), read through :func:`~customers_hub.application.caching.load_through` with the
key patterns and TTLs of :mod:`customers_hub.application.caching`:

* customer details — ``customer:{id}`` (+ a hash of ``include`` and of whether a deleted customer
  may be shown);
* customer lists, the advanced query and search — ``customer:list:{hash}:{page}``;
* customer statistics — ``customer:stats:{hash}:{today}``;
* filter options — ``filters:options:{scope}``;
* action statistics — ``actions:stats:{scope}[-{hash}]:{today}``;
* the employee list — ``employees:list:{hash}``.

Every key is made from a read plan (:func:`plan_key`;
:mod:`customers_hub.application.read_plans`): it lives in the plan's organization, and every
list/statistics hash folds in the plan's *scope* (``Reader.key_parts``: the role, the reach of
the operation and the employee it is relative to), so an agent's list is never an admin's, nor
another organization's. Access is decided by the plan, before the key exists (no check here);
for a customer's details the record's scope, kept in the cached entry
(:class:`CachedBody.scope`), is checked against the caller after the lookup. Entries are
invalidated by the domain events of each committed write (``bootstrap.HubEventPublisher``)
before the write's response leaves, on every instance sharing the cache.

HTTP caching
------------
GET responses carry ``ETag`` and ``Cache-Control: private, max-age=<TTL of the view>``.
Single records have the version ETag ``"v<version>"`` (the value ``If-Match`` takes; a
customer's details that include relations the version does not follow — interactions,
reminders, … — never answer 304). Lists and statistics carry a strong hash of the ``data``
JSON. ``If-None-Match`` naming the current ETag (weak comparison,
``*`` matches anything) answers ``304 Not Modified`` with no body, after the access checks.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Final

import attrs
import msgspec
from attrs import frozen
from litestar import Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.serialization import encode_json

from customers_hub.adapters.metrics import record_cache_lookup
from customers_hub.application.caching import Cache, CacheKey, CacheKeys, CacheTag, load_through
from customers_hub.application.read_plans import (
    ActionStatsPlan,
    CustomerListPlan,
    CustomerQueryPlan,
    CustomerSearchPlan,
    CustomerStatsPlan,
    EmployeeListPlan,
    FilterOptionsPlan,
    Reader,
    ReadPlan,
)
from customers_hub.domain.access import RecordScope
from customers_hub.domain.errors import ValidationFailed
from customers_hub.entrypoints.http.envelope import ok_raw

__all__ = [
    "IF_NONE_MATCH",
    "NOT_MODIFIED",
    "CachedBody",
    "action_stats_key",
    "body_etag",
    "body_of",
    "cache_control",
    "cached_response",
    "customer_details_key",
    "customer_list_key",
    "customer_stats_key",
    "employee_list_key",
    "encode_data",
    "etag_matches",
    "filter_options_key",
    "fresh_response",
    "plan_key",
    "raw_ok",
    "read_through",
]

logger = logging.getLogger(__name__)

_FORMAT: Final = 1
"""Version of the entry layout; an entry of another layout is read as a miss."""

IF_NONE_MATCH = Annotated[
    str | None,
    Parameter(
        header="If-None-Match",
        required=False,
        description="An ETag of an earlier response: 304 with no body while it is still current",
    ),
]
"""The ``If-None-Match`` header parameter of the cached GET endpoints."""

NOT_MODIFIED: Final[dict[int, ResponseSpec]] = {
    304: ResponseSpec(
        data_container=None,
        description="`If-None-Match` names the current ETag: not modified, no body",
        generate_examples=False,
    )
}
"""OpenAPI ``responses`` entry for the ``304`` of a conditional GET."""


# ---------------------------------------------------------------------------------------------
# Entries


_HEAD_ENCODER: Final = msgspec.json.Encoder()


@frozen
class CachedBody:
    """A response's ``data`` JSON, its ETag and, for a single record, the record's scope."""

    data: bytes
    etag: str
    scope: RecordScope | None = None
    restricted: bool = False
    """A restricted customer (erased, kept for its contract: rules §8): admins' alone."""

    def to_bytes(self) -> bytes:
        """One JSON line of metadata, a newline, then ``data`` as is."""
        head: dict[str, Any] = {"f": _FORMAT, "etag": self.etag}
        if self.scope is not None:
            head["scope"] = {
                "org": self.scope.organization_id,
                "ids": sorted(self.scope.assignee_ids),
                "managers": sorted(self.scope.assignee_manager_ids),
            }
        if self.restricted:
            head["restricted"] = True
        return _HEAD_ENCODER.encode(head) + b"\n" + self.data

    @classmethod
    def from_bytes(cls, raw: bytes) -> CachedBody:
        """Read back :meth:`to_bytes`; :class:`ValueError` when ``raw`` is not one."""
        head_text, newline, data = raw.partition(b"\n")
        if not newline or not data:
            raise ValueError("not a cached body")
        try:
            head = msgspec.json.decode(head_text)
            if head.get("f") != _FORMAT or not isinstance(head.get("etag"), str):
                raise ValueError("cached body of another format")
            scope = None
            if "scope" in head:
                raw_scope = head["scope"]
                scope = RecordScope(
                    str(raw_scope["org"]),
                    frozenset(str(i) for i in raw_scope["ids"]),
                    frozenset(str(i) for i in raw_scope["managers"]),
                )
        except (KeyError, TypeError, AttributeError, msgspec.DecodeError) as error:
            raise ValueError(f"not a cached body: {error}") from None
        return cls(
            data=data, etag=head["etag"], scope=scope, restricted=head.get("restricted") is True
        )


def encode_data(data: Any) -> bytes:
    """The JSON of a response's ``data``, exactly as Litestar would render it."""
    return encode_json(data)


def body_etag(data: bytes) -> str:
    """A strong ETag of a body: a 128-bit hash of its bytes, quoted."""
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def body_of(data: Any, *, etag: str | None = None, scope: RecordScope | None = None) -> CachedBody:
    """The cache entry of a response's ``data``: its JSON, ``etag`` (default: the JSON's hash)
    and the record's scope for a single record."""
    encoded = encode_data(data)
    return CachedBody(encoded, etag or body_etag(encoded), scope)


async def read_through(
    cache: Cache, key: CacheKey, load: Callable[[], Awaitable[CachedBody]]
) -> CachedBody:
    """The cached body of ``key``, or ``load()`` stored under the generations seen before it.

    ``load`` raising (not found, forbidden, bad input) stores nothing and propagates. An entry
    that cannot be read (another release wrote it) is ignored and the view loaded again.
    """
    loaded: list[CachedBody] = []

    async def load_bytes() -> bytes:
        body = await load()
        loaded.append(body)
        return body.to_bytes()

    raw = await load_through(cache, key, load_bytes)
    record_cache_lookup(key.name, hit=not loaded)  # by key family (/metrics)
    if loaded:
        return loaded[0]
    try:
        return CachedBody.from_bytes(raw)
    except ValueError:
        logger.warning("cache: unreadable entry %s ignored", key.name)
        return await load()


# ---------------------------------------------------------------------------------------------
# Access and keys


# Keys and fields sorted, sets as sorted lists, attrs objects and Structs by their fields,
# unknown types through ``str``: the same request gives the same key on every instance.
_KEY_ENCODER: Final = msgspec.json.Encoder(enc_hook=str, order="sorted")


def _hash(*parts: Any) -> str:
    # One msgspec pass over the parameters (attrs.asdict + json.dumps took ten times as long:
    # 4 % of a cached list request).
    return hashlib.sha256(_KEY_ENCODER.encode(parts)).hexdigest()[:24]


def customer_details_key(
    organization_id: str, customer_id: str, include: Iterable[str], show_deleted: bool
) -> CacheKey:
    """``customer:{id}`` plus a hash of the include set and of ``includeDeleted`` (admin)."""
    base = CacheKeys.customer(organization_id, customer_id)
    variant = _hash(sorted(set(include)), show_deleted)[:12]
    return attrs.evolve(base, name=f"{base.name}:{variant}")


def customer_list_key(reader: Reader, kind: str, params: Any, page: int | str) -> CacheKey:
    """``customer:list:{hash}:{page}`` of a list (``kind`` ``list``), the advanced query
    (``query``) or a search (``search``); ``params`` is the whole request (an attrs object, a
    Struct or a mapping)."""
    digest = _hash(kind, params, reader.key_parts())
    return CacheKeys.customer_list(reader.organization_id, digest, page)


def customer_stats_key(reader: Reader, params: Mapping[str, Any], day: date) -> CacheKey:
    """``customer:stats:{hash}:{day}`` of the caller's scope and query."""
    digest = _hash(params, reader.key_parts())
    return CacheKeys.customer_stats(reader.organization_id, digest, day)


def filter_options_key(reader: Reader) -> CacheKey:
    """``filters:options:{scope}`` — the options are counted over the caller's customers."""
    scope = reader.key_parts()
    return CacheKeys.filter_options(reader.organization_id, "customers-" + _hash(scope)[:16])


def action_stats_key(reader: Reader, params: Mapping[str, Any], day: date) -> CacheKey:
    """``actions:stats:{scope}[-{hash}]:{day}``: the scope is ``all`` or ``<reach>.<employee>``;
    the hash of the query is added when it has parameters. Asking for one employee's numbers
    also depends on who manages whom, so that key follows the employees too."""
    scope = reader.key_parts()
    who = scope["reach"] if not scope["employee"] else f"{scope['reach']}.{scope['employee']}"
    sent = {k: v for k, v in params.items() if v is not None}
    if sent:
        who = f"{who}-{_hash(sent, scope['role'])[:16]}"
    key = CacheKeys.action_stats(reader.organization_id, who, day)
    if sent.get("assignedTo"):
        key = attrs.evolve(key, tags=(*key.tags, CacheTag.EMPLOYEES))
    return key


def employee_list_key(reader: Reader, params: Mapping[str, Any]) -> CacheKey:
    """``employees:list:{hash}`` of the query (everyone in the organization sees the same)."""
    return CacheKeys.employee_list(reader.organization_id, _hash(params))


def plan_key(plan: ReadPlan) -> CacheKey:
    """The key of a planned read: its family, the reader's organization and scope and a digest
    of the plan's request — the same key for the same plan on every instance. Made after the
    plan, so only for a request the plan allowed."""
    reader = plan.reader
    if isinstance(plan, CustomerListPlan):
        return customer_list_key(reader, "list", plan.params, plan.mode)
    if isinstance(plan, CustomerQueryPlan):
        return customer_list_key(reader, "query", plan.body, "query")
    if isinstance(plan, CustomerSearchPlan):
        return customer_list_key(reader, "search", plan.params, "search")
    if isinstance(plan, FilterOptionsPlan):
        return filter_options_key(reader)
    if isinstance(plan, CustomerStatsPlan) and plan.today is not None:
        query = {
            "dateFrom": plan.date_from,
            "dateTo": plan.date_to,
            "groupBy": plan.group_by,
            # A manager may share an admin's scope; only the admin's body has privacyRequests.
            "privacyRequests": plan.with_privacy,
        }
        return customer_stats_key(reader, query, plan.today)
    if isinstance(plan, ActionStatsPlan) and plan.today is not None:
        sent = {"assignedTo": plan.assigned_to, "dateFrom": plan.date_from, "dateTo": plan.date_to}
        return action_stats_key(reader, sent, plan.today)
    if isinstance(plan, EmployeeListPlan):
        query = {
            "role": plan.role,
            "isActive": plan.is_active,
            "includeStats": plan.include_stats,
            # Workloads count "this month": a new local day is a new entry.
            "day": plan.today if plan.include_stats else None,
        }
        return employee_list_key(reader, query)
    raise TypeError(f"no cache key for {type(plan).__name__} (statistics need their day)")


# ---------------------------------------------------------------------------------------------
# Responses


def cache_control(max_age: float) -> str:
    """``private, max-age=<seconds>``: per user (never in a shared cache), for the view's TTL."""
    return f"private, max-age={max(0, int(max_age))}"


def _opaque(tag: str) -> str:
    text = tag.strip()
    return text[2:] if text.startswith("W/") else text


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison; ``*`` matches any)."""
    if if_none_match is None or not if_none_match.strip():
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(part) == wanted for part in if_none_match.split(","))


def raw_ok(body: CachedBody) -> Response[Any]:
    """The envelope around ``body.data`` (a POST read: no validators)."""
    return ok_raw(body.data)


def cached_response(
    body: CachedBody, *, if_none_match: str | None, max_age: float
) -> Response[Any]:
    """The envelope around ``body.data`` with ``ETag`` and ``Cache-Control`` — or ``304`` with
    no body when ``If-None-Match`` names the ETag."""
    headers = {"ETag": body.etag, "Cache-Control": cache_control(max_age)}
    if etag_matches(if_none_match, body.etag):
        return Response(content=b"", status_code=304, headers=headers)
    return ok_raw(body.data, headers=headers)


def fresh_response(
    data: Any, *, if_none_match: str | None, max_age: float, etag: str | None = None
) -> Response[Any]:
    """:func:`cached_response` for a view that is not cached: ``etag`` (default: the body's
    hash)."""
    return cached_response(body_of(data, etag=etag), if_none_match=if_none_match, max_age=max_age)


def version_etag(version: int) -> str:
    """The strong ``ETag`` of a versioned record (customer, action): ``"v<version>"``."""
    return f'"v{version}"'


def parse_if_match(raw: str | None, *, resource: str) -> int | None:
    """The version named by ``If-Match`` (None when absent or ``*``); 400 on ``If-Match``.

    Accepts ``"v3"``, ``W/"v3"``, ``v3`` and ``3``, and the ETag of a ``calendar=hijri`` read
    (``"v3-hijri-<hash>"``, :func:`~.calendars.hijri_etag`).
    """
    if raw is None or not raw.strip() or raw.strip() == "*":
        return None
    text = raw.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"').partition("-hijri-")[0]
    if text[:1] in ("v", "V"):
        text = text[1:]
    if not text.isascii() or not text.isdigit():
        raise ValidationFailed.single("If-Match", f'must be the ETag of the {resource}, like "v3"')
    return int(text)

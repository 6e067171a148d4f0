"""Request validation at the edge: the whole body at once, after the caller.

One mechanism for every endpoint, installed as the controllers' ``before_request`` hook
(:func:`decode_strictly`):

0. **No NUL in the URL.** A query or path parameter holding a NUL character (U+0000) is a 400
   naming it (:func:`refuse_nul`): no stored text holds one (texts are cleaned), SQLite refuses
   one in a statement and PostgreSQL in any text value, so it can only be a bad request.
1. **Authentication before any body is read.** Not here: the authentication middleware
   (:class:`~.middleware.AuthenticationMiddleware`) has verified the bearer token of every route
   but the public ones (401) before the hook runs, and keeps the verified ``Actor`` in the
   request's scope for the app's ``actor`` dependency (:func:`~.auth.provide_actor`).
2. **Every failing field reported at once.** The JSON body is decoded to builtins, then each
   field is converted on its own (:func:`decode_body`) against the body Struct's field type with
   ``msgspec.convert(strict=True)``: type, enum and ``msgspec.Meta`` constraint errors of every
   field (nested Structs too, ``preferences.budgetMin``) are collected instead of stopping at
   the first. A missing required field is ``is required``.
3. **Rule errors in the same 400.** When some fields failed on their type, the body Struct may
   run the domain's own validation over the fields that did parse (a ``rule_errors(today)``
   method, see :class:`RuleChecked`), so ``{"gender": "x", "priority": "y"}`` names gender,
   priority, name, phone and source in one ``VALIDATION_ERROR``.
4. **Unknown fields refused**: a key that is not a field of the Struct is a 400 naming it —
   except the read-only keys of the response shape the Struct ``echoes`` (``id``, ``stage``,
   ``createdAt`` … of the record a client echoes back), which are checked against the
   response's type (an invalid value is still a 400) and ignored. The Structs are declared with
   ``forbid_unknown_fields`` so the OpenAPI document says ``additionalProperties: false``
   (:func:`document_read_only` lists the read-only keys in it).
5. **Strict values**: dates and datetimes must be JSON strings (``"date": 0`` is refused, never
   1970-01-01), booleans ``true``/``false``, integers within 64 bits.

The decoded Struct is handed to Litestar as the request's parsed JSON, so the handler's ``data``
parameter (and the OpenAPI request body generated from it) stays as declared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import (
    Any,
    Final,
    Literal,
    Protocol,
    Union,
    get_args,
    get_origin,
    runtime_checkable,
)
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request
from litestar.utils.scope.state import ScopeState

from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.domain.naming import camel_case
from customers_hub.entrypoints.http.auth import ACTOR_STATE_KEY

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "RuleChecked",
    "StrictController",
    "body_type",
    "decode_body",
    "decode_strictly",
    "document_read_only",
    "refuse_nul",
]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_AT: Final = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_ENUM: Final = re.compile(r"^Invalid enum value ")
_NO_TYPE: Final = object()
_NUL: Final = "\x00"
_REF_TEMPLATE: Final = "#/components/schemas/{name}"


@runtime_checkable
class RuleChecked(Protocol):
    """A body Struct that can run the domain's rules over the fields that parsed.

    Called only when other fields failed on their type, so the 400 names every failing field;
    when every field parses, the use case runs the same rules itself.
    """

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's validation errors of this (partial) body, nothing raised."""
        ...


# ---------------------------------------------------------------------------------------------
# The hook


def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """A 400 naming every query and path parameter that holds a NUL character."""
    raw: bytes = request.scope.get("query_string", b"")
    named: list[str] = []
    if b"%00" in raw or b"\x00" in raw:  # the common request parses nothing here
        # The query as sent (Litestar's parsed query does not keep the order of its names).
        named = [n for n, value in parse_qsl(raw.decode("latin-1"), True) if _NUL in value]
    named += [
        camel_case(name)
        for name, value in request.path_params.items()
        if isinstance(value, str) and _NUL in value
    ]
    if named:
        raise ValidationFailed(
            [
                FieldError(n, f"{n} must not contain NUL characters (U+0000)")
                for n in dict.fromkeys(named)
            ]
        )


async def decode_strictly(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of every controller (the caller is already verified by the
    authentication middleware): NUL refused in the URL (:func:`refuse_nul`), then the body
    decoded strictly, 400 naming every failing field."""
    refuse_nul(request)
    target = body_type(request.route_handler)
    if target is None:
        return
    struct, optional = target
    raw = await request.body()
    hub = getattr(request.app.state, "hub", None)
    actor = request.scope.get("state", {}).get(ACTOR_STATE_KEY)
    if hub is None:
        today = date.today()
    elif isinstance(actor, Actor):
        today = await hub.deps.today_of(actor.organization_id)  # rules §9: the caller's org
    else:
        today = hub.deps.local_today()
    decoded = decode_body(struct, raw, optional=optional, today=today)
    # Litestar reads ``data`` from the parsed JSON: hand it the Struct already decoded.
    ScopeState.from_scope(request.scope).json = decoded


class StrictController(Controller):
    """Base of every API controller: :func:`decode_strictly` before each handler. (The caller
    is the app's ``actor`` dependency; authentication is the app's middleware, for every route
    whatever its base class.)"""

    # A plain function: Litestar calls it with the request (mypy reads it as a method).
    before_request = decode_strictly  # type: ignore[assignment]


_BODY_TYPES: dict[int, tuple[type[msgspec.Struct], bool] | None] = {}


def body_type(handler: Any) -> tuple[type[msgspec.Struct], bool] | None:
    """The JSON body Struct of ``handler``'s ``data`` parameter and whether it may be absent;
    None when the handler takes no JSON body (no ``data``, or a multipart form)."""
    key = id(handler.fn)
    if key in _BODY_TYPES:
        return _BODY_TYPES[key]
    found: tuple[type[msgspec.Struct], bool] | None = None
    parameter = handler.parsed_fn_signature.parameters.get("data")
    if parameter is not None:
        members = _members(parameter.annotation)
        structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        if len(structs) == 1:
            found = (structs[0], type(None) in members or parameter.has_default)
    _BODY_TYPES[key] = found
    return found


# ---------------------------------------------------------------------------------------------
# Decoding


def decode_body(
    struct: type[msgspec.Struct], raw: bytes, *, optional: bool = False, today: date | None = None
) -> Any:
    """``raw`` (a JSON body) as ``struct``, or one :class:`ValidationFailed` naming every
    failing field; None for an empty body when ``optional``."""
    if not raw.strip():
        if optional:
            return None
        raise ValidationFailed.single("body", "is required: send a JSON object")
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise ValidationFailed.single("body", "must be valid JSON") from None
    if value is None and optional:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed.single("body", "must be a JSON object")
    errors: list[FieldError] = []
    result = _struct(struct, _whole_numbers(value), "", errors)
    if errors:
        if isinstance(result, RuleChecked):
            failed = {e.field for e in errors}
            # One message per field: a field that failed on its type is not judged again.
            errors.extend(
                e
                for e in result.rule_errors(today or date.today())
                if e.field not in failed and not _under(e.field, failed)
            )
        raise ValidationFailed(errors)
    return result


def _whole_numbers(value: Any) -> Any:
    """``value`` with every integral float (``5.0``) as an int: JSON (and JSON Schema's
    ``integer``) does not tell ``5.0`` from ``5``, so neither does an integer field here."""
    if isinstance(value, float) and value.is_integer() and INT64_MIN <= value <= INT64_MAX:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _under(field: str, parents: Iterable[str]) -> bool:
    return any(field.startswith(f"{p}.") or field.startswith(f"{p}[") for p in parents)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _struct(
    cls: type[msgspec.Struct],
    value: Mapping[str, Any],
    path: str,
    errors: list[FieldError],
    *,
    partial: bool = False,
) -> msgspec.Struct:
    """``value`` converted field by field; failing fields keep their default (and are named in
    ``errors``), so the partial Struct can still be judged by the domain's rules.

    ``partial`` (an echoed read-only object, never read): missing keys are not reported.
    """
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    echoed = _read_only(cls)
    forbid = cls.__struct_config__.forbid_unknown_fields
    given: dict[str, Any] = {}
    for key, raw in value.items():
        info = fields.get(key)
        if info is None:
            if key in echoed:
                # Read-only: a valid value is ignored, an invalid one is still refused.
                _field(echoed[key].type, raw, _join(path, key), errors, partial=True)
            elif forbid:
                errors.append(FieldError(_join(path, key), "is not a field of this request"))
            continue
        converted = _field(info.type, raw, _join(path, key), errors, partial=partial)
        if converted is not _NO_TYPE:
            given[info.name] = converted
    for key, info in fields.items():
        if info.required and key not in value and not partial:
            errors.append(FieldError(_join(path, key), "is required"))
    try:
        return cls(**given)
    except TypeError:
        # A required field is missing (already reported): build it with placeholders so the
        # rules can still look at the rest.
        missing = {f.name: None for f in fields.values() if f.required and f.name not in given}
        return cls(**given, **missing)


def _read_only(cls: type[msgspec.Struct]) -> dict[str, Any]:
    """The read-only keys of a body (those of the response it ``echoes`` that it does not
    take), with the response's field info."""
    echoes = getattr(cls, "echoes", None)
    if echoes is None:
        return {}
    taken = {f.encode_name for f in msgspec.structs.fields(cls)}
    return {f.encode_name: f for f in msgspec.structs.fields(echoes) if f.encode_name not in taken}


def _members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union annotation (``Annotated`` metadata dropped), or the type itself."""
    origin = get_origin(annotation)
    if origin is Union or type(annotation).__name__ == "UnionType":
        return tuple(m for arg in get_args(annotation) for m in _members(arg))
    if type(annotation).__name__ == "_AnnotatedAlias":
        return _members(get_args(annotation)[0])
    return (annotation,)


def _field(
    annotation: Any, raw: Any, path: str, errors: list[FieldError], *, partial: bool = False
) -> Any:
    members = _members(annotation)
    nested = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
    if isinstance(raw, dict) and len(nested) == 1:
        # A nested object: its own fields one by one, unknown keys named with their path.
        before = len(errors)
        result = _struct(nested[0], raw, path, errors, partial=partial)
        return result if len(errors) == before else _NO_TYPE
    if raw is None and type(None) not in members:
        errors.append(FieldError(path, "must not be null"))
        return _NO_TYPE
    out_of_range = _big_int(raw, path)
    if out_of_range is not None:
        errors.append(FieldError(out_of_range, f"must be between {INT64_MIN} and {INT64_MAX}"))
        return _NO_TYPE
    try:
        return msgspec.convert(raw, annotation, strict=True)
    except msgspec.ValidationError as exc:
        errors.append(_error(str(exc), path, members))
        return _NO_TYPE


def _big_int(raw: Any, path: str) -> str | None:
    """The path of an integer beyond 64 bits inside ``raw`` (the database holds no more)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return path if not INT64_MIN <= raw <= INT64_MAX else None
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            found = _big_int(item, f"{path}[{index}]")
            if found is not None:
                return found
    if isinstance(raw, dict):
        for key, item in raw.items():
            found = _big_int(item, f"{path}.{key}")
            if found is not None:
                return found
    return None


def _error(text: str, path: str, members: Sequence[Any]) -> FieldError:
    match = _AT.match(text)
    message = match.group("message") if match else text
    suffix = (match.group("path") if match else None) or ""
    # msgspec hides dict keys as "[...]": name the field itself then.
    suffix = suffix.split("[...]", 1)[0]
    field = f"{path}{suffix}"
    if _ENUM.match(message):
        allowed = _allowed_values(members)
        if allowed:
            message = f"Must be one of: {', '.join(allowed)}"
    return FieldError(field, message)


def _allowed_values(members: Sequence[Any]) -> list[str]:
    """The values of the first enumeration (an ``Enum`` or a ``Literal``) among ``members``,
    looking into containers (``list[PropertyType]``)."""
    for member in members:
        if isinstance(member, type) and issubclass(member, Enum):
            return [str(m.value) for m in member]
        if get_origin(member) is Literal:
            return [str(v) for v in get_args(member)]
        for arg in get_args(member):
            found = _allowed_values(_members(arg))
            if found:
                return found
    return []


# ---------------------------------------------------------------------------------------------
# The OpenAPI document


def document_read_only(schema: dict[str, Any], struct: type[msgspec.Struct]) -> dict[str, Any]:
    """``schema`` (a body Struct's JSON Schema) with the read-only keys it accepts listed as
    ``readOnly`` properties of the response's type: accepted, checked, ignored — never
    unknown."""
    echoed = _read_only(struct)
    echoes = getattr(struct, "echoes", None)
    if not echoed or echoes is None:
        return schema
    _, components = msgspec.json.schema_components([echoes], ref_template=_REF_TEMPLATE)
    shapes: dict[str, Any] = components.get(echoes.__name__, {}).get("properties", {})
    properties = schema.setdefault("properties", {})
    for key in sorted(echoed):
        shape = dict(shapes.get(key, {}))
        shape.update(readOnly=True, description="Read-only: accepted, checked and ignored")
        properties.setdefault(key, shape)
    return schema

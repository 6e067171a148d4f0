"""The API-level field catalog of the read side, and the parsing of raw filter JSON against it.

A :class:`FieldCatalog` says which fields a list can be filtered and sorted on, by their camelCase
API path (``preferences.budgetMin``), what type their values have, and which operators apply.
The use cases build :class:`~customers_hub.application.queries.Condition`\\ s only from it, so a
query adapter receives nothing it does not know; the SQL adapter keeps its own column mapping and
must cover every field listed here (a test compares the two).

Operators by kind of field (``Condition`` values are always typed):

======================  ===================================================  ==================
kind                    operators                                            value type
======================  ===================================================  ==================
``id``                  ``eq ne in nin``                                     ``str`` (exact)
``text``                ``eq ne in nin contains startsWith``                 ``str`` (stripped)
``enum``                ``eq ne in nin`` (+ ``gt gte lt lte`` if ordered)    the enum member
``integer``             ``eq ne in nin gt gte lt lte``                       ``int``
``decimal``             ``eq ne in nin gt gte lt lte``                       ``Decimal``
``date``                ``eq ne in nin gt gte lt lte``                       ``date``
``datetime``            ``eq ne gt gte lt lte``                              aware UTC datetime
list-valued (``many``)  ``eq ne in nin`` = has / has not / has any / has none  the item type
======================  ===================================================  ==================

``in``/``nin`` carry a tuple of distinct values (at most :data:`MAX_IN_VALUES`). ``eq``/``ne``
with ``null`` are allowed on ``nullable`` fields only and mean "is empty" / "is set".
``stage`` and ``priority`` are *ordered* enums: ``gt``/``lt``… compare by lifecycle order and by
rank (``urgent`` > ``high`` > ``medium`` > ``low``), never by the alphabet.

``budgetMin``/``budgetMax`` (top level, not under ``preferences``) are derived fields: the
customer's budget range ``[preferences.budgetMin, preferences.budgetMax]`` (a missing end is
open) *overlaps* the asked range. ``budgetMin gte X`` — the range reaches ``X``; ``budgetMax lte
Y`` — the range starts at or below ``Y``; a customer without any budget matches neither. They take
only those operators. ``preferences.budgetMin``/``preferences.budgetMax`` are the plain values.
The actions list names its customer-side fields as its parameters do (``city``, ``state`` =
the customer's region, ``budgetMin``, ``budgetMax``, ``propertyType``).

Raw JSON values are typed here: enum values must be listed values; numbers may be JSON numbers
or numeric strings (never booleans), decimals become ``Decimal``; a ``datetime`` is ISO 8601 and
a value without a zone is read in the organization's time zone, then converted to UTC.

A **date without a time** on a ``datetime`` field means that whole local calendar day
``[start, next start)`` in the organization's time zone: ``gte d`` → from the start of ``d``;
``gt d`` → from the start of the next day (after ``d``); ``lte d`` → before the start of the next
day (up to the end of ``d``); ``lt d`` → before the start of ``d``; ``eq d`` → both bounds of the
day (two conditions). ``ne``/``in``/``nin`` do not take a bare date.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar

from attrs import field, frozen

from customers_hub.application.queries import Condition, Op, Sort
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Furnishing,
    Priority,
    PropertyType,
    Purpose,
    Timeline,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.fields import listed_fields
from customers_hub.domain.model import Customer
from customers_hub.domain.naming import camel_case

__all__ = [
    "ACTION_CATALOG",
    "CUSTOMER_CATALOG",
    "DATETIME_OPERATORS",
    "EQUALITY",
    "MAX_IN_VALUES",
    "MAX_TEXT_LENGTH",
    "ORDERING",
    "TEXT_MATCH",
    "FieldCatalog",
    "FieldSpec",
    "ValueKind",
    "day_conditions",
    "dedupe",
    "local_day_start",
    "parse_filters",
    "parse_sort",
]

_V = TypeVar("_V")

MAX_IN_VALUES: Final = 100
"""At most this many values in one ``in``/``nin`` list."""

MAX_TEXT_LENGTH: Final = 255
"""Longest text value of a filter (the longest filterable column holds 255 characters)."""


class ValueKind(StrEnum):
    """The type of a field's values."""

    ID = "id"
    TEXT = "text"
    ENUM = "enum"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"


EQUALITY: Final = frozenset({Op.EQ, Op.NE, Op.IN, Op.NIN})
"""Operators of every field."""
ORDERING: Final = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
"""Range operators of numbers, dates and datetimes."""
TEXT_MATCH: Final = frozenset({Op.CONTAINS, Op.STARTS_WITH})
"""Substring operators of text fields."""
DATETIME_OPERATORS: Final = frozenset({Op.EQ, Op.NE}) | ORDERING
"""Operators of datetime fields (an exact instant in a list makes no sense)."""

_OPERATORS: Mapping[ValueKind, frozenset[Op]] = MappingProxyType(
    {
        ValueKind.ID: EQUALITY,
        ValueKind.TEXT: EQUALITY | TEXT_MATCH,
        ValueKind.ENUM: EQUALITY,
        ValueKind.INTEGER: EQUALITY | ORDERING,
        ValueKind.DECIMAL: EQUALITY | ORDERING,
        ValueKind.DATE: EQUALITY | ORDERING,
        ValueKind.DATETIME: DATETIME_OPERATORS,
    }
)


@frozen
class FieldSpec:
    """One filterable field: its API path, value kind and what may be done with it.

    ``many`` — the field holds a list (tags, preferred areas…): ``eq``/``in`` mean "has any of",
    ``ne``/``nin`` "has none of". ``nullable`` — ``eq null``/``ne null`` are allowed.
    ``sortable`` — the field may be a sort key (each has an index ending in ``id``).
    ``ordered`` — an enum whose members have an order (range operators allowed). ``only`` —
    restricts the operators further (derived fields).
    """

    path: str
    kind: ValueKind
    enum: type[StrEnum] | None = None
    many: bool = False
    nullable: bool = False
    sortable: bool = False
    ordered: bool = False
    only: frozenset[Op] | None = None

    def __attrs_post_init__(self) -> None:
        if (self.kind is ValueKind.ENUM) != (self.enum is not None):
            raise ValueError(f"{self.path}: an enum class exactly when the kind is enum")
        if self.many and self.kind not in (ValueKind.TEXT, ValueKind.ENUM):
            raise ValueError(f"{self.path}: list-valued fields hold text or enum values")
        if self.ordered and (self.kind is not ValueKind.ENUM or self.many):
            raise ValueError(f"{self.path}: only single enum fields are ordered")

    @property
    def operators(self) -> frozenset[Op]:
        """The operators allowed on this field."""
        if self.many:
            allowed = EQUALITY
        elif self.ordered:
            allowed = EQUALITY | ORDERING
        else:
            allowed = _OPERATORS[self.kind]
        return allowed if self.only is None else allowed & self.only


@frozen
class FieldCatalog:
    """The fields of one resource, by API path, with the sort keys' aliases."""

    resource: str
    fields: Mapping[str, FieldSpec]
    sort_aliases: Mapping[str, str] = field(factory=dict)

    @classmethod
    def of(
        cls,
        resource: str,
        specs: Iterable[FieldSpec],
        sort_aliases: Mapping[str, str] | None = None,
    ) -> FieldCatalog:
        """A catalog of ``specs``; ``sort_aliases`` maps extra sort names to sortable paths."""
        by_path = {spec.path: spec for spec in specs}
        aliases = dict(sort_aliases or {})
        for alias, target in aliases.items():
            if target not in by_path or not by_path[target].sortable:
                raise ValueError(f"sort alias {alias!r} names no sortable field")
        return cls(resource, MappingProxyType(by_path), MappingProxyType(aliases))

    def get(self, path: str) -> FieldSpec | None:
        """The field at ``path``, or None."""
        return self.fields.get(path)

    def is_prefix(self, path: str) -> bool:
        """True when some field lives under ``path`` (``preferences`` for ``preferences.x``)."""
        head = path + "."
        return any(p.startswith(head) for p in self.fields)

    @property
    def sortable(self) -> tuple[str, ...]:
        """The sortable paths, in catalog order."""
        return tuple(p for p, spec in self.fields.items() if spec.sortable)

    def sort_field(self, name: str) -> str | None:
        """The sortable path that ``name`` (a path or an alias) names, or None."""
        path = self.sort_aliases.get(name, name)
        spec = self.fields.get(path)
        return path if spec is not None and spec.sortable else None


_I, _T, _E, _N, _D, _DAY, _DT = (
    ValueKind.ID,
    ValueKind.TEXT,
    ValueKind.ENUM,
    ValueKind.INTEGER,
    ValueKind.DECIMAL,
    ValueKind.DATE,
    ValueKind.DATETIME,
)

_BUDGET_FIELDS: Final = (
    FieldSpec("budgetMin", _D, only=frozenset({Op.GTE})),
    FieldSpec("budgetMax", _D, only=frozenset({Op.LTE})),
)


def _kind_of(hint: Any) -> tuple[ValueKind, type[StrEnum] | None, bool, bool]:
    """The value kind of a field's type: (kind, enum class, optional, list-valued)."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        (hint,) = args
    if typing.get_origin(hint) is tuple:
        kind, enum, _, _ = _kind_of(typing.get_args(hint)[0])
        return kind, enum, optional, True
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return ValueKind.ENUM, hint, optional, False
    # datetime before date: a datetime is a date too.
    for cls, kind in ((str, _T), (int, _N), (Decimal, _D), (datetime, _DT), (date, _DAY)):
        if isinstance(hint, type) and issubclass(hint, cls):
            return kind, None, optional, False
    raise TypeError(f"no value kind for {hint!r}")


def listed_specs(entity: type[Any], prefix: str = "") -> tuple[FieldSpec, ...]:
    """The catalog entries of the fields ``entity`` marks with
    :func:`~customers_hub.domain.fields.listed`: the camelCase path, the kind and enum from the
    type, ``nullable`` from an optional type, the rest from the mark."""
    specs = []
    for name, (attribute, mark) in listed_fields(entity).items():
        kind, enum, optional, many = _kind_of(attribute.type)
        specs.append(
            FieldSpec(
                prefix + camel_case(name),
                _I if mark.identifier else kind,
                enum,
                many=many,
                nullable=optional,
                sortable=mark.sortable,
                ordered=mark.ordered,
            )
        )
    return tuple(specs)


CUSTOMER_CATALOG: Final = FieldCatalog.of(
    "customer",
    (
        *listed_specs(Customer),
        FieldSpec("preferences.budgetMin", _D, nullable=True),
        FieldSpec("preferences.budgetMax", _D, nullable=True),
        FieldSpec("preferences.propertyType", _E, PropertyType, many=True),
        FieldSpec("preferences.preferredAreas", _T, many=True),
        FieldSpec("preferences.preferredCities", _T, many=True),
        FieldSpec("preferences.bedrooms", _N, nullable=True),
        FieldSpec("preferences.bathrooms", _N, nullable=True),
        FieldSpec("preferences.minArea", _D, nullable=True),
        FieldSpec("preferences.maxArea", _D, nullable=True),
        FieldSpec("preferences.purpose", _E, Purpose, nullable=True),
        FieldSpec("preferences.timeline", _E, Timeline, nullable=True),
        FieldSpec("preferences.furnishing", _E, Furnishing, nullable=True),
        *_BUDGET_FIELDS,
    ),
    # The list endpoint documents ``sortBy=dealValue``.
    sort_aliases={"dealValue": "totalDealValue"},
)
"""Filterable and sortable fields of customers (lists, ``filters=``, ``POST /customers/query``,
search filters)."""

ACTION_CATALOG: Final = FieldCatalog.of(
    "action",
    (
        FieldSpec("id", _I),
        FieldSpec("customerId", _I),
        FieldSpec("customerName", _T),
        FieldSpec("title", _T),
        FieldSpec("type", _E, ActionType),
        # The effective status: a snoozed action whose snooze has passed counts as pending.
        FieldSpec("status", _E, ActionStatus),
        FieldSpec("priority", _E, Priority, ordered=True, sortable=True),  # by rank
        FieldSpec("source", _E, CustomerSource),
        FieldSpec("assignedTo", _I, nullable=True),
        FieldSpec("dueDate", _DT, nullable=True, sortable=True),
        FieldSpec("createdAt", _DT, sortable=True),
        FieldSpec("updatedAt", _DT),
        FieldSpec("completedAt", _DT, nullable=True),
        FieldSpec("completedBy", _I, nullable=True),
        # The action's customer (a join), named as the actions list's parameters.
        FieldSpec("city", _T, nullable=True),
        FieldSpec("state", _T, nullable=True),  # the customer's region
        *_BUDGET_FIELDS,
        FieldSpec("propertyType", _E, PropertyType, many=True),
    ),
)
"""Filterable and sortable fields of inbox actions (the actions list)."""


# --- parsing ---------------------------------------------------------------------------------


class _Invalid:
    """Marks a value that failed to parse (its error is already recorded)."""


_INVALID: Final = _Invalid()

_DATE_ONLY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER_TEXT: Final = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def local_day_start(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz`` (local midnight)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def day_conditions(path: str, op: Op, day: date, tz: tzinfo) -> tuple[Condition, ...]:
    """The conditions on a datetime field that a bare ``day`` with ``op`` means (module doc)."""
    start = local_day_start(day, tz)
    following = local_day_start(day + timedelta(days=1), tz)
    if op is Op.GTE:
        return (Condition(path, Op.GTE, start),)
    if op is Op.GT:
        return (Condition(path, Op.GTE, following),)
    if op is Op.LTE:
        return (Condition(path, Op.LT, following),)
    if op is Op.LT:
        return (Condition(path, Op.LT, start),)
    if op is Op.EQ:
        return (Condition(path, Op.GTE, start), Condition(path, Op.LT, following))
    raise ValueError(f"a bare date cannot be used with {op}")


def aware_utc(value: datetime, tz: tzinfo) -> datetime:
    """``value`` in UTC; a datetime without a zone is read in the organization's zone ``tz``."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


class _Parser:
    """Collects every error of one filter document, so they are all reported together."""

    def __init__(self, catalog: FieldCatalog, tz: tzinfo) -> None:
        self.catalog = catalog
        self.tz = tz
        self.errors: list[FieldError] = []
        self.conditions: list[Condition] = []

    def fail(self, where: str, message: str) -> _Invalid:
        self.errors.append(FieldError(where, message))
        return _INVALID

    # -- structure

    def document(self, node: Mapping[object, object], prefix: str, where: str) -> None:
        for key, value in node.items():
            if not isinstance(key, str) or not key:
                self.fail(where, "field names must be non-empty strings")
                continue
            path, at = f"{prefix}{key}", f"{where}.{key}"
            spec = self.catalog.get(path)
            if spec is not None:
                self.field(spec, value, at)
            elif isinstance(value, Mapping) and self.catalog.is_prefix(path):
                # ``{"preferences": {"budgetMin": {...}}}`` is ``preferences.budgetMin``.
                self.document(value, f"{path}.", at)
            else:
                self.fail(at, f"is not a filterable {self.catalog.resource} field")

    def field(self, spec: FieldSpec, value: object, at: str) -> None:
        if isinstance(value, Mapping):
            if not value:
                self.fail(at, "must name at least one operator")
            for name, operand in value.items():
                op_at = f"{at}.{name}"
                try:
                    op = Op(name)
                except ValueError:
                    self.fail(op_at, f"unknown operator; use one of {_choices(Op)}")
                    continue
                self.operand(spec, op, operand, op_at)
            return
        # A plain value: a list means ``in``, anything else ``eq``.
        self.operand(spec, Op.IN if isinstance(value, list | tuple) else Op.EQ, value, at)

    def operand(self, spec: FieldSpec, op: Op, operand: object, at: str) -> None:
        if op not in spec.operators:
            allowed = _choices(o.value for o in Op if o in spec.operators)
            self.fail(at, f"operator {op.value} does not apply to {spec.path}; use {allowed}")
            return
        if op in (Op.IN, Op.NIN):
            self.many(spec, op, operand, at)
            return
        if operand is None:
            if op in (Op.EQ, Op.NE) and spec.nullable:
                self.conditions.append(Condition(spec.path, op, None))
            else:
                self.fail(at, "must not be null")
            return
        if op in TEXT_MATCH:
            text = self.text(operand, at)
            if not isinstance(text, _Invalid):
                self.conditions.append(Condition(spec.path, op, text))
            return
        value = self.scalar(spec, operand, at)
        if isinstance(value, _Invalid):
            return
        if spec.kind is ValueKind.DATETIME and not isinstance(value, datetime):
            assert isinstance(value, date)  # the datetime parser gives a datetime or a date
            if op is Op.NE:
                self.fail(at, "a date without a time cannot be used with ne; give a datetime")
                return
            self.conditions.extend(day_conditions(spec.path, op, value, self.tz))
            return
        self.conditions.append(Condition(spec.path, op, value))

    def many(self, spec: FieldSpec, op: Op, operand: object, at: str) -> None:
        if not isinstance(operand, list | tuple):
            self.fail(at, "must be a list of values")
            return
        if not operand:
            self.fail(at, "must not be empty")
            return
        if len(operand) > MAX_IN_VALUES:
            self.fail(at, f"must have at most {MAX_IN_VALUES} values")
            return
        errors_before = len(self.errors)
        values: list[object] = []
        for index, item in enumerate(operand):
            item_at = f"{at}[{index}]"
            if item is None:
                self.fail(item_at, "must not be null")
                continue
            value = self.scalar(spec, item, item_at)
            if not isinstance(value, _Invalid) and value not in values:
                values.append(value)
        if len(self.errors) == errors_before:
            self.conditions.append(Condition(spec.path, op, tuple(values)))

    # -- values

    def text(self, raw: object, at: str) -> str | _Invalid:
        if not isinstance(raw, str):
            return self.fail(at, "must be a string")
        text = raw.strip()
        if not text:
            return self.fail(at, "must not be empty")
        if len(text) > MAX_TEXT_LENGTH:
            return self.fail(at, f"must be at most {MAX_TEXT_LENGTH} characters")
        return text

    def scalar(self, spec: FieldSpec, raw: object, at: str) -> object:
        kind = spec.kind
        if kind in (ValueKind.ID, ValueKind.TEXT):
            return self.text(raw, at)
        if kind is ValueKind.ENUM:
            assert spec.enum is not None  # checked by FieldSpec
            return self.enum(spec.enum, raw, at)
        if kind is ValueKind.INTEGER:
            return self.integer(raw, at)
        if kind is ValueKind.DECIMAL:
            return self.decimal(raw, at)
        if kind is ValueKind.DATE:
            return self.day_value(raw, at)
        return self.instant_value(raw, at)

    def enum(self, cls: type[StrEnum], raw: object, at: str) -> StrEnum | _Invalid:
        if isinstance(raw, cls):
            return raw
        if isinstance(raw, str):
            try:
                return cls(raw)
            except ValueError:
                pass
        return self.fail(at, f"must be one of {_choices(m.value for m in cls)}")

    def decimal(self, raw: object, at: str) -> Decimal | _Invalid:
        number: Decimal | None = None
        if isinstance(raw, bool):
            number = None
        elif isinstance(raw, Decimal | int):
            number = Decimal(raw)
        elif isinstance(raw, float):
            number = Decimal(repr(raw)) if math.isfinite(raw) else None
        elif isinstance(raw, str) and _DECIMAL_TEXT.fullmatch(raw.strip()):
            try:
                number = Decimal(raw.strip())
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                number = None
        if number is None or not number.is_finite():
            return self.fail(at, "must be a number")
        return number

    def integer(self, raw: object, at: str) -> int | _Invalid:
        if isinstance(raw, str) and _INTEGER_TEXT.fullmatch(raw.strip()):
            return int(raw.strip())
        number = self.decimal(raw, at)
        if isinstance(number, _Invalid):
            return number
        if number != number.to_integral_value():
            return self.fail(at, "must be a whole number")
        return int(number)

    def day_value(self, raw: object, at: str) -> date | _Invalid:
        if isinstance(raw, date) and not isinstance(raw, datetime):
            return raw
        if isinstance(raw, str) and _DATE_ONLY.fullmatch(raw.strip()):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        return self.fail(at, "must be a date (YYYY-MM-DD)")

    def instant_value(self, raw: object, at: str) -> datetime | date | _Invalid:
        if isinstance(raw, datetime):
            return aware_utc(raw, self.tz)
        if isinstance(raw, date):
            return raw
        if isinstance(raw, str):
            text = raw.strip()
            try:
                if _DATE_ONLY.fullmatch(text):
                    return date.fromisoformat(text)
                return aware_utc(datetime.fromisoformat(text), self.tz)
            except ValueError:
                pass
        return self.fail(at, "must be an ISO 8601 datetime or date")


def parse_filters(
    catalog: FieldCatalog, raw: object, *, tz: tzinfo, where: str = "filters"
) -> tuple[Condition, ...]:
    """The typed conditions of a raw JSON filter document (``filters=`` or the advanced query).

    Keys are field paths, dotted (``"preferences.budgetMin"``) or nested
    (``{"preferences": {"budgetMin": …}}``); values are plain (a list means ``in``, anything else
    ``eq``) or operator maps (``{"gte": 70, "lt": 90}``). Every bad field, operator and value is
    reported in one :class:`ValidationFailed`, named by its path under ``where``
    (``filters.preferences.budgetMin.gte``, ``filters.stage.in[2]``).
    """
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ValidationFailed.single(where, "must be a JSON object")
    parser = _Parser(catalog, tz)
    parser.document(raw, "", where)
    if parser.errors:
        raise ValidationFailed(parser.errors)
    return tuple(parser.conditions)


def parse_sort(
    catalog: FieldCatalog,
    sort_by: str | None,
    sort_order: str | None,
    *,
    default: Sort,
    errors: list[FieldError],
    by_field: str = "sortBy",
    order_field: str = "sortOrder",
) -> Sort:
    """The :class:`Sort` of ``sort_by``/``sort_order`` (``asc``/``desc``, default ``desc``).

    Problems are appended to ``errors`` (named ``by_field``/``order_field``) and ``default`` is
    returned, so the caller reports them together with its other errors.
    """
    path = default.field
    if sort_by is not None:
        found = catalog.sort_field(sort_by)
        if found is None:
            names = [*catalog.sortable, *catalog.sort_aliases]
            errors.append(FieldError(by_field, f"must be one of {_choices(names)}"))
        else:
            path = found
    descending = default.descending
    if sort_order is not None:
        if sort_order not in ("asc", "desc"):
            errors.append(FieldError(order_field, "must be asc or desc"))
        else:
            descending = sort_order == "desc"
    return Sort(path, descending=descending)


def dedupe(values: Iterable[_V]) -> tuple[_V, ...]:
    """``values`` without repeats, first occurrence first."""
    return tuple(dict.fromkeys(values))

"""Compiling read-side specs to SQL: conditions, the caller's scope and sort orders.

The field catalogs (:data:`CUSTOMER_FIELDS`, :data:`ACTION_FIELDS`) are data: each API field path
says where its value lives (a column, a ``customer_facets`` kind, a key of the ``preferences``
JSON, or a derived rule), its type and the operators it accepts. The use-case layer may check
conditions early with :func:`check_conditions`; the compiler checks them again and raises
:class:`~customers_hub.domain.errors.ValidationFailed` naming every bad field
(``filters.<path>``).

Semantics where the API document is silent:

* ``ne`` / ``nin`` keep rows whose field is empty (NULL): an unassigned customer is "not assigned
  to emp_1". ``eq None`` / ``ne None`` test for absence / presence.
* ``in`` / ``nin`` accept one value as a list of one; an empty ``in`` matches nothing and an empty
  ``nin`` everything.
* ``contains`` / ``startsWith`` are case-insensitive. On ``name`` they match the normalized
  ``name_search`` column (rules §6; it holds the Arabic and the English name), on ``phone`` the
  ``phone_digits`` column (``phone_query_digits`` of the operand for ``contains``; for
  ``startsWith`` a national ``0…`` form is read as Saudi ``966…``). LIKE wildcards in operands
  are escaped.
* List facets (``tags``, ``preferences.propertyType``, ``preferences.preferredAreas``,
  ``preferences.preferredCities``): ``eq``/``in`` = has any of the values, ``ne``/``nin`` = has
  none of them; operands are normalized by :func:`~customers_hub.adapters.sql.mappers.facet_value`
  exactly as the stored rows are.
* ``priority`` compares by rank (``urgent`` > ``high`` > ``medium`` > ``low``) for every operator;
  ``stage`` accepts ``gt``/``gte``/``lt``/``lte`` by lifecycle order.
* Budget range overlap (``budgetMin`` / ``budgetMax`` of the actions list, and the same top-level
  fields of customers): a customer's budget is the range ``[budget_min, budget_max]`` with a
  missing end open. ``budgetMin gte X`` keeps customers whose range reaches ``X``
  (``budget_max >= X``, or no ``budget_max`` but a ``budget_min``); ``budgetMax lte Y`` keeps those
  whose range starts at or below ``Y`` (``budget_min <= Y``, or no ``budget_min`` but a
  ``budget_max``). A customer without any budget matches neither. The plain columns are
  ``preferences.budgetMin`` / ``preferences.budgetMax``.
* An action's ``status`` is its *effective* status: a snoozed action whose ``snoozed_until`` has
  passed (or is missing) is ``pending``; ``snoozed`` means still asleep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final

from attrs import frozen
from sqlalchemy import (
    ColumnElement,
    Numeric,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
)

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.mappers import (
    FACET_AREA,
    FACET_CITY,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
    facet_value,
)
from customers_hub.application.queries import Condition, Op
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    CustomerType,
    DueDateBucket,
    Furnishing,
    Gender,
    Priority,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.inbox import OPEN_STATUSES, bucket_bounds
from customers_hub.domain.search_text import (
    normalize_search_text,
    phone_digits,
    phone_query_digits,
    to_ascii_digits,
)
from customers_hub.domain.validation import normalize_phone

__all__ = [
    "ACTION_FIELDS",
    "ACTION_SORTS",
    "CUSTOMER_FIELDS",
    "CUSTOMER_SORTS",
    "EQUALITY_OPS",
    "ORDER_OPS",
    "TEXT_OPS",
    "FieldSpec",
    "How",
    "SortSpec",
    "TextMode",
    "ValueType",
    "action_conditions",
    "action_scope",
    "action_search",
    "check_conditions",
    "customer_conditions",
    "customer_scope",
    "customer_search",
    "due_bucket_condition",
    "effective_status_expr",
    "effective_status_in",
    "is_phone_like",
    "keyset_condition",
    "keyset_ranges",
    "like_escape",
    "order_by",
    "sort_spec",
    "team_member_ids",
]

EQUALITY_OPS: Final = frozenset({Op.EQ, Op.NE, Op.IN, Op.NIN})
ORDER_OPS: Final = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
TEXT_OPS: Final = frozenset({Op.CONTAINS, Op.STARTS_WITH})
_ALL_COMPARE: Final = EQUALITY_OPS | ORDER_OPS
_TEXT_ALL: Final = EQUALITY_OPS | TEXT_OPS

_ESCAPE: Final = "\\"


class ValueType(Enum):
    """What an operand must be (and is converted to) for a field."""

    TEXT = "text"
    ENUM = "enum"
    INT = "int"
    DECIMAL = "decimal"
    DATETIME = "datetime"
    DATE = "date"


class How(Enum):
    """Where a field's value lives and how a condition on it compiles."""

    COLUMN = "column"
    """A plain column (``table`` . ``column``)."""
    RANK = "rank"
    """An enum compared through its rank column (priority → ``priority_rank``)."""
    STAGE = "stage"
    """The ``stage`` column; order operators expand to the stages before/after."""
    FACET = "facet"
    """Rows of ``customer_facets`` of kind ``facet``: has any / has none."""
    JSON = "json"
    """A key of ``customers.preferences`` (camelCase, as the mappers write it)."""
    EFFECTIVE_STATUS = "effective_status"
    """An action's status, with a passed snooze counting as pending."""
    BUDGET_REACHES = "budget_reaches"
    """The customer's budget range reaches the operand (range overlap, lower filter end)."""
    BUDGET_STARTS_BY = "budget_starts_by"
    """The customer's budget range starts at or below the operand (upper filter end)."""


class TextMode(Enum):
    """How ``contains``/``startsWith`` (and equality for some) treat a text field."""

    RAW = "raw"
    """Case-insensitive LIKE on the column itself."""
    NAME = "name"
    """LIKE on the normalized ``name_search`` column."""
    PHONE = "phone"
    """LIKE on ``phone_digits`` with the digits of the operand."""
    LOWER = "lower"
    """Equality and LIKE on ``lower(column)`` (emails)."""


@frozen(eq=False)
class FieldSpec:
    """One entry of a field catalog."""

    path: str
    value_type: ValueType
    ops: frozenset[Op]
    how: How = How.COLUMN
    table: str = "customers"
    column: str | None = None
    enum: type[StrEnum] | None = None
    facet: str | None = None
    json_key: str | None = None
    text_mode: TextMode = TextMode.RAW
    nullable: bool = True


def _col(
    path: str,
    column: str,
    value_type: ValueType,
    ops: frozenset[Op],
    *,
    table: str = "customers",
    enum: type[StrEnum] | None = None,
    text_mode: TextMode = TextMode.RAW,
    nullable: bool = True,
) -> FieldSpec:
    return FieldSpec(
        path,
        value_type,
        ops,
        How.COLUMN,
        table=table,
        column=column,
        enum=enum,
        text_mode=text_mode,
        nullable=nullable,
    )


def _facet(
    path: str, kind: str, value_type: ValueType, enum: type[StrEnum] | None = None
) -> FieldSpec:
    return FieldSpec(path, value_type, EQUALITY_OPS, How.FACET, facet=kind, enum=enum)


def _json(
    path: str,
    key: str,
    value_type: ValueType,
    ops: frozenset[Op],
    enum: type[StrEnum] | None = None,
) -> FieldSpec:
    return FieldSpec(path, value_type, ops, How.JSON, json_key=key, enum=enum)


_T, _E, _I, _D, _DT, _DA = (
    ValueType.TEXT,
    ValueType.ENUM,
    ValueType.INT,
    ValueType.DECIMAL,
    ValueType.DATETIME,
    ValueType.DATE,
)

_CUSTOMER_SPECS: tuple[FieldSpec, ...] = (
    _col("id", "id", _T, EQUALITY_OPS, nullable=False),
    _col("name", "name", _T, _TEXT_ALL, text_mode=TextMode.NAME, nullable=False),
    _col("nameEn", "name_en", _T, _TEXT_ALL, text_mode=TextMode.LOWER),
    _col("phone", "phone", _T, _TEXT_ALL, text_mode=TextMode.PHONE, nullable=False),
    _col("whatsapp", "whatsapp", _T, EQUALITY_OPS),
    _col("email", "email", _T, _TEXT_ALL, text_mode=TextMode.LOWER),
    _col("nationalId", "national_id", _T, _TEXT_ALL),
    _col("nationality", "nationality", _T, _TEXT_ALL),
    _col("gender", "gender", _E, EQUALITY_OPS, enum=Gender),
    _col("customerType", "customer_type", _E, EQUALITY_OPS, enum=CustomerType),
    FieldSpec("stage", _E, _ALL_COMPARE, How.STAGE, column="stage", enum=Stage, nullable=False),
    _col("source", "source", _E, EQUALITY_OPS, enum=CustomerSource, nullable=False),
    FieldSpec(
        "priority",
        _E,
        _ALL_COMPARE,
        How.RANK,
        column="priority_rank",
        enum=Priority,
        nullable=False,
    ),
    _col("leadScore", "lead_score", _I, _ALL_COMPARE, nullable=False),
    _col("assignedEmployeeId", "assigned_employee_id", _T, EQUALITY_OPS),
    _col("city", "city", _T, _TEXT_ALL),
    _col("district", "district", _T, _TEXT_ALL),
    _col("region", "region", _T, _TEXT_ALL),
    _col("totalDealValue", "total_deal_value", _D, _ALL_COMPARE),
    _col("expectedRevenue", "expected_revenue", _D, _ALL_COMPARE),
    _col("paidAmount", "paid_amount", _D, _ALL_COMPARE),
    _col("totalInteractions", "total_interactions", _I, _ALL_COMPARE, nullable=False),
    _col("totalAppointments", "total_appointments", _I, _ALL_COMPARE, nullable=False),
    _col("totalPropertyViews", "total_property_views", _I, _ALL_COMPARE, nullable=False),
    _col("responseRate", "response_rate", _I, _ALL_COMPARE),
    _col("createdAt", "created_at", _DT, _ALL_COMPARE, nullable=False),
    _col("updatedAt", "updated_at", _DT, _ALL_COMPARE, nullable=False),
    _col("lastContactAt", "last_contact_at", _DT, _ALL_COMPARE),
    _col("nextFollowUpDate", "next_follow_up_date", _DA, _ALL_COMPARE),
    _facet("tags", FACET_TAG, _T),
    _col("preferences.budgetMin", "budget_min", _D, _ALL_COMPARE),
    _col("preferences.budgetMax", "budget_max", _D, _ALL_COMPARE),
    _facet("preferences.propertyType", FACET_PROPERTY_TYPE, _E, PropertyType),
    _facet("preferences.preferredAreas", FACET_AREA, _T),
    _facet("preferences.preferredCities", FACET_CITY, _T),
    _json("preferences.bedrooms", "bedrooms", _I, _ALL_COMPARE),
    _json("preferences.bathrooms", "bathrooms", _I, _ALL_COMPARE),
    _json("preferences.minArea", "minArea", _D, _ALL_COMPARE),
    _json("preferences.maxArea", "maxArea", _D, _ALL_COMPARE),
    _json("preferences.purpose", "purpose", _E, EQUALITY_OPS, Purpose),
    _json("preferences.timeline", "timeline", _E, EQUALITY_OPS, Timeline),
    _json("preferences.furnishing", "furnishing", _E, EQUALITY_OPS, Furnishing),
    # Range overlap with the customer's budget (the list parameters budgetMin / budgetMax).
    FieldSpec("budgetMin", _D, frozenset({Op.GTE}), How.BUDGET_REACHES),
    FieldSpec("budgetMax", _D, frozenset({Op.LTE}), How.BUDGET_STARTS_BY),
)

_A = "customer_actions"

_ACTION_SPECS: tuple[FieldSpec, ...] = (
    _col("id", "id", _T, EQUALITY_OPS, table=_A, nullable=False),
    _col("customerId", "customer_id", _T, EQUALITY_OPS, table=_A, nullable=False),
    _col("customerName", "customer_name", _T, _TEXT_ALL, table=_A, nullable=False),
    _col("title", "title", _T, _TEXT_ALL, table=_A, nullable=False),
    _col("type", "type", _E, EQUALITY_OPS, table=_A, enum=ActionType, nullable=False),
    FieldSpec(
        "status",
        _E,
        EQUALITY_OPS,
        How.EFFECTIVE_STATUS,
        table=_A,
        enum=ActionStatus,
        nullable=False,
    ),
    FieldSpec(
        "priority",
        _E,
        _ALL_COMPARE,
        How.RANK,
        table=_A,
        column="priority_rank",
        enum=Priority,
        nullable=False,
    ),
    _col("source", "source", _E, EQUALITY_OPS, table=_A, enum=CustomerSource, nullable=False),
    _col("assignedTo", "assigned_to", _T, EQUALITY_OPS, table=_A),
    _col("dueDate", "due_date", _DT, _ALL_COMPARE, table=_A),
    _col("createdAt", "created_at", _DT, _ALL_COMPARE, table=_A, nullable=False),
    _col("updatedAt", "updated_at", _DT, _ALL_COMPARE, table=_A, nullable=False),
    _col("completedAt", "completed_at", _DT, _ALL_COMPARE, table=_A),
    _col("completedBy", "completed_by", _T, EQUALITY_OPS, table=_A),
    # The customer's side (joined): city, state (= region), budget overlap, property types.
    _col("city", "city", _T, _TEXT_ALL),
    _col("state", "region", _T, _TEXT_ALL),
    FieldSpec("budgetMin", _D, frozenset({Op.GTE}), How.BUDGET_REACHES),
    FieldSpec("budgetMax", _D, frozenset({Op.LTE}), How.BUDGET_STARTS_BY),
    _facet("propertyType", FACET_PROPERTY_TYPE, _E, PropertyType),
)

CUSTOMER_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({s.path: s for s in _CUSTOMER_SPECS})
"""Fields a customers list/query/search condition may name, by API path."""

ACTION_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({s.path: s for s in _ACTION_SPECS})
"""Fields an actions list condition may name (``city``, ``state``, ``budgetMin``, ``budgetMax``
and ``propertyType`` are the action's customer's)."""

_TABLES: Mapping[str, Any] = MappingProxyType(
    {"customers": t.customers, "customer_actions": t.customer_actions}
)


# --- operand conversion ------------------------------------------------------------------------


class _Bad(Exception):
    """An operand that does not fit its field; the message goes into a FieldError."""


def _one(spec: FieldSpec, value: object) -> object:
    """``value`` converted for ``spec``; None passes (absence tests)."""
    if value is None:
        return None
    vt = spec.value_type
    if vt is ValueType.TEXT:
        if not isinstance(value, str):
            raise _Bad("must be text")
        return value
    if vt is ValueType.ENUM:
        assert spec.enum is not None
        if isinstance(value, spec.enum):
            return value
        try:
            return spec.enum(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in spec.enum)
            raise _Bad(f"must be one of {allowed}") from None
    if vt is ValueType.INT:
        if isinstance(value, bool):
            raise _Bad("must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal | float) and value == int(value):
            return int(value)
        if isinstance(value, str) and to_ascii_digits(value.strip()).lstrip("-").isdigit():
            return int(to_ascii_digits(value.strip()))
        raise _Bad("must be a whole number")
    if vt is ValueType.DECIMAL:
        if isinstance(value, bool):
            raise _Bad("must be a number")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise _Bad("must be a number") from None
        if not number.is_finite():
            raise _Bad("must be a number")
        return number
    if vt is ValueType.DATETIME:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise _Bad("must be an ISO 8601 date-time") from None
        if not isinstance(value, datetime):
            raise _Bad("must be a date-time")
        if value.tzinfo is None or value.utcoffset() is None:
            raise _Bad("must include a time zone")
        return value
    # ValueType.DATE
    if isinstance(value, datetime):
        raise _Bad("must be a date without time")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Bad("must be an ISO 8601 date") from None
    if not isinstance(value, date):
        raise _Bad("must be a date")
    return value


def _many(spec: FieldSpec, value: object) -> list[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        value = [value]
    return [_one(spec, v) for v in value]


def _text_operand(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("must be a non-empty text")
    if spec.text_mode is TextMode.PHONE and not phone_digits(value):
        raise _Bad("must contain digits")
    if spec.text_mode is TextMode.NAME and not normalize_search_text(value):
        raise _Bad("must be a non-empty text")
    return value


def like_escape(text: str) -> str:
    """``text`` with LIKE wildcards ``%`` and ``_`` (and the escape) escaped by ``\\``."""
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def _contains(expr: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    return expr.like(f"%{like_escape(text)}%", escape=_ESCAPE)


def _starts(expr: ColumnElement[Any], text: str) -> ColumnElement[bool]:
    return expr.like(f"{like_escape(text)}%", escape=_ESCAPE)


def _phone_prefix_digits(text: str) -> str:
    """Digits a stored ``phone_digits`` must start with for a ``startsWith`` on ``phone``."""
    digits = phone_digits(text)
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        # A national form (05…) is the hub's home country's: +966 5…
        return "966" + digits[1:]
    return digits


# --- compiling one condition -------------------------------------------------------------------


def _null_aware(
    spec: FieldSpec, expr: ColumnElement[Any], op: Op, values: list[object]
) -> ColumnElement[bool]:
    """eq/ne/in/nin on a plain expression, with None meaning absence."""
    present = [v for v in values if v is not None]
    has_none = len(present) != len(values)
    if op in (Op.EQ, Op.IN):
        parts: list[ColumnElement[bool]] = []
        if present:
            parts.append(expr == present[0] if op is Op.EQ else expr.in_(present))
        if has_none:
            parts.append(expr.is_(None))
        if not parts:
            return false()
        return or_(*parts) if len(parts) > 1 else parts[0]
    # ne / nin: rows with an empty field are "not equal" unless None itself is excluded.
    kept: list[ColumnElement[bool]] = []
    if present:
        kept.append(expr != present[0] if op is Op.NE else expr.not_in(present))
    if has_none:
        kept.append(expr.is_not(None))
        return and_(*kept) if len(kept) > 1 else kept[0]
    if not kept:
        return true()
    return or_(kept[0], expr.is_(None)) if spec.nullable else kept[0]


def _ordered(expr: ColumnElement[Any], op: Op, value: object) -> ColumnElement[bool]:
    if op is Op.GT:
        return expr > value
    if op is Op.GTE:
        return expr >= value
    if op is Op.LT:
        return expr < value
    return expr <= value


def _enum_value(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _compile_text(
    spec: FieldSpec, expr: ColumnElement[Any], op: Op, text: str
) -> ColumnElement[bool]:
    table = _TABLES[spec.table]
    mode = spec.text_mode
    if mode is TextMode.NAME:
        target: ColumnElement[Any] = table.c.name_search
        operand = normalize_search_text(text)
    elif mode is TextMode.PHONE:
        target = table.c.phone_digits
        operand = phone_query_digits(text) if op is Op.CONTAINS else _phone_prefix_digits(text)
        if not operand:  # "0" alone: every phone qualifies
            operand = phone_digits(text)
    else:
        target = func.lower(expr)
        operand = text.strip().lower()
    return _contains(target, operand) if op is Op.CONTAINS else _starts(target, operand)


def _equality_expr(spec: FieldSpec, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.lower(expr) if spec.text_mode is TextMode.LOWER else expr


def _equality_values(spec: FieldSpec, values: list[object]) -> list[object]:
    out = [_enum_value(v) for v in values]
    if spec.text_mode is TextMode.LOWER:
        out = [v.strip().lower() if isinstance(v, str) else v for v in out]
    elif spec.text_mode is TextMode.PHONE:
        out = [_e164(v) if isinstance(v, str) else v for v in out]
    return out


def _e164(raw: str) -> str:
    """A phone operand in the stored E.164 form when it is a valid phone, else as given."""
    try:
        return normalize_phone(raw)
    except ValidationFailed:
        return raw.strip()


def _facet_exists(
    kind: str, values: list[str], customer_id: ColumnElement[Any]
) -> ColumnElement[bool]:
    f = t.customer_facets
    return exists(
        select(1).where(
            # The organization lets ix_customer_facets_lookup (org, kind, value, customer_id)
            # serve the lookup (measured: a 94 ms count became 28-42 ms at 1M customers).
            f.c.organization_id == t.customers.c.organization_id,
            f.c.customer_id == customer_id,
            f.c.kind == kind,
            f.c.value.in_(values) if len(values) != 1 else f.c.value == values[0],
        )
    )


def _compile_facet(spec: FieldSpec, op: Op, values: list[object]) -> ColumnElement[bool]:
    assert spec.facet is not None
    stored = sorted(
        {facet_value(spec.facet, str(_enum_value(v))) for v in values if v is not None} - {""}
    )
    if not stored:
        return false() if op in (Op.EQ, Op.IN) else true()
    has = _facet_exists(spec.facet, stored, t.customers.c.id)
    return has if op in (Op.EQ, Op.IN) else not_(has)


def _json_expr(spec: FieldSpec) -> ColumnElement[Any]:
    assert spec.json_key is not None
    item: Any = t.customers.c.preferences[spec.json_key]
    expr: ColumnElement[Any]
    if spec.value_type is ValueType.INT:
        expr = item.as_integer()
    elif spec.value_type is ValueType.DECIMAL:
        # The mappers store Decimals as JSON strings (exact); compare them as numbers.
        expr = cast(item.as_string(), Numeric(15, 2))
    else:
        expr = item.as_string()
    return expr


def _stage_set(op: Op, value: Stage) -> list[str]:
    keep: Callable[[int], bool] = {
        Op.GT: lambda r: r > value.rank,
        Op.GTE: lambda r: r >= value.rank,
        Op.LT: lambda r: r < value.rank,
        Op.LTE: lambda r: r <= value.rank,
    }[op]
    return [s.value for s in Stage if keep(s.rank)]


def effective_status_in(
    statuses: Iterable[ActionStatus | str], now: datetime
) -> ColumnElement[bool]:
    """Actions whose *effective* status (a passed snooze is pending) is one of ``statuses``."""
    a = t.customer_actions.c
    wanted = {ActionStatus(s) for s in statuses}
    asleep_due = and_(
        a.status == ActionStatus.SNOOZED.value,
        or_(a.snoozed_until.is_(None), a.snoozed_until <= now),
    )
    parts: list[ColumnElement[bool]] = []
    plain = sorted(s.value for s in wanted - {ActionStatus.PENDING, ActionStatus.SNOOZED})
    if plain:
        parts.append(a.status.in_(plain))
    if ActionStatus.PENDING in wanted:
        parts.extend([a.status == ActionStatus.PENDING.value, asleep_due])
    if ActionStatus.SNOOZED in wanted:
        parts.append(
            and_(
                a.status == ActionStatus.SNOOZED.value,
                a.snoozed_until.is_not(None),
                a.snoozed_until > now,
            )
        )
    if not parts:
        return false()
    return or_(*parts) if len(parts) > 1 else parts[0]


def effective_status_expr(now: datetime) -> ColumnElement[str]:
    """The effective status of an action as a SQL value (for GROUP BY)."""
    a = t.customer_actions.c
    return case(
        (
            and_(
                a.status == ActionStatus.SNOOZED.value,
                or_(a.snoozed_until.is_(None), a.snoozed_until <= now),
            ),
            ActionStatus.PENDING.value,
        ),
        else_=a.status,
    )


def _budget_condition(spec: FieldSpec, value: object) -> ColumnElement[bool]:
    c = t.customers.c
    if spec.how is How.BUDGET_REACHES:
        return or_(c.budget_max >= value, and_(c.budget_max.is_(None), c.budget_min.is_not(None)))
    return or_(c.budget_min <= value, and_(c.budget_min.is_(None), c.budget_max.is_not(None)))


def _compile_one(
    spec: FieldSpec, op: Op, value: object, now: datetime | None
) -> ColumnElement[bool]:
    """One checked condition; ``value`` is the raw operand (converted here)."""
    if op in TEXT_OPS:
        text = _text_operand(spec, value)
        assert spec.column is not None
        return _compile_text(spec, _TABLES[spec.table].c[spec.column], op, text)
    if op in ORDER_OPS:
        operand = _one(spec, value)
        if operand is None:
            raise _Bad(f"{op.value} needs a value")
        if spec.how in (How.BUDGET_REACHES, How.BUDGET_STARTS_BY):
            return _budget_condition(spec, operand)
        if spec.how is How.RANK:
            assert isinstance(operand, Priority)
            return _ordered(_TABLES[spec.table].c.priority_rank, op, operand.rank)
        if spec.how is How.STAGE:
            assert isinstance(operand, Stage)
            return t.customers.c.stage.in_(_stage_set(op, operand))
        if spec.how is How.JSON:
            return _ordered(_json_expr(spec), op, _enum_value(operand))
        assert spec.column is not None
        return _ordered(_TABLES[spec.table].c[spec.column], op, _enum_value(operand))
    # Equality family.
    if op in (Op.EQ, Op.NE):
        if isinstance(value, list | tuple | set | frozenset):
            raise _Bad(f"{op.value} takes one value; use in/nin for several")
        values = [_one(spec, value)]
    else:
        values = _many(spec, value)
    if spec.how is How.FACET:
        return _compile_facet(spec, op, values)
    if spec.how is How.EFFECTIVE_STATUS:
        assert now is not None
        if any(v is None for v in values):
            raise _Bad("must be one of " + ", ".join(m.value for m in ActionStatus))
        matched = effective_status_in([ActionStatus(str(_enum_value(v))) for v in values], now)
        return matched if op in (Op.EQ, Op.IN) else not_(matched)
    if spec.how is How.RANK:
        ranks: list[object] = [v.rank if isinstance(v, Priority) else None for v in values]
        return _null_aware(spec, _TABLES[spec.table].c.priority_rank, op, ranks)
    if spec.how is How.JSON:
        return _null_aware(spec, _json_expr(spec), op, [_enum_value(v) for v in values])
    assert spec.column is not None
    expr = _equality_expr(spec, _TABLES[spec.table].c[spec.column])
    return _null_aware(spec, expr, op, _equality_values(spec, values))


def _prefixed(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _compile(
    catalog: Mapping[str, FieldSpec],
    conditions: Sequence[Condition],
    *,
    now: datetime | None,
    prefix: str,
) -> list[ColumnElement[bool]]:
    errors: list[FieldError] = []
    out: list[ColumnElement[bool]] = []
    for cond in conditions:
        name = _prefixed(prefix, cond.field)
        spec = catalog.get(cond.field)
        if spec is None:
            errors.append(FieldError(name, "is not a field that can be filtered on"))
            continue
        try:
            op = Op(cond.op)
        except ValueError:
            errors.append(FieldError(name, f"unknown operator {cond.op!r}"))
            continue
        if op not in spec.ops:
            allowed = ", ".join(o.value for o in Op if o in spec.ops)
            errors.append(FieldError(name, f"operator {op.value} is not allowed (use {allowed})"))
            continue
        try:
            out.append(_compile_one(spec, op, cond.value, now))
        except _Bad as bad:
            errors.append(FieldError(name, str(bad)))
    if errors:
        raise ValidationFailed(errors)
    return out


def check_conditions(
    catalog: Mapping[str, FieldSpec], conditions: Sequence[Condition], *, prefix: str = "filters"
) -> None:
    """Raise :class:`ValidationFailed` naming every unknown field, refused operator or bad value.

    ``catalog`` is :data:`CUSTOMER_FIELDS` or :data:`ACTION_FIELDS`; error fields read
    ``<prefix>.<path>`` (just ``<path>`` with an empty prefix).
    """
    _compile(catalog, conditions, now=_CHECK_NOW, prefix=prefix)


_CHECK_NOW: Final = datetime(2000, 1, 1, tzinfo=UTC)


def customer_conditions(
    conditions: Sequence[Condition], *, prefix: str = "filters"
) -> list[ColumnElement[bool]]:
    """SQL conditions over ``customers`` for ``conditions`` (ANDed by the caller)."""
    return _compile(CUSTOMER_FIELDS, conditions, now=None, prefix=prefix)


def action_conditions(
    conditions: Sequence[Condition], *, now: datetime, prefix: str = "filters"
) -> list[ColumnElement[bool]]:
    """SQL conditions over ``customer_actions`` joined to its ``customers`` row.

    ``now`` decides effective statuses.
    """
    return _compile(ACTION_FIELDS, conditions, now=now, prefix=prefix)


# --- scope -------------------------------------------------------------------------------------


def team_member_ids(organization_id: str, manager_id: str) -> Any:
    """``SELECT id FROM employees`` of the manager's direct reports (a subquery)."""
    e = t.employees.c
    return select(e.id).where(e.organization_id == organization_id, e.manager_id == manager_id)


def _reach(scope: ScopeFilter, assignee: ColumnElement[Any]) -> ColumnElement[bool]:
    assert scope.employee_id is not None
    if scope.kind is Reach.OWN:
        return assignee == scope.employee_id
    return or_(
        assignee == scope.employee_id,
        assignee.in_(team_member_ids(scope.organization_id, scope.employee_id)),
    )


def customer_scope(scope: ScopeFilter) -> ColumnElement[bool]:
    """The customers ``scope`` admits: the organization, then ALL / TEAM / OWN / NONE."""
    c = t.customers.c
    if scope.kind is Reach.NONE:
        return false()
    org = c.organization_id == scope.organization_id
    if scope.kind is Reach.ALL:
        return org
    return and_(org, _reach(scope, c.assigned_employee_id))


def action_scope(scope: ScopeFilter) -> ColumnElement[bool]:
    """The actions ``scope`` admits (the query joins ``customers`` on the action's customer).

    TEAM/OWN: the action's assignee *or* its customer's assignee is within reach.
    """
    a = t.customer_actions.c
    if scope.kind is Reach.NONE:
        return false()
    org = a.organization_id == scope.organization_id
    if scope.kind is Reach.ALL:
        return org
    return and_(
        org, or_(_reach(scope, a.assigned_to), _reach(scope, t.customers.c.assigned_employee_id))
    )


# --- sorting and keyset ------------------------------------------------------------------------


@frozen(eq=False)
class SortSpec:
    """A sortable field: its SQL key, the type of its cursor value, and whether it can be NULL."""

    name: str
    column: Any
    value_type: ValueType
    nullable: bool = False


def _sorts(
    table: Any, entries: Iterable[tuple[str, str, ValueType, bool]]
) -> Mapping[str, SortSpec]:
    return MappingProxyType(
        {name: SortSpec(name, table.c[col], vt, nullable) for name, col, vt, nullable in entries}
    )


CUSTOMER_SORTS: Mapping[str, SortSpec] = _sorts(
    t.customers,
    [
        ("name", "name", _T, False),
        ("createdAt", "created_at", _DT, False),
        ("updatedAt", "updated_at", _DT, False),
        ("leadScore", "lead_score", _I, False),
        ("lastContactAt", "last_contact_at", _DT, True),
        ("dealValue", "total_deal_value", _D, True),
        ("totalDealValue", "total_deal_value", _D, True),
        ("priority", "priority_rank", _I, False),
    ],
)
"""Sort fields of the customers list (``dealValue`` = ``totalDealValue``; priority by rank)."""

ACTION_SORTS: Mapping[str, SortSpec] = _sorts(
    t.customer_actions,
    [
        ("createdAt", "created_at", _DT, False),
        ("updatedAt", "updated_at", _DT, False),
        ("dueDate", "due_date", _DT, True),
        ("priority", "priority_rank", _I, False),
    ],
)
"""Sort fields of the actions list (priority by rank)."""


def sort_spec(catalog: Mapping[str, SortSpec], name: str, *, field: str = "sortBy") -> SortSpec:
    """The sort field ``name`` of ``catalog``, or :class:`ValidationFailed` on ``field``."""
    spec = catalog.get(name)
    if spec is None:
        raise ValidationFailed.single(field, "must be one of " + ", ".join(catalog))
    return spec


def order_by(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    reverse: bool = False,
    column: Any = None,
) -> list[Any]:
    """ORDER BY terms: the field (NULLs always last), then ``id`` in the same direction.

    Both terms run the same way, so one index ``(organization_id, field, id)`` (scanned forwards
    or backwards) yields the order, and a cursor is one row-value range of that index.
    ``reverse`` flips the whole order (NULLs first) to read a previous page backwards.
    ``column`` replaces the field's column (the same field read from a subquery).
    """
    down = descending != reverse
    col = spec.column if column is None else column
    key = col.desc() if down else col.asc()
    if spec.nullable:
        key = key.nulls_first() if reverse else key.nulls_last()
    return [key, id_column.desc() if down else id_column.asc()]


def keyset_ranges(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    value: object,
    row_id: str,
    after: bool,
    inclusive: bool = False,
) -> list[ColumnElement[bool]]:
    """The rows strictly after (``after=True``) or before the position ``(value, row_id)`` in
    the order of :func:`order_by` (``inclusive`` also keeps the position's own row), as one or
    two conditions — each one contiguous range of that order, listed in the order a scan meets
    them, and each one an index seek on ``(organization_id, field, id)``:

    * a NOT NULL field: the row value ``(field, id) < (value, row_id)`` (``>`` the other way),
      which SQLite (3.15+) and PostgreSQL both turn into an index range start;
    * a nullable field (NULLs last in both directions) in the non-NULL region:
      ``field IS NOT NULL AND (field, id) < (value, row_id)``, then — reading on — every
      ``field IS NULL`` row;
    * in the NULL region: ``field IS NULL AND id < row_id`` (reading back towards the
      non-NULL rows: that, then every ``field IS NOT NULL`` row).

    ORed together (:func:`keyset_condition`) no index can seek the disjunction, so the list
    query runs each range as its own ordered, limited branch of a ``UNION ALL``.
    """
    col = spec.column
    # "forward" = further along means smaller values: compare with "<".
    forward = descending == after

    def beyond(left: Any, right: Any) -> ColumnElement[bool]:
        if forward:
            compared: ColumnElement[bool] = left <= right if inclusive else left < right
        else:
            compared = left >= right if inclusive else left > right
        return compared

    def rows_beyond() -> ColumnElement[bool]:
        return beyond(tuple_(col, id_column), tuple_(_bound(col, value), _bound(id_column, row_id)))

    if not spec.nullable:
        if value is None:
            raise ValueError(f"{spec.name} cannot be NULL")
        return [rows_beyond()]
    non_null, null = col.is_not(None), col.is_(None)
    if after:
        if value is None:
            return [and_(null, beyond(id_column, row_id))]
        return [and_(non_null, rows_beyond()), null]
    if value is None:
        return [and_(null, beyond(id_column, row_id)), non_null]
    return [and_(non_null, rows_beyond())]


def _bound(column: Any, value: object) -> Any:
    """``value`` as a parameter of ``column``'s type (UTC datetimes keep their conversion)."""
    return literal(value, type_=column.type)


def keyset_condition(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    value: object,
    row_id: str,
    after: bool,
    inclusive: bool = False,
) -> ColumnElement[bool]:
    """The ranges of :func:`keyset_ranges` as one condition (ORed when there are two)."""
    ranges = keyset_ranges(
        spec,
        id_column,
        descending=descending,
        value=value,
        row_id=row_id,
        after=after,
        inclusive=inclusive,
    )
    return or_(*ranges) if len(ranges) > 1 else ranges[0]


# --- free text and due-date buckets ------------------------------------------------------------

_PHONE_LIKE: Final = re.compile(r"[\d\s+\-().]+")


def is_phone_like(text: str) -> bool:
    """True when ``text`` reads as a phone number (digits, spaces, ``+ - ( ) .``) with digits."""
    stripped = text.strip()
    return bool(_PHONE_LIKE.fullmatch(stripped)) and bool(phone_query_digits(stripped))


def customer_search(text: str) -> ColumnElement[bool] | None:
    """The customers list's ``search``: every normalized term in the name (Arabic or English,
    ``name_search``) or the email; a phone-like text matches the phone digits instead.

    None when the text normalizes to nothing (no condition).
    """
    norm = normalize_search_text(text)
    if not norm:
        return None
    c = t.customers.c
    terms = [
        or_(_contains(c.name_search, term), _contains(func.lower(c.email), term))
        for term in dict.fromkeys(norm.split())
    ]
    by_text = and_(*terms) if len(terms) > 1 else terms[0]
    if is_phone_like(to_ascii_digits(text)):
        return or_(by_text, _contains(c.phone_digits, phone_query_digits(text)))
    return by_text


def action_search(text: str) -> ColumnElement[bool] | None:
    """The actions list's ``search``: every normalized term in the action's ``search_text``
    (customer name, title and description)."""
    terms = list(dict.fromkeys(normalize_search_text(text).split()))
    if not terms:
        return None
    col = t.customer_actions.c.search_text
    parts = [_contains(col, term) for term in terms]
    return and_(*parts) if len(parts) > 1 else parts[0]


def due_bucket_condition(bucket: DueDateBucket, now: datetime, tz: tzinfo) -> ColumnElement[bool]:
    """Actions in a due-date bucket (:func:`customers_hub.domain.inbox.bucket_bounds`).

    ``overdue`` also needs an open effective status; ``no_date`` is ``due_date IS NULL``.
    """
    due = t.customer_actions.c.due_date
    if bucket is DueDateBucket.NO_DATE:
        return due.is_(None)
    start, end = bucket_bounds(bucket, now, tz)
    if bucket is DueDateBucket.OVERDUE:
        assert end is not None
        return and_(due < end, effective_status_in(OPEN_STATUSES, now))
    assert start is not None
    assert end is not None
    return and_(due >= start, due < end)

"""The field catalogs: where each API field path lives, its type and its operators."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final

from attrs import frozen

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.mappers import (
    FACET_AREA,
    FACET_CITY,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
)
from customers_hub.application.queries import Op
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    Priority,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.privacy import ConsentChannel

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
    CONSENT = "consent"
    """The customer's current consent on a channel (``customer_consents``): eq granted, ne not
    granted (never asked counts as not granted). The list's ``consent=`` parameter only."""


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
    FieldSpec("consent", _E, frozenset({Op.EQ, Op.NE}), How.CONSENT, enum=ConsentChannel),
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

"""The field catalogs: where each API field path lives, its type and its operators.

Derived from the application's catalogs (``application.use_cases.catalog``, which reads the
domain's :func:`~customers_hub.domain.fields.listed` marks): a path is the column named as its
snake_case form, or a key of the ``preferences`` JSON column, with the catalog's type,
operators and nullability. Only the exceptions are written here (facets, ranks, text modes,
the budget overlap, the joined customer's fields of an action).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final

import attrs
from attrs import frozen

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.mappers import (
    FACET_AREA,
    FACET_CITY,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
)
from customers_hub.application.queries import Op
from customers_hub.application.use_cases.catalog import (
    ACTION_CATALOG,
    CUSTOMER_CATALOG,
    FieldCatalog,
    ValueKind,
)
from customers_hub.domain.naming import snake_case
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


_T, _E, _I, _D, _DT, _DA = (
    ValueType.TEXT,
    ValueType.ENUM,
    ValueType.INT,
    ValueType.DECIMAL,
    ValueType.DATETIME,
    ValueType.DATE,
)

_VALUE_TYPES: Final[Mapping[ValueKind, ValueType]] = MappingProxyType(
    {
        ValueKind.ID: ValueType.TEXT,
        ValueKind.TEXT: ValueType.TEXT,
        ValueKind.ENUM: ValueType.ENUM,
        ValueKind.INTEGER: ValueType.INT,
        ValueKind.DECIMAL: ValueType.DECIMAL,
        ValueKind.DATE: ValueType.DATE,
        ValueKind.DATETIME: ValueType.DATETIME,
    }
)


def _derived(
    catalog: FieldCatalog, table: str, placed: Mapping[str, Mapping[str, Any]]
) -> tuple[FieldSpec, ...]:
    """The SQL entries of the application's ``catalog``: each path is by default the column of
    ``table`` named as its snake_case form (``lastContactAt`` → ``last_contact_at``) or, under
    ``preferences.``, that key of the ``preferences`` JSON column; type, operators and
    nullability are the catalog's. ``placed`` gives the exceptions (attributes to replace)."""
    specs = []
    for path, entry in catalog.fields.items():
        head, _, key = path.partition(".")
        spec = FieldSpec(
            path,
            _VALUE_TYPES[entry.kind],
            entry.operators,
            How.JSON if key else How.COLUMN,
            table=table,
            column=None if key else snake_case(head),
            enum=entry.enum,
            json_key=key or None,
            nullable=entry.nullable or bool(key),
        )
        specs.append(attrs.evolve(spec, **placed.get(path, {})))
    return tuple(specs)


def _facet(kind: str) -> Mapping[str, Any]:
    return {
        "how": How.FACET,
        "table": "customers",
        "facet": kind,
        "column": None,
        "json_key": None,
        "nullable": True,
    }


# Range overlap with the customer's budget (the list parameters budgetMin / budgetMax).
_BUDGET: Final[Mapping[str, Mapping[str, Any]]] = {
    "budgetMin": {
        "how": How.BUDGET_REACHES,
        "table": "customers",
        "column": None,
        "nullable": True,
    },
    "budgetMax": {
        "how": How.BUDGET_STARTS_BY,
        "table": "customers",
        "column": None,
        "nullable": True,
    },
}

_CUSTOMER_SPECS: tuple[FieldSpec, ...] = (
    *_derived(
        CUSTOMER_CATALOG,
        "customers",
        {
            "name": {"text_mode": TextMode.NAME},
            "nameEn": {"text_mode": TextMode.LOWER},
            "phone": {"text_mode": TextMode.PHONE},
            "email": {"text_mode": TextMode.LOWER},
            "stage": {"how": How.STAGE},
            "priority": {"how": How.RANK, "column": "priority_rank"},
            "tags": _facet(FACET_TAG),
            # The budget's ends are columns too (indexed): the range filters read them.
            "preferences.budgetMin": {"how": How.COLUMN, "column": "budget_min", "json_key": None},
            "preferences.budgetMax": {"how": How.COLUMN, "column": "budget_max", "json_key": None},
            "preferences.propertyType": _facet(FACET_PROPERTY_TYPE),
            "preferences.preferredAreas": _facet(FACET_AREA),
            "preferences.preferredCities": _facet(FACET_CITY),
            **_BUDGET,
        },
    ),
    # The list's ``consent=`` parameter only (no catalog path).
    FieldSpec(
        "consent", ValueType.ENUM, frozenset({Op.EQ, Op.NE}), How.CONSENT, enum=ConsentChannel
    ),
)

_ACTION_SPECS: tuple[FieldSpec, ...] = _derived(
    ACTION_CATALOG,
    "customer_actions",
    {
        "status": {"how": How.EFFECTIVE_STATUS, "column": None},
        "priority": {"how": How.RANK, "column": "priority_rank"},
        # The customer's side (joined): city, state (= region), budget overlap, property types.
        "city": {"table": "customers"},
        "state": {"table": "customers", "column": "region"},
        **_BUDGET,
        "propertyType": _facet(FACET_PROPERTY_TYPE),
    },
)

CUSTOMER_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({s.path: s for s in _CUSTOMER_SPECS})
"""Fields a customers list/query/search condition may name, by API path."""

ACTION_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({s.path: s for s in _ACTION_SPECS})
"""Fields an actions list condition may name (``city``, ``state``, ``budgetMin``, ``budgetMax``
and ``propertyType`` are the action's customer's)."""

_TABLES: Mapping[str, Any] = MappingProxyType(
    {"customers": t.customers, "customer_actions": t.customer_actions}
)

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

from customers_hub.adapters.sql.filters.conditions import (
    action_conditions,
    check_conditions,
    customer_conditions,
    effective_status_expr,
    effective_status_in,
    like,
    like_escape,
    text_literal,
)
from customers_hub.adapters.sql.filters.fields import (
    ACTION_FIELDS,
    CUSTOMER_FIELDS,
    EQUALITY_OPS,
    ORDER_OPS,
    TEXT_OPS,
    FieldSpec,
    How,
    TextMode,
    ValueType,
)
from customers_hub.adapters.sql.filters.ordering import (
    ACTION_SORTS,
    CUSTOMER_SORTS,
    SortSpec,
    keyset_condition,
    keyset_ranges,
    order_by,
    sort_spec,
)
from customers_hub.adapters.sql.filters.scope import (
    action_scope,
    customer_scope,
    team_member_ids,
)
from customers_hub.adapters.sql.filters.search import (
    action_search,
    customer_search,
    due_bucket_condition,
    is_phone_like,
)

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
    "like",
    "like_escape",
    "order_by",
    "sort_spec",
    "team_member_ids",
    "text_literal",
]

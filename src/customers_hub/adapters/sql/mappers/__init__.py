"""Row ↔ entity conversion for the SQL adapter.

A column and the entity's field of the same name map one to one by one generic step
(:mod:`.rows`: ``row_values`` and ``from_row``, typed by the field), so a mapper spells only its
exceptions and a new field needs no line here; a field lost on the way shows up in the
round-trip tests rather than in production. The JSON columns
(``preferences``, ``ai_insights``, ``ksa_compliance``, ``source_details``, ``metadata``, ``tags``)
go through one cattrs converter, :data:`json_converter`:

* keys are camelCase, as in the API document (``preferences.budgetMin``), so a JSON path used by
  the read side is the API's field path;
* ``Decimal`` is a string (exact), ``date``/``datetime`` ISO 8601, enums their value, tuples lists.

Derived columns are computed here and nowhere else: ``name_search``, ``phone_digits``,
``budget_min``/``budget_max``, ``priority_rank``, the duplicate keys (``name_key``,
``name_en_key``, ``city_key``, ``email_key``, from
:func:`~customers_hub.domain.duplicates.duplicate_keys`), an action's ``search_text`` and the
rows of ``customer_facets`` (see :func:`facet_value` for the normalization queries must use too).

Order: a customer's stage history is ordered by ``seq`` (1-based); property interests have no
position column and come back ordered by ``(added_at, id)`` — the order the domain appends them in.
"""

from __future__ import annotations

from customers_hub.adapters.sql.mappers.actions import (
    ACTION_COLUMNS_KEPT_BY_THE_DATABASE,
    action_from_row,
    action_search_text,
    action_values,
    note_from_row,
    note_values,
)
from customers_hub.adapters.sql.mappers.base import (
    DEFAULT_TIME_ZONE,
    FACET_AREA,
    FACET_CITY,
    FACET_KINDS,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
    from_json,
    json_converter,
    to_json,
)
from customers_hub.adapters.sql.mappers.customers import (
    customer_from_row,
    customer_values,
    facet_rows,
    facet_value,
    history_from_row,
    history_values,
    interest_from_row,
    interest_values,
)
from customers_hub.adapters.sql.mappers.organization import (
    employee_from_row,
    employee_values,
    property_from_row,
    property_values,
    settings_from_row,
    settings_values,
)
from customers_hub.adapters.sql.mappers.relations import (
    appointment_from_row,
    appointment_values,
    document_from_row,
    document_values,
    interaction_from_row,
    interaction_values,
    reminder_from_row,
    reminder_values,
)

__all__ = [
    "ACTION_COLUMNS_KEPT_BY_THE_DATABASE",
    "DEFAULT_TIME_ZONE",
    "FACET_AREA",
    "FACET_CITY",
    "FACET_KINDS",
    "FACET_PROPERTY_TYPE",
    "FACET_TAG",
    "action_from_row",
    "action_search_text",
    "action_values",
    "appointment_from_row",
    "appointment_values",
    "customer_from_row",
    "customer_values",
    "document_from_row",
    "document_values",
    "employee_from_row",
    "employee_values",
    "facet_rows",
    "facet_value",
    "from_json",
    "history_from_row",
    "history_values",
    "interaction_from_row",
    "interaction_values",
    "interest_from_row",
    "interest_values",
    "json_converter",
    "note_from_row",
    "note_values",
    "property_from_row",
    "property_values",
    "reminder_from_row",
    "reminder_values",
    "settings_from_row",
    "settings_values",
    "to_json",
]

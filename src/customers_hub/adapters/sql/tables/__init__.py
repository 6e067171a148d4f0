"""The SQL schema (SQLAlchemy Core): the API document's tables plus what a multi-tenant,
million-row service needs.

Additions to the document's schema, and why:
- ``organization_id`` on every table, leading every index: each query is one organization's.
- ``version`` on customers and actions: optimistic concurrency (no lost update).
- ``name_search`` / ``phone_digits`` / ``search_text``: normalized search columns (rules §6),
  written by the adapter from :mod:`customers_hub.domain.search_text`.
- ``priority_rank``: sorting by priority uses urgent > high > medium > low, never the alphabet.
- ``budget_min`` / ``budget_max`` copied out of ``preferences``: range filters use an index.
- ``customer_facets``: one row per tag, preferred property type, area and city, so "has any of"
  filters are indexed lookups on SQLite and PostgreSQL alike (no JSON operators per dialect).
- ``employees``, ``action_notes``, ``documents`` and ``properties`` (the catalog).
- ``organization_settings``: one row per organization that changed its settings (rules §9).
- Live phones are unique per organization (a partial unique index), not globally.
- Every foreign key is served by an index whose leading columns are the key's (a cascading
  delete of a customer or an action looks its children up by that index, not by a scan);
  ``tests/integration/test_sql_indexes.py`` reads the migrated catalog and fails on any other.

Timestamps are stored as UTC and always read back timezone-aware (:class:`UtcDateTime`).

The package holds one module per concern (:mod:`.base`: ``metadata`` and the column types;
``customers``, ``relations``, ``actions``, ``organization``, ``operations``, ``privacy``,
``imports``, ``assignment``, ``merges``, ``counters``); every table and constant is
re-exported here, so ``tables.customers`` and ``from …tables import metadata`` keep working.
"""

from __future__ import annotations

from customers_hub.adapters.sql.tables.actions import (
    action_notes,
    customer_actions,
)
from customers_hub.adapters.sql.tables.assignment import (
    assignment_rule_employees,
    assignment_rules,
)
from customers_hub.adapters.sql.tables.base import (
    Json,
    Money,
    UtcDateTime,
    id_column,
    metadata,
    org_column,
)
from customers_hub.adapters.sql.tables.counters import (
    ASSIGNED_ELSEWHERE,
    CLOSED_STAGES_SQL,
    LISTED_CUSTOMERS,
    LIVE_OPEN_ACTIONS,
    LIVE_SNOOZED_ACTIONS,
    OPEN_ACTIONS,
    SNOOZED_ACTIONS,
    action_counters,
    customer_counters,
)
from customers_hub.adapters.sql.tables.customers import (
    customer_facets,
    customers,
    employees,
    stage_history,
)
from customers_hub.adapters.sql.tables.imports import (
    import_errors,
    import_jobs,
)
from customers_hub.adapters.sql.tables.merges import (
    customer_merges,
)
from customers_hub.adapters.sql.tables.operations import (
    Position,
    audit_log,
    idempotency_keys,
    outbox,
    outbox_cursors,
    webhook_deliveries,
    webhooks,
)
from customers_hub.adapters.sql.tables.organization import (
    organization_settings,
    properties,
)
from customers_hub.adapters.sql.tables.privacy import (
    consent_events,
    customer_consents,
    privacy_requests,
)
from customers_hub.adapters.sql.tables.relations import (
    BLOCKING_APPOINTMENTS,
    appointments,
    documents,
    interactions,
    property_interests,
    reminders,
)

__all__ = [
    "ASSIGNED_ELSEWHERE",
    "BLOCKING_APPOINTMENTS",
    "CLOSED_STAGES_SQL",
    "LISTED_CUSTOMERS",
    "LIVE_OPEN_ACTIONS",
    "LIVE_SNOOZED_ACTIONS",
    "OPEN_ACTIONS",
    "SNOOZED_ACTIONS",
    "Json",
    "Money",
    "Position",
    "UtcDateTime",
    "action_counters",
    "action_notes",
    "appointments",
    "assignment_rule_employees",
    "assignment_rules",
    "audit_log",
    "consent_events",
    "customer_actions",
    "customer_consents",
    "customer_counters",
    "customer_facets",
    "customer_merges",
    "customers",
    "documents",
    "employees",
    "id_column",
    "idempotency_keys",
    "import_errors",
    "import_jobs",
    "interactions",
    "metadata",
    "org_column",
    "organization_settings",
    "outbox",
    "outbox_cursors",
    "privacy_requests",
    "properties",
    "property_interests",
    "reminders",
    "stage_history",
    "webhook_deliveries",
    "webhooks",
]

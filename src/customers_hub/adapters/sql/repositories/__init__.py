"""SQL repositories (SQLAlchemy Core on one ``AsyncConnection`` shared by a unit of work).

Rules every method follows:

* every statement filters by ``organization_id`` (the one exception is
  :meth:`SqlActionRepository.snoozed_due`, the cross-organization wake-up scan the port defines);
* relations are loaded set-based — one statement per table, whatever the number of rows;
* writes of an aggregate check its ``version`` in the ``WHERE`` clause: a version that moved
  raises :class:`~customers_hub.application.errors.ConcurrentUpdate` and writes nothing;
* repositories never commit: the unit of work does.

Each repository remembers the aggregates it loaded in this transaction, so ``save`` writes only
what changed: the new stage-history entries (history is append-only), new or changed property
interests, the facets when tags or preferences changed, and new action notes. A ``save`` of an
aggregate this repository did not load falls back to idempotent inserts (``ON CONFLICT (id) DO
NOTHING`` / ``DO UPDATE``), so it is still correct, only less economical.

Every write is also recorded in the unit of work's change log (a list of
:class:`~customers_hub.domain.audit.Change`: the entity before — the loaded snapshot — and
after), which the audit trail turns into entries at commit. Recording costs no statement.
"""

from __future__ import annotations

from customers_hub.adapters.sql.repositories.actions import (
    SqlActionRepository,
)
from customers_hub.adapters.sql.repositories.base import (
    ChangeLog,
)
from customers_hub.adapters.sql.repositories.catalog import (
    SqlEmployeeRepository,
    SqlOrganizationSettingsRepository,
    SqlPropertyCatalog,
)
from customers_hub.adapters.sql.repositories.customers import (
    SqlCustomerRepository,
)
from customers_hub.adapters.sql.repositories.relations import (
    SqlRelationRepository,
)

__all__ = [
    "ChangeLog",
    "SqlActionRepository",
    "SqlCustomerRepository",
    "SqlEmployeeRepository",
    "SqlOrganizationSettingsRepository",
    "SqlPropertyCatalog",
    "SqlRelationRepository",
]

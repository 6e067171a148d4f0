"""In-memory fakes of every write port, for fast use-case tests.

The fakes keep the transactional semantics of the SQL adapter:

- A :class:`FakeUnitOfWork` works on a *copy* of the :class:`InMemoryStore` taken when it is
  entered; ``commit()`` writes the changed records back, and leaving without a commit throws the
  copy away. A use case that fails therefore leaves nothing behind.
- ``save(..., expected_version=…)`` raises
  :class:`~customers_hub.application.errors.ConcurrentUpdate` when the stored version differs;
  ``commit()`` raises it too when a versioned record (customer, action) that this unit of work
  changed was committed by someone else in between.
- A live customer's phone is unique per organization (``Duplicate(field="phone")``), a
  (customer, property) interest exists once (``Duplicate(field="propertyId")``).
- Every lookup is scoped by organization: another organization's record reads as absent.

To exercise the retry path, :meth:`InMemoryStore.fail_next_commits` makes the next commits raise
``ConcurrentUpdate`` (discarding their work). :func:`build_fake_dependencies` wires everything
into a :class:`~customers_hub.application.context.Dependencies`; the read-side query ports are
:class:`UnavailableQueries` placeholders (read-side use cases are tested against SQLite).
:func:`seed_staff` puts a small sales team (admin, manager with an agent, an agent outside the
team, a viewer, an inactive agent) into a store, for access tests.
"""

from __future__ import annotations

from customers_hub.testing.fakes.services import (
    FixedClock,
    InMemoryDocumentStorage,
    RecordingPublisher,
    SequentialIds,
    Staff,
    UnavailableActionQueries,
    UnavailableCustomerQueries,
    UnavailableEmployeeQueries,
    UnavailableQueries,
    build_fake_dependencies,
    seed_staff,
)
from customers_hub.testing.fakes.store import (
    DEFAULT_NOW,
    RELATION_KINDS,
    FakeActionRepository,
    FakeCustomerRepository,
    FakeEmployeeRepository,
    FakeOrganizationSettingsRepository,
    FakeRelationRepository,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    InMemoryPropertyCatalog,
    InMemoryStore,
)

__all__ = [
    "DEFAULT_NOW",
    "RELATION_KINDS",
    "FakeActionRepository",
    "FakeCustomerRepository",
    "FakeEmployeeRepository",
    "FakeOrganizationSettingsRepository",
    "FakeRelationRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FixedClock",
    "InMemoryDocumentStorage",
    "InMemoryPropertyCatalog",
    "InMemoryStore",
    "RecordingPublisher",
    "SequentialIds",
    "Staff",
    "UnavailableActionQueries",
    "UnavailableCustomerQueries",
    "UnavailableEmployeeQueries",
    "UnavailableQueries",
    "build_fake_dependencies",
    "seed_staff",
]

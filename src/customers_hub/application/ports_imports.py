"""Ports of the customer import (issue 12): the job store, the file reader, and what the
import use cases take besides :class:`~customers_hub.application.context.Dependencies`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page, PageRequest
from customers_hub.domain.imports import ImportJob, ImportStatus, RowError
from customers_hub.domain.model import Customer

__all__ = [
    "ExistingCustomer",
    "ImportFileReader",
    "ImportRepository",
    "ImportRepositoryFactory",
    "ImportServices",
    "ImportTable",
]


@frozen
class ExistingCustomer:
    """A live customer sharing a duplicate key with rows of a batch: its keys and its
    assignee (with the assignee's manager, for the caller's scope)."""

    id: str
    phone: str
    whatsapp: str | None
    national_id: str | None
    email_key: str | None
    assigned_employee_id: str | None
    assignee_manager_id: str | None


class ImportRepository(Protocol):
    """Import jobs, their report, and the set-based writes of a batch, on one unit of work."""

    async def add_job(self, job: ImportJob) -> None:
        """Insert a new job."""
        ...

    async def get_job(self, organization_id: str, job_id: str) -> ImportJob | None:
        """The job, or None when absent in this organization."""
        ...

    async def claimable(self, now: datetime, limit: int) -> list[ImportJob]:
        """Jobs a runner may take: queued ones, and running ones whose lease expired; oldest
        first."""
        ...

    async def claim(
        self, job: ImportJob, owner: str, now: datetime, lease_until: datetime
    ) -> ImportJob | None:
        """Take ``job`` for ``owner`` (running, a fresh lease, one more attempt) if it is still
        as read (nobody took it meanwhile); the claimed job, else None."""
        ...

    async def save_progress(
        self,
        job: ImportJob,
        owner: str,
        *,
        status: ImportStatus,
        lease_until: datetime | None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        """Write the counters, ``next_row``, status and lease of ``job`` if ``owner`` still
        holds its lease; False when it lost it (the batch must be rolled back)."""
        ...

    async def fail_job(self, job: ImportJob, error: str, now: datetime) -> None:
        """Mark ``job`` failed with ``error`` (whoever held it)."""
        ...

    async def restart_job(self, job: ImportJob) -> None:
        """Reset a job's counters, report and ``next_row`` (a dry run resumed from its start)."""
        ...

    async def add_errors(self, job: ImportJob, errors: Sequence[RowError]) -> None:
        """Append report lines (multi-row INSERTs)."""
        ...

    async def errors_page(
        self, organization_id: str, job_id: str, page: PageRequest
    ) -> Page[RowError]:
        """One page of the report, by row then order."""
        ...

    def iter_errors(self, organization_id: str, job_id: str, batch: int) -> _ErrorBatches:
        """The whole report in keyset batches (for the CSV)."""
        ...

    async def find_existing(
        self,
        organization_id: str,
        phones: Sequence[str],
        national_ids: Sequence[str],
        emails: Sequence[str],
    ) -> list[ExistingCustomer]:
        """Live customers of the organization with one of these phones (as phone or WhatsApp),
        national ids or e-mail keys (one statement)."""
        ...

    async def insert_customers(self, customers: Sequence[Customer]) -> None:
        """Insert new customers with their stage history and facets (multi-row INSERTs)."""
        ...

    async def update_customers(self, changes: Sequence[tuple[Customer, Customer]]) -> None:
        """Write ``(before, after)`` pairs of locked customers (their facets too)."""
        ...

    async def lock_customers(self, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids``, locked for update until the transaction ends."""
        ...


class _ErrorBatches(Protocol):
    def __aiter__(self) -> _ErrorBatches: ...

    async def __anext__(self) -> list[RowError]: ...


ImportRepositoryFactory = Callable[[UnitOfWork], ImportRepository]
"""The import repository on a unit of work's transaction."""


class ImportTable(Protocol):
    """An uploaded file opened for reading: its header and its data rows."""

    file_format: str
    headers: tuple[str, ...]

    def rows(self, start: int = 0) -> Iterator[tuple[int, list[str]]]:
        """``(row number, cells as text)`` of each non-blank data row from index ``start``
        (0-based among the non-blank data rows); the header is row 1."""
        ...

    def close(self) -> None:
        """Release what reading holds."""
        ...


class ImportFileReader(Protocol):
    """Opens the bytes of an upload (CSV in UTF-8 with or without BOM, or XLSX)."""

    def open(self, content: bytes, file_name: str) -> ImportTable:
        """The table, or :class:`~customers_hub.domain.errors.ValidationFailed` naming
        ``file``."""
        ...


@frozen
class ImportServices:
    """The ports of the import use cases and its runner (``Dependencies.imports``)."""

    repositories: ImportRepositoryFactory
    reader: ImportFileReader

"""Import customers from a CSV or XLSX file (issue 12, Deliver 1; rules §10 "Import").

:func:`start_import` checks the caller and the file at once (403 / one 400 naming ``file``,
``mapping``, ``mapping.<column>``), stores the upload (the document storage, until the job
ends) and records a ``queued`` job. A runner — the HTTP service's background worker, or the
CLI in-process — then runs it with :func:`~.import_runs.run_next_import` /
:func:`~.import_runs.run_import`:

* rows are read in batches of :data:`~.import_runs.IMPORT_BATCH_SIZE`; each batch is **one
  transaction**: the duplicate lookup of its keys (one statement), multi-row INSERTs of its
  customers, their stage history and facets, the updates, the system actions when asked, its
  report lines, the job's progress and heartbeat — and the commit hooks' outbox event and
  audit entries;
* each row goes through what ``POST /customers`` does: the draft's validation, the assignee's
  rules (an active employee in the importer's reach; a manager's rows without an assignee are
  the manager's, like the create endpoint), :func:`~customers_hub.domain.customers.
  new_customer` (``new_lead``, the system history entry, the lead score); rows still without
  an assignee go through the assignment rules (``plan_assignments`` before the insert,
  ``record_assignments`` after it: pointers, audit rule id, ``customer.assigned``);
* duplicates (§10 keys: phone digits of phone and WhatsApp, national id, e-mail) are looked up
  within the file and in the organization and handled per ``onDuplicate``
  (:func:`~customers_hub.domain.imports.plan_row`);
* system actions of §2 only with ``createActions`` (an old lead list must not flood the inbox);
  catalog matching (``aiInsights.propertyMatches`` and its action) is not run on import: it
  costs a catalog query per row, and the next update of the customer's preferences runs it;
* **restarts**: the job holds a lease (:data:`~.import_runs.LEASE`) renewed by every batch; a
  runner that dies leaves a ``running`` job whose lease expires, and the next runner takes it
  over from ``next_row`` (the first row not committed). After
  :data:`~.import_runs.MAX_ATTEMPTS` runs it is marked ``failed``, never left ``running``. A
  dry run taken over starts again from its first row (what it remembered of earlier rows died
  with its runner);
* a **dry run** writes nothing but the job and its report.

Events: each committed batch of a real import emits ``customers.imported`` with its counts (the
cache of customer lists and statistics is invalidated once per batch, not per customer); the
last one carries ``final: true`` and the totals, and is the job's audit entry. Each created or
updated customer has its own audit entry (one multi-row INSERT per batch); ``customer.created``
is not emitted per imported customer (webhook receivers get ``customers.imported``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Final

from attrs import frozen

from customers_hub.application.context import Dependencies, present
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_imports import (
    ImportTable,
)
from customers_hub.application.queries import Page, PageRequest
from customers_hub.application.use_cases.export import EXPORT_COLUMNS
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import access
from customers_hub.domain.access import (
    Operation,
)
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    UnprocessableInput,
    ValidationFailed,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.imports import (
    ImportJob,
    ImportStatus,
    OnDuplicate,
    RowError,
    header_aliases,
    resolve_mapping,
)
from customers_hub.domain.model import Actor

__all__ = [
    "ERRORS_DEFAULT_LIMIT",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ROWS",
    "IMPORT_RESOURCE",
    "IMPORT_ROLES",
    "ImportUpload",
    "Progress",
    "get_import",
    "import_aliases",
    "import_error_batches",
    "list_import_errors",
    "start_import",
]

IMPORT_MAX_ROWS: Final = 200_000
"""Data rows one file may hold (the issue's largest lead lists)."""
IMPORT_MAX_BYTES: Final = 64 * 1024 * 1024
"""Largest upload."""
ERRORS_DEFAULT_LIMIT: Final = 50
IMPORT_ROLES: Final = frozenset({Role.ADMIN, Role.SALES_MANAGER})
"""Who imports: admins (any assignee of the organization) and sales managers (their team)."""

FILE_NAME_MAX_LENGTH: Final = 255
_UNSAFE_NAME: Final = re.compile(r"[\x00-\x1f/\\]+")
IMPORT_RESOURCE: Final = "import"
"""The resource type of an import job in access checks and ``NotFound``."""

Progress = Callable[[ImportJob], None]
"""Called after each committed batch with the job as it stands."""


def import_aliases() -> dict[str, str]:
    """Normalized header → field key: the domain's aliases plus the export's Arabic headers,
    so an export (either header language) imports back without a mapping."""
    return header_aliases((c.label_ar, c.key) for c in EXPORT_COLUMNS)


_ALIASES: Final = import_aliases()


@frozen(kw_only=True)
class ImportUpload:
    """``POST /customers/imports``: the file and the options."""

    content: bytes
    file_name: str
    mapping: Mapping[str, str | None] | None = None
    dry_run: bool = False
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    create_actions: bool = False


def _check_importer(actor: Actor) -> None:
    """Role and token first (viewers have no ``customers.write``), then the import's roles."""
    access.enforce(actor, Operation.CREATE_CUSTOMER, resource_type=IMPORT_RESOURCE, resource_id="")
    if actor.role not in IMPORT_ROLES:
        raise PermissionDenied(
            "Only admins and sales managers import customers",
            required_permission=Permission.CUSTOMERS_WRITE.value,
            current_role=actor.role.value,
        )


def _clean_file_name(name: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", name).strip() or "upload"
    return cleaned[-FILE_NAME_MAX_LENGTH:]


def _count_rows(table: ImportTable) -> int:
    total = 0
    for _ in table.rows():
        total += 1
        if total > IMPORT_MAX_ROWS:
            raise ValidationFailed.single("file", f"has more than {IMPORT_MAX_ROWS} data rows")
    if total == 0:
        raise ValidationFailed.single("file", "has no data rows")
    return total


async def start_import(deps: Dependencies, actor: Actor, upload: ImportUpload) -> ImportJob:
    """Check, store and queue an import; the ``queued`` job (a runner takes it)."""
    _check_importer(actor)
    services = present(deps.imports, "imports")
    if len(upload.content) > IMPORT_MAX_BYTES:
        raise UnprocessableInput.single("file", f"is larger than {IMPORT_MAX_BYTES} bytes")

    def inspect() -> tuple[str, tuple[str, ...], dict[int, str], int]:
        table = services.reader.open(upload.content, upload.file_name)
        try:
            mapping, problems = resolve_mapping(table.headers, upload.mapping, _ALIASES)
            if problems:
                raise ValidationFailed([FieldError(p.field, p.message) for p in problems])
            return table.file_format, table.headers, mapping, _count_rows(table)
        finally:
            table.close()

    try:
        file_format, headers, mapping, total = await asyncio.to_thread(inspect)
    except ValidationFailed as bad:
        # The upload's shape was right; its content is what cannot be read (422).
        raise UnprocessableInput(bad.errors) from None
    now = deps.clock.now()
    job_id = deps.ids.new_id("imp")
    job = ImportJob(
        id=job_id,
        organization_id=actor.organization_id,
        created_by_id=actor.user_id,
        created_by_name=actor.display_name,
        created_by_role=actor.role.value,
        status=ImportStatus.QUEUED,
        file_name=_clean_file_name(upload.file_name),
        file_format=file_format,
        file_key=f"import-{job_id}",
        mapping=mapping,
        headers=headers,
        dry_run=upload.dry_run,
        on_duplicate=upload.on_duplicate,
        create_actions=upload.create_actions,
        total_rows=total,
        created_at=now,
    )
    await deps.storage.put(job.file_key, upload.content)

    async def work(uow: UnitOfWork) -> tuple[ImportJob, list[DomainEvent]]:
        await services.repositories(uow).add_job(job)
        return job, []

    try:
        return await transaction_as(deps, actor, work)
    except BaseException:
        await deps.storage.delete(job.file_key)
        raise


# ---------------------------------------------------------------------------------------------
# Reading a job and its report


def _check_reader(actor: Actor, job: ImportJob | None, job_id: str) -> ImportJob:
    """404 for another organization's (or no) job; admins read every job of theirs, managers
    the jobs they started (403 for the others)."""
    _check_importer(actor)
    if job is None or job.organization_id != actor.organization_id:
        raise NotFound(IMPORT_RESOURCE, job_id)
    if actor.role is not Role.ADMIN and job.created_by_id != actor.user_id:
        raise PermissionDenied(
            "This import was started by someone else",
            required_permission=Permission.CUSTOMERS_WRITE.value,
            current_role=actor.role.value,
        )
    return job


async def get_import(deps: Dependencies, actor: Actor, job_id: str) -> ImportJob:
    """One import job (its progress)."""
    _check_importer(actor)
    repositories = present(deps.imports, "imports").repositories
    async with deps.uow(read_only=True) as uow:
        job = await repositories(uow).get_job(actor.organization_id, job_id)
    return _check_reader(actor, job, job_id)


async def list_import_errors(
    deps: Dependencies,
    actor: Actor,
    job_id: str,
    *,
    page: int = 1,
    limit: int = ERRORS_DEFAULT_LIMIT,
) -> tuple[ImportJob, Page[RowError]]:
    """The job and one page of its report (failed and skipped rows, by row)."""
    _check_importer(actor)
    repositories = present(deps.imports, "imports").repositories
    async with deps.uow(read_only=True) as uow:
        repo = repositories(uow)
        job = _check_reader(actor, await repo.get_job(actor.organization_id, job_id), job_id)
        return job, await repo.errors_page(job.organization_id, job.id, PageRequest(page, limit))


async def import_error_batches(
    deps: Dependencies, actor: Actor, job_id: str
) -> AsyncIterator[list[RowError]]:
    """The whole report in batches (the CSV form); checks the caller before the first."""
    await get_import(deps, actor, job_id)
    repositories = present(deps.imports, "imports").repositories

    async def batches() -> AsyncIterator[list[RowError]]:
        async with deps.uow(read_only=True) as uow:
            repo = repositories(uow)
            async for batch in repo.iter_errors(actor.organization_id, job_id, 1_000):
                yield batch

    return batches()

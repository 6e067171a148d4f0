"""Running a customer import job (issue 12): the batches, restarts and the job's end.

:mod:`.imports` submits a job and reads its report; a runner — the HTTP service's background
worker, or the CLI in-process — runs it here with :func:`run_next_import` / :func:`run_import`
(batches, leases and restarts as :mod:`.imports` describes)."""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, Final

import attrs
from attrs import evolve, frozen

from customers_hub.application.context import Dependencies, present, transaction
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_imports import (
    ExistingCustomer,
    ImportServices,
)
from customers_hub.application.use_cases.assignment import plan_assignments, record_assignments
from customers_hub.application.use_cases.imports import IMPORT_RESOURCE, Progress
from customers_hub.application.use_cases.settings import organization_zone
from customers_hub.application.write_context import acting_as
from customers_hub.domain import access
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import (
    UNKNOWN_ASSIGNEE_REASON,
    Allowed,
    Forbidden,
    InvalidAssignee,
    Operation,
    RecordScope,
    creation_assignee_id,
    decide_create_customer,
)
from customers_hub.domain.duplicates import DuplicateReason
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.errors import (
    NotFound,
    ValidationFailed,
)
from customers_hub.domain.events import CustomerCreated, CustomersImported, DomainEvent
from customers_hub.domain.imports import (
    IMPORT_FIELDS,
    ImportCounts,
    ImportJob,
    ImportStatus,
    ParsedRow,
    RowError,
    RowKey,
    RowOutcome,
    draft_of,
    parse_row,
    patch_of,
    plan_row,
    row_keys,
)
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee
from customers_hub.domain.system_actions import system_actions_for
from customers_hub.domain.validation import (
    CustomerDraft,
    validate_customer_draft,
    validate_customer_patch,
)

__all__ = ["IMPORT_BATCH_SIZE", "LEASE", "MAX_ATTEMPTS", "run_import", "run_next_import"]

IMPORT_BATCH_SIZE: Final = 1_000
"""Rows per transaction."""
LEASE: Final = timedelta(seconds=90)
"""How long a runner holds a job without a heartbeat (a batch takes about a second)."""
MAX_ATTEMPTS: Final = 3
"""Runs a job gets before a job whose runners keep dying is marked failed."""

logger = logging.getLogger(__name__)

# The runner acts as the job's creator with what importing needs (checked at submission).
_RUNNER_PERMISSIONS: Final = frozenset({Permission.CUSTOMERS_READ, Permission.CUSTOMERS_WRITE})


class _LeaseLost(Exception):
    """Another runner took the job over (this one was too slow to renew its lease)."""


@frozen
class _Memory:
    """What the run remembers of the file's earlier written rows (their keys and phones)."""

    rows: dict[RowKey, int] = attrs.field(factory=dict)
    phones: dict[str, int] = attrs.field(factory=dict)


def _runner_actor(job: ImportJob) -> Actor:
    return Actor(
        job.created_by_id,
        job.organization_id,
        Role(job.created_by_role),
        _RUNNER_PERMISSIONS,
        name=job.created_by_name,
    )


@frozen
class _Validated:
    parsed: ParsedRow
    draft: CustomerDraft


def _validate(parsed: ParsedRow, today: date) -> _Validated | list[RowError]:
    errors = list(parsed.errors)
    failed = {e.field for e in errors}
    try:
        draft = validate_customer_draft(draft_of(parsed.values), today)
    except ValidationFailed as bad:
        errors += [
            RowError(parsed.row, e.field, e.message) for e in bad.errors if e.field not in failed
        ]
        return errors
    return errors if errors else _Validated(parsed, draft)


def _normalized_values(item: _Validated) -> dict[str, Any]:
    """The row's given fields with the validated (normalized) values of the draft."""
    values: dict[str, Any] = {}
    for key in item.parsed.values:
        if key.startswith("preferences."):
            attribute = _ATTRIBUTES[key]
            values[key] = getattr(item.draft.preferences, attribute)
        else:
            values[key] = getattr(item.draft, _ATTRIBUTES[key])
    return values


_ATTRIBUTES: Final[Mapping[str, str]] = {f.key: f.attribute for f in IMPORT_FIELDS}


def _existing_maps(
    found: Sequence[ExistingCustomer],
) -> tuple[dict[RowKey, str], dict[str, str], dict[str, ExistingCustomer]]:
    keys: dict[RowKey, str] = {}
    phones: dict[str, str] = {}
    for customer in sorted(found, key=lambda c: c.id):  # the oldest id wins a shared key
        phones.setdefault(customer.phone, customer.id)
        for phone in (customer.phone, customer.whatsapp):
            if phone:
                keys.setdefault((DuplicateReason.PHONE, phone), customer.id)
        if customer.national_id:
            keys.setdefault((DuplicateReason.NATIONAL_ID, customer.national_id), customer.id)
        if customer.email_key:
            keys.setdefault((DuplicateReason.EMAIL, customer.email_key), customer.id)
    return keys, phones, {c.id: c for c in found}


def _assignee_error(row: int, decision: object) -> RowError | None:
    if isinstance(decision, Allowed):
        return None
    if isinstance(decision, InvalidAssignee | Forbidden):
        return RowError(row, "assignedEmployeeId", decision.reason)
    return RowError(row, "assignedEmployeeId", UNKNOWN_ASSIGNEE_REASON)


@frozen
class _BatchResult:
    job: ImportJob
    memory_rows: Mapping[RowKey, int]
    memory_phones: Mapping[str, int]


async def _batch(
    deps: Dependencies,
    services: ImportServices,
    actor: Actor,
    job: ImportJob,
    owner: str,
    rows: Sequence[tuple[int, list[str]]],
    memory: _Memory,
    today: date,
) -> ImportJob:
    """Decide and write one batch in one transaction; the job as committed."""
    org = job.organization_id
    report: list[RowError] = []
    failed = 0
    valid: list[_Validated] = []
    for number, cells in rows:
        outcome = _validate(parse_row(number, cells, job.mapping), today)
        if isinstance(outcome, _Validated):
            valid.append(outcome)
        else:
            report.extend(outcome)
            failed += 1
    scope = access.scope_filter(actor, Operation.UPDATE_CUSTOMER)

    async def work(uow: UnitOfWork) -> tuple[_BatchResult, list[DomainEvent]]:
        repo = services.repositories(uow)
        now = deps.clock.now()
        lines = list(report)
        counts = ImportCounts(processed=len(rows), failed=failed)
        # This batch's rows over the earlier ones (no copy of what the run remembers).
        earlier: ChainMap[RowKey, int] = ChainMap({}, memory.rows)
        earlier_phones: ChainMap[str, int] = ChainMap({}, memory.phones)
        keys = [k for item in valid for k in row_keys(item.draft)]
        found = await repo.find_existing(
            org,
            sorted({v for r, v in keys if r is DuplicateReason.PHONE}),
            sorted({v for r, v in keys if r is DuplicateReason.NATIONAL_ID}),
            sorted({v for r, v in keys if r is DuplicateReason.EMAIL}),
        )
        existing, existing_phones, by_id = _existing_maps(found)

        def in_scope(customer_id: str) -> bool:
            customer = by_id[customer_id]
            record = RecordScope(
                org,
                frozenset(i for i in (customer.assigned_employee_id,) if i),
                frozenset(i for i in (customer.assignee_manager_id,) if i),
            )
            return scope.admits(record)

        wanted = {
            creation_assignee_id(actor, item.draft.assigned_employee_id) for item in valid
        } - {None}
        employees: dict[str, Employee] = (
            await uow.employees.get_many(org, sorted(i for i in wanted if i)) if wanted else {}
        )
        creates: list[Customer] = []
        created_events: list[CustomerCreated] = []
        updates: dict[str, tuple[_Validated, ...]] = {}
        for item in valid:
            row, draft = item.parsed.row, item.draft
            decision = plan_row(
                row,
                draft,
                job.on_duplicate,
                earlier_rows=earlier,
                earlier_phones=earlier_phones,
                existing=existing,
                existing_phones=existing_phones,
                in_scope=in_scope,
            )
            if decision.outcome is RowOutcome.FAIL:
                lines.extend(decision.errors)
                counts = evolve(counts, failed=counts.failed + 1)
                continue
            if decision.outcome is RowOutcome.SKIP:
                lines.extend(decision.errors)
                counts = evolve(counts, skipped=counts.skipped + 1)
                continue
            if decision.outcome is RowOutcome.UPDATE:
                assert decision.customer_id is not None
                updates[decision.customer_id] = (*updates.get(decision.customer_id, ()), item)
            else:
                assignee_id = creation_assignee_id(actor, draft.assigned_employee_id)
                assignee = employees.get(assignee_id) if assignee_id else None
                if assignee_id is not None and assignee is None:
                    problem: RowError | None = RowError(
                        row, "assignedEmployeeId", UNKNOWN_ASSIGNEE_REASON
                    )
                else:
                    problem = _assignee_error(row, decide_create_customer(actor, assignee))
                if problem is not None:
                    lines.append(problem)
                    counts = evolve(counts, failed=counts.failed + 1)
                    continue
                customer, new_events = aggregate.new_customer(
                    evolve(
                        draft,
                        assigned_employee_id=assignee_id,
                        source_details={**draft.source_details, "importJobId": job.id},
                    ),
                    customer_id=deps.ids.new_id("cust"),
                    organization_id=org,
                    actor=actor,
                    history_entry_id=deps.ids.new_id("stage"),
                    now=now,
                )
                creates.append(customer)
                created_events.extend(e for e in new_events if isinstance(e, CustomerCreated))
                counts = evolve(counts, created=counts.created + 1)
            for key in row_keys(draft):
                earlier.setdefault(key, row)
            earlier_phones.setdefault(draft.phone, row)
        changed: list[tuple[Customer, Customer]] = []
        if updates:
            current = await repo.lock_customers(org, sorted(updates))
            for customer_id, items in updates.items():
                before = after = current[customer_id]
                for item in items:  # one per customer in practice: later rows are skipped
                    try:
                        patch = validate_customer_patch(
                            patch_of(_normalized_values(item)), after, today
                        )
                    except ValidationFailed as bad:
                        lines.extend(
                            RowError(item.parsed.row, e.field, e.message) for e in bad.errors
                        )
                        counts = evolve(counts, failed=counts.failed + 1)
                        continue
                    updated, _ = aggregate.update_customer(after, patch, now=now)
                    if updated is after:
                        message = f"Customer {customer_id} already has these values; skipped"
                        lines.append(RowError(item.parsed.row, "", message))
                        counts = evolve(counts, skipped=counts.skipped + 1)
                    else:
                        counts = evolve(counts, updated=counts.updated + 1)
                    after = updated
                if after is not before:
                    changed.append((before, after))
        actions: list[CustomerAction] = []
        assignment_events: list[DomainEvent] = []
        if not job.dry_run:
            # Rows without an assignee go through the assignment rules (rules §10), as a
            # create does: pointers moved in this batch's transaction, decisions recorded.
            unassigned = [c for c in creates if c.assigned_employee_id is None]
            planned = await plan_assignments(deps, uow, org, unassigned)
            if planned.decisions:
                assigned = {c.id: c for c in planned.customers}
                creates = [assigned.get(c.id, c) for c in creates]
            if job.create_actions:
                actions = await _system_actions(deps, uow, creates, created_events, now)
            await repo.insert_customers(creates)
            await repo.update_customers(changed)
            if actions:
                await uow.actions.add_many(actions)
            assignment_events = await record_assignments(deps, uow, planned, now=now)
        await repo.add_errors(job, sorted(lines, key=lambda e: e.row))
        advanced = evolve(job, counts=job.counts + counts, next_row=job.next_row + len(rows))
        if not await repo.save_progress(
            advanced, owner, status=ImportStatus.RUNNING, lease_until=now + LEASE
        ):
            raise _LeaseLost(job.id)
        published: list[DomainEvent] = []
        if not job.dry_run and (creates or changed):
            updated_ids = tuple(after.id for _, after in changed)
            published.append(_event(advanced, actor, counts, now, updated_ids, bool(actions)))
        published.extend(assignment_events)
        return _BatchResult(advanced, earlier.maps[0], earlier_phones.maps[0]), published

    with acting_as(actor):
        result = await transaction(deps, work)
    memory.rows.update(result.memory_rows)
    memory.phones.update(result.memory_phones)
    return result.job


async def _system_actions(
    deps: Dependencies,
    uow: UnitOfWork,
    customers: Sequence[Customer],
    created: Sequence[CustomerCreated],
    now: datetime,
) -> list[CustomerAction]:
    """The §2 system actions of the new customers (``createActions``), built in memory."""
    by_id = {c.id: c for c in customers}
    assignee_ids = sorted({c.assigned_employee_id for c in customers if c.assigned_employee_id})
    names: dict[str, str] = {}
    if assignee_ids:
        found = await uow.employees.get_many(customers[0].organization_id, assignee_ids)
        names = {e.id: e.name for e in found.values()}
    actions: list[CustomerAction] = []
    for event in created:
        customer = by_id[event.customer_id]
        made = system_actions_for(
            event,
            customer,
            assignee_name=names.get(customer.assigned_employee_id or ""),
            new_id=lambda: deps.ids.new_id("action"),
            now=now,
        )
        actions.extend(action for action, _ in made)
    return actions


def _totals(counts: ImportCounts) -> dict[str, int]:
    return {a.name: getattr(counts, a.name) for a in attrs.fields(ImportCounts)}


def _event(
    job: ImportJob,
    actor: Actor,
    batch: ImportCounts,
    now: datetime,
    updated_ids: tuple[str, ...],
    actions_created: bool,
    *,
    final: bool = False,
) -> CustomersImported:
    return CustomersImported(
        organization_id=job.organization_id,
        occurred_at=now,
        employee_ids=(actor.user_id,),
        job_id=job.id,
        user_id=actor.user_id,
        created=batch.created,
        updated=batch.updated,
        skipped=batch.skipped,
        failed=batch.failed,
        totals=_totals(job.counts),
        updated_ids=updated_ids,
        final=final,
        status=job.status.value,
        actions_created=actions_created,
    )


async def _finish(
    deps: Dependencies,
    services: ImportServices,
    actor: Actor,
    job: ImportJob,
    owner: str,
) -> ImportJob:
    async def work(uow: UnitOfWork) -> tuple[ImportJob, list[DomainEvent]]:
        now = deps.clock.now()
        done = evolve(
            job,
            status=ImportStatus.COMPLETED,
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
        if not await services.repositories(uow).save_progress(
            done, owner, status=ImportStatus.COMPLETED, lease_until=None, finished_at=now
        ):
            raise _LeaseLost(job.id)
        if job.dry_run:
            return done, []
        return done, [_event(done, actor, ImportCounts(), now, (), False, final=True)]

    with acting_as(actor):
        done = await transaction(deps, work)
    await deps.storage.delete(job.file_key)
    return done


async def _fail(
    deps: Dependencies, services: ImportServices, job: ImportJob, error: str
) -> ImportJob:
    now = deps.clock.now()

    async def work(uow: UnitOfWork) -> tuple[None, list[DomainEvent]]:
        await services.repositories(uow).fail_job(job, error, now)
        return None, []

    await transaction(deps, work)
    await deps.storage.delete(job.file_key)
    return evolve(job, status=ImportStatus.FAILED, error=error[:500], finished_at=now)


async def _run_claimed(
    deps: Dependencies,
    services: ImportServices,
    job: ImportJob,
    owner: str,
    progress: Progress | None,
) -> ImportJob:
    if job.attempts > MAX_ATTEMPTS:
        return await _fail(
            deps, services, job, f"the import stopped {job.attempts - 1} times before its end"
        )
    if job.dry_run and job.attempts > 1 and job.next_row > 0:
        # A dry run remembers the file's earlier rows in memory only: start it again.
        async def restart(uow: UnitOfWork) -> tuple[None, list[DomainEvent]]:
            await services.repositories(uow).restart_job(job)
            return None, []

        await transaction(deps, restart)
        job = evolve(job, counts=ImportCounts(), next_row=0)
    content = await deps.storage.get(job.file_key)
    if content is None:
        return await _fail(deps, services, job, "the uploaded file is no longer stored")
    actor = _runner_actor(job)
    today = deps.clock.now().astimezone(await organization_zone(deps, job.organization_id)).date()
    memory = _Memory()
    try:
        table = services.reader.open(content, job.file_name)
    except ValidationFailed as bad:
        return await _fail(deps, services, job, str(bad))
    try:
        rows: Iterator[tuple[int, list[str]]] = table.rows(job.next_row)
        while True:
            batch = await asyncio.to_thread(lambda: list(islice(rows, IMPORT_BATCH_SIZE)))
            if not batch:
                break
            job = await _batch(deps, services, actor, job, owner, batch, memory, today)
            if progress is not None:
                progress(job)
        job = await _finish(deps, services, actor, job, owner)
        if progress is not None:
            progress(job)
        return job
    except _LeaseLost:
        logger.warning("import %s was taken over by another runner", job.id)
        raise
    except Exception as error:
        logger.exception("import %s failed", job.id)
        return await _fail(deps, services, job, f"{error.__class__.__name__}: {error}")
    finally:
        table.close()


async def _claim(
    deps: Dependencies,
    services: ImportServices,
    owner: str,
    *,
    job_id: str | None = None,
    organization_id: str | None = None,
) -> ImportJob | None:
    if job_id is None:
        # A read-only look first: an idle runner never takes SQLite's write lock.
        async with deps.uow(read_only=True) as uow:
            waiting = await services.repositories(uow).claimable(deps.clock.now(), 1)
        if not waiting:
            return None

    async def work(uow: UnitOfWork) -> tuple[ImportJob | None, list[DomainEvent]]:
        repo = services.repositories(uow)
        now = deps.clock.now()
        if job_id is not None and organization_id is not None:
            job = await repo.get_job(organization_id, job_id)
            takeable = job is not None and (
                job.status is ImportStatus.QUEUED
                or (
                    job.status is ImportStatus.RUNNING
                    and (job.lease_expires_at is None or job.lease_expires_at < now)
                )
            )
            candidates = [job] if job is not None and takeable else []
        else:
            candidates = await repo.claimable(now, 10)
        for candidate in candidates:
            claimed = await repo.claim(candidate, owner, now, now + LEASE)
            if claimed is not None:
                return claimed, []
        return None, []

    return await transaction(deps, work)


async def run_next_import(
    deps: Dependencies, owner: str, progress: Progress | None = None
) -> ImportJob | None:
    """Take the oldest queued job (or one whose runner died) and run it to its end; None when
    there is none. ``owner`` names this runner in the lease."""
    services = present(deps.imports, "imports")
    job = await _claim(deps, services, owner)
    if job is None:
        return None
    try:
        return await _run_claimed(deps, services, job, owner, progress)
    except _LeaseLost:
        return None


async def run_import(
    deps: Dependencies,
    organization_id: str,
    job_id: str,
    owner: str,
    progress: Progress | None = None,
) -> ImportJob:
    """Run one job to its end in this process (the CLI); 404 when it is not queued or left by
    a dead runner (another runner has it, or it ended)."""
    services = present(deps.imports, "imports")
    job = await _claim(deps, services, owner, job_id=job_id, organization_id=organization_id)
    if job is None:
        raise NotFound(IMPORT_RESOURCE, job_id)
    return await _run_claimed(deps, services, job, owner, progress)

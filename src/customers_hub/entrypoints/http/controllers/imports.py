"""Customer import: ``/api/v1/customers/imports`` (issue 12, Deliver 1).

* ``POST /customers/imports`` (``multipart/form-data``): ``file`` (a CSV in UTF-8, with or
  without a BOM, or an XLSX), ``mapping`` (optional JSON ``{"<column header>": "<field>" |
  null}``; the defaults read the API's field names and Arabic headers, the export's included),
  ``dryRun`` (``true``/``false``), ``onDuplicate`` (``skip`` | ``update`` | ``create``),
  ``createActions`` (``true``/``false``, default false) → **202** with the queued job. The
  background worker runs it (:mod:`customers_hub.entrypoints.import_worker`).
* ``GET /customers/imports/{id}``: the job's progress ``{id, status, totalRows, processed,
  created, updated, skipped, failed, startedAt, finishedAt, …}``.
* ``GET /customers/imports/{id}/errors``: the report of failed and skipped rows — JSON pages
  (``page``, ``limit``), or the whole report as CSV (``row,field,message``) with
  ``Accept: text/csv`` or ``?format=csv``.

Admins and sales managers import (a manager's rows are assigned within the team); agents and
viewers get 403; another organization's job is 404. Mounted with its own body limit
(:data:`~customers_hub.application.use_cases.imports.IMPORT_MAX_BYTES` plus the multipart
framing), not the document limit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final

import attrs
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Stream

from customers_hub.adapters.spreadsheets import CSV_MEDIA_TYPE, csv_text
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import imports as use_cases
from customers_hub.domain.errors import FieldError, UnprocessableInput, ValidationFailed
from customers_hub.domain.imports import IMPORT_FIELD_KEYS, ImportJob, ImportStatus, OnDuplicate
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import NO_STORE, id_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    LIMIT,
    PAGE,
    UNSET,
    Pagination,
    UnsetType,
    Wire,
    page_to_wire,
)
from customers_hub.entrypoints.http.wire.convert import to_wire
from customers_hub.entrypoints.import_worker import wake_import_workers

__all__ = [
    "UPLOAD_ROUTES",
    "ImportErrorOut",
    "ImportErrorsData",
    "ImportJobData",
    "ImportJobOut",
    "ImportUploadForm",
    "ImportsController",
]

IMPORT_BODY_LIMIT: Final = use_cases.IMPORT_MAX_BYTES + 256 * 1024
"""The upload plus room for the multipart framing and the text fields."""
_MAPPING_MAX_BYTES: Final = 64 * 1024


class ImportJobOut(Wire, kw_only=True):
    """An import job and its progress."""

    id: str
    status: ImportStatus
    file_name: str
    file_format: str
    dry_run: bool
    on_duplicate: OnDuplicate
    create_actions: bool
    total_rows: int
    processed: int
    created: int
    updated: int
    skipped: int
    failed: int
    mapping: dict[str, str]
    ignored_columns: list[str]
    error: str | UnsetType = UNSET
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobData(Wire, kw_only=True):
    """``data`` of starting or reading an import."""

    job: ImportJobOut


class ImportErrorOut(Wire, kw_only=True):
    """One line of the report: the spreadsheet row (header = 1), the field, the message."""

    row: int
    field: str
    message: str


class ImportErrorsData(Wire, kw_only=True):
    """``data`` of ``GET …/imports/{id}/errors``."""

    job_id: str
    errors: list[ImportErrorOut]
    pagination: Pagination


class ReportFormat(StrEnum):
    """The report's form."""

    JSON = "json"
    CSV = "csv"


@dataclass
class ImportUploadForm:
    """``POST /customers/imports`` (``multipart/form-data``); every part optional here so a
    missing one is named (400)."""

    file: UploadFile | None = None
    mapping: str | None = None
    dryRun: str | None = None  # noqa: N815 - the form's field names are the API's
    onDuplicate: str | None = None  # noqa: N815
    createActions: str | None = None  # noqa: N815


def job_to_wire(job: ImportJob) -> ImportJobOut:
    """The wire form of ``job``: its counters flat, ``mapping`` by column header."""
    return to_wire(
        job,
        ImportJobOut,
        mapping={job.headers[i]: key for i, key in sorted(job.mapping.items())},
        created_by=job.created_by_id,
        **attrs.asdict(job.counts),
    )


_BOOLEANS: Final = {"true": True, "false": False}
"""A flag's words, exactly as the OpenAPI document lists them (absent: false)."""


def _flag(errors: list[FieldError], name: str, raw: str | None) -> bool:
    if raw is None:
        return False
    value = _BOOLEANS.get(raw)
    if value is None:
        errors.append(FieldError(name, "must be true or false"))
        return False
    return value


def _mapping(errors: list[FieldError], raw: str | None) -> dict[str, str | None] | None:
    if raw is None or not raw.strip():
        return None
    if len(raw) > _MAPPING_MAX_BYTES:
        errors.append(FieldError("mapping", f"must be at most {_MAPPING_MAX_BYTES} characters"))
        return None
    try:
        decoded = json.loads(raw)
    except ValueError:
        errors.append(FieldError("mapping", "must be a JSON object {column header: field}"))
        return None
    if not isinstance(decoded, dict) or not all(
        isinstance(v, str) or v is None for v in decoded.values()
    ):
        errors.append(
            FieldError("mapping", "must be a JSON object of column headers to field names or null")
        )
        return None
    return decoded


def _upload(data: ImportUploadForm, content: bytes | None) -> use_cases.ImportUpload:
    errors: list[FieldError] = []
    if content is None:
        errors.append(FieldError("file", "is required"))
    unusable: list[FieldError] = []  # text that is not the JSON object it must hold: 422
    mapping = _mapping(unusable, data.mapping)
    on_duplicate = OnDuplicate.SKIP
    if data.onDuplicate is not None and data.onDuplicate.strip():
        try:
            on_duplicate = OnDuplicate(data.onDuplicate.strip())
        except ValueError:
            allowed = ", ".join(o.value for o in OnDuplicate)
            errors.append(FieldError("onDuplicate", f"must be one of: {allowed}"))
    dry_run = _flag(errors, "dryRun", data.dryRun)
    create_actions = _flag(errors, "createActions", data.createActions)
    if errors:
        raise ValidationFailed([*errors, *unusable])
    if unusable:
        raise UnprocessableInput(unusable)
    assert content is not None
    name = data.file.filename if isinstance(data.file, UploadFile) else None
    return use_cases.ImportUpload(
        content=content,
        file_name=name or "upload",
        mapping=mapping,
        dry_run=dry_run,
        on_duplicate=on_duplicate,
        create_actions=create_actions,
    )


_ID = Annotated[str, id_parameter("Import job")]


async def _csv_report(batches: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    yield "\ufeffrow,field,message\r\n".encode()
    async for batch in batches:
        lines = []
        for error in batch:
            cells = [str(error.row), csv_text(error.field), csv_text(error.message)]
            lines.append(",".join(_quoted(c) for c in cells))
        yield ("\r\n".join(lines) + "\r\n").encode()


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class ImportsController(StrictController):
    """``/api/v1/customers/imports``."""

    path = "/customers/imports"
    tags = ("Customers",)

    @post(
        "/",
        operation_id="startCustomerImport",
        summary="Import customers from a CSV or XLSX file",
        status_code=202,
        responses=error_responses(403, 413),
        request_max_body_size=IMPORT_BODY_LIMIT,
        description="Fields a mapping may name: " + ", ".join(IMPORT_FIELD_KEYS),
    )
    async def start_import(
        self,
        deps: Dependencies,
        actor: Actor,
        hub: Hub,
        data: Annotated[ImportUploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Envelope[ImportJobData]]:
        """Queue an import (202); its progress is at ``GET /customers/imports/{id}``."""
        upload = data.file if isinstance(data.file, UploadFile) else None
        content = None
        if upload is not None:
            content = await upload.read()
            await upload.close()
        job = await use_cases.start_import(deps, actor, _upload(data, content))
        wake_import_workers(hub.config.database_url)
        return ok(
            ImportJobData(job=job_to_wire(job)),
            message="Import queued",
            status=202,
            headers={**NO_STORE, "Location": f"/api/v1/customers/imports/{job.id}"},
        )

    @get(
        "/{job_id:str}",
        operation_id="getCustomerImport",
        summary="An import job's progress",
        responses=error_responses(403, 404),
    )
    async def get_import(
        self, deps: Dependencies, actor: Actor, job_id: _ID
    ) -> Response[Envelope[ImportJobData]]:
        """The job: status, counters, start and end."""
        job = await use_cases.get_import(deps, actor, job_id)
        return ok(ImportJobData(job=job_to_wire(job)), headers=NO_STORE)

    @get(
        "/{job_id:str}/errors",
        operation_id="listCustomerImportErrors",
        summary="An import's report of failed and skipped rows (JSON or CSV)",
        responses=error_responses(403, 404),
    )
    async def list_errors(
        self,
        request: Request[Any, Any, Any],
        deps: Dependencies,
        actor: Actor,
        job_id: _ID,
        page: PAGE = 1,
        limit: LIMIT = use_cases.ERRORS_DEFAULT_LIMIT,
        report_format: Annotated[
            ReportFormat | None,
            Parameter(query="format", description="json (default) or csv (the whole report)"),
        ] = None,
    ) -> Response[Any]:
        """One page of the report, or the whole of it as CSV (``row,field,message``)."""
        wants_csv = report_format is ReportFormat.CSV or (
            report_format is None and "text/csv" in request.headers.get("accept", "")
        )
        if wants_csv:
            batches = await use_cases.import_error_batches(deps, actor, job_id)
            return Stream(
                _csv_report(batches),
                media_type=CSV_MEDIA_TYPE,
                headers={
                    **NO_STORE,
                    "content-type": CSV_MEDIA_TYPE,
                    "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"',
                },
            )
        job, result = await use_cases.list_import_errors(
            deps, actor, job_id, page=page, limit=limit
        )
        data = ImportErrorsData(
            job_id=job.id,
            errors=[to_wire(e, ImportErrorOut) for e in result.items],
            pagination=page_to_wire(result),
        )
        return ok(data, headers=NO_STORE)


UPLOAD_ROUTES: list[Any] = [ImportsController]
"""Mounted under ``/api/v1`` with the upload router (the POST sets its own body limit)."""

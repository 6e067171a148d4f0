"""Export: ``GET /api/v1/customers/export?format=csv|xlsx`` (issue 12, Deliver 2).

Takes every filter and the sort of ``GET /customers`` (the same parameters:
:mod:`~customers_hub.entrypoints.http.customer_filters`), ``fields`` (the columns, ``id``
always kept) and ``headerLanguage`` (``en``: the API's field names; ``ar``: Arabic headers),
and answers the customers the list would show the caller — every page of them — as a file:

* ``format=csv`` (default): ``text/csv; charset=utf-8`` with a BOM, streamed while the rows are
  read (keyset batches of 1,000; the response starts once the first batch is read, so a failing
  query still gets an error answer);
* ``format=xlsx``: the workbook is written to a temporary file in write-only mode, then sent in
  chunks (an XLSX is a zip: it cannot be sent before it is complete).

``Content-Disposition: attachment; filename="customers-<org>-<YYYYMMDD-HHMM>.<ext>"`` (the
organization's local time), ``Cache-Control: private, no-store``, ``nosniff``. Bad parameters
are one 400 naming each; a role or token without ``customers.read`` is 403. Every export is
audited (see :mod:`customers_hub.application.use_cases.export`).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any, Final
from urllib.parse import quote

from litestar import get
from litestar.openapi.spec import Operation
from litestar.params import Parameter
from litestar.response import Stream

from customers_hub.adapters.spreadsheets import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    csv_chunks,
    file_chunks,
    write_xlsx,
)
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.export import (
    EXPORT_FIELDS,
    CustomerExport,
    ExportFormat,
    ExportRequest,
    HeaderLanguage,
    start_export,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.customer_filters import LIST_FILTERS, ListFilters
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.strict import StrictController

__all__ = ["ROUTES", "ExportsController"]

_SPOOL_BYTES: Final = 8 * 1024 * 1024
"""An XLSX up to this size stays in memory; a larger one goes to a temporary file."""

_MEDIA_TYPES: Final = {ExportFormat.CSV: CSV_MEDIA_TYPE, ExportFormat.XLSX: XLSX_MEDIA_TYPE}


class _FileOperation(Operation):
    """The export's OpenAPI operation: its 200 answer is a CSV or an XLSX file."""

    def to_schema(self) -> dict[str, Any]:
        """Litestar's operation with both file types as the 200 content."""
        schema = super().to_schema()
        answer = schema.get("responses", {}).get("200")
        if answer is not None:
            answer["description"] = "The file (CSV when format=csv, XLSX when format=xlsx)"
            answer["content"] = {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            }
            answer["headers"] = {
                "Content-Disposition": {
                    "description": 'attachment; filename="customers-<org>-<YYYYMMDD-HHMM>.csv"',
                    "schema": {"type": "string"},
                }
            }
        return schema


def _disposition(filename: str) -> str:
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _csv_body(export: CustomerExport) -> AsyncGenerator[bytes, None]:
    """The CSV chunks; the first batch is read before the response starts (see below)."""
    rows = export.rows()
    chunks = csv_chunks(export.header, rows)
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()
        await rows.aclose()


async def _prefetched(body: AsyncIterator[bytes], count: int) -> AsyncIterator[bytes]:
    """``body`` with its first ``count`` chunks read now: a query that fails on the first
    batch fails before the status line is sent (an error answer, not a cut file)."""
    head: list[bytes] = []
    async for chunk in body:
        head.append(chunk)
        if len(head) >= count:
            break

    async def rest() -> AsyncIterator[bytes]:
        for chunk in head:
            yield chunk
        async for chunk in body:
            yield chunk

    return rest()


class ExportsController(StrictController):
    """``/api/v1/customers/export``."""

    path = "/customers/export"
    tags = ("Customers",)

    @get(
        "/",
        operation_id="exportCustomers",
        summary="Export customers as CSV or XLSX",
        media_type="text/csv",
        responses=error_responses(403),
        operation_class=_FileOperation,
        dependencies={"list_filters": LIST_FILTERS},
    )
    async def export_customers(
        self,
        deps: Dependencies,
        actor: Actor,
        list_filters: ListFilters,
        file_format: Annotated[
            ExportFormat, Parameter(query="format", description="csv (default) or xlsx")
        ] = ExportFormat.CSV,
        fields: Annotated[
            list[str] | None,
            Parameter(
                description="Columns (comma-separated and/or repeated; id is always kept): "
                + ", ".join(EXPORT_FIELDS)
            ),
        ] = None,
        header_language: Annotated[
            HeaderLanguage,
            Parameter(query="headerLanguage", description="en: field names (default); ar: Arabic"),
        ] = HeaderLanguage.EN,
    ) -> Stream:
        """Every customer the list would show the caller with these filters, as a file."""
        request = ExportRequest(
            filters=list_filters.params,
            file_format=file_format,
            fields=fields,
            header_language=header_language,
        )
        try:
            export = await start_export(deps, actor, request)
        except ValidationFailed as bad:
            merged = list_filters.merged(bad)
            raise (merged or bad) from None
        failed = list_filters.merged()
        if failed is not None:
            raise failed
        headers = {
            "Content-Disposition": _disposition(export.filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        if file_format is ExportFormat.XLSX:
            target = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
            rows = export.rows()
            try:
                await write_xlsx(
                    export.header,
                    rows,
                    target,
                    title="العملاء" if header_language is HeaderLanguage.AR else "Customers",
                    right_to_left=header_language is HeaderLanguage.AR,
                )
            except BaseException:
                target.close()
                raise
            finally:
                await rows.aclose()
            content = file_chunks(target)
        else:
            # The header chunk, then the first batch's chunk.
            content = await _prefetched(_csv_body(export), 2)
        # The handler's declared media type would win over the Stream's: name it in a header.
        headers["content-type"] = _MEDIA_TYPES[file_format]
        return Stream(content, media_type=_MEDIA_TYPES[file_format], headers=headers)


ROUTES: list[Any] = [ExportsController]
"""Mounted under ``/api/v1``."""

"""Rows of typed cells to CSV or XLSX bytes, in constant memory (the export's file formats).

* **CSV** (:func:`csv_chunks`): UTF-8 with a byte order mark, so Excel opens Arabic right; RFC
  4180 quoting, ``\\r\\n`` line ends; one chunk of bytes per :data:`CHUNK_ROWS` rows, so the
  HTTP response streams as the rows are read.
* **XLSX** (:func:`write_xlsx`): openpyxl's write-only mode, which writes each row to a
  temporary file as it is appended (inline strings, no shared-string table): memory holds one
  chunk of rows, not the sheet. The zip is assembled by ``save`` into the given file, so an
  XLSX is complete before its first byte is sent. Over :data:`XLSX_MAX_ROWS` rows a sheet
  continues on the next one (``Customers 2`` …). openpyxl runs in a worker thread a chunk at a
  time, never on the event loop.

Values: ``None`` is an empty cell; ``int``/``Decimal`` are numbers (CSV: plain digits, no
exponent); ``date`` is ``YYYY-MM-DD``; an aware ``datetime`` is ISO 8601 in UTC with ``Z`` (the
API's form: Excel has no time zones, a text keeps the instant exact); text is text. A text that
a spreadsheet would run as a formula (starting with ``=``, ``@``, a tab or a carriage return, or
with ``+``/``-`` when it is not a plain number such as a ``+966…`` phone) gets a leading ``'``
in CSV (the OWASP guard against CSV injection; an importer strips it); in XLSX it is stored as
a text cell, which is never evaluated.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, Final, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from customers_hub.application.use_cases.export import Cell

__all__ = [
    "CHUNK_ROWS",
    "CSV_MEDIA_TYPE",
    "XLSX_MAX_ROWS",
    "XLSX_MEDIA_TYPE",
    "csv_chunks",
    "csv_text",
    "file_chunks",
    "write_xlsx",
]

CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_ROWS: Final = 1_000
"""Rows per CSV chunk and per openpyxl call."""
XLSX_MAX_ROWS: Final = 1_048_576
"""Rows of one Excel sheet (the header included)."""
FILE_CHUNK_BYTES: Final = 256 * 1024

_BOM: Final = "\ufeff"
_FORMULA_START: Final = frozenset("=@\t\r")
_SIGNED: Final = frozenset("+-")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?[0-9][0-9 .]*")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _guarded(text: str) -> str:
    if not text:
        return text
    first = text[0]
    if first in _FORMULA_START or (first in _SIGNED and not _PLAIN_NUMBER.fullmatch(text)):
        return "'" + text
    return text


def csv_text(value: Cell) -> str:
    """The CSV text of one cell (see the module for each type)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return _guarded(value)


def _csv_lines(rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([csv_text(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def csv_chunks(
    header: Sequence[str], rows: AsyncIterator[Sequence[Cell]]
) -> AsyncGenerator[bytes, None]:
    """The CSV file: the BOM and the header first, then one chunk per :data:`CHUNK_ROWS`."""
    yield _BOM.encode("utf-8") + _csv_lines([list(header)])
    pending: list[Sequence[Cell]] = []
    async for row in rows:
        pending.append(row)
        if len(pending) >= CHUNK_ROWS:
            yield _csv_lines(pending)
            pending = []
    if pending:
        yield _csv_lines(pending)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> SheetCell | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = _instant(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever the first character
        return cell
    # openpyxl writes int, Decimal and date natively; its stubs name float and datetime only.
    cell = WriteOnlyCell(sheet, value=cast(Any, value))
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


class _Book:
    """A write-only workbook that starts a new sheet when one is full."""

    def __init__(self, header: Sequence[str], title: str, right_to_left: bool) -> None:
        self.workbook = Workbook(write_only=True)
        self.header = list(header)
        self.title = title
        self.right_to_left = right_to_left
        self.sheets = 0
        self.rows_in_sheet = 0
        self.sheet = self._new_sheet()

    def _new_sheet(self) -> WriteOnlyWorksheet:
        self.sheets += 1
        name = self.title if self.sheets == 1 else f"{self.title} {self.sheets}"
        sheet: WriteOnlyWorksheet = self.workbook.create_sheet(name)
        if self.right_to_left:
            sheet.sheet_view.rightToLeft = True
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for text in self.header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        self.rows_in_sheet = 1
        return sheet

    def append(self, rows: Sequence[Sequence[Cell]]) -> None:
        for row in rows:
            if self.rows_in_sheet >= XLSX_MAX_ROWS:
                self.sheet = self._new_sheet()
            self.sheet.append([_xlsx_cell(self.sheet, v) for v in row])
            self.rows_in_sheet += 1


async def write_xlsx(
    header: Sequence[str],
    rows: AsyncIterator[Sequence[Cell]],
    target: IO[bytes],
    *,
    title: str = "Customers",
    right_to_left: bool = False,
) -> None:
    """Write the workbook of ``header`` and ``rows`` into ``target`` (a binary file)."""
    book = await asyncio.to_thread(_Book, header, title, right_to_left)
    pending: list[Sequence[Cell]] = []
    async for row in rows:
        pending.append(row)
        if len(pending) >= CHUNK_ROWS:
            await asyncio.to_thread(book.append, pending)
            pending = []
    if pending:
        await asyncio.to_thread(book.append, pending)
    await asyncio.to_thread(book.workbook.save, target)


async def file_chunks(source: IO[bytes], *, close: bool = True) -> AsyncIterator[bytes]:
    """``source`` from its start, :data:`FILE_CHUNK_BYTES` at a time (closed at the end)."""
    try:
        await asyncio.to_thread(source.seek, 0)
        while True:
            chunk = await asyncio.to_thread(source.read, FILE_CHUNK_BYTES)
            if not chunk:
                return
            yield chunk
    finally:
        if close:
            source.close()

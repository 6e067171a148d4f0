"""Reading an uploaded import file: a CSV (UTF-8, with or without a BOM) or an XLSX.

The format is judged by the bytes (an XLSX is a zip: ``PK\\x03\\x04``), not by the name.

* **CSV**: decoded as UTF-8 (a BOM is dropped; anything else that is not UTF-8 is refused —
  an Excel "CSV (Windows-1256)" must be saved as "CSV UTF-8"), the delimiter sniffed among
  ``,``, ``;`` and tab from the header line, RFC 4180 quoting (cells may hold line breaks).
* **XLSX**: the first sheet, through openpyxl's read-only mode (rows are parsed as they are
  read, never the whole sheet at once); cell values become text the way the importer parses
  them: whole numbers without ``.0`` (a phone typed as a number), dates as ``YYYY-MM-DD``.

Rows are streamed: :meth:`Table.rows` yields one row at a time from the given start, so a
resumed job skips what was committed without holding the file's rows in memory. Blank rows
are skipped (not counted); row numbers are the spreadsheet's (header = row 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from customers_hub.domain.errors import ValidationFailed

__all__ = ["MAX_COLUMNS", "CsvTable", "SpreadsheetReader", "XlsxTable", "cell_text"]

MAX_COLUMNS: Final = 200
"""Columns read per row (a wider sheet is refused: nothing a person fills in is that wide)."""

_ZIP_MAGIC: Final = b"PK\x03\x04"
_DELIMITERS: Final = ",;\t"
# Large enough for a notes cell; the default (128 KiB) would raise on a bigger one.
csv.field_size_limit(1024 * 1024)


def _bad_file(message: str) -> ValidationFailed:
    return ValidationFailed.single("file", message)


def cell_text(value: Any) -> str:
    """The text of a spreadsheet cell: empty for nothing, whole numbers without a fraction,
    dates (and midnight datetimes) as ``YYYY-MM-DD``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


class CsvTable:
    """A CSV upload: its header and a stream of its data rows."""

    file_format = "csv"

    def __init__(self, content: bytes) -> None:
        try:
            self._text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _bad_file(
                "must be UTF-8 text (save the sheet as 'CSV UTF-8') or an XLSX"
            ) from None
        first_line = self._text.split("\n", 1)[0]
        counts = {d: first_line.count(d) for d in _DELIMITERS}
        self._delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        reader = self._reader()
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise _bad_file(f"is not a readable CSV: {error}") from None
        if header is None or _blank(header):
            raise _bad_file("has no header row")
        if len(header) > MAX_COLUMNS:
            raise _bad_file(f"has more than {MAX_COLUMNS} columns")
        self.headers = tuple(h.strip() for h in header)

    def _reader(self) -> Iterator[list[str]]:
        return csv.reader(io.StringIO(self._text, newline=""), delimiter=self._delimiter)

    def rows(self, start: int = 0) -> Iterator[tuple[int, list[str]]]:
        """``(row number, cells)`` of each non-blank data row from index ``start``."""
        reader = self._reader()
        next(reader, None)  # the header
        index = 0
        try:
            for number, cells in enumerate(reader, start=2):
                if _blank(cells):
                    continue
                if index >= start:
                    yield number, cells[:MAX_COLUMNS]
                index += 1
        except csv.Error as error:
            raise _bad_file(f"is not a readable CSV: {error}") from None

    def close(self) -> None:
        """Nothing to release (the text is in memory)."""


class XlsxTable:
    """An XLSX upload's first sheet, read row by row (openpyxl read-only mode)."""

    file_format = "xlsx"

    def __init__(self, content: bytes) -> None:
        try:
            self._book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise _bad_file("is not a readable XLSX workbook") from None
        if not self._book.worksheets:
            raise _bad_file("has no sheet")
        header = next(self._values(), None)
        if header is None or _blank(header):
            self.close()
            raise _bad_file("has no header row")
        while header and not header[-1].strip():  # trailing empty header cells
            header.pop()
        if len(header) > MAX_COLUMNS:
            self.close()
            raise _bad_file(f"has more than {MAX_COLUMNS} columns")
        self.headers = tuple(h.strip() for h in header)

    def _values(self) -> Iterator[list[str]]:
        sheet = self._book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in row[: MAX_COLUMNS + 1]]

    def rows(self, start: int = 0) -> Iterator[tuple[int, list[str]]]:
        """``(row number, cells)`` of each non-blank data row from index ``start``."""
        values = self._values()
        next(values, None)
        index = 0
        for number, cells in enumerate(values, start=2):
            if _blank(cells):
                continue
            if index >= start:
                yield number, cells[: len(self.headers)]
            index += 1

    def close(self) -> None:
        """Close the workbook's archive."""
        self._book.close()


class SpreadsheetReader:
    """:class:`~customers_hub.application.ports_imports.ImportFileReader`: CSV or XLSX by the
    file's first bytes."""

    def open(self, content: bytes, file_name: str) -> CsvTable | XlsxTable:
        """The table of ``content`` (400 on ``file`` when it is neither)."""
        if not content.strip():
            raise _bad_file("is empty")
        if content.startswith(_ZIP_MAGIC):
            return XlsxTable(content)
        return CsvTable(content)

"""The export use case on in-memory fakes and its file formats: columns and their values, the
``fields`` check, the list's parameter checks, lazy batches, the audit line and event, CSV text
rules (BOM, quoting, formula guard) and XLSX cells (typed, text never a formula, a full sheet
continues on the next)."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest
from openpyxl import load_workbook

from customers_hub.adapters import spreadsheets
from customers_hub.adapters.spreadsheets import csv_chunks, csv_text, write_xlsx
from customers_hub.application.queries import CustomerListQuery
from customers_hub.application.use_cases.export import (
    AUDIT_LOGGER,
    EXPORT_BATCH_SIZE,
    EXPORT_FIELDS,
    Cell,
    ExportFormat,
    ExportRequest,
    HeaderLanguage,
    start_export,
)
from customers_hub.application.use_cases.reads import CustomerListParams
from customers_hub.domain.access import Reach
from customers_hub.domain.enums import CustomerSource, Permission, PropertyType, Role, Stage
from customers_hub.domain.errors import PermissionDenied, ValidationFailed
from customers_hub.domain.events import CustomersExported
from customers_hub.domain.model import Actor, Customer, Employee, Preferences
from customers_hub.testing.fakes import build_fake_dependencies

AT = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
ORG = "org_1"
ADMIN = Actor("emp_admin", ORG, Role.ADMIN, frozenset(Permission))
AGENT = Actor("emp_agent", ORG, Role.SALES_AGENT, frozenset({Permission.CUSTOMERS_READ}))


def person(n: int, **fields: object) -> Customer:
    values: dict[str, object] = {
        "id": f"cust_{n:03d}",
        "organization_id": ORG,
        "name": f"عميل {n}",
        "phone": f"+9665500{n:05d}",
        "source": CustomerSource.WHATSAPP,
        "stage": Stage.QUALIFIED,
        "created_at": AT,
        "updated_at": AT,
    }
    values.update(fields)
    return Customer(**values)  # type: ignore[arg-type]


class ListSource:
    """Hands out fixed customers in batches and remembers the query it was given."""

    def __init__(self, rows: Sequence[Customer]) -> None:
        self.rows = list(rows)
        self.queries: list[CustomerListQuery] = []
        self.batches_read = 0

    async def batches(
        self, query: CustomerListQuery, batch_size: int
    ) -> AsyncIterator[Sequence[Customer]]:
        self.queries.append(query)
        for start in range(0, len(self.rows), batch_size):
            self.batches_read += 1
            yield self.rows[start : start + batch_size]


def deps_with(source: ListSource):  # type: ignore[no-untyped-def]
    deps, store, publisher, _clock = build_fake_dependencies(now=AT)
    return attrs.evolve(deps, export_source=source), store, publisher


async def test_rows_hold_every_column_typed_and_the_assignees_name() -> None:
    customer = person(
        1,
        name_en="Ali",
        tags=("vip", "نقد"),
        assigned_employee_id="emp_agent",
        preferences=Preferences(
            property_type=(PropertyType.VILLA, PropertyType.LAND), budget_min=Decimal("900000.50")
        ),
        date_of_birth=date(1990, 5, 6),
        lead_score=73,
    )
    source = ListSource([customer])
    deps, _store, _ = deps_with(source)
    async with deps.uow() as uow:
        await uow.employees.save(Employee("emp_agent", ORG, "أحمد السعيد", Role.SALES_AGENT))
        await uow.commit()

    export = await start_export(deps, ADMIN, ExportRequest())
    rows = [row async for row in export.rows()]

    assert export.header == EXPORT_FIELDS
    [row] = rows
    values = dict(zip(EXPORT_FIELDS, row, strict=True))
    assert values["id"] == customer.id
    assert values["nameEn"] == "Ali"
    assert values["tags"] == "vip, نقد"
    assert values["preferences.propertyType"] == "villa, land"
    assert values["preferences.budgetMin"] == Decimal("900000.50")
    assert values["dateOfBirth"] == date(1990, 5, 6)
    assert values["leadScore"] == 73
    assert values["stage"] == "qualified"
    assert values["assignedEmployee.name"] == "أحمد السعيد"
    assert values["createdAt"] == AT
    assert values["email"] is None
    assert export.filename == "customers-org_1-20240203-0705.csv"  # Riyadh time


async def test_fields_pick_columns_in_file_order_with_the_id_and_arabic_headers() -> None:
    deps, _, _ = deps_with(ListSource([person(1)]))
    export = await start_export(
        deps,
        ADMIN,
        ExportRequest(fields=["phone,name"], header_language=HeaderLanguage.AR),
    )
    assert export.header == ("المعرف", "الاسم", "رقم الجوال")
    assert [row async for row in export.rows()] == [("cust_001", "عميل 1", "+966550000001")]


async def test_every_bad_parameter_in_one_error_before_any_row() -> None:
    source = ListSource([person(1)])
    deps, _, _ = deps_with(source)
    request = ExportRequest(
        filters=CustomerListParams(lead_score_min=500, sort_by="salary", filters="{"),
        fields=["name", "password"],
    )
    with pytest.raises(ValidationFailed) as failed:
        await start_export(deps, ADMIN, request)
    assert {e.field for e in failed.value.errors} == {
        "leadScoreMin",
        "sortBy",
        "filters",
        "fields",
    }
    assert source.queries == []


async def test_the_scope_is_the_callers_and_paging_is_ignored() -> None:
    source = ListSource([])
    deps, _, _ = deps_with(source)
    filters = CustomerListParams(page=7, limit=3, cursor="abc", deleted=True)
    export = await start_export(deps, AGENT, ExportRequest(filters=filters))
    assert [row async for row in export.rows()] == []
    [query] = source.queries
    assert query.scope.kind is Reach.OWN
    assert query.scope.employee_id == AGENT.user_id
    assert query.deleted is False
    with pytest.raises(PermissionDenied):
        await start_export(deps, attrs.evolve(AGENT, permissions=frozenset()), ExportRequest())


async def test_rows_are_read_lazily_batch_by_batch() -> None:
    source = ListSource([person(n) for n in range(EXPORT_BATCH_SIZE + 5)])
    deps, _, _ = deps_with(source)
    export = await start_export(deps, ADMIN, ExportRequest(fields=["name"]))
    assert source.batches_read == 0
    rows = export.rows()
    await anext(rows)
    assert source.batches_read == 1
    await rows.aclose()
    assert export.rows_written == 1


async def test_an_export_is_audited_once_with_an_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deps, _, publisher = deps_with(ListSource([person(1), person(2)]))
    request = ExportRequest(
        filters=CustomerListParams(
            search="0551234567",
            stage=(Stage.QUALIFIED,),
            filters=json.dumps({"city": {"eq": "جدة"}}),
        ),
        file_format=ExportFormat.XLSX,
    )
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        export = await start_export(deps, ADMIN, request)
        assert len([row async for row in export.rows()]) == 2
    [line] = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    record = json.loads(line)
    assert record["rows"] == 2
    assert record["format"] == "xlsx"
    assert record["completed"] is True
    assert record["filters"] == {
        "search": "[redacted]",
        "stage": ["qualified"],
        "filters": ["city"],
    }
    assert "0551234567" not in line
    assert "جدة" not in line
    [event] = [e for e in publisher.events if isinstance(e, CustomersExported)]
    assert (event.rows, event.user_id, event.organization_id) == (2, ADMIN.user_id, ORG)


async def test_an_abandoned_export_is_audited_as_incomplete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deps, _, _ = deps_with(ListSource([person(1), person(2)]))
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        export = await start_export(deps, ADMIN, ExportRequest())
        rows = export.rows()
        await anext(rows)
        await rows.aclose()
    [line] = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    assert json.loads(line)["completed"] is False
    assert json.loads(line)["rows"] == 1


# --- file formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (12, "12"),
        (Decimal("1E+6"), "1000000"),
        (Decimal("99.50"), "99.50"),
        (date(2024, 1, 2), "2024-01-02"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        ("عبدالله", "عبدالله"),
        ("+966551234567", "+966551234567"),
        ("-5", "-5"),
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+HYPERLINK()", "'+HYPERLINK()"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("\tx", "'\tx"),
    ],
)
def test_csv_text(value: Cell, text: str) -> None:
    assert csv_text(value) == text


async def rows_of(values: Sequence[Sequence[Cell]]) -> AsyncIterator[Sequence[Cell]]:
    for row in values:
        yield row


async def test_csv_starts_with_a_bom_and_quotes_what_needs_quoting() -> None:
    chunks = [
        c
        async for c in csv_chunks(["id", "notes"], rows_of([("1", 'قال "نعم"،\nثم'), ("2", None)]))
    ]
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbfid,notes\r\n")
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed == [["id", "notes"], ["1", 'قال "نعم"،\nثم'], ["2", ""]]


async def test_xlsx_cells_are_typed_and_text_is_never_a_formula() -> None:
    target = io.BytesIO()
    await write_xlsx(
        ["id", "n", "when", "day", "text"],
        rows_of([("c1", Decimal("2.5"), AT, date(2024, 1, 2), "=1+1\x00")]),
        target,
        right_to_left=True,
    )
    sheet = load_workbook(io.BytesIO(target.getvalue())).active
    assert sheet is not None
    assert sheet.sheet_view.rightToLeft
    assert sheet.freeze_panes == "A2"
    row = list(next(sheet.iter_rows(min_row=2)))
    assert row[1].value == 2.5
    assert row[2].value == "2024-02-03T04:05:06Z"
    assert row[3].value == datetime(2024, 1, 2)
    assert row[4].data_type == "s"
    assert row[4].value == "=1+1"  # illegal control characters dropped


async def test_a_full_sheet_continues_on_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_ROWS", 3)
    target = io.BytesIO()
    await write_xlsx(["id"], rows_of([(str(n),) for n in range(5)]), target)
    book = load_workbook(io.BytesIO(target.getvalue()))
    assert book.sheetnames == ["Customers", "Customers 2", "Customers 3"]
    values = [[r[0] for r in book[name].iter_rows(values_only=True)] for name in book.sheetnames]
    assert values == [["id", "0", "1"], ["id", "2", "3"], ["id", "4"]]

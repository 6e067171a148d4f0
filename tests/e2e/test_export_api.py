"""``GET /customers/export`` through HTTP: the list's filters and scope, CSV (UTF-8 with BOM,
Arabic intact) and XLSX, column choice, Arabic headers, 400 naming each bad parameter, other
organizations never exported, an agent only their own, and an audit line per export."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from customers_hub.application.use_cases.export import AUDIT_LOGGER, EXPORT_COLUMNS, EXPORT_FIELDS
from customers_hub.domain.enums import Stage

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
EXPORT = "/api/v1/customers/export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response: Any) -> list[dict[str, str]]:
    """The CSV body as dicts keyed by the header, after checking the BOM and the type."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def header_of(response: Any) -> list[str]:
    text = response.content.decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text)))


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


async def test_csv_holds_every_customer_in_scope_with_arabic_intact(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    first = await new_customer(
        name="عبدالله الشمري", name_en="Abdullah Al-Shammari", city="جدة", tags=["vip", "نقد"]
    )
    second = await new_customer(assigned="agent2", name="مُحَمَّد الفهد", notes="سطر\nثانٍ، مع فاصلة")
    unassigned = await new_customer(assigned=None, name="نورة")

    response = await client.get(EXPORT, headers=token_for("admin"))

    rows = csv_rows(response)
    assert header_of(response) == list(EXPORT_FIELDS)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {first.id, second.id, unassigned.id}
    row = by_id[first.id]
    assert row["name"] == "عبدالله الشمري"
    assert row["nameEn"] == "Abdullah Al-Shammari"
    assert row["phone"] == first.phone
    assert row["city"] == "جدة"
    assert row["tags"] == "vip, نقد"
    assert row["stage"] == "new_lead"
    assert row["assignedEmployeeId"] == staff.id("agent")
    assert row["assignedEmployee.name"] == staff.employees["agent"].name
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", row["createdAt"])
    assert by_id[second.id]["notes"] == "سطر\nثانٍ، مع فاصلة"
    assert by_id[unassigned.id]["assignedEmployeeId"] == ""
    # Newest first, as the list's default sort.
    assert [r["id"] for r in rows] == [unassigned.id, second.id, first.id]
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="customers-{staff.org}-\d{{8}}-\d{{4}}\.csv"; '
        r"filename\*=UTF-8''customers-.*\.csv",
        disposition,
    )
    assert response.headers["cache-control"] == "private, no-store"


async def test_the_lists_filters_sort_columns_and_arabic_headers_apply(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Any, staff: Staff
) -> None:
    riyadh = await new_customer(city="الرياض", name="أحمد السعيد")
    jeddah = await new_customer(city="جدة", name="بدر")
    qualified = await new_customer(city="الرياض", name="تركي")
    headers = token_for("admin")
    moved = await client.patch(
        f"/api/v1/customers/{qualified.id}/stage", headers=headers, json={"toStage": "qualified"}
    )
    assert moved.status_code == 200, moved.text

    by_city = csv_rows(await client.get(EXPORT, headers=headers, params={"city": "الرياض"}))
    assert {r["id"] for r in by_city} == {riyadh.id, qualified.id}
    by_stage = csv_rows(
        await client.get(EXPORT, headers=headers, params={"stage": Stage.QUALIFIED.value})
    )
    assert [r["id"] for r in by_stage] == [qualified.id]
    by_json = csv_rows(
        await client.get(
            EXPORT, headers=headers, params={"filters": json.dumps({"city": {"eq": "جدة"}})}
        )
    )
    assert [r["id"] for r in by_json] == [jeddah.id]
    by_name = csv_rows(
        await client.get(EXPORT, headers=headers, params={"sortBy": "name", "sortOrder": "asc"})
    )
    assert [r["name"] for r in by_name] == ["أحمد السعيد", "بدر", "تركي"]
    searched = csv_rows(await client.get(EXPORT, headers=headers, params={"search": "احمد"}))
    assert [r["id"] for r in searched] == [riyadh.id]

    picked = await client.get(
        EXPORT, headers=headers, params={"fields": "phone,name", "city": "جدة"}
    )
    assert header_of(picked) == ["id", "name", "phone"]
    assert csv_rows(picked) == [{"id": jeddah.id, "name": "بدر", "phone": jeddah.phone}]

    arabic = await client.get(
        EXPORT, headers=headers, params={"headerLanguage": "ar", "fields": "name", "city": "جدة"}
    )
    assert header_of(arabic) == ["المعرف", "الاسم"]


async def test_xlsx_is_a_workbook_with_typed_cells(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(name="فاطمة الزهراني", notes='=HYPERLINK("http://evil")')
    response = await client.get(
        EXPORT, headers=token_for("admin"), params={"format": "xlsx", "headerLanguage": "ar"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith('attachment; filename="customers-')
    assert '.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "العملاء"
    assert sheet.sheet_view.rightToLeft
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [c.label_ar for c in EXPORT_COLUMNS]
    assert len(values) == 2
    row = dict(zip(EXPORT_FIELDS, values[1], strict=True))
    assert row["id"] == customer.id
    assert row["name"] == "فاطمة الزهراني"
    assert row["phone"] == customer.phone  # text, never a number
    assert row["leadScore"] == customer.lead_score  # a number
    notes = sheet.cell(row=2, column=EXPORT_FIELDS.index("notes") + 1)
    assert notes.data_type == "s"  # stored as text: never evaluated
    assert notes.value == '=HYPERLINK("http://evil")'


async def test_a_csv_cell_that_would_run_as_a_formula_is_quoted(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer(notes="=1+1", address="@SUM(A1)", district="-حي")
    [row] = csv_rows(await client.get(EXPORT, headers=token_for("admin")))
    assert (row["notes"], row["address"], row["district"]) == ("'=1+1", "'@SUM(A1)", "'-حي")
    assert row["phone"].startswith("+966")  # a plain number stays as it is


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"fields": "name,secret"}, "fields"),
        ({"headerLanguage": "fr"}, "headerLanguage"),
        ({"leadScoreMin": "500"}, "leadScoreMin"),
        ({"sortBy": "password"}, "sortBy"),
        ({"createdFrom": "yesterday"}, "createdFrom"),
        ({"budgetMin": "-5"}, "budgetMin"),
        ({"stage": "won"}, "stage"),
        ({"filters": "{not json"}, "filters"),
        ({"filters": json.dumps({"salary": {"eq": 1}})}, "filters.salary"),
    ],
)
async def test_bad_parameters_are_a_400_naming_them(
    client: Client, token_for: TokenFor, params: dict[str, str], field: str
) -> None:
    response = await client.get(EXPORT, headers=token_for("admin"), params=params)
    assert field in fields_of(response), response.text


async def test_every_bad_parameter_is_named_at_once(client: Client, token_for: TokenFor) -> None:
    response = await client.get(
        EXPORT,
        headers=token_for("admin"),
        params={"fields": "nope", "sortBy": "nope", "createdTo": "nope"},
    )
    assert {"fields", "sortBy", "createdTo"} <= set(fields_of(response))


async def test_another_organizations_customers_are_never_exported(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer()
    response = await client.get(EXPORT, headers=token_for("other_admin"))
    assert csv_rows(response) == []
    assert header_of(response) == list(EXPORT_FIELDS)


async def test_each_role_exports_its_own_scope(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    mine = await new_customer(assigned="agent")
    teammate = await new_customer(assigned="agent2")
    outsider = await new_customer(assigned="outsider")

    def ids(response: Any) -> set[str]:
        return {row["id"] for row in csv_rows(response)}

    assert ids(await client.get(EXPORT, headers=token_for("agent"))) == {mine.id}
    assert ids(await client.get(EXPORT, headers=token_for("manager"))) == {mine.id, teammate.id}
    assert ids(await client.get(EXPORT, headers=token_for("admin"))) == {
        mine.id,
        teammate.id,
        outsider.id,
    }
    assert ids(await client.get(EXPORT, headers=token_for("viewer"))) == set()
    # An agent's filter on someone else cannot widen the scope.
    assert (
        ids(
            await client.get(
                EXPORT, headers=token_for("agent"), params={"assignedEmployeeId": outsider.id}
            )
        )
        == set()
    )


async def test_without_the_read_permission_the_export_is_refused(
    client: Client, token_for: TokenFor
) -> None:
    response = await client.get(EXPORT, headers=token_for("agent", permissions=[]))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    unauthenticated = await client.get(EXPORT)
    assert unauthenticated.status_code == 401


async def test_every_export_is_audited_without_free_text(
    client: Client,
    token_for: TokenFor,
    new_customer: NewCustomer,
    staff: Staff,
    caplog: pytest.LogCaptureFixture,
) -> None:
    salem = await new_customer(city="الرياض", name="سالم")
    await new_customer(city="جدة", name="سالم")
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = await client.get(
            EXPORT,
            headers=token_for("manager"),
            params={"city": "الرياض", "search": salem.phone, "fields": "name"},
        )
    assert len(csv_rows(response)) == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    record = json.loads(line)
    assert record["event"] == "customers.exported"
    assert record["userId"] == staff.id("manager")
    assert record["organizationId"] == staff.org
    assert record["role"] == "sales_manager"
    assert record["rows"] == 1
    assert record["completed"] is True
    assert record["format"] == "csv"
    assert record["fields"] == ["id", "name"]
    assert record["filters"] == {"search": "[redacted]", "city": ["الرياض"]}
    assert salem.phone not in line
    assert salem.phone[4:] not in line

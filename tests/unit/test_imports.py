"""The import's pure parts: fields derived from the draft, header aliases (English, Arabic, the
export's), cell parsing, the mapping's checks, the duplicate plan (a rule table), and the CSV /
XLSX readers."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from customers_hub.adapters.import_files import SpreadsheetReader, cell_text
from customers_hub.application.use_cases.export import EXPORT_COLUMNS
from customers_hub.application.use_cases.imports import import_aliases
from customers_hub.domain.duplicates import DuplicateReason
from customers_hub.domain.enums import CustomerSource, Gender, PropertyType
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.imports import (
    IMPORT_FIELD_KEYS,
    OnDuplicate,
    RowOutcome,
    draft_of,
    header_aliases,
    header_key,
    parse_row,
    patch_of,
    plan_row,
    resolve_mapping,
    row_keys,
)
from customers_hub.domain.unset import UNSET
from customers_hub.domain.validation import validate_customer_draft

TODAY = date(2026, 12, 6)
ALIASES = import_aliases()


def test_fields_are_the_drafts_flat_fields() -> None:
    assert {"name", "phone", "nationalId", "preferences.budgetMin", "tags"} <= set(
        IMPORT_FIELD_KEYS
    )
    assert "ksaCompliance" not in IMPORT_FIELD_KEYS  # a nested record is not a cell
    assert "sourceDetails" not in IMPORT_FIELD_KEYS


def test_every_export_column_that_is_input_reads_back_by_both_headers() -> None:
    for column in EXPORT_COLUMNS:
        if column.key in IMPORT_FIELD_KEYS:
            assert ALIASES[header_key(column.key)] == column.key
            assert ALIASES[header_key(column.label_ar)] == column.key, column.label_ar


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("رقم الجوال", "phone"),
        ("  رقم   الجوال ", "phone"),
        ("الجوال", "phone"),
        ("Mobile Number", "phone"),
        ("PHONE", "phone"),
        ("phone_number", "phone"),
        ("الاسم", "name"),
        ("Full Name", "name"),
        ("البريد الإلكتروني", "email"),
        ("E-mail", "email"),
        ("رقم الهوية", "nationalId"),
        ("national_id", "nationalId"),
        ("budgetMin", "preferences.budgetMin"),
        ("الميزانية إلى", "preferences.budgetMax"),
        ("\ufeffname", "name"),
    ],
)
def test_default_headers(header: str, field: str) -> None:
    assert header_aliases()[header_key(header)] == field


def test_cells_are_parsed_by_type_and_bad_ones_named() -> None:
    mapping = {
        0: "name",
        1: "preferences.propertyType",
        2: "preferences.budgetMax",
        3: "gender",
        4: "dateOfBirth",
        5: "preferences.bedrooms",
        6: "notes",
    }
    parsed = parse_row(
        7, ["أحمد", "شقة، فيلا", "١٬٥٠٠٬٠٠٠", "ذكر", "31/05/1990", "2.5", "'=x"], mapping
    )
    assert parsed.values["preferences.propertyType"] == (PropertyType.APARTMENT, PropertyType.VILLA)
    assert parsed.values["preferences.budgetMax"] == Decimal("1500000")
    assert parsed.values["gender"] is Gender.MALE
    assert parsed.values["dateOfBirth"] == date(1990, 5, 31)
    assert parsed.values["notes"] == "=x"  # the export's formula guard is taken off
    assert [(e.row, e.field) for e in parsed.errors] == [(7, "preferences.bedrooms")]


def test_a_draft_defaults_to_source_import_and_a_patch_never_reassigns() -> None:
    values = {"name": "أحمد", "phone": "0551234567", "assignedEmployeeId": "emp_1"}
    assert draft_of(values).source is CustomerSource.IMPORT
    patch = patch_of(values)
    assert patch.assigned_employee_id is UNSET
    assert patch.preferences is UNSET


def test_mapping_overrides_and_is_checked() -> None:
    headers = ["الاسم", "رقم الجوال", "Other phone", "notes"]
    mapping, errors = resolve_mapping(headers, {"Other phone": "phone", "notes": None}, ALIASES)
    assert errors == []
    assert mapping == {0: "name", 2: "phone"}
    _, errors = resolve_mapping(headers, {"x": "phone", "notes": "shoe"}, ALIASES)
    assert {e.field for e in errors} == {"mapping.x", "mapping.notes"}
    _, errors = resolve_mapping(["city"], None, ALIASES)
    assert [e.message for e in errors] == [
        "no column for the required field name",
        "no column for the required field phone",
    ]


@pytest.mark.parametrize("text", ["0551234567", "+966 55 123 4567", "966551234567", "٠٥٥١٢٣٤٥٦٧"])
def test_mixed_phone_formats_give_one_key(text: str) -> None:
    draft = validate_customer_draft(draft_of({"name": "x", "phone": text}), TODAY)
    assert row_keys(draft) == ((DuplicateReason.PHONE, "+966551234567"),)


def _draft(phone: str, email: str | None = None) -> object:
    values = {"name": "x", "phone": phone} | ({"email": email} if email else {})
    return validate_customer_draft(draft_of(values), TODAY)


P1, P2 = "+966551234567", "+966551234568"
# mode, earlier rows (key → row), earlier phones, existing keys, existing phones, in scope →
# outcome, field of the report line
PLAN_TABLE = [
    (OnDuplicate.SKIP, {}, {}, {}, {}, True, RowOutcome.CREATE, None),
    (
        OnDuplicate.SKIP,
        {(DuplicateReason.PHONE, P1): 2},
        {P1: 2},
        {},
        {},
        True,
        RowOutcome.SKIP,
        "phone",
    ),
    (
        OnDuplicate.UPDATE,
        {(DuplicateReason.PHONE, P1): 2},
        {P1: 2},
        {},
        {},
        True,
        RowOutcome.SKIP,
        "phone",
    ),
    (
        OnDuplicate.CREATE,
        {(DuplicateReason.PHONE, P1): 2},
        {P1: 2},
        {},
        {},
        True,
        RowOutcome.FAIL,
        "phone",
    ),
    (
        OnDuplicate.SKIP,
        {},
        {},
        {(DuplicateReason.PHONE, P1): "c1"},
        {P1: "c1"},
        True,
        RowOutcome.SKIP,
        "phone",
    ),
    (
        OnDuplicate.UPDATE,
        {},
        {},
        {(DuplicateReason.PHONE, P1): "c1"},
        {P1: "c1"},
        True,
        RowOutcome.UPDATE,
        None,
    ),
    (
        OnDuplicate.UPDATE,
        {},
        {},
        {(DuplicateReason.PHONE, P1): "c1"},
        {P1: "c1"},
        False,
        RowOutcome.FAIL,
        "phone",
    ),
    (
        OnDuplicate.CREATE,
        {},
        {},
        {(DuplicateReason.PHONE, P1): "c1"},
        {P1: "c1"},
        True,
        RowOutcome.FAIL,
        "phone",
    ),
    # Only the e-mail is shared: another person may share an address; create makes a new one.
    (
        OnDuplicate.CREATE,
        {},
        {},
        {(DuplicateReason.EMAIL, "a@x.sa"): "c1"},
        {P2: "c1"},
        True,
        RowOutcome.CREATE,
        None,
    ),
    (
        OnDuplicate.SKIP,
        {},
        {},
        {(DuplicateReason.EMAIL, "a@x.sa"): "c1"},
        {P2: "c1"},
        True,
        RowOutcome.SKIP,
        "email",
    ),
    # The row's e-mail names c1, but its phone is c2's: an update would take c2's number.
    (
        OnDuplicate.UPDATE,
        {},
        {},
        {(DuplicateReason.EMAIL, "a@x.sa"): "c1"},
        {P1: "c2"},
        True,
        RowOutcome.FAIL,
        "phone",
    ),
]


@pytest.mark.parametrize(
    ("mode", "earlier", "earlier_phones", "existing", "phones", "scope", "outcome", "field"),
    PLAN_TABLE,
)
def test_plan_row(
    mode: OnDuplicate,
    earlier: dict,  # type: ignore[type-arg]
    earlier_phones: dict,  # type: ignore[type-arg]
    existing: dict,  # type: ignore[type-arg]
    phones: dict,  # type: ignore[type-arg]
    scope: bool,
    outcome: RowOutcome,
    field: str | None,
) -> None:
    decision = plan_row(
        9,
        _draft(P1, "a@x.sa"),  # type: ignore[arg-type]
        mode,
        earlier_rows=earlier,
        earlier_phones=earlier_phones,
        existing=existing,
        existing_phones=phones,
        in_scope=lambda _: scope,
    )
    assert decision.outcome is outcome
    assert [e.field for e in decision.errors] == ([field] if field else [])
    assert all(e.row == 9 for e in decision.errors)


def test_csv_with_and_without_bom_and_semicolons() -> None:
    reader = SpreadsheetReader()
    for content in (
        "\ufeffالاسم,الجوال\r\nأحمد,0551\r\n\r\nسارة,0552\r\n".encode(),
        "الاسم;الجوال\nأحمد;0551\n\nسارة;0552\n".encode(),
    ):
        table = reader.open(content, "x.csv")
        assert table.headers == ("الاسم", "الجوال")
        assert list(table.rows()) == [(2, ["أحمد", "0551"]), (4, ["سارة", "0552"])]
        assert list(table.rows(1)) == [(4, ["سارة", "0552"])]  # resumed after the first row


def test_xlsx_cells_become_the_text_the_parser_reads() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "phone", "dateOfBirth", "budgetMin"])
    sheet.append(["أحمد", 966551234567, date(1990, 5, 31), 1500000.0])
    buffer = io.BytesIO()
    book.save(buffer)
    table = SpreadsheetReader().open(buffer.getvalue(), "x.xlsx")
    assert table.file_format == "xlsx"
    assert list(table.rows()) == [(2, ["أحمد", "966551234567", "1990-05-31", "1500000"])]
    table.close()
    assert cell_text(2.5) == "2.5"


@pytest.mark.parametrize("content", [b"\xff\xfebad", b"   ", b"PK\x03\x04broken", b"\r\n\r\n"])
def test_unreadable_files_name_file(content: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        SpreadsheetReader().open(content, "x")
    assert [e.field for e in caught.value.errors] == ["file"]

"""``/api/v1/customers/imports`` over HTTP: the issue's "Done when" (20,000 rows with 5 %
duplicates in mixed phone formats, Arabic headers and bad rows, the exact per-row report; the
dry run changes nothing; export → import round trip), bad input, roles and organizations."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.export import EXPORT_FIELDS

if TYPE_CHECKING:
    from conftest import Staff, TokenFor

Client = AsyncTestClient[Litestar]
URL = "/api/v1/customers/imports"
ROWS = 20_000
HEADER = ["الاسم", "رقم الجوال", "البريد الإلكتروني", "المدينة", "الميزانية من", "الميزانية إلى"]
FORMATS = ("0{0}", "+966 {1} {2} {3}", "966{0}")  # of 5XXXXXXXX: local, spaced, international


def phone(i: int) -> str:
    return f"5{40_000_000 + i:08d}"


def formatted(digits: str, style: int) -> str:
    return FORMATS[style].format(digits, digits[:2], digits[2:5], digits[5:])


def big_file() -> tuple[bytes, dict[int, tuple[str, str]], int]:
    """The file, the expected report {row: (field, message start)} and the rows created."""
    lines = [HEADER]
    expected: dict[int, tuple[str, str]] = {}
    created = 0
    for i in range(ROWS):
        row = i + 2
        name, number, email, budget_min, budget_max = f"عميل {i}", phone(i), "", "", ""
        if i % 20 == 19:  # 5 %: an earlier row's number in another format
            first = i - 19
            number = phone(first)
            expected[row] = ("phone", f"Duplicate of row {first + 2} (phone); skipped")
        elif i % 50 == 7:
            kind = (i // 50) % 4
            if kind == 0:
                number = "12345"
                expected[row] = ("phone", "")
            elif kind == 1:
                email = "not-an-email"
                expected[row] = ("email", "")
            elif kind == 2:
                budget_min, budget_max = "900000", "500000"
                expected[row] = ("preferences.budgetMax", "")
            else:
                name = ""
                expected[row] = ("name", "")
        else:
            created += 1
        lines.append([name, formatted(number, i % 3), email, "الرياض", budget_min, budget_max])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return ("\ufeff" + buffer.getvalue()).encode(), expected, created


async def upload(
    client: Client, headers: dict[str, str], content: bytes, name: str = "leads.csv", **form: str
) -> Any:
    return await client.post(
        URL, files={"file": (name, content, "text/csv")}, data=form, headers=headers
    )


async def finished(client: Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    for _ in range(1200):
        response = await client.get(f"{URL}/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["data"]["job"]
        if job["status"] in ("completed", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError("the import did not finish")


async def report(client: Client, headers: dict[str, str], job_id: str) -> list[dict[str, str]]:
    response = await client.get(f"{URL}/{job_id}/errors", headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def customer_total(client: Client, headers: dict[str, str]) -> int:
    response = await client.get("/api/v1/customers?limit=1", headers=headers)
    assert response.status_code == 200
    total: int = response.json()["data"]["pagination"]["totalItems"]
    return total


async def test_twenty_thousand_rows_with_the_exact_report(
    client: Client, staff: Staff, token_for: TokenFor
) -> None:
    admin = token_for("admin")
    content, expected, created = big_file()

    dry = await upload(client, admin, content, dryRun="true")
    assert dry.status_code == 202, dry.text
    dry_job = await finished(client, admin, dry.json()["data"]["job"]["id"])
    assert dry_job["status"] == "completed"
    assert (dry_job["created"], dry_job["totalRows"]) == (created, ROWS)
    assert await customer_total(client, admin) == 0  # the dry run changed nothing

    response = await upload(client, admin, content)
    assert response.status_code == 202
    started = response.json()["data"]["job"]
    assert started["status"] == "queued"
    assert started["mapping"]["رقم الجوال"] == "phone"
    job = await finished(client, admin, started["id"])
    skipped = sum(1 for f, _ in expected.values() if f == "phone" and _)
    assert job["status"] == "completed"
    assert job["processed"] == ROWS
    assert (job["created"], job["skipped"], job["failed"]) == (
        created,
        skipped,
        len(expected) - skipped,
    )
    assert job["startedAt"] is not None
    assert job["finishedAt"] is not None
    assert await customer_total(client, admin) == created

    lines = await report(client, admin, started["id"])
    assert [int(line["row"]) for line in lines] == sorted(expected)
    for line in lines:
        field, message = expected[int(line["row"])]
        assert line["field"] == field
        assert line["message"].startswith(message)
    # The JSON form pages the same report.
    page = await client.get(f"{URL}/{started['id']}/errors?page=2&limit=10", headers=admin)
    assert page.status_code == 200
    data = page.json()["data"]
    assert [e["row"] for e in data["errors"]] == sorted(expected)[10:20]
    assert data["pagination"]["totalItems"] == len(expected)


async def test_export_reimports_to_the_same_data(
    client: Client, staff: Staff, token_for: TokenFor
) -> None:
    admin, other = token_for("admin"), token_for("other_admin")
    source = (
        "name,nameEn,phone,whatsapp,email,nationalId,gender,dateOfBirth,priority,city,district,"
        "tags,preferences.propertyType,preferences.budgetMin,preferences.budgetMax,"
        "preferences.preferredAreas,preferences.bedrooms,preferences.purpose,notes\r\n"
        "أحمد الفهد,Ahmed,0551110001,0551110002,Ahmed@Example.com,1000000008,male,1990-05-31,"
        'high,الرياض,النرجس,"vip, cash_buyer","apartment, villa",800000,1200000,'
        '"النرجس، الياسمين",4,buy,"=ملاحظة"\r\n'
        "سارة,,+966 55 111 0003,,,,female,,low,جدة,,,,,,,,rent,\r\n"
    ).encode()
    first = await upload(client, admin, source)
    assert (await finished(client, admin, first.json()["data"]["job"]["id"]))["created"] == 2
    fields = [f for f in EXPORT_FIELDS if not f.startswith("assigned")]
    query = "?fields=" + ",".join(fields) + "&headerLanguage=ar&sortBy=name&sortOrder=asc"
    exported = await client.get(f"/api/v1/customers/export{query}", headers=admin)
    assert exported.status_code == 200
    second = await upload(client, other, exported.content, name="export.csv")
    assert second.status_code == 202, second.text
    assert (await finished(client, other, second.json()["data"]["job"]["id"]))["created"] == 2
    again = await client.get(f"/api/v1/customers/export{query}", headers=other)

    def comparable(body: bytes) -> list[dict[str, str]]:
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        volatile = {"المعرف", "تاريخ الإنشاء", "آخر تحديث"}  # id, createdAt, updatedAt
        return [{k: v for k, v in row.items() if k not in volatile} for row in rows]

    assert comparable(again.content) == comparable(exported.content)
    assert len(comparable(exported.content)) == 2


async def test_bad_input_is_a_4xx_naming_the_field_and_queues_nothing(
    client: Client, staff: Staff, token_for: TokenFor
) -> None:
    """What the OpenAPI document states (the flags' and the mode's words, a file part) is 400;
    content no schema can state (a file that is no spreadsheet, a mapping that is not a JSON
    object or names what the file lacks) is 422."""
    admin = token_for("admin")
    good = "name,phone\r\nأحمد,0551112001\r\n".encode()
    cases: list[tuple[dict[str, Any], set[str], int]] = [
        ({"data": {"dryRun": "maybe"}}, {"dryRun"}, 400),
        ({"data": {"dryRun": "yes"}}, {"dryRun"}, 400),  # exactly true or false
        ({"data": {"onDuplicate": "merge"}}, {"onDuplicate"}, 400),
        ({"data": {"mapping": "{not json"}}, {"mapping"}, 422),
        ({"data": {"mapping": json.dumps({"nope": "phone"})}}, {"mapping.nope"}, 422),
        ({"data": {"mapping": json.dumps({"phone": "shoeSize"})}}, {"mapping.phone"}, 422),
        ({"data": {"mapping": json.dumps({"phone": None})}}, {"mapping"}, 422),
        ({"content": b"\xff\xfe\x00bad"}, {"file"}, 422),
        ({"content": b"name,phone\r\n"}, {"file"}, 422),
        ({"content": "city\r\nالرياض\r\n".encode()}, {"mapping"}, 422),
        ({"content": b"PK\x03\x04broken"}, {"file"}, 422),
    ]
    for case, fields, status in cases:
        response = await upload(client, admin, case.get("content", good), **case.get("data", {}))
        assert response.status_code == status, (case, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert {d["field"] for d in error["details"]} == fields, case
    missing = await client.post(URL, files={"dryRun": (None, "true")}, headers=admin)
    assert missing.status_code == 400
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"file"}


async def test_roles_and_organizations(client: Client, staff: Staff, token_for: TokenFor) -> None:
    content = "name,phone\r\nأحمد,0551113001\r\n".encode()
    for who in ("agent", "viewer"):
        refused = await upload(client, token_for(who), content)
        assert refused.status_code == 403, who
    manager = token_for("manager")
    response = await upload(client, manager, content)
    assert response.status_code == 202
    job_id = response.json()["data"]["job"]["id"]
    await finished(client, manager, job_id)
    for path in (f"{URL}/{job_id}", f"{URL}/{job_id}/errors", f"{URL}/{job_id}/errors?format=csv"):
        assert (await client.get(path, headers=token_for("other_admin"))).status_code == 404
        assert (await client.get(path, headers=token_for("agent"))).status_code == 403
        assert (await client.get(path, headers=token_for("admin"))).status_code == 200
    assert (await client.get(f"{URL}/imp_missing", headers=token_for("admin"))).status_code == 404

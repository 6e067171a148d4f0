"""A customer's relations through HTTP: property interests, interactions, appointments,
reminders and documents — success in the document's shape, rule failures, access (another
organization: 404; out of scope: 403) and bad input (400 naming the field, nothing changed)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import get_customer
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.app import MULTIPART_OVERHEAD
from customers_hub.entrypoints.http.controllers.documents import detect_media_type

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

    from customers_hub.application.use_cases.customers import CustomerDetails

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
RELATIONS = frozenset({"interactions", "appointments", "reminders", "documents", "properties"})


def fields_of(response: Any) -> list[str]:
    """The ``field`` of each error detail of a 400."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error object, after checking status, code and envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


async def snapshot(hub: Hub, staff: Staff, customer_id: str) -> CustomerDetails:
    """The customer with every relation, as stored now."""
    return await get_customer(hub.deps, staff.admin, customer_id, include=RELATIONS)


def counts(details: CustomerDetails) -> tuple[int, ...]:
    """How many of each relation, and the record's version."""
    return (
        len(details.properties),
        len(details.interactions),
        len(details.appointments),
        len(details.reminders),
        len(details.documents),
        details.customer.version,
    )


def later(**delta: float) -> str:
    """An ISO instant ``delta`` from now."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat().replace("+00:00", "Z")


async def check_access(
    client: Client,
    token_for: TokenFor,
    method: str,
    url: str,
    **kwargs: Any,
) -> None:
    """Another organization's admin: 404; an agent outside the team and a viewer: 403."""
    other = await client.request(method, url, headers=token_for("other_admin"), **kwargs)
    assert_error(other, 404, "RESOURCE_NOT_FOUND")
    for outsider in ("outsider", "viewer"):
        refused = await client.request(method, url, headers=token_for(outsider), **kwargs)
        assert_error(refused, 403, "PERMISSION_DENIED")


# --- 24. property interests -----------------------------------------------------------------------


async def test_property_interests(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/properties"
    body = {
        "propertyId": "prop_villa_023",
        "propertyTitle": "فيلا راقية في حي الياسمين",
        "propertyPrice": 2800000,
        "propertyType": "villa",
        "status": "interested",
        "notes": "العميل مهتم جداً بهذا العقار",
        "id": "prop_int_chosen",
    }
    response = await client.post(url, headers=token_for("agent"), json=body)
    assert response.status_code == 201, response.text
    interest = response.json()["data"]["property"]
    assert interest["propertyId"] == "prop_villa_023"
    assert interest["propertyPrice"] == 2800000
    assert interest["id"] != "prop_int_chosen"
    assert interest["addedAt"].endswith("Z")

    duplicate = await client.post(url, headers=token_for("agent"), json=body)
    assert assert_error(duplicate, 409, "DUPLICATE_RESOURCE")["details"][0]["field"] == "propertyId"

    patched = await client.patch(
        f"{url}/{interest['id']}", headers=token_for("manager"), json={"status": "viewed"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["property"]["status"] == "viewed"
    assert patched.json()["data"]["property"]["viewedAt"]

    before = counts(await snapshot(hub, staff, customer.id))
    assert fields_of(
        await client.post(
            url, headers=token_for("agent"), json={**body, "propertyId": "p2", "rating": 9}
        )
    ) == ["rating"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={"status": "interested"})
    ) == ["propertyId"]
    assert fields_of(
        await client.post(
            url, headers=token_for("agent"), json={"propertyId": "p3", "propertyType": "castle"}
        )
    ) == ["propertyType"]
    assert fields_of(
        await client.patch(
            f"{url}/{interest['id']}", headers=token_for("agent"), json={"status": "loved"}
        )
    ) == ["status"]
    assert_error(
        await client.patch(
            f"{url}/prop_int_missing", headers=token_for("agent"), json={"status": "viewed"}
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    await check_access(client, token_for, "POST", url, json={**body, "propertyId": "p4"})
    await check_access(
        client, token_for, "PATCH", f"{url}/{interest['id']}", json={"status": "rejected"}
    )
    after = await snapshot(hub, staff, customer.id)
    assert counts(after) == before
    assert after.properties[0].status.value == "viewed"


# --- 25. interactions -----------------------------------------------------------------------------


async def test_interactions(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/interactions"
    body = {
        "type": "call",
        "direction": "outbound",
        "duration": 15,
        "notes": "مكالمة متابعة - العميل سيزور العقار يوم الأحد",
        "sentiment": "positive",
        "followUpRequired": True,
        "followUpDate": later(days=3),
    }
    response = await client.post(url, headers=token_for("agent"), json=body)
    assert response.status_code == 201, response.text
    interaction = response.json()["data"]["interaction"]
    assert interaction["type"] == "call"
    assert interaction["agentId"] == staff.id("agent")
    assert interaction["followUpRequired"] is True
    assert interaction["followUpDate"].endswith("Z")
    shown = await client.get(
        f"{CUSTOMERS}/{customer.id}", headers=token_for("agent"), params={"include": "interactions"}
    )
    assert [i["id"] for i in shown.json()["data"]["customer"]["interactions"]] == [
        interaction["id"]
    ]
    assert shown.json()["data"]["customer"]["totalInteractions"] == 1

    before = counts(await snapshot(hub, staff, customer.id))
    no_date = {k: v for k, v in body.items() if k != "followUpDate"}
    assert fields_of(await client.post(url, headers=token_for("agent"), json=no_date)) == [
        "followUpDate"
    ]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "type": "pigeon"})
    ) == ["type"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "duration": "long"})
    ) == ["duration"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "followUpDate": "later"})
    ) == ["followUpDate"]
    assert fields_of(await client.post(url, headers=token_for("agent"), json={"notes": "x"})) == [
        "type"
    ]
    await check_access(client, token_for, "POST", url, json=body)
    assert counts(await snapshot(hub, staff, customer.id)) == before


# --- 26. appointments -----------------------------------------------------------------------------


async def test_appointments(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    local_day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    body = {
        "title": "معاينة فيلا الياسمين",
        "type": "site_visit",
        "date": local_day,
        "time": "11:00",
        "duration": 60,
        "propertyId": "prop_villa_023",
        "priority": "high",
        "notes": "إحضار مخططات العقار",
    }
    response = await client.post(url, headers=token_for("agent"), json=body)
    assert response.status_code == 201, response.text
    appointment = response.json()["data"]["appointment"]
    assert appointment["date"] == local_day
    assert appointment["time"] == "11:00"
    assert appointment["datetime"].endswith("08:00:00Z")  # 11:00 in Riyadh (UTC+3)
    assert appointment["status"] == "scheduled"

    moved = await client.patch(
        f"{url}/{appointment['id']}",
        headers=token_for("agent"),
        json={"datetime": later(days=12)},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["appointment"]["status"] == "rescheduled"
    done = await client.patch(
        f"{url}/{appointment['id']}",
        headers=token_for("agent"),
        json={"status": "completed", "outcome": "أعجبته الفيلا"},
    )
    assert done.json()["data"]["appointment"]["status"] == "completed"
    refused = await client.patch(
        f"{url}/{appointment['id']}", headers=token_for("agent"), json={"status": "scheduled"}
    )
    assert_error(refused, 422, "BUSINESS_RULE_VIOLATION")

    before = counts(await snapshot(hub, staff, customer.id))
    past = {**body, "date": None, "time": None, "datetime": later(days=-1)}
    assert fields_of(await client.post(url, headers=token_for("agent"), json=past)) == ["datetime"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "time": "25:99"})
    ) == ["time"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "date": "2030-02-30"})
    ) == ["date"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "type": "party"})
    ) == ["type"]
    other_agent = await client.post(
        url, headers=token_for("agent"), json={**body, "agentId": staff.id("other_admin")}
    )
    assert assert_error(other_agent, 422, "VALIDATION_ERROR")["details"][0]["field"] == "agentId"
    assert_error(
        await client.patch(
            f"{url}/apt_missing", headers=token_for("agent"), json={"status": "confirmed"}
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    await check_access(client, token_for, "POST", url, json=body)
    await check_access(
        client, token_for, "PATCH", f"{url}/{appointment['id']}", json={"notes": "x"}
    )
    after = await snapshot(hub, staff, customer.id)
    assert counts(after) == before
    assert after.appointments[0].notes == "إحضار مخططات العقار"


# --- 27. reminders --------------------------------------------------------------------------------


async def test_reminders(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/reminders"
    body = {
        "title": "متابعة بعد المعاينة",
        "description": "الاتصال بالعميل للحصول على رأيه في الفيلا",
        "datetime": later(days=2),
        "priority": "high",
        "type": "follow_up",
    }
    response = await client.post(url, headers=token_for("agent"), json=body)
    assert response.status_code == 201, response.text
    reminder = response.json()["data"]["reminder"]
    assert reminder["status"] == "pending"
    assert reminder["createdById"] == staff.id("agent")

    completed = await client.post(f"{url}/{reminder['id']}/complete", headers=token_for("agent"))
    assert completed.status_code == 200, completed.text
    assert completed.json()["data"]["reminder"]["status"] == "completed"
    assert completed.json()["data"]["reminder"]["completedAt"].endswith("Z")

    before = counts(await snapshot(hub, staff, customer.id))
    assert fields_of(
        await client.post(
            url, headers=token_for("agent"), json={**body, "datetime": later(hours=-1)}
        )
    ) == ["datetime"]
    no_time = {k: v for k, v in body.items() if k != "datetime"}
    assert fields_of(await client.post(url, headers=token_for("agent"), json=no_time)) == [
        "datetime"
    ]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "type": "nag"})
    ) == ["type"]
    assert fields_of(
        await client.post(url, headers=token_for("agent"), json={**body, "priority": "meh"})
    ) == ["priority"]
    assert_error(
        await client.post(f"{url}/rem_missing/complete", headers=token_for("agent")),
        404,
        "RESOURCE_NOT_FOUND",
    )
    await check_access(client, token_for, "POST", url, json=body)
    await check_access(client, token_for, "POST", f"{url}/{reminder['id']}/complete")
    assert counts(await snapshot(hub, staff, customer.id)) == before


# --- 28. documents --------------------------------------------------------------------------------


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a document")
    return buffer.getvalue()


SAMPLES: dict[str, bytes] = {
    "application/pdf": b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32,
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32,
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32,
    "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx(),
}


@pytest.mark.parametrize("content", [b"hello", b"MZ\x90\x00", _zip(), b"", b"GIF89a..."])
def test_other_contents_are_not_an_accepted_type(content: bytes) -> None:
    assert detect_media_type(content) is None


@pytest.mark.parametrize("mime_type", sorted(SAMPLES))
async def test_upload_decides_the_type_by_content_and_downloads_it(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, mime_type: str
) -> None:
    customer = await new_customer()
    content = SAMPLES[mime_type]
    response = await client.post(
        f"{CUSTOMERS}/{customer.id}/documents",
        headers=token_for("agent"),
        # The client's file name and content type lie; the bytes decide.
        files={"file": ("../../etc/passwd", content, "text/plain")},
        data={
            "name": "صورة الهوية",
            "type": "id_copy",
            "description": "وجه وظهر",
            "tags": ["identity", "kyc"],
        },
    )
    assert response.status_code == 201, response.text
    document = response.json()["data"]["document"]
    assert document["mimeType"] == mime_type
    assert document["fileSize"] == len(content)
    assert document["name"] == "صورة الهوية"
    assert document["tags"] == ["identity", "kyc"]
    assert document["fileUrl"] == f"/api/v1/customers/{customer.id}/documents/{document['id']}"
    stored_names = [p.name for p in hub.config.documents_dir.iterdir()]
    assert all(name.startswith("doc_") for name in stored_names)
    assert not any("passwd" in name for name in stored_names)

    download = await client.get(document["fileUrl"], headers=token_for("manager"))
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"].startswith(mime_type)
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in download.headers["content-disposition"]


async def test_document_tags_and_names(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/documents"
    pdf = SAMPLES["application/pdf"]
    as_json = await client.post(
        url,
        headers=token_for("agent"),
        files={"file": ("C:\\scans\\عقد.pdf", pdf, "application/pdf")},
        data={"type": "contract", "tags": '["ejar", "2024"]'},
    )
    assert as_json.status_code == 201, as_json.text
    document = as_json.json()["data"]["document"]
    assert document["tags"] == ["ejar", "2024"]
    assert document["name"] == "عقد.pdf"  # the base name only, as a display name


async def test_document_refusals_store_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/documents"
    pdf = SAMPLES["application/pdf"]
    files_before = set(hub.config.documents_dir.iterdir())
    before = counts(await snapshot(hub, staff, customer.id))

    fake = await client.post(
        url,
        headers=token_for("agent"),
        files={"file": ("scan.pdf", b"just text pretending", "application/pdf")},
        data={"name": "x", "type": "id_copy"},
    )
    assert_error(fake, 415, "UNSUPPORTED_MEDIA_TYPE")
    limit = hub.config.max_document_bytes
    too_big = await client.post(
        url,
        headers=token_for("agent"),
        files={"file": ("big.pdf", pdf + b"0" * (limit + 1 - len(pdf)), "application/pdf")},
        data={"name": "big", "type": "contract"},
    )
    assert assert_error(too_big, 413, "PAYLOAD_TOO_LARGE")["details"]["limit"] == limit
    huge = await client.post(
        url,
        headers=token_for("agent"),
        files={"file": ("huge.pdf", pdf + b"0" * (limit + MULTIPART_OVERHEAD), "application/pdf")},
        data={"name": "huge", "type": "contract"},
    )
    assert_error(huge, 413, "PAYLOAD_TOO_LARGE")
    no_file = {"name": (None, "x"), "type": (None, "id_copy")}
    assert fields_of(await client.post(url, headers=token_for("agent"), files=no_file)) == ["file"]
    # Binary bytes in a part without a file name (found by schemathesis): 400, not a 500.
    binary_field = {"file": (None, b"\x89PNG\r\n\x1a\n\xff\xfe"), "type": (None, "id_copy")}
    assert fields_of(await client.post(url, headers=token_for("agent"), files=binary_field)) == [
        "body"
    ]
    # Not multipart at all.
    assert fields_of(
        await client.post(url, headers=token_for("agent"), data={"name": "x", "type": "id_copy"})
    ) == ["body"]
    assert fields_of(
        await client.post(
            url,
            headers=token_for("agent"),
            files={"file": ("a.pdf", pdf, "application/pdf")},
            data={"type": "selfie"},
        )
    ) == ["type"]
    assert fields_of(
        await client.post(
            url,
            headers=token_for("agent"),
            files={"file": ("a.pdf", pdf, "application/pdf")},
            data={"type": "other", "tags": "[not json"},
        )
    ) == ["tags"]
    assert fields_of(
        await client.post(
            url, headers=token_for("agent"), files={"file": ("a.pdf", pdf, "application/pdf")}
        )
    ) == ["type"]
    for who, status, code in (
        ("other_admin", 404, "RESOURCE_NOT_FOUND"),
        ("outsider", 403, "PERMISSION_DENIED"),
        ("viewer", 403, "PERMISSION_DENIED"),
    ):
        refused = await client.post(
            url,
            headers=token_for(who),
            files={"file": ("a.pdf", pdf, "application/pdf")},
            data={"name": "a", "type": "other"},
        )
        assert_error(refused, status, code)
    assert counts(await snapshot(hub, staff, customer.id)) == before
    assert set(hub.config.documents_dir.iterdir()) == files_before


async def test_document_download_and_delete_access(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    uploaded = await client.post(
        f"{CUSTOMERS}/{customer.id}/documents",
        headers=token_for("agent"),
        files={"file": ("id.png", SAMPLES["image/png"], "image/png")},
        data={"name": "هوية", "type": "id_copy"},
    )
    url = uploaded.json()["data"]["document"]["fileUrl"]
    assert_error(await client.get(url, headers=token_for("other_admin")), 404, "RESOURCE_NOT_FOUND")
    assert_error(await client.get(url, headers=token_for("outsider")), 403, "PERMISSION_DENIED")
    assert_error(await client.get(url), 401, "AUTHENTICATION_FAILED")
    await check_access(client, token_for, "DELETE", url)
    assert_error(
        await client.get(
            f"{CUSTOMERS}/{customer.id}/documents/doc_missing", headers=token_for("agent")
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert len((await snapshot(hub, staff, customer.id)).documents) == 1
    deleted = await client.delete(url, headers=token_for("agent"))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"]["deleted"] is True
    assert_error(await client.get(url, headers=token_for("agent")), 404, "RESOURCE_NOT_FOUND")
    assert_error(await client.delete(url, headers=token_for("agent")), 404, "RESOURCE_NOT_FOUND")
    assert (await snapshot(hub, staff, customer.id)).documents == ()


async def test_relations_of_a_deleted_customer_are_not_found(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    await client.delete(f"{CUSTOMERS}/{customer.id}", headers=token_for("admin"))
    response = await client.post(
        f"{CUSTOMERS}/{customer.id}/interactions",
        headers=token_for("admin"),
        json={"type": "call", "notes": "x"},
    )
    assert_error(response, 404, "RESOURCE_NOT_FOUND")

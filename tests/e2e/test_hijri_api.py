"""``calendar=hijri`` over HTTP (issue 11, deliverable 4; rules §9): Hijri twins of every date of
the JSON GETs (nested too), Hijri date filters, the parameter refused when unknown, ETags of the
two variants, access unchanged; the edge step's pieces on their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.domain.enums import CustomerSource
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.hijri import hijri_of_instant, to_hijri
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.app import served_openapi
from customers_hub.entrypoints.http.calendars import (
    CALENDAR_PARAMETER,
    DATE_QUERY_PARAMETERS,
    add_twins,
    date_keys,
    hijri_etag,
    hijri_query,
)
from customers_hub.testing.fakes import FixedClock

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
ACTIONS = "/api/v1/customers/actions"
RIYADH = ZoneInfo("Asia/Riyadh")  # the e2e hub's zone (§9's default)
HIJRI = {CALENDAR_PARAMETER: "hijri"}

# 22:30 UTC on 28 February 2025 is 1 March in Riyadh: 1 Ramadan 1446 by the local day, while the
# UTC day would say 29 Sha'ban.
EVE_OF_RAMADAN = datetime(2025, 2, 28, 22, 30, tzinfo=UTC)


def twins(node: Any) -> Iterator[str]:
    """Every key ending in ``Hijri`` at any depth of ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("Hijri"):
                yield key
            yield from twins(value)
    elif isinstance(node, list):
        for item in node:
            yield from twins(item)


def without_twins(node: Any) -> Any:
    """``node`` less every ``…Hijri`` key, at any depth."""
    if isinstance(node, dict):
        return {k: without_twins(v) for k, v in node.items() if not k.endswith("Hijri")}
    if isinstance(node, list):
        return [without_twins(item) for item in node]
    return node


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def customer_at(hub: Hub, staff: Staff, moment: datetime, **fields: Any) -> str:
    """A customer created (through the use case) at ``moment``, assigned to the agent."""
    deps = attrs.evolve(hub.deps, clock=FixedClock(moment))
    values: dict[str, Any] = {
        "name": "ريم الشهري",
        "phone": f"+9665{moment.strftime('%m%d%H%M')}",
        "source": CustomerSource.MANUAL,
        "city": "الرياض",
        "assigned_employee_id": staff.id("agent"),
        **fields,
    }
    created = (
        await create_customer(deps, staff.admin, CreateCustomer(CustomerDraft(**values)))
    ).customer
    return created.id


def data_of(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def failing_fields(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in body["error"]["details"]]


# --- one customer --------------------------------------------------------------------------------


async def test_a_customer_has_the_twin_of_its_local_creation_day(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    customer_id = await customer_at(hub, staff, EVE_OF_RAMADAN, date_of_birth=date(1990, 5, 15))
    url = f"{CUSTOMERS}/{customer_id}"
    plain = data_of(await client.get(url, headers=token_for("admin")))["customer"]
    hijri = data_of(await client.get(url, headers=token_for("admin"), params=HIJRI))["customer"]

    assert list(twins(plain)) == []  # the plain response has no twin
    assert instant(hijri["createdAt"]) == EVE_OF_RAMADAN
    assert hijri["createdAtHijri"] == "1446-09-01"  # Riyadh's 1 March, not UTC's 28 February
    assert hijri["createdAtHijri"] == hijri_of_instant(instant(hijri["createdAt"]), RIYADH)
    assert hijri["updatedAtHijri"] == "1446-09-01"
    assert hijri["dateOfBirth"] == "1990-05-15"
    assert hijri["dateOfBirthHijri"] == to_hijri(date(1990, 5, 15)) == "1410-10-20"
    # Each twin comes right after its field; nothing else changes.
    keys = list(hijri)
    assert keys[keys.index("createdAt") + 1] == "createdAtHijri"
    assert without_twins(hijri) == plain
    assert hijri["stageHistory"][0]["changedAtHijri"] == "1446-09-01"


async def test_nested_twins_stage_history_and_appointments(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    headers = token_for("agent")
    url = f"{CUSTOMERS}/{customer.id}"
    moved = await client.patch(f"{url}/stage", headers=headers, json={"toStage": "qualified"})
    assert moved.status_code == 200, moved.text
    booked = await client.post(
        f"{url}/appointments",
        headers=headers,
        json={"title": "معاينة", "type": "site_visit", "date": "2030-01-23", "time": "23:30"},
    )
    assert booked.status_code == 201, booked.text

    response = await client.get(
        url,
        headers=headers,
        params={**HIJRI, "include": ["appointments", "stageHistory"]},
    )
    found = data_of(response)["customer"]
    [change] = [c for c in found["stageHistory"] if c["toStage"] == "qualified"]
    assert change["changedAtHijri"] == hijri_of_instant(instant(change["changedAt"]), RIYADH)
    [appointment] = found["appointments"]
    assert appointment["date"] == "2030-01-23"
    assert appointment["dateHijri"] == to_hijri(date(2030, 1, 23)) == "1451-09-19"
    # 23:30 in Riyadh is 20:30 UTC: still the 23rd locally.
    assert appointment["datetime"] == "2030-01-23T20:30:00Z"
    assert appointment["datetimeHijri"] == "1451-09-19"
    assert appointment["createdAtHijri"] is not None


async def test_a_date_outside_the_calendar_has_a_null_twin(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    # 1920 is before 1343 AH: the twin is null, never an error.
    customer_id = await customer_at(hub, staff, EVE_OF_RAMADAN, date_of_birth=date(1920, 1, 1))
    response = await client.get(
        f"{CUSTOMERS}/{customer_id}", headers=token_for("admin"), params=HIJRI
    )
    found = data_of(response)["customer"]
    assert found["dateOfBirth"] == "1920-01-01"
    assert found["dateOfBirthHijri"] is None


# --- lists, the inbox, employees -----------------------------------------------------------------


async def test_a_list_has_twins_on_every_item(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    for _ in range(3):
        await new_customer()
    listed = data_of(await client.get(CUSTOMERS, headers=token_for("admin"), params=HIJRI))
    assert len(listed["customers"]) == 3
    for item in listed["customers"]:
        assert item["createdAtHijri"] == hijri_of_instant(instant(item["createdAt"]), RIYADH)
    # ``fields`` selects keys first; the twin follows its selected field.
    selected = data_of(
        await client.get(
            CUSTOMERS, headers=token_for("admin"), params={**HIJRI, "fields": "createdAt"}
        )
    )
    assert {tuple(c) for c in selected["customers"]} == {("id", "createdAt", "createdAtHijri")}


async def test_the_actions_inbox_and_an_action_have_twins(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    due = "2030-01-23T22:00:00Z"  # 24 January in Riyadh
    body = {"customerId": customer.id, "type": "follow_up", "title": "متابعة", "dueDate": due}
    created = await client.post(ACTIONS, headers=token_for("agent"), json=body)
    assert created.status_code == 201, created.text
    inbox = data_of(await client.get(ACTIONS, headers=token_for("agent"), params=HIJRI))
    [action] = [a for a in inbox["actions"] if a["id"] == created.json()["data"]["action"]["id"]]
    assert action["dueDateHijri"] == to_hijri(date(2030, 1, 24)) == "1451-09-20"
    assert action["createdAtHijri"] == hijri_of_instant(instant(action["createdAt"]), RIYADH)
    one = data_of(
        await client.get(f"{ACTIONS}/{action['id']}", headers=token_for("agent"), params=HIJRI)
    )
    assert one["action"]["dueDateHijri"] == "1451-09-20"


async def test_an_employees_licence_expiry_has_a_twin(client: Client, token_for: TokenFor) -> None:
    created = await client.post(
        "/api/v1/employees",
        headers=token_for("admin"),
        json={
            "id": "emp_hijri_fal",
            "name": "ريم الدوسري",
            "role": "sales_agent",
            "falLicence": {"number": "1100012345", "expiresOn": "2030-06-30"},
        },
    )
    assert created.status_code == 201, created.text
    listed = data_of(
        await client.get("/api/v1/employees", headers=token_for("admin"), params=HIJRI)
    )
    [employee] = [e for e in listed["employees"] if e["id"] == "emp_hijri_fal"]
    assert employee["falLicence"]["expiresOnHijri"] == to_hijri(date(2030, 6, 30))


# --- filters -------------------------------------------------------------------------------------


async def test_hijri_date_filters_select_what_their_gregorian_days_select(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    before = await customer_at(hub, staff, datetime(2025, 2, 27, 12, tzinfo=UTC))  # 28 Sha'ban
    eve = await customer_at(hub, staff, EVE_OF_RAMADAN)  # 1 Ramadan in Riyadh
    after = await customer_at(hub, staff, datetime(2025, 3, 2, 12, tzinfo=UTC))  # 2 Ramadan
    headers = token_for("admin")

    async def ids(params: dict[str, str]) -> set[str]:
        listed = data_of(await client.get(CUSTOMERS, headers=headers, params=params))
        return {c["id"] for c in listed["customers"]}

    hijri_from = await ids({**HIJRI, "createdFrom": "1446-09-01"})
    assert hijri_from == await ids({"createdFrom": "2025-03-01"}) == {eve, after}
    hijri_to = await ids({**HIJRI, "createdTo": "1446-09-01"})
    assert hijri_to == await ids({"createdTo": "2025-03-01"}) == {before, eve}
    # An instant is an instant, whatever the calendar.
    assert await ids({**HIJRI, "createdFrom": "2025-03-02T00:00:00Z"}) == {after}

    for path in (f"{CUSTOMERS}/stats", f"{ACTIONS}/stats"):
        window = {"dateFrom": "1446-09-01", "dateTo": "1446-09-01"}
        hijri = data_of(await client.get(path, headers=headers, params={**HIJRI, **window}))
        plain = data_of(
            await client.get(
                path, headers=headers, params={"dateFrom": "2025-03-01", "dateTo": "2025-03-01"}
            )
        )
        assert hijri == plain, path
    stats = data_of(
        await client.get(
            f"{CUSTOMERS}/stats",
            headers=headers,
            params={**HIJRI, "dateFrom": "1446-09-01", "dateTo": "1446-09-01"},
        )
    )
    assert stats["stats"]["total"] == 1


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"createdFrom": "1446-09-30"}, ["createdFrom"]),  # Ramadan 1446 has 29 days
        (
            {"createdFrom": "1446-13-01", "lastContactTo": "1501-01-01"},
            ["createdFrom", "lastContactTo"],
        ),
    ],
)
async def test_an_impossible_hijri_filter_is_refused_naming_it(
    client: Client, token_for: TokenFor, params: dict[str, str], fields: list[str]
) -> None:
    response = await client.get(CUSTOMERS, headers=token_for("admin"), params={**HIJRI, **params})
    assert failing_fields(response) == fields


async def test_a_hijri_year_past_the_tables_is_a_422_naming_it(
    client: Client, token_for: TokenFor
) -> None:
    """1501-01-01 has the shape the document's date pattern takes: only calendar=hijri makes
    it wrong (Umm al-Qura ends in 1500), so it is unprocessable (422), not malformed (400)."""
    response = await client.get(
        CUSTOMERS, headers=token_for("admin"), params={**HIJRI, "createdFrom": "1501-01-01"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], [d["field"] for d in error["details"]]) == (
        "VALIDATION_ERROR",
        ["createdFrom"],
    )


async def test_an_impossible_hijri_stats_window_is_refused(
    client: Client, token_for: TokenFor
) -> None:
    response = await client.get(
        f"{ACTIONS}/stats", headers=token_for("admin"), params={**HIJRI, "dateTo": "1446-09-30"}
    )
    assert failing_fields(response) == ["dateTo"]


# --- the parameter -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["zzz", "", "HIJRI", "islamic"])
async def test_an_unknown_calendar_is_a_400_naming_it(
    client: Client, token_for: TokenFor, value: str
) -> None:
    for path in (CUSTOMERS, f"{CUSTOMERS}/stats", "/api/v1/organization/settings"):
        response = await client.get(path, headers=token_for("admin"), params={"calendar": value})
        assert failing_fields(response) == ["calendar"]


async def test_gregorian_is_the_plain_response(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer()
    url = CUSTOMERS
    plain = await client.get(url, headers=token_for("admin"))
    gregorian = await client.get(url, headers=token_for("admin"), params={"calendar": "gregorian"})
    assert data_of(gregorian) == data_of(plain)
    assert gregorian.headers["etag"] == plain.headers["etag"]


async def test_only_gets_read_the_parameter(client: Client, token_for: TokenFor) -> None:
    response = await client.post(
        f"{CUSTOMERS}/search",
        headers=token_for("admin"),
        params={"calendar": "zzz"},
        json={"query": "محمد"},
    )
    assert response.status_code == 200, response.text


async def test_without_a_token_the_answer_is_still_401(client: Client) -> None:
    response = await client.get(CUSTOMERS, params={"calendar": "zzz"})
    assert response.status_code == 401


# --- ETags and compression -----------------------------------------------------------------------


async def test_the_two_variants_have_their_own_etags(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    headers = token_for("agent")
    for url in (f"{CUSTOMERS}/{customer.id}", CUSTOMERS, f"{CUSTOMERS}/stats"):
        plain = await client.get(url, headers=headers)
        hijri = await client.get(url, headers=headers, params=HIJRI)
        plain_tag, hijri_tag = plain.headers["etag"], hijri.headers["etag"]
        assert plain_tag != hijri_tag, url
        assert hijri.headers["cache-control"] == plain.headers["cache-control"]
        # Each variant is "not modified" by its own tag only.
        again = await client.get(url, headers={**headers, "If-None-Match": hijri_tag}, params=HIJRI)
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["etag"] == hijri_tag
        crossed = await client.get(
            url, headers={**headers, "If-None-Match": plain_tag}, params=HIJRI
        )
        assert crossed.status_code == 200, url
        assert crossed.json()["data"] == hijri.json()["data"]
        back = await client.get(url, headers={**headers, "If-None-Match": hijri_tag})
        assert back.status_code == 200, url
        assert back.json()["data"] == plain.json()["data"]
    # The version ETag of a record keeps its version: If-Match of a write reads it.
    detail = await client.get(f"{CUSTOMERS}/{customer.id}", headers=headers, params=HIJRI)
    assert detail.headers["etag"].startswith('"v1-hijri-')
    url = f"{CUSTOMERS}/{customer.id}/stage"
    moved = await client.patch(
        url,
        headers={**headers, "If-Match": detail.headers["etag"]},
        json={"toStage": "qualified"},
    )
    assert moved.status_code == 200, moved.text
    stale = await client.patch(
        url,
        headers={**headers, "If-Match": detail.headers["etag"]},
        json={"toStage": "property_matching"},
    )
    assert stale.status_code == 412, stale.text


async def test_a_hijri_response_is_compressed_like_the_plain_one(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    for _ in range(5):
        await new_customer()
    headers = {**token_for("admin"), "Accept-Encoding": "gzip"}
    response = await client.get(CUSTOMERS, headers=headers, params=HIJRI)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    # httpx inflated it: the bytes on the wire were fewer, and said so.
    assert int(response.headers["content-length"]) < len(response.content)
    assert all("createdAtHijri" in c for c in response.json()["data"]["customers"])
    head = await client.head(CUSTOMERS, headers=token_for("admin"), params=HIJRI)
    assert head.status_code == 200
    assert head.content == b""


# --- access is unchanged -------------------------------------------------------------------------


async def test_another_organization_is_still_404_and_out_of_scope_still_403(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}"
    foreign = await client.get(url, headers=token_for("other_admin"), params=HIJRI)
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    for who in ("viewer", "outsider"):
        refused = await client.get(url, headers=token_for(who), params=HIJRI)
        assert refused.status_code == 403, refused.text
        assert list(twins(refused.json())) == []


# --- the OpenAPI document ------------------------------------------------------------------------


async def test_the_document_declares_the_parameter_and_the_twins(client: Client) -> None:
    document = served_openapi(client.app)
    getters = [
        (path, item["get"])
        for path, item in document["paths"].items()
        if path.startswith("/api/v1") and "get" in item
    ]
    filters: set[str] = set()
    for path, operation in getters:
        ok = operation["responses"]["200"].get("content", {})
        declared = [p for p in operation.get("parameters", []) if p["name"] == "calendar"]
        if "application/json" in ok:
            [parameter] = declared
            assert parameter["in"] == "query"
            assert parameter["schema"]["enum"] == ["gregorian", "hijri"], path
        # Every date filter of the document is one the edge reads as Hijri.
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and "Date or datetime" in parameter.get(
                "description", parameter.get("schema", {}).get("description", "")
            ):
                filters.add(parameter["name"])
    assert filters == DATE_QUERY_PARAMETERS
    schemas = document["components"]["schemas"]
    assert "createdAtHijri" in schemas["CustomerOut"]["properties"]
    assert "changedAtHijri" in schemas["StageChangeOut"]["properties"]
    # A component that forbids other keys declares its twins.
    assert schemas["FalLicenceWire"]["additionalProperties"] is False
    assert "expiresOnHijri" in schemas["FalLicenceWire"]["properties"]
    # Request bodies never take a twin.
    assert "expiresOnHijri" not in schemas["FalLicenceWireInput"]["properties"]
    assert "createdAtHijri" not in schemas["CustomerIn"].get("properties", {})


# --- the edge step's pieces ----------------------------------------------------------------------


def test_date_keys_come_from_the_wire_structs() -> None:
    keys = date_keys()
    assert {"createdAt", "changedAt", "dueDate", "expiresOn", "dateOfBirth", "date"} <= keys
    assert not {"id", "name", "timestamp", "stage", "phone"} & keys


def test_add_twins_walks_every_depth() -> None:
    keys = frozenset({"createdAt", "day", "days"})
    node = {
        "createdAt": "2025-02-28T22:30:00Z",
        "nested": [{"day": "2025-03-01", "days": ["2025-03-01", "1900-01-01"], "name": "x"}],
        "day": None,
        "other": "2025-03-01",
    }
    assert add_twins(node, keys, RIYADH) == {
        "createdAt": "2025-02-28T22:30:00Z",
        "createdAtHijri": "1446-09-01",
        "nested": [
            {
                "day": "2025-03-01",
                "dayHijri": "1446-09-01",
                "days": ["2025-03-01", "1900-01-01"],
                "daysHijri": ["1446-09-01", None],
                "name": "x",
            }
        ],
        "day": None,
        "dayHijri": None,
        "other": "2025-03-01",
    }
    # A value that is no date gets no twin; an existing twin is kept.
    assert add_twins({"day": "soon"}, keys, RIYADH) == {"day": "soon"}
    assert add_twins({"day": "2025-03-01", "dayHijri": "x"}, keys, RIYADH) == {
        "day": "2025-03-01",
        "dayHijri": "x",
    }


def test_hijri_query_rewrites_only_the_date_filters() -> None:
    query = (
        b"createdFrom=1446-09-01&city=%D8%AC%D8%AF%D8%A9&dateTo=2025-03-01T10%3A00%3A00Z"
        b"&x=1446-09-01"
    )
    assert hijri_query(query) == (
        b"createdFrom=2025-03-01&city=%D8%AC%D8%AF%D8%A9&dateTo=2025-03-01T10%3A00%3A00Z"
        b"&x=1446-09-01"
    )
    with pytest.raises(ValidationFailed) as refused:
        hijri_query(b"dateFrom=1446-09-30&dateTo=1446-13-01")
    assert [e.field for e in refused.value.errors] == ["dateFrom", "dateTo"]


def test_hijri_etag_keeps_the_tag_and_its_weakness() -> None:
    assert hijri_etag('"v3"', b"{}").startswith('"v3-hijri-')
    assert hijri_etag('W/"abc"', b"{}").startswith('W/"abc-hijri-')
    assert hijri_etag('"v3"', b"{}") != hijri_etag('"v3"', b"[]")

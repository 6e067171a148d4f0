"""Strict request input through HTTP (issue 8, item 6): every failing field of a body in one
400, unknown fields and invalid values refused (never dropped or rewritten), ``fields=`` on
single resources and the actions list, authentication before any body is read, and numbers
beyond every limit answered with a 400 naming the parameter. Every refusal also checks that
nothing was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.actions import CreateAction, create_action, get_action
from customers_hub.application.use_cases.customers import get_customer
from customers_hub.domain.enums import ActionType
from customers_hub.domain.model import Customer
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.controllers.actions import ActionPatchIn
from customers_hub.entrypoints.http.controllers.relations import InteractionIn
from customers_hub.entrypoints.http.strict import document_read_only
from customers_hub.entrypoints.http.wire import CustomerIn

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
API = "/api/v1"
CUSTOMERS = f"{API}/customers"
ACTIONS = f"{CUSTOMERS}/actions"
HUGE = "5863475285295430769836032"


def details_of(response: Any) -> dict[str, str]:
    """``{field: message}`` of a 400 ``VALIDATION_ERROR``."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return {d["field"]: d["message"] for d in error["details"]}


def soon(days: int = 3, hour: int = 9) -> datetime:
    """A whole hour ``days`` from now, in UTC."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


async def customer_count(client: Client, headers: dict[str, str]) -> int:
    """How many customers the caller's list holds."""
    response = await client.get(CUSTOMERS, headers=headers, params={"limit": 1})
    assert response.status_code == 200, response.text
    count: int = response.json()["data"]["pagination"]["totalItems"]
    return count


async def relations(hub: Hub, staff: Staff, customer: Customer) -> tuple[int, int, Customer]:
    """How many interactions and appointments ``customer`` has now, and the record itself."""
    details = await get_customer(
        hub.deps, staff.admin, customer.id, include=frozenset({"interactions", "appointments"})
    )
    return len(details.interactions), len(details.appointments), details.customer


# --- every failing field at once ------------------------------------------------------------------


async def test_type_enum_and_rule_errors_come_in_one_400(
    client: Client, token_for: TokenFor
) -> None:
    headers = token_for("admin")
    before = await customer_count(client, headers)
    response = await client.post(CUSTOMERS, headers=headers, json={"gender": "x", "priority": "y"})
    details = details_of(response)
    assert set(details) == {"gender", "priority", "name", "phone", "source"}
    assert details["gender"] == "Must be one of: male, female"
    assert details["priority"].startswith("Must be one of: low, medium")
    assert await customer_count(client, headers) == before


async def test_nested_errors_are_named_by_their_camel_case_path(
    client: Client, token_for: TokenFor
) -> None:
    headers = token_for("admin")
    before = await customer_count(client, headers)
    body = {
        "name": "عبدالله الشمري",
        "phone": "99",  # a rule error, reported with the type errors
        "source": "whatsapp",
        "email": "not-an-address",
        "preferences": {
            "budgetMin": "lots",
            "bedrooms": "three",
            "propertyType": ["apartment", "castle"],
            "view": "sea",
        },
        "tags": ["vip", 7],
    }
    details = details_of(await client.post(CUSTOMERS, headers=headers, json=body))
    assert set(details) == {
        "phone",
        "email",
        "preferences.budgetMin",
        "preferences.bedrooms",
        "preferences.propertyType[1]",
        "preferences.view",
        "tags[1]",
    }
    assert details["preferences.view"] == "is not a field of this request"
    assert await customer_count(client, headers) == before


async def test_an_update_reports_types_and_rules_together_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    response = await client.put(
        f"{CUSTOMERS}/{customer.id}",
        headers=token_for("admin"),
        json={"gender": "x", "email": "nope", "nationalId": "123", "notes": "ok"},
    )
    assert set(details_of(response)) == {"gender", "email", "nationalId"}
    _, _, saved = await relations(hub, staff, customer)
    assert saved.version == customer.version
    assert saved.notes == customer.notes


# --- unknown fields and read-only echoes ----------------------------------------------------------


async def test_unknown_fields_are_refused_by_name(client: Client, token_for: TokenFor) -> None:
    headers = token_for("admin")
    before = await customer_count(client, headers)
    body = {"name": "سارة", "phone": "0551112233", "source": "referral", "favouriteColour": "blue"}
    details = details_of(await client.post(CUSTOMERS, headers=headers, json=body))
    assert details == {"favouriteColour": "is not a field of this request"}
    assert await customer_count(client, headers) == before


async def test_echoed_read_only_fields_are_checked_then_ignored(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"
    echoed = (await client.get(url, headers=token_for("admin"))).json()["data"]["customer"]
    echoed.pop("assignedEmployeeId")  # writable, but only through the assign operation
    # The whole record sent back, one field changed: the read-only keys are ignored.
    response = await client.put(url, headers=token_for("admin"), json={**echoed, "city": "جدة"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["customer"]["city"] == "جدة"
    # A read-only key with a value the record could never have is still refused.
    refused = await client.put(url, headers=token_for("admin"), json={"stage": "zzz", "city": "x"})
    assert set(details_of(refused)) == {"stage"}
    _, _, saved = await relations(hub, staff, customer)
    assert saved.city == "جدة"


async def test_an_action_patch_refuses_an_invalid_type(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    action = await create_action(
        hub.deps,
        staff.admin,
        CreateAction(customer_id=customer.id, type=ActionType.FOLLOW_UP, title="متابعة"),
    )
    url = f"{ACTIONS}/{action.id}"
    refused = await client.patch(
        url, headers=token_for("admin"), json={"type": "zzz", "priority": "urgent"}
    )
    assert set(details_of(refused)) == {"type"}
    unknown = await client.patch(url, headers=token_for("admin"), json={"colour": "red"})
    assert set(details_of(unknown)) == {"colour"}
    after = (await get_action(hub.deps, staff.admin, action.id)).action
    assert after.version == action.version
    assert after.priority == action.priority
    # The action's own type echoed back is fine (and changes nothing).
    echoed = await client.patch(
        url, headers=token_for("admin"), json={"type": "follow_up", "priority": "urgent"}
    )
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["data"]["action"]["type"] == "follow_up"


# --- invalid values are refused, never rewritten --------------------------------------------------


async def test_an_appointment_status_other_than_scheduled_is_refused(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    body = {"title": "معاينة", "type": "site_visit", "datetime": soon().isoformat()}
    details = details_of(
        await client.post(url, headers=token_for("admin"), json={**body, "status": "maybe"})
    )
    assert details == {"status": "Must be one of: scheduled"}
    assert (await relations(hub, staff, customer))[1] == 0
    created = await client.post(
        url, headers=token_for("admin"), json={**body, "status": "scheduled"}
    )
    assert created.status_code == 201, created.text


async def test_an_appointment_whose_date_and_time_contradict_datetime_is_refused(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    at = soon(days=4, hour=11)
    body = {"title": "معاينة فيلا الياسمين", "type": "meeting", "datetime": at.isoformat()}
    wrong_day = (at + timedelta(days=2)).date().isoformat()
    refused = await client.post(
        url, headers=token_for("admin"), json={**body, "date": wrong_day, "time": "11:00"}
    )
    assert set(details_of(refused)) == {"date"}
    wrong_time = await client.post(
        url,
        headers=token_for("admin"),
        json={**body, "date": at.date().isoformat(), "time": "17:30"},
    )
    assert set(details_of(wrong_time)) == {"time"}
    assert (await relations(hub, staff, customer))[1] == 0
    # The API document's way (the datetime's own day and clock) and the local reading agree.
    as_written = await client.post(
        url,
        headers=token_for("admin"),
        json={**body, "date": at.date().isoformat(), "time": "11:00"},
    )
    assert as_written.status_code == 201, as_written.text
    local = (at + timedelta(hours=2)).astimezone(hub.deps.settings.time_zone)
    in_riyadh = await client.post(
        url,
        headers=token_for("admin"),
        json={
            **body,
            "datetime": (at + timedelta(hours=2)).isoformat(),
            "date": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
        },
    )
    assert in_riyadh.status_code == 201, in_riyadh.text


async def test_dates_must_be_strings(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/interactions"
    for value in (0, 1700000000, True):
        body = {"type": "call", "notes": "اتصال", "date": value}
        assert set(details_of(await client.post(url, headers=token_for("admin"), json=body))) == {
            "date"
        }
    interactions, _, saved = await relations(hub, staff, customer)
    assert interactions == 0
    assert saved.total_interactions == customer.total_interactions


async def test_a_whole_number_written_with_a_point_is_an_integer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    # JSON (and JSON Schema's "integer") does not tell 5.0 from 5; a fraction is still refused.
    await new_customer()
    whole = await client.post(
        f"{CUSTOMERS}/search", headers=token_for("admin"), json={"query": "محمد", "limit": 5.0}
    )
    assert whole.status_code == 200, whole.text
    assert len(whole.json()["data"]["results"]) <= 5
    fraction = await client.post(
        f"{CUSTOMERS}/search", headers=token_for("admin"), json={"query": "محمد", "limit": 5.5}
    )
    assert set(details_of(fraction)) == {"limit"}


# --- fields= --------------------------------------------------------------------------------------


async def test_fields_selects_keys_of_a_customer_and_of_actions(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    action = await create_action(
        hub.deps,
        staff.admin,
        CreateAction(customer_id=customer.id, type=ActionType.CALLBACK_REQUEST, title="اتصال"),
    )
    headers = token_for("admin")
    one = await client.get(f"{CUSTOMERS}/{customer.id}", headers=headers, params={"fields": "name"})
    assert one.status_code == 200, one.text
    assert one.json()["data"]["customer"] == {"id": customer.id, "name": customer.name}
    whole = await client.get(f"{CUSTOMERS}/{customer.id}", headers=headers)
    assert one.headers["etag"] != whole.headers["etag"]  # another representation
    listed = await client.get(
        ACTIONS,
        headers=headers,
        params={"customerId": customer.id, "fields": ["title", "status"]},
    )
    assert listed.status_code == 200, listed.text
    for item in listed.json()["data"]["actions"]:
        assert set(item) <= {"id", "title", "status"}
        assert set(item) >= {"id", "title"}
    single = await client.get(f"{ACTIONS}/{action.id}", headers=headers, params={"fields": "type"})
    assert single.json()["data"]["action"] == {"id": action.id, "type": "callback_request"}
    for url in (f"{CUSTOMERS}/{customer.id}", ACTIONS, f"{ACTIONS}/{action.id}"):
        refused = await client.get(url, headers=headers, params={"fields": "title,shoeSize"})
        details = details_of(refused)
        assert set(details) == {"fields"}
        assert "shoeSize" in details["fields"]


# --- authentication before the body ---------------------------------------------------------------


async def test_the_caller_is_decided_before_any_body_is_read(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    upload = f"{CUSTOMERS}/{customer.id}/documents"
    cases: list[dict[str, Any]] = [
        {"method": "POST", "url": upload, "files": {"file": ("a.pdf", b"%PDF-1.4 x")}},
        {"method": "POST", "url": upload, "files": {"type": (None, "not-a-type")}},
        {
            "method": "POST",
            "url": upload,
            "content": b"--x\r\nbroken",
            "headers": {"Content-Type": "multipart/form-data; boundary=x"},
        },
        {"method": "POST", "url": CUSTOMERS, "json": {"gender": "x"}},
        {
            "method": "POST",
            "url": CUSTOMERS,
            "content": b'{"name": ',
            "headers": {"Content-Type": "application/json"},
        },
        {"method": "PATCH", "url": f"{ACTIONS}/act_x", "json": {"type": "zzz"}},
    ]
    for case in cases:
        response = await client.request(**case)
        assert response.status_code == 401, (case, response.text)
        assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    expired = {"Authorization": "Bearer not.a.token"}
    response = await client.post(CUSTOMERS, headers=expired, json={"gender": "x"})
    assert response.status_code == 401
    # With a token the same bodies are judged (400), and nothing was stored either way.
    judged = await client.post(
        upload, headers=token_for("admin"), files={"type": (None, "not-a-type")}
    )
    assert set(details_of(judged)) == {"file", "type"}
    details = await get_customer(
        hub.deps, staff.admin, customer.id, include=frozenset({"documents"})
    )
    assert details.documents == ()


# --- numbers beyond every limit -------------------------------------------------------------------


async def test_numbers_beyond_every_limit_name_the_parameter(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    headers = token_for("admin")
    for url, params, field in (
        (ACTIONS, {"page": HUGE}, "page"),
        (ACTIONS, {"limit": HUGE}, "limit"),
        (ACTIONS, {"budgetMin": "1e999"}, "budgetMin"),
        (ACTIONS, {"budgetMax": "-5"}, "budgetMax"),
        (CUSTOMERS, {"page": HUGE}, "page"),
        (CUSTOMERS, {"page": "0"}, "page"),
        (CUSTOMERS, {"limit": "101"}, "limit"),
        (CUSTOMERS, {"leadScoreMin": HUGE}, "leadScoreMin"),
        (CUSTOMERS, {"leadScoreMax": "-1"}, "leadScoreMax"),
        (CUSTOMERS, {"budgetMax": "1e999"}, "budgetMax"),
    ):
        response = await client.get(url, headers=headers, params=params)
        assert set(details_of(response)) == {field}, (url, params)
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/interactions"
    body = {"type": "call", "notes": "اتصال", "duration": int(HUGE)}
    assert set(details_of(await client.post(url, headers=headers, json=body))) == {"duration"}
    query = await client.post(f"{CUSTOMERS}/query", headers=headers, json={"limit": int(HUGE)})
    assert set(details_of(query)) == {"limit"}
    assert (await relations(hub, staff, customer))[0] == 0


# --- the schema says the same ---------------------------------------------------------------------


def test_body_schemas_refuse_unknown_keys_and_list_the_read_only_ones() -> None:
    for struct in (CustomerIn, InteractionIn, ActionPatchIn):
        schema = msgspec.json.schema(struct)
        name = struct.__name__
        body = schema["$defs"][name]
        assert body["additionalProperties"] is False, name
    documented = document_read_only(
        msgspec.json.schema(CustomerIn)["$defs"]["CustomerIn"], CustomerIn
    )
    assert documented["properties"]["leadScore"]["readOnly"] is True
    assert documented["properties"]["id"]["readOnly"] is True
    assert "name" in documented["properties"]
    assert "readOnly" not in documented["properties"]["name"]

"""Organization settings over HTTP (issue 11, Deliver 2, rules §9): ``GET`` for every member,
``PATCH`` for admins; bad input names each failing field and changes nothing; another
organization never sees or changes these settings; the OpenAPI document states the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.domain.settings import (
    CURRENCY_PATTERN,
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    time_zone_names,
)

if TYPE_CHECKING:
    from conftest import Staff, TokenFor

Client = AsyncTestClient[Litestar]
SETTINGS = "/api/v1/organization/settings"
DEFAULTS = {
    "timeZone": "Asia/Riyadh",  # the e2e hub configures no zone: §9's default
    "requireFalLicence": False,
    "currency": "SAR",
    "retentionYears": 10,
}


async def read(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(SETTINGS, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    settings: dict[str, Any] = body["data"]["settings"]
    return settings


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


def failing_fields(response: Any) -> dict[str, str]:
    error = error_of(response, 400, "VALIDATION_ERROR")
    return {d["field"]: d["message"] for d in error["details"]}


@pytest.mark.parametrize("who", ["admin", "manager", "agent", "outsider", "viewer"])
async def test_every_member_reads_the_defaults(
    client: Client, token_for: TokenFor, staff: Staff, who: str
) -> None:
    assert await read(client, token_for(who)) == {"organizationId": staff.org, **DEFAULTS}


async def test_an_admin_changes_the_sent_settings_and_every_member_reads_them(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    response = await client.patch(
        SETTINGS,
        headers=token_for("admin"),
        json={"timeZone": "Asia/Dubai", "requireFalLicence": True, "retentionYears": 12},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Organization settings updated successfully"
    changed = body["data"]["settings"]
    assert changed["updatedBy"] == staff.id("admin")
    assert changed["updatedAt"].endswith("Z")
    assert {k: v for k, v in changed.items() if k not in ("updatedAt", "updatedBy")} == {
        "organizationId": staff.org,
        "timeZone": "Asia/Dubai",
        "requireFalLicence": True,
        "currency": "SAR",  # not sent: kept
        "retentionYears": 12,
    }
    assert await read(client, token_for("viewer")) == changed

    # Absent keys keep; an empty patch changes nothing.
    again = await client.patch(SETTINGS, headers=token_for("admin"), json={"currency": "AED"})
    assert again.status_code == 200, again.text
    after = again.json()["data"]["settings"]
    assert after["timeZone"] == "Asia/Dubai"
    assert after["requireFalLicence"] is True
    assert after["currency"] == "AED"
    empty = await client.patch(SETTINGS, headers=token_for("admin"), json={})
    assert empty.status_code == 200, empty.text
    assert empty.json()["data"]["settings"] == after


async def test_a_read_settings_object_can_be_sent_back_with_a_change(
    client: Client, token_for: TokenFor
) -> None:
    admin = token_for("admin")
    await client.patch(SETTINGS, headers=admin, json={"currency": "KWD"})
    current = await read(client, admin)  # organizationId, updatedAt, updatedBy: read-only
    response = await client.patch(SETTINGS, headers=admin, json={**current, "retentionYears": 5})
    assert response.status_code == 200, response.text
    settings = response.json()["data"]["settings"]
    assert settings["retentionYears"] == 5
    assert settings["currency"] == "KWD"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "timeZone": "Mars/Olympus_Mons",
                "requireFalLicence": "yes",
                "currency": "sar",
                "retentionYears": 0,
            },
            {"timeZone", "requireFalLicence", "currency", "retentionYears"},
        ),
        ({"timeZone": "asia/riyadh", "retentionYears": 31}, {"timeZone", "retentionYears"}),
        ({"timeZone": None, "currency": None}, {"timeZone", "currency"}),  # none can be cleared
        ({"retentionYears": 2.5, "currency": "SA"}, {"retentionYears", "currency"}),
        ({"retentionYears": True}, {"retentionYears"}),
        ({"currency": "USD", "locale": "ar-SA"}, {"locale"}),  # unknown keys are refused
        ({"organizationId": 5, "timeZone": "UTC"}, {"organizationId"}),  # read-only, checked
    ],
)
async def test_bad_input_names_every_failing_field_and_changes_nothing(
    client: Client, token_for: TokenFor, body: dict[str, Any], expected: set[str]
) -> None:
    admin = token_for("admin")
    await client.patch(SETTINGS, headers=admin, json={"requireFalLicence": True})
    before = await read(client, admin)
    response = await client.patch(SETTINGS, headers=admin, json=body)
    assert set(failing_fields(response)) == expected
    assert await read(client, admin) == before


async def test_a_body_that_is_not_an_object_is_refused(client: Client, token_for: TokenFor) -> None:
    for content in (b"", b"[]", b"null", b"{"):
        response = await client.patch(
            SETTINGS,
            headers={**token_for("admin"), "Content-Type": "application/json"},
            content=content,
        )
        assert set(failing_fields(response)) == {"body"}, content
    assert await read(client, token_for("viewer")) == {
        "organizationId": (await read(client, token_for("admin")))["organizationId"],
        **DEFAULTS,
    }


@pytest.mark.parametrize("who", ["manager", "agent", "viewer"])
async def test_only_an_admin_changes_settings(
    client: Client, token_for: TokenFor, staff: Staff, who: str
) -> None:
    response = await client.patch(
        SETTINGS, headers=token_for(who), json={"requireFalLicence": True}
    )
    error = error_of(response, 403, "PERMISSION_DENIED")
    assert error["details"]["requiredPermission"] == "role"
    assert error["details"]["currentRole"] == staff.employees[who].role.value
    assert await read(client, token_for("admin")) == {"organizationId": staff.org, **DEFAULTS}


async def test_another_organization_never_sees_or_changes_these_settings(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    mine = await client.patch(
        SETTINGS, headers=token_for("admin"), json={"timeZone": "Asia/Qatar", "currency": "QAR"}
    )
    assert mine.status_code == 200, mine.text
    theirs_before = await read(client, token_for("other_admin"))
    assert theirs_before == {"organizationId": staff.other_org, **DEFAULTS}

    theirs = await client.patch(
        SETTINGS, headers=token_for("other_admin"), json={"retentionYears": 3}
    )
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["data"]["settings"]["organizationId"] == staff.other_org
    assert theirs.json()["data"]["settings"]["timeZone"] == "Asia/Riyadh"
    own = await read(client, token_for("viewer"))
    assert (own["timeZone"], own["currency"], own["retentionYears"]) == ("Asia/Qatar", "QAR", 10)

    # Naming the other organization in the header is refused, whatever the method.
    header = {"X-Organization-ID": staff.other_org}
    for method in ("GET", "PATCH"):
        refused = await client.request(
            method,
            SETTINGS,
            headers=token_for("admin", headers=header),
            json={"currency": "EUR"} if method == "PATCH" else None,
        )
        error_of(refused, 403, "PERMISSION_DENIED")
    assert (await read(client, token_for("other_admin")))["currency"] == "SAR"


async def test_a_caller_without_a_token_is_refused(client: Client) -> None:
    assert (await client.get(SETTINGS)).status_code == 401
    assert (await client.patch(SETTINGS, json={"currency": "USD"})).status_code == 401


async def test_the_openapi_document_states_the_rules(client: Client) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    item = document["paths"][SETTINGS]
    assert item["get"]["operationId"] == "getOrganizationSettings"
    operation = item["patch"]
    assert operation["operationId"] == "updateOrganizationSettings"
    media = operation["requestBody"]["content"]["application/json"]
    example = media["examples"]["document"]["value"]
    assert example["timeZone"] in time_zone_names()
    body = document["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert body["additionalProperties"] is False
    assert not body.get("required")  # a partial update
    properties = body["properties"]
    assert properties["timeZone"]["enum"] == list(time_zone_names())
    assert properties["currency"]["pattern"] == CURRENCY_PATTERN
    assert properties["retentionYears"]["minimum"] == RETENTION_YEARS_MIN
    assert properties["retentionYears"]["maximum"] == RETENTION_YEARS_MAX
    assert properties["requireFalLicence"]["type"] == "boolean"
    assert properties["organizationId"]["readOnly"] is True

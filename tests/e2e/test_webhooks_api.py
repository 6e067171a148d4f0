"""Webhook management over HTTP (admins only): the secret is shown once; bad input names each
failing field; private targets are refused; another organization's hooks are invisible (404);
other roles get 403. Delivery itself: ``test_webhook_delivery.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

if TYPE_CHECKING:
    from conftest import Staff, TokenFor

Client = AsyncTestClient[Litestar]
WEBHOOKS = "/api/v1/webhooks"
# Names that do not resolve here: accepted (the sender checks the addresses at each attempt).
URL = "https://hooks.example.com/customers-hub"


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


def failing_fields(response: Any) -> set[str]:
    error = error_of(response, 400, "VALIDATION_ERROR")
    return {d["field"] for d in error["details"]}


async def create(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(
        WEBHOOKS, headers=headers, json={"url": URL, "events": ["customer.created"], **body}
    )
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()["data"]["webhook"]
    return webhook


async def test_an_admin_manages_a_webhook_and_sees_its_secret_once(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    admin = token_for("admin")
    made = await create(client, admin, description="مزامنة", events=["*"])
    assert made["secret"].startswith("whsec_")
    assert len(made["secret"]) > 40
    assert made["isActive"] is True
    assert made["events"] == ["*"]
    assert made["createdBy"] == staff.id("admin")
    url = f"{WEBHOOKS}/{made['id']}"

    read = (await client.get(url, headers=admin)).json()["data"]["webhook"]
    assert "secret" not in read
    assert read == {k: v for k, v in made.items() if k != "secret"}
    listed = (await client.get(WEBHOOKS, headers=admin)).json()["data"]
    assert [w["id"] for w in listed["webhooks"]] == [made["id"]]
    assert all("secret" not in w for w in listed["webhooks"])
    assert listed["pagination"]["totalItems"] == 1

    changed = await client.patch(
        url,
        headers=admin,
        json={"events": ["customer.created", "action.updated"], "isActive": False},
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()["data"]["webhook"]
    assert (after["events"], after["isActive"]) == (["customer.created", "action.updated"], False)
    assert "secret" not in after
    cleared = await client.patch(url, headers=admin, json={"description": None})
    assert "description" not in cleared.json()["data"]["webhook"]

    deliveries = await client.get(f"{url}/deliveries", headers=admin)
    assert deliveries.status_code == 200, deliveries.text
    assert deliveries.json()["data"]["deliveries"] == []

    deleted = await client.delete(url, headers=admin)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"webhookId": made["id"]}
    error_of(await client.get(url, headers=admin), 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"url", "events"}),
        ({"url": "ftp://hooks.example.com/x", "events": ["*"]}, {"url"}),
        ({"url": "https://user:pw@hooks.example.com/", "events": ["*"]}, {"url"}),
        ({"url": "https://hooks.example.com/#x", "events": ["*"]}, {"url"}),
        ({"url": URL, "events": []}, {"events"}),
        ({"url": URL, "events": ["customer.made"]}, {"events"}),
        ({"url": "https://hooks.example.com/?q=\u00e8", "events": ["*"]}, {"url"}),
        ({"url": URL, "events": ["*"], "description": "x" * 2001}, {"description"}),
        ({"url": URL, "events": ["*"], "description": "a\u0000b"}, {"description"}),
        ({"url": URL, "events": ["*"], "secret": "mine"}, {"secret"}),
        ({"url": 7, "events": "customer.created"}, {"url", "events"}),
    ],
)
async def test_bad_input_names_each_failing_field(
    client: Client, token_for: TokenFor, body: dict[str, Any], fields: set[str]
) -> None:
    response = await client.post(WEBHOOKS, headers=token_for("admin"), json=body)
    assert {f.split("[")[0] for f in failing_fields(response)} == fields


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.1.20/hook",
    ],
)
async def test_private_loopback_and_link_local_targets_are_refused(
    client: Client, token_for: TokenFor, url: str
) -> None:
    admin = token_for("admin")
    response = await client.post(WEBHOOKS, headers=admin, json={"url": url, "events": ["*"]})
    error = error_of(response, 422, "BUSINESS_RULE_VIOLATION")
    assert error["details"]["field"] == "url"
    made = await create(client, admin)
    changed = await client.patch(f"{WEBHOOKS}/{made['id']}", headers=admin, json={"url": url})
    error_of(changed, 422, "BUSINESS_RULE_VIOLATION")


async def test_another_organizations_webhook_is_not_found(
    client: Client, token_for: TokenFor
) -> None:
    made = await create(client, token_for("admin"))
    other = token_for("other_admin")
    url = f"{WEBHOOKS}/{made['id']}"
    for response in (
        await client.get(url, headers=other),
        await client.patch(url, headers=other, json={"isActive": False}),
        await client.get(f"{url}/deliveries", headers=other),
        await client.post(f"{url}/deliveries/whd_x/retry", headers=other),
        await client.delete(url, headers=other),
    ):
        error_of(response, 404, "RESOURCE_NOT_FOUND")
    listed = (await client.get(WEBHOOKS, headers=other)).json()["data"]["webhooks"]
    assert made["id"] not in {w["id"] for w in listed}
    still = await client.get(url, headers=token_for("admin"))
    assert still.json()["data"]["webhook"]["isActive"] is True  # untouched


async def test_an_unknown_delivery_is_not_found(client: Client, token_for: TokenFor) -> None:
    admin = token_for("admin")
    made = await create(client, admin)
    response = await client.post(
        f"{WEBHOOKS}/{made['id']}/deliveries/whd_missing/retry", headers=admin
    )
    error_of(response, 404, "RESOURCE_NOT_FOUND")
    bad = await client.get(f"{WEBHOOKS}/{made['id']}/deliveries?status=lost", headers=admin)
    assert failing_fields(bad) == {"status"}


@pytest.mark.parametrize("who", ["manager", "agent", "viewer"])
async def test_other_roles_are_refused(client: Client, token_for: TokenFor, who: str) -> None:
    made = await create(client, token_for("admin"))
    headers = token_for(who)
    url = f"{WEBHOOKS}/{made['id']}"
    for response in (
        await client.post(WEBHOOKS, headers=headers, json={"url": URL, "events": ["*"]}),
        await client.get(WEBHOOKS, headers=headers),
        await client.get(url, headers=headers),
        await client.patch(url, headers=headers, json={"isActive": False}),
        await client.get(f"{url}/deliveries", headers=headers),
        await client.post(f"{url}/deliveries/whd_x/retry", headers=headers),
        await client.delete(url, headers=headers),
    ):
        error = error_of(response, 403, "PERMISSION_DENIED")
        assert error["details"]["currentRole"] != "admin"

"""Through HTTP: a property interest takes title, price, type and location from the caller's
organization catalog (another organization's property is unknown), and logged interactions give
the customer ``aiInsights.sentimentScore``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.domain.enums import PropertyType
from customers_hub.domain.model import Property
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


async def put_catalog(hub: Hub, *properties: Property) -> None:
    """The catalog has no endpoint (the listing system feeds it): write it through the port."""
    async with hub.deps.uow() as uow:
        for prop in properties:
            await uow.properties.add(prop)
        await uow.commit()


def villa(org: str, prop_id: str, price: int) -> Property:
    return Property(
        id=prop_id,
        organization_id=org,
        title="فيلا راقية في حي الياسمين",
        title_en="Upscale Villa in Al-Yasmin",
        type=PropertyType.VILLA,
        city="الرياض",
        district="حي الياسمين",
        price=Decimal(price),
    )


async def test_a_catalog_property_fills_the_interest_and_another_orgs_does_not(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    await put_catalog(
        hub,
        villa(staff.org, "prop_villa_023", 2_800_000),
        villa(staff.other_org, "prop_villa_999", 7_000_000),
    )
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/properties"

    response = await client.post(
        url,
        headers=token_for("agent"),
        json={"propertyId": "prop_villa_023", "status": "interested", "rating": 5},
    )
    assert response.status_code == 201, response.text
    interest = response.json()["data"]["property"]
    assert interest["propertyTitle"] == "فيلا راقية في حي الياسمين"
    assert interest["propertyTitleEn"] == "Upscale Villa in Al-Yasmin"
    assert interest["propertyPrice"] == 2800000
    assert interest["propertyType"] == "villa"
    assert interest["propertyLocation"] == "الرياض - حي الياسمين"

    foreign = await client.post(
        url, headers=token_for("agent"), json={"propertyId": "prop_villa_999"}
    )
    assert foreign.status_code == 201, foreign.text
    shown = foreign.json()["data"]["property"]
    for key in ("propertyTitle", "propertyTitleEn", "propertyPrice", "propertyType"):
        assert key not in shown, shown  # nothing of the other organization's catalog

    unknown = await client.post(
        url,
        headers=token_for("agent"),
        json={
            "propertyId": "prop_external_7",
            "propertyTitle": "شقة في جدة",
            "propertyPrice": 950000,
            "propertyType": "apartment",
            "propertyLocation": "جدة - حي الزهراء",
        },
    )
    assert unknown.status_code == 201, unknown.text
    sent = unknown.json()["data"]["property"]
    assert (sent["propertyTitle"], sent["propertyPrice"], sent["propertyType"]) == (
        "شقة في جدة",
        950000,
        "apartment",
    )

    details = await client.get(
        f"{CUSTOMERS}/{customer.id}", headers=token_for("agent"), params={"include": "properties"}
    )
    assert details.status_code == 200, details.text
    listed = {p["propertyId"]: p for p in details.json()["data"]["customer"]["properties"]}
    assert listed["prop_villa_023"]["propertyPrice"] == 2800000
    assert "propertyTitle" not in listed["prop_villa_999"]


async def test_logged_interactions_give_the_sentiment_score(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"

    async def insights() -> dict[str, object]:
        response = await client.get(url, headers=token_for("agent"))
        assert response.status_code == 200, response.text
        found: dict[str, object] = response.json()["data"]["customer"]["aiInsights"]
        return found

    assert "sentimentScore" not in await insights()
    two_weeks_ago = (datetime.now(UTC) - timedelta(days=14, minutes=1)).isoformat()
    for sentiment, date in (("negative", two_weeks_ago), ("positive", None)):
        body = {"type": "whatsapp", "direction": "inbound", "notes": "رد", "sentiment": sentiment}
        if date is not None:
            body["date"] = date
        logged = await client.post(f"{url}/interactions", headers=token_for("agent"), json=body)
        assert logged.status_code == 201, logged.text
    # The positive now weighs 1, the negative two weeks older 1/2: 50 + 50 × (1/2)/(3/2) → 67.
    assert (await insights())["sentimentScore"] == 67

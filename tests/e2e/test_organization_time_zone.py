"""The organization's time zone (rules §9): "today", due-date buckets, statistics and local dates
follow the zone stored in the organization's settings, from the next request on — not the
deployment's configured zone.

Zones are ``Etc/GMT±N`` chosen from the current UTC hour so that an action due in one hour is due
"today" in one zone and "tomorrow" in the other, whatever time the test runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
SETTINGS = "/api/v1/organization/settings"
ACTIONS = "/api/v1/customers/actions"


def etc_zone(offset_hours: int) -> str:
    """The IANA name of a fixed offset (``Etc`` names invert the sign: UTC+3 is Etc/GMT-3)."""
    return "Etc/GMT" if offset_hours == 0 else f"Etc/GMT{-offset_hours:+d}"


def zones_around(now: datetime) -> tuple[str, str]:
    """(a zone where ``now + 1h`` is the same local day, a zone where it is the next day)."""
    hour = now.hour
    same_day = etc_zone(12 - hour)  # local noon: an hour later is the same day
    # Local 23:xx (then +1 h is tomorrow) or, where that offset does not exist, local 23:xx of
    # the day before (+1 h is the UTC day's local "today", still not the zone's today).
    next_day = etc_zone(23 - hour) if hour >= 9 else etc_zone(-1 - hour)
    return same_day, next_day


@pytest.fixture
async def restore_zone(client: Client, token_for: TokenFor) -> AsyncIterator[None]:
    """The seeded organization is shared by the session's tests: its zone goes back after."""
    yield
    response = await client.patch(
        SETTINGS, json={"timeZone": "Asia/Riyadh"}, headers=token_for("admin")
    )
    assert response.status_code == 200, response.text


async def set_zone(client: Client, token_for: TokenFor, zone: str) -> None:
    response = await client.patch(SETTINGS, json={"timeZone": zone}, headers=token_for("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["settings"]["timeZone"] == zone


async def stable_now() -> datetime:
    """Now, away from the last seconds of an hour (the zones are chosen from the hour)."""
    now = datetime.now(UTC)
    if now.minute == 59 and now.second >= 50:
        await asyncio.sleep(61 - now.second)
        now = datetime.now(UTC)
    return now


@pytest.mark.usefixtures("restore_zone")
async def test_today_and_the_inbox_follow_the_organization_zone(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    now = await stable_now()
    same_day, next_day = zones_around(now)
    customer = await new_customer()
    due = (now + timedelta(hours=1)).replace(microsecond=0)
    created = await client.post(
        ACTIONS,
        json={
            "customerId": customer.id,
            "type": "follow_up",
            "title": "متابعة",
            "dueDate": due.isoformat().replace("+00:00", "Z"),
        },
        headers=token_for("admin"),
    )
    assert created.status_code == 201, created.text
    action_id = created.json()["data"]["action"]["id"]

    async def due_today() -> set[str]:
        response = await client.get(
            ACTIONS,
            params={"dueDate": "today", "customerId": customer.id},
            headers=token_for("admin"),
        )
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["data"]["actions"]}

    await set_zone(client, token_for, same_day)
    assert await due_today() == {action_id}
    await set_zone(client, token_for, next_day)
    assert await due_today() == set()  # the next request already counts in the new zone
    await set_zone(client, token_for, same_day)
    assert await due_today() == {action_id}


@pytest.mark.usefixtures("restore_zone")
async def test_an_appointment_shows_its_local_day_and_time_in_the_organization_zone(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    path = f"/api/v1/customers/{customer.id}/appointments"
    await set_zone(client, token_for, "Pacific/Kiritimati")  # UTC+14
    response = await client.post(
        path,
        json={"title": "معاينة", "type": "site_visit", "datetime": "2030-01-23T10:00:00Z"},
        headers=token_for("admin"),
    )
    assert response.status_code == 201, response.text
    shown = response.json()["data"]["appointment"]
    assert (shown["date"], shown["time"]) == ("2030-01-24", "00:00")
    # A local day and time sent are read in the organization's zone too.
    response = await client.post(
        path,
        json={"title": "اجتماع", "type": "meeting", "date": "2030-02-01", "time": "09:30"},
        headers=token_for("admin"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["appointment"]["datetime"] == "2030-01-31T19:30:00Z"


async def test_another_organizations_zone_is_its_own(
    hub: Hub, staff: Staff, client: Client, token_for: TokenFor, restore_zone: None
) -> None:
    await set_zone(client, token_for, "America/New_York")
    assert str(await hub.deps.zone_of(staff.org)) == "America/New_York"
    assert str(await hub.deps.zone_of(staff.other_org)) == "Asia/Riyadh"  # its default


@pytest.mark.usefixtures("restore_zone")
async def test_a_privacy_requests_due_day_is_the_organizations_local_day(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    """Rules §8: dueAt is the end of the local day 30 days after receipt — local to the
    organization's zone, not the deployment's."""
    customer = await new_customer()
    body = {"customerId": customer.id, "type": "access", "receivedAt": "2026-01-10T11:30:00Z"}
    await set_zone(client, token_for, "Pacific/Kiritimati")  # UTC+14: already 11 January
    made = await client.post("/api/v1/privacy-requests", json=body, headers=token_for("admin"))
    assert made.status_code == 201, made.text
    # 11 January + 30 days = 10 February, ending at 10 Feb 23:59:59.999999 in UTC+14.
    assert made.json()["data"]["request"]["dueAt"] == "2026-02-10T09:59:59.999999Z"
    await set_zone(client, token_for, "America/New_York")  # UTC-5: still 10 January
    made = await client.post("/api/v1/privacy-requests", json=body, headers=token_for("admin"))
    assert made.status_code == 201, made.text
    assert made.json()["data"]["request"]["dueAt"] == "2026-02-10T04:59:59.999999Z"

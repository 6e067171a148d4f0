"""Duplicate detection through HTTP (rules §10): ``GET /customers/{id}/duplicates`` and
``GET /customers/duplicates`` — each reason with its score, strongest first, paging, 400 naming
bad parameters, other organizations never shown (404), and each role within its scope."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customer_deletion import DeleteCustomer, delete_customer
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.domain.enums import CustomerSource
from customers_hub.domain.validation import CustomerDraft, national_id_check_digit
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
PAIRS = f"{CUSTOMERS}/duplicates"

_IDS = itertools.count(10_000_001)
_MOBILES = itertools.count(5_000_001)


def national_id() -> str:
    """A valid citizen id no other test used."""
    first_nine = f"1{next(_IDS):08d}"
    return first_nine + national_id_check_digit(first_nine)


def mobile() -> str:
    return f"+96654{next(_MOBILES):07d}"


def candidates(response: Any) -> dict[str, tuple[list[str], int]]:
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return {d["customer"]["id"]: (d["reasons"], d["score"]) for d in data["duplicates"]}


def pairs(response: Any) -> list[tuple[str, str, list[str], int]]:
    assert response.status_code == 200, response.text
    return [
        (p["customer"]["id"], p["duplicate"]["id"], p["reasons"], p["score"])
        for p in response.json()["data"]["pairs"]
    ]


def fields_of(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


async def test_each_reason_is_found_and_scored_strongest_first(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    phone, nid = mobile(), national_id()
    base = await new_customer(
        name="عبدالله الشمري",
        name_en="Abdullah Al-Shammari",
        phone=phone,
        email="Abdullah@Example.com",
        national_id=nid,
        city="جدة",
    )
    same_id = await new_customer(name="عبد الله", national_id=nid, city="الرياض")
    same_phone = await new_customer(name="أبو فهد", whatsapp="0" + phone[4:], city="الدمام")
    same_email = await new_customer(name="شخص آخر", email="abdullah@example.COM", city="مكة")
    same_name = await new_customer(name="عبدالله الشّمري", city="جده")  # tashkeel; جدة/جده
    same_en_name = await new_customer(name="ع. الشمري", name_en="abdullah al-shammari", city="جدة")
    other_city = await new_customer(name="عبدالله الشمري", city="الرياض")
    unrelated = await new_customer(name="نورة", city="جدة")

    found = candidates(
        await client.get(f"{CUSTOMERS}/{base.id}/duplicates", headers=token_for("admin"))
    )

    assert found == {
        same_id.id: (["nationalId"], 100),
        same_phone.id: (["phone"], 90),
        same_email.id: (["email"], 70),
        same_name.id: (["nameAndCity"], 50),
        same_en_name.id: (["nameAndCity"], 50),
    }
    assert other_city.id not in found
    assert unrelated.id not in found
    response = await client.get(f"{CUSTOMERS}/{base.id}/duplicates", headers=token_for("admin"))
    scores = [d["score"] for d in response.json()["data"]["duplicates"]]
    assert scores == sorted(scores, reverse=True)
    assert response.json()["data"]["customerId"] == base.id
    first = response.json()["data"]["duplicates"][0]["customer"]
    assert first["name"] == "عبد الله"
    assert first["stage"] == "new_lead"


async def test_several_reasons_score_the_strongest(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    phone = mobile()
    first = await new_customer(name="سالم", phone=phone, email="salem@example.com")
    second = await new_customer(name="سالم", whatsapp=phone, email="SALEM@example.com")
    found = candidates(
        await client.get(f"{CUSTOMERS}/{first.id}/duplicates", headers=token_for("admin"))
    )
    assert found == {second.id: (["phone", "email", "nameAndCity"], 90)}


async def test_the_pairs_of_the_organization_are_paged_strongest_first(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    nid, phone = national_id(), mobile()
    a = await new_customer(name="أ", national_id=nid)
    b = await new_customer(name="ب", national_id=nid)
    c = await new_customer(name="ج", phone=phone)
    d = await new_customer(name="د", whatsapp=phone)
    e = await new_customer(name="هـ", email="same@example.com")
    f = await new_customer(name="و", email="same@example.com", whatsapp=phone)
    headers = token_for("admin")

    everything = pairs(await client.get(PAIRS, headers=headers, params={"limit": 100}))
    ordered = lambda x, y: (x.id, y.id) if x.id < y.id else (y.id, x.id)  # noqa: E731
    expected = [
        (*ordered(a, b), ["nationalId"], 100),
        *sorted(
            [
                (*ordered(c, d), ["phone"], 90),
                (*ordered(c, f), ["phone"], 90),
                (*ordered(d, f), ["phone"], 90),
            ]
        ),
        (*ordered(e, f), ["email"], 70),
    ]
    assert everything == expected

    first = await client.get(PAIRS, headers=headers, params={"limit": 2})
    assert pairs(first) == expected[:2]
    pagination = first.json()["data"]["pagination"]
    assert pagination["totalItems"] == 5
    assert pagination["hasNextPage"] is True
    third = await client.get(PAIRS, headers=headers, params={"limit": 2, "page": 3})
    assert pairs(third) == expected[4:]
    assert third.json()["data"]["pagination"]["hasNextPage"] is False
    beyond = await client.get(PAIRS, headers=headers, params={"limit": 2, "page": 9})
    assert pairs(beyond) == []
    assert beyond.json()["data"]["pagination"]["totalItems"] == 5


async def test_deleted_customers_are_not_candidates(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    email = "twice@example.com"
    kept = await new_customer(email=email)
    gone = await new_customer(email=email)
    await delete_customer(hub.deps, staff.admin, DeleteCustomer(gone.id, permanent=False))
    headers = token_for("admin")
    assert candidates(await client.get(f"{CUSTOMERS}/{kept.id}/duplicates", headers=headers)) == {}
    assert pairs(await client.get(PAIRS, headers=headers)) == []
    deleted = await client.get(f"{CUSTOMERS}/{gone.id}/duplicates", headers=headers)
    assert deleted.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"limit": "ten"}, "limit"),
    ],
)
async def test_bad_paging_is_a_400_naming_it(
    client: Client, token_for: TokenFor, params: dict[str, str], field: str
) -> None:
    response = await client.get(PAIRS, headers=token_for("admin"), params=params)
    assert field in fields_of(response)


async def test_a_customer_id_longer_than_an_id_is_a_400(
    client: Client, token_for: TokenFor
) -> None:
    response = await client.get(f"{CUSTOMERS}/{'x' * 51}/duplicates", headers=token_for("admin"))
    assert "customer_id" in fields_of(response) or "customerId" in fields_of(response)


async def test_another_organization_never_sees_nor_matches(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    phone, nid = mobile(), national_id()
    ours = await new_customer(phone=phone, national_id=nid, email="org@example.com")
    await new_customer(email="org@example.com")  # a pair in our organization
    theirs = (
        await create_customer(
            hub.deps,
            staff.actor("other_admin"),
            CreateCustomer(
                CustomerDraft(
                    name="محمد الفهد",
                    phone=phone,  # the same phone, national id, e-mail, name and city
                    national_id=nid,
                    email="org@example.com",
                    city="الرياض",
                    source=CustomerSource.MANUAL,
                )
            ),
        )
    ).customer
    other = token_for("other_admin")
    hidden = await client.get(f"{CUSTOMERS}/{ours.id}/duplicates", headers=other)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert pairs(await client.get(PAIRS, headers=other)) == []
    assert candidates(await client.get(f"{CUSTOMERS}/{theirs.id}/duplicates", headers=other)) == {}
    found = candidates(
        await client.get(f"{CUSTOMERS}/{ours.id}/duplicates", headers=token_for("admin"))
    )
    assert theirs.id not in found
    assert len(found) == 1


async def test_each_role_sees_duplicates_within_its_scope(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    email = "scope@example.com"
    mine = await new_customer(assigned="agent", email=email)
    mine_too = await new_customer(assigned="agent", email=email)
    teammates = await new_customer(assigned="agent2", email=email)
    outsiders = await new_customer(assigned="outsider", email=email)

    def ids(response: Any) -> set[str]:
        return set(candidates(response))

    url = f"{CUSTOMERS}/{mine.id}/duplicates"
    assert ids(await client.get(url, headers=token_for("agent"))) == {mine_too.id}
    assert ids(await client.get(url, headers=token_for("manager"))) == {mine_too.id, teammates.id}
    assert ids(await client.get(url, headers=token_for("admin"))) == {
        mine_too.id,
        teammates.id,
        outsiders.id,
    }
    # Someone else's customer: as GET /customers/{id} answers.
    refused = await client.get(f"{CUSTOMERS}/{outsiders.id}/duplicates", headers=token_for("agent"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"

    def members(response: Any) -> set[frozenset[str]]:
        return {frozenset(p[:2]) for p in pairs(response)}

    assert members(await client.get(PAIRS, headers=token_for("agent"))) == {
        frozenset({mine.id, mine_too.id})
    }
    assert len(members(await client.get(PAIRS, headers=token_for("manager")))) == 3
    assert len(members(await client.get(PAIRS, headers=token_for("admin")))) == 6
    assert members(await client.get(PAIRS, headers=token_for("viewer"))) == set()


async def test_without_the_read_permission_both_are_refused(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    headers = token_for("agent", permissions=[])
    for url in (PAIRS, f"{CUSTOMERS}/{customer.id}/duplicates"):
        response = await client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)

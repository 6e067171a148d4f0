"""Property interests from the SQL catalog and the sentiment score, on SQLite and PostgreSQL:
the adapter methods (``SqlPropertyCatalog.get``, ``SqlRelationRepository.recent_with_sentiment``)
and the use cases through a real unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    create_customer,
    get_customer,
)
from customers_hub.application.use_cases.relations import (
    AddPropertyInterest,
    LogInteraction,
    add_property_interest,
    log_interaction,
)
from customers_hub.domain.enums import (
    InteractionType,
    Permission,
    PropertyStatus,
    PropertyType,
    Role,
    Sentiment,
)
from customers_hub.domain.model import Actor, Customer, Property
from customers_hub.domain.validation import CustomerDraft


class _Unused:
    """A port these tests never call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


def deps_for(engine: AsyncEngine) -> Dependencies:
    unused = cast(Any, _Unused())
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
    )


def admin(org: str) -> Actor:
    return Actor(
        user_id="emp_admin",
        organization_id=org,
        role=Role.ADMIN,
        permissions=frozenset(Permission),
        name="سارة المدير",
    )


def villa(org: str, **changes: Any) -> Property:
    data: dict[str, Any] = {
        "id": "prop_villa_001",
        "organization_id": org,
        "title": "فيلا فاخرة في حي النرجس",
        "title_en": "Luxury Villa in Al-Narjis",
        "type": PropertyType.VILLA,
        "city": "الرياض",
        "district": "حي النرجس",
        "price": Decimal(2_200_000),
    }
    data.update(changes)
    return Property(**data)


async def new_customer(deps: Dependencies, org: str) -> Customer:
    phone = f"+9665{uuid.uuid4().int % 10**8:08d}"
    return (
        await create_customer(
            deps, admin(org), CreateCustomer(CustomerDraft(name="محمد الفهد", phone=phone))
        )
    ).customer


async def test_catalog_get_is_scoped_to_the_organization(engine: AsyncEngine, org_id: str) -> None:
    other_org = f"{org_id}_b"
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        await uow.properties.add(villa(org_id, status=PropertyStatus.RESERVED))
        await uow.properties.add(villa(other_org, id="prop_only_b", title="ليست لك"))
        await uow.commit()
    async with factory() as uow:
        assert await uow.properties.get(org_id, "prop_villa_001") == villa(
            org_id, status=PropertyStatus.RESERVED
        )
        assert await uow.properties.get(org_id, "prop_missing") is None
        assert await uow.properties.get(org_id, "prop_only_b") is None
        assert await uow.properties.get(other_org, "prop_villa_001") is None


async def test_interests_take_what_the_catalog_knows(engine: AsyncEngine, org_id: str) -> None:
    deps = deps_for(engine)
    other_org = f"{org_id}_b"
    async with deps.uow() as uow:
        await uow.properties.add(villa(org_id))
        await uow.properties.add(villa(other_org, id="prop_secret", price=Decimal(9_999_999)))
        await uow.commit()
    customer = await new_customer(deps, org_id)
    actor = admin(org_id)
    known = await add_property_interest(
        deps,
        actor,
        AddPropertyInterest(
            customer_id=customer.id,
            property_id="prop_villa_001",
            property_price=Decimal(1),
            rating=5,
        ),
    )
    foreign = await add_property_interest(
        deps, actor, AddPropertyInterest(customer_id=customer.id, property_id="prop_secret")
    )
    sent = await add_property_interest(
        deps,
        actor,
        AddPropertyInterest(
            customer_id=customer.id,
            property_id="prop_external",
            property_title="أرض في الدمام",
            property_price=Decimal("750000.50"),
            property_type=PropertyType.LAND,
        ),
    )
    details = await get_customer(deps, actor, customer.id, include=frozenset({"properties"}))
    stored = {i.property_id: i for i in details.properties}
    assert stored["prop_villa_001"] == known
    assert (known.property_title, known.property_title_en) == (
        "فيلا فاخرة في حي النرجس",
        "Luxury Villa in Al-Narjis",
    )
    assert known.property_price == Decimal(2_200_000)
    assert known.property_type is PropertyType.VILLA
    assert known.property_location == "الرياض - حي النرجس"
    assert known.rating == 5
    assert stored["prop_secret"] == foreign
    assert (foreign.property_title, foreign.property_price, foreign.property_type) == (
        None,
        None,
        None,
    )
    assert stored["prop_external"] == sent
    assert sent.property_price == Decimal("750000.50")


async def test_recent_with_sentiment_and_the_stored_score(engine: AsyncEngine, org_id: str) -> None:
    deps = deps_for(engine)
    customer = await new_customer(deps, org_id)
    stranger = await new_customer(deps, org_id)
    actor = admin(org_id)
    now = datetime.now(UTC)

    async def log(who: Customer, sentiment: Sentiment | None, days_ago: int) -> None:
        await log_interaction(
            deps,
            actor,
            LogInteraction(
                customer_id=who.id,
                type=InteractionType.CALL,
                sentiment=sentiment,
                date=now - timedelta(days=days_ago),
            ),
        )

    await log(customer, Sentiment.NEGATIVE, 14)
    await log(customer, None, 1)
    await log(customer, Sentiment.POSITIVE, 0)
    await log(stranger, Sentiment.NEGATIVE, 0)
    async with deps.uow() as uow:
        recent = await uow.relations.recent_with_sentiment(org_id, customer.id, 20)
        assert [i.sentiment for i in recent] == [Sentiment.POSITIVE, Sentiment.NEGATIVE]
        assert [
            i.sentiment for i in await uow.relations.recent_with_sentiment(org_id, customer.id, 1)
        ] == [Sentiment.POSITIVE]
        assert await uow.relations.recent_with_sentiment(f"{org_id}_b", customer.id, 20) == []
        stored = await uow.customers.get(org_id, customer.id)
    # Stored in the ai_insights JSON and read back: the negative two weeks older counts half.
    assert stored is not None
    assert stored.ai_insights is not None
    assert stored.ai_insights.sentiment_score == 67

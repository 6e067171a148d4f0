"""Strategies for preferences, property interests and customers valid by construction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Final

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain import scoring
from customers_hub.domain.compliance import Financing, KsaCompliance
from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Furnishing,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    SYSTEM_ACTOR_NAME,
    Customer,
    Preferences,
    PropertyInterest,
    StageChange,
)
from customers_hub.testing.strategies.fields import bounded_fields, written_fields
from customers_hub.testing.strategies.options import (
    UNSET,
    OrStrategy,
    _resolve,
    _Unset,
)
from customers_hub.testing.strategies.values import (
    _AGGREGATE_START_MAX,
    _AMENITIES,
    _NATIONALITIES,
    _NOTES,
    _REASONS,
    _TAGS,
    CITY_NAMES_EN,
    _after,
    _districts,
    aware_datetimes,
    cities,
    ids,
    national_ids,
    organizations,
    person_names,
    sar_amounts,
    saudi_mobiles,
)

# --- preferences and interests ---------------------------------------------------------------


@st.composite
def _preferences(
    draw: st.DrawFn,
    budget: bool | None,
    purpose: SearchStrategy[Purpose | None],
    timeline: SearchStrategy[Timeline | None],
    city: SearchStrategy[str],
) -> Preferences:
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    shape = draw(st.sampled_from(("both", "min", "max", "none"))) if budget is None else None
    if budget or shape == "both":
        budget_min = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("20000000")))
        # budget_max >= budget_min (rules §5): an extra on top of the minimum.
        budget_max = budget_min + draw(sar_amounts(min_value=Decimal(0)))
    elif shape == "min":
        budget_min = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("20000000")))
    elif shape == "max":
        budget_max = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("40000000")))
    home = draw(city)
    areas = draw(st.lists(_districts(home), max_size=3, unique=True))
    min_area = draw(st.none() | st.integers(80, 1500).map(Decimal))
    max_area = (
        None if min_area is None or draw(st.booleans()) else min_area + draw(st.integers(0, 1000))
    )
    return Preferences(
        property_type=tuple(draw(st.lists(st.sampled_from(PropertyType), max_size=3, unique=True))),
        budget_min=budget_min,
        budget_max=budget_max,
        preferred_areas=tuple(f"{home} - حي {a}" for a in areas),
        preferred_cities=(home,),
        bedrooms=draw(st.none() | st.integers(1, 8)),
        bathrooms=draw(st.none() | st.integers(1, 7)),
        min_area=min_area,
        max_area=max_area,
        purpose=draw(purpose),
        timeline=draw(timeline),
        amenities=tuple(draw(st.lists(st.sampled_from(_AMENITIES), max_size=4, unique=True))),
        furnishing=draw(st.none() | st.sampled_from(Furnishing)),
    )


def preferences(
    *,
    budget: bool | None = None,
    purpose: OrStrategy[Purpose | None] | _Unset = UNSET,
    timeline: OrStrategy[Timeline | None] | _Unset = UNSET,
    city: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[Preferences]:
    """What a customer looks for; ``0 < budget_min <= budget_max`` whenever both are given.

    ``budget=True`` always gives both bounds, ``False`` none, ``None`` (default) any shape.
    """
    return _preferences(
        budget,
        _resolve(purpose, st.none() | st.sampled_from(Purpose)),
        _resolve(timeline, st.none() | st.sampled_from(Timeline)),
        _resolve(city, cities()),
    )


_PROPERTY_TITLES: Final[Mapping[PropertyType, tuple[str, str]]] = {
    PropertyType.VILLA: ("فيلا", "Villa"),
    PropertyType.APARTMENT: ("شقة", "Apartment"),
    PropertyType.LAND: ("أرض", "Land"),
    PropertyType.COMMERCIAL: ("محل تجاري", "Shop"),
    PropertyType.DUPLEX: ("دوبلكس", "Duplex"),
    PropertyType.TOWNHOUSE: ("تاون هاوس", "Townhouse"),
    PropertyType.BUILDING: ("عمارة", "Building"),
    PropertyType.OFFICE: ("مكتب", "Office"),
}
_SEEN_STATUSES: Final = frozenset(
    {
        PropertyInterestStatus.VIEWED,
        PropertyInterestStatus.SHORTLISTED,
        PropertyInterestStatus.OFFER_MADE,
        PropertyInterestStatus.PURCHASED,
    }
)


_PRICES: Final = sar_amounts(min_value=Decimal("150000"), max_value=Decimal("30000000"))


@st.composite
def _property_interests(
    draw: st.DrawFn,
    status: SearchStrategy[PropertyInterestStatus],
    property_id: SearchStrategy[str],
    added_at: SearchStrategy[datetime],
) -> PropertyInterest:
    kind = draw(st.sampled_from(PropertyType))
    title_ar, title_en = _PROPERTY_TITLES[kind]
    city = draw(cities())
    district = draw(_districts(city))
    chosen = draw(status)
    added = draw(added_at)
    # A viewed (or later) interest was viewed after it was added.
    viewed_at = (
        draw(_after(added, at_most=timedelta(days=30))) if chosen in _SEEN_STATUSES else None
    )
    return PropertyInterest(
        id=draw(ids("pi")),
        property_id=draw(property_id),
        status=chosen,
        added_at=added,
        property_title=f"{title_ar} في حي {district}",
        property_title_en=f"{title_en} in {CITY_NAMES_EN[city]}",
        property_price=draw(
            sar_amounts(min_value=Decimal("150000"), max_value=Decimal("30000000"))
        ),
        property_type=kind,
        property_location=city,
        viewed_at=viewed_at,
        rating=draw(st.none() | st.integers(1, 5)) if viewed_at else None,
    )


def property_interests(
    *,
    status: OrStrategy[PropertyInterestStatus] | _Unset = UNSET,
    property_id: OrStrategy[str] | _Unset = UNSET,
    added_at: OrStrategy[datetime] | _Unset = UNSET,
) -> SearchStrategy[PropertyInterest]:
    """One customer's interest in one property (``viewed_at`` set once viewed or later)."""
    return _property_interests(
        _resolve(status, st.sampled_from(PropertyInterestStatus)),
        _resolve(property_id, ids("prop")),
        _resolve(added_at, aware_datetimes(max_value=_AGGREGATE_START_MAX)),
    )


def _any_preferences() -> SearchStrategy[Preferences]:
    # For options named ``preferences``, which shadow the strategy function.
    return preferences()


# --- customers -------------------------------------------------------------------------------


def guard_level(stage: Stage) -> int:
    """How many guards entering ``stage`` requires (rules §1): 0, 1 (interest), 2 (+ deal
    value) or 3 (+ payment)."""
    if stage.rank >= Stage.CLOSING.rank:
        return 3
    if stage.rank >= Stage.CONTRACT_PREP.rank:
        return 2
    return 1 if stage.rank >= Stage.SITE_VISIT.rank else 0


def _needs_reason(from_stage: Stage, to_stage: Stage) -> bool:
    return to_stage.rank < from_stage.rank or to_stage.rank - from_stage.rank > 1


def _stage_path(waypoints: Sequence[Stage], target: Stage) -> list[Stage]:
    """``new_lead``, then the waypoints, then ``target``: repeats dropped, ``closing`` inserted
    before any ``post_sale`` not reached from ``closing``."""
    path = [Stage.NEW_LEAD]
    for stage in (*waypoints, target):
        if stage is path[-1]:
            continue
        if stage is Stage.POST_SALE and path[-1] is not Stage.CLOSING:
            path.append(Stage.CLOSING)
        path.append(stage)
    return path


_NON_REJECTED: Final = tuple(
    s for s in PropertyInterestStatus if s is not PropertyInterestStatus.REJECTED
)


@st.composite
def _customers(
    draw: st.DrawFn,
    *,
    customer_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    stage: SearchStrategy[Stage],
    assigned_employee_id: SearchStrategy[str | None],
    source: SearchStrategy[CustomerSource],
    priority: SearchStrategy[Priority],
    created_at: SearchStrategy[datetime],
    preferences: SearchStrategy[Preferences],
    satisfy_guards: bool,
    deleted: bool,
) -> Customer:
    cid = draw(customer_id)
    suffix = cid.rsplit("_", 1)[-1]
    target = draw(stage)
    assignee = draw(assigned_employee_id)
    created = draw(created_at)
    level = guard_level(target) if satisfy_guards else 3

    # Stage history: new_lead by the system, then moves the lifecycle allows. Waypoints stay
    # within the target's guards, so every entry was enterable with the customer's data.
    allowed = [s for s in Stage if guard_level(s) <= level]
    path = _stage_path(draw(st.lists(st.sampled_from(allowed), max_size=4)), target)
    history = [
        StageChange(
            id=f"stage_{suffix}_1",
            from_stage=None,
            to_stage=Stage.NEW_LEAD,
            changed_by=SYSTEM_ACTOR_NAME,
            changed_by_id=SYSTEM_ACTOR_ID,
            changed_at=created,
            auto_generated=True,
        )
    ]
    moment = created
    for number, (before, after) in enumerate(pairwise(path), start=2):
        moment = draw(_after(moment, at_least=timedelta(minutes=1), at_most=timedelta(days=20)))
        changer = draw(person_names(diacritics=False))
        reason = draw(st.sampled_from(_REASONS)) if _needs_reason(before, after) else None
        history.append(
            StageChange(
                id=f"stage_{suffix}_{number}",
                from_stage=before,
                to_stage=after,
                changed_by=changer.arabic,
                changed_by_id=assignee or draw(ids("emp")),
                changed_at=moment,
                notes=draw(st.none() | st.sampled_from(_NOTES)),
                reason=reason,
            )
        )
    updated = draw(_after(moment, at_most=timedelta(days=10)))
    during = aware_datetimes(min_value=created, max_value=updated)

    # Property interests, one per property; a live one whenever the stage needs it.
    interests = draw(
        st.lists(
            property_interests(added_at=during),
            min_size=1 if satisfy_guards and guard_level(target) >= 1 else 0,
            max_size=4,
            unique_by=lambda i: i.property_id,
        )
    )
    interests = [attrs.evolve(i, id=f"pi_{suffix}_{n}") for n, i in enumerate(interests, 1)]
    needs_live = satisfy_guards and guard_level(target) >= 1
    if needs_live and all(i.status is PropertyInterestStatus.REJECTED for i in interests):
        interests[0] = attrs.evolve(interests[0], status=draw(st.sampled_from(_NON_REJECTED)))

    # Money: a deal value from contract_prep, a payment from closing (never above the deal).
    deal_amounts = sar_amounts(min_value=Decimal("100000"), max_value=Decimal("25000000"))
    deal: Decimal | None
    paid: Decimal | None
    if not satisfy_guards:
        deal = draw(st.none() | st.just(Decimal(0)) | deal_amounts)
        paid = draw(st.none() | st.just(Decimal(0)) | sar_amounts())
    else:
        needs_deal = guard_level(target) >= 2
        deal = draw(deal_amounts if needs_deal else st.none() | deal_amounts)
        needs_paid = guard_level(target) >= 3
        may_pay = deal is not None and target.rank >= Stage.DOWN_PAYMENT.rank
        paid = None
        if deal is not None and (needs_paid or (may_pay and draw(st.booleans()))):
            percent = draw(st.integers(1, 100))
            paid = (deal * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    expected = (
        (deal * Decimal("0.025")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if deal is not None and draw(st.booleans())
        else None
    )

    person = draw(person_names())
    phone = draw(saudi_mobiles())
    national_id = draw(st.none() | national_ids())
    citizen = national_id is None or national_id.startswith("1")
    interactions = draw(st.integers(0, 30))
    contact = draw(during) if interactions else None
    city = draw(cities())
    chosen_source = draw(source)
    financing = draw(
        st.none()
        | st.builds(
            Financing,
            bank=st.none() | st.sampled_from(("الراجحي", "الأهلي", "الرياض", "الإنماء")),
            redf_supported=st.booleans(),
            pre_approved=st.booleans(),
            first_home=st.booleans(),
            is_citizen=st.just(citizen and national_id is not None),
        )
    )
    customer = Customer(
        id=cid,
        organization_id=draw(organization_id),
        name=person.arabic,
        phone=phone,
        source=chosen_source,
        stage=target,
        created_at=created,
        updated_at=updated,
        preferences=draw(preferences),
        stage_history=tuple(history),
        property_interests=tuple(interests),
        name_en=draw(st.sampled_from((person.english, None))),
        whatsapp=draw(st.sampled_from((phone, None)) | saudi_mobiles()),
        email=draw(
            st.none()
            | st.integers(1, 99).map(
                lambda n: f"{person.english.split()[0].lower()}{n}@example.com"
            )
        ),
        national_id=national_id,
        nationality=draw(st.sampled_from(("Saudi", None)))
        if citizen
        else draw(st.sampled_from(_NATIONALITIES)),
        gender=draw(st.sampled_from((person.gender, None))),
        date_of_birth=draw(st.none() | st.dates(date(1950, 1, 1), date(2005, 12, 31))),
        source_details=(
            {"inquiryId": draw(ids("inq"))} if chosen_source is CustomerSource.INQUIRY else {}
        ),
        priority=draw(priority),
        customer_type=draw(st.none() | st.sampled_from(CustomerType)),
        tags=tuple(draw(st.lists(st.sampled_from(_TAGS), max_size=3, unique=True))),
        assigned_employee_id=assignee,
        total_deal_value=deal,
        expected_revenue=expected,
        paid_amount=paid,
        city=city,
        district=draw(st.none() | _districts(city)),
        notes=draw(st.none() | st.sampled_from(_NOTES)),
        last_contact_at=contact,
        last_contact_type=draw(st.sampled_from(InteractionType)) if contact else None,
        next_follow_up_date=draw(
            st.none() | st.dates(updated.date(), updated.date() + timedelta(days=60)),
        ),
        total_interactions=interactions,
        positive_inbound_interactions=draw(st.integers(0, interactions)),
        total_appointments=draw(st.integers(0, 6)),
        total_property_views=draw(st.integers(0, 3 * len(interests))),
        ksa_compliance=KsaCompliance(financing=financing) if financing else None,
        deleted_at=updated if deleted else None,
        # One version per accepted change since creation.
        version=len(history),
    )
    # The written fields declared with their numbers alone (domain.fields.writable).
    customer = attrs.evolve(customer, **draw(written_fields(Customer)))
    if interactions:
        # Rates and other bounded numbers exist once there were interactions to measure.
        customer = attrs.evolve(customer, **draw(bounded_fields(Customer)))
    # The lead score is a function of the data: never hand out a stale one (rules §3).
    return scoring.refresh_score(customer, updated)


def customers(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    stage: OrStrategy[Stage] | _Unset = UNSET,
    assigned_employee_id: OrStrategy[str | None] | _Unset = UNSET,
    source: OrStrategy[CustomerSource] | _Unset = UNSET,
    priority: OrStrategy[Priority] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
    customer_id: OrStrategy[str] | _Unset = UNSET,
    preferences: OrStrategy[Preferences] | _Unset = UNSET,
    satisfy_guards: bool = True,
    deleted: bool = False,
) -> SearchStrategy[Customer]:
    """Valid :class:`Customer` aggregates.

    * ``stage_history`` starts with the system ``None → new_lead`` entry at ``created_at``; each
      later entry chains from the previous ``to_stage``, is later in time, carries a reason when
      it skips forward or goes back, and enters ``post_sale`` only from ``closing``; the last
      entry's ``to_stage`` is ``stage``.
    * With ``satisfy_guards=True`` (default) the customer meets the guards of ``stage``: a
      non-rejected property interest from ``site_visit``, ``total_deal_value > 0`` from
      ``contract_prep``, ``paid_amount > 0`` from ``closing``. With ``False`` those data are drawn
      freely (they may or may not hold), for tests of refusals.
    * ``deleted=True`` gives a soft-deleted customer (``deleted_at == updated_at``).
    * ``lead_score`` and ``ai_insights`` are computed by
      :func:`customers_hub.domain.scoring.refresh_score`, never stale.
    """
    return _customers(
        customer_id=_resolve(customer_id, ids("cust")),
        organization_id=_resolve(organization_id, organizations()),
        stage=_resolve(stage, st.sampled_from(Stage)),
        assigned_employee_id=_resolve(assigned_employee_id, st.none() | ids("emp")),
        source=_resolve(source, st.sampled_from(CustomerSource)),
        priority=_resolve(priority, st.sampled_from(Priority)),
        created_at=_resolve(created_at, aware_datetimes(max_value=_AGGREGATE_START_MAX)),
        preferences=_resolve(preferences, _any_preferences()),
        satisfy_guards=satisfy_guards,
        deleted=deleted,
    )

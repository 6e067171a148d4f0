"""The loader's primitives: the team, the catalog, identities, plans and one use case call each."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from customers_hub.application.context import Dependencies, transaction
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.action_reads import list_actions
from customers_hub.application.use_cases.actions import (
    CompleteAction,
    DismissAction,
    complete_action,
    dismiss_action,
)
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.reads import ActionListParams, list_employees
from customers_hub.application.use_cases.relations import (
    AddPropertyInterest,
    LogInteraction,
    UpdatePropertyInterestStatus,
    add_property_interest,
    log_interaction,
    update_property_interest_status,
)
from customers_hub.application.use_cases.reminders import AddReminder, add_reminder
from customers_hub.application.use_cases.scheduling import (
    ScheduleAppointment,
    UpdateAppointment,
    schedule_appointment,
    update_appointment,
)
from customers_hub.domain.access import default_permissions
from customers_hub.domain.appointments import AppointmentConflict
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    AppointmentStatus,
    AppointmentType,
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    InteractionDirection,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    Purpose,
    ReminderType,
    Role,
    Sentiment,
    Stage,
    Timeline,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import Actor, Customer, FalLicence, Preferences
from customers_hub.domain.model import Property as CatalogProperty
from customers_hub.domain.validation import CustomerDraft, national_id_check_digit
from customers_hub.entrypoints.demo.reference import (
    _A,
    _AGENT_IDS,
    _AMENITIES,
    _C,
    _CATALOG,
    _CITIES,
    _EMAIL_DOMAIN,
    _EMAIL_DOMAINS,
    _L,
    _RESIDENTS,
    _SOURCE_WEIGHTS,
    _STAGE_WEIGHTS,
    _TEAM,
    _TYPE_WEIGHTS,
    ADMIN_ID,
    HISTORY_DAYS,
    MANAGER_ID,
    _City,
    _Listing,
    _Person,
)
from customers_hub.entrypoints.demo.timeline import (
    _K,
    _CustomerPlan,
    _money,
    _ReplayClock,
)
from customers_hub.testing.strategies.values import (
    FAMILY_NAMES,
    FEMALE_FIRST_NAMES,
    MALE_FIRST_NAMES,
    MOBILE_PREFIXES,
    saudi_mobile,
)


class _Loader:
    """Runs the demo stories for one organization."""

    def __init__(self, hub_deps: Dependencies, org: str, seed: int) -> None:
        self.anchor = hub_deps.clock.now()
        self.clock = _ReplayClock(self.anchor)
        self.deps = attrs.evolve(hub_deps, clock=self.clock)
        self.org = org
        self.rng = random.Random(seed)
        self.admin = Actor(
            user_id=ADMIN_ID,
            organization_id=org,
            role=Role.ADMIN,
            permissions=default_permissions(Role.ADMIN),
            name=_TEAM[0].name,
            email=f"{_TEAM[0].email_user}@{_EMAIL_DOMAIN}",
        )
        self.actors: dict[str, Actor] = {}
        self.phones: set[str] = set()
        self.names: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.cities: Counter[str] = Counter()

    # -- helpers

    def actor(self, employee_id: str | None) -> Actor:
        return self.actors.get(employee_id or "", self.admin)

    def pick(self, weights: Mapping[_K, int]) -> _K:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    async def existing_team(self) -> set[str]:
        found = await list_employees(self.deps, self.admin)
        return {e.id for e in found.employees}

    # -- team and catalog

    async def create_team(self, members: Iterable[_Person]) -> None:
        today = self.anchor.date()
        for person in members:
            self.clock.set(self.anchor - timedelta(days=HISTORY_DAYS + 5))
            licence = None
            if person.licence_days is not None:
                number = f"1100{self.rng.randrange(10**6):06d}"
                licence = FalLicence(number, today + timedelta(days=person.licence_days))
            employee = await create_employee(
                self.deps,
                self.admin,
                CreateEmployee(
                    id=person.id,
                    name=person.name,
                    name_en=person.name_en,
                    role=person.role,
                    email=f"{person.email_user}@{_EMAIL_DOMAIN}",
                    phone=self.new_phone(international=True),
                    title=person.title,
                    manager_id=person.manager_id,
                    fal_licence=licence,
                ),
            )
            self.actors[employee.id] = Actor(
                user_id=employee.id,
                organization_id=self.org,
                role=employee.role,
                permissions=default_permissions(employee.role),
                name=employee.name,
                email=employee.email,
            )
            self.counts["employees"] += 1

    async def create_catalog(self) -> None:
        """The catalog has no use case (the listing system feeds it): one transaction."""
        properties = [
            CatalogProperty(
                id=listing.id,
                organization_id=self.org,
                title=listing.title,
                title_en=listing.title_en,
                type=listing.type,
                city=listing.city.ar,
                district=listing.district_ar,
                price=Decimal(listing.price),
                bedrooms=listing.bedrooms,
                area=Decimal(listing.area),
                off_plan=listing.off_plan,
                status=listing.status,
            )
            for listing in _CATALOG
        ]

        async def work(uow: UnitOfWork) -> tuple[int, list[DomainEvent]]:
            for prop in properties:
                await uow.properties.add(prop)
            return len(properties), []

        self.counts["properties"] += await transaction(self.deps, work)

    # -- identities

    def new_phone(self, *, international: bool = False) -> str:
        """A new Saudi mobile, written as people type it (normalized to E.164 on input)."""
        while True:
            prefix = self.rng.choice(MOBILE_PREFIXES)  # the strategies' mobile plan
            e164 = saudi_mobile(prefix, self.rng.randrange(10**7))
            if e164 not in self.phones:
                self.phones.add(e164)
                break
        if international:
            return e164
        national = e164[len("+966") :]  # 5XXXXXXXX
        spaced = f"{national[:2]} {national[2:5]} {national[5:]}"
        style = self.rng.randrange(3)
        if style == 0:
            return f"0{spaced}"
        if style == 1:
            return f"+966 {spaced}"
        return f"0{national}"

    def national_id(self, *, citizen: bool) -> str:
        first_nine = ("1" if citizen else "2") + f"{self.rng.randrange(10**8):08d}"
        return first_nine + national_id_check_digit(first_nine)

    def identity(self) -> tuple[str, str, Gender, str, bool]:
        """(name, English name, gender, nationality, citizen) — a name not used yet."""
        for _ in range(50):
            if self.rng.random() < 0.12:
                name, name_en, nationality, gender = self.rng.choice(_RESIDENTS)
                citizen = False
            else:
                gender = Gender.FEMALE if self.rng.random() < 0.3 else Gender.MALE
                first = self.rng.choice(
                    FEMALE_FIRST_NAMES if gender is Gender.FEMALE else MALE_FIRST_NAMES
                )
                family = self.rng.choice(FAMILY_NAMES)
                name, name_en = f"{first[0]} {family[0]}", f"{first[1]} {family[1]}"
                nationality, citizen = "Saudi", True
            if name not in self.names:
                break
        self.names.add(name)
        return name, name_en, gender, nationality, citizen

    # -- plans

    def stages_for(self, count: int) -> list[Stage]:
        """``count`` stages in the proportions of :data:`_STAGE_WEIGHTS` (largest remainders),
        every stage at least once when ``count`` allows, in a seeded order."""
        total = sum(_STAGE_WEIGHTS.values())
        exact = {stage: weight * count / total for stage, weight in _STAGE_WEIGHTS.items()}
        counts = {stage: int(share) for stage, share in exact.items()}
        by_remainder = sorted(Stage, key=lambda s: (counts[s] > 0, counts[s] - exact[s]))
        for stage in by_remainder[: count - sum(counts.values())]:
            counts[stage] += 1
        stages = [stage for stage in Stage for _ in range(counts[stage])]
        self.rng.shuffle(stages)
        return stages

    def cities_for(self, count: int) -> list[_City]:
        cities = list(_CITIES)[:count]
        cities += self.rng.choices(
            _CITIES, weights=[c.weight for c in _CITIES], k=count - len(cities)
        )
        self.rng.shuffle(cities)
        return cities

    def assignee_for(self, stage: Stage) -> str | None:
        roll = self.rng.random()
        if stage is Stage.NEW_LEAD and roll < 0.2:
            return None  # a fresh lead the admin has not assigned yet
        if roll > 0.9:
            return MANAGER_ID
        return self.rng.choice(_AGENT_IDS)

    def plan(self, stage: Stage, city: _City) -> _CustomerPlan:
        rng = self.rng
        name, name_en, gender, nationality, citizen = self.identity()
        source = self.pick(_SOURCE_WEIGHTS)
        listings = [c for c in _CATALOG if c.city is city and c.status is PropertyStatus.AVAILABLE]
        # Most buyers look for a home; fewer for land or commercial property.
        target = rng.choices(listings, weights=[_TYPE_WEIGHTS[c.type] for c in listings])[0]
        same_type = [c for c in listings if c.type is target.type and c is not target]
        alternatives = tuple(rng.sample(same_type, k=min(len(same_type), rng.randint(0, 2))))
        price = Decimal(target.price)
        budget_min = _money(price * Decimal(str(rng.uniform(0.75, 0.95))), 50_000)
        budget_max = _money(price * Decimal(str(rng.uniform(1.02, 1.2))), 50_000)
        areas = {target.location, *(a.location for a in alternatives)}
        if rng.random() < 0.4:
            areas.add(f"{city.ar} - {rng.choice(city.districts).ar}")
        residential = target.type in (PropertyType.VILLA, PropertyType.APARTMENT)
        purpose = Purpose.INVEST if target.type in (_L, _C) or rng.random() < 0.15 else Purpose.BUY
        preferences = Preferences(
            property_type=(target.type,),
            budget_min=budget_min,
            budget_max=budget_max,
            preferred_areas=tuple(sorted(areas)),
            preferred_cities=(city.ar,),
            bedrooms=target.bedrooms - rng.randint(0, 1) if target.bedrooms else None,
            bathrooms=max(2, target.bedrooms - 1) if target.bedrooms else None,
            min_area=_money(target.area * rng.uniform(0.8, 0.95), 10),
            purpose=purpose,
            timeline=rng.choice(list(Timeline)[:4]),
            amenities=tuple(sorted(rng.sample(_AMENITIES, k=rng.randint(1, 3))))
            if residential
            else (),
            furnishing=rng.choice(list(Furnishing)) if target.type is _A else None,
        )
        tags = (
            {"first_home"} if citizen and purpose is Purpose.BUY and rng.random() < 0.4 else set()
        )
        if price >= 3_000_000:
            tags.add("vip")
        if rng.random() < 0.25:
            tags.add("cash_buyer")
        elif purpose is Purpose.BUY and rng.random() < 0.5:
            tags.add("mortgage")
        if purpose is Purpose.INVEST:
            tags.add("investor")
        if stage.rank >= 3 or preferences.timeline is Timeline.IMMEDIATE:
            tags.add("hot_lead")
        priority = (
            Priority.URGENT
            if preferences.timeline is Timeline.IMMEDIATE and rng.random() < 0.4
            else rng.choices(list(Priority)[:3], weights=[2, 5, 3])[0]
        )
        email = None
        if rng.random() < 0.7:
            local = name_en.lower().replace("-", "").replace(" ", ".")
            email = f"{local}{rng.randint(1, 99)}@{rng.choice(_EMAIL_DOMAINS)}"
        source_details: dict[str, str] = {}
        if source is CustomerSource.INQUIRY:
            source_details = rng.choice(
                [{"channel": "website"}, {"channel": "aqar", "listingId": target.id}]
            )
        elif source is CustomerSource.WHATSAPP:
            source_details = {
                "campaign": rng.choice(["ramadan_offers", "national_day", "summer_launch"]),
                "utmSource": rng.choice(["instagram", "snapchat", "x", "tiktok"]),
            }
        elif source is CustomerSource.REFERRAL:
            source_details = {"referredBy": self.rng.choice(MALE_FIRST_NAMES)[0] + " (عميل سابق)"}
        phone = self.new_phone()
        today = self.anchor.date()
        draft = CustomerDraft(
            name=name_en if not citizen and nationality == "British" else name,
            name_en=name_en,
            phone=phone,
            whatsapp=phone if rng.random() < 0.85 else None,
            email=email,
            national_id=self.national_id(citizen=citizen) if rng.random() < 0.8 else None,
            nationality=nationality,
            gender=gender,
            date_of_birth=today - timedelta(days=rng.randint(26 * 365, 62 * 365)),
            source=source,
            source_details=source_details,
            preferences=preferences,
            priority=priority,
            customer_type=CustomerType.INVESTOR
            if purpose is Purpose.INVEST
            else (CustomerType.COMPANY if target.type is _C else CustomerType.INDIVIDUAL),
            tags=tuple(sorted(tags)),
            city=city.ar,
            district=target.district_ar,
            region=city.region,
            notes=rng.choice(
                [
                    "يفضل التواصل عبر واتساب بعد العصر",
                    "يبحث عن سكن قريب من المدارس",
                    "يرغب بالتمويل العقاري",
                    "عميل جاد ويريد الشراء خلال أشهر",
                    None,
                ]
            ),
        )
        days_ago = (
            rng.uniform(0.1, 14)
            if stage is Stage.NEW_LEAD
            else rng.uniform(3 + stage.rank * 5, min(HISTORY_DAYS, 25 + stage.rank * 8))
        )
        created_at = self.anchor - timedelta(days=days_ago)
        span = self.anchor - created_at
        end = created_at + span * rng.uniform(0.7, 0.97)
        # Room for the last step's fixed jumps (a visit, a handover): the story stays in the past.
        end = min(end, self.anchor - timedelta(hours=4))
        return _CustomerPlan(
            draft=draft,
            stage=stage,
            assignee=self.assignee_for(stage),
            created_at=created_at,
            end=max(end, created_at + timedelta(minutes=30)),
            city=city,
            target=target,
            alternatives=alternatives,
            is_citizen=citizen,
            skip_qualification=stage.rank >= 2 and rng.random() < 0.12,
            went_back=stage is Stage.QUALIFIED and rng.random() < 0.3,
        )

    # -- the story of one customer

    async def open_actions(self, customer_id: str, types: Iterable[ActionType]) -> list[str]:
        wanted = tuple(types)
        page = await list_actions(
            self.deps,
            self.admin,
            ActionListParams(
                customer_id=customer_id,
                status=(ActionStatus.PENDING, ActionStatus.IN_PROGRESS),
                type=wanted,
                limit=100,
            ),
        )
        return [a.id for a in page.items]

    async def dismiss(
        self, actor: Actor, customer_id: str, types: Iterable[ActionType], reason: str
    ) -> None:
        """Dismiss the customer's open actions of ``types`` (what they asked for fell through)."""
        for action_id in await self.open_actions(customer_id, types):
            await dismiss_action(
                self.deps, actor, DismissAction(action_id=action_id, reason=reason)
            )

    async def finish(
        self, actor: Actor, customer_id: str, types: Iterable[ActionType], outcome: str
    ) -> None:
        """Complete the customer's open actions of ``types`` (the story did the work)."""
        for action_id in await self.open_actions(customer_id, types):
            await complete_action(
                self.deps, actor, CompleteAction(action_id=action_id, outcome=outcome)
            )

    async def stage(
        self,
        actor: Actor,
        customer_id: str,
        to: Stage,
        notes: str | None,
        reason: str | None = None,
    ) -> Customer:
        return (
            await change_stage(
                self.deps,
                actor,
                ChangeStage(
                    customer_id, StageChangeRequest(to_stage=to, notes=notes, reason=reason)
                ),
            )
        ).customer

    async def interact(
        self,
        actor: Actor,
        customer_id: str,
        kind: InteractionType,
        notes: str,
        *,
        direction: InteractionDirection = InteractionDirection.OUTBOUND,
        sentiment: Sentiment | None = None,
        outcome: str | None = None,
        follow_up_days: float | None = None,
    ) -> None:
        now = self.clock.now()
        await log_interaction(
            self.deps,
            actor,
            LogInteraction(
                customer_id=customer_id,
                type=kind,
                notes=notes,
                date=now,
                direction=direction,
                duration=self.rng.randint(3, 25) if kind is InteractionType.CALL else None,
                outcome=outcome,
                sentiment=sentiment,
                follow_up_required=follow_up_days is not None,
                follow_up_date=now + timedelta(days=follow_up_days) if follow_up_days else None,
            ),
        )
        self.counts["interactions"] += 1

    async def interest(self, actor: Actor, customer_id: str, listing: _Listing) -> str:
        added = await add_property_interest(
            self.deps,
            actor,
            AddPropertyInterest(
                customer_id=customer_id,
                property_id=listing.id,
                property_title=listing.title,
                property_title_en=listing.title_en,
                property_price=Decimal(listing.price),
                property_type=listing.type,
                property_location=listing.location,
            ),
        )
        self.counts["property_interests"] += 1
        return added.id

    async def set_interest(
        self, actor: Actor, customer_id: str, interest_id: str, status: PropertyInterestStatus
    ) -> None:
        await update_property_interest_status(
            self.deps,
            actor,
            UpdatePropertyInterestStatus(
                customer_id=customer_id, interest_id=interest_id, status=status
            ),
        )

    async def appointment(
        self,
        actor: Actor,
        plan: _CustomerPlan,
        customer_id: str,
        kind: AppointmentType,
        at: datetime,
        title: str,
        title_en: str,
    ) -> tuple[str, datetime]:
        """Schedule an appointment (some upcoming ones are confirmed) at ``at``, or — when the
        agent is booked then (rules §10) — right after what is in the way: the demo books
        around conflicts, never over them. Returns its id and time."""
        command = ScheduleAppointment(
            customer_id=customer_id,
            title=title,
            title_en=title_en,
            type=kind,
            at=at,
            duration=self.rng.choice([30, 45, 60, 90]),
            priority=Priority.HIGH if kind is AppointmentType.SITE_VISIT else Priority.MEDIUM,
            location=plan.target.location,
            property_id=plan.target.id,
            property_title=plan.target.title,
        )
        while True:
            try:
                appointment = await schedule_appointment(self.deps, actor, command)
                break
            except AppointmentConflict as conflict:
                # Each try starts after every appointment in its way: it always gets further.
                free = max(c.at + timedelta(minutes=c.duration) for c in conflict.conflicts)
                command = attrs.evolve(command, at=free)
        at = appointment.at
        self.counts["appointments"] += 1
        if at > self.anchor and self.rng.random() < 0.5:
            await update_appointment(
                self.deps,
                actor,
                UpdateAppointment(
                    customer_id=customer_id,
                    appointment_id=appointment.id,
                    status=AppointmentStatus.CONFIRMED,
                    notes="أكد العميل الموعد",
                ),
            )
        return appointment.id, at

    async def appointment_done(
        self, actor: Actor, customer_id: str, appointment_id: str, outcome: str
    ) -> None:
        await update_appointment(
            self.deps,
            actor,
            UpdateAppointment(
                customer_id=customer_id,
                appointment_id=appointment_id,
                status=AppointmentStatus.COMPLETED,
                outcome=outcome,
            ),
        )

    async def reminder(
        self,
        actor: Actor,
        customer_id: str,
        at: datetime,
        title: str,
        kind: ReminderType,
    ) -> str:
        reminder = await add_reminder(
            self.deps,
            actor,
            AddReminder(
                customer_id=customer_id, title=title, at=at, type=kind, priority=Priority.MEDIUM
            ),
        )
        self.counts["reminders"] += 1
        return reminder.id

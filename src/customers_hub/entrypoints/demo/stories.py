"""Each stage of a customer's story replayed through the use cases, and :func:`load_demo_data`."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

import attrs

from customers_hub.application.use_cases.action_reads import list_actions
from customers_hub.application.use_cases.actions import (
    CompleteAction,
    CreateAction,
    DismissAction,
    SnoozeAction,
    StartAction,
    complete_action,
    create_action,
    dismiss_action,
    snooze_action,
    start_action,
)
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    update_customer,
)
from customers_hub.application.use_cases.reads import (
    ActionListParams,
    CustomerListParams,
    list_customers,
)
from customers_hub.application.use_cases.reminders import CompleteReminder, complete_reminder
from customers_hub.application.use_cases.scheduling import UpdateAppointment, update_appointment
from customers_hub.application.use_cases.settings import update_organization_settings
from customers_hub.domain.compliance import (
    Financing,
    KsaCompliance,
    WafiLicence,
    minimum_down_payment,
)
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    AppointmentStatus,
    AppointmentType,
    CustomerSource,
    InteractionDirection,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    ReminderType,
    Sentiment,
    Stage,
)
from customers_hub.domain.model import CustomerAction
from customers_hub.domain.settings import SettingsPatch
from customers_hub.domain.validation import CustomerPatch
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.demo.loader import _Loader
from customers_hub.entrypoints.demo.reference import (
    _BANKS,
    _TEAM,
    _TYPE_NAMES,
    DEFAULT_CUSTOMERS,
    DEFAULT_ORGANIZATION,
    DEFAULT_SEED,
    VIEWER_ID,
    DemoDataIncomplete,
    DemoSummary,
)
from customers_hub.entrypoints.demo.timeline import (
    _CustomerPlan,
    _money,
    _Story,
    _Timeline,
)


class _StoryLoader(_Loader):
    """The loader that replays whole stories."""

    async def story(self, plan: _CustomerPlan) -> None:
        """Replay one customer's history up to its planned stage."""
        assigned = self.actor(plan.assignee)
        # Manual entries and referrals are typed in by their agent; leads arrive through the
        # organization's channels (the admin's integration) already assigned.
        by_agent = plan.draft.source in (CustomerSource.MANUAL, CustomerSource.REFERRAL)
        creator = assigned if plan.assignee and by_agent else self.admin
        line = _Timeline(self.clock, plan.created_at, plan.end, plan.stage.rank + 4, self.rng)
        customer = (
            await create_customer(
                self.deps,
                creator,
                CreateCustomer(attrs.evolve(plan.draft, assigned_employee_id=plan.assignee)),
            )
        ).customer
        self.counts["customers"] += 1
        self.stages[plan.stage.value] += 1
        self.cities[plan.city.ar] += 1
        story = _Story(plan=plan, actor=assigned, customer_id=customer.id, line=line)
        phases = (
            self.contact,
            self.qualify,
            self.match,
            self.visit,
            self.negotiate,
            self.prepare_contract,
            self.await_payment,
            self.close,
            self.hand_over,
        )
        for stage, phase in zip(Stage, phases, strict=True):
            await phase(story, final=stage is plan.stage)
            if stage is plan.stage:
                break
        await self.extras(story)

    async def contact(self, story: _Story, *, final: bool) -> None:
        """The first contact (a new lead may still be waiting for it)."""
        rng, plan, actor, cid = self.rng, story.plan, story.actor, story.customer_id
        target = plan.target
        type_ar = _TYPE_NAMES[target.type][0]
        if not final or rng.random() < 0.6:
            story.line.tick()
            if plan.draft.source is CustomerSource.WHATSAPP:
                await self.interact(
                    actor,
                    cid,
                    InteractionType.WHATSAPP,
                    f"رد على رسالة العميل وأرسل تفاصيل {type_ar} في {target.district_ar}",
                    direction=InteractionDirection.INBOUND,
                    sentiment=Sentiment.POSITIVE,
                    outcome="طلب صوراً وأسعاراً",
                )
            else:
                answered = not final or rng.random() < 0.7
                await self.interact(
                    actor,
                    cid,
                    InteractionType.CALL,
                    f"اتصال تعريفي: يبحث العميل عن {type_ar} في {plan.city.ar}"
                    if answered
                    else "اتصال تعريفي: لم يرد العميل",
                    sentiment=rng.choice([Sentiment.POSITIVE, Sentiment.NEUTRAL])
                    if answered
                    else None,
                    outcome="مهتم" if answered else "لم يرد",
                    follow_up_days=None if answered else rng.uniform(1, 3),
                )
            if not final or rng.random() < 0.5:
                await self.finish(
                    actor,
                    cid,
                    (ActionType.NEW_INQUIRY, ActionType.WHATSAPP_INCOMING),
                    "تم التواصل مع العميل",
                )
        if final and rng.random() < 0.35:
            story.line.tick()
            await self.interact(
                actor,
                cid,
                InteractionType.WHATSAPP,
                "أرسل العميل استفساراً عن طرق الدفع",
                direction=InteractionDirection.INBOUND,
                sentiment=Sentiment.NEUTRAL,
                follow_up_days=rng.uniform(1, 6),
            )

    async def qualify(self, story: _Story, *, final: bool) -> None:
        """Qualification (a ready referral skips it; some qualified customers went back)."""
        actor, cid = story.actor, story.customer_id
        if story.plan.skip_qualification:
            return
        story.line.tick()
        await self.stage(actor, cid, Stage.QUALIFIED, "تم التأكد من الميزانية والجدول الزمني")
        await self.interact(
            actor,
            cid,
            InteractionType.CALL,
            "مكالمة تأهيل: الميزانية مؤكدة والعميل جاد",
            sentiment=Sentiment.POSITIVE,
            outcome="مؤهل",
        )
        if final and story.plan.went_back:
            await self.match(story, final=False)
            story.line.tick()
            await self.stage(
                actor,
                cid,
                Stage.QUALIFIED,
                None,
                reason="العميل أجّل قرار الشراء إلى ما بعد الإجازة",
            )

    async def match(self, story: _Story, *, final: bool) -> None:
        """Recommendations: the property interests and the catalog matches sent."""
        plan, actor, cid = story.plan, story.actor, story.customer_id
        story.line.tick()
        await self.stage(
            actor,
            cid,
            Stage.PROPERTY_MATCHING,
            "أرسلنا العقارات المطابقة لتفضيلاته",
            reason="عميل جاهز ومحدد المتطلبات" if plan.skip_qualification else None,
        )
        story.interest_ids = [await self.interest(actor, cid, plan.target)]
        for listing in plan.alternatives:
            story.interest_ids.append(await self.interest(actor, cid, listing))
        await self.interact(
            actor,
            cid,
            InteractionType.WHATSAPP,
            f"أرسلت صور وتفاصيل {plan.target.title} عبر واتساب",
            sentiment=Sentiment.POSITIVE,
            follow_up_days=self.rng.uniform(1, 4) if final else None,
        )
        await self.finish(
            actor, cid, (ActionType.PROPERTY_MATCH,), "أرسلت التوصيات للعميل عبر واتساب"
        )

    async def visit(self, story: _Story, *, final: bool) -> None:
        """The site visit: upcoming for customers at ``site_visit``, done for the others."""
        rng, plan, actor, cid, line = (
            self.rng,
            story.plan,
            story.actor,
            story.customer_id,
            story.line,
        )
        target = plan.target
        title, title_en = f"معاينة {target.title}", f"Viewing: {target.title_en}"
        line.tick()
        if final:
            visit_at = (self.anchor + timedelta(days=rng.uniform(1, 8))).replace(
                minute=0, second=0, microsecond=0
            )
            await self.appointment(
                actor, plan, cid, AppointmentType.SITE_VISIT, visit_at, title, title_en
            )
            await self.stage(actor, cid, Stage.SITE_VISIT, "تم حجز موعد المعاينة")
            return
        if rng.random() < 0.2:
            # A first appointment that did not happen.
            missed_at = line.now + line.gap(timedelta(days=1))
            missed, missed_at = await self.appointment(
                actor, plan, cid, AppointmentType.SITE_VISIT, missed_at, title, title_en
            )
            line.at(missed_at + timedelta(hours=1))
            no_show = rng.random() < 0.5
            await update_appointment(
                self.deps,
                actor,
                UpdateAppointment(
                    customer_id=cid,
                    appointment_id=missed,
                    status=AppointmentStatus.NO_SHOW if no_show else AppointmentStatus.CANCELLED,
                    notes="لم يحضر العميل" if no_show else "اعتذر العميل لظرف طارئ",
                ),
            )
            await self.dismiss(
                actor, cid, (ActionType.SITE_VISIT,), "لم تتم المعاينة؛ أعيدت جدولتها"
            )
        visit_at = line.now + line.gap(timedelta(days=2))
        visit_id, visit_at = await self.appointment(
            actor, plan, cid, AppointmentType.SITE_VISIT, visit_at, title, title_en
        )
        await self.stage(actor, cid, Stage.SITE_VISIT, "تم حجز موعد المعاينة")
        line.at(visit_at + timedelta(hours=1))
        await self.appointment_done(actor, cid, visit_id, "أعجب العميل بالعقار")
        await self.finish(actor, cid, (ActionType.SITE_VISIT,), "تمت المعاينة مع العميل")
        await self.interact(
            actor,
            cid,
            InteractionType.SITE_VISIT,
            f"عاين العميل {target.title} وأبدى إعجابه بالتشطيب",
            sentiment=Sentiment.POSITIVE,
            outcome="أعجب العميل بالعقار",
        )
        await self.set_interest(actor, cid, story.interest_ids[0], PropertyInterestStatus.VIEWED)
        for other in story.interest_ids[1:]:
            await self.set_interest(actor, cid, other, PropertyInterestStatus.REJECTED)

    async def negotiate(self, story: _Story, *, final: bool) -> None:
        """An offer on the chosen property."""
        actor, cid = story.actor, story.customer_id
        story.line.tick()
        await self.set_interest(
            actor, cid, story.interest_ids[0], PropertyInterestStatus.OFFER_MADE
        )
        await self.stage(actor, cid, Stage.NEGOTIATION, "قدم العميل عرضاً على السعر")
        await self.interact(
            actor,
            cid,
            InteractionType.CALL,
            "تفاوض على السعر مع المالك؛ العميل يطلب خصماً بسيطاً",
            sentiment=self.rng.choice(list(Sentiment)),
            outcome="بانتظار رد المالك",
            follow_up_days=self.rng.uniform(1, 3) if final else None,
        )

    async def prepare_contract(self, story: _Story, *, final: bool) -> None:
        """The agreed price, the financing, and the documents asked for."""
        rng, plan, actor, cid = self.rng, story.plan, story.actor, story.customer_id
        story.line.tick()
        deal = _money(Decimal(plan.target.price) * Decimal(str(rng.uniform(0.93, 0.99))))
        story.deal = deal
        if rng.random() < 0.65:
            story.financing = Financing(
                bank=rng.choice(_BANKS),
                redf_supported=plan.is_citizen and rng.random() < 0.5,
                pre_approved=True,
                pre_approval_amount=_money(deal * Decimal("0.8")),
                first_home="first_home" in plan.draft.tags,
                is_citizen=plan.is_citizen,
            )
        # An off-plan project's Wafi licence is on record before the down payment (§7).
        wafi = (
            WafiLicence(f"WF-{rng.randrange(10**5):05d}", plan.target.title_en)
            if plan.target.off_plan
            else None
        )
        compliance = (
            KsaCompliance(financing=story.financing, wafi=wafi) if story.financing or wafi else None
        )
        await update_customer(
            self.deps,
            actor,
            UpdateCustomer(
                cid,
                CustomerPatch(
                    total_deal_value=deal,
                    expected_revenue=_money(deal * Decimal("0.025"), 100),
                    ksa_compliance=compliance,
                ),
            ),
        )
        await self.stage(actor, cid, Stage.CONTRACT_PREP, f"تم الاتفاق على السعر {deal:,.0f} ريال")
        if final:
            await self.reminder(
                actor,
                cid,
                self.anchor + timedelta(days=rng.uniform(1, 5)),
                "استلام صورة الهوية وخطاب التمويل",
                ReminderType.DOCUMENT,
            )

    async def await_payment(self, story: _Story, *, final: bool) -> None:
        """Documents received; the down payment is due."""
        actor, cid = story.actor, story.customer_id
        story.line.tick()
        await self.finish(
            actor, cid, (ActionType.DOCUMENT_REQUIRED,), "استلمنا صورة الهوية وخطاب التمويل"
        )
        await self.stage(actor, cid, Stage.DOWN_PAYMENT, "المستندات مكتملة")
        if final:
            await self.reminder(
                actor,
                cid,
                self.anchor + timedelta(days=self.rng.uniform(1, 6)),
                "متابعة سداد الدفعة الأولى",
                ReminderType.PAYMENT,
            )

    async def close(self, story: _Story, *, final: bool) -> None:
        """The down payment is paid (at least the SAMA minimum); the signing is booked."""
        rng, plan, actor, cid = self.rng, story.plan, story.actor, story.customer_id
        story.line.tick()
        deal = story.deal
        minimum = minimum_down_payment(
            deal,
            is_citizen=plan.is_citizen,
            first_home="first_home" in plan.draft.tags,
            redf_supported=bool(story.financing and story.financing.redf_supported),
        )
        # The minimum rounded *up* to the thousand: rounding it to the nearest one could fall
        # below what SAMA's rule (§7, ``sama_down_payment``) requires.
        at_least = (minimum / 1000).to_integral_value(rounding=ROUND_CEILING) * 1000
        paid = max(at_least, _money(deal * Decimal(str(rng.uniform(0.1, 0.3)))))
        await update_customer(
            self.deps, actor, UpdateCustomer(cid, CustomerPatch(paid_amount=min(paid, deal)))
        )
        await self.finish(actor, cid, (ActionType.PAYMENT_DUE,), "تم استلام الدفعة الأولى")
        await self.stage(actor, cid, Stage.CLOSING, "تم سداد الدفعة الأولى")
        if final:
            signing = (self.anchor + timedelta(days=rng.uniform(2, 9))).replace(
                minute=0, second=0, microsecond=0
            )
            await self.appointment(
                actor,
                plan,
                cid,
                AppointmentType.CONTRACT_SIGNING,
                signing,
                "توقيع العقد وإفراغ الصك",
                "Contract signing and title transfer",
            )

    async def hand_over(self, story: _Story, *, final: bool) -> None:
        """After the sale: fully paid, title transferred, keys handed over."""
        plan, actor, cid, line = story.plan, story.actor, story.customer_id, story.line
        line.tick()
        handover = line.now + line.gap(timedelta(days=1))
        handover_id, handover = await self.appointment(
            actor, plan, cid, AppointmentType.HANDOVER, handover, "تسليم المفاتيح", "Key handover"
        )
        line.at(handover + timedelta(hours=1))
        await self.appointment_done(actor, cid, handover_id, "تم التسليم دون ملاحظات")
        await update_customer(
            self.deps, actor, UpdateCustomer(cid, CustomerPatch(paid_amount=story.deal))
        )
        await self.set_interest(actor, cid, story.interest_ids[0], PropertyInterestStatus.PURCHASED)
        await self.stage(actor, cid, Stage.POST_SALE, "تم الإفراغ وتسليم المفاتيح")
        await self.interact(
            actor,
            cid,
            InteractionType.MEETING,
            "تسليم المفاتيح وشرح ضمانات المطور",
            sentiment=Sentiment.POSITIVE,
            outcome="العميل راضٍ",
        )
        await self.reminder(
            actor,
            cid,
            self.anchor + timedelta(days=self.rng.uniform(10, 30)),
            "متابعة رضا العميل بعد السكن",
            ReminderType.FOLLOW_UP,
        )

    async def extras(self, story: _Story) -> None:
        """Reminders and hand-made actions some customers have, whatever their stage."""
        rng, plan, actor, line = self.rng, story.plan, story.actor, story.line
        customer_id = story.customer_id
        roll = rng.random()
        if roll < 0.2:
            line.tick()
            due = line.now + timedelta(hours=rng.uniform(3, 30))
            reminder_id = await self.reminder(
                actor, customer_id, due, "الاتصال بالعميل لتأكيد الاهتمام", ReminderType.CALL
            )
            if due + timedelta(hours=2) < self.anchor:  # it came due: the call was made
                line.at(due + timedelta(hours=1))
                await complete_reminder(
                    self.deps,
                    actor,
                    CompleteReminder(customer_id=customer_id, reminder_id=reminder_id),
                )
        elif roll < 0.35:
            line.tick()
            await self.reminder(
                actor,
                customer_id,
                self.anchor + timedelta(days=rng.uniform(0.5, 10)),
                "إرسال عروض جديدة للعميل",
                ReminderType.FOLLOW_UP,
            )
        if rng.random() < 0.2 and plan.stage is not Stage.POST_SALE:
            line.tick()
            kind = rng.choice([ActionType.CALLBACK_REQUEST, ActionType.AI_RECOMMENDED])
            await create_action(
                self.deps,
                actor,
                CreateAction(
                    customer_id=customer_id,
                    type=kind,
                    title="طلب العميل معاودة الاتصال مساءً"
                    if kind is ActionType.CALLBACK_REQUEST
                    else f"اقتراح: عرض {plan.target.title} على العميل",
                    priority=rng.choice([Priority.MEDIUM, Priority.HIGH]),
                    # Some overdue, some due today, most this week: the inbox's due buckets.
                    due_date=self.anchor + timedelta(days=rng.uniform(-2, 6)),
                ),
            )

    # -- the inbox at the end

    async def settle_actions(self) -> None:
        """Start, snooze, dismiss or complete some of the actions still pending now."""
        self.clock.set(self.anchor - timedelta(minutes=20))
        pending: list[CustomerAction] = []
        page_number = 1
        while True:
            page = await list_actions(
                self.deps,
                self.admin,
                ActionListParams(status=(ActionStatus.PENDING,), limit=100, page=page_number),
            )
            pending.extend(page.items)
            if not page.has_next or not page.items:
                break
            page_number += 1
        # Ids are time-ordered, not seeded: order by what the seed decided.
        pending.sort(key=lambda a: (a.created_at, a.customer_name, a.type.value, a.title))
        self.rng.shuffle(pending)
        plan: list[ActionStatus] = [
            ActionStatus.IN_PROGRESS,
            ActionStatus.SNOOZED,
            ActionStatus.DISMISSED,
            ActionStatus.COMPLETED,
        ]
        for index, action in enumerate(pending):
            if index < len(plan):
                status = plan[index]
            else:
                status = self.rng.choices(
                    [*plan, ActionStatus.PENDING], weights=[20, 12, 8, 10, 50]
                )[0]
            actor = self.actor(action.assigned_to)
            if status is ActionStatus.IN_PROGRESS:
                await start_action(self.deps, actor, StartAction(action_id=action.id))
            elif status is ActionStatus.SNOOZED:
                until = self.anchor + timedelta(days=self.rng.uniform(2, 14))
                await snooze_action(
                    self.deps,
                    actor,
                    SnoozeAction(
                        action_id=action.id,
                        snoozed_until=until.replace(second=0, microsecond=0),
                        notes="العميل مسافر؛ أعاود التواصل بعد عودته",
                    ),
                )
            elif status is ActionStatus.DISMISSED:
                await dismiss_action(
                    self.deps,
                    actor,
                    DismissAction(
                        action_id=action.id,
                        reason=self.rng.choice(
                            [
                                "تم التواصل عبر قناة أخرى",
                                "طلب مكرر",
                                "العميل غير مهتم حالياً",
                            ]
                        ),
                    ),
                )
            elif status is ActionStatus.COMPLETED:
                await complete_action(
                    self.deps, actor, CompleteAction(action_id=action.id, outcome="تمت المتابعة")
                )

    async def action_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in ActionStatus:
            page = await list_actions(
                self.deps, self.admin, ActionListParams(status=(status,), limit=1)
            )
            counts[status.value] = page.total_items or 0
        return counts


async def _customer_count(loader: _Loader) -> int:
    listed = await list_customers(loader.deps, loader.admin, CustomerListParams(limit=1))
    return listed.page.total_items or 0


async def load_demo_data(
    hub: Hub,
    *,
    org: str = DEFAULT_ORGANIZATION,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
) -> DemoSummary:
    """Load the demo organization ``org`` with ``customers`` customers (see the module docs).

    Returns what was loaded; when the demo team already exists, changes nothing and returns a
    summary with ``already_loaded=True``. Raises :class:`DemoDataIncomplete` when an earlier load
    was interrupted, and ``ValueError`` for a customer count below 1.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    loader = _StoryLoader(hub.deps, org, seed)
    team = await loader.existing_team()
    if VIEWER_ID in team:
        return DemoSummary(
            organization_id=org,
            already_loaded=True,
            admin_name=_TEAM[0].name,
            customers=await _customer_count(loader),
        )
    if team & {p.id for p in _TEAM}:
        raise DemoDataIncomplete(
            f"organization {org} holds part of the demo data (an earlier load was interrupted); "
            "load into another organization, or remove the data and run again"
        )
    await loader.create_team(p for p in _TEAM if p.id != VIEWER_ID)
    await loader.create_catalog()
    stages = loader.stages_for(customers)
    cities = loader.cities_for(customers)
    plans = [loader.plan(stage, city) for stage, city in zip(stages, cities, strict=True)]
    for plan in sorted(plans, key=lambda p: p.created_at):
        await loader.story(plan)
    await loader.settle_actions()
    # Rules §9: the demo organization shows the Saudi compliance guards (every agent is
    # licensed; one licence expires within 30 days, a checklist warning).
    await update_organization_settings(
        loader.deps, loader.admin, SettingsPatch(require_fal_licence=True)
    )
    # The viewer last: its presence marks a complete load.
    await loader.create_team(p for p in _TEAM if p.id == VIEWER_ID)
    counts = loader.counts
    return DemoSummary(
        organization_id=org,
        already_loaded=False,
        admin_name=_TEAM[0].name,
        employees=counts["employees"],
        properties=counts["properties"],
        customers=counts["customers"],
        interactions=counts["interactions"],
        appointments=counts["appointments"],
        reminders=counts["reminders"],
        property_interests=counts["property_interests"],
        stages=dict(sorted(loader.stages.items(), key=lambda kv: Stage(kv[0]).rank)),
        cities=dict(loader.cities),
        actions=await loader.action_counts(),
    )

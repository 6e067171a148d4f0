"""The SQL read side on SQLite and PostgreSQL: filters, scope, sorting, pagination, search, stats.

Every expectation is computed in Python from the same objects that were inserted (through the
SQL repositories), so a test fails when SQL and the documented semantics disagree.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import customer_reads, pagination
from customers_hub.adapters.sql.action_reads import SqlActionQueries
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.employee_reads import SqlEmployeeQueries
from customers_hub.adapters.sql.filters import (
    ACTION_FIELDS,
    ACTION_SORTS,
    CUSTOMER_FIELDS,
    CUSTOMER_SORTS,
    check_conditions,
)
from customers_hub.adapters.sql.mappers import facet_value
from customers_hub.adapters.sql.pagination import encode_cursor
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import (
    ActionListQuery,
    Condition,
    CustomerListQuery,
    Op,
    Page,
    PageRequest,
    SearchQuery,
    Sort,
    StatsWindow,
)
from customers_hub.domain import inbox
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    Purpose,
    Role,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import (
    ActionNote,
    Customer,
    CustomerAction,
    Employee,
    Preferences,
    PropertyInterest,
    StageChange,
)
from customers_hub.domain.search_text import (
    normalize_search_text,
    phone_digits,
)

RIYADH = ZoneInfo("Asia/Riyadh")
BASE = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
# 23:30 in Riyadh on 22 January: "today" ends 30 minutes later.
NOW = datetime(2024, 1, 22, 20, 30, tzinfo=UTC)

# --- building and storing data -------------------------------------------------------------------


def history(
    cid: str, created: datetime, moves: Sequence[tuple[Stage, datetime]] = ()
) -> tuple[StageChange, ...]:
    """The system entry at creation, then one entry per (stage, when) move."""
    entries = [
        StageChange(
            id=f"{cid}_h1",
            from_stage=None,
            to_stage=Stage.NEW_LEAD,
            changed_by="System",
            changed_by_id="system",
            changed_at=created,
            auto_generated=True,
        )
    ]
    previous = Stage.NEW_LEAD
    for k, (stage, at) in enumerate(moves, start=2):
        entries.append(
            StageChange(
                id=f"{cid}_h{k}",
                from_stage=previous,
                to_stage=stage,
                changed_by="أحمد",
                changed_by_id="agt_1",
                changed_at=at,
                reason="test",
            )
        )
        previous = stage
    return tuple(entries)


def make_customer(
    org: str,
    n: int,
    *,
    moves: Sequence[tuple[Stage, datetime]] = (),
    interests: int = 0,
    **fields: Any,
) -> Customer:
    """Customer number ``n`` of ``org`` (ids are unique across organizations)."""
    cid = f"{org}_c{n:03d}"
    created = fields.pop("created_at", BASE + timedelta(days=n))
    stage = fields.pop("stage", moves[-1][0] if moves else Stage.NEW_LEAD)
    return Customer(
        id=cid,
        organization_id=org,
        name=fields.pop("name", f"عميل رقم {n}"),
        phone=fields.pop("phone", f"+96650{n:07d}"),
        source=fields.pop("source", CustomerSource.MANUAL),
        stage=stage,
        created_at=created,
        updated_at=fields.pop("updated_at", created),
        stage_history=history(cid, created, moves),
        property_interests=tuple(
            PropertyInterest(
                id=f"{cid}_i{k}",
                property_id=f"prop_{k}",
                status=PropertyInterestStatus.INTERESTED,
                added_at=created + timedelta(minutes=k),
                property_price=Decimal("1500000.00"),
            )
            for k in range(interests)
        ),
        **fields,
    )


def make_action(org: str, n: int, customer: Customer, **fields: Any) -> CustomerAction:
    """Action number ``n`` of ``org`` on ``customer``."""
    created = fields.pop("created_at", BASE + timedelta(days=n % 20, hours=n))
    return CustomerAction(
        id=f"{org}_a{n:03d}",
        organization_id=org,
        customer_id=customer.id,
        customer_name=customer.name,
        type=fields.pop("type", ActionType.FOLLOW_UP),
        title=fields.pop("title", f"متابعة رقم {n}"),
        priority=fields.pop("priority", Priority.MEDIUM),
        status=fields.pop("status", ActionStatus.PENDING),
        source=fields.pop("source", CustomerSource.MANUAL),
        created_at=created,
        updated_at=fields.pop("updated_at", created),
        **fields,
    )


def team(org: str) -> list[Employee]:
    """Two teams: mgr_1 leads agt_1 and agt_2, mgr_2 leads agt_3; an admin; an inactive agent."""
    return [
        Employee("admin_1", org, "مدير النظام", Role.ADMIN, name_en="Admin"),
        Employee("mgr_1", org, "منيرة", Role.SALES_MANAGER, name_en="Munira"),
        Employee("agt_1", org, "أحمد", Role.SALES_AGENT, name_en="Ahmed", manager_id="mgr_1"),
        Employee("agt_2", org, "بدر", Role.SALES_AGENT, name_en="Badr", manager_id="mgr_1"),
        Employee("mgr_2", org, "سالم", Role.SALES_MANAGER, name_en="Salem"),
        Employee("agt_3", org, "تركي", Role.SALES_AGENT, name_en="Turki", manager_id="mgr_2"),
        Employee("agt_off", org, "ثامر", Role.SALES_AGENT, is_active=False, manager_id="mgr_1"),
    ]


async def store(
    engine: AsyncEngine,
    *,
    customers: Sequence[Customer] = (),
    actions: Sequence[CustomerAction] = (),
    employees: Sequence[Employee] = (),
) -> None:
    """Insert through the SQL repositories, in one unit of work."""
    async with SqlUnitOfWork(engine) as uow:
        for employee in employees:
            await uow.employees.save(employee)
        for customer in customers:
            await uow.customers.add(customer)
        await uow.actions.add_many(list(actions))
        await uow.commit()


def everyone(org: str) -> ScopeFilter:
    return ScopeFilter(org, Reach.ALL)


async def customer_ids(
    engine: AsyncEngine,
    org: str,
    conditions: Sequence[Condition] = (),
    *,
    search: str | None = None,
    scope: ScopeFilter | None = None,
    sort: Sort | None = None,
    deleted: bool = False,
) -> list[str]:
    page = await SqlCustomerQueries(engine).list(
        CustomerListQuery(
            scope=scope or everyone(org),
            conditions=tuple(conditions),
            search=search,
            sort=sort or Sort("createdAt", descending=False),
            page=PageRequest(limit=100),
            deleted=deleted,
        )
    )
    return [c.id for c in page.items]


def in_created_order(items: Sequence[Customer]) -> list[str]:
    return [c.id for c in sorted(items, key=lambda c: (c.created_at, c.id))]


# --- the customer data set ------------------------------------------------------------------------

NAMES = (
    ("أحمد العتيبي", "Ahmed Al-Otaibi"),
    ("مُحَمَّد الفهد", "Mohammed Al-Fahd"),
    ("فاطمة الزهراني", "Fatima Al-Zahrani"),
    ("خالد_السبيعي", None),  # a literal underscore: LIKE wildcards must be escaped
    ("سارة 100%", "Sara"),
    ("محمد القحطاني", "Mohammad Al-Qahtani"),
)
CITIES = ("الرياض", "جدة", "الدمام", None)
REGIONS = ("منطقة الرياض", "منطقة مكة المكرمة", "المنطقة الشرقية", None)
AREAS = ("حي النرجس", "حي الملقا", "الروضة")
TAGS: tuple[tuple[str, ...], ...] = (("vip",), ("hot_lead", "cash_buyer"), (), ("VIP ",))
TYPES = (PropertyType.VILLA, PropertyType.APARTMENT, PropertyType.LAND, PropertyType.COMMERCIAL)
ASSIGNEES = (None, "agt_1", "agt_2", "mgr_1", "agt_3")


def varied_customers(org: str, count: int = 24) -> list[Customer]:
    """Customers whose every filterable field varies, with ties and empty values."""
    out: list[Customer] = []
    for n in range(1, count + 1):
        budget_min = None if n % 6 == 0 else Decimal(500_000 + 100_000 * (n % 7))
        budget_max = (
            None
            if n % 4 == 0
            else (budget_min or Decimal(400_000)) + Decimal(250_000 * (n % 3 + 1))
        )
        types = (TYPES[n % 4],) + ((TYPES[(n + 1) % 4],) if n % 3 == 0 else ())
        name, name_en = NAMES[n % len(NAMES)]
        out.append(
            make_customer(
                org,
                n,
                name=name if n <= len(NAMES) else f"{name} {n}",
                name_en=name_en,
                email=None if n % 7 == 0 else f"User{n}@Example.com",
                stage=list(Stage)[n % 9],
                source=list(CustomerSource)[n % 5],
                priority=list(Priority)[n % 4],
                assigned_employee_id=ASSIGNEES[n % 5],
                lead_score=(n * 37) % 101,
                city=CITIES[n % 4],
                region=REGIONS[n % 4],
                tags=TAGS[n % 4],
                created_at=BASE + timedelta(days=n, hours=n % 5),
                last_contact_at=None if n % 5 == 0 else BASE + timedelta(days=n + n % 4),
                total_deal_value=None if n % 3 == 0 else Decimal(1_000_000 + 50_000 * (n % 5)),
                next_follow_up_date=date(2024, 2, 1) + timedelta(days=n % 10),
                preferences=Preferences(
                    property_type=types,
                    budget_min=budget_min,
                    budget_max=budget_max,
                    preferred_areas=(AREAS[n % 3],) if n % 5 else (),
                    preferred_cities=(CITIES[n % 3] or "الرياض",),
                    bedrooms=(n % 6) or None,
                    purpose=list(Purpose)[n % 3],
                    min_area=Decimal(100 + 50 * (n % 4)),
                ),
            )
        )
    return out


def _has_any(values: Sequence[str], wanted: Sequence[str], kind: str) -> bool:
    stored = {facet_value(kind, v) for v in values}
    return bool(stored & {facet_value(kind, w) for w in wanted})


def _budget_reaches(c: Customer, x: Decimal) -> bool:
    lo, hi = c.preferences.budget_min, c.preferences.budget_max
    return (hi is not None and hi >= x) or (hi is None and lo is not None)


def _budget_starts_by(c: Customer, y: Decimal) -> bool:
    lo, hi = c.preferences.budget_min, c.preferences.budget_max
    return (lo is not None and lo <= y) or (lo is None and hi is not None)


def _name_text(c: Customer) -> str:
    return normalize_search_text(f"{c.name} {c.name_en or ''}")


D = Decimal
JAN10 = datetime(2024, 1, 10, tzinfo=UTC)
JAN18 = datetime(2024, 1, 18, tzinfo=UTC)
Pred = Callable[[Customer], bool]

# (id, conditions, the same rule in Python)
CUSTOMER_CASES: list[tuple[str, list[Condition], Pred]] = [
    # The 20 parameters of GET /customers, as the use case maps them.
    (
        "stage",
        [Condition("stage", Op.IN, [Stage.QUALIFIED, Stage.SITE_VISIT])],
        lambda c: c.stage in (Stage.QUALIFIED, Stage.SITE_VISIT),
    ),
    (
        "source",
        [Condition("source", Op.IN, ["inquiry", "whatsapp"])],
        lambda c: c.source in (CustomerSource.INQUIRY, CustomerSource.WHATSAPP),
    ),
    (
        "priority",
        [Condition("priority", Op.IN, [Priority.HIGH, Priority.URGENT])],
        lambda c: c.priority in (Priority.HIGH, Priority.URGENT),
    ),
    (
        "assignedEmployeeId",
        [Condition("assignedEmployeeId", Op.IN, ["agt_1", "agt_2"])],
        lambda c: c.assigned_employee_id in ("agt_1", "agt_2"),
    ),
    (
        "leadScoreMin+Max",
        [Condition("leadScore", Op.GTE, 40), Condition("leadScore", Op.LTE, 80)],
        lambda c: 40 <= c.lead_score <= 80,
    ),
    (
        "budgetMin+Max",
        [Condition("budgetMin", Op.GTE, D(900_000)), Condition("budgetMax", Op.LTE, D(1_000_000))],
        lambda c: _budget_reaches(c, D(900_000)) and _budget_starts_by(c, D(1_000_000)),
    ),
    (
        "budgetMin only",
        [Condition("budgetMin", Op.GTE, D(1_300_000))],
        lambda c: _budget_reaches(c, D(1_300_000)),
    ),
    (
        "propertyType",
        [Condition("preferences.propertyType", Op.IN, [PropertyType.VILLA, "land"])],
        lambda c: bool({PropertyType.VILLA, PropertyType.LAND} & set(c.preferences.property_type)),
    ),
    (
        "preferredAreas (normalized: ى → ي)",
        [Condition("preferences.preferredAreas", Op.IN, ["حى النرجس"])],
        lambda c: _has_any(c.preferences.preferred_areas, ["حي النرجس"], "area"),
    ),
    (
        "city",
        [Condition("city", Op.IN, ["الرياض", "جدة"])],
        lambda c: c.city in ("الرياض", "جدة"),
    ),
    (
        "tags (normalized: case and spaces)",
        [Condition("tags", Op.IN, ["VIP"])],
        lambda c: _has_any(c.tags, ["vip"], "tag"),
    ),
    (
        "createdFrom+To",
        [Condition("createdAt", Op.GTE, JAN10), Condition("createdAt", Op.LTE, JAN18)],
        lambda c: JAN10 <= c.created_at <= JAN18,
    ),
    (
        "lastContactFrom+To",
        [Condition("lastContactAt", Op.GTE, JAN10), Condition("lastContactAt", Op.LTE, JAN18)],
        lambda c: c.last_contact_at is not None and JAN10 <= c.last_contact_at <= JAN18,
    ),
    # Every operator.
    ("eq", [Condition("stage", Op.EQ, "negotiation")], lambda c: c.stage is Stage.NEGOTIATION),
    ("ne", [Condition("stage", Op.NE, Stage.POST_SALE)], lambda c: c.stage is not Stage.POST_SALE),
    (
        "nin",
        [Condition("source", Op.NIN, ["import"])],
        lambda c: c.source is not CustomerSource.IMPORT,
    ),
    ("gt", [Condition("leadScore", Op.GT, 70)], lambda c: c.lead_score > 70),
    ("gte", [Condition("leadScore", Op.GTE, 74)], lambda c: c.lead_score >= 74),
    ("lt", [Condition("leadScore", Op.LT, 50)], lambda c: c.lead_score < 50),
    ("lte", [Condition("leadScore", Op.LTE, 11)], lambda c: c.lead_score <= 11),
    (
        "contains (name, normalized)",
        [Condition("name", Op.CONTAINS, "احمد")],
        lambda c: "احمد" in _name_text(c),
    ),
    (
        "startsWith (phone, national form)",
        [Condition("phone", Op.STARTS_WITH, "05000001")],
        lambda c: c.phone.startswith("+9665000001"),
    ),
    # Ranks, absence, case, escaping, phones.
    (
        "priority gt medium (by rank)",
        [Condition("priority", Op.GT, "medium")],
        lambda c: c.priority.rank > Priority.MEDIUM.rank,
    ),
    (
        "priority lte medium (by rank)",
        [Condition("priority", Op.LTE, Priority.MEDIUM)],
        lambda c: c.priority.rank <= Priority.MEDIUM.rank,
    ),
    (
        "stage gte site_visit (by lifecycle order)",
        [Condition("stage", Op.GTE, "site_visit")],
        lambda c: c.stage.rank >= Stage.SITE_VISIT.rank,
    ),
    (
        "unassigned",
        [Condition("assignedEmployeeId", Op.EQ, None)],
        lambda c: c.assigned_employee_id is None,
    ),
    (
        "ne keeps empty",
        [Condition("assignedEmployeeId", Op.NE, "agt_1")],
        lambda c: c.assigned_employee_id != "agt_1",
    ),
    (
        "nin keeps empty",
        [Condition("city", Op.NIN, ["الرياض"])],
        lambda c: c.city != "الرياض",
    ),
    ("city contains", [Condition("city", Op.CONTAINS, "رياض")], lambda c: "رياض" in (c.city or "")),
    (
        "city startsWith",
        [Condition("city", Op.STARTS_WITH, "جد")],
        lambda c: (c.city or "").startswith("جد"),
    ),
    (
        "name contains a literal underscore",
        [Condition("name", Op.CONTAINS, "_")],
        lambda c: "_" in c.name,
    ),
    (
        "name contains a literal percent",
        [Condition("name", Op.CONTAINS, "%")],
        lambda c: "%" in c.name,
    ),
    (
        "name startsWith (diacritics ignored)",
        [Condition("name", Op.STARTS_WITH, "محمد")],
        lambda c: _name_text(c).startswith("محمد"),
    ),
    (
        "nameEn contains (case-insensitive)",
        [Condition("nameEn", Op.CONTAINS, "FAHD")],
        lambda c: "fahd" in (c.name_en or "").lower(),
    ),
    (
        "phone contains (05… form)",
        [Condition("phone", Op.CONTAINS, "0500000012")],
        lambda c: "500000012" in phone_digits(c.phone),
    ),
    (
        "phone startsWith +9665",
        [Condition("phone", Op.STARTS_WITH, "+96650000000")],
        lambda c: c.phone.startswith("+96650000000"),
    ),
    (
        "phone eq (normalized to E.164)",
        [Condition("phone", Op.EQ, "0500000003")],
        lambda c: c.phone == "+966500000003",
    ),
    (
        "email contains (case-insensitive)",
        [Condition("email", Op.CONTAINS, "USER1")],
        lambda c: "user1" in (c.email or "").lower(),
    ),
    (
        "email eq (case-insensitive)",
        [Condition("email", Op.EQ, "user3@example.COM")],
        lambda c: (c.email or "").lower() == "user3@example.com",
    ),
    (
        "tags nin",
        [Condition("tags", Op.NIN, ["vip", "cash_buyer"])],
        lambda c: not _has_any(c.tags, ["vip", "cash_buyer"], "tag"),
    ),
    (
        "tags eq",
        [Condition("tags", Op.EQ, "hot_lead")],
        lambda c: "hot_lead" in c.tags,
    ),
    (
        "propertyType ne",
        [Condition("preferences.propertyType", Op.NE, "apartment")],
        lambda c: PropertyType.APARTMENT not in c.preferences.property_type,
    ),
    (
        "preferredCities",
        [Condition("preferences.preferredCities", Op.EQ, "جدة")],
        lambda c: "جدة" in c.preferences.preferred_cities,
    ),
    (
        "preferences.budgetMin gte (plain column)",
        [Condition("preferences.budgetMin", Op.GTE, D(800_000))],
        lambda c: c.preferences.budget_min is not None and c.preferences.budget_min >= 800_000,
    ),
    (
        "preferences.budgetMax lt (plain column)",
        [Condition("preferences.budgetMax", Op.LT, D(1_000_000))],
        lambda c: c.preferences.budget_max is not None and c.preferences.budget_max < 1_000_000,
    ),
    (
        "preferences.bedrooms gte (JSON)",
        [Condition("preferences.bedrooms", Op.GTE, 3)],
        lambda c: (c.preferences.bedrooms or 0) >= 3,
    ),
    (
        "preferences.bedrooms absent (JSON null)",
        [Condition("preferences.bedrooms", Op.EQ, None)],
        lambda c: c.preferences.bedrooms is None,
    ),
    (
        "preferences.purpose (JSON enum)",
        [Condition("preferences.purpose", Op.IN, ["rent", Purpose.INVEST])],
        lambda c: c.preferences.purpose in (Purpose.RENT, Purpose.INVEST),
    ),
    (
        "preferences.minArea gt (JSON decimal)",
        [Condition("preferences.minArea", Op.GT, 150)],
        lambda c: (c.preferences.min_area or 0) > 150,
    ),
    (
        "totalDealValue gte",
        [Condition("totalDealValue", Op.GTE, "1100000")],
        lambda c: c.total_deal_value is not None and c.total_deal_value >= 1_100_000,
    ),
    (
        "nextFollowUpDate lte (a date)",
        [Condition("nextFollowUpDate", Op.LTE, date(2024, 2, 3))],
        lambda c: c.next_follow_up_date is not None and c.next_follow_up_date <= date(2024, 2, 3),
    ),
    (
        "id in",
        [Condition("id", Op.IN, [])],
        lambda c: False,
    ),
    (
        "several conditions are ANDed",
        [
            Condition("city", Op.EQ, "الرياض"),
            Condition("leadScore", Op.GTE, 30),
            Condition("preferences.propertyType", Op.NIN, ["villa"]),
        ],
        lambda c: (
            c.city == "الرياض"
            and c.lead_score >= 30
            and PropertyType.VILLA not in c.preferences.property_type
        ),
    ),
]


@pytest.mark.parametrize(
    ("conditions", "rule"),
    [pytest.param(conds, rule, id=name) for name, conds, rule in CUSTOMER_CASES],
)
async def test_customer_filters_match_the_python_rule(
    engine: AsyncEngine, org_id: str, conditions: list[Condition], rule: Pred
) -> None:
    data = varied_customers(org_id)
    await store(engine, customers=data)
    expected = in_created_order([c for c in data if rule(c)])
    got = await customer_ids(engine, org_id, conditions)
    assert got == expected
    # The case is informative: it neither keeps everything nor (mostly) nothing.
    assert len(expected) < len(data)


def test_every_catalog_field_has_a_working_operator() -> None:
    # Compiling is pure: each field accepts its first operator with a value of its type.
    samples: dict[str, object] = {
        "text": "x",
        "enum": None,
        "int": 1,
        "decimal": D(1),
        "datetime": NOW,
        "date": date(2024, 1, 1),
    }
    for catalog in (CUSTOMER_FIELDS, ACTION_FIELDS):
        for path, spec in catalog.items():
            value = (
                next(iter(spec.enum)).value
                if spec.enum is not None
                else samples[spec.value_type.value]
            )
            op = next(o for o in Op if o in spec.ops)
            check_conditions(catalog, [Condition(path, op, value)])


async def test_unknown_fields_bad_operators_and_values_are_refused(
    engine: AsyncEngine, org_id: str
) -> None:
    data = varied_customers(org_id, 5)
    await store(engine, customers=data)
    bad = [
        Condition("foo", Op.EQ, 1),
        Condition("leadScore", Op.CONTAINS, "5"),
        Condition("stage", Op.EQ, "won"),
        Condition("createdAt", Op.GTE, datetime(2024, 1, 1)),  # naive
        Condition("leadScore", Op.GT, "many"),
        Condition("preferences.color", Op.EQ, "red"),
        Condition("tags", Op.GT, "vip"),
        Condition("stage", Op.EQ, ["new_lead", "qualified"]),
        Condition("phone", Op.CONTAINS, "abc"),
    ]
    queries = SqlCustomerQueries(engine)
    with pytest.raises(ValidationFailed) as caught:
        await queries.list(CustomerListQuery(scope=everyone(org_id), conditions=tuple(bad)))
    fields = [e.field for e in caught.value.errors]
    assert fields == [f"filters.{c.field}" for c in bad]
    with pytest.raises(ValidationFailed) as sort_error:
        await queries.list(CustomerListQuery(scope=everyone(org_id), sort=Sort("phone")))
    assert [e.field for e in sort_error.value.errors] == ["sortBy"]
    with pytest.raises(ValidationFailed) as limit_error:
        await queries.list(CustomerListQuery(scope=everyone(org_id), page=PageRequest(limit=101)))
    assert [e.field for e in limit_error.value.errors] == ["limit"]
    with pytest.raises(ValidationFailed) as action_error:
        await SqlActionQueries(engine).list(
            ActionListQuery(
                scope=everyone(org_id),
                now=NOW,
                tz=RIYADH,
                conditions=(Condition("leadScore", Op.GT, 5), Condition("status", Op.EQ, "done")),
            )
        )
    assert [e.field for e in action_error.value.errors] == ["filters.leadScore", "filters.status"]
    # Nothing was changed by the refused requests.
    assert await customer_ids(engine, org_id) == in_created_order(data)


async def test_deleted_customers_are_left_out_unless_asked_for(
    engine: AsyncEngine, org_id: str
) -> None:
    live = make_customer(org_id, 1)
    gone = make_customer(org_id, 2, deleted_at=NOW)
    await store(
        engine,
        customers=[live, gone],
        actions=[make_action(org_id, 1, live), make_action(org_id, 2, gone)],
    )
    assert await customer_ids(engine, org_id) == [live.id]
    assert await customer_ids(engine, org_id, deleted=True) == [gone.id]
    page = await SqlActionQueries(engine).list(
        ActionListQuery(scope=everyone(org_id), now=NOW, tz=RIYADH)
    )
    assert [a.customer_id for a in page.items] == [live.id]


# --- sorting and pagination -----------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[Customer], Any]] = {
    "name": lambda c: c.name,
    "createdAt": lambda c: c.created_at,
    "updatedAt": lambda c: c.updated_at,
    "leadScore": lambda c: c.lead_score,
    "lastContactAt": lambda c: c.last_contact_at,
    "dealValue": lambda c: c.total_deal_value,
    "totalDealValue": lambda c: c.total_deal_value,
    "priority": lambda c: c.priority.rank,
}


def python_order(items: Sequence[Any], key: Callable[[Any], Any], *, descending: bool) -> list[str]:
    """The documented order: by the key (NULLs last either way), then id the same way."""
    present = sorted(
        (i for i in items if key(i) is not None),
        key=lambda i: (key(i), i.id),
        reverse=descending,
    )
    absent = sorted((i for i in items if key(i) is None), key=lambda i: i.id, reverse=descending)
    return [i.id for i in present + absent]


def sortable_customers(org: str) -> list[Customer]:
    """Ties on every field, NULLs on the nullable ones, ids not in creation order."""
    out = []
    for k, n in enumerate((7, 3, 11, 1, 9, 5, 2, 10, 4, 8, 6, 12)):
        out.append(
            make_customer(
                org,
                n,
                name=("بدر", "أحمد", "Zaid", "أحمد")[k % 4],
                lead_score=(50, 70, 50, 90)[k % 4],
                priority=list(Priority)[k % 3],
                created_at=BASE + timedelta(hours=(k * 5) % 7),
                updated_at=BASE + timedelta(hours=k % 3),
                last_contact_at=None if k % 3 == 0 else BASE + timedelta(days=k % 4),
                total_deal_value=None if k % 4 == 1 else D(1_000_000 + 100_000 * (k % 3)),
            )
        )
    return out


def test_the_sort_catalog_is_what_the_tests_cover() -> None:
    assert set(SORT_KEYS) == set(CUSTOMER_SORTS)
    assert set(ACTION_SORT_KEYS) == set(ACTION_SORTS)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_customers_sort_on_every_field(
    engine: AsyncEngine, org_id: str, descending: bool
) -> None:
    data = sortable_customers(org_id)
    await store(engine, customers=data)
    for field, key in SORT_KEYS.items():
        got = await customer_ids(engine, org_id, sort=Sort(field, descending=descending))
        assert got == python_order(data, key, descending=descending), field


async def test_offset_pagination_fills_the_pagination_object(
    engine: AsyncEngine, org_id: str
) -> None:
    data = [make_customer(org_id, n) for n in range(1, 24)]
    await store(engine, customers=data)
    queries = SqlCustomerQueries(engine)
    expected = python_order(data, SORT_KEYS["createdAt"], descending=True)
    seen: list[str] = []
    for number in range(1, 7):
        page = await queries.list(
            CustomerListQuery(scope=everyone(org_id), page=PageRequest(page=number, limit=5))
        )
        assert page.page == number
        assert page.limit == 5
        assert page.total_items == 23
        assert page.total_is_estimate is False
        assert page.has_previous is (number > 1)
        assert page.has_next is (number < 5)
        assert page.next_cursor is None
        seen += [c.id for c in page.items]
    assert seen == expected


@pytest.mark.parametrize(
    "scope",
    [
        ScopeFilter("{org}", Reach.ALL),
        ScopeFilter("{org}", Reach.TEAM, "mgr_1"),
        ScopeFilter("{org}", Reach.TEAM, "mgr_2"),
        ScopeFilter("{org}", Reach.OWN, "agt_1"),
        ScopeFilter("{org}", Reach.NONE),
    ],
    ids=["all", "team", "other-team", "own", "none"],
)
async def test_a_list_without_filters_is_counted_exactly_by_its_counters(
    engine: AsyncEngine,
    org_id: str,
    scope: ScopeFilter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above the cap too, on both databases: the total of a list without filters is the sum of
    the scope's ``listed_stage`` counters, which leave out deleted and restricted customers
    (changed here by plain SQL: the counters follow through their triggers)."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_CAP", 2)
    scope = attrs.evolve(scope, organization_id=org_id)
    holders = ("agt_1", "agt_2", "agt_3", "mgr_1", None)
    data = [
        make_customer(org_id, n, assigned_employee_id=holders[n % len(holders)])
        for n in range(1, 16)
    ]
    await store(engine, customers=data, employees=team(org_id))
    gone, hidden = data[0].id, data[1].id
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE customers SET deleted_at = :at WHERE id = :id"),
            {"at": BASE, "id": gone},
        )
        await conn.execute(
            text("UPDATE customers SET restricted_until = :at WHERE id = :id"),
            {"at": BASE + timedelta(days=3650), "id": hidden},
        )
    listed = await customer_ids(engine, org_id, scope=scope)  # the rows themselves
    assert gone not in listed
    assert hidden not in listed
    with counting(engine) as seen:
        page = await SqlCustomerQueries(engine).list(
            CustomerListQuery(scope=scope, page=PageRequest(limit=2))
        )
    assert (page.total_items, page.total_is_estimate) == (len(listed), False)
    assert page.has_next is (len(listed) > 2)
    # The total rides with the page (its first statement); nothing counts the customers.
    assert "customer_counters" in seen[0]
    assert not any("count(" in sql.lower() or sql.startswith("EXPLAIN") for sql in seen)


@pytest.mark.parametrize("cap", [3, 10_000])
@pytest.mark.parametrize("filtered", [True, False], ids=["filtered", "plain"])
async def test_counts_are_exact_up_to_the_cap_then_estimated_on_postgresql(
    engine: AsyncEngine,
    org_id: str,
    dialect: str,
    cap: int,
    filtered: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A filtered list counts up to the cap, then estimates (PostgreSQL); a list without
    filters sums its counters: exact at any size, on both databases."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_CAP", cap)
    data = [make_customer(org_id, n) for n in range(1, 9)]
    await store(engine, customers=data)
    every = (Condition("leadScore", Op.GTE, 0),) if filtered else ()
    page = await SqlCustomerQueries(engine).list(
        CustomerListQuery(scope=everyone(org_id), conditions=every, page=PageRequest(limit=2))
    )
    assert page.total_items is not None
    if filtered and cap < len(data) and dialect == "postgresql":
        assert page.total_is_estimate is True
        assert page.total_items > cap
    else:
        assert page.total_is_estimate is False
        assert page.total_items == len(data)


async def walk(fetch: Callable[[str], Any], first: str = "") -> tuple[list[list[str]], Page[Any]]:
    """Follow next cursors from ``first``; the pages' ids and the last page."""
    pages: list[list[str]] = []
    page = await fetch(first)
    while True:
        pages.append([i.id for i in page.items])
        if not page.has_next:
            return pages, page
        assert page.next_cursor is not None
        page = await fetch(page.next_cursor)


@pytest.mark.parametrize("limit", [1, 3, 5])
async def test_cursor_pagination_walks_forwards_and_backwards(
    engine: AsyncEngine, org_id: str, limit: int
) -> None:
    data = sortable_customers(org_id)
    await store(engine, customers=data)
    queries = SqlCustomerQueries(engine)
    for field in ("lastContactAt", "dealValue", "name", "leadScore", "priority", "createdAt"):
        for descending in (False, True):
            sort = Sort(field, descending=descending)
            expected = python_order(data, SORT_KEYS[field], descending=descending)

            async def fetch(cursor: str, sort: Sort = sort) -> Page[Customer]:
                return await queries.list(
                    CustomerListQuery(
                        scope=everyone(org_id),
                        sort=sort,
                        page=PageRequest(limit=limit, cursor=cursor),
                    )
                )

            forward, last = await walk(fetch)
            assert [i for p in forward for i in p] == expected, (field, descending)
            assert all(len(p) == limit for p in forward[:-1])
            assert forward[0]
            assert not (await fetch("")).has_previous
            # Backwards from the last page, following prev cursors.
            backward = [[c.id for c in last.items]]
            page = last
            while page.has_previous:
                assert page.prev_cursor is not None
                page = await fetch(page.prev_cursor)
                backward.append([c.id for c in page.items])
            assert [i for p in reversed(backward) for i in p] == expected, (field, descending)
            assert page.prev_cursor is None
            assert page.has_next is (len(expected) > limit)


async def test_an_empty_page_past_the_end_leads_back(engine: AsyncEngine, org_id: str) -> None:
    data = [make_customer(org_id, n) for n in range(1, 4)]
    await store(engine, customers=data)
    queries = SqlCustomerQueries(engine)
    last = data[-1]
    cursor = encode_cursor("createdAt", False, last.created_at, last.id, after=True)
    page = await queries.list(
        CustomerListQuery(
            scope=everyone(org_id),
            sort=Sort("createdAt", descending=False),
            page=PageRequest(limit=2, cursor=cursor),
        )
    )
    assert page.items == []
    assert page.has_next is False
    assert page.has_previous is True
    assert page.prev_cursor is not None
    back = await queries.list(
        CustomerListQuery(
            scope=everyone(org_id),
            sort=Sort("createdAt", descending=False),
            page=PageRequest(limit=2, cursor=page.prev_cursor),
        )
    )
    assert [c.id for c in back.items] == [data[1].id, data[2].id]


async def test_bad_cursors_are_refused(engine: AsyncEngine, org_id: str) -> None:
    await store(engine, customers=[make_customer(org_id, 1)])
    queries = SqlCustomerQueries(engine)
    made_for_name = encode_cursor("name", False, "x", "id", after=True)
    for cursor in ("%%%", "bm90IGpzb24", made_for_name):
        with pytest.raises(ValidationFailed) as caught:
            await queries.list(
                CustomerListQuery(
                    scope=everyone(org_id),
                    sort=Sort("createdAt", descending=True),
                    page=PageRequest(cursor=cursor),
                )
            )
        assert [e.field for e in caught.value.errors] == ["cursor"]


# --- scope ----------------------------------------------------------------------------------------


async def test_scope_is_applied_in_sql(engine: AsyncEngine, org_id: str) -> None:
    other_org = org_id + "_other"
    owners = {1: "agt_1", 2: "agt_2", 3: "mgr_1", 4: "agt_3", 5: "mgr_2", 6: None, 7: "agt_x"}
    data = [make_customer(org_id, n, assigned_employee_id=a) for n, a in owners.items()]
    foreign = make_customer(other_org, 1, assigned_employee_id="agt_1")
    # In the other organization agt_x reports to mgr_1: that must not widen mgr_1's team here.
    outsider = Employee("agt_x", other_org, "غريب", Role.SALES_AGENT, manager_id="mgr_1")
    await store(engine, customers=[*data, foreign], employees=[*team(org_id), outsider])
    by_owner = {a: c.id for c, a in zip(data, owners.values(), strict=True)}

    def scope(kind: Reach, who: str | None = None) -> ScopeFilter:
        return ScopeFilter(org_id, kind, who)

    assert await customer_ids(engine, org_id, scope=scope(Reach.ALL)) == [c.id for c in data]
    assert await customer_ids(engine, org_id, scope=scope(Reach.TEAM, "mgr_1")) == [
        by_owner["agt_1"],
        by_owner["agt_2"],
        by_owner["mgr_1"],
    ]
    assert await customer_ids(engine, org_id, scope=scope(Reach.OWN, "agt_1")) == [
        by_owner["agt_1"]
    ]
    assert await customer_ids(engine, org_id, scope=scope(Reach.NONE)) == []
    assert await customer_ids(engine, other_org) == [foreign.id]

    # Actions: the action's assignee or its customer's assignee puts it in scope.
    actions = [
        make_action(org_id, 1, data[3], assigned_to="agt_1"),  # agt_3's customer, agt_1's action
        make_action(org_id, 2, data[0], assigned_to="agt_3"),  # agt_1's customer, agt_3's action
        make_action(org_id, 3, data[4], assigned_to="mgr_2"),
        make_action(org_id, 4, data[5], assigned_to=None),  # unassigned customer and action
    ]
    await store(engine, actions=actions)
    action_queries = SqlActionQueries(engine)

    async def action_ids(s: ScopeFilter) -> list[str]:
        page = await action_queries.list(
            ActionListQuery(scope=s, now=NOW, tz=RIYADH, sort=Sort("createdAt", False))
        )
        return sorted(a.id for a in page.items)

    ids = [a.id for a in actions]
    assert await action_ids(scope(Reach.ALL)) == sorted(ids)
    assert await action_ids(scope(Reach.OWN, "agt_1")) == sorted(ids[:2])
    assert await action_ids(scope(Reach.OWN, "agt_3")) == sorted(ids[:2])
    assert await action_ids(scope(Reach.TEAM, "mgr_1")) == sorted(ids[:2])
    assert await action_ids(scope(Reach.TEAM, "mgr_2")) == sorted(ids[:3])
    assert await action_ids(scope(Reach.NONE)) == []


# --- actions --------------------------------------------------------------------------------------

APred = Callable[[CustomerAction], bool]


def action_world(org: str) -> tuple[list[Customer], list[CustomerAction]]:
    """Customers with cities, regions, budgets and types; actions of every kind around NOW."""
    customers = [
        make_customer(
            org,
            n,
            name=("أحمد العتيبي", "مُحَمَّد الفهد", "فاطمة الزهراني", "سارة")[n % 4],
            city=CITIES[n % 4],
            region=REGIONS[n % 4],
            assigned_employee_id=("agt_1", "agt_2", None)[n % 3],
            preferences=Preferences(
                property_type=(TYPES[n % 4],),
                budget_min=None if n % 3 == 0 else D(400_000 * n),
                budget_max=None if n % 5 == 0 else D(400_000 * n + 600_000),
            ),
        )
        for n in range(1, 7)
    ]
    riyadh_midnight = datetime(2024, 1, 22, 21, 0, tzinfo=UTC)  # 00:00 on 23 Jan in Riyadh
    dues = [
        None,
        NOW - timedelta(days=2),
        riyadh_midnight - timedelta(minutes=1),  # today, 23:59 local
        riyadh_midnight + timedelta(minutes=1),  # tomorrow 00:01 local: week, not today
        riyadh_midnight - timedelta(days=1, minutes=1),  # yesterday 23:59 local: overdue
        NOW + timedelta(days=6),
        NOW + timedelta(days=9),
        NOW - timedelta(minutes=5),  # overdue and still today
    ]
    statuses = [
        (ActionStatus.PENDING, None),
        (ActionStatus.IN_PROGRESS, None),
        (ActionStatus.SNOOZED, NOW - timedelta(hours=1)),  # passed: effectively pending
        (ActionStatus.SNOOZED, NOW + timedelta(days=2)),
        (ActionStatus.COMPLETED, None),
        (ActionStatus.DISMISSED, None),
    ]
    actions = []
    for n in range(1, 31):
        status, until = statuses[n % 6]
        customer = customers[n % 6]
        created = NOW - timedelta(days=n % 9, hours=n)
        actions.append(
            make_action(
                org,
                n,
                customer,
                type=list(ActionType)[n % 9],
                title=("اتصال بالعميل", "إرسال عروض فلل", "معاينة شقة")[n % 3],
                description="العميل يبحث عن فيلا في حي النرجس" if n % 4 == 0 else None,
                priority=list(Priority)[n % 4],
                status=status,
                snoozed_until=until,
                source=list(CustomerSource)[n % 5],
                assigned_to=("agt_1", "agt_2", None, "agt_3")[n % 4],
                due_date=dues[n % 8],
                created_at=created,
                updated_at=created,
                completed_at=created + timedelta(hours=n % 5 + 1)
                if status is ActionStatus.COMPLETED
                else None,
                completed_by="agt_1" if status is ActionStatus.COMPLETED else None,
                dismiss_reason="duplicate" if status is ActionStatus.DISMISSED else None,
            )
        )
    return customers, actions


def _eff(a: CustomerAction) -> ActionStatus:
    return inbox.effective_status(a, NOW)


def action_cases(customers: Sequence[Customer]) -> list[tuple[str, list[Condition], Any, APred]]:
    """(id, conditions, due bucket, rule) for the 17 parameters of GET /customers/actions."""
    by_id = {c.id: c for c in customers}

    def cust(a: CustomerAction) -> Customer:
        return by_id[a.customer_id]

    first = customers[0].id
    cases: list[tuple[str, list[Condition], Any, APred]] = [
        (
            "customerId",
            [Condition("customerId", Op.EQ, first)],
            None,
            lambda a: a.customer_id == first,
        ),
        (
            "status pending (a passed snooze counts)",
            [Condition("status", Op.IN, ["pending"])],
            None,
            lambda a: _eff(a) is ActionStatus.PENDING,
        ),
        (
            "status snoozed (still asleep)",
            [Condition("status", Op.EQ, ActionStatus.SNOOZED)],
            None,
            lambda a: _eff(a) is ActionStatus.SNOOZED,
        ),
        (
            "status nin",
            [Condition("status", Op.NIN, ["pending", "completed"])],
            None,
            lambda a: _eff(a) not in (ActionStatus.PENDING, ActionStatus.COMPLETED),
        ),
        (
            "type",
            [Condition("type", Op.IN, ["new_inquiry", "callback_request"])],
            None,
            lambda a: a.type in (ActionType.NEW_INQUIRY, ActionType.CALLBACK_REQUEST),
        ),
        (
            "priority",
            [Condition("priority", Op.IN, ["high", "urgent"])],
            None,
            lambda a: a.priority in (Priority.HIGH, Priority.URGENT),
        ),
        (
            "source",
            [Condition("source", Op.IN, ["whatsapp"])],
            None,
            lambda a: a.source is CustomerSource.WHATSAPP,
        ),
        (
            "assignedTo",
            [Condition("assignedTo", Op.IN, ["agt_1", "agt_3"])],
            None,
            lambda a: a.assigned_to in ("agt_1", "agt_3"),
        ),
        (
            "city",
            [Condition("city", Op.IN, ["الرياض", "جدة"])],
            None,
            lambda a: cust(a).city in ("الرياض", "جدة"),
        ),
        (
            "state",
            [Condition("state", Op.IN, ["منطقة الرياض"])],
            None,
            lambda a: cust(a).region == "منطقة الرياض",
        ),
        (
            "budgetMin",
            [Condition("budgetMin", Op.GTE, D(1_500_000))],
            None,
            lambda a: _budget_reaches(cust(a), D(1_500_000)),
        ),
        (
            "budgetMax",
            [Condition("budgetMax", Op.LTE, D(1_000_000))],
            None,
            lambda a: _budget_starts_by(cust(a), D(1_000_000)),
        ),
        (
            "propertyType",
            [Condition("propertyType", Op.IN, ["villa", "land"])],
            None,
            lambda a: bool(
                {PropertyType.VILLA, PropertyType.LAND} & set(cust(a).preferences.property_type)
            ),
        ),
        (
            "search (customer name, normalized)",
            [],
            None,
            lambda a: "احمد" in normalize_search_text(a.customer_name),
        ),
    ]

    def in_bucket(bucket: DueDateBucket) -> APred:
        return lambda a: inbox.in_bucket(a, bucket, NOW, RIYADH)

    cases += [(f"dueDate={b.value}", [], b, in_bucket(b)) for b in DueDateBucket]
    return cases


async def test_action_filters_match_the_python_rules(engine: AsyncEngine, org_id: str) -> None:
    customers, actions = action_world(org_id)
    await store(engine, customers=customers, actions=actions)
    queries = SqlActionQueries(engine)
    for name, conditions, bucket, rule in action_cases(customers):
        page = await queries.list(
            ActionListQuery(
                scope=everyone(org_id),
                now=NOW,
                tz=RIYADH,
                conditions=tuple(conditions),
                due_bucket=bucket,
                search="احمد" if name.startswith("search") else None,
                sort=Sort("createdAt", descending=False),
                page=PageRequest(limit=100),
            )
        )
        expected = python_order(
            [a for a in actions if rule(a)], lambda a: a.created_at, descending=False
        )
        assert [a.id for a in page.items] == expected, name
        assert 0 < len(expected) < len(actions), name


async def test_a_passed_snooze_is_returned_as_pending(engine: AsyncEngine, org_id: str) -> None:
    customer = make_customer(org_id, 1)
    woken = make_action(
        org_id, 1, customer, status=ActionStatus.SNOOZED, snoozed_until=NOW - timedelta(seconds=1)
    )
    asleep = make_action(
        org_id, 2, customer, status=ActionStatus.SNOOZED, snoozed_until=NOW + timedelta(seconds=1)
    )
    await store(engine, customers=[customer], actions=[woken, asleep])
    page = await SqlActionQueries(engine).list(
        ActionListQuery(scope=everyone(org_id), now=NOW, tz=RIYADH, sort=Sort("createdAt", False))
    )
    got = {a.id: a for a in page.items}
    assert got[woken.id].status is ActionStatus.PENDING
    assert got[woken.id].snoozed_until is None
    assert got[woken.id].version == woken.version
    assert got[asleep.id] == asleep


ACTION_SORT_KEYS: dict[str, Callable[[CustomerAction], Any]] = {
    "createdAt": lambda a: a.created_at,
    "updatedAt": lambda a: a.updated_at,
    "dueDate": lambda a: a.due_date,
    "priority": lambda a: a.priority.rank,
}


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_actions_sort_and_walk_by_cursor(
    engine: AsyncEngine, org_id: str, descending: bool
) -> None:
    customers, actions = action_world(org_id)
    await store(engine, customers=customers, actions=actions)
    queries = SqlActionQueries(engine)
    for field, key in ACTION_SORT_KEYS.items():
        sort = Sort(field, descending=descending)
        expected = python_order(actions, key, descending=descending)
        page = await queries.list(
            ActionListQuery(
                scope=everyone(org_id), now=NOW, tz=RIYADH, sort=sort, page=PageRequest(limit=100)
            )
        )
        assert [a.id for a in page.items] == expected, field

        async def fetch(cursor: str, sort: Sort = sort) -> Page[CustomerAction]:
            return await queries.list(
                ActionListQuery(
                    scope=everyone(org_id),
                    now=NOW,
                    tz=RIYADH,
                    sort=sort,
                    page=PageRequest(limit=7, cursor=cursor),
                )
            )

        pages, _ = await walk(fetch)
        assert [i for p in pages for i in p] == expected, field


# --- search ---------------------------------------------------------------------------------------


@pytest.fixture
async def trigrams(engine: AsyncEngine) -> None:
    """pg_trgm on PostgreSQL (the migrations install it; the test schema is create_all)."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))


def search_people(org: str) -> list[Customer]:
    return [
        make_customer(
            org, 1, name="أحمد العتيبي", name_en="Ahmed Al-Otaibi", phone="+966512345678"
        ),
        make_customer(org, 2, name="مُحَمَّد الفهد", name_en="Mohammed Al-Fahd"),
        make_customer(org, 3, name="محمد", email="m.q@example.com"),
        make_customer(org, 4, name="عبدالله محمدي"),
        make_customer(org, 5, name="فاطمة", email="fatima.ahmad@example.com"),
        make_customer(org, 6, name="سارة", name_en="Sara Mohammed", deleted_at=NOW),
    ]


async def test_list_search_normalizes_arabic_and_phones(engine: AsyncEngine, org_id: str) -> None:
    people = search_people(org_id)
    await store(engine, customers=people)
    ids = {n: people[n - 1].id for n in range(1, 7)}
    assert await customer_ids(engine, org_id, search="احمد") == [ids[1]]
    assert await customer_ids(engine, org_id, search="محمد") == [ids[2], ids[3], ids[4]]
    assert await customer_ids(engine, org_id, search="الفهد مُحمّد") == [ids[2]]
    assert await customer_ids(engine, org_id, search="0512345678") == [ids[1]]
    assert await customer_ids(engine, org_id, search="٠٥١٢٣٤٥") == [ids[1]]
    assert await customer_ids(engine, org_id, search="+966 51 234") == [ids[1]]
    assert await customer_ids(engine, org_id, search="FATIMA.A") == [ids[5]]
    assert await customer_ids(engine, org_id, search="otaibi") == [ids[1]]
    assert await customer_ids(engine, org_id, search="  ") == [people[k].id for k in range(5)]
    assert await customer_ids(engine, org_id, search="%") == []


async def test_search_scores_matches_and_counts(
    engine: AsyncEngine, org_id: str, trigrams: None
) -> None:
    people = search_people(org_id)
    await store(engine, customers=people)
    queries = SqlCustomerQueries(engine)
    result = await queries.search(SearchQuery(scope=everyone(org_id), text="محمد"))
    assert result.total == 3
    ranked = [(h.item.id, h.score, h.matched_fields) for h in result.hits]
    # exact (محمد) > prefix (مُحَمَّد الفهد) > word prefix (… محمدي)
    assert ranked == [
        (people[2].id, 1.0, ("name",)),
        (people[1].id, 0.9, ("name",)),
        (people[3].id, 0.8, ("name",)),
    ]
    assert result.hits[0].item.stage_history == people[2].stage_history

    phone = await queries.search(SearchQuery(scope=everyone(org_id), text="0512345678"))
    assert [(h.item.id, h.score, h.matched_fields) for h in phone.hits] == [
        (people[0].id, 1.0, ("phone",))
    ]
    english = await queries.search(SearchQuery(scope=everyone(org_id), text="mohammed"))
    assert [(h.item.id, h.matched_fields) for h in english.hits] == [(people[1].id, ("nameEn",))]
    # Without fuzzy matching "ahmad" is only in an email; with it PostgreSQL also finds "ahmed",
    # ranked below the literal match.
    email = await queries.search(SearchQuery(scope=everyone(org_id), text="ahmad", fuzzy=False))
    assert [(h.item.id, h.matched_fields) for h in email.hits] == [(people[4].id, ("email",))]
    loose = await queries.search(SearchQuery(scope=everyone(org_id), text="ahmad"))
    assert loose.hits[0].item.id == people[4].id
    assert all(h.score < loose.hits[0].score for h in loose.hits[1:])
    limited = await queries.search(SearchQuery(scope=everyone(org_id), text="محمد", limit=1))
    assert [h.item.id for h in limited.hits] == [people[2].id]
    assert limited.total == 3
    narrowed = await queries.search(
        SearchQuery(
            scope=everyone(org_id),
            text="محمد",
            conditions=(Condition("id", Op.NE, people[2].id),),
        )
    )
    assert narrowed.total == 2
    own = await queries.search(
        SearchQuery(scope=ScopeFilter(org_id, Reach.OWN, "agt_1"), text="محمد")
    )
    assert own.total == 0
    assert own.hits == []


async def test_fuzzy_search_uses_trigrams_on_postgresql_only(
    engine: AsyncEngine, org_id: str, dialect: str, trigrams: None
) -> None:
    people = search_people(org_id)
    await store(engine, customers=people)
    queries = SqlCustomerQueries(engine)
    typo = "mohamed al-fahd"  # one m, e for a
    fuzzy = await queries.search(SearchQuery(scope=everyone(org_id), text=typo, fuzzy=True))
    strict = await queries.search(SearchQuery(scope=everyone(org_id), text=typo, fuzzy=False))
    assert strict.total == 0
    if dialect == "postgresql":
        assert [h.item.id for h in fuzzy.hits] == [people[1].id]
        assert 0 < fuzzy.hits[0].score <= 0.5
    else:
        assert fuzzy.total == 0


async def test_a_search_with_more_matches_than_it_scores_keeps_exact_and_prefix_first(
    engine: AsyncEngine, org_id: str, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded search (issue 9): past SEARCH_CANDIDATES matches the exact and prefix tiers are
    still read in full through their index ranges, and the total says it is an estimate."""
    monkeypatch.setattr(customer_reads, "SEARCH_CANDIDATES", 4)
    crowd = [make_customer(org_id, n, name=f"سعيد محمد {n}") for n in range(10, 22)]
    exact = make_customer(org_id, 1, name="محمد")
    prefix = make_customer(org_id, 2, name="مُحَمَّد الفهد")
    await store(engine, customers=[*crowd, exact, prefix])
    queries = SqlCustomerQueries(engine)
    with counting(engine) as seen:
        result = await queries.search(
            SearchQuery(scope=everyone(org_id), text="محمد", limit=5, fuzzy=False)
        )
    assert [h.item.id for h in result.hits[:2]] == [exact.id, prefix.id]
    assert [h.score for h in result.hits] == [1.0, 0.9, 0.8, 0.8, 0.8]
    assert {h.item.id for h in result.hits[2:]} <= {c.id for c in crowd}
    if dialect == "postgresql":
        assert result.total_is_estimate is True
        assert result.total > 4
        assert any(sql.startswith("EXPLAIN") for sql in seen)
        with counting(engine) as again:  # the same search within the memo's ttl
            repeated = await queries.search(
                SearchQuery(scope=everyone(org_id), text="محمد", limit=5, fuzzy=False)
            )
        assert (repeated.total, repeated.total_is_estimate) == (result.total, True)
        assert not any(sql.startswith("EXPLAIN") for sql in again)
    else:  # the embedded database counts exactly, as lists do
        assert (result.total, result.total_is_estimate) == (14, False)
    # The prefix tier is a range an index seeks to, not a LIKE scan of every name.
    page_sql = next(sql for sql in seen if "_candidates" in sql)
    assert "customers.name_search >= " in page_sql
    assert "customers.name_search < " in page_sql
    # Under the cap nothing is estimated and every match is ranked.
    monkeypatch.setattr(customer_reads, "SEARCH_CANDIDATES", 500)
    whole = await queries.search(SearchQuery(scope=everyone(org_id), text="محمد", fuzzy=False))
    assert (whole.total, whole.total_is_estimate) == (14, False)
    assert [h.score for h in whole.hits] == [1.0, 0.9] + [0.8] * 12


async def test_search_texts_are_sent_as_literals_and_still_match_literally(
    engine: AsyncEngine, org_id: str, dialect: str
) -> None:
    """The search's patterns are literals in the SQL sent (no generic plan can lose them): a
    quote, ``%``, ``_``, a backslash or a psycopg placeholder in the text is matched as itself."""
    odd = make_customer(org_id, 1, name="O'Neil 100%_x\\y %(p)s")
    near = make_customer(org_id, 2, name="ONeil 1000 axy pp")
    await store(engine, customers=[odd, near])
    queries = SqlCustomerQueries(engine)
    for text_ in ("O'Neil", "100%_x", "x\\y", "%(p)s", "_x\\"):
        with counting(engine) as seen:
            found = await queries.search(
                SearchQuery(scope=everyone(org_id), text=text_, fuzzy=False)
            )
        assert [h.item.id for h in found.hits] == [odd.id], text_
        page_sql = next(sql for sql in seen if "_candidates" in sql)
        assert "LIKE '" in page_sql, dialect  # the pattern is in the text, not a parameter
    nothing = await queries.search(SearchQuery(scope=everyone(org_id), text="100%x", fuzzy=False))
    assert nothing.hits == []
    # The list's search= and a contains filter: the same literal patterns, the same matches.
    for text_ in ("O'Neil", "100%_x", "x\\y", "%(p)s"):
        with counting(engine) as seen:
            assert await customer_ids(engine, org_id, search=text_) == [odd.id], text_
        assert any("LIKE '" in sql for sql in seen), dialect
        named = [Condition("name", Op.CONTAINS, text_)]
        assert await customer_ids(engine, org_id, named) == [odd.id], text_
    assert await customer_ids(engine, org_id, search="100%x") == []


async def test_bad_search_input_is_refused(engine: AsyncEngine, org_id: str) -> None:
    queries = SqlCustomerQueries(engine)
    for bad, field in (
        (SearchQuery(everyone(org_id), " \u064e "), "query"),
        (SearchQuery(everyone(org_id), "x", limit=0), "limit"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            await queries.search(bad)
        assert [e.field for e in caught.value.errors] == [field]


# --- statistics and options -----------------------------------------------------------------------


# Statistics are taken on 10 March: "this month" is March and "this year" 2024, in Riyadh.
STATS_NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
CLOSES = {
    4: datetime(2023, 11, 20, 8, tzinfo=UTC),  # last year
    8: datetime(2024, 1, 15, 8, tzinfo=UTC),  # this year
    12: datetime(2024, 3, 2, 8, tzinfo=UTC),  # this month
    14: datetime(2024, 2, 29, 21, 30, tzinfo=UTC),  # 1 March 00:30 in Riyadh: this month
}


def stats_customers(org: str) -> list[Customer]:
    """Customers with known scores, money, contacts and closes (some this month, some before)."""
    out = []
    for n in range(1, 16):
        created = datetime(2023, 10, 1, tzinfo=UTC) + timedelta(days=10 * n)
        if n == 13:
            created = datetime(2024, 2, 29, 22, 0, tzinfo=UTC)  # 1 March 01:00 in Riyadh
        moves: list[tuple[Stage, datetime]] = []
        if n in CLOSES:
            moves = [(Stage.QUALIFIED, created + timedelta(days=1)), (Stage.CLOSING, CLOSES[n])]
            if n == 8:
                moves.append((Stage.POST_SALE, CLOSES[n] + timedelta(days=2)))
        elif n % 3 == 0:
            moves = [(Stage.QUALIFIED, created + timedelta(hours=5))]
        out.append(
            make_customer(
                org,
                n,
                moves=moves,
                created_at=created,
                source=list(CustomerSource)[n % 5],
                priority=list(Priority)[n % 4],
                lead_score=(n * 29) % 101,
                assigned_employee_id=("agt_1", "agt_2", None)[n % 3],
                city=CITIES[n % 4],
                total_deal_value=None if n % 2 else D(1_000_000 + 10_000 * n) + D("0.50"),
                expected_revenue=None if n % 2 else D(20_000 + n),
                last_contact_at=None if n % 5 == 0 else STATS_NOW - timedelta(days=4 * n),
                total_interactions=n % 7,
                response_rate=None if n % 3 == 0 else 50 + n,
                preferences=Preferences(property_type=(TYPES[n % 4],)),
            )
        )
    return out


async def test_customer_stats_agree_with_python(engine: AsyncEngine, org_id: str) -> None:
    data = stats_customers(org_id)
    gone = make_customer(org_id, 99, deleted_at=NOW, lead_score=100)
    await store(engine, customers=[*data, gone])
    window = StatsWindow(now=STATS_NOW, tz=RIYADH)
    stats = await SqlCustomerQueries(engine).stats(everyone(org_id), window, None)

    assert stats.total == len(data)
    assert stats.by_stage == {s.value: sum(c.stage is s for c in data) for s in Stage}
    assert stats.by_source == {s.value: sum(c.source is s for c in data) for s in CustomerSource}
    assert stats.by_priority == {p.value: sum(c.priority is p for c in data) for p in Priority}
    scores = [c.lead_score for c in data]
    assert stats.lead_scores == {
        "avg": round(statistics.mean(scores), 1),
        "median": statistics.median(scores),
        "above80": sum(s >= 80 for s in scores),
        "60to80": sum(60 <= s < 80 for s in scores),
        "40to60": sum(40 <= s < 60 for s in scores),
        "below40": sum(s < 40 for s in scores),
    }
    deals: list[Decimal] = [c.total_deal_value for c in data if c.total_deal_value is not None]
    assert stats.financial == {
        "totalDealValue": sum(deals),
        "totalExpectedRevenue": sum(c.expected_revenue or 0 for c in data),
        "avgDealSize": (sum(deals, D(0)) / len(deals)).quantize(D("0.01")),
    }
    closes = {
        c.id: min(
            h.changed_at for h in c.stage_history if h.to_stage in (Stage.CLOSING, Stage.POST_SALE)
        )
        for c in data
        if any(h.to_stage is Stage.CLOSING for h in c.stage_history)
    }
    by_id = {c.id: c for c in data}
    month = inbox.month_bounds(STATS_NOW, RIYADH)
    year_start = datetime(2023, 12, 31, 21, tzinfo=UTC)  # 1 Jan 2024 00:00 in Riyadh
    assert stats.conversion == {
        "conversionRate": round(
            100 * sum(c.stage in (Stage.CLOSING, Stage.POST_SALE) for c in data) / len(data), 1
        ),
        "avgDaysInPipeline": round(
            statistics.mean(
                (at - by_id[cid].created_at).total_seconds() / 86400 for cid, at in closes.items()
            ),
            1,
        ),
        "closedThisMonth": sum(month[0] <= at < month[1] for at in closes.values()),
        "closedThisYear": sum(at >= year_start for at in closes.values()),
    }
    assert (stats.conversion["closedThisMonth"], stats.conversion["closedThisYear"]) == (2, 3)
    assert stats.engagement["newThisMonth"] == 1
    rates = [c.response_rate for c in data if c.response_rate is not None]
    assert stats.engagement == {
        "activeCustomers": sum(
            c.last_contact_at is not None and c.last_contact_at >= STATS_NOW - timedelta(days=30)
            for c in data
        ),
        "newThisMonth": sum(month[0] <= c.created_at < month[1] for c in data),
        "avgInteractions": round(statistics.mean(c.total_interactions for c in data), 1),
        "avgResponseRate": round(statistics.mean(rates), 1),
    }
    assert stats.grouped is None


async def test_customer_stats_group_window_and_scope(engine: AsyncEngine, org_id: str) -> None:
    data = stats_customers(org_id)
    await store(engine, customers=data, employees=team(org_id))
    queries = SqlCustomerQueries(engine)
    window = StatsWindow(now=NOW, tz=RIYADH)
    by_employee = await queries.stats(everyone(org_id), window, "employee")
    expected: dict[str, int] = {}
    for c in data:
        key = c.assigned_employee_id or "unassigned"
        expected[key] = expected.get(key, 0) + 1
    assert by_employee.grouped == expected
    by_city = await queries.stats(everyone(org_id), window, "city")
    cities: dict[str, int] = {}
    for c in data:
        cities[c.city or "unknown"] = cities.get(c.city or "unknown", 0) + 1
    assert by_city.grouped == cities
    by_stage = await queries.stats(everyone(org_id), window, "stage")
    assert by_stage.grouped == by_stage.by_stage
    # The date window keeps customers created within it.
    start, end = datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    windowed = await queries.stats(
        everyone(org_id), StatsWindow(now=NOW, tz=RIYADH, date_from=start, date_to=end), None
    )
    assert windowed.total == sum(start <= c.created_at <= end for c in data)
    # An agent's statistics count their own customers only.
    own = await queries.stats(ScopeFilter(org_id, Reach.OWN, "agt_1"), window, None)
    assert own.total == sum(c.assigned_employee_id == "agt_1" for c in data)
    with pytest.raises(ValidationFailed) as caught:
        await queries.stats(everyone(org_id), window, "color")
    assert [e.field for e in caught.value.errors] == ["groupBy"]


async def test_action_stats_agree_with_python(engine: AsyncEngine, org_id: str) -> None:
    customers, actions = action_world(org_id)
    responded = actions[0]
    note = ActionNote(
        "note_" + responded.id,
        responded.id,
        "تم الاتصال",
        "أحمد",
        "agt_1",
        responded.created_at + timedelta(hours=3),
    )
    actions[0] = attrs.evolve(responded, notes=(note,))
    await store(engine, customers=customers, actions=actions)
    window = StatsWindow(now=NOW, tz=RIYADH)
    stats = await SqlActionQueries(engine).stats(everyone(org_id), window, None)

    keys = {
        "pending": ActionStatus.PENDING,
        "inProgress": ActionStatus.IN_PROGRESS,
        "completed": ActionStatus.COMPLETED,
        "dismissed": ActionStatus.DISMISSED,
        "snoozed": ActionStatus.SNOOZED,
    }
    assert stats.total == {k: sum(_eff(a) is s for a in actions) for k, s in keys.items()}
    open_ = [a for a in actions if _eff(a) in inbox.OPEN_STATUSES]
    assert stats.by_type == {t.value: sum(a.type is t for a in open_) for t in ActionType}
    assert stats.by_priority == {p.value: sum(a.priority is p for a in open_) for p in Priority}
    assert stats.by_source == {s.value: sum(a.source is s for a in open_) for s in CustomerSource}
    month = inbox.month_bounds(NOW, RIYADH)
    assert stats.due_dates == {
        "overdue": sum(inbox.is_overdue(a, NOW) for a in actions),
        "today": sum(inbox.in_bucket(a, DueDateBucket.TODAY, NOW, RIYADH) for a in open_),
        "thisWeek": sum(inbox.in_bucket(a, DueDateBucket.WEEK, NOW, RIYADH) for a in open_),
        "thisMonth": sum(
            a.due_date is not None and month[0] <= a.due_date < month[1] for a in open_
        ),
        "noDueDate": sum(a.due_date is None for a in open_),
    }
    done = [a for a in actions if a.status is ActionStatus.COMPLETED]
    hours = [(a.completed_at - a.created_at).total_seconds() / 3600 for a in done if a.completed_at]
    assert stats.avg_completion_time == round(statistics.mean(hours), 2)

    def first_response(a: CustomerAction) -> datetime | None:
        times = [n.created_at for n in a.notes] + ([a.completed_at] if a.completed_at else [])
        return min(times) if times else None

    waits = [
        (r - a.created_at).total_seconds() / 3600
        for a in actions
        if (r := first_response(a)) is not None
    ]
    assert stats.avg_response_time == round(statistics.mean(waits), 2)
    closed = stats.total["completed"] + stats.total["dismissed"]
    assert stats.completion_rate == round(100 * stats.total["completed"] / (closed + len(open_)), 1)
    mine = await SqlActionQueries(engine).stats(everyone(org_id), window, "agt_1")
    assert sum(mine.total.values()) == sum(a.assigned_to == "agt_1" for a in actions)
    empty = await SqlActionQueries(engine).stats(ScopeFilter(org_id, Reach.NONE), window, None)
    assert sum(empty.total.values()) == 0
    assert empty.completion_rate is None
    assert empty.avg_completion_time is None


async def test_filter_options_count_in_scope(engine: AsyncEngine, org_id: str) -> None:
    data = varied_customers(org_id)
    await store(engine, customers=data, employees=team(org_id))
    options = await SqlCustomerQueries(engine).filter_options(everyone(org_id))
    assert [(o.value, o.count, o.label, o.label_en) for o in options.stages] == [
        (s.value, sum(c.stage is s for c in data), s.label, s.label_en) for s in Stage
    ]
    assert [(o.value, o.count) for o in options.sources] == [
        (s.value, sum(c.source is s for c in data)) for s in CustomerSource
    ]
    assert [(o.value, o.count) for o in options.property_types] == [
        (p.value, sum(p in c.preferences.property_type for c in data)) for p in PropertyType
    ]
    assert any(o.count == 0 for o in options.property_types)  # every member, even unused
    cities: dict[str, int] = {}
    for c in data:
        if c.city:
            cities[c.city] = cities.get(c.city, 0) + 1
    assert [(o.value, o.count) for o in options.cities] == sorted(
        cities.items(), key=lambda kv: (-kv[1], kv[0])
    )
    held = {e.id: sum(c.assigned_employee_id == e.id for c in data) for e in team(org_id)}
    assert {(o.id, o.count) for o in options.employees} == {
        (e.id, held[e.id]) for e in team(org_id) if e.is_active
    }
    assert {o.name_en for o in options.employees} >= {"Ahmed", "Munira"}
    managed = await SqlCustomerQueries(engine).filter_options(
        ScopeFilter(org_id, Reach.TEAM, "mgr_1")
    )
    assert {o.id for o in managed.employees} == {"mgr_1", "agt_1", "agt_2"}
    team_customers = [c for c in data if c.assigned_employee_id in {"mgr_1", "agt_1", "agt_2"}]
    assert sum(o.count for o in managed.stages) == len(team_customers)


async def test_employee_list_and_workloads(engine: AsyncEngine, org_id: str) -> None:
    customers, actions = action_world(org_id)
    gone = make_customer(org_id, 50, assigned_employee_id="agt_1", deleted_at=NOW)
    await store(engine, customers=[*customers, gone], actions=actions, employees=team(org_id))
    employees = SqlEmployeeQueries(engine)
    everyone_listed = await employees.list(org_id, role=None, is_active=None)
    assert [e.id for e in everyone_listed] == [
        e.id for e in sorted(team(org_id), key=lambda e: (e.name, e.id))
    ]
    agents = await employees.list(org_id, role="sales_agent", is_active=True)
    assert {e.id for e in agents} == {"agt_1", "agt_2", "agt_3"}
    with pytest.raises(ValidationFailed):
        await employees.list(org_id, role="boss", is_active=None)

    window = StatsWindow(now=NOW, tz=RIYADH)
    loads = await employees.workloads(org_id, ["agt_1", "agt_2", "nobody"], window)
    month = inbox.month_bounds(NOW, RIYADH)
    for emp in ("agt_1", "agt_2", "nobody"):
        mine = [a for a in actions if a.assigned_to == emp]
        waits = [
            (a.completed_at - a.created_at).total_seconds() / 3600 for a in mine if a.completed_at
        ]
        assert loads[emp].assigned_customers == sum(
            c.assigned_employee_id == emp for c in customers
        )
        assert loads[emp].pending_actions == sum(_eff(a) in inbox.OPEN_STATUSES for a in mine)
        assert loads[emp].completed_this_month == sum(
            a.completed_by == emp
            and a.completed_at is not None
            and month[0] <= a.completed_at < month[1]
            for a in actions
        )
        assert loads[emp].avg_response_time == (round(statistics.mean(waits), 2) if waits else None)
    assert loads["agt_1"].assigned_customers > 0
    assert await employees.workloads(org_id, [], window) == {}


# --- statements per request -----------------------------------------------------------------------


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the engine sends while inside the block."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


async def test_statements_do_not_grow_with_the_page(
    engine: AsyncEngine, org_id: str, trigrams: None
) -> None:
    data = [
        make_customer(
            org_id,
            n,
            name=f"محمد {n}",
            moves=[(Stage.QUALIFIED, BASE + timedelta(days=n, hours=1))],
            interests=2,
        )
        for n in range(1, 61)
    ]
    actions = [make_action(org_id, n, data[n % 60]) for n in range(1, 61)]
    await store(engine, customers=data, actions=actions)
    customers = SqlCustomerQueries(engine)
    inbox_queries = SqlActionQueries(engine)

    async def customers_page(limit: int, cursor: str | None = None) -> int:
        with counting(engine) as seen:
            page = await customers.list(
                CustomerListQuery(
                    scope=everyone(org_id), page=PageRequest(limit=limit, cursor=cursor)
                )
            )
        assert len(page.items) == limit
        assert all(len(c.stage_history) == 2 and len(c.property_interests) == 2 for c in page.items)
        return len(seen)

    async def actions_page(limit: int) -> int:
        with counting(engine) as seen:
            page = await inbox_queries.list(
                ActionListQuery(
                    scope=everyone(org_id), now=NOW, tz=RIYADH, page=PageRequest(limit=limit)
                )
            )
        assert len(page.items) == limit
        return len(seen)

    # The capped count rides in the page's statement (a scalar subquery).
    assert await customers_page(5) == await customers_page(50) == 3  # page + count, 2 relations
    assert await customers_page(5, "") == await customers_page(50, "") == 3
    assert await actions_page(5) == await actions_page(50) == 1  # page + count

    await customers.search(SearchQuery(scope=everyone(org_id), text="محمد", limit=1))  # warm-up
    with counting(engine) as seen:
        few = await customers.search(SearchQuery(scope=everyone(org_id), text="محمد", limit=5))
    with counting(engine) as more:
        many = await customers.search(SearchQuery(scope=everyone(org_id), text="محمد", limit=50))
    assert (len(few.hits), len(many.hits), few.total) == (5, 50, 60)
    assert len(seen) == len(more) == 3  # hits with the total, 2 relations

    window = StatsWindow(now=NOW, tz=RIYADH)
    with counting(engine) as seen:
        await customers.stats(everyone(org_id), window, None)
    assert len(seen) == 2  # counters, time-dependent counts (issue 9)
    with counting(engine) as seen:
        await customers.stats(everyone(org_id), window, "city")
    assert len(seen) == 2
    with counting(engine) as seen:
        await customers.filter_options(everyone(org_id))
    assert len(seen) == 2  # counters, employees
    with counting(engine) as seen:
        await inbox_queries.stats(everyone(org_id), window, None)
    assert len(seen) == 2
    with counting(engine) as seen:
        await SqlEmployeeQueries(engine).workloads(org_id, ["agt_1", "agt_2"], window)
    assert len(seen) == 4

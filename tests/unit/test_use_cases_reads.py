"""Read-side use cases: every parameter becomes exactly the expected query object.

The query ports are replaced by recording fakes that keep the query they received and answer
with an empty result; what the SQL does with a query is tested by the integration suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs
import pytest

from customers_hub.application.context import Dependencies
from customers_hub.application.queries import (
    ActionListQuery,
    ActionStats,
    Condition,
    CustomerListQuery,
    CustomerStats,
    EmployeeWorkload,
    FilterOptions,
    Op,
    Page,
    PageRequest,
    SearchQuery,
    SearchResult,
    Sort,
    StatsWindow,
)
from customers_hub.application.use_cases.action_reads import list_actions
from customers_hub.application.use_cases.catalog import (
    ACTION_CATALOG,
    CUSTOMER_CATALOG,
    FieldCatalog,
    FieldSpec,
    ValueKind,
)
from customers_hub.application.use_cases.reads import (
    ActionListParams,
    AdvancedQuery,
    CustomerListParams,
    SearchParams,
    list_customers,
    list_employees,
    query_customers,
    search_customers,
)
from customers_hub.application.use_cases.statistics_reads import (
    action_stats,
    customer_stats,
    filter_options,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    Permission,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import PermissionDenied, ValidationFailed
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee
from customers_hub.testing.fakes import DEFAULT_NOW, InMemoryStore, build_fake_dependencies
from customers_hub.testing.strategies import actor_for

NOW = DEFAULT_NOW
RIYADH = ZoneInfo("Asia/Riyadh")
ORG = "org_1"


def _employee(emp_id: str, role: Role, manager: str | None = None) -> Employee:
    return Employee(
        id=emp_id, organization_id=ORG, name=f"name of {emp_id}", role=role, manager_id=manager
    )


ADMIN = _employee("emp_admin", Role.ADMIN)
MANAGER = _employee("emp_mgr", Role.SALES_MANAGER)
AGENT = _employee("emp_a1", Role.SALES_AGENT, "emp_mgr")
TEAMMATE = _employee("emp_a2", Role.SALES_AGENT, "emp_mgr")
OUTSIDER = _employee("emp_a3", Role.SALES_AGENT, "emp_mgr2")
VIEWER = _employee("emp_v", Role.VIEWER, "emp_mgr")

AS_ADMIN, AS_MANAGER, AS_AGENT, AS_VIEWER = (
    actor_for(ADMIN),
    actor_for(MANAGER),
    actor_for(AGENT),
    actor_for(VIEWER),
)
ALL = ScopeFilter(ORG, Reach.ALL)
AGENT_SCOPE = ScopeFilter(ORG, Reach.OWN, AGENT.id)
ROLE_SCOPES = [
    pytest.param(AS_ADMIN, ALL, id="admin"),
    pytest.param(AS_MANAGER, ScopeFilter(ORG, Reach.TEAM, MANAGER.id), id="manager"),
    pytest.param(AS_AGENT, AGENT_SCOPE, id="agent"),
    pytest.param(AS_VIEWER, ScopeFilter(ORG, Reach.OWN, VIEWER.id), id="viewer"),
]


# --- recording query ports -------------------------------------------------------------------


class RecordingCustomerQueries:
    """Keeps every call; answers with nothing (or with ``items`` for lists)."""

    def __init__(self, staff: Sequence[Employee] = ()) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.items: list[Customer] = []
        self.staff = {e.id: e for e in staff}

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        self.calls.append(("list", (query,)))
        return Page(items=tuple(self.items), limit=query.page.limit)

    async def list_with_assignees(
        self, query: CustomerListQuery
    ) -> tuple[Page[Customer], dict[str, Employee]]:
        """The page and its assignees among the staff of the query's organization (an id that
        names nobody there is left out, as the SQL adapter's read by ids leaves it)."""
        page = await self.list(query)
        org = query.scope.organization_id
        ids = {c.assigned_employee_id for c in page.items if c.assigned_employee_id}
        found = {i: self.staff[i] for i in ids if i in self.staff}
        return page, {i: e for i, e in found.items() if e.organization_id == org}

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        self.calls.append(("search", (query,)))
        return SearchResult(hits=(), total=0)

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        self.calls.append(("stats", (scope, window, group_by)))
        return CustomerStats(
            total=0,
            by_stage={},
            by_source={},
            by_priority={},
            lead_scores={},
            financial={},
            conversion={},
            engagement={},
        )

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        self.calls.append(("filter_options", (scope,)))
        return FilterOptions((), (), (), (), ())


class RecordingActionQueries:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def list(self, query: ActionListQuery) -> Page[CustomerAction]:
        self.calls.append(("list", (query,)))
        return Page(items=(), limit=query.page.limit)

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        self.calls.append(("stats", (scope, window, assigned_to)))
        return ActionStats({}, {}, {}, {}, {}, None, None, None)


class RecordingEmployeeQueries:
    def __init__(self, employees: Sequence[Employee]) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.employees = list(employees)

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        self.calls.append(("list", (organization_id, role, is_active)))
        return self.employees

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        self.calls.append(("workloads", (organization_id, tuple(ids), window)))
        return {i: EmployeeWorkload(1, 2, 3, None) for i in ids}


@attrs.define
class Reads:
    deps: Dependencies
    customers: RecordingCustomerQueries
    actions: RecordingActionQueries
    employees: RecordingEmployeeQueries

    def last(self, port: RecordingCustomerQueries | RecordingActionQueries) -> Any:
        [(_, args)] = port.calls
        return args[0] if len(args) == 1 else args


@pytest.fixture
def reads() -> Reads:
    store = InMemoryStore()
    for employee in (ADMIN, MANAGER, AGENT, TEAMMATE, OUTSIDER, VIEWER):
        store.put_employee(employee)
    deps, _, _, _ = build_fake_dependencies(store=store)
    staff = (ADMIN, MANAGER, AGENT, TEAMMATE, OUTSIDER, VIEWER)
    customers, actions = RecordingCustomerQueries(staff), RecordingActionQueries()
    employees = RecordingEmployeeQueries([ADMIN, AGENT])
    deps = attrs.evolve(
        deps, customer_queries=customers, action_queries=actions, employee_queries=employees
    )
    return Reads(deps, customers, actions, employees)


def _fields(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- GET /customers --------------------------------------------------------------------------


async def test_list_customers_defaults(reads: Reads) -> None:
    result = await list_customers(reads.deps, AS_AGENT, CustomerListParams())
    assert reads.last(reads.customers) == CustomerListQuery(
        scope=AGENT_SCOPE,
        conditions=(),
        search=None,
        sort=Sort("createdAt", descending=True),
        page=PageRequest(page=1, limit=20, cursor=None),
        deleted=False,
    )
    assert result.page.items == ()
    assert (result.fields, result.include, dict(result.employees)) == (None, (), {})


CUSTOMER_PARAMETERS = [
    pytest.param(
        {"stage": [Stage.PROPERTY_MATCHING, Stage.SITE_VISIT, Stage.PROPERTY_MATCHING]},
        [Condition("stage", Op.IN, (Stage.PROPERTY_MATCHING, Stage.SITE_VISIT))],
        id="stage",
    ),
    pytest.param(
        {"source": [CustomerSource.WHATSAPP]},
        [Condition("source", Op.IN, (CustomerSource.WHATSAPP,))],
        id="source",
    ),
    pytest.param(
        {"priority": [Priority.HIGH, Priority.URGENT]},
        [Condition("priority", Op.IN, (Priority.HIGH, Priority.URGENT))],
        id="priority",
    ),
    pytest.param(
        {"assigned_employee_id": ["emp_1", " emp_2 ", "", "emp_1"]},
        [Condition("assignedEmployeeId", Op.IN, ("emp_1", "emp_2"))],
        id="assignedEmployeeId",
    ),
    pytest.param({"lead_score_min": 70}, [Condition("leadScore", Op.GTE, 70)], id="leadScoreMin"),
    pytest.param({"lead_score_max": 100}, [Condition("leadScore", Op.LTE, 100)], id="leadScoreMax"),
    pytest.param(
        {"budget_min": Decimal("1000000")},
        [Condition("budgetMin", Op.GTE, Decimal("1000000"))],
        id="budgetMin",
    ),
    pytest.param(
        {"budget_max": Decimal("3000000")},
        [Condition("budgetMax", Op.LTE, Decimal("3000000"))],
        id="budgetMax",
    ),
    pytest.param(
        {"property_type": [PropertyType.VILLA, PropertyType.LAND]},
        [Condition("preferences.propertyType", Op.IN, (PropertyType.VILLA, PropertyType.LAND))],
        id="propertyType",
    ),
    pytest.param(
        {"preferred_areas": ["حي النرجس", " حي الملقا "]},
        [Condition("preferences.preferredAreas", Op.IN, ("حي النرجس", "حي الملقا"))],
        id="preferredAreas",
    ),
    pytest.param(
        {"city": ["الرياض", "  ", "جدة"]},
        [Condition("city", Op.IN, ("الرياض", "جدة"))],
        id="city",
    ),
    pytest.param(
        {"tags": ["vip", "cash_buyer"]},
        [Condition("tags", Op.IN, ("vip", "cash_buyer"))],
        id="tags",
    ),
    pytest.param(
        {"created_from": _utc(2024, 1, 1, 8)},
        [Condition("createdAt", Op.GTE, _utc(2024, 1, 1, 8))],
        id="createdFrom-datetime",
    ),
    pytest.param(
        # A bare date is the local (Riyadh, UTC+3) day: it starts at 21:00 UTC the day before.
        {"created_from": date(2024, 1, 1)},
        [Condition("createdAt", Op.GTE, _utc(2023, 12, 31, 21))],
        id="createdFrom-date",
    ),
    pytest.param(
        {"created_to": datetime(2024, 1, 31, 23, 59, 59, tzinfo=RIYADH)},
        [Condition("createdAt", Op.LTE, _utc(2024, 1, 31, 20, 59, 59))],
        id="createdTo-datetime",
    ),
    pytest.param(
        {"created_to": date(2024, 1, 31)},
        [Condition("createdAt", Op.LT, _utc(2024, 1, 31, 21))],
        id="createdTo-date",
    ),
    pytest.param(
        {"last_contact_from": date(2024, 1, 20)},
        [Condition("lastContactAt", Op.GTE, _utc(2024, 1, 19, 21))],
        id="lastContactFrom",
    ),
    pytest.param(
        # Without a zone, a datetime is read in the organization's time zone.
        {"last_contact_to": datetime(2024, 1, 22, 12, 0)},
        [Condition("lastContactAt", Op.LTE, _utc(2024, 1, 22, 9))],
        id="lastContactTo",
    ),
]


@pytest.mark.parametrize(("params", "conditions"), CUSTOMER_PARAMETERS)
async def test_each_customer_filter_parameter(
    reads: Reads, params: dict[str, Any], conditions: list[Condition]
) -> None:
    await list_customers(reads.deps, AS_AGENT, CustomerListParams(**params))
    query = reads.last(reads.customers)
    assert query.conditions == tuple(conditions)
    assert (query.scope, query.search, query.page) == (AGENT_SCOPE, None, PageRequest())


async def test_all_customer_filter_parameters_together_are_anded_in_order(reads: Reads) -> None:
    params: dict[str, Any] = {}
    expected: list[Condition] = []
    for case in CUSTOMER_PARAMETERS:
        values, conditions = cast(tuple[dict[str, Any], list[Condition]], case.values)
        if set(values) & set(params):
            continue  # one of each parameter
        params.update(values)
        expected.extend(conditions)
    await list_customers(
        reads.deps,
        AS_ADMIN,
        CustomerListParams(
            **params,
            page=2,
            limit=50,
            search=" محمد ",
            sort_by="leadScore",
            sort_order="desc",
            filters='{"preferences.propertyType": ["villa", "apartment"], "city": "الرياض"}',
        ),
    )
    query = reads.last(reads.customers)
    assert len({c.field for c in expected}) == 13  # every filterable parameter is in there
    assert query.conditions == (
        *expected,
        Condition("preferences.propertyType", Op.IN, (PropertyType.VILLA, PropertyType.APARTMENT)),
        Condition("city", Op.EQ, "الرياض"),
    )
    assert query.search == "محمد"
    assert query.sort == Sort("leadScore", descending=True)
    assert query.page == PageRequest(page=2, limit=50)
    assert query.scope == ALL


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "sort"),
    [
        ("name", "asc", Sort("name", descending=False)),
        ("createdAt", None, Sort("createdAt", descending=True)),
        ("leadScore", "desc", Sort("leadScore", descending=True)),
        ("lastContactAt", "asc", Sort("lastContactAt", descending=False)),
        ("dealValue", "desc", Sort("totalDealValue", descending=True)),
        ("priority", None, Sort("priority", descending=True)),
        (None, "asc", Sort("createdAt", descending=False)),
    ],
)
async def test_customer_sort(
    reads: Reads, sort_by: str | None, sort_order: str | None, sort: Sort
) -> None:
    await list_customers(
        reads.deps, AS_AGENT, CustomerListParams(sort_by=sort_by, sort_order=sort_order)
    )
    assert reads.last(reads.customers).sort == sort


@pytest.mark.parametrize(
    ("params", "page"),
    [
        ({"page": 3, "limit": 100}, PageRequest(page=3, limit=100)),
        ({"cursor": "eyJpZCI6ImN1c3RfMTAwIn0"}, PageRequest(cursor="eyJpZCI6ImN1c3RfMTAwIn0")),
        ({"cursor": "", "limit": 5}, PageRequest(limit=5, cursor="")),
    ],
)
async def test_customer_paging(reads: Reads, params: dict[str, Any], page: PageRequest) -> None:
    await list_customers(reads.deps, AS_AGENT, CustomerListParams(**params))
    assert reads.last(reads.customers).page == page


@pytest.mark.parametrize(("search", "expected"), [("  محمد  ", "محمد"), ("   ", None)])
async def test_customer_search_text(reads: Reads, search: str, expected: str | None) -> None:
    await list_customers(reads.deps, AS_AGENT, CustomerListParams(search=search))
    assert reads.last(reads.customers).search == expected


@pytest.mark.parametrize(("actor", "scope"), ROLE_SCOPES)
async def test_customer_list_scope_per_role(reads: Reads, actor: Actor, scope: ScopeFilter) -> None:
    await list_customers(reads.deps, actor, CustomerListParams())
    assert reads.last(reads.customers).scope == scope


async def test_filters_json_as_decoded_object(reads: Reads) -> None:
    await list_customers(
        reads.deps,
        AS_AGENT,
        CustomerListParams(
            stage=[Stage.NEW_LEAD],
            filters={"leadScore": {"gte": 70, "lt": "90"}, "tags": "vip"},
        ),
    )
    assert reads.last(reads.customers).conditions == (
        Condition("stage", Op.IN, (Stage.NEW_LEAD,)),
        Condition("leadScore", Op.GTE, 70),
        Condition("leadScore", Op.LT, 90),
        Condition("tags", Op.EQ, "vip"),
    )


async def test_fields_include_and_assigned_employees_come_back(reads: Reads) -> None:
    def customer(cust_id: str, assignee: str | None) -> Customer:
        return Customer(
            id=cust_id,
            organization_id=ORG,
            name="c",
            phone="+966500000000",
            source=CustomerSource.MANUAL,
            stage=Stage.NEW_LEAD,
            created_at=NOW,
            updated_at=NOW,
            assigned_employee_id=assignee,
        )

    reads.customers.items = [
        customer("c1", AGENT.id),
        customer("c2", TEAMMATE.id),
        customer("c3", None),
        customer("c4", AGENT.id),
        customer("c5", "emp_gone"),
    ]
    result = await list_customers(
        reads.deps,
        AS_ADMIN,
        CustomerListParams(fields=["id", "name"], include=["assignedEmployee"]),
    )
    assert result.fields == ("id", "name")
    assert result.include == ("assignedEmployee",)
    assert dict(result.employees) == {AGENT.id: AGENT, TEAMMATE.id: TEAMMATE}


async def test_the_trash_is_for_admins(reads: Reads) -> None:
    await list_customers(reads.deps, AS_ADMIN, CustomerListParams(deleted=True))
    assert reads.last(reads.customers).deleted is True
    with pytest.raises(PermissionDenied):
        await list_customers(reads.deps, AS_MANAGER, CustomerListParams(deleted=True))
    assert len(reads.customers.calls) == 1


async def test_listing_customers_without_the_permission_is_403_not_empty(reads: Reads) -> None:
    no_read = actor_for(VIEWER, permissions=frozenset({Permission.ACTIONS_READ}))
    with pytest.raises(PermissionDenied) as raised:
        await list_customers(reads.deps, no_read, CustomerListParams())
    assert raised.value.required_permission == Permission.CUSTOMERS_READ.value
    assert reads.customers.calls == []


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        pytest.param(
            {
                "page": 0,
                "limit": 101,
                "lead_score_min": -1,
                "lead_score_max": 101,
                "budget_min": Decimal("-5"),
                "sort_by": "phone",
                "sort_order": "up",
                "search": "x" * 201,
                "filters": {"foo": 1, "leadScore": {"gte": "high"}},
            },
            {
                "page",
                "limit",
                "leadScoreMin",
                "leadScoreMax",
                "budgetMin",
                "sortBy",
                "sortOrder",
                "search",
                "filters.foo",
                "filters.leadScore.gte",
            },
            id="everything-at-once",
        ),
        pytest.param({"limit": 0}, {"limit"}, id="limit-zero"),
        pytest.param({"lead_score_min": 80, "lead_score_max": 70}, {"leadScoreMax"}, id="score"),
        pytest.param(
            {"budget_min": Decimal(3_000_000), "budget_max": Decimal(1_000_000)},
            {"budgetMax"},
            id="budget",
        ),
        pytest.param(
            {"created_from": date(2024, 2, 1), "created_to": date(2024, 1, 31)},
            {"createdTo"},
            id="created-range",
        ),
        pytest.param(
            {"last_contact_from": _utc(2024, 2, 1), "last_contact_to": _utc(2024, 1, 1)},
            {"lastContactTo"},
            id="contact-range",
        ),
        pytest.param({"page": 2, "cursor": "abc"}, {"cursor"}, id="cursor-and-page"),
        pytest.param({"filters": "{not json"}, {"filters"}, id="filters-not-json"),
        pytest.param({"filters": "[1, 2]"}, {"filters"}, id="filters-not-object"),
        pytest.param({"city": [f"c{i}" for i in range(101)]}, {"city"}, id="too-many-cities"),
        pytest.param({"tags": ["x" * 256]}, {"tags"}, id="tag-too-long"),
    ],
)
async def test_bad_customer_list_parameters_are_all_named(
    reads: Reads, params: dict[str, Any], fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_customers(reads.deps, AS_ADMIN, CustomerListParams(**params))
    assert _fields(raised.value) == fields
    assert reads.customers.calls == []


async def test_a_date_range_within_one_day_is_allowed(reads: Reads) -> None:
    await list_customers(
        reads.deps,
        AS_AGENT,
        CustomerListParams(created_from=date(2024, 1, 31), created_to=date(2024, 1, 31)),
    )
    assert reads.last(reads.customers).conditions == (
        Condition("createdAt", Op.GTE, _utc(2024, 1, 30, 21)),
        Condition("createdAt", Op.LT, _utc(2024, 1, 31, 21)),
    )


# --- POST /customers/query -------------------------------------------------------------------


async def test_the_documented_advanced_query(reads: Reads) -> None:
    body = AdvancedQuery(
        filters={
            "stage": ["property_matching", "site_visit"],
            "preferences": {
                "budgetMin": {"gte": 1000000},
                "budgetMax": {"lte": 3000000},
                "propertyType": {"in": ["villa", "apartment"]},
            },
            "city": {"in": ["الرياض", "جدة"]},
            "leadScore": {"gte": 70},
            "createdAt": {"gte": "2024-01-01T00:00:00Z", "lte": "2024-01-31T23:59:59Z"},
        },
        sort={"field": "leadScore", "order": "desc"},
        limit=20,
        cursor=None,
    )
    result = await query_customers(reads.deps, AS_MANAGER, body)
    assert reads.last(reads.customers) == CustomerListQuery(
        scope=ScopeFilter(ORG, Reach.TEAM, MANAGER.id),
        conditions=(
            Condition("stage", Op.IN, (Stage.PROPERTY_MATCHING, Stage.SITE_VISIT)),
            Condition("preferences.budgetMin", Op.GTE, Decimal(1000000)),
            Condition("preferences.budgetMax", Op.LTE, Decimal(3000000)),
            Condition(
                "preferences.propertyType", Op.IN, (PropertyType.VILLA, PropertyType.APARTMENT)
            ),
            Condition("city", Op.IN, ("الرياض", "جدة")),
            Condition("leadScore", Op.GTE, 70),
            Condition("createdAt", Op.GTE, _utc(2024, 1, 1)),
            Condition("createdAt", Op.LTE, _utc(2024, 1, 31, 23, 59, 59)),
        ),
        search=None,
        sort=Sort("leadScore", descending=True),
        page=PageRequest(limit=20, cursor=""),
    )
    assert result.page.items == ()


async def test_dotted_and_nested_paths_are_the_same(reads: Reads) -> None:
    await query_customers(
        reads.deps, AS_AGENT, AdvancedQuery(filters={"preferences.budgetMin": {"gte": 5}})
    )
    await query_customers(
        reads.deps, AS_AGENT, AdvancedQuery(filters={"preferences": {"budgetMin": {"gte": 5}}})
    )
    first, second = (args[0] for _, args in reads.customers.calls)
    assert first == second
    assert first.conditions == (Condition("preferences.budgetMin", Op.GTE, Decimal(5)),)


@pytest.mark.parametrize(
    ("filters", "conditions"),
    [
        pytest.param(
            {"preferences.budgetMax": {"lte": "2500000.50", "gt": 2.5}},
            [
                Condition("preferences.budgetMax", Op.LTE, Decimal("2500000.50")),
                Condition("preferences.budgetMax", Op.GT, Decimal("2.5")),
            ],
            id="decimals-from-strings-and-floats",
        ),
        pytest.param(
            {"leadScore": {"gte": "70", "lte": 90.0, "ne": 80}},
            [
                Condition("leadScore", Op.GTE, 70),
                Condition("leadScore", Op.LTE, 90),
                Condition("leadScore", Op.NE, 80),
            ],
            id="integers",
        ),
        pytest.param(
            {"priority": {"nin": ["low"]}, "source": {"ne": "import"}, "gender": "female"},
            [
                Condition("priority", Op.NIN, (Priority.LOW,)),
                Condition("source", Op.NE, CustomerSource.IMPORT),
                Condition("gender", Op.EQ, "female"),
            ],
            id="enums",
        ),
        pytest.param(
            {"updatedAt": {"gte": "2024-01-01T10:00:00", "lt": "2024-01-02T10:00:00+05:00"}},
            [
                Condition("updatedAt", Op.GTE, _utc(2024, 1, 1, 7)),
                Condition("updatedAt", Op.LT, _utc(2024, 1, 2, 5)),
            ],
            id="datetimes-naive-local-and-offset",
        ),
        pytest.param(
            {"createdAt": {"gte": "2024-01-10", "lte": "2024-01-20"}},
            [
                Condition("createdAt", Op.GTE, _utc(2024, 1, 9, 21)),
                Condition("createdAt", Op.LT, _utc(2024, 1, 20, 21)),
            ],
            id="date-gte-lte",
        ),
        pytest.param(
            {"createdAt": {"gt": "2024-01-10", "lt": "2024-01-20"}},
            [
                Condition("createdAt", Op.GTE, _utc(2024, 1, 10, 21)),
                Condition("createdAt", Op.LT, _utc(2024, 1, 19, 21)),
            ],
            id="date-gt-lt",
        ),
        pytest.param(
            {"lastContactAt": "2024-01-10"},
            [
                Condition("lastContactAt", Op.GTE, _utc(2024, 1, 9, 21)),
                Condition("lastContactAt", Op.LT, _utc(2024, 1, 10, 21)),
            ],
            id="date-eq-is-the-day",
        ),
        pytest.param(
            {"nextFollowUpDate": {"lte": "2024-01-10"}},
            [Condition("nextFollowUpDate", Op.LTE, date(2024, 1, 10))],
            id="date-field",
        ),
        pytest.param(
            {"assignedEmployeeId": None, "email": {"ne": None}},
            [Condition("assignedEmployeeId", Op.EQ, None), Condition("email", Op.NE, None)],
            id="nulls-on-nullable-fields",
        ),
        pytest.param(
            {"name": {"contains": " محمد "}, "phone": {"startsWith": "+9665"}},
            [
                Condition("name", Op.CONTAINS, "محمد"),
                Condition("phone", Op.STARTS_WITH, "+9665"),
            ],
            id="text-matching",
        ),
        pytest.param(
            {"tags": {"in": ["vip", "vip", "hot"], "nin": ["cold"]}, "id": ["c1"]},
            [
                Condition("tags", Op.IN, ("vip", "hot")),
                Condition("tags", Op.NIN, ("cold",)),
                Condition("id", Op.IN, ("c1",)),
            ],
            id="lists",
        ),
        pytest.param(
            {"stage": {"gte": "qualified", "lt": "closing"}, "priority": {"gt": "medium"}},
            [
                Condition("stage", Op.GTE, Stage.QUALIFIED),
                Condition("stage", Op.LT, Stage.CLOSING),
                Condition("priority", Op.GT, Priority.MEDIUM),
            ],
            id="ordered-enums",
        ),
        pytest.param(
            {"budgetMin": {"gte": 1000000}, "budgetMax": {"lte": "3000000"}},
            [
                Condition("budgetMin", Op.GTE, Decimal(1000000)),
                Condition("budgetMax", Op.LTE, Decimal(3000000)),
            ],
            id="budget-overlap",
        ),
        pytest.param(
            {"preferences": {"bedrooms": {"gte": 4}, "purpose": "buy", "timeline": ["immediate"]}},
            [
                Condition("preferences.bedrooms", Op.GTE, 4),
                Condition("preferences.purpose", Op.EQ, "buy"),
                Condition("preferences.timeline", Op.IN, ("immediate",)),
            ],
            id="more-preferences",
        ),
        pytest.param({}, [], id="empty"),
        pytest.param(None, [], id="null"),
    ],
)
async def test_advanced_query_typing(
    reads: Reads, filters: Any, conditions: list[Condition]
) -> None:
    await query_customers(reads.deps, AS_AGENT, AdvancedQuery(filters=filters))
    query = reads.last(reads.customers)
    assert query.conditions == tuple(conditions)
    for condition in query.conditions:  # typed, not raw strings
        spec = CUSTOMER_CATALOG.get(condition.field)
        assert spec is not None
        if spec.kind is ValueKind.ENUM and condition.value is not None:
            values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
            assert all(isinstance(v, spec.enum) for v in values)  # type: ignore[arg-type]


async def test_every_bad_part_of_an_advanced_query_is_named_at_once(reads: Reads) -> None:
    body = AdvancedQuery(
        filters={
            "preferences": {"budgetMin": {"gte": "abc"}, "nope": 1},
            "nope": 1,
            "city": {"regex": "a"},
            "leadScore": {"contains": "7", "gt": 70.5, "lte": True},
            "stage": {"in": ["qualified", "won"], "eq": None},
            "createdAt": {"ne": "2024-01-01", "in": ["2024-01-01"], "lt": "yesterday"},
            "priority": {},
            "source": {"nin": [], "gt": "inquiry"},
            "tags": {"in": "vip"},
            "nextFollowUpDate": {"gte": "2024-13-01"},
            "name": {"contains": "  "},
            "customerType": {"in": [None]},
            "budgetMin": {"lte": 5},
        },
        sort={"field": "phone", "order": "up"},
        limit=0,
        cursor=5,
    )
    with pytest.raises(ValidationFailed) as raised:
        await query_customers(reads.deps, AS_ADMIN, body)
    assert _fields(raised.value) == {
        "filters.preferences.budgetMin.gte",
        "filters.preferences.nope",
        "filters.nope",
        "filters.city.regex",
        "filters.leadScore.contains",
        "filters.leadScore.gt",
        "filters.leadScore.lte",
        "filters.stage.in[1]",
        "filters.stage.eq",
        "filters.createdAt.ne",
        "filters.createdAt.in",
        "filters.createdAt.lt",
        "filters.priority",
        "filters.source.nin",
        "filters.tags.in",
        "filters.nextFollowUpDate.gte",
        "filters.name.contains",
        "filters.customerType.in[0]",
        "filters.source.gt",
        "filters.budgetMin.lte",
        "sort.field",
        "sort.order",
        "limit",
        "cursor",
    }
    assert reads.customers.calls == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param(AdvancedQuery(filters=["stage"]), {"filters"}, id="filters-not-object"),
        pytest.param(AdvancedQuery(sort="leadScore"), {"sort"}, id="sort-not-object"),
        pytest.param(AdvancedQuery(sort={"by": "name"}), {"sort"}, id="sort-unknown-key"),
        pytest.param(AdvancedQuery(sort={"field": 3}), {"sort.field"}, id="sort-field-type"),
        pytest.param(AdvancedQuery(limit="20"), {"limit"}, id="limit-string"),
        pytest.param(AdvancedQuery(limit=101), {"limit"}, id="limit-too-big"),
        pytest.param(
            AdvancedQuery(filters={"stage": {"in": ["new_lead"] * 101}}),
            {"filters.stage.in"},
            id="too-many-values",
        ),
    ],
)
async def test_bad_advanced_query_shapes(
    reads: Reads, body: AdvancedQuery, fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await query_customers(reads.deps, AS_ADMIN, body)
    assert _fields(raised.value) == fields
    assert reads.customers.calls == []


async def test_advanced_query_cursor_and_sort_order(reads: Reads) -> None:
    await query_customers(
        reads.deps,
        AS_AGENT,
        AdvancedQuery(sort={"field": "dealValue", "order": "asc"}, limit=5, cursor="abc"),
    )
    query = reads.last(reads.customers)
    assert (query.sort, query.page) == (
        Sort("totalDealValue", descending=False),
        PageRequest(limit=5, cursor="abc"),
    )


async def test_advanced_query_needs_the_read_permission(reads: Reads) -> None:
    with pytest.raises(PermissionDenied):
        await query_customers(
            reads.deps, actor_for(AGENT, permissions=frozenset()), AdvancedQuery()
        )
    assert reads.customers.calls == []


# --- GET /customers/actions ------------------------------------------------------------------


async def test_list_actions_defaults(reads: Reads) -> None:
    await list_actions(reads.deps, AS_AGENT, ActionListParams())
    assert reads.last(reads.actions) == ActionListQuery(
        scope=AGENT_SCOPE,
        now=NOW,
        tz=reads.deps.settings.time_zone,
        conditions=(),
        due_bucket=None,
        search=None,
        sort=Sort("createdAt", descending=True),
        page=PageRequest(page=1, limit=50),
    )


ACTION_PARAMETERS = [
    pytest.param(
        {"customer_id": " cust_001 "},
        [Condition("customerId", Op.EQ, "cust_001")],
        id="customerId",
    ),
    pytest.param(
        {"status": [ActionStatus.PENDING, ActionStatus.IN_PROGRESS]},
        [Condition("status", Op.IN, (ActionStatus.PENDING, ActionStatus.IN_PROGRESS))],
        id="status",
    ),
    pytest.param(
        {"type": [ActionType.NEW_INQUIRY, ActionType.CALLBACK_REQUEST]},
        [Condition("type", Op.IN, (ActionType.NEW_INQUIRY, ActionType.CALLBACK_REQUEST))],
        id="type",
    ),
    pytest.param(
        {"priority": [Priority.URGENT]},
        [Condition("priority", Op.IN, (Priority.URGENT,))],
        id="priority",
    ),
    pytest.param(
        {"source": [CustomerSource.INQUIRY, CustomerSource.WHATSAPP]},
        [Condition("source", Op.IN, (CustomerSource.INQUIRY, CustomerSource.WHATSAPP))],
        id="source",
    ),
    pytest.param(
        {"assigned_to": ["emp_001", "emp_002"]},
        [Condition("assignedTo", Op.IN, ("emp_001", "emp_002"))],
        id="assignedTo",
    ),
    pytest.param({"city": ["الرياض"]}, [Condition("city", Op.IN, ("الرياض",))], id="city"),
    pytest.param(
        {"state": ["منطقة الرياض", "منطقة مكة المكرمة"]},
        [Condition("state", Op.IN, ("منطقة الرياض", "منطقة مكة المكرمة"))],
        id="state",
    ),
    pytest.param(
        {"budget_min": Decimal(500000)},
        [Condition("budgetMin", Op.GTE, Decimal(500000))],
        id="budgetMin",
    ),
    pytest.param(
        {"budget_max": Decimal(900000)},
        [Condition("budgetMax", Op.LTE, Decimal(900000))],
        id="budgetMax",
    ),
    pytest.param(
        {"property_type": [PropertyType.APARTMENT]},
        [Condition("propertyType", Op.IN, (PropertyType.APARTMENT,))],
        id="propertyType",
    ),
]


@pytest.mark.parametrize(("params", "conditions"), ACTION_PARAMETERS)
async def test_each_action_filter_parameter(
    reads: Reads, params: dict[str, Any], conditions: list[Condition]
) -> None:
    await list_actions(reads.deps, AS_AGENT, ActionListParams(**params))
    query = reads.last(reads.actions)
    assert query.conditions == tuple(conditions)
    assert (query.due_bucket, query.search) == (None, None)


async def test_all_action_parameters_together(reads: Reads) -> None:
    params: dict[str, Any] = {}
    expected: list[Condition] = []
    for case in ACTION_PARAMETERS:
        values, conditions = cast(tuple[dict[str, Any], list[Condition]], case.values)
        params.update(values)
        expected.extend(conditions)
    await list_actions(
        reads.deps,
        AS_MANAGER,
        ActionListParams(
            **params,
            page=3,
            limit=10,
            due_date=DueDateBucket.TODAY,
            search=" فيلا ",
            sort_by="priority",
            sort_order="desc",
        ),
    )
    query = reads.last(reads.actions)
    assert query.conditions == tuple(expected)
    assert query.due_bucket is DueDateBucket.TODAY
    assert query.search == "فيلا"
    assert query.sort == Sort("priority", descending=True)
    assert query.page == PageRequest(page=3, limit=10)
    assert query.scope == ScopeFilter(ORG, Reach.TEAM, MANAGER.id)
    assert (query.now, query.tz) == (NOW, reads.deps.settings.time_zone)


@pytest.mark.parametrize("bucket", list(DueDateBucket))
async def test_due_date_bucket(reads: Reads, bucket: DueDateBucket) -> None:
    await list_actions(reads.deps, AS_AGENT, ActionListParams(due_date=bucket))
    query = reads.last(reads.actions)
    assert (query.due_bucket, query.conditions) == (bucket, ())


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "sort"),
    [
        ("createdAt", "asc", Sort("createdAt", descending=False)),
        ("dueDate", "asc", Sort("dueDate", descending=False)),
        ("priority", "desc", Sort("priority", descending=True)),
    ],
)
async def test_action_sort(reads: Reads, sort_by: str, sort_order: str, sort: Sort) -> None:
    await list_actions(
        reads.deps, AS_AGENT, ActionListParams(sort_by=sort_by, sort_order=sort_order)
    )
    assert reads.last(reads.actions).sort == sort


async def test_action_cursor(reads: Reads) -> None:
    await list_actions(reads.deps, AS_AGENT, ActionListParams(cursor="", limit=25))
    assert reads.last(reads.actions).page == PageRequest(limit=25, cursor="")


@pytest.mark.parametrize(("actor", "scope"), ROLE_SCOPES)
async def test_action_list_scope_per_role(reads: Reads, actor: Actor, scope: ScopeFilter) -> None:
    await list_actions(reads.deps, actor, ActionListParams())
    assert reads.last(reads.actions).scope == scope


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        pytest.param(
            {
                "page": 0,
                "limit": 101,
                "sort_by": "title",
                "sort_order": "random",
                "budget_min": Decimal(-1),
                "search": "x" * 201,
            },
            {"page", "limit", "sortBy", "sortOrder", "budgetMin", "search"},
            id="everything-at-once",
        ),
        pytest.param(
            {"budget_min": Decimal(10), "budget_max": Decimal(5)}, {"budgetMax"}, id="budget"
        ),
        pytest.param({"assigned_to": ["e"] * 0 + [f"e{i}" for i in range(101)]}, {"assignedTo"},
                     id="too-many-assignees"),
    ],
)  # fmt: skip
async def test_bad_action_list_parameters(
    reads: Reads, params: dict[str, Any], fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await list_actions(reads.deps, AS_ADMIN, ActionListParams(**params))
    assert _fields(raised.value) == fields
    assert reads.actions.calls == []


async def test_listing_actions_without_the_permission_is_403(reads: Reads) -> None:
    with pytest.raises(PermissionDenied) as raised:
        await list_actions(
            reads.deps,
            actor_for(AGENT, permissions=frozenset({Permission.CUSTOMERS_READ})),
            ActionListParams(),
        )
    assert raised.value.required_permission == Permission.ACTIONS_READ.value
    assert reads.actions.calls == []


# --- POST /customers/search ------------------------------------------------------------------


async def test_search_customers_as_documented(reads: Reads) -> None:
    await search_customers(
        reads.deps,
        AS_AGENT,
        SearchParams(
            query=" محمد ",
            filters={"stage": ["property_matching", "site_visit"], "city": ["الرياض"]},
            fuzzy=True,
            limit=20,
        ),
    )
    assert reads.last(reads.customers) == SearchQuery(
        scope=AGENT_SCOPE,
        text="محمد",
        conditions=(
            Condition("stage", Op.IN, (Stage.PROPERTY_MATCHING, Stage.SITE_VISIT)),
            Condition("city", Op.IN, ("الرياض",)),
        ),
        fuzzy=True,
        limit=20,
    )


async def test_search_exact_mode(reads: Reads) -> None:
    await search_customers(
        reads.deps, AS_ADMIN, SearchParams(query="0512345678", fuzzy=False, limit=5)
    )
    query = reads.last(reads.customers)
    assert (query.text, query.fuzzy, query.limit, query.conditions) == (
        "0512345678",
        False,
        5,
        (),
    )


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        pytest.param(SearchParams(query="   "), {"query"}, id="empty-query"),
        pytest.param(SearchParams(query=""), {"query"}, id="no-query"),
        pytest.param(SearchParams(query="x" * 201), {"query"}, id="query-too-long"),
        pytest.param(
            SearchParams(query=" ", limit=0, filters={"stage": ["lost"]}),
            {"query", "limit", "filters.stage[0]"},
            id="everything-at-once",
        ),
    ],
)
async def test_bad_search(reads: Reads, params: SearchParams, fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await search_customers(reads.deps, AS_AGENT, params)
    assert _fields(raised.value) == fields
    assert reads.customers.calls == []


async def test_search_needs_the_read_permission(reads: Reads) -> None:
    with pytest.raises(PermissionDenied):
        await search_customers(
            reads.deps, actor_for(AGENT, permissions=frozenset()), SearchParams(query="x")
        )


# --- statistics and filter options -----------------------------------------------------------


async def test_customer_stats_window_and_group(reads: Reads) -> None:
    await customer_stats(
        reads.deps,
        AS_MANAGER,
        date_from=date(2024, 1, 1),
        date_to=date(2024, 1, 31),
        group_by="employee",
    )
    scope, window, group_by = reads.last(reads.customers)
    assert scope == ScopeFilter(ORG, Reach.TEAM, MANAGER.id)
    assert window == StatsWindow(
        now=NOW,
        tz=reads.deps.settings.time_zone,
        date_from=_utc(2023, 12, 31, 21),
        date_to=_utc(2024, 1, 31, 21) - timedelta(microseconds=1),
    )
    assert group_by == "employee"


@pytest.mark.parametrize("group_by", ["stage", "source", "employee", "city", None])
async def test_customer_stats_groups(reads: Reads, group_by: str | None) -> None:
    await customer_stats(reads.deps, AS_ADMIN, group_by=group_by)
    scope, window, grouped = reads.last(reads.customers)
    assert (scope, grouped) == (ALL, group_by)
    assert (window.date_from, window.date_to) == (None, None)


async def test_bad_customer_stats_parameters_are_all_named(reads: Reads) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await customer_stats(
            reads.deps,
            AS_ADMIN,
            date_from=_utc(2024, 2, 1),
            date_to=_utc(2024, 1, 1),
            group_by="month",
        )
    assert _fields(raised.value) == {"groupBy", "dateTo"}
    assert reads.customers.calls == []


@pytest.mark.parametrize(("actor", "scope"), ROLE_SCOPES)
async def test_filter_options_are_scoped(reads: Reads, actor: Actor, scope: ScopeFilter) -> None:
    await filter_options(reads.deps, actor)
    assert reads.last(reads.customers) == scope


async def test_filter_options_need_the_read_permission(reads: Reads) -> None:
    with pytest.raises(PermissionDenied):
        await filter_options(reads.deps, actor_for(AGENT, permissions=frozenset()))
    assert reads.customers.calls == []


@pytest.mark.parametrize(
    ("actor", "assigned_to", "scope"),
    [
        pytest.param(AS_AGENT, AGENT.id, AGENT_SCOPE, id="agent-self"),
        pytest.param(AS_AGENT, None, AGENT_SCOPE, id="agent-all-own"),
        pytest.param(
            AS_MANAGER, TEAMMATE.id, ScopeFilter(ORG, Reach.TEAM, MANAGER.id), id="manager-team"
        ),
        pytest.param(AS_ADMIN, OUTSIDER.id, ALL, id="admin-anyone"),
        pytest.param(AS_ADMIN, "emp_unknown", ALL, id="admin-unknown-employee"),
        pytest.param(AS_VIEWER, VIEWER.id, ScopeFilter(ORG, Reach.OWN, VIEWER.id), id="viewer"),
    ],
)
async def test_action_stats_for_an_employee_in_reach(
    reads: Reads, actor: Actor, assigned_to: str | None, scope: ScopeFilter
) -> None:
    await action_stats(
        reads.deps, actor, assigned_to=assigned_to, date_from=_utc(2024, 1, 1), date_to=None
    )
    got_scope, window, got_assigned = reads.last(reads.actions)
    assert (got_scope, got_assigned) == (scope, assigned_to)
    assert window == StatsWindow(
        now=NOW, tz=reads.deps.settings.time_zone, date_from=_utc(2024, 1, 1)
    )


@pytest.mark.parametrize(
    ("actor", "assigned_to"),
    [
        pytest.param(AS_AGENT, TEAMMATE.id, id="agent-asks-for-a-colleague"),
        pytest.param(AS_AGENT, "emp_unknown", id="agent-asks-for-unknown"),
        pytest.param(AS_MANAGER, OUTSIDER.id, id="manager-outside-team"),
        pytest.param(AS_VIEWER, AGENT.id, id="viewer-asks-for-agent"),
    ],
)
async def test_action_stats_for_someone_out_of_reach_is_denied(
    reads: Reads, actor: Actor, assigned_to: str
) -> None:
    with pytest.raises(PermissionDenied):
        await action_stats(reads.deps, actor, assigned_to=assigned_to)
    assert reads.actions.calls == []


async def test_bad_action_stats_window(reads: Reads) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await action_stats(
            reads.deps, AS_ADMIN, date_from=date(2024, 2, 1), date_to=date(2024, 1, 31)
        )
    assert _fields(raised.value) == {"dateTo"}
    assert reads.actions.calls == []


async def test_action_stats_need_the_read_permission(reads: Reads) -> None:
    with pytest.raises(PermissionDenied):
        await action_stats(reads.deps, actor_for(AGENT, permissions=frozenset()))
    assert reads.actions.calls == []


# --- GET /employees --------------------------------------------------------------------------


async def test_list_employees_passes_the_filters(reads: Reads) -> None:
    result = await list_employees(reads.deps, AS_VIEWER, role=Role.SALES_AGENT, is_active=True)
    assert reads.employees.calls == [("list", (ORG, "sales_agent", True))]
    assert (list(result.employees), result.workloads) == ([ADMIN, AGENT], None)


async def test_list_employees_with_workloads_in_one_call(reads: Reads) -> None:
    result = await list_employees(reads.deps, AS_AGENT, include_stats=True)
    assert reads.employees.calls == [
        ("list", (ORG, None, None)),
        (
            "workloads",
            (ORG, (ADMIN.id, AGENT.id), StatsWindow(now=NOW, tz=reads.deps.settings.time_zone)),
        ),
    ]
    assert result.workloads == {
        ADMIN.id: EmployeeWorkload(1, 2, 3, None),
        AGENT.id: EmployeeWorkload(1, 2, 3, None),
    }


async def test_list_employees_needs_only_membership(reads: Reads) -> None:
    # No permission of the document's five is needed for the assignment pickers (rules §4).
    result = await list_employees(reads.deps, actor_for(AGENT, permissions=frozenset()))
    assert list(result.employees) == [ADMIN, AGENT]


# --- the catalog itself ----------------------------------------------------------------------


def test_every_catalog_sort_key_is_a_sortable_field() -> None:
    # A set: the order is the entity's declaration order (domain.model's marks).
    assert set(CUSTOMER_CATALOG.sortable) == {
        "name",
        "priority",
        "leadScore",
        "totalDealValue",
        "createdAt",
        "lastContactAt",
    }
    assert ACTION_CATALOG.sortable == ("priority", "dueDate", "createdAt")
    assert CUSTOMER_CATALOG.sort_field("dealValue") == "totalDealValue"
    assert CUSTOMER_CATALOG.sort_field("phone") is None


def test_catalog_rejects_inconsistent_specs() -> None:
    with pytest.raises(ValueError, match="enum"):
        FieldSpec("stage", ValueKind.ENUM)
    with pytest.raises(ValueError, match="list-valued"):
        FieldSpec("scores", ValueKind.INTEGER, many=True)
    with pytest.raises(ValueError, match="sort alias"):
        FieldCatalog.of("x", [FieldSpec("a", ValueKind.TEXT)], {"b": "a"})


def test_list_valued_fields_take_only_equality_operators() -> None:
    for catalog in (CUSTOMER_CATALOG, ACTION_CATALOG):
        for spec in catalog.fields.values():
            if spec.many:
                assert spec.operators == {Op.EQ, Op.NE, Op.IN, Op.NIN}


def test_ordered_flag_is_for_single_enums() -> None:
    with pytest.raises(ValueError, match="ordered"):
        FieldSpec("leadScore", ValueKind.INTEGER, ordered=True)


def _sql_value_type(kind: ValueKind) -> str:
    return {
        ValueKind.ID: "text",
        ValueKind.TEXT: "text",
        ValueKind.ENUM: "enum",
        ValueKind.INTEGER: "int",
        ValueKind.DECIMAL: "decimal",
        ValueKind.DATE: "date",
        ValueKind.DATETIME: "datetime",
    }[kind]


@pytest.mark.parametrize(
    ("catalog", "sql_fields", "sql_sorts"),
    [
        pytest.param(CUSTOMER_CATALOG, "CUSTOMER_FIELDS", "CUSTOMER_SORTS", id="customers"),
        pytest.param(ACTION_CATALOG, "ACTION_FIELDS", "ACTION_SORTS", id="actions"),
    ],
)
def test_the_sql_adapter_compiles_everything_the_catalog_allows(
    catalog: FieldCatalog, sql_fields: str, sql_sorts: str
) -> None:
    """Every field, operator, value type and sort key the use cases may send is one the SQL
    query compiler knows (the application layer cannot import it, so the check lives here)."""
    from customers_hub.adapters.sql import filters

    fields = getattr(filters, sql_fields)
    sorts = getattr(filters, sql_sorts)
    for path, spec in catalog.fields.items():
        assert path in fields, path
        sql = fields[path]
        assert spec.operators <= sql.ops, (path, spec.operators - sql.ops)
        assert sql.value_type.value == _sql_value_type(spec.kind), path
        assert sql.enum is spec.enum, path
        if spec.nullable:
            assert sql.nullable, path
    for path in (*catalog.sortable, *catalog.sort_aliases):
        assert path in sorts, path

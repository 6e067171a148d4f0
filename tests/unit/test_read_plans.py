"""Read plans (issue 13, "Decide access once"): every cached read is planned by a pure
function of the application, which makes all of the read's access decisions; the edge keys the
cache by the plan and decides nothing itself."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

import customers_hub
from customers_hub.application.read_plans import (
    CustomerListPlan,
    ReadPlan,
    customer_view_decision,
    reader_for,
)
from customers_hub.application.use_cases import customers, reads, statistics_reads
from customers_hub.application.use_cases.reads import (
    AdvancedQuery,
    CustomerListParams,
    SearchParams,
    customer_list_query,
)
from customers_hub.domain.access import Operation, Reach, RecordScope
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http import caching
from customers_hub.testing.strategies import ROLE_PERMISSIONS

SOURCE = Path(customers_hub.__file__).parent
HTTP = SOURCE / "entrypoints" / "http"
RIYADH = ZoneInfo("Asia/Riyadh")


def actor(role: Role, *, permissions: frozenset[str] | None = None, user: str = "") -> Actor:
    return Actor(
        user_id=user or f"emp_{role.value}",
        organization_id="org_a",
        role=role,
        permissions=frozenset(ROLE_PERMISSIONS[role] if permissions is None else permissions),
        name="x",
    )


ADMIN = actor(Role.ADMIN)
MANAGER = actor(Role.SALES_MANAGER)
AGENT = actor(Role.SALES_AGENT)

# Every cached read's plan, for a caller: what the handlers make before the cache.
PLANS: dict[str, Callable[[Actor], ReadPlan]] = {
    "list": lambda a: reads.plan_list_customers(a, CustomerListParams()),
    "query": lambda a: reads.plan_query_customers(a, AdvancedQuery()),
    "search": lambda a: reads.plan_search_customers(a, SearchParams(query="x")),
    "filters": lambda a: statistics_reads.plan_filter_options(a),
    "stats": lambda a: statistics_reads.plan_customer_stats(a, today=date(2025, 1, 1)),
    "action stats": lambda a: statistics_reads.plan_action_stats(a, today=date(2025, 1, 1)),
    "employees": lambda a: reads.plan_list_employees(a),
}


@pytest.mark.parametrize("name", sorted(set(PLANS) - {"employees"}))
def test_every_plan_refuses_a_token_without_the_permission(name: str) -> None:
    # Employees are listed by everyone (pickers); every other read needs a permission.
    for role in Role:
        with pytest.raises(PermissionDenied):
            PLANS[name](actor(role, permissions=frozenset()))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_plan_is_a_pure_value_of_the_caller_and_the_request(name: str) -> None:
    plan = PLANS[name](ADMIN)
    again = PLANS[name](ADMIN)
    assert plan == again
    assert caching.plan_key(plan) == caching.plan_key(again)
    assert plan.reader.organization_id == "org_a"
    # Another caller's scope is another key (the employees list is everyone's alike).
    other = PLANS[name](AGENT)
    assert (caching.plan_key(other) == caching.plan_key(plan)) is (name == "employees")


def test_the_lists_own_rules_are_in_its_plan() -> None:
    for who in (MANAGER, AGENT):
        with pytest.raises(PermissionDenied):  # consents are an admin's (rules §8)
            reads.plan_list_customers(who, CustomerListParams(consent=("whatsapp",)))
        with pytest.raises(PermissionDenied):  # the trash is for who may restore
            reads.plan_list_customers(who, CustomerListParams(deleted=True))
    assert reads.plan_list_customers(ADMIN, CustomerListParams(consent=("!sms",), deleted=True))
    # 403 before 400.
    with pytest.raises(PermissionDenied):
        reads.plan_list_customers(AGENT, CustomerListParams(consent=("fax",), limit=0))


def test_a_plan_names_every_bad_parameter_at_once() -> None:
    params = CustomerListParams(limit=0, lead_score_min=9, lead_score_max=1, consent=("fax",))
    with pytest.raises(ValidationFailed) as bad:
        reads.plan_list_customers(ADMIN, params)
    assert {e.field for e in bad.value.errors} == {"limit", "leadScoreMax", "consent"}
    with pytest.raises(ValidationFailed) as stats:
        statistics_reads.plan_customer_stats(ADMIN, group_by="weekday")
    assert [e.field for e in stats.value.errors] == ["groupBy"]
    with pytest.raises(ValidationFailed):
        reads.plan_search_customers(ADMIN, SearchParams(query=" "))
    with pytest.raises(ValidationFailed):
        reads.plan_query_customers(ADMIN, AdvancedQuery(limit="ten"))


def test_a_range_the_zone_decides_is_left_to_the_run_step() -> None:
    """A local day from 2 January and an instant on 1 January 22:00 UTC: inverted in UTC,
    a valid range in Riyadh (the day starts at 21:00 UTC). The plan cannot know the zone."""
    params = CustomerListParams(
        created_from=date(2025, 1, 2), created_to=datetime(2025, 1, 1, 22, tzinfo=ZoneInfo("UTC"))
    )
    plan = reads.plan_list_customers(ADMIN, params)  # not refused
    customer_list_query(params, plan.reader.scope, RIYADH)  # valid where the zone is Riyadh
    with pytest.raises(ValidationFailed):
        customer_list_query(params, plan.reader.scope, ZoneInfo("UTC"))
    # Other errors of such a request are the run step's too, so it names them all at once.
    both = CustomerListParams(created_from=date(2025, 1, 2), created_to=date(2025, 1, 1), limit=0)
    deferred = reads.plan_list_customers(ADMIN, both)
    with pytest.raises(ValidationFailed) as bad:
        customer_list_query(both, deferred.reader.scope, RIYADH)
    assert {e.field for e in bad.value.errors} == {"limit", "createdTo"}


def test_the_list_key_is_the_one_of_its_plan() -> None:
    plan = reads.plan_list_customers(MANAGER, CustomerListParams(limit=7))
    assert isinstance(plan, CustomerListPlan)
    assert plan.reader == reader_for(MANAGER, Operation.READ_CUSTOMERS)
    assert plan.reader.scope.kind is Reach.TEAM
    key = caching.plan_key(plan)
    assert key == caching.customer_list_key(plan.reader, "list", plan.params, 1)
    cursor = reads.plan_list_customers(MANAGER, CustomerListParams(limit=7, cursor=""))
    assert caching.plan_key(cursor).name.endswith(":cursor")


def test_a_statistics_plan_needs_its_day_for_a_key() -> None:
    plan = statistics_reads.plan_customer_stats(ADMIN)
    assert plan.day is None
    with pytest.raises(TypeError):
        caching.plan_key(plan)
    dated = plan.on_day(date(2025, 3, 1))
    assert dated.day == date(2025, 3, 1)
    assert caching.plan_key(dated) != caching.plan_key(plan.on_day(date(2025, 3, 2)))


# --- the edge decides nothing ------------------------------------------------------------------


def _calls_named(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


def test_the_cached_read_modules_make_no_access_check() -> None:
    for module in ("cached_read.py", "cached_hits.py", "caching.py"):
        tree = ast.parse((HTTP / module).read_text(encoding="utf-8"))
        for check in ("require", "enforce", "enforce_decision", "decide", "scope_filter"):
            assert not _calls_named(tree, check), (module, check)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert "Operation" not in names, module


def _handlers_with_cached_read() -> list[tuple[str, ast.AsyncFunctionDef]]:
    found = []
    for path in sorted((HTTP / "controllers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.AsyncFunctionDef) and _calls_named(node, "cached_read"):
                found.append((path.name, node))
    return found


def test_every_cached_read_is_keyed_by_a_plan_the_handler_made() -> None:
    handlers = _handlers_with_cached_read()
    assert len(handlers) >= 7  # list, query, search, filters, stats, action stats, employees
    for module, handler in handlers:
        where = f"{module}:{handler.name}"
        planned = [
            call
            for call in ast.walk(handler)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr.startswith("plan_")
        ]
        assert planned, f"{where} makes no plan"
        for call in _calls_named(handler, "cached_read"):
            assert len(call.args) == 3, f"{where}: cached_read(cache, plan, load)"
            plan = call.args[1]
            assert isinstance(plan, ast.Name), where
            assert plan.id == "plan", where
        names = {n.id for n in ast.walk(handler) if isinstance(n, ast.Name)}
        assert "Operation" not in names, f"{where} names an operation"
        assert not _calls_named(handler, "require"), where
        assert not _calls_named(handler, "enforce"), where


def test_no_cached_read_lives_outside_those_handlers() -> None:
    in_handlers = sum(len(_calls_named(h, "cached_read")) for _, h in _handlers_with_cached_read())
    everywhere = sum(
        len(_calls_named(ast.parse(path.read_text(encoding="utf-8")), "cached_read"))
        for path in SOURCE.rglob("*.py")
    )
    assert everywhere == in_handlers


# --- one customer: the decision on the record read ----------------------------------------------


def test_the_decision_on_a_customer_read_is_one_function() -> None:
    mine = RecordScope("org_a", frozenset({"emp_sales_agent"}), frozenset())
    theirs = RecordScope("org_a", frozenset({"emp_other"}), frozenset())
    customer_view_decision(AGENT, "c1", mine, restricted=False)
    with pytest.raises(PermissionDenied):
        customer_view_decision(AGENT, "c1", theirs, restricted=False)
    for who in (MANAGER, AGENT):  # restricted: no such customer, whatever the scope
        with pytest.raises(NotFound):
            customer_view_decision(who, "c1", mine, restricted=True)
    customer_view_decision(ADMIN, "c1", theirs, restricted=True)
    with pytest.raises(NotFound):  # not another organization's, even for an admin
        customer_view_decision(
            ADMIN, "c1", RecordScope("org_b", frozenset(), frozenset()), restricted=False
        )


def test_the_details_handler_and_the_use_case_share_that_decision() -> None:
    controllers = ast.parse((HTTP / "controllers" / "customers.py").read_text(encoding="utf-8"))
    handler = next(
        node
        for node in ast.walk(controllers)
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "get_customer"
    )
    assert _calls_named(handler, "customer_view_decision")
    attributes = {n.attr for n in ast.walk(handler) if isinstance(n, ast.Attribute)}
    assert "restricted" in attributes  # handed to the decision, not compared here
    names = {n.id for n in ast.walk(handler) if isinstance(n, ast.Name)}
    assert "NotFound" not in names, "the restricted rule is the decision's"
    # Before the read, the use case's plan decides (role, token, consents, include): the
    # handler itself makes no check.
    assert _calls_named(handler, "plan_get_customer")
    for check in ("require", "require_admin", "enforce", "decide"):
        assert not _calls_named(handler, check), check
    assert "Operation" not in names
    use_case = ast.parse(
        (SOURCE / "application" / "use_cases" / "customers.py").read_text(encoding="utf-8")
    )
    assert _calls_named(use_case, "customer_record_decision")


def test_the_customer_plan_refuses_the_role_before_the_include() -> None:
    viewer_of_nothing = actor(Role.VIEWER, permissions=frozenset())
    with pytest.raises(PermissionDenied):  # 403 first, whatever else is wrong
        customers.plan_get_customer(viewer_of_nothing, "c1", include=frozenset({"secrets"}))
    with pytest.raises(PermissionDenied):  # consents are an admin's (rules §8)
        customers.plan_get_customer(MANAGER, "c1", include=frozenset({"consents"}))
    with pytest.raises(ValidationFailed) as bad:
        customers.plan_get_customer(AGENT, "c1", include=frozenset({"secrets", "properties"}))
    assert [e.field for e in bad.value.errors] == ["include"]
    plan = customers.plan_get_customer(
        ADMIN, "c1", include=frozenset({"consents", "properties"}), include_deleted=True
    )
    assert (plan.customer_id, plan.include, plan.include_deleted) == (
        "c1",
        frozenset({"consents", "properties"}),
        True,
    )
    # Only an admin reads the trash.
    assert not customers.plan_get_customer(MANAGER, "c1", include_deleted=True).include_deleted


def test_a_list_without_dates_or_filters_is_planned_with_its_query() -> None:
    plain = CustomerListParams(limit=7, city=("الرياض",), sort_by="name")
    plan = reads.plan_list_customers(AGENT, plain)
    assert plan.query == customer_list_query(plain, plan.reader.scope, RIYADH)
    # Not part of the plan's identity: the key and equality follow the request alone.
    assert plan == attrs.evolve(plan, query=None)
    for zoned in (
        CustomerListParams(created_from=date(2025, 1, 1)),
        CustomerListParams(last_contact_to=date(2025, 1, 1)),
        CustomerListParams(filters={"city": {"eq": "جدة"}}),
    ):
        assert reads.plan_list_customers(AGENT, zoned).query is None


def test_a_query_and_a_search_without_datetime_conditions_are_planned_with_their_query() -> None:
    """The run step then neither reads the zone nor validates again; a condition on a datetime
    field (a bare date there is a local day) leaves the query to the run step."""
    plain = {"leadScore": {"gte": 40}, "stage": ["qualified"], "city": "الرياض"}
    dated = {**plain, "createdAt": {"gte": "2025-03-01"}}
    planned = reads.plan_query_customers(AGENT, AdvancedQuery(filters=plain, limit=7))
    zoned = reads.advanced_query(
        AdvancedQuery(filters=plain, limit=7), planned.reader.scope, RIYADH
    )
    assert planned.query == zoned
    assert reads.plan_query_customers(AGENT, AdvancedQuery(filters=dated)).query is None
    searched = reads.plan_search_customers(AGENT, SearchParams(query="سارة", filters=plain))
    assert searched.query is not None
    assert searched.query.text == "سارة"
    assert searched.query.conditions == zoned.conditions
    assert reads.plan_search_customers(AGENT, SearchParams(query="x", filters=dated)).query is None
    # Not part of the plans' identity: the cache key follows from the request alone.
    assert planned == reads.plan_query_customers(AGENT, AdvancedQuery(filters=plain, limit=7))

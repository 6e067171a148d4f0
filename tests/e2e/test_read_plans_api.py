"""Decide access once (issue 13): a cached read is planned by its use case's pure plan function
before the cache is asked, so every check of the read holds on a cache hit as on a miss, and
the cached hit path answers only an alias whose plan was made and allowed.

The plan functions are replaced through their modules (``reads.plan_list_customers`` …), the
way the handlers call them, to see that the edge uses them and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.read_plans import CustomerListPlan
from customers_hub.application.use_cases import reads
from customers_hub.domain.enums import Permission
from customers_hub.domain.errors import PermissionDenied
from customers_hub.domain.model import Actor
from customers_hub.testing.strategies import ROLE_PERMISSIONS

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"

# Every cached read with a permission a token may lack: (method, path, body, permission).
CACHED_READS: list[tuple[str, str, dict[str, Any] | None, Permission]] = [
    ("GET", f"{CUSTOMERS}?limit=5", None, Permission.CUSTOMERS_READ),
    ("POST", f"{CUSTOMERS}/query", {"filters": {}, "limit": 5}, Permission.CUSTOMERS_READ),
    ("POST", f"{CUSTOMERS}/search", {"query": "ريم"}, Permission.CUSTOMERS_READ),
    ("GET", f"{CUSTOMERS}/filters", None, Permission.CUSTOMERS_READ),
    ("GET", f"{CUSTOMERS}/stats", None, Permission.CUSTOMERS_READ),
    ("GET", f"{CUSTOMERS}/actions/stats", None, Permission.ACTIONS_READ),
]


async def _ask(
    client: Client, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    if method == "GET":
        return await client.get(url, headers=headers)
    return await client.post(url, json=body, headers=headers)


@pytest.fixture
def plans_made(monkeypatch: pytest.MonkeyPatch) -> list[Actor]:
    """The callers of every customers-list plan made (the real plan is still made)."""
    made: list[Actor] = []
    real = reads.plan_list_customers

    def counted(actor: Actor, params: reads.CustomerListParams) -> CustomerListPlan:
        made.append(actor)
        return real(actor, params)

    monkeypatch.setattr(reads, "plan_list_customers", counted)
    return made


async def test_consents_stay_an_admins_filter_after_an_admin_cached_the_same_request(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer(assigned="manager")
    url = f"{CUSTOMERS}?consent=whatsapp&limit=10"
    for _ in range(2):  # a miss, then the hit path
        assert (await client.get(url, headers=token_for("admin"))).status_code == 200
    for who in ("manager", "agent", "viewer"):
        for _ in range(2):
            refused = await client.get(url, headers=token_for(who))
            assert refused.status_code == 403, (who, refused.text)


@pytest.mark.parametrize(("method", "url", "body", "permission"), CACHED_READS)
async def test_a_token_without_the_permission_is_refused_after_the_read_was_cached(
    client: Client,
    token_for: TokenFor,
    staff: Staff,
    new_customer: NewCustomer,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    permission: Permission,
) -> None:
    await new_customer()
    admin = token_for("admin")
    first = await _ask(client, method, url, body, admin)
    again = await _ask(client, method, url, body, admin)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json()["data"] == first.json()["data"]
    lacking = token_for(
        "admin", permissions=ROLE_PERMISSIONS[staff.actor("admin").role] - {permission}
    )
    for _ in range(2):
        refused = await _ask(client, method, url, body, lacking)
        assert refused.status_code == 403, refused.text


async def test_a_check_added_to_a_plan_holds_on_a_request_the_cache_would_answer(
    client: Client,
    token_for: TokenFor,
    new_customer: NewCustomer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await new_customer()
    admin = token_for("admin")
    loads: list[str] = []
    real_run = reads.run_list_customers

    async def counted_run(deps: Any, plan: CustomerListPlan) -> reads.CustomerList:
        loads.append(plan.reader.actor.user_id)
        return await real_run(deps, plan)

    monkeypatch.setattr(reads, "run_list_customers", counted_run)
    first = await client.get(f"{CUSTOMERS}?limit=5", headers=admin)
    # Another query string (another alias) with the same plan: the same cache entry.
    same_plan = await client.get(f"{CUSTOMERS}?limit=5&page=1", headers=admin)
    assert first.status_code == same_plan.status_code == 200
    assert same_plan.headers["etag"] == first.headers["etag"]
    assert len(loads) == 1  # the second was a cache hit through the handler

    def refusing(actor: Actor, params: reads.CustomerListParams) -> CustomerListPlan:
        raise PermissionDenied(
            "a new rule of the list", required_permission="new", current_role=actor.role.value
        )

    monkeypatch.setattr(reads, "plan_list_customers", refusing)
    refused = await client.get(f"{CUSTOMERS}?limit=5&deleted=false", headers=admin)
    assert refused.status_code == 403, refused.text
    assert len(loads) == 1


async def test_only_an_alias_whose_plan_was_made_is_answered_without_planning(
    client: Client, token_for: TokenFor, staff: Staff, plans_made: list[Actor]
) -> None:
    """The hit path skips the plan only for an equal (handler, path, actor, query): every
    input of the plan. Each input changed alone is planned again."""
    url = f"{CUSTOMERS}?limit=7"
    admin = token_for("admin")
    for _ in range(3):
        assert (await client.get(url, headers=admin)).status_code == 200
    assert len(plans_made) == 1  # made once, then the hit path
    await client.get(f"{CUSTOMERS}?limit=8", headers=admin)  # the query
    assert len(plans_made) == 2
    fewer = ROLE_PERMISSIONS[staff.actor("admin").role] - {Permission.CUSTOMERS_DELETE}
    await client.get(url, headers=token_for("admin", permissions=fewer))  # the token
    assert len(plans_made) == 3
    assert plans_made[-1].permissions == fewer
    await client.get(url, headers=token_for("manager"))  # the caller and the role
    await client.get(url, headers=token_for("other_admin"))  # the organization
    assert [a.user_id for a in plans_made[-2:]] == [
        staff.actor("manager").user_id,
        staff.employees["other_admin"].id,
    ]
    for _ in range(2):  # each of them then answered by the hit path
        await client.get(url, headers=token_for("manager"))
    assert len(plans_made) == 5


async def test_bad_input_is_refused_by_the_plan_before_the_cache(
    client: Client, token_for: TokenFor, plans_made: list[Actor]
) -> None:
    admin = token_for("admin")
    url = f"{CUSTOMERS}?leadScoreMin=90&leadScoreMax=10&consent=fax&sortBy=nope"
    for _ in range(2):  # never stored, never remembered: planned and refused each time
        bad = await client.get(url, headers=admin)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
        fields = {e["field"] for e in bad.json()["error"]["details"]}
        assert fields == {"leadScoreMax", "consent", "sortBy"}, fields
    # 403 before 400: an agent asking for consents with bad parameters is refused first.
    agent = await client.get(url, headers=token_for("agent"))
    assert agent.status_code == 403
    assert len(plans_made) == 3

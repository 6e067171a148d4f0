"""Rate limits through the HTTP service: the document's numbers in the headers of every
response, 429 after the budget, per user and category, ``off`` disables them.

The session app runs with limits off (``conftest.hub_config``); these tests build apps of their
own on the session hub with limits on, each with a fresh limiter (in-process, or Redis with a
prefix of its own) so no test spends another's budget.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.adapters.ratelimit import RATE_LIMITS, InMemoryRateLimiter, RedisRateLimiter
from customers_hub.adapters.redis_support import redis_client
from customers_hub.application.rate_limits import RateCategory, RateLimit, RateLimiter
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import Container, Hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.http.ratelimits import RateLimitPolicy, request_category
from customers_hub.entrypoints.settings import HubConfig, parse_switch

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
API = "/api/v1"
CUSTOMERS = f"{API}/customers"
REDIS_ENV = "CUSTOMERS_HUB_TEST_REDIS_URL"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


class LimitedHub(Hub):
    """The session hub under another configuration and limiter; its lifespan leaves the session
    hub alone."""

    def __init__(self, container: Container, config: HubConfig, limiter: RateLimiter) -> None:
        super().__init__(container, config)
        self._limiter = limiter

    @property
    def rate_limiter(self) -> RateLimiter:
        return self._limiter

    async def start(self, *, migrate: bool | None = None) -> LimitedHub:
        return self

    async def close(self) -> None:
        await self._limiter.aclose()


Limited = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def limited(hub: Hub, auth: AuthSettings) -> Limited:
    """``async with limited(policy=..., limiter=..., enabled=True) as client`` — an app on the
    session hub with rate limits on (a fresh in-process limiter unless one is given)."""

    @asynccontextmanager
    async def make(
        *,
        policy: RateLimitPolicy | None = None,
        limiter: RateLimiter | None = None,
        config: HubConfig | None = None,
    ) -> AsyncIterator[Client]:
        cfg = config or attrs.evolve(hub.config, rate_limits_enabled=True)
        target = LimitedHub(hub.container, cfg, limiter or InMemoryRateLimiter())
        async with AsyncTestClient(app=create_app(target, auth=auth, rate_limits=policy)) as c:
            yield c

    return make


def tiny(role: Role, category: RateCategory, rule: RateLimit) -> RateLimitPolicy:
    """The document's limits with one bucket replaced."""
    limits = {r: dict(by_category) for r, by_category in RATE_LIMITS.items()}
    limits[role][category] = rule
    return RateLimitPolicy(
        limits=MappingProxyType({r: MappingProxyType(c) for r, c in limits.items()})
    )


def rate(response: Any) -> tuple[str, str]:
    """``(X-RateLimit-Limit, X-RateLimit-Remaining)`` of a response; the remaining count never
    reads above the limit."""
    limit, remaining = (
        response.headers["x-ratelimit-limit"],
        response.headers["x-ratelimit-remaining"],
    )
    assert int(remaining) <= int(limit)
    return limit, remaining


def burst(response: Any) -> str:
    """``X-RateLimit-Burst`` of a response."""
    return str(response.headers["x-ratelimit-burst"])


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    """A fresh limiter: in-process, or on the test Redis under a prefix of its own."""
    if request.param == "memory":
        yield InMemoryRateLimiter()
        return
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(f"{REDIS_ENV} is not set: run the tests with `make test`, which starts Redis")
    prefix = f"test:{uuid.uuid4().hex[:12]}:rl:"
    yield RedisRateLimiter(redis_client(url), prefix=prefix)
    admin = redis_client(url)
    try:
        keys = [k async for k in admin.scan_iter(match=f"{prefix}*", count=100)]
        if keys:
            await admin.delete(*keys)
    finally:
        await admin.aclose()


# --- the document's numbers ------------------------------------------------------------------


async def test_every_category_answers_the_documents_numbers(
    limited: Limited, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent")
    async with limited() as client:
        started = time.time()
        viewer = await client.get(CUSTOMERS, headers=token_for("viewer"))
        assert viewer.status_code == 200
        # 50/min, burst 75: 74 left, shown as 50 so that Remaining never reads above Limit.
        assert (*rate(viewer), burst(viewer)) == ("50", "50", "75")
        reset = int(viewer.headers["x-ratelimit-reset"])
        assert math.floor(started) <= reset <= math.ceil(time.time()) + 2  # one token: ~1.2 s
        again = await client.get(f"{CUSTOMERS}/filters", headers=token_for("viewer"))
        assert (*rate(again), burst(again)) == ("50", "50", "75")

        agent = token_for("agent")
        cases: list[tuple[str, str, dict[str, Any] | None, tuple[str, str, str]]] = [
            ("GET", CUSTOMERS, None, ("100", "100", "150")),
            ("PUT", f"{CUSTOMERS}/{customer.id}", {"notes": "x"}, ("30", "30", "50")),
            ("POST", f"{CUSTOMERS}/search", {"query": "محمد"}, ("20", "20", "30")),
            ("POST", f"{CUSTOMERS}/query", {"limit": 5}, ("20", "20", "30")),
            (
                "POST",
                f"{API}/customers/actions/bulk/complete",
                {"actionIds": []},
                ("10", "10", "15"),
            ),
            ("POST", f"{CUSTOMERS}/{customer.id}/documents", None, ("5", "5", "10")),
        ]
        for method, url, body, expected in cases:
            response = await client.request(method, url, headers=agent, json=body)
            got = (*rate(response), burst(response))
            assert got == expected, (method, url, response.status_code)
        for who, expected in (("admin", ("200", "200", "300")), ("manager", ("150", "150", "225"))):
            response = await client.get(CUSTOMERS, headers=token_for(who))
            assert (*rate(response), burst(response)) == expected, who

        for url in ("/health", "/ready", f"{API}/openapi.json", f"{API}/docs"):
            response = await client.get(url)
            assert response.status_code == 200, url
            assert not any(h in response.headers for h in RATE_HEADERS), url


async def test_with_the_real_limits_a_viewer_is_refused_after_its_burst(
    limited: Limited, token_for: TokenFor
) -> None:
    headers = token_for("viewer")
    async with limited() as client:
        refused_at = None
        for sent in range(1, 91):
            response = await client.get(f"{CUSTOMERS}/filters", headers=headers)
            if response.status_code == 429:
                refused_at = sent
                break
            assert response.status_code == 200, response.text
    # 75 at once, plus what refills at 50/min while they are sent (well under two seconds).
    assert refused_at is not None
    assert 76 <= refused_at <= 78, refused_at


# --- over budget -----------------------------------------------------------------------------


async def test_a_viewer_gets_429_after_its_read_budget(
    limited: Limited, limiter: RateLimiter, token_for: TokenFor
) -> None:
    policy = tiny(Role.VIEWER, RateCategory.READ, RateLimit(3, 60.0, 3))
    viewer = token_for("viewer", headers={"X-Request-ID": "req-limit-test"})
    async with limited(policy=policy, limiter=limiter) as client:
        remaining = []
        for _ in range(3):
            response = await client.get(CUSTOMERS, headers=viewer)
            assert response.status_code == 200, response.text
            remaining.append(rate(response))
        assert remaining == [("3", "2"), ("3", "1"), ("3", "0")]

        refused = await client.get(CUSTOMERS, headers=viewer)
        assert refused.status_code == 429
        body = refused.json()
        assert body["success"] is False
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert body["error"]["message"] == "Rate limit exceeded. Please try again later."
        details = body["error"]["details"]
        assert (details["limit"], details["remaining"]) == (3, 0)
        reset_at = datetime.fromisoformat(details["resetAt"].replace("Z", "+00:00"))
        assert details["resetAt"].endswith("Z")
        assert 0 < (reset_at - datetime.now(UTC)).total_seconds() <= 61
        assert int(refused.headers["x-ratelimit-reset"]) == int(reset_at.timestamp())
        assert rate(refused) == ("3", "0")
        assert 15 <= int(refused.headers["retry-after"]) <= 20  # one token at 3/min
        assert refused.headers["x-request-id"] == "req-limit-test"
        assert body["meta"]["requestId"] == "req-limit-test"

        # Other categories and other users keep their own budgets.
        search = await client.post(f"{CUSTOMERS}/search", headers=viewer, json={"query": "x"})
        assert search.status_code == 200, search.text
        assert (await client.get(CUSTOMERS, headers=token_for("agent"))).status_code == 200
        assert (await client.get(CUSTOMERS, headers=viewer)).status_code == 429


async def test_a_zero_limit_lets_the_access_policy_answer(
    limited: Limited, token_for: TokenFor
) -> None:
    viewer = token_for("viewer")
    async with limited() as client:
        for _ in range(3):
            response = await client.post(
                CUSTOMERS,
                headers=viewer,
                json={"name": "عميل", "phone": "+966501111222", "source": "manual"},
            )
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"
            assert rate(response) == ("0", "0")
        bulk = await client.post(
            f"{API}/customers/actions/bulk/complete", headers=viewer, json={"actionIds": ["a"]}
        )
        assert bulk.status_code == 403, bulk.text
        assert rate(bulk) == ("0", "0")


async def test_every_api_response_carries_the_headers(
    limited: Limited, token_for: TokenFor, staff: Staff
) -> None:
    admin = token_for("admin")
    async with limited() as client:
        answers = {
            200: await client.get(CUSTOMERS, headers=admin),
            400: await client.get(CUSTOMERS, headers=admin, params={"limit": "many"}),
            401: await client.get(CUSTOMERS),
            403: await client.get(CUSTOMERS, headers={**admin, "X-Organization-ID": "org_x"}),
            404: await client.get(f"{CUSTOMERS}/cust_missing", headers=admin),
        }
        etag = answers[200].headers["etag"]
        answers[304] = await client.get(CUSTOMERS, headers={**admin, "If-None-Match": etag})
        for status, response in answers.items():
            assert response.status_code == status, (status, response.text)
            assert all(h in response.headers for h in RATE_HEADERS), status
        assert answers[401].headers["x-ratelimit-limit"] == "5"  # by address, auth category
        assert staff.org


async def test_requests_without_a_valid_token_are_limited_by_address(
    limited: Limited, token_for: TokenFor
) -> None:
    async with limited() as client:
        for attempt in range(10):
            response = await client.get(CUSTOMERS, headers={"Authorization": "Bearer forged"})
            assert response.status_code == 401, response.text
            assert rate(response) == ("5", str(min(5, 9 - attempt)))
        refused = await client.get(CUSTOMERS)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(refused.headers["retry-after"]) >= 1
        # A valid token is counted as its user, not by address.
        assert (await client.get(CUSTOMERS, headers=token_for("agent"))).status_code == 200


# --- off -------------------------------------------------------------------------------------


async def test_off_disables_the_limits(limited: Limited, hub: Hub, token_for: TokenFor) -> None:
    config = HubConfig.from_env(
        {"CUSTOMERS_HUB_RATE_LIMITS": "off", "CUSTOMERS_HUB_DATA_DIR": str(hub.config.data_dir)},
        database_url=hub.config.database_url,
    )
    assert config.rate_limits_enabled is False
    viewer = token_for("viewer")
    async with limited(config=config) as client:
        for _ in range(80):  # past the viewer's burst of 75
            response = await client.get(f"{CUSTOMERS}/filters", headers=viewer)
            assert response.status_code == 200
            assert not any(h in response.headers for h in RATE_HEADERS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ("on", True), ("TRUE", True), ("1", True), ("off", False),
     ("false", False), ("0", False), (" Off ", False), ("no", False)],
)  # fmt: skip
def test_the_switch_reads_on_and_off(value: str | None, expected: bool) -> None:
    env = {} if value is None else {"CUSTOMERS_HUB_RATE_LIMITS": value}
    assert HubConfig.from_env(env).rate_limits_enabled is expected


def test_an_unknown_switch_value_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="CUSTOMERS_HUB_RATE_LIMITS"):
        HubConfig.from_env({"CUSTOMERS_HUB_RATE_LIMITS": "sometimes"})
    with pytest.raises(ValueError, match="X_SWITCH"):
        parse_switch("X_SWITCH", "maybe", default=True)


def test_the_redis_url_setting() -> None:
    assert HubConfig.from_env({}).redis_url is None
    assert HubConfig.from_env({"CUSTOMERS_HUB_REDIS_URL": "  "}).redis_url is None
    url = "redis://cache:6379/0"
    assert HubConfig.from_env({"CUSTOMERS_HUB_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    ("method", "path", "category"),
    [
        ("GET", "/api/v1/customers", RateCategory.READ),
        ("GET", "/api/v1/customers/actions/stats", RateCategory.READ),
        ("POST", "/api/v1/customers", RateCategory.WRITE),
        ("PUT", "/api/v1/customers/cust_1", RateCategory.WRITE),
        ("PATCH", "/api/v1/customers/actions/act_1", RateCategory.WRITE),
        ("DELETE", "/api/v1/customers/cust_1/", RateCategory.WRITE),
        ("POST", "/api/v1/customers/actions/bulk", RateCategory.BULK),
        ("POST", "/api/v1/customers/actions/bulk/snooze", RateCategory.BULK),
        ("POST", "/api/v1/customers/search", RateCategory.SEARCH),
        ("POST", "/api/v1/customers/query", RateCategory.SEARCH),
        ("POST", "/api/v1/customers/cust_1/documents", RateCategory.UPLOAD),
        ("GET", "/api/v1/customers/cust_1/documents/doc_1", RateCategory.READ),
        ("DELETE", "/api/v1/customers/cust_1/documents/doc_1", RateCategory.WRITE),
        ("GET", "/health", None),
        ("GET", "/ready", None),
        ("GET", "/api/v1/openapi.json", None),
        ("GET", "/api/v1/docs", None),
        ("GET", "/api/v1/docs/swagger.json", None),
    ],
)
def test_request_categories(method: str, path: str, category: RateCategory | None) -> None:
    assert request_category(method, path) is category

"""``GET /metrics``: the numbers move with the traffic, labels hold templates, never ids.

Each test scrapes before and after a few requests and compares (the registry is the process's,
shared by every app of the session, so only differences are asserted).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from customers_hub.adapters.metrics import OUTBOX_LAG, WEBHOOK_DELIVERIES
from customers_hub.adapters.ratelimit import RATE_LIMITS, InMemoryRateLimiter
from customers_hub.application.rate_limits import RateCategory, RateLimit, RateLimiter
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import Container, Hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.http.ratelimits import RateLimitPolicy
from customers_hub.entrypoints.settings import HubConfig

if TYPE_CHECKING:
    from conftest import MakeClient, NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
DETAILS_ROUTE = "/api/v1/customers/{customer_id}"
Samples = Mapping[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> tuple[Samples, str]:
    """Every sample of ``/metrics`` by (name, labels), and the raw text."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, response.text


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when it does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


class OwnHub(Hub):
    """The session hub under another configuration or limiter; its lifespan leaves it alone."""

    def __init__(
        self, container: Container, config: HubConfig, limiter: RateLimiter | None = None
    ) -> None:
        super().__init__(container, config)
        self._limiter = limiter

    @property
    def rate_limiter(self) -> RateLimiter:
        return self._limiter or super().rate_limiter

    async def start(self, *, migrate: bool | None = None) -> OwnHub:
        return self

    async def close(self) -> None:
        return None


async def read_twice(client: Client, token_for: TokenFor, customer_id: str) -> None:
    """Read a customer's details twice as the admin (the second from the cache)."""
    for _ in range(2):
        response = await client.get(f"/api/v1/customers/{customer_id}", headers=token_for("admin"))
        assert response.status_code == 200


async def test_requests_are_counted_by_route_template_and_timed(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    before, _ = await scrape(client)
    await read_twice(client, token_for, customer.id)
    missing = await client.get("/api/v1/no-such-route", headers=token_for("admin"))
    assert missing.status_code == 404
    after, text = await scrape(client)

    counter = "customers_hub_http_requests_total"
    labels = {"method": "GET", "route": DETAILS_ROUTE, "status": "200"}
    assert value(after, counter, **labels) - value(before, counter, **labels) == 2
    histogram = "customers_hub_http_request_duration_seconds_count"
    timed = {"method": "GET", "route": DETAILS_ROUTE}
    assert value(after, histogram, **timed) - value(before, histogram, **timed) == 2
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, counter, **unmatched) - value(before, counter, **unmatched) == 1
    # Templates only: neither the record's id nor the unknown path is a label.
    assert customer.id not in text
    assert "no-such-route" not in text


async def test_a_cached_read_counts_a_miss_then_a_hit_of_its_family(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    before, _ = await scrape(client)
    await read_twice(client, token_for, customer.id)
    after, _ = await scrape(client)
    hits, misses = "customers_hub_cache_hits_total", "customers_hub_cache_misses_total"
    assert value(after, misses, family="customer") - value(before, misses, family="customer") == 1
    assert value(after, hits, family="customer") - value(before, hits, family="customer") == 1


async def test_pool_gauges_follow_the_connections_in_use(client: Client, hub: Hub) -> None:
    idle, _ = await scrape(client)
    assert value(idle, "customers_hub_db_pool_size") >= 1
    async with hub.engine.connect():
        busy, _ = await scrape(client)
    in_use = "customers_hub_db_pool_checked_out"
    assert value(busy, in_use) == value(idle, in_use) + 1
    for name in ("customers_hub_db_pool_overflow", "customers_hub_db_pool_checked_in"):
        assert (name, frozenset()) in busy


async def test_rate_limit_refusals_are_counted_by_category(
    hub: Hub, auth: AuthSettings, token_for: TokenFor
) -> None:
    limits = {role: dict(by_category) for role, by_category in RATE_LIMITS.items()}
    limits[Role.ADMIN][RateCategory.READ] = RateLimit(limit=1, window=60, burst=1)
    policy = RateLimitPolicy(
        limits=MappingProxyType({r: MappingProxyType(c) for r, c in limits.items()})
    )
    config = attrs.evolve(hub.config, rate_limits_enabled=True)
    app = create_app(
        OwnHub(hub.container, config, InMemoryRateLimiter()), auth=auth, rate_limits=policy
    )
    async with AsyncTestClient(app=app) as limited:
        before, _ = await scrape(limited)
        statuses = [
            (await limited.get("/api/v1/employees", headers=token_for("admin"))).status_code
            for _ in range(3)
        ]
        after, _ = await scrape(limited)
    assert statuses == [200, 429, 429]
    refusals = "customers_hub_rate_limit_refusals_total"
    assert value(after, refusals, category="read") - value(before, refusals, category="read") == 2


async def test_websocket_connections_are_a_gauge(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    before, _ = await scrape(client)
    token = token_for("agent")["Authorization"].removeprefix("Bearer ")
    session = await client.websocket_connect(f"/api/v1/ws?token={token}")
    with session as socket:
        socket.send_json({"event": "ping"})
        assert socket.receive_json(timeout=5)["event"] == "pong"
        during, _ = await scrape(client)
    gauge = "customers_hub_websocket_connections"
    assert value(during, gauge) == value(before, gauge) + 1


async def test_outbox_and_webhook_metrics_are_exposed(client: Client) -> None:
    OUTBOX_LAG.set(0)
    WEBHOOK_DELIVERIES.labels(outcome="delivered")
    samples, _ = await scrape(client)
    assert ("customers_hub_outbox_lag_seconds", frozenset()) in samples
    assert ("customers_hub_outbox_pending", frozenset()) in samples
    assert ("customers_hub_webhook_deliveries_total", frozenset({("outcome", "delivered")})) in (
        samples
    )


async def test_a_metrics_token_protects_the_endpoint(make_client: MakeClient, hub: Hub) -> None:
    config = attrs.evolve(hub.config, metrics_token="scrape-secret")
    async with make_client(hub=OwnHub(hub.container, config)) as protected:
        refused = await protected.get("/metrics")
        wrong = await protected.get("/metrics", headers={"Authorization": "Bearer nope"})
        granted = await protected.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert granted.status_code == 200
    assert "customers_hub_http_requests_total" in granted.text

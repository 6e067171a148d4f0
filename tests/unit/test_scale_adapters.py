"""In-process cache, rate limiter and event bus; the event wire (payloads, routing, invalidation).

The Redis adapters are tested against a real Redis in tests/integration/test_redis_adapters.py.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from customers_hub.adapters.cache import InMemoryCache
from customers_hub.adapters.event_wire import (
    CHANNEL_ACTIONS,
    CHANNEL_CUSTOMERS,
    CHANNEL_STATS,
    OutboundEvent,
    invalidation_for,
    jsonable,
    refreshes_stats,
    stats_updated,
    to_outbound,
    wire_timestamp,
)
from customers_hub.adapters.ratelimit import (
    CATEGORY_LIMITS,
    RATE_LIMITS,
    ROLE_LIMITS,
    InMemoryRateLimiter,
    rate_limit_for,
    rate_limit_key,
)
from customers_hub.adapters.redis_events import InProcessEventBus
from customers_hub.application.caching import (
    CACHE_TTLS,
    CacheKey,
    CacheKeys,
    CacheTag,
    Invalidation,
    filters_hash,
    load_through,
)
from customers_hub.application.rate_limits import RateCategory, RateLimit, RateLimitDecision
from customers_hub.domain.access import Operation, scope_filter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    Permission,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.events import (
    ActionCreated,
    ActionNoteAdded,
    ActionUpdated,
    AppointmentScheduled,
    CustomerAssigned,
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerStageChanged,
    CustomerUpdated,
    DocumentUploaded,
    DomainEvent,
    EmployeeSaved,
    InteractionLogged,
    LeadScoreChanged,
    PropertyInterestAdded,
    ReminderCreated,
)
from customers_hub.domain.model import Actor, Employee, Preferences

ORG = "org_a"
OTHER = "org_b"
AT = datetime(2024, 1, 22, 15, 30, 0, 123456, tzinfo=UTC)


class FakeClock:
    """Seconds that move only when told."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- cache keys --------------------------------------------------------------------------------


def test_cache_keys_follow_the_documents_patterns_and_ttls() -> None:
    h = filters_hash({"stage": ["new_lead"]})
    cases = [
        (CacheKeys.customer(ORG, "cust_1"), "customer:cust_1", 300.0),
        (CacheKeys.customer_list(ORG, h, 2), f"customer:list:{h}:2", 60.0),
        (
            CacheKeys.action_stats(ORG, "emp_1", date(2024, 1, 22)),
            "actions:stats:emp_1:2024-01-22",
            30.0,
        ),
        (CacheKeys.filter_options(ORG, "stages"), "filters:options:stages", 3600.0),
        (CacheKeys.action_list(ORG, h, 1), f"actions:list:{h}:1", 60.0),
        (CacheKeys.action(ORG, "action_1"), "action:action_1", 60.0),
        (CacheKeys.customer_stats(ORG, h, "2024-01-22"), f"customer:stats:{h}:2024-01-22", 30.0),
        (CacheKeys.employee_list(ORG, h), f"employees:list:{h}", 900.0),
    ]
    for key, name, ttl in cases:
        assert (key.organization_id, key.name, key.ttl) == (ORG, name, ttl)
    assert CACHE_TTLS["customer"] == 5 * 60  # "Customer details: 5 minutes"


def test_views_depend_on_the_tags_of_what_they_embed() -> None:
    assert set(CacheKeys.customer(ORG, "c1").tags) == {"customer:c1", CacheTag.EMPLOYEES}
    assert CacheTag.CUSTOMER_LIST in CacheKeys.customer_list(ORG, "h", 1).tags
    assert CacheTag.ACTIONS in CacheKeys.action(ORG, "a1").tags
    assert CacheKeys.action_stats(ORG, "e", "d").tags == (CacheTag.ACTION_STATS,)
    # The employee list's workload numbers follow the customer records and the actions.
    employees = set(CacheKeys.employee_list(ORG, "h").tags)
    assert {CacheTag.CUSTOMER_RECORDS, CacheTag.ACTIONS} <= employees


def test_bad_cache_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="TTL"):
        CacheKey(ORG, "customer:c1", 0, ())
    with pytest.raises(ValueError, match="organization"):
        CacheKey("", "customer:c1", 10, ())


def test_filters_hash_is_stable_order_insensitive_and_scope_sensitive() -> None:
    a = filters_hash({"stage": ["a"], "page": 1}, {"scope": "own", "user": "emp_1"})
    b = filters_hash({"page": 1, "stage": ["a"]}, {"user": "emp_1", "scope": "own"})
    other_scope = filters_hash({"stage": ["a"], "page": 1}, {"scope": "own", "user": "emp_2"})
    assert a == b
    assert a != other_scope
    assert len(a) == 24


# --- in-memory cache ---------------------------------------------------------------------------


async def test_a_miss_then_a_hit_of_the_same_bytes() -> None:
    cache = InMemoryCache()
    key = CacheKeys.customer(ORG, "c1")
    first = await cache.get(key)
    assert not first.hit
    assert first.slot is not None
    await cache.put(first, b'{"id":"c1"}')
    second = await cache.get(key)
    assert second.hit
    assert second.value == b'{"id":"c1"}'


async def test_entries_expire_after_their_ttl() -> None:
    clock = FakeClock()
    cache = InMemoryCache(clock=clock)
    key = CacheKeys.action_stats(ORG, "emp_1", "2024-01-22")  # 30 s
    await cache.put(await cache.get(key), b"stats")
    clock.advance(29.9)
    assert (await cache.get(key)).value == b"stats"
    clock.advance(0.2)
    assert (await cache.get(key)).value is None
    assert len(cache) == 0


async def test_the_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = InMemoryCache(max_entries=2)
    keys = [CacheKeys.customer(ORG, f"c{i}") for i in range(3)]
    for k in keys[:2]:
        await cache.put(await cache.get(k), k.name.encode())
    await cache.get(keys[0])  # c0 is now more recent than c1
    await cache.put(await cache.get(keys[2]), b"c2")
    assert len(cache) == 2
    assert (await cache.get(keys[0])).value == b"customer:c0"
    assert (await cache.get(keys[1])).value is None
    assert (await cache.get(keys[2])).value == b"c2"


async def test_invalidating_a_tag_drops_every_entry_carrying_it_and_only_those() -> None:
    cache = InMemoryCache()
    pages = [CacheKeys.customer_list(ORG, "h", p) for p in (1, 2, 3)]
    detail = CacheKeys.customer(ORG, "c1")
    other_org = CacheKeys.customer_list(OTHER, "h", 1)
    for key in [*pages, detail, other_org]:
        await cache.put(await cache.get(key), b"v")
    await cache.invalidate(Invalidation(ORG, frozenset({CacheTag.CUSTOMER_LIST})))
    assert [(await cache.get(k)).hit for k in pages] == [False, False, False]
    assert (await cache.get(detail)).hit
    assert (await cache.get(other_org)).hit


async def test_a_value_loaded_before_an_invalidation_is_never_served_after_it() -> None:
    cache = InMemoryCache()
    key = CacheKeys.customer(ORG, "c1")
    lookup = await cache.get(key)  # reader: miss, then reads the database …
    await cache.invalidate(Invalidation(ORG, frozenset({"customer:c1"})))  # … writer commits
    await cache.put(lookup, b"old")  # reader stores what it read before the commit
    assert (await cache.get(key)).value is None


async def test_forgotten_generations_only_cause_misses() -> None:
    cache = InMemoryCache(max_entries=1)  # keeps 4 tag generations
    key = CacheKeys.customer(ORG, "c1")
    await cache.put(await cache.get(key), b"old")
    await cache.invalidate(Invalidation(ORG, frozenset({"customer:c1"})))
    for i in range(10):  # churn: c1's generation is evicted and made again
        await cache.get(CacheKeys.customer(ORG, f"x{i}"))
    assert (await cache.get(key)).value is None


async def test_load_through_loads_once_and_stores_nothing_when_loading_fails() -> None:
    cache = InMemoryCache()
    key = CacheKeys.customer(ORG, "c1")
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        return b"fresh"

    assert await load_through(cache, key, load) == b"fresh"
    assert await load_through(cache, key, load) == b"fresh"
    assert calls == 1

    async def missing() -> bytes:
        raise LookupError("not found")

    other = CacheKeys.customer(ORG, "c2")
    with pytest.raises(LookupError):
        await load_through(cache, other, missing)
    assert (await cache.get(other)).value is None


async def test_an_event_invalidates_exactly_the_views_it_changes() -> None:
    cache = InMemoryCache()
    views = {
        "detail": CacheKeys.customer(ORG, "c1"),
        "other_detail": CacheKeys.customer(ORG, "c2"),
        "list": CacheKeys.customer_list(ORG, "h", 1),
        "action_stats": CacheKeys.action_stats(ORG, "emp_1", "2024-01-22"),
    }
    for key in views.values():
        await cache.put(await cache.get(key), b"v")
    event = CustomerUpdated(
        organization_id=ORG, occurred_at=AT, customer_id="c1", changes={"name": "x"}
    )
    await cache.invalidate(invalidation_for(event))
    hits = {name: (await cache.get(key)).hit for name, key in views.items()}
    assert hits == {"detail": False, "other_detail": True, "list": False, "action_stats": True}


# --- rate limits -------------------------------------------------------------------------------


def test_the_rate_limit_table_is_the_documents() -> None:
    expected = {
        # role: (read, write, bulk) as (limit, burst); the burst is the category's ratio, ceil.
        Role.ADMIN: ((200, 300), (100, 167), (50, 75)),
        Role.SALES_MANAGER: ((150, 225), (50, 84), (20, 30)),
        Role.SALES_AGENT: ((100, 150), (30, 50), (10, 15)),
        Role.VIEWER: ((50, 75), (0, 0), (0, 0)),
    }
    for role, (read, write, bulk) in expected.items():
        got = [
            (RATE_LIMITS[role][c].limit, RATE_LIMITS[role][c].burst)
            for c in (RateCategory.READ, RateCategory.WRITE, RateCategory.BULK)
        ]
        assert got == [read, write, bulk], role
        # Categories the role table lacks come from the category table, for every role.
        assert (
            rate_limit_for(role, RateCategory.SEARCH).limit,
            rate_limit_for(role, RateCategory.SEARCH).burst,
        ) == (20, 30)
        assert (
            rate_limit_for(role, RateCategory.UPLOAD).limit,
            rate_limit_for(role, RateCategory.UPLOAD).burst,
        ) == (5, 10)
        assert (
            rate_limit_for(role, RateCategory.AUTH).limit,
            rate_limit_for(role, RateCategory.AUTH).burst,
        ) == (5, 10)
        assert all(rule.window == 60 for rule in RATE_LIMITS[role].values())
    # The derivation agrees with the tables it is derived from.
    for role, limits in ROLE_LIMITS.items():
        for category, limit in limits.items():
            base_limit, base_burst = CATEGORY_LIMITS[category]
            burst = RATE_LIMITS[role][category].burst
            assert burst == math.ceil(limit * base_burst / base_limit)


def test_bad_rate_limits_are_refused() -> None:
    for args in ((10, 60, 0), (0, 60, 5), (-1, 60, 0), (10, 0, 10), (10, 60, -1)):
        with pytest.raises(ValueError, match="invalid rate limit"):
            RateLimit(*args)


def test_rate_limit_keys_name_organization_user_and_category() -> None:
    assert rate_limit_key("org_1", "emp_1", RateCategory.READ) == "org_1:emp_1:read"


async def test_a_bucket_allows_its_burst_then_refuses_with_retry_after() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock=clock)
    rule = RateLimit(60, 60.0, 3)  # one token per second, three at once
    decisions = [await limiter.hit("k", rule) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    denied = decisions[-1]
    assert denied.limit == 60
    assert denied.burst == 3
    assert denied.retry_after == pytest.approx(1.0)
    assert denied.retry_after_seconds == 1
    assert denied.reset_at == pytest.approx(clock.now + 3.0)  # full again in three seconds
    assert decisions[0].retry_after == 0.0
    assert decisions[0].reset_at == pytest.approx(clock.now + 1.0)
    clock.advance(1.0)
    assert (await limiter.hit("k", rule)).allowed
    assert not (await limiter.hit("k", rule)).allowed


async def test_buckets_refill_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock=clock)
    rule = RateLimit(6, 60.0, 2)  # one token per ten seconds
    await limiter.hit("k", rule)
    await limiter.hit("k", rule)
    clock.advance(3600)
    decisions = [await limiter.hit("k", rule) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after == pytest.approx(10.0)


async def test_keys_are_counted_separately() -> None:
    limiter = InMemoryRateLimiter(clock=FakeClock())
    rule = RateLimit(1, 60.0, 1)
    assert (await limiter.hit("org:u1:read", rule)).allowed
    assert not (await limiter.hit("org:u1:read", rule)).allowed
    assert (await limiter.hit("org:u2:read", rule)).allowed
    assert (await limiter.hit("org:u1:write", rule)).allowed


async def test_a_zero_limit_allows_nothing_and_says_when_to_retry() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock=clock)
    decision = await limiter.hit("k", rate_limit_for(Role.VIEWER, RateCategory.WRITE))
    assert not decision.allowed
    assert (decision.limit, decision.remaining) == (0, 0)
    assert decision.retry_after == 60.0
    assert decision.reset_at == clock.now + 60.0


async def test_the_limiter_forgets_the_least_recently_used_buckets_beyond_its_bound() -> None:
    limiter = InMemoryRateLimiter(clock=FakeClock(), max_keys=2)
    rule = RateLimit(1, 60.0, 1)
    await limiter.hit("a", rule)
    await limiter.hit("b", rule)
    await limiter.hit("c", rule)  # "a" is dropped: its bucket is full again
    assert (await limiter.hit("a", rule)).allowed
    assert not (await limiter.hit("c", rule)).allowed


def test_retry_after_seconds_rounds_up() -> None:
    def decision(allowed: bool, retry_after: float) -> RateLimitDecision:
        return RateLimitDecision(allowed, 10, 0, 0.0, retry_after, 10)

    assert decision(False, 0.2).retry_after_seconds == 1
    assert decision(False, 6.0).retry_after_seconds == 6
    assert decision(False, 6.01).retry_after_seconds == 7
    assert decision(True, 0.0).retry_after_seconds == 0


# --- in-process event bus ----------------------------------------------------------------------


async def test_subscribers_get_their_organizations_messages_only() -> None:
    bus = InProcessEventBus()
    mine, also_mine = await bus.subscribe(ORG), await bus.subscribe(ORG)
    theirs = await bus.subscribe(OTHER)
    await bus.publish(ORG, {"event": "x", "n": 1})
    assert await mine.get(0.5) == {"event": "x", "n": 1}
    assert await also_mine.get(0.5) == {"event": "x", "n": 1}
    assert await theirs.get(0.05) is None
    await bus.aclose()
    assert mine.closed
    assert theirs.closed


async def test_a_closed_subscription_ends_its_iteration_and_receives_nothing_more() -> None:
    bus = InProcessEventBus()
    sub = await bus.subscribe(ORG)
    await bus.publish(ORG, {"n": 1})
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for message in sub:
            received.append(message)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await sub.aclose()
    await asyncio.wait_for(task, 1.0)
    await bus.publish(ORG, {"n": 2})
    assert received == [{"n": 1}]
    assert await sub.get(0.01) is None


async def test_a_message_that_is_not_json_is_refused_and_delivered_to_nobody() -> None:
    bus = InProcessEventBus()
    sub = await bus.subscribe(ORG)
    with pytest.raises(TypeError):
        await bus.publish(ORG, {"when": object()})
    assert await sub.get(0.01) is None
    await bus.aclose()


async def test_a_slow_subscriber_loses_its_oldest_messages_not_the_newest() -> None:
    bus = InProcessEventBus(max_queued=2)
    sub = await bus.subscribe(ORG)
    for n in range(4):
        await bus.publish(ORG, {"n": n})
    assert sub.dropped == 2
    assert [await sub.get(0.1), await sub.get(0.1)] == [{"n": 2}, {"n": 3}]
    await bus.aclose()


# --- event wire: payloads and routing -----------------------------------------------------------


def _action_created(**overrides: Any) -> ActionCreated:
    values: dict[str, Any] = {
        "organization_id": ORG,
        "occurred_at": AT,
        "employee_ids": ("emp_1",),
        "action_id": "action_new_001",
        "customer_id": "cust_001",
        "action_type": ActionType.NEW_INQUIRY,
        "priority": Priority.HIGH,
        "assigned_to": "emp_2",
    }
    values.update(overrides)
    return ActionCreated(**values)


def test_action_created_has_the_documents_shape_and_goes_to_the_assignees() -> None:
    out = to_outbound(_action_created())
    assert out is not None
    assert out.payload == {
        "event": "action.created",
        "data": {
            "action": {
                "id": "action_new_001",
                "customerId": "cust_001",
                "type": "new_inquiry",
                "priority": "high",
            }
        },
        "timestamp": "2024-01-22T15:30:00Z",
    }
    assert out.channels == (CHANNEL_ACTIONS, "employee:emp_1", "employee:emp_2")
    assert out.employee_ids == ("emp_1", "emp_2")
    assert (out.organization_id, out.customer_id, out.action_id) == (
        ORG,
        "cust_001",
        "action_new_001",
    )


def test_action_updated_carries_the_changes_as_json() -> None:
    event = ActionUpdated(
        organization_id=ORG,
        occurred_at=AT,
        employee_ids=("emp_1",),
        action_id="action_001",
        customer_id="cust_001",
        changes={"status": ActionStatus.COMPLETED, "completedAt": AT},
        status=ActionStatus.COMPLETED,
    )
    out = to_outbound(event)
    assert out is not None
    assert out.payload["event"] == "action.updated"
    assert out.payload["data"] == {
        "actionId": "action_001",
        "changes": {"status": "completed", "completedAt": "2024-01-22T15:30:00Z"},
    }
    assert out.matches(["employee:emp_1"])
    assert not out.matches(["customers", "employee:emp_9"])


def test_customer_events_have_the_documents_shapes() -> None:
    stage = CustomerStageChanged(
        organization_id=ORG,
        occurred_at=AT,
        employee_ids=("emp_1",),
        customer_id="cust_001",
        from_stage=Stage.PROPERTY_MATCHING,
        to_stage=Stage.SITE_VISIT,
        changed_by="emp_001",
    )
    assigned = CustomerAssigned(
        organization_id=ORG,
        occurred_at=AT,
        employee_ids=("emp_001", "emp_002"),
        customer_id="cust_001",
        previous_employee="emp_001",
        new_employee="emp_002",
    )
    out_stage, out_assigned = to_outbound(stage), to_outbound(assigned)
    assert out_stage is not None
    assert out_assigned is not None
    assert out_stage.payload["data"] == {
        "customerId": "cust_001",
        "fromStage": "property_matching",
        "toStage": "site_visit",
        "changedBy": "emp_001",
    }
    assert out_stage.payload["event"] == "customer.stage_changed"
    assert out_stage.channels == (CHANNEL_CUSTOMERS,)
    assert out_assigned.payload["data"] == {
        "customerId": "cust_001",
        "previousEmployee": "emp_001",
        "newEmployee": "emp_002",
    }
    assert out_assigned.channels == (CHANNEL_CUSTOMERS, "employee:emp_001", "employee:emp_002")


def test_every_customer_event_names_its_customer_on_the_customers_channel() -> None:
    common: dict[str, Any] = {"organization_id": ORG, "occurred_at": AT, "customer_id": "c1"}
    events: list[tuple[DomainEvent, str, dict[str, Any]]] = [
        (
            CustomerCreated(**common, source="inquiry", created_by_id="emp_1"),
            "customer.created",
            {"customer": {"id": "c1", "source": "inquiry"}, "createdBy": "emp_1"},
        ),
        (
            CustomerUpdated(**common, changes={"leadScore": 80}),
            "customer.updated",
            {"customerId": "c1", "changes": {"leadScore": 80}},
        ),
        (
            CustomerDeleted(**common, permanent=False),
            "customer.deleted",
            {"customerId": "c1", "permanent": False},
        ),
        (CustomerRestored(**common), "customer.restored", {"customerId": "c1"}),
        (
            LeadScoreChanged(**common, previous_score=50, new_score=70),
            "customer.score_changed",
            {"customerId": "c1", "previousScore": 50, "newScore": 70},
        ),
        (
            PropertyInterestAdded(**common, interest_id="i1", property_id="p1"),
            "customer.property_added",
            {"customerId": "c1", "interestId": "i1", "propertyId": "p1"},
        ),
        (
            InteractionLogged(
                **common,
                interaction_id="int1",
                follow_up_required=True,
                follow_up_date=AT + timedelta(days=1),
                agent_id="emp_1",
            ),
            "customer.interaction_logged",
            {
                "customerId": "c1",
                "interactionId": "int1",
                "agentId": "emp_1",
                "followUpRequired": True,
                "followUpDate": "2024-01-23T15:30:00Z",
            },
        ),
        (
            AppointmentScheduled(
                **common, appointment_id="apt1", appointment_type="site_visit", at=AT, title="t"
            ),
            "customer.appointment_scheduled",
            {
                "customerId": "c1",
                "appointmentId": "apt1",
                "type": "site_visit",
                "datetime": "2024-01-22T15:30:00Z",
                "title": "t",
            },
        ),
        (
            ReminderCreated(**common, reminder_id="r1"),
            "customer.reminder_created",
            {"customerId": "c1", "reminderId": "r1"},
        ),
        (
            DocumentUploaded(**common, document_id="d1"),
            "customer.document_uploaded",
            {"customerId": "c1", "documentId": "d1"},
        ),
    ]
    for event, name, data in events:
        out = to_outbound(event)
        assert out is not None, name
        assert out.payload == {"event": name, "data": data, "timestamp": "2024-01-22T15:30:00Z"}
        assert out.channels == (CHANNEL_CUSTOMERS,)
        assert out.customer_id == "c1"


def test_note_added_goes_to_actions_and_employee_saved_is_not_broadcast() -> None:
    note = ActionNoteAdded(
        organization_id=ORG, occurred_at=AT, employee_ids=("emp_1",), action_id="a1", note_id="n1"
    )
    out = to_outbound(note)
    assert out is not None
    assert out.payload["data"] == {"actionId": "a1", "noteId": "n1"}
    assert out.channels == (CHANNEL_ACTIONS,)
    assert to_outbound(EmployeeSaved(organization_id=ORG, occurred_at=AT, employee_id="e1")) is None


def test_stats_updated_has_the_documents_shape() -> None:
    out = stats_updated(ORG, {"pending": 143, "overdue": 7, "today": 24}, AT)
    assert out.payload == {
        "event": "stats.updated",
        "data": {"stats": {"pending": 143, "overdue": 7, "today": 24}},
        "timestamp": "2024-01-22T15:30:00Z",
    }
    assert out.channels == (CHANNEL_STATS,)


def test_stats_refresh_follows_events_that_change_inbox_numbers() -> None:
    assert refreshes_stats(_action_created())
    assert refreshes_stats(
        CustomerAssigned(
            organization_id=ORG,
            occurred_at=AT,
            customer_id="c",
            previous_employee=None,
            new_employee="e",
        )
    )
    assert not refreshes_stats(
        CustomerUpdated(organization_id=ORG, occurred_at=AT, customer_id="c", changes={"name": "n"})
    )


def test_messages_round_trip_through_the_bus_format() -> None:
    out = to_outbound(_action_created())
    assert out is not None
    assert OutboundEvent.from_message(out.to_message()) == out


def test_malformed_bus_messages_are_refused() -> None:
    good = stats_updated(ORG, {"pending": 1}, AT).to_message()
    broken: list[dict[str, Any]] = [
        {},
        {**good, "payload": "x"},
        {**good, "organizationId": 5},
        {**good, "channels": [1]},
        {**good, "payload": {**good["payload"], "data": []}},
        {**good, "customerId": 3},
    ]
    for message in broken:
        with pytest.raises(ValueError, match="not an event message"):
            OutboundEvent.from_message(message)


def _actor(role: Role, user: str) -> Actor:
    return Actor(user, ORG, role, frozenset(Permission))


def test_an_events_scope_admits_the_organization_the_assignee_and_its_manager_only() -> None:
    out = to_outbound(_action_created(employee_ids=(), assigned_to="emp_agent"))
    assert out is not None
    employees = {
        "emp_agent": Employee("emp_agent", ORG, "Agent", Role.SALES_AGENT, manager_id="emp_boss")
    }
    scope = out.scope(employees)
    allowed = {
        user: scope_filter(_actor(role, user), Operation.READ_ACTIONS).admits(scope)
        for role, user in [
            (Role.ADMIN, "emp_admin"),
            (Role.SALES_MANAGER, "emp_boss"),
            (Role.SALES_MANAGER, "emp_other_boss"),
            (Role.SALES_AGENT, "emp_agent"),
            (Role.SALES_AGENT, "emp_other"),
        ]
    }
    assert allowed == {
        "emp_admin": True,
        "emp_boss": True,
        "emp_other_boss": False,
        "emp_agent": True,
        "emp_other": False,
    }
    other_org = Actor("emp_admin", OTHER, Role.ADMIN, frozenset(Permission))
    assert not scope_filter(other_org, Operation.READ_ACTIONS).admits(scope)


def test_jsonable_renders_domain_values() -> None:
    prefs = Preferences(
        property_type=(PropertyType.VILLA,), budget_min=Decimal("1500000"), min_area=Decimal("12.5")
    )
    value = jsonable({"preferences": prefs, "day": date(2024, 1, 2), "tags": frozenset({"b", "a"})})
    assert value["preferences"]["propertyType"] == ["villa"]
    assert value["preferences"]["budgetMin"] == 1500000
    assert value["preferences"]["minArea"] == 12.5
    assert value["preferences"]["preferredAreas"] == []
    assert value["day"] == "2024-01-02"
    assert sorted(value["tags"]) == ["a", "b"]


def test_wire_timestamps_are_utc_to_the_second_and_refuse_naive_times() -> None:
    riyadh = AT.astimezone(UTC).replace(tzinfo=UTC) + timedelta(hours=0)
    assert wire_timestamp(riyadh) == "2024-01-22T15:30:00Z"
    with pytest.raises(ValueError, match="timezone"):
        wire_timestamp(datetime(2024, 1, 1))


# --- event wire: cache invalidation ------------------------------------------------------------


def test_each_event_invalidates_the_documented_tags() -> None:
    common: dict[str, Any] = {"organization_id": ORG, "occurred_at": AT, "customer_id": "c1"}
    customer = "customer:c1"
    lists, cstats, filters = "customer:list", "customer:stats", "filters:options"
    actions, astats, records = "actions", "actions:stats", "customer:records"
    table: list[tuple[DomainEvent, set[str]]] = [
        (
            CustomerCreated(**common, source="manual", created_by_id="e"),
            {customer, lists, cstats, filters, records},
        ),
        (
            CustomerUpdated(**common, changes={"name": "n"}),
            {customer, lists, cstats, filters, records, actions},
        ),
        # A relation's change (relation_changed): the customer, and lists for interests.
        (CustomerUpdated(**common, changes={"reminders.r1.status": "completed"}), {customer}),
        (CustomerUpdated(**common, changes={"documents.d1": None}), {customer}),
        (CustomerUpdated(**common, changes={"appointments.a1.status": "done"}), {customer}),
        (
            CustomerUpdated(**common, changes={"properties.i1.status": "rejected"}),
            {customer, lists},
        ),
        # … but a field of the customer's own among them is a customer update.
        (
            CustomerUpdated(**common, changes={"reminders.r1.status": "x", "city": "جدة"}),
            {customer, lists, cstats, filters, records, actions},
        ),
        (
            CustomerUpdated(**common, changes={"remindersCount": 1}),
            {customer, lists, cstats, filters, records, actions},
        ),
        (
            CustomerStageChanged(
                **common, from_stage=None, to_stage=Stage.QUALIFIED, changed_by="e"
            ),
            {customer, lists, cstats, filters, records, astats},
        ),
        (
            CustomerAssigned(**common, previous_employee="e1", new_employee="e2"),
            {customer, lists, cstats, filters, records, actions, astats},
        ),
        (
            CustomerDeleted(**common, permanent=True),
            {customer, lists, cstats, filters, records, actions, astats},
        ),
        (CustomerRestored(**common), {customer, lists, cstats, filters, records, actions, astats}),
        # Relations: the customer and only the families the write moves (never filter options,
        # actions, employees or another customer).
        (LeadScoreChanged(**common, previous_score=1, new_score=2), {customer, lists, cstats}),
        (
            InteractionLogged(
                **common,
                interaction_id="n",
                follow_up_required=False,
                follow_up_date=None,
                agent_id="e",
            ),
            {customer, lists, cstats},  # totalInteractions, lastContactAt: engagement numbers
        ),
        (
            AppointmentScheduled(
                **common, appointment_id="a", appointment_type="viewing", at=AT, title="t"
            ),
            {customer, lists},
        ),
        (ReminderCreated(**common, reminder_id="r"), {customer}),
        (DocumentUploaded(**common, document_id="d"), {customer}),
        (
            PropertyInterestAdded(**common, interest_id="i", property_id="p"),
            {customer, lists},
        ),
        (_action_created(), {actions, astats}),
        (
            ActionUpdated(organization_id=ORG, occurred_at=AT, action_id="a", customer_id="c1"),
            {actions, astats},
        ),
        (
            ActionNoteAdded(organization_id=ORG, occurred_at=AT, action_id="a", note_id="n"),
            {actions},
        ),
        (EmployeeSaved(organization_id=ORG, occurred_at=AT, employee_id="e"), {"employees"}),
    ]
    for event, tags in table:
        invalidation = invalidation_for(event)
        assert invalidation.organization_id == ORG
        assert set(invalidation.tags) == tags, type(event).__name__


def test_an_unknown_event_invalidates_every_view_of_its_organization() -> None:
    from attrs import frozen

    @frozen(kw_only=True)
    class SomethingNew(DomainEvent):
        customer_id: str

    invalidation = invalidation_for(
        SomethingNew(organization_id=ORG, occurred_at=AT, customer_id="c9")
    )
    assert set(invalidation.tags) == {
        "customer:c9",
        "customer:list",
        "customer:stats",
        "filters:options",
        "actions",
        "actions:stats",
        "employees",
        "customer:records",
    }
    assert to_outbound(SomethingNew(organization_id=ORG, occurred_at=AT, customer_id="c9")) is None

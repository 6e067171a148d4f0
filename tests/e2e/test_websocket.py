"""Real-time updates at ``/api/v1/ws`` on one app (SQLite, in-process event bus), and the
snooze wake-up job.

Events are caused through HTTP on the same app, so they are published in the app's own event
loop. "Receives nothing" is shown with a marker: after the event a client must not get, an event
it must get is caused; the first message it receives has to be the marker (the bus keeps the
publication order per organization).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient, WebSocketTestSession

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.use_cases.actions import WAKE_BATCH
from customers_hub.domain.enums import Permission
from customers_hub.domain.model import Customer
from customers_hub.entrypoints import settings
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import jobs, ws
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.settings import HubConfig

if TYPE_CHECKING:
    from conftest import MakeClient, NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
WS = "/api/v1/ws"
ACTIONS = "/api/v1/customers/actions"
WAIT = 5.0
"""Longest wait for a message that must come (seconds)."""


def token_of(headers: dict[str, str]) -> str:
    """The bare JWT of ``Authorization`` headers."""
    return headers["Authorization"].removeprefix("Bearer ")


@asynccontextmanager
async def connect(
    client: Client, headers: dict[str, str], channels: Iterable[str] = ()
) -> AsyncIterator[WebSocketTestSession]:
    """A connection as ``headers``' caller, subscribed to ``channels`` (all granted)."""
    session = await client.websocket_connect(f"{WS}?token={token_of(headers)}")
    with session as socket:
        wanted = list(channels)
        if wanted:
            reply = subscribe(socket, wanted)
            assert reply["channels"] == wanted, reply
            assert reply["refused"] == []
        yield socket


def subscribe(socket: WebSocketTestSession, channels: list[str]) -> dict[str, Any]:
    """Send ``subscribe``; the ``subscribed`` reply."""
    socket.send_json({"event": "subscribe", "channels": channels})
    reply: dict[str, Any] = socket.receive_json(timeout=WAIT)
    assert reply["event"] == "subscribed", reply
    return reply


def receive(socket: WebSocketTestSession) -> dict[str, Any]:
    """The next message (fails after :data:`WAIT` seconds)."""
    message: dict[str, Any] = socket.receive_json(timeout=WAIT)
    return message


def closed_code(session: WebSocketTestSession) -> int:
    """The close code of a connection the server ends before sending anything."""
    with session as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json(timeout=WAIT)
    return closed.value.code


async def create_action(
    client: Client, headers: dict[str, str], customer: Customer, **fields: Any
) -> dict[str, Any]:
    """An action created through HTTP; its wire form."""
    body = {"customerId": customer.id, "type": "follow_up", "title": "اتصال متابعة", **fields}
    response = await client.post(ACTIONS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    action: dict[str, Any] = response.json()["data"]["action"]
    return action


def assert_action_created(message: dict[str, Any], action: dict[str, Any]) -> None:
    """``message`` is the document's ``action.created`` of ``action``."""
    assert message["event"] == "action.created", message
    assert message["data"] == {
        "action": {
            "id": action["id"],
            "customerId": action["customerId"],
            "type": "follow_up",
            "priority": action["priority"],
        }
    }
    assert message["timestamp"].endswith("Z")
    datetime.fromisoformat(message["timestamp"])


# --- connecting -------------------------------------------------------------------------------


async def test_bad_tokens_close_with_policy_violation(
    client: Client, auth: AuthSettings, staff: Staff, token_for: TokenFor
) -> None:
    good = token_of(token_for("agent"))
    other_secret = AuthSettings(secret="another-secret-that-is-long-enough-for-hs256")
    forged = issue_token(other_secret, "emp_agent1", "sales_agent", staff.org, [], 3600)
    expired = token_of(token_for("agent", ttl=-3600))
    unsigned = ".".join(good.split(".")[:2]) + "."
    for url in (
        WS,
        f"{WS}?token=",
        f"{WS}?token=not-a-jwt",
        f"{WS}?token={forged}",
        f"{WS}?token={expired}",
        f"{WS}?token={unsigned}",
        f"{WS}?token={good}&organizationId={staff.other_org}",
    ):
        session = await client.websocket_connect(url)
        assert closed_code(session) == ws.POLICY_VIOLATION, url
    # The same token in a well-formed request is accepted (the refusals were about the token).
    async with connect(client, token_for("agent"), ["actions"]):
        pass


async def test_a_connection_closes_with_policy_violation_when_its_token_expires(
    client: Client, auth: AuthSettings, token_for: TokenFor
) -> None:
    leeway = int(auth.leeway.total_seconds())
    headers = token_for("agent", ttl=2 - leeway)  # valid for 1-2 more seconds
    started = time.monotonic()
    async with connect(client, headers, ["actions"]) as socket:
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json(timeout=WAIT)
    assert closed.value.code == ws.POLICY_VIOLATION
    assert time.monotonic() - started < WAIT


async def test_subscribe_grants_what_the_caller_may_have_and_lists_the_refused(
    client: Client, staff: Staff, token_for: TokenFor
) -> None:
    wanted = [
        "actions",
        "customers",
        "employee:emp_agent1",
        "employee:emp_agent2",
        "employee:emp_nobody",
        "bogus",
        "employee:",
    ]
    async with connect(client, token_for("agent")) as socket:
        reply = subscribe(socket, wanted)
        assert reply["channels"] == ["actions", "customers", "employee:emp_agent1"]
        assert reply["refused"] == [
            {"channel": "employee:emp_agent2", "reason": "not permitted"},
            {"channel": "employee:emp_nobody", "reason": "not permitted"},
            {"channel": "bogus", "reason": "unknown channel"},
            {"channel": "employee:", "reason": "unknown channel"},
        ]
        assert reply["timestamp"].endswith("Z")
        # Subscriptions add up; the reply lists them all.
        again = subscribe(socket, ["actions", "employee:emp_outsider"])
        assert again["channels"] == ["actions", "customers", "employee:emp_agent1"]
        assert again["refused"] == [{"channel": "employee:emp_outsider", "reason": "not permitted"}]
        socket.send_json({"event": "unsubscribe", "channels": ["customers"]})
        assert receive(socket)["channels"] == ["actions", "employee:emp_agent1"]

    # A manager may follow its reports (not an agent outside its team); an admin anyone of the
    # organization; nobody another organization's employee.
    async with connect(client, token_for("manager")) as socket:
        reply = subscribe(socket, ["employee:emp_agent2", "employee:emp_outsider"])
        assert reply["channels"] == ["employee:emp_agent2"]
        assert [r["channel"] for r in reply["refused"]] == ["employee:emp_outsider"]
    async with connect(client, token_for("admin")) as socket:
        reply = subscribe(socket, ["employee:emp_outsider", "employee:emp_other_admin"])
        assert reply["channels"] == ["employee:emp_outsider"]
        assert [r["channel"] for r in reply["refused"]] == ["employee:emp_other_admin"]
    # A token without actions.read gets neither actions nor stats nor employee channels.
    headers = token_for("agent", permissions=[Permission.CUSTOMERS_READ])
    async with connect(client, headers) as socket:
        reply = subscribe(socket, ["actions", "stats", "customers", "employee:emp_agent1"])
        assert reply["channels"] == ["customers"]
        assert {r["channel"] for r in reply["refused"]} == {
            "actions",
            "stats",
            "employee:emp_agent1",
        }


async def test_unknown_messages_get_an_error_reply_and_the_connection_stays(
    client: Client, token_for: TokenFor
) -> None:
    cases: list[tuple[str, str]] = [
        ("not json", "body"),
        ("[1, 2]", "body"),
        (json.dumps({"event": "dance"}), "event"),
        (json.dumps({"channels": ["actions"]}), "event"),
        (json.dumps({"event": "subscribe", "channels": "actions"}), "channels"),
        (json.dumps({"event": "subscribe", "channels": []}), "channels"),
        (json.dumps({"event": "subscribe", "channels": ["actions", 7]}), "channels"),
        (json.dumps({"event": "subscribe", "channels": ["c"] * 51}), "channels"),
        ("x" * (ws.MAX_MESSAGE_CHARS + 1), "body"),
    ]
    async with connect(client, token_for("agent")) as socket:
        for text, field in cases:
            socket.send_text(text)
            reply = receive(socket)
            assert reply["event"] == "error", text
            assert reply["data"]["code"] == "VALIDATION_ERROR"
            assert [d["field"] for d in reply["data"]["details"]] == [field], text
        socket.send_bytes(b"\xff\xfe")
        assert receive(socket)["event"] == "error"
        socket.send_json({"event": "ping"})
        assert receive(socket)["event"] == "pong"
        # Still subscribed to nothing, still able to subscribe.
        assert subscribe(socket, ["actions"])["channels"] == ["actions"]


async def test_disconnecting_ends_the_connection_and_its_subscription(
    client: Client, app: Litestar, token_for: TokenFor
) -> None:
    before = ws.open_connections(app.state)
    async with connect(client, token_for("agent"), ["actions"]):
        assert ws.open_connections(app.state) == before + 1
    deadline = time.monotonic() + WAIT
    while ws.open_connections(app.state) > before and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert ws.open_connections(app.state) == before


# --- scope ----------------------------------------------------------------------------------------


async def test_an_agent_receives_events_of_its_own_customers_only_and_an_admin_all(
    client: Client, staff: Staff, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    mine = await new_customer(assigned="agent")
    theirs = await new_customer(assigned="agent2")
    admin = token_for("admin")
    async with (
        connect(client, token_for("agent"), ["actions"]) as agent,
        connect(client, admin, ["actions"]) as boss,
    ):
        hidden = await create_action(client, admin, theirs)
        shown = await create_action(client, admin, mine)
        assert_action_created(receive(agent), shown)  # not `hidden`: that came first
        assert_action_created(receive(boss), hidden)
        assert_action_created(receive(boss), shown)


async def test_an_agent_owning_the_customer_receives_actions_assigned_to_others(
    client: Client, staff: Staff, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    # action.updated names only the action's assignee: the customer's owner and the assignee's
    # manager are found by the scope lookup.
    customer = await new_customer(assigned="agent")
    admin = token_for("admin")
    action = await create_action(client, admin, customer, assignedTo=staff.id("agent2"))
    marker_customer = await new_customer(assigned="outsider")
    async with (
        connect(client, token_for("agent"), ["actions"]) as owner,
        connect(client, token_for("manager"), ["actions"]) as manager,
        connect(client, token_for("outsider"), ["actions"]) as outsider,
    ):
        response = await client.patch(
            f"{ACTIONS}/{action['id']}", json={"priority": "urgent"}, headers=admin
        )
        assert response.status_code == 200, response.text
        marker = await create_action(client, admin, marker_customer)
        for socket in (owner, manager):
            message = receive(socket)
            assert message["event"] == "action.updated", message
            assert message["data"]["actionId"] == action["id"]
            assert message["data"]["changes"]["priority"] == "urgent"
        assert_action_created(receive(outsider), marker)


async def test_another_organization_receives_nothing(
    client: Client, staff: Staff, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent")
    admin, other_admin = token_for("admin"), token_for("other_admin")
    async with connect(client, other_admin, ["actions", "customers", "stats"]) as other:
        first = receive(other)  # the initial numbers of its own (empty) organization
        assert first["event"] == "stats.updated"
        assert first["data"] == {"stats": {"pending": 0, "overdue": 0, "today": 0}}
        await create_action(client, admin, customer)
        response = await client.put(
            f"/api/v1/customers/{customer.id}", json={"name": "اسم جديد"}, headers=admin
        )
        assert response.status_code == 200, response.text
        created = await client.post(
            "/api/v1/customers",
            json={"name": "عميل آخر", "phone": "+966551231234", "source": "manual"},
            headers=other_admin,
        )
        assert created.status_code == 201, created.text
        message = receive(other)
        assert message["event"] == "customer.created", message
        assert message["data"]["customer"]["id"] == created.json()["data"]["customer"]["id"]


async def test_the_employee_channel_carries_the_actions_assigned_to_that_employee(
    client: Client, staff: Staff, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent2")
    admin = token_for("admin")
    async with connect(client, token_for("manager"), ["employee:emp_agent1"]) as manager:
        await create_action(client, admin, customer)  # agent2's: not on employee:emp_agent1
        assigned = await create_action(client, admin, customer, assignedTo=staff.id("agent"))
        assert_action_created(receive(manager), assigned)


async def test_stats_subscribers_get_their_own_numbers(
    client: Client, staff: Staff, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    mine = await new_customer(assigned="agent")
    theirs = await new_customer(assigned="agent2")
    admin = token_for("admin")
    await create_action(client, admin, theirs, dueDate="2020-01-01T09:00:00Z")
    async with (
        connect(client, token_for("agent"), ["stats"]) as agent,
        connect(client, admin, ["stats"]) as boss,
    ):
        assert receive(agent)["data"] == {"stats": {"pending": 0, "overdue": 0, "today": 0}}
        assert receive(boss)["data"] == {"stats": {"pending": 1, "overdue": 1, "today": 0}}
        await create_action(client, admin, theirs)
        await create_action(client, admin, mine)
        # The agent's numbers only move with its own actions; bursts are debounced.
        update = receive(agent)
        assert update["event"] == "stats.updated"
        assert update["data"] == {"stats": {"pending": 1, "overdue": 0, "today": 0}}
        assert update["timestamp"].endswith("Z")
        seen = receive(boss)["data"]["stats"]
        if seen["pending"] == 2:  # the second action came after the first push
            seen = receive(boss)["data"]["stats"]
        assert seen == {"pending": 3, "overdue": 1, "today": 0}


# --- the snooze wake-up job -------------------------------------------------------------------


async def test_the_wake_up_job_emits_action_updated_for_a_passed_snooze(
    monkeypatch: pytest.MonkeyPatch,
    make_client: MakeClient,
    staff: Staff,
    token_for: TokenFor,
    new_customer: NewCustomer,
) -> None:
    customer = await new_customer(assigned="agent")
    agent = token_for("agent")
    async with make_client(snooze_interval=0.2) as other:  # its lifespan starts the job
        action = await create_action(other, agent, customer)
        async with connect(other, agent, ["actions"]) as socket:
            until = datetime.now(UTC) + timedelta(seconds=1)
            response = await other.post(
                f"{ACTIONS}/{action['id']}/snooze",
                json={"snoozedUntil": until.isoformat().replace("+00:00", "Z")},
                headers=agent,
            )
            assert response.status_code == 200, response.text
            snoozed = receive(socket)
            assert snoozed["event"] == "action.updated"
            assert snoozed["data"]["changes"]["status"] == "snoozed"
            woken = receive(socket)
            assert woken["event"] == "action.updated", woken
            assert woken["data"]["actionId"] == action["id"]
            assert woken["data"]["changes"]["status"] == "pending"
            assert datetime.now(UTC) >= until
        stored = await other.get(f"{ACTIONS}/{action['id']}", headers=agent)
        assert stored.json()["data"]["action"]["status"] == "pending"


async def test_wake_snoozes_once_swallows_a_lost_race(
    monkeypatch: pytest.MonkeyPatch, hub: Hub
) -> None:
    calls: list[int] = []

    async def racing(deps: Dependencies, *, limit: int) -> int:
        calls.append(limit)
        raise ConcurrentUpdate("action", "action_1")

    monkeypatch.setattr(jobs, "wake_due_snoozes", racing)
    assert await jobs.wake_snoozes_once(hub.deps) == 0
    assert calls == [WAKE_BATCH]

    batches = iter([3, 3, 1])

    async def backlog(deps: Dependencies, *, limit: int) -> int:
        calls.append(limit)
        return next(batches)

    calls.clear()
    monkeypatch.setattr(jobs, "wake_due_snoozes", backlog)
    assert await jobs.wake_snoozes_once(hub.deps, batch=3) == 7  # full batches: go on
    assert calls == [3, 3, 3]


async def test_a_failing_run_does_not_stop_the_periodic_job() -> None:
    runs: list[float] = []

    async def flaky() -> None:
        runs.append(time.monotonic())
        if len(runs) % 2:
            raise RuntimeError("database is away")

    job = jobs.PeriodicJob("test-job", 0.02, flaky)
    await job.start()
    deadline = time.monotonic() + WAIT
    while len(runs) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await job.stop()
    assert len(runs) >= 4
    assert job.failures >= 2
    assert not job.running
    count = len(runs)
    await asyncio.sleep(0.06)
    assert len(runs) == count  # stopped means stopped
    with pytest.raises(ValueError, match="positive"):
        jobs.PeriodicJob("bad", 0, flaky)


def test_the_snooze_interval_comes_from_the_environment() -> None:
    env = settings.SNOOZE_INTERVAL_ENV

    def interval(value: str | None) -> float | None:
        return HubConfig.from_env({} if value is None else {env: value}).snooze_interval

    assert interval(None) == settings.DEFAULT_SNOOZE_INTERVAL
    assert interval(" ") == settings.DEFAULT_SNOOZE_INTERVAL
    assert interval("5") == 5.0
    assert interval("0.5") == 0.5
    for off in ("0", "off", "OFF", "false"):
        assert interval(off) is None
    for bad in ("soon", "-1", "inf", "nan"):
        with pytest.raises(ValueError, match=env):
            interval(bad)

"""Webhooks delivered by real ``customers-hub serve`` processes to a real HTTP receiver.

* Two instances (A and B) on one PostgreSQL database (two relays, two senders): a scripted
  sequence of writes spread over both reaches the hook — every event of the organization, in
  commit order, once, each body exactly as signed, with unique delivery ids — and another
  organization's events never reach it.
* A hook whose deliveries keep failing is disabled and says why, its pending delivery paused;
  re-enabled, the delivery resumes and gives up once past its age; the retry endpoint sends it
  again and it arrives.
* One instance on SQLite is killed (``kill -9``) right after a write's 201 while the receiver
  answers 503: restarted, it delivers the event.

The receiver is a raw ASGI app under uvicorn on 127.0.0.1 (private targets are allowed by
``CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE=1``); backoff, give-up and disable times are short.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from attrs import define, field, frozen
from test_multi_instance import (
    SECRET,
    Instance,
    Org,
    clean_env,
    free_port,
    new_customer,
    postgres_url,
    seed,
    spawn,
    stop_process,
    wait_healthy,
)

from customers_hub.domain.webhooks import verify_signature

pytestmark = pytest.mark.integration

__all__ = ["postgres_url"]  # the fixture, imported to be used here

WAIT = 20.0
"""Longest wait for deliveries (seconds)."""
GIVE_UP = 4.0
"""The pair's delivery age past which a failed attempt gives up (seconds)."""
FAST = {
    "CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE": "1",
    "CUSTOMERS_HUB_WEBHOOKS_BACKOFF_SECONDS": "0.2",
    "CUSTOMERS_HUB_WEBHOOKS_BACKOFF_CAP_SECONDS": "0.4",
    "CUSTOMERS_HUB_WEBHOOKS_TIMEOUT_SECONDS": "2",
    "CUSTOMERS_HUB_WEBHOOKS_LEASE_SECONDS": "3",
    "CUSTOMERS_HUB_OUTBOX_POLL_SECONDS": "0.1",
    "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "off",
    "CUSTOMERS_HUB_JWT_SECRET": SECRET,
}


@frozen
class Received:
    """One request the receiver got."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@define
class Receiver:
    """An HTTP endpoint recording every request per path; answers ``status[path]`` (200)."""

    port: int = field(factory=free_port)
    status: dict[str, int] = field(factory=dict)
    received: dict[str, list[Received]] = field(factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = self.status.get(scope["path"], 200)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.setdefault(scope["path"], []).append(Received(status, headers, body))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def ok(self, path: str) -> list[Received]:
        """The requests of ``path`` answered 2xx."""
        return [r for r in self.received.get(path, []) if r.status < 300]


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    """The receiver, served on a free local port for the module."""
    target = Receiver()
    server = uvicorn.Server(
        uvicorn.Config(
            target, host="127.0.0.1", port=target.port, lifespan="off", log_level="error"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield target
    server.should_exit = True
    await task


@frozen
class Pair:
    """Instances A and B on one PostgreSQL database."""

    a: Instance
    b: Instance
    http: httpx.AsyncClient
    database_url: str


@pytest.fixture(scope="module")
async def pair(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    """A and B, ready (a delivery gives up 4 s after it was created; a hook failing for 0.05 s
    — its second failure, since retries wait at least 0.16 s — is disabled)."""
    workdir = tmp_path_factory.mktemp("webhooks")
    env = {
        **clean_env(),
        **FAST,
        "CUSTOMERS_HUB_DATABASE_URL": postgres_url,
        "CUSTOMERS_HUB_DB_POOL_SIZE": "3",
        "CUSTOMERS_HUB_WEBHOOKS_GIVE_UP_SECONDS": str(GIVE_UP),
        "CUSTOMERS_HUB_WEBHOOKS_DISABLE_SECONDS": "0.05",
    }
    instances: list[Instance] = []
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            instances = [spawn("A", env, workdir), spawn("B", env, workdir)]
            await wait_healthy(http, instances)
            yield Pair(instances[0], instances[1], http, postgres_url)
        finally:
            for instance in instances:
                stop_process(instance.process)


async def create_hook(
    http: httpx.AsyncClient, instance: Instance, org: Org, url: str, events: list[str]
) -> dict[str, Any]:
    response = await http.post(
        instance.url("/api/v1/webhooks"), json={"url": url, "events": events}, headers=org.admin
    )
    assert response.status_code == 201, response.text
    hook: dict[str, Any] = response.json()["data"]["webhook"]
    assert hook["secret"].startswith("whsec_")
    return hook


async def until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def outbox_ids(database_url: str, hook_id: str) -> list[str]:
    """The hook organization's events committed since the hook was created, in position order,
    read from the database."""
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT o.event_id FROM outbox o JOIN webhooks w ON w.id = %s"
            " WHERE o.organization_id = w.organization_id AND o.occurred_at >= w.created_at"
            " ORDER BY o.position",
            (hook_id,),
        ).fetchall()
    return [row[0] for row in rows]


def assert_signed(request: Received, secret: str) -> None:
    signature = request.headers["x-customershub-signature"]
    assert verify_signature(secret, signature, request.body, now=int(time.time()))
    body = request.json
    assert set(body) == {"id", "event", "organizationId", "timestamp", "data"}
    assert request.headers["x-customershub-event"] == body["event"]
    assert request.headers["content-type"] == "application/json"


async def test_two_instances_deliver_every_event_once_in_order_signed(
    pair: Pair, receiver: Receiver
) -> None:
    http, a, b = pair.http, pair.a, pair.b
    org, other = await seed(http, a), await seed(http, b)
    path, other_path = f"/hook/{org.id}", f"/hook/{other.id}"
    hook = await create_hook(http, a, org, receiver.url(path), ["*"])
    other_hook = await create_hook(http, b, other, receiver.url(other_path), ["*"])
    # The scripted sequence, alternating between the instances.
    customer = await new_customer(http, a, org)
    url = f"/api/v1/customers/{customer['id']}"
    steps: list[tuple[Instance, str, str, dict[str, Any] | None]] = [
        (b, "PUT", url, {"city": "جدة"}),
        (a, "PATCH", f"{url}/stage", {"toStage": "qualified"}),
        (b, "POST", f"{url}/assign", {"employeeId": org.agent_id}),
        (a, "POST", f"{url}/interactions", {"type": "call", "direction": "outbound"}),
    ]
    for instance, method, target, body in steps:
        response = await http.request(method, instance.url(target), json=body, headers=org.admin)
        assert response.status_code in (200, 201), response.text
    action = await http.post(
        b.url("/api/v1/customers/actions"),
        json={"customerId": customer["id"], "type": "follow_up", "title": "متابعة"},
        headers=org.admin,
    )
    assert action.status_code == 201, action.text
    action_id = action.json()["data"]["action"]["id"]
    changed = await http.patch(
        a.url(f"/api/v1/customers/actions/{action_id}"),
        json={"priority": "urgent"},
        headers=org.admin,
    )
    assert changed.status_code == 200, changed.text
    deleted = await http.delete(b.url(url), headers=org.admin)
    assert deleted.status_code == 200, deleted.text
    await new_customer(http, b, other)  # the other organization's: never on our hook

    committed = outbox_ids(pair.database_url, hook["id"])
    await until(lambda: len(receiver.ok(path)) >= len(committed), "every event")
    await asyncio.sleep(0.5)  # nothing more (no duplicate) arrives
    got = receiver.ok(path)
    assert [r.json["id"] for r in got] == committed  # every event, in order, once
    names = [r.json["event"] for r in got]
    for name in (
        "customer.created",
        "customer.updated",
        "customer.stage_changed",
        "customer.assigned",
        "customer.interaction_logged",
        "action.created",
        "action.updated",
        "customer.deleted",
    ):
        assert name in names
    for request in got:
        assert_signed(request, hook["secret"])
        assert request.json["organizationId"] == org.id
    delivery_ids = [r.headers["x-customershub-delivery"] for r in got]
    assert len(set(delivery_ids)) == len(delivery_ids)
    # The hook's secret never verifies the other organization's deliveries, and those carry
    # only the other organization's events.
    await until(lambda: bool(receiver.ok(other_path)), "the other organization's events")
    for request in receiver.ok(other_path):
        assert request.json["organizationId"] == other.id
        assert_signed(request, other_hook["secret"])
    # The deliveries are listed as delivered.
    listed = await http.get(
        b.url(f"/api/v1/webhooks/{hook['id']}/deliveries?limit=100"), headers=org.admin
    )
    assert listed.status_code == 200, listed.text
    deliveries = listed.json()["data"]["deliveries"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert {d["lastResponseCode"] for d in deliveries} == {200}
    assert sorted(d["id"] for d in deliveries) == sorted(delivery_ids)


async def test_a_failing_hook_is_disabled_and_a_retry_delivers_once_reenabled(
    pair: Pair, receiver: Receiver
) -> None:
    # Each step waits for a state the rules make certain, whatever the machine's speed: the
    # second failure disables the hook (0.05 s < the shortest backoff); a disabled hook's
    # delivery stays pending; past GIVE_UP, the next failure gives it up.
    http, a, b = pair.http, pair.a, pair.b
    org = await seed(http, a)
    path = f"/failing/{org.id}"
    receiver.status[path] = 500
    hook = await create_hook(http, a, org, receiver.url(path), ["customer.created"])
    hook_url = a.url(f"/api/v1/webhooks/{hook['id']}")
    await new_customer(http, b, org)

    async def delivery_now() -> dict[str, Any] | None:
        listed = await http.get(f"{hook_url}/deliveries", headers=org.admin)
        assert listed.status_code == 200, listed.text
        items: list[dict[str, Any]] = listed.json()["data"]["deliveries"]
        assert len(items) <= 1, items
        return items[0] if items else None

    async def hook_now() -> dict[str, Any]:
        got = await http.get(hook_url, headers=org.admin)
        assert got.status_code == 200, got.text
        webhook: dict[str, Any] = got.json()["data"]["webhook"]
        return webhook

    async def eventually(check: Callable[[], Awaitable[dict[str, Any] | None]]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while (found := await check()) is None:
            assert time.monotonic() < deadline, f"timed out waiting: {await delivery_now()}"
            await asyncio.sleep(0.1)
        return found

    async def disabled() -> dict[str, Any] | None:
        webhook = await hook_now()
        return None if webhook["isActive"] else webhook

    async def with_status(status: str) -> dict[str, Any] | None:
        delivery = await delivery_now()
        return delivery if delivery and delivery["status"] == status else None

    webhook = await eventually(disabled)
    assert "failed since" in webhook["disabledReason"]
    assert "HTTP 500" in webhook["disabledReason"]
    assert "secret" not in webhook
    paused = await delivery_now()
    assert paused is not None
    assert paused["status"] == "pending"  # paused while its hook is off, not given up
    assert paused["attempts"] >= 2  # retried with backoff first
    assert paused["lastResponseCode"] == 500
    await asyncio.sleep(0.5)
    assert await delivery_now() == paused  # a disabled hook gets no attempt

    # Re-enabled past the delivery's age (the receiver still failing): it resumes and gives up.
    created = datetime.fromisoformat(paused["createdAt"].replace("Z", "+00:00"))
    await asyncio.sleep(max(0.0, (created - datetime.now(UTC)).total_seconds() + GIVE_UP + 0.2))
    enabled = await http.patch(hook_url, json={"isActive": True}, headers=org.admin)
    assert enabled.status_code == 200, enabled.text
    assert "disabledReason" not in enabled.json()["data"]["webhook"]
    delivery = await eventually(partial(with_status, "failed"))
    assert delivery["attempts"] == paused["attempts"] + 1
    assert delivery["lastResponseCode"] == 500
    assert delivery["nextAttemptAt"] is None
    assert receiver.ok(path) == []

    receiver.status[path] = 200
    retried = await http.post(
        b.url(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry"),
        headers=org.admin,
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["data"]["delivery"]["status"] == "pending"
    await until(lambda: bool(receiver.ok(path)), "the retried delivery")
    [arrived] = receiver.ok(path)
    assert arrived.headers["x-customershub-delivery"] == delivery["id"]  # the same delivery
    assert_signed(arrived, hook["secret"])
    after = await eventually(partial(with_status, "delivered"))
    assert after["attempts"] == delivery["attempts"] + 1
    assert (await hook_now())["isActive"] is True


# --- one instance killed between the commit and the delivery -------------------------------------


def start_sqlite_instance(workdir: Path) -> Instance:
    env = {**clean_env(), **FAST, "CUSTOMERS_HUB_DATA_DIR": str(workdir / "data")}
    return spawn("S", env, workdir)


async def test_a_killed_instance_delivers_after_its_restart(
    receiver: Receiver, tmp_path: Path
) -> None:
    path = f"/flaky/{uuid.uuid4().hex}"
    receiver.status[path] = 503  # down at first
    async with httpx.AsyncClient(timeout=10) as http:
        instance = start_sqlite_instance(tmp_path)
        try:
            await wait_healthy(http, [instance])
            org = await seed(http, instance)
            hook = await create_hook(http, instance, org, receiver.url(path), ["customer.created"])
            customer = await new_customer(http, instance, org)  # the 201 is back: committed
            os.kill(instance.process.pid, signal.SIGKILL)
            instance.process.wait(timeout=10)
            assert receiver.ok(path) == []  # nothing delivered before the crash
            receiver.status[path] = 200
            instance = start_sqlite_instance(tmp_path)
            await wait_healthy(http, [instance])
            await until(lambda: bool(receiver.ok(path)), "the delivery after the restart")
            [arrived] = receiver.ok(path)
            assert arrived.json["event"] == "customer.created"
            assert arrived.json["data"]["customer"]["id"] == customer["id"]
            assert_signed(arrived, hook["secret"])
            # Attempts before the crash (503) and after carry the same delivery id.
            ids = {r.headers["x-customershub-delivery"] for r in receiver.received[path]}
            assert len(ids) == 1
        finally:
            stop_process(instance.process)

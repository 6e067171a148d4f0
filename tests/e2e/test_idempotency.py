"""``Idempotency-Key`` over HTTP on a real PostgreSQL (``docs/idempotency.md``).

Two real ``customers-hub serve`` processes share one PostgreSQL database (the multi-instance
module's helpers): a keyed create sent to A and replayed on B returns the first status and body
with ``Idempotent-Replayed: true`` and creates one customer; concurrent requests with one key
run once. The other rules run on an in-process app of a hub on the same database: reuse with
another body (422), a stored 4xx replayed, keys of other users and organizations, bad header
values (422 naming the header), a key still in progress (409), a crashed holder's expired lease
taken over, a committed write whose response was lost (409, never run again), a 5xx freeing its
key, expiry and the sweep, the read-only POSTs, the stage PATCH and the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from test_multi_instance import (  # the multi-instance module's helpers; postgres_url a fixture
    CLI,
    ROOT,
    SECRET,
    Instance,
    bearer,
    clean_env,
    phone,
    postgres_url,
    spawn,
    stop_process,
    wait_healthy,
)

from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.http.idempotency import http_fingerprint
from customers_hub.entrypoints.settings import HubConfig

pytestmark = pytest.mark.integration

__all__ = ["postgres_url"]  # imported for pytest, which finds fixtures by module attribute

CUSTOMERS = "/api/v1/customers"
KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
Client = AsyncTestClient[Litestar]


@post("/api/v1/test-failure", sync_to_thread=False)
def failing_write() -> None:
    """A write that fails unexpectedly (500), for the test of a released key."""
    raise RuntimeError("boom")


@pytest.fixture(scope="module")
async def hub(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    """A hub on the module's PostgreSQL database (rate limits off: many requests, one user)."""
    config = HubConfig(
        data_dir=tmp_path_factory.mktemp("idempotency"),
        database_url=postgres_url,
        rate_limits_enabled=False,
    )
    built = build_hub(config=config)
    yield built
    await built.close()


@pytest.fixture(scope="module")
async def client(hub: Hub) -> AsyncIterator[Client]:
    """An in-process app of ``hub``, with a route that fails."""
    app = create_app(hub, auth=AuthSettings(secret=SECRET))
    app.register(failing_write)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def org(client: Client) -> dict[str, Any]:
    """A fresh organization: tokens of an admin and an agent (both employees)."""
    org_id = f"org_idem_{uuid.uuid4().hex[:10]}"
    bootstrap = bearer("bootstrap", Role.ADMIN, org_id)
    for user, role in (("emp_admin", Role.ADMIN), ("emp_agent", Role.SALES_AGENT)):
        body = {"id": user, "name": f"موظف {role.value}", "role": role.value}
        created = await client.post("/api/v1/employees", json=body, headers=bootstrap)
        assert created.status_code == 201, created.text
    return {
        "id": org_id,
        "admin": bearer("emp_admin", Role.ADMIN, org_id),
        "agent": bearer("emp_agent", Role.SALES_AGENT, org_id),
    }


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, KEY: key}


def lead(number: str | None = None) -> dict[str, Any]:
    return {"name": "عبدالله الشمري", "phone": number or phone(), "source": "whatsapp"}


def count(postgres_url: str, sql: str, *params: Any) -> int:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def customers_with(postgres_url: str, org_id: str, number: str) -> int:
    return count(
        postgres_url,
        "SELECT count(*) FROM customers WHERE organization_id = %s AND phone = %s",
        org_id,
        number,
    )


def key_row(postgres_url: str, org_id: str, key: str) -> dict[str, Any] | None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        cursor = conn.execute(
            "SELECT status, user_id, response_status FROM idempotency_keys "
            "WHERE organization_id = %s AND key = %s",
            (org_id, key),
        )
        row = cursor.fetchone()
    return None if row is None else {"status": row[0], "user": row[1], "response": row[2]}


def hold_key(
    postgres_url: str,
    org_id: str,
    user: str,
    key: str,
    body: dict[str, Any],
    *,
    status: str = "in_progress",
    lease: timedelta = timedelta(seconds=60),
    path: str = CUSTOMERS,
) -> None:
    """The row a holder of ``key`` left for a POST of ``body`` (a lease relative to now)."""
    content = json.dumps(body, ensure_ascii=False).encode()
    fingerprint = http_fingerprint("POST", path, b"", "application/json", content)
    now = datetime.now(UTC)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (organization_id, user_id, key, fingerprint, status, "
            "claim_token, locked_until, created_at, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, 'crashed', %s, %s, %s)",
            (org_id, user, key, fingerprint, status, now + lease, now, now + timedelta(days=1)),
        )


async def post_json(
    client: Client, path: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """POST ``body`` as the exact bytes :func:`hold_key` fingerprints."""
    content = json.dumps(body, ensure_ascii=False).encode()
    sent = {**headers, "Content-Type": "application/json"}
    response: httpx.Response = await client.post(path, content=content, headers=sent)
    return response


# --- two real instances --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instances(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Instance]]:
    """A and B: two ``customers-hub serve`` processes on the module's database, no Redis."""
    workdir: Path = tmp_path_factory.mktemp("idempotency-instances")
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_DATABASE_URL": postgres_url,
        "CUSTOMERS_HUB_JWT_SECRET": SECRET,
        "CUSTOMERS_HUB_DB_POOL_SIZE": "3",
        "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "off",
        "CUSTOMERS_HUB_RATE_LIMITS": "off",
    }
    started = [spawn(name, env, workdir) for name in ("A", "B")]
    try:
        yield started
    finally:
        for instance in started:
            stop_process(instance.process)


async def test_a_create_replayed_on_another_instance_returns_the_first_response(
    instances: list[Instance], org: dict[str, Any], postgres_url: str
) -> None:
    a, b = instances
    body = lead()
    async with httpx.AsyncClient(timeout=10) as http:
        await wait_healthy(http, instances)
        headers = keyed(org["admin"], f"create-{uuid.uuid4()}")
        first = await http.post(a.url(CUSTOMERS), json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert REPLAYED not in first.headers
        again = await http.post(b.url(CUSTOMERS), json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()  # the stored body, meta included
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # a new request
    assert customers_with(postgres_url, org["id"], first.json()["data"]["customer"]["phone"]) == 1


async def test_concurrent_requests_with_one_key_run_once(
    instances: list[Instance], org: dict[str, Any], postgres_url: str
) -> None:
    body = lead()
    headers = keyed(org["admin"], f"race-{uuid.uuid4()}")
    async with httpx.AsyncClient(timeout=10) as http:
        await wait_healthy(http, instances)
        answers = await asyncio.gather(
            *(http.post(i.url(CUSTOMERS), json=body, headers=headers) for i in instances * 3)
        )
    ran = [r for r in answers if r.status_code == 201 and REPLAYED not in r.headers]
    assert len(ran) == 1, [(r.status_code, r.text) for r in answers]
    for answer in answers:
        if answer is ran[0]:
            continue
        if answer.status_code == 201:
            assert answer.headers[REPLAYED] == "true"
            assert answer.json() == ran[0].json()
        else:
            assert answer.status_code == 409, answer.text
            assert answer.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert customers_with(postgres_url, org["id"], ran[0].json()["data"]["customer"]["phone"]) == 1


# --- one instance ---------------------------------------------------------------------------------


async def test_the_same_key_with_another_body_is_refused(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    headers = keyed(org["admin"], "k-reuse")
    first = await client.post(CUSTOMERS, json=lead(), headers=headers)
    assert first.status_code == 201, first.text
    other = lead()
    reused = await client.post(CUSTOMERS, json=other, headers=headers)
    assert reused.status_code == 422, reused.text
    error = reused.json()["error"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [d["field"] for d in error["details"]] == [KEY]
    assert customers_with(postgres_url, org["id"], other["phone"]) == 0
    # Another path with the same key and body is another request too.
    elsewhere = await client.post(f"{CUSTOMERS}/query", json={}, headers=headers)
    assert elsewhere.status_code == 200  # read-only: the key is ignored there


async def test_a_client_error_is_stored_and_replayed(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    headers = keyed(org["admin"], "k-error")
    bad = {**lead(), "phone": "12"}
    first = await client.post(CUSTOMERS, json=bad, headers=headers)
    assert first.status_code == 400, first.text
    again = await client.post(CUSTOMERS, json=bad, headers=headers)
    assert (again.status_code, again.headers[REPLAYED]) == (400, "true")
    assert again.json() == first.json()
    assert key_row(postgres_url, org["id"], "k-error") == {
        "status": "completed",
        "user": "emp_admin",
        "response": 400,
    }
    # A 404 (another organization's customer) is replayed as well, revealing nothing more.
    foreign = keyed(bearer("emp_admin", Role.ADMIN, f"{org['id']}_x"), "k-404")
    stage = {"toStage": "qualified"}
    for replay in (False, True):
        answer = await client.patch(f"{CUSTOMERS}/cust_unknown/stage", json=stage, headers=foreign)
        assert answer.status_code == 404, answer.text
        assert (REPLAYED in answer.headers) is replay


async def test_keys_of_other_users_and_organizations_are_independent(
    client: Client, org: dict[str, Any]
) -> None:
    body = lead()
    other_org = bearer("emp_admin", Role.ADMIN, f"{org['id']}_other")
    answers = [
        await client.post(CUSTOMERS, json=body, headers=keyed(org["admin"], "shared")),
        await client.post(CUSTOMERS, json=lead(), headers=keyed(org["agent"], "shared")),
        await client.post(CUSTOMERS, json=body, headers=keyed(other_org, "shared")),
    ]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert all(REPLAYED not in a.headers for a in answers)
    ids = {a.json()["data"]["customer"]["id"] for a in answers}
    assert len(ids) == 3


@pytest.mark.parametrize(
    "value", [b"", b"x" * 256, "مفتاح".encode(), b"caf\xe9", b"tab\there"], ids=repr
)
async def test_a_bad_key_is_422_naming_the_header(
    client: Client, org: dict[str, Any], postgres_url: str, value: bytes
) -> None:
    body = lead()
    headers = [(k.encode(), v.encode()) for k, v in org["admin"].items()] + [
        (b"idempotency-key", value)
    ]
    answer = await client.post(CUSTOMERS, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == [KEY]
    assert customers_with(postgres_url, org["id"], body["phone"]) == 0


async def test_a_key_in_progress_is_409_and_a_crashed_holders_lease_is_taken_over(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    body = lead()
    hold_key(postgres_url, org["id"], "emp_admin", "k-live", body)
    busy = await post_json(client, CUSTOMERS, body, keyed(org["admin"], "k-live"))
    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert busy.json()["error"]["details"] == {"idempotencyKey": "k-live", "committed": False}
    assert customers_with(postgres_url, org["id"], body["phone"]) == 0
    # The holder crashed between its claim and its commit: once its lease passed, a retry runs.
    hold_key(postgres_url, org["id"], "emp_admin", "k-crash", body, lease=-timedelta(seconds=1))
    retried = await post_json(client, CUSTOMERS, body, keyed(org["admin"], "k-crash"))
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    replayed = await post_json(client, CUSTOMERS, body, keyed(org["admin"], "k-crash"))
    assert replayed.headers[REPLAYED] == "true"
    assert customers_with(postgres_url, org["id"], body["phone"]) == 1


async def test_a_committed_write_whose_response_was_lost_never_runs_again(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    body = lead()
    lost = -timedelta(hours=1)
    hold_key(postgres_url, org["id"], "emp_admin", "k-lost", body, status="committed", lease=lost)
    answer = await post_json(client, CUSTOMERS, body, keyed(org["admin"], "k-lost"))
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["details"] == {"idempotencyKey": "k-lost", "committed": True}
    assert customers_with(postgres_url, org["id"], body["phone"]) == 0


async def test_a_server_error_frees_its_key(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    headers = keyed(org["admin"], "k-500")
    for _ in range(2):  # not stored: the retry runs again (and fails again)
        answer = await client.post("/api/v1/test-failure", headers=headers)
        assert answer.status_code == 500, answer.text
        assert REPLAYED not in answer.headers
        assert key_row(postgres_url, org["id"], "k-500") is None


async def test_an_expired_key_is_swept_and_runs_again(
    client: Client, hub: Hub, org: dict[str, Any], postgres_url: str
) -> None:
    created = await client.post(CUSTOMERS, json=lead(), headers=org["admin"])
    customer_id = created.json()["data"]["customer"]["id"]
    path = f"{CUSTOMERS}/{customer_id}/interactions"
    note = {"type": "call", "direction": "outbound", "notes": "اتصال للمتابعة"}
    headers = keyed(org["admin"], "k-expire")
    first = await client.post(path, json=note, headers=headers)
    assert first.status_code == 201, first.text
    assert (await client.post(path, json=note, headers=headers)).headers[REPLAYED] == "true"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' "
            "WHERE organization_id = %s AND key = %s",
            (org["id"], "k-expire"),
        )
    assert await hub.idempotency.sweep() >= 1
    assert key_row(postgres_url, org["id"], "k-expire") is None
    again = await client.post(path, json=note, headers=headers)
    assert again.status_code == 201, again.text
    assert REPLAYED not in again.headers
    assert again.json()["data"]["interaction"]["id"] != first.json()["data"]["interaction"]["id"]
    interactions = "SELECT count(*) FROM interactions WHERE customer_id = %s"
    assert count(postgres_url, interactions, customer_id) == 2


def test_the_cli_sweeps_expired_keys(org: dict[str, Any], postgres_url: str) -> None:
    for key, lease in (("k-old", timedelta(days=-2)), ("k-new", timedelta(seconds=60))):
        hold_key(postgres_url, org["id"], "emp_admin", key, {}, lease=lease)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE idempotency_keys SET expires_at = locked_until "
            "WHERE organization_id = %s AND key = 'k-old'",
            (org["id"],),
        )
    done = subprocess.run(
        [*CLI, "db", "sweep-idempotency", "--database-url", postgres_url],
        env=clean_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "expired idempotency keys deleted" in done.stdout
    assert key_row(postgres_url, org["id"], "k-old") is None
    assert key_row(postgres_url, org["id"], "k-new") is not None


async def test_the_stage_patch_takes_the_key(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    created = await client.post(CUSTOMERS, json=lead(), headers=org["admin"])
    customer_id = created.json()["data"]["customer"]["id"]
    headers = keyed(org["admin"], "k-stage")
    stage = {"toStage": "qualified", "notes": "تم التأكد من الميزانية"}
    first = await client.patch(f"{CUSTOMERS}/{customer_id}/stage", json=stage, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.patch(f"{CUSTOMERS}/{customer_id}/stage", json=stage, headers=headers)
    assert (again.headers[REPLAYED], again.json()) == ("true", first.json())
    history = "SELECT count(*) FROM stage_history WHERE customer_id = %s"
    assert count(postgres_url, history, customer_id) == 2  # new_lead, then qualified once


async def test_read_only_posts_and_reads_ignore_the_key(
    client: Client, org: dict[str, Any], postgres_url: str
) -> None:
    headers = keyed(org["admin"], "k-read")
    for query in ("احمد", "محمد"):
        found = await client.post(f"{CUSTOMERS}/search", json={"query": query}, headers=headers)
        assert found.status_code == 200, found.text
        assert REPLAYED not in found.headers
    listed = await client.get(CUSTOMERS, headers={**headers, KEY: ""})  # not even checked
    assert listed.status_code == 200
    assert key_row(postgres_url, org["id"], "k-read") is None


async def test_the_openapi_document_declares_the_key(client: Client) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]

    def names(path: str, method: str) -> set[str]:
        return {p["name"] for p in paths[path][method].get("parameters", [])}

    assert KEY in names(CUSTOMERS, "post")
    assert KEY in names(f"{CUSTOMERS}/{{customer_id}}/stage", "patch")
    assert KEY not in names(f"{CUSTOMERS}/search", "post")
    assert KEY not in names(f"{CUSTOMERS}/{{customer_id}}", "put")
    create = paths[CUSTOMERS]["post"]
    [parameter] = [p for p in create["parameters"] if p["name"] == KEY]
    assert parameter["schema"]["maxLength"] == 255
    assert REPLAYED in create["responses"]["201"]["headers"]
    assert "IDEMPOTENCY_IN_PROGRESS" in create["responses"]["409"]["description"]
    assert "IDEMPOTENCY_KEY_REUSED" in create["responses"]["422"]["description"]

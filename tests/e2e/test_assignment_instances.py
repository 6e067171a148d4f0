"""The round-robin pointer under concurrent creates on two real ``customers-hub serve``
processes sharing one PostgreSQL database (the multi-instance module's helpers): n creates
without an assignee, sent at once to both instances, give each of k employees exactly n/k
customers, and the rule's pointer names the employee chosen last."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from test_multi_instance import (  # the multi-instance module's helpers; postgres_url a fixture
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

pytestmark = pytest.mark.integration

__all__ = ["postgres_url"]  # imported for pytest, which finds fixtures by module attribute

AGENTS = ("emp_a1", "emp_a2", "emp_a3")
CREATES = 60  # 20 each
IN_FLIGHT = 4
"""Requests in flight per instance."""


@pytest.fixture(scope="module")
def instances(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Instance]]:
    """A and B on the module's database, no Redis."""
    workdir: Path = tmp_path_factory.mktemp("assignment-instances")
    env = {
        **clean_env(),
        "CUSTOMERS_HUB_DATABASE_URL": postgres_url,
        "CUSTOMERS_HUB_JWT_SECRET": "multi-instance-test-secret-long-enough-for-hs256",
        "CUSTOMERS_HUB_DB_POOL_SIZE": "5",
        "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL": "off",
        "CUSTOMERS_HUB_RATE_LIMITS": "off",
    }
    started = [spawn(name, env, workdir) for name in ("A", "B")]
    try:
        yield started
    finally:
        for instance in started:
            stop_process(instance.process)


async def test_concurrent_creates_on_two_instances_are_spread_exactly(
    instances: list[Instance], postgres_url: str
) -> None:
    org = f"org_rr_{uuid.uuid4().hex[:10]}"
    admin = bearer("emp_admin", Role.ADMIN, org)
    first, second = instances
    async with httpx.AsyncClient(timeout=30) as http:
        await wait_healthy(http, instances)
        bootstrap = bearer("bootstrap", Role.ADMIN, org)
        for user, role in (("emp_admin", Role.ADMIN), *((a, Role.SALES_AGENT) for a in AGENTS)):
            made = await http.post(
                first.url("/api/v1/employees"),
                json={"id": user, "name": f"موظف {user}", "role": role.value},
                headers=bootstrap,
            )
            assert made.status_code == 201, made.text
        rule = await http.post(
            second.url("/api/v1/assignment-rules"),
            json={"name": "توزيع", "strategy": "round_robin", "employeeIds": list(AGENTS)},
            headers=admin,
        )
        assert rule.status_code == 201, rule.text

        # Concurrent on both instances, but no more in flight than each pool serves without
        # timing out on two shared cores (every create of the rule waits for its lock).
        gates = [asyncio.Semaphore(IN_FLIGHT) for _ in instances]

        async def create(i: int) -> httpx.Response:
            target = instances[i % 2]
            async with gates[i % 2]:
                return await http.post(
                    target.url("/api/v1/customers"),
                    json={"name": "عميل جديد", "phone": phone(), "source": "inquiry"},
                    headers=admin,
                )

        responses = await asyncio.gather(*(create(i) for i in range(CREATES)))
    assert [r.status_code for r in responses] == [201] * CREATES, [
        r.text for r in responses if r.status_code != 201
    ][:3]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        counts = dict(
            conn.execute(
                "SELECT assigned_employee_id, count(*) FROM customers "
                "WHERE organization_id = %s GROUP BY assigned_employee_id",
                (org,),
            ).fetchall()
        )
        pointer = conn.execute(
            "SELECT last_employee_id FROM assignment_rules WHERE organization_id = %s", (org,)
        ).fetchone()
    assert counts == dict.fromkeys(AGENTS, CREATES // len(AGENTS))
    assert pointer == (AGENTS[-1],)  # 60 choices from the start end on the last agent

"""Erasure on SQLite and PostgreSQL (issue 11 "Done when", rules §8): an erased customer's
personal data appears nowhere.

A customer with a distinctive name, phone, e-mail and national id gets relations, notes,
actions with notes, a stage change, a document (a real file), audit entries, a keyed (stored)
answer, an export, searches and cached reads — all over HTTP on the real service. After
``POST /customers/{id}/erase``:

* the whole database is dumped — PostgreSQL with ``pg_dump`` (live rows: dead tuples are not
  data any reader sees), SQLite as the bytes of its files (``-wal`` included) and
  ``iterdump()`` — and the data directory's files are read: none holds the phone (as sent,
  E.164, digits), the names, the e-mail or the national id;
* lists, search, the export and duplicates over HTTP find nothing; cached reads show the erased
  customer; statistics are unchanged; a second erase answers the same.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.model import Actor
from customers_hub.domain.validation.identity import national_id_check_digit
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.settings import HubConfig
from customers_hub.testing.strategies import ROLE_PERMISSIONS

CUSTOMERS = "/api/v1/customers"
SECRET = "erasure-test-secret-that-is-long-enough-for-hs256"
NAME = "ياقوتة الزبرجدية"
NAME_EN = "Yaqoota Zabarjadia"


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub on the session's migrated database, its documents in this test's directory."""
    config = HubConfig(data_dir=tmp_path, database_url=database_url, rate_limits_enabled=False)
    built = build_hub(config=config)
    await built.start(migrate=False)
    yield built
    await built.close()


class Person:
    """The distinctive personal values, in every form they may be stored in."""

    def __init__(self) -> None:
        serial = uuid.uuid4().int
        self.local_phone = f"0559{serial % 10**6:06d}"  # as a user types it
        self.phone = "+966" + self.local_phone[1:]  # E.164, as stored
        self.digits = self.phone[1:]
        self.email = f"yaqoota.{serial % 10**8}@example.com"
        first_nine = f"1{serial % 10**8:08d}"
        self.national_id = first_nine + national_id_check_digit(first_nine)

    @property
    def needles(self) -> dict[str, bytes]:
        """Each value as UTF-8, and the names as JSON escapes too."""
        texts = {
            "name": NAME,
            "nameEn": NAME_EN,
            "phone as sent": self.local_phone,
            "phone E.164": self.phone,
            "phone digits": self.digits,
            "email": self.email,
            "national id": self.national_id,
        }
        found = {label: text.encode() for label, text in texts.items()}
        found["name (JSON escaped)"] = json.dumps(NAME)[1:-1].encode()
        return found


def _found_in(blob: bytes, person: Person) -> list[str]:
    return [label for label, needle in person.needles.items() if needle in blob]


def _where(blob: bytes, person: Person) -> list[str]:
    """The lines of ``blob`` that hold a needle (what a failure shows), shortened."""
    lines = blob.split(b"\n")
    hits = [line for line in lines if any(n in line for n in person.needles.values())]
    return [line[:300].decode(errors="replace") for line in hits[:8]]


def _pg_dump(database_url: str) -> bytes:
    binary = shutil.which("pg_dump") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None
    )
    assert binary is not None, "pg_dump is needed to check the PostgreSQL dump"
    url = make_url(database_url).set(drivername="postgresql")
    result = subprocess.run(  # a fixed binary on the test's own database
        [binary, "--data-only", "--no-owner", url.render_as_string(hide_password=False)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def _sqlite_dump(database_url: str) -> bytes:
    path = Path(str(make_url(database_url).database))
    blob = b""
    for suffix in ("", "-wal", "-journal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            blob += part.read_bytes()
    with sqlite3.connect(path) as conn:
        blob += "\n".join(conn.iterdump()).encode()
    return blob


def _files(root: Path) -> bytes:
    blob = b""
    for directory, _dirs, names in os.walk(root):
        for name in names:
            blob += (Path(directory) / name).read_bytes()
    return blob


async def _staff(hub: Hub, org: str) -> dict[str, Actor]:
    bootstrap = Actor("bootstrap", org, Role.ADMIN, frozenset(Permission), name="Bootstrap")
    actors = {}
    for key, role in (("admin", Role.ADMIN), ("agent", Role.SALES_AGENT)):
        employee = await create_employee(
            hub.deps,
            bootstrap,
            CreateEmployee(id=f"emp_{key}", name=f"موظف {key}", role=role),
        )
        actors[key] = Actor(
            employee.id, org, role, ROLE_PERMISSIONS[role], name=employee.name, email=None
        )
    return actors


def _headers(auth: AuthSettings, actor: Actor, **extra: str) -> dict[str, str]:
    token = issue_token(
        auth, actor.user_id, actor.role, actor.organization_id, list(actor.permissions), 3600
    )
    return {"Authorization": f"Bearer {token}", **extra}


async def _give_it_a_life(
    client: AsyncTestClient[Any], admin: dict[str, str], agent_id: str, person: Person
) -> tuple[str, str]:
    """Create the customer and everything around it; its id and its document's storage key."""
    body = {
        "name": NAME,
        "nameEn": NAME_EN,
        "phone": person.local_phone,
        "whatsapp": person.local_phone,
        "email": person.email,
        "nationalId": person.national_id,
        "source": "referral",
        "city": "الرياض",
        "address": f"منزل {NAME}",
        "notes": f"{NAME} تفضل الاتصال على {person.local_phone}",
        "assignedEmployeeId": agent_id,
    }
    created = await client.post(CUSTOMERS, headers={**admin, "Idempotency-Key": "k1"}, json=body)
    assert created.status_code == 201, created.text
    customer_id = created.json()["data"]["customer"]["id"]
    base = f"{CUSTOMERS}/{customer_id}"
    said = f"{NAME} {person.phone} {person.email}"
    writes: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/properties", {"propertyId": "prop_1", "status": "interested", "notes": said}),
        (
            f"{base}/interactions",
            {"type": "call", "direction": "inbound", "notes": said, "outcome": said[:400]},
        ),
        (
            f"{base}/appointments",
            {
                "title": f"معاينة مع {NAME}",
                "type": "site_visit",
                "date": (datetime.now(UTC) + timedelta(days=10)).date().isoformat(),
                "time": "11:00",
                "duration": 60,
                "location": f"منزل {NAME}",
                "notes": said,
            },
        ),
        (
            f"{base}/reminders",
            {
                "title": f"اتصل بـ {NAME}",
                "description": said,
                "datetime": _later(2),
                "priority": "high",
                "type": "follow_up",
            },
        ),
    ]
    for url, payload in writes:
        response = await client.post(url, headers=admin, json=payload)
        assert response.status_code == 201, (url, response.text)
    pdf = f"%PDF-1.7\n{said}\n%%EOF".encode()
    uploaded = await client.post(
        f"{base}/documents",
        headers=admin,
        files={"file": ("id.pdf", pdf, "application/pdf")},
        data={"name": f"هوية {NAME}", "type": "id_copy", "description": said},
    )
    assert uploaded.status_code == 201, uploaded.text
    action = await client.post(
        f"{CUSTOMERS}/actions",
        headers=admin,
        json={
            "customerId": customer_id,
            "type": "callback_request",
            "title": f"عاود الاتصال بـ {NAME}",
            "description": said,
            "metadata": {"callerPhone": person.phone},
        },
    )
    assert action.status_code == 201, action.text
    action_id = action.json()["data"]["action"]["id"]
    note = await client.post(
        f"{CUSTOMERS}/actions/{action_id}/notes", headers=admin, json={"content": said}
    )
    assert note.status_code == 201, note.text
    staged = await client.patch(
        f"{base}/stage", headers=admin, json={"toStage": "qualified", "notes": said}
    )
    assert staged.status_code == 200, staged.text
    updated = await client.put(base, headers=admin, json={"notes": f"{said} مرة أخرى"})
    assert updated.status_code == 200, updated.text
    return customer_id, uploaded.json()["data"]["document"]["id"]


async def _found_over_http(
    client: AsyncTestClient[Any], admin: dict[str, str], person: Person, customer_id: str
) -> list[str]:
    """Where lists, search, the export and duplicates still show the person."""
    found = []
    for query in (NAME, person.phone, person.local_phone, person.email):
        listed = await client.get(CUSTOMERS, headers=admin, params={"search": query})
        assert listed.status_code == 200, listed.text
        if listed.json()["data"]["customers"]:
            found.append(f"list search={query}")
        searched = await client.post(f"{CUSTOMERS}/search", headers=admin, json={"query": query})
        assert searched.status_code == 200, searched.text
        if searched.json()["data"]["results"]:
            found.append(f"search {query}")
    exported = await client.get(f"{CUSTOMERS}/export", headers=admin)
    assert exported.status_code == 200
    found += [f"export: {label}" for label in _found_in(exported.content, person)]
    everyone = await client.get(CUSTOMERS, headers=admin, params={"limit": 100})
    found += [f"list: {label}" for label in _found_in(everyone.content, person)]
    pairs = await client.get(f"{CUSTOMERS}/duplicates", headers=admin, params={"limit": 100})
    assert pairs.status_code == 200, pairs.text
    if customer_id in pairs.text:
        found.append("duplicate pairs")
    return found


async def test_an_erased_customers_personal_data_appears_nowhere(
    hub: Hub, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    org = f"org_{uuid.uuid4().hex[:12]}"
    actors = await _staff(hub, org)
    auth = AuthSettings(secret=SECRET)
    admin = _headers(auth, actors["admin"])
    person = Person()
    app = create_app(hub, auth=auth)
    async with AsyncTestClient(app=app) as client:
        customer_id, _document_id = await _give_it_a_life(
            client, admin, actors["agent"].user_id, person
        )
        # Another customer of the same city, erased too: two erased customers share the erased
        # name and the city, which would pair them as duplicates if erased ones were compared.
        other = await client.post(
            CUSTOMERS,
            headers=admin,
            json={
                "name": "سلمى",
                "phone": f"0558{uuid.uuid4().int % 10**6:06d}",
                "source": "manual",
                "city": "الرياض",
            },
        )
        assert other.status_code == 201, other.text
        other_id = other.json()["data"]["customer"]["id"]
        assert (await client.post(f"{CUSTOMERS}/{other_id}/erase", headers=admin)).is_success
        base = f"{CUSTOMERS}/{customer_id}"
        # Reads that the cache keeps, and the state before.
        for _ in range(2):
            assert NAME in (await client.get(base, headers=admin)).text
        stats_before = (await client.get(f"{CUSTOMERS}/stats", headers=admin)).json()["data"]
        assert await _found_over_http(client, admin, person, customer_id) != []
        async with engine.connect() as conn:
            keys = (
                (
                    await conn.execute(
                        select(tables.documents.c.storage_key).where(
                            tables.documents.c.customer_id == customer_id
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert len(keys) == 1
        assert (hub.config.documents_dir / keys[0]).exists()
        assert _found_in(_files(tmp_path), person)  # the file holds them before

        erased = await client.post(
            f"{base}/erase", headers=admin, json={"reason": f"طلب {NAME} عبر {person.phone}"}
        )
        assert erased.status_code == 200, erased.text
        state = erased.json()["data"]["erasure"]
        assert state["customerId"] == customer_id
        assert state["restricted"] is False
        assert "restrictedUntil" not in state

        # The database, the files, and every way of reading them.
        dump = _pg_dump(database_url) if engine.dialect.name == "postgresql" else b""
        if engine.dialect.name == "sqlite":
            dump = _sqlite_dump(database_url)
        assert customer_id.encode() in dump  # the dump is of the right database
        assert _found_in(dump, person) == [], _where(dump, person)
        assert not (hub.config.documents_dir / keys[0]).exists()
        assert _found_in(_files(tmp_path), person) == []
        assert await _found_over_http(client, admin, person, customer_id) == []

        shown = (await client.get(base, headers=admin)).json()["data"]["customer"]
        assert (shown["name"], shown["nameEn"]) == ("عميل محذوف", "Erased customer")
        assert shown["stage"] == "qualified"
        stats_after = (await client.get(f"{CUSTOMERS}/stats", headers=admin)).json()["data"]
        assert stats_after == stats_before

        again = await client.post(f"{base}/erase", headers=admin)
        assert again.status_code == 200, again.text
        assert again.json()["data"] == erased.json()["data"]

"""``pipelined.read_all`` returns what SQLAlchemy's own execution returns, on SQLite and PostgreSQL.

The list's relations and assignees are read through it (one round trip on PostgreSQL, psycopg's
pipeline mode): every value — its type too — must be the one ``conn.execute(...).mappings()``
gives for the same statement, or the list would change. Also: another organization's rows
never come back, and an empty page of ids reads nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine
from test_sql_queries import BASE, make_customer, store, team

from customers_hub.adapters.sql import pipelined
from customers_hub.adapters.sql.customer_reads import _ASSIGNEES, _RELATIONS
from customers_hub.domain.enums import Stage
from customers_hub.domain.model import Employee, FalLicence


def typed(rows: Any) -> list[list[tuple[str, type, str]]]:
    """Each row as (key, type, repr) of its values, in order: equal means the same row."""
    return [[(key, type(value), repr(value)) for key, value in row.items()] for row in rows]


async def test_the_pipeline_reads_what_sqlalchemy_reads(
    engine: AsyncEngine, org_id: str, dialect: str
) -> None:
    other = f"{org_id}_other"
    employees = [
        *team(org_id),
        Employee(
            "agt_fal",
            org_id,
            "فهد",
            team(org_id)[2].role,
            email="fahad@example.sa",
            phone="+966500000001",
            fal_licence=FalLicence("1100012345", date(2027, 5, 1)),
        ),
    ]
    mine = [
        make_customer(
            org_id,
            n,
            moves=[(Stage.QUALIFIED, BASE), (Stage.NEGOTIATION, BASE)],
            interests=3,
            assigned_employee_id=("agt_1", "agt_fal", None)[n % 3],
            total_deal_value=Decimal("1250000.50"),
        )
        for n in range(1, 7)
    ]
    theirs = [make_customer(other, n, interests=2) for n in range(1, 3)]
    await store(engine, customers=mine, employees=employees)
    await store(engine, customers=theirs, employees=team(other))
    array = dialect == "postgresql"
    of_history, of_interests = _RELATIONS[array]
    # The other organization's ids are asked for too: confinement is the statement's.
    ids = [c.id for c in mine + theirs]
    relation = {"organization_id": org_id, "ids": ids}
    assignees = {"organization_id": org_id, "ids": ["agt_1", "agt_fal", "agt_missing"]}
    statements: list[tuple[Select[Any], dict[str, Any]]] = [
        (of_history, relation),
        (of_interests, relation),
        (_ASSIGNEES[array], assignees),
    ]
    async with engine.connect() as conn:
        expected = [list((await conn.execute(s, p)).mappings()) for s, p in statements]
        read = await pipelined.read_all(conn, statements)
        again = await pipelined.read_all(conn, statements)  # compiled once, read alike
    assert [typed(rows) for rows in read] == [typed(rows) for rows in expected]
    assert again == read
    history, interests, found = read
    assert {row["customer_id"] for row in history} == {c.id for c in mine}
    assert (len(history), len(interests)) == (6 * 3, 6 * 3)
    assert {row["id"] for row in found} == {"agt_1", "agt_fal"}
    assert {row["fal_expires_on"] for row in found} == {None, date(2027, 5, 1)}
    assert {type(row["property_price"]) for row in interests} == {Decimal}


async def test_an_empty_page_reads_nothing(engine: AsyncEngine, org_id: str, dialect: str) -> None:
    of_history, of_interests = _RELATIONS[dialect == "postgresql"]
    params = {"organization_id": org_id, "ids": []}
    async with engine.connect() as conn:
        read = await pipelined.read_all(conn, [(of_history, params), (of_interests, params)])
    assert read == [[], []]


async def test_without_pipeline_mode_the_statements_go_one_by_one(
    engine: AsyncEngine, org_id: str, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A libpq older than 14 has no pipeline mode: the same rows, read through SQLAlchemy.
    await store(engine, customers=[make_customer(org_id, 1, interests=2)], employees=team(org_id))
    of_history, of_interests = _RELATIONS[dialect == "postgresql"]
    params = {"organization_id": org_id, "ids": [f"{org_id}_c001"]}
    statements = [(of_history, params), (of_interests, params)]
    async with engine.connect() as conn:
        piped = await pipelined.read_all(conn, statements)
        monkeypatch.setattr(pipelined, "_PIPELINES", False)
        one_by_one = await pipelined.read_all(conn, statements)
    assert [typed(rows) for rows in piped] == [typed(rows) for rows in one_by_one]
    assert [len(rows) for rows in piped] == [1, 2]

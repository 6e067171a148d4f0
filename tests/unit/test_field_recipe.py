"""The recipe of docs/architecture.md ("Adding a customer field"), walked for ``responseRate``.

An optional scalar of the customer is declared once per layer that must know it — the entity
(with its read-side mark), the column, the migration, the response Struct — and everything else
is derived: the row mapping, the field catalog and the SQL filter, the wire conversion, the
OpenAPI schema and the test strategies. These tests fail when a layer spells the field again
(a hand-written copier came back) or when a derived layer stops carrying it. Its storage on both
databases is ``tests/integration/test_field_recipe_sql.py``; over HTTP,
``tests/e2e/test_field_recipe_api.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, Phase, find, settings

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.filters import CUSTOMER_FIELDS
from customers_hub.adapters.sql.filters.fields import How, ValueType
from customers_hub.adapters.sql.mappers import customer_from_row, customer_values
from customers_hub.application.queries import Op
from customers_hub.application.use_cases.catalog import CUSTOMER_CATALOG, ValueKind
from customers_hub.domain.enums import CustomerSource, Stage
from customers_hub.domain.model import Customer
from customers_hub.entrypoints.http.wire import customer_to_wire
from customers_hub.testing.strategies import customers

SNAKE = "response_rate"
CAMEL = "responseRate"
SRC = Path(__file__).resolve().parents[2] / "src" / "customers_hub"

# The recipe's four places, by role: a file of src that spells the field must be one of them.
PLUMBING = {
    "entity": re.compile(r"^domain/model\.py$"),
    "column": re.compile(r"^adapters/sql/tables(\.py|/.*\.py)$"),
    "migration": re.compile(r"^adapters/sql/migrations/versions/\d{4}_\w+\.py$"),
    "response": re.compile(r"^entrypoints/http/wire/customer_out\.py$"),
}

# Rules that read the field: they are why it exists, not plumbing that moves it.
RULES = {
    "domain/scoring.py": "the lead score and insights read it (rules §3)",
    "domain/audit.py": "a value a relation's write recomputes is explained by that entry",
    "adapters/sql/statistics.py": "the customer statistics average it (avgResponseRate)",
    "adapters/sql/counters.py": "the statistics' counters sum it",
}


def _is_rule(file: str, text: str) -> bool:
    # A migration that does not add the column reads it (the counters' triggers).
    if PLUMBING["migration"].match(file):
        return f'"{SNAKE}", sa.' not in text
    return file in RULES


def _plumbing_files() -> set[str]:
    word = re.compile(rf"\b({SNAKE}|{CAMEL})\b")
    found = set()
    for path in SRC.rglob("*.py"):
        file, text = str(path.relative_to(SRC)), path.read_text(encoding="utf-8")
        if word.search(text) and not _is_rule(file, text):
            found.add(file)
    return found


def test_the_field_is_spelled_in_at_most_the_four_places_of_the_recipe() -> None:
    plumbing = _plumbing_files()
    roles = {
        file: [role for role, pattern in PLUMBING.items() if pattern.match(file)]
        for file in plumbing
    }
    assert all(roles.values()), (
        f"spelled outside the recipe: {[f for f, r in roles.items() if not r]}"
    )
    assert len(plumbing) <= 4, sorted(plumbing)
    # Each place is still there (the test would pass vacuously on a renamed field otherwise).
    assert {role for found in roles.values() for role in found} == set(PLUMBING)


def test_the_catalog_and_the_sql_filter_derive_it_from_the_entity() -> None:
    spec = CUSTOMER_CATALOG.get(CAMEL)
    assert spec is not None
    assert (spec.kind, spec.nullable, spec.many) == (ValueKind.INTEGER, True, False)
    assert {Op.EQ, Op.GTE, Op.LT} <= spec.operators
    sql = CUSTOMER_FIELDS[CAMEL]
    assert (sql.how, sql.column, sql.value_type) == (How.COLUMN, SNAKE, ValueType.INT)
    assert SNAKE in tables.customers.c


def _customer(**fields: object) -> Customer:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    return Customer(
        id="cust_recipe",
        organization_id="org_recipe",
        name="عميل",
        phone="+966500000001",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=now,
        updated_at=now,
        **fields,  # type: ignore[arg-type]
    )


def test_the_row_mapping_and_the_wire_carry_it_without_naming_it() -> None:
    customer = _customer(response_rate=73)
    row = customer_values(customer)
    assert row[SNAKE] == 73
    assert customer_from_row(row, (), ()).response_rate == 73
    assert customer_to_wire(customer).response_rate == 73
    # Absent stays absent: no column value, no key on the wire.
    empty = _customer()
    assert customer_values(empty)[SNAKE] is None
    assert customer_from_row(customer_values(empty), (), ()).response_rate is None
    assert CAMEL not in msgspec.json.decode(msgspec.json.encode(customer_to_wire(empty)))


def test_the_strategy_draws_it_within_its_declared_bounds() -> None:
    # Generation only: the first customer found is enough (no shrinking).
    quick = settings(
        max_examples=200,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    drawn = find(customers(), lambda c: c.response_rate is not None, settings=quick)
    assert drawn.response_rate is not None
    assert 0 <= drawn.response_rate <= 100
    # Optional: a customer with interactions may still have no measured rate.
    find(
        customers(), lambda c: c.total_interactions > 0 and c.response_rate is None, settings=quick
    )

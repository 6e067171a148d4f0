"""The recipe of docs/architecture.md ("Adding a customer field"), walked for ``responseRate``
(kept by the system, read-only on the API) and ``employer`` (written by clients).

An optional scalar of the customer is declared once per layer that must know it — the entity
(with its marks), the column, the migration, the response Struct — and everything else is
derived: the row mapping, the field catalog and the SQL filter, the wire conversion, the
request body, the draft and the patch with the field's rule, the import's columns, the merge,
the OpenAPI schema and the test strategies. These tests fail when a layer spells the field
again (a hand-written copier came back) or when a derived layer stops carrying it. Storage on
both databases is ``tests/integration/test_field_recipe_sql.py``; over HTTP,
``tests/e2e/test_field_recipe_api.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import HealthCheck, Phase, find, settings

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.filters import CUSTOMER_FIELDS
from customers_hub.adapters.sql.filters.fields import How, ValueType
from customers_hub.adapters.sql.mappers import customer_from_row, customer_values
from customers_hub.application.queries import Op
from customers_hub.application.use_cases.catalog import CUSTOMER_CATALOG, ValueKind
from customers_hub.domain.audit import MASK, FieldChange, is_personal, mask_changes
from customers_hub.domain.enums import CustomerSource, Stage
from customers_hub.domain.erasure import erase
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.fields import resolved_fields, writable
from customers_hub.domain.imports import IMPORT_FIELD_KEYS
from customers_hub.domain.merging import MERGE_FIELDS
from customers_hub.domain.model import Customer
from customers_hub.domain.naming import camel_case
from customers_hub.domain.validation import (
    CustomerDraft,
    CustomerPatch,
    apply_customer_patch,
    validate_customer_draft,
    validate_customer_patch,
)
from customers_hub.domain.validation import customers as customer_rules
from customers_hub.domain.validation.texts import Errors
from customers_hub.entrypoints.http.openapi_fields import field_rules
from customers_hub.entrypoints.http.wire import CustomerIn, NewCustomerIn, customer_to_wire
from customers_hub.testing.strategies import customers
from customers_hub.testing.strategies.fields import written_fields

SNAKE = "response_rate"
CAMEL = "responseRate"
WRITTEN = "employer"  # a field clients write: the same four files
# Generation only: the first customer found is enough (no shrinking).
QUICK = settings(
    max_examples=200,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
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


def _is_rule(file: str, text: str, snake: str) -> bool:
    # A migration that does not add the column reads it (the counters' triggers).
    if PLUMBING["migration"].match(file):
        return f'"{snake}", sa.' not in text
    return snake == SNAKE and file in RULES


def _plumbing_files(snake: str) -> set[str]:
    word = re.compile(rf"\b({snake}|{camel_case(snake)})\b")
    found = set()
    for path in SRC.rglob("*.py"):
        file, text = str(path.relative_to(SRC)), path.read_text(encoding="utf-8")
        if word.search(text) and not _is_rule(file, text, snake):
            found.add(file)
    return found


@pytest.mark.parametrize("snake", [SNAKE, WRITTEN])
def test_the_field_is_spelled_in_at_most_the_four_places_of_the_recipe(snake: str) -> None:
    plumbing = _plumbing_files(snake)
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
    drawn = find(customers(), lambda c: c.response_rate is not None, settings=QUICK)
    assert drawn.response_rate is not None
    assert 0 <= drawn.response_rate <= 100
    # Optional: a customer with interactions may still have no measured rate.
    find(
        customers(), lambda c: c.total_interactions > 0 and c.response_rate is None, settings=QUICK
    )


# --- the written field: the body, the draft and the patch with its rule ------------------------

TODAY = datetime(2025, 3, 1, tzinfo=UTC).date()


def test_the_request_body_takes_it_and_makes_the_draft_and_the_patch() -> None:
    body = msgspec.json.decode(
        b'{"name": "x", "phone": "+966500000001", "source": "manual", "employer": " Aramco "}',
        type=NewCustomerIn,
    )
    draft = validate_customer_draft(body.to_draft(), TODAY)
    assert draft.employer == "Aramco"  # cleaned by the rule of its type
    patch = msgspec.json.decode(b'{"employer": null}', type=CustomerIn).to_patch()
    assert patch == CustomerPatch(employer=None)
    cleared = apply_customer_patch(_customer(employer="Aramco"), patch)
    assert cleared.employer is None
    # Absent keeps: a patch of other fields leaves it.
    kept = msgspec.json.decode(b'{"city": "Riyadh"}', type=CustomerIn).to_patch()
    assert apply_customer_patch(_customer(employer="Aramco"), kept).employer == "Aramco"


def test_its_rule_comes_from_its_mark_on_create_and_on_update() -> None:
    too_long = "م" * 201
    with pytest.raises(ValidationFailed) as created:
        validate_customer_draft(
            CustomerDraft(name="سعد", phone="+966500000001", employer=too_long), TODAY
        )
    assert [e.field for e in created.value.errors] == [WRITTEN]
    with pytest.raises(ValidationFailed) as updated:
        validate_customer_patch(CustomerPatch(employer=too_long), _customer(), TODAY)
    assert [e.field for e in updated.value.errors] == [WRITTEN]
    # The longest allowed passes; blank is "not given".
    longest = validate_customer_patch(CustomerPatch(employer="م" * 200), _customer(), TODAY)
    assert longest.employer == "م" * 200
    assert (
        validate_customer_patch(CustomerPatch(employer="  "), _customer(), TODAY).employer is None
    )


def test_the_import_the_merge_the_catalog_and_the_document_carry_it() -> None:
    assert WRITTEN in IMPORT_FIELD_KEYS
    assert WRITTEN in MERGE_FIELDS
    spec = CUSTOMER_CATALOG.get(WRITTEN)
    assert spec is not None
    assert (spec.kind, spec.nullable) == (ValueKind.TEXT, True)
    assert CUSTOMER_FIELDS[WRITTEN].column == WRITTEN
    assert field_rules(TODAY)[("*", WRITTEN)]["maxLength"] == 200
    assert customer_to_wire(_customer(employer="Aramco")).employer == "Aramco"


def test_a_patch_names_only_fields_of_the_record() -> None:
    with pytest.raises(TypeError, match="no field"):
        CustomerPatch(employerr="x")
    assert CustomerPatch(employer="a").given() == {WRITTEN: "a"}
    assert CustomerPatch().is_empty


def test_the_strategy_draws_the_written_field_within_its_mark() -> None:
    drawn = find(customers(), lambda c: c.employer is not None, settings=QUICK)
    assert drawn.employer is not None
    assert 1 <= len(drawn.employer) <= 200
    find(customers(), lambda c: c.employer is None, settings=QUICK)


def test_a_field_marked_personal_is_erased_and_masked() -> None:
    erased = erase(_customer(employer="وزارة الصحة"), now=datetime.now(UTC), retention_years=5)
    assert erased.customer.employer is None
    assert is_personal(WRITTEN)
    (masked,) = mask_changes((FieldChange(WRITTEN, None, "وزارة الصحة"),))
    assert masked.to == MASK
    # Not every written field is personal: the customer's type stays for the statistics.
    assert not is_personal("customerType")


# --- the rule of a type, for a mark the product does not use yet --------------------------------


@attrs.frozen
class _Probe:
    score: int | None = attrs.field(default=None, metadata=writable(bounds=(0, 10)))
    label: str | None = attrs.field(default=None, metadata=writable(max_length=5))
    free: str | None = None  # a written text without a length: refused at import


def _rule(name: str) -> Any:
    (attribute,) = (a for a in resolved_fields(_Probe) if a.name == name)
    return customer_rules._rule_of_type(attribute)


def test_a_whole_number_takes_its_bounds_and_a_text_its_length() -> None:
    for value, fails in ((0, False), (10, False), (11, True), (-1, True), (True, True)):
        errors = Errors()
        _rule("score")(errors, value)
        assert errors.has("score") is fails, value
    errors = Errors()
    assert _rule("label")(errors, " abc ") == "abc"
    _rule("label")(errors, "abcdef")
    assert errors.has("label")
    with pytest.raises(TypeError, match="max_length"):
        _rule("free")


def test_the_strategy_draws_a_marked_number_within_its_bounds() -> None:
    drawn = find(written_fields(_Probe), lambda v: v["score"] is not None, settings=QUICK)
    assert 0 <= drawn["score"] <= 10
    assert set(drawn) == {"score", "label"}  # the unmarked field is left to its strategy

"""schemathesis hooks of ``scripts/fuzz.sh``: generators for the formats the OpenAPI document
names but JSON Schema cannot state, taken from :mod:`customers_hub.testing.strategies` — the
same strategies an embedding team uses in its own Hypothesis tests.

* ``saudi-national-id``: ten digits starting with 1 (citizen) or 2 (resident) whose last digit
  is the check digit (a checksum is not a regular language, so no ``pattern`` can say it).

Loaded by ``schemathesis.toml`` (``hooks = "scripts.fuzz_hooks"``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import MutableMapping
from decimal import Decimal, InvalidOperation
from typing import Any

import schemathesis

from customers_hub.application.idempotency import KEY_PATTERN
from customers_hub.entrypoints.http.idempotency import KEY_HEADER
from customers_hub.testing.strategies import national_ids

schemathesis.openapi.format("saudi-national-id", national_ids())


# A manager is a reference to a stored employee who may manage (else 422 naming managerId, once
# the other fields are valid). A generated id names nobody, so the fuzzer names a real one to
# reach the 2xx paths: the demo organization's admin, who reports to no one (no cycle) and may
# manage — only where the generated id is well formed (a malformed one stays: it must be refused).
MANAGER_ID = "demo-admin"
_WELL_FORMED_ID = re.compile(r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$")


def _with_real_manager(case: schemathesis.Case) -> None:
    body = case.body
    manager = body.get("managerId") if isinstance(body, dict) else None
    if (
        case.operation.path.startswith("/api/v1/employees")
        and isinstance(manager, str)
        and len(manager) <= 50
        and _WELL_FORMED_ID.match(manager)
    ):
        target = (case.path_parameters or {}).get("employee_id") or body.get("id")
        manager_id = None if target == MANAGER_ID else MANAGER_ID
        if manager != manager_id:
            case.body = {**body, "managerId": manager_id}


# A customer's budget (and area) range is ordered, between the values sent and the stored ones:
# JSON Schema compares no two values, so the fuzzer sends both ends, in order.
_RANGES = (("budgetMin", "budgetMax"), ("minArea", "maxArea"))


# The same for what a customer has paid, which never exceeds the deal's total value.
_AMOUNTS = (("paidAmount", "totalDealValue"),)


def _number(value: Any) -> Decimal | None:
    # Money is sent as a number or as its text ("58906.50"); both compare as amounts.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _ordered(values: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    changed = dict(values)
    for low_key, high_key in pairs:
        low, high = changed.get(low_key), changed.get(high_key)
        numbers = [v for v in (low, high) if _number(v) is not None]
        if len(numbers) == 1:
            changed[low_key] = changed[high_key] = numbers[0]
        elif len(numbers) == 2:
            changed[low_key], changed[high_key] = sorted(numbers, key=_number)
    return changed


def _with_ordered_ranges(case: schemathesis.Case) -> None:
    body = case.body
    if not case.operation.path.startswith("/api/v1/customers") or not isinstance(body, dict):
        return
    changed = _ordered(body, _AMOUNTS)
    if isinstance(body.get("preferences"), dict):
        changed["preferences"] = _ordered(body["preferences"], _RANGES)
    # Only a real change is written back: schemathesis revalidates a body that was set, and a
    # multipart form read back as valid would turn a negative case into a "positive" one.
    if changed != body:
        case.body = changed


# An Idempotency-Key the generator repeats (the coverage phase sends the same shortest and
# longest keys to every operation) would make most writes a 422 IDEMPOTENCY_KEY_REUSED and leave
# their bodies untested: a well-formed key becomes a fresh one (still well formed); a malformed
# one stays, to be refused. tests/e2e/test_idempotency.py covers the key's own rules.
_KEYS = itertools.count(1)
_WELL_FORMED_KEY = re.compile(KEY_PATTERN)


def _with_fresh_idempotency_key(case: schemathesis.Case) -> None:
    headers = case.headers  # a case-insensitive mapping
    key = headers.get(KEY_HEADER) if isinstance(headers, MutableMapping) else None
    if isinstance(headers, MutableMapping) and isinstance(key, str) and _WELL_FORMED_KEY.match(key):
        # In place: a new mapping would also pin the token's header the auth checks remove.
        headers[KEY_HEADER] = f"fuzz-{next(_KEYS)}"


@schemathesis.hook
def map_case(ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Generated cases reference real records, keep ranges ordered and use each idempotency key
    once (see above)."""
    _with_real_manager(case)
    _with_ordered_ranges(case)
    _with_fresh_idempotency_key(case)
    return case


@schemathesis.hook
def before_add_examples(ctx: schemathesis.HookContext, examples: list[schemathesis.Case]) -> None:
    """The document's examples (``managerId: emp_002``) get the same treatment."""
    for case in examples:
        _with_real_manager(case)
        _with_ordered_ranges(case)
        _with_fresh_idempotency_key(case)

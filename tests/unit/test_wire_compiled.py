"""The compiled fill of :func:`~customers_hub.entrypoints.http.wire.convert.to_wire` gives exactly
what the plain loop over the Struct's fields gave (its reference, kept here verbatim).

``to_wire`` now runs code generated once per (Struct, source class, special names) with the
branch of each attribute's declared class inlined, and :func:`_fill` for any other value. The
reference below is the definition before that change. Results are compared as the JSON bytes
the client receives and as the Structs themselves with the type of every value (``5`` and
``5.0`` encode differently; a ``str`` subclass is not a ``str``); a conversion that raises must
raise the same exception type in both.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from customers_hub.domain.model import Customer, CustomerAction, Employee
from customers_hub.entrypoints.http import wire_actions
from customers_hub.entrypoints.http.caching import encode_data
from customers_hub.entrypoints.http.wire import convert, customer_out, customer_parts, relations
from customers_hub.entrypoints.http.wire.base import money
from customers_hub.entrypoints.http.wire.convert import (
    _AS_IS,
    _DATETIME,
    _DECIMAL,
    _ENTITY,
    _MISSING,
    _SEQUENCE,
    _kind,
    _plan,
)
from customers_hub.testing.identity import typed
from customers_hub.testing.strategies import actions, customers, employees

# ---------------------------------------------------------------------------------------------
# The reference: ``to_wire`` as it was, a loop over the plan with a dispatch per value.


def _reference_value(value: Any, nested: type[msgspec.Struct] | None) -> Any:
    kind = _kind(type(value))
    if kind in (_AS_IS, _DECIMAL):
        return value
    if kind == _DATETIME:
        return value.astimezone(UTC)
    if kind == _SEQUENCE:
        return [_reference_value(item, nested) for item in value]
    if kind == _ENTITY:
        return reference_to_wire(value, nested) if nested is not None else value
    return dict(value)  # a mapping


def reference_to_wire(source: object, struct: type[Any], /, **special: Any) -> Any:
    """``to_wire`` before it was compiled."""
    data: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    for slot in _plan(struct):
        if slot.name in special:
            if special[slot.name] is not UNSET:
                data[slot.key] = special[slot.name]
            continue
        value: Any = getattr(source, slot.name, _MISSING)
        if value is _MISSING or (value is None and slot.omit_none):
            continue
        kind = _kind(type(value))
        if kind == _AS_IS:
            data[slot.key] = value
        elif kind == _DECIMAL:
            numbers[slot.name] = money(value)
            data[slot.key] = float(value)
        else:
            data[slot.key] = _reference_value(value, slot.nested)
    out = msgspec.convert(data, struct)
    return msgspec.structs.replace(out, **numbers) if numbers else out


# The modules whose converters call ``to_wire`` by the name they imported.
_CALLERS = (customer_out, customer_parts, relations, wire_actions)


@contextmanager
def _using(to_wire: Callable[..., Any]) -> Iterator[None]:
    saved = [caller.to_wire for caller in _CALLERS]
    for caller in _CALLERS:
        caller.to_wire = to_wire  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for caller, original in zip(_CALLERS, saved, strict=True):
            caller.to_wire = original  # type: ignore[attr-defined]


def outcome(convert_with: Callable[..., Any], to_wire: Callable[..., Any]) -> object:
    """The JSON bytes and typed Struct of ``convert_with()`` run with ``to_wire``, or the type
    of what it raised."""
    with _using(to_wire):
        try:
            out = convert_with()
        except Exception as exc:  # either one may raise: what it raises is part of the result
            return ("raised", type(exc))
    try:
        sent: object = encode_data(out)  # the bytes the service sends
    except Exception as exc:  # a drifted value the encoder refuses (a str subclass)
        sent = ("unencodable", type(exc))
    return ("ok", sent, typed(out))


def same_both_ways(convert_with: Callable[..., Any]) -> object:
    new = outcome(convert_with, convert.to_wire)
    assert new == outcome(convert_with, reference_to_wire)
    return new


# ---------------------------------------------------------------------------------------------
# Drifted entities: a few attributes holding a value of another type than declared.


class _Text(str):
    """A ``str`` subclass: not exactly ``str``, so the compiled fill must not take its branch."""


class _Other(enum.Enum):
    ONE = "new_lead"


def _variants(value: object) -> st.SearchStrategy[object]:
    """``value``, or the same datum in another type, or junk."""
    options: list[object] = [value, None, "¿junk?", _Other.ONE, 7, 7.5, [value], (value,)]
    if isinstance(value, str):
        options += [_Text(value)]
    if isinstance(value, bool):
        options.append(int(value))
    elif isinstance(value, int):
        options += [float(value), bool(value), Decimal(value)]
    elif isinstance(value, Decimal):
        options += [float(value), int(value), value.normalize(), Decimal("NaN")]
    elif isinstance(value, datetime):
        options += [value.replace(tzinfo=None), value.date(), value.isoformat()]
    elif isinstance(value, date):
        options += [datetime(value.year, value.month, value.day, tzinfo=UTC)]
    elif isinstance(value, enum.Enum):
        options.append(value.value)
    elif isinstance(value, tuple):
        options += [list(value), (*value, "¿junk?"), ()]
    elif isinstance(value, dict):
        options += [MappingProxyType(value), list(value.items())]
    return st.sampled_from(options)


@st.composite
def drifted(draw: st.DrawFn, entities: st.SearchStrategy[Any]) -> Any:
    """An entity of ``entities`` with up to three attributes set past their validators."""
    entity = draw(entities)
    names = [f.name for f in attrs.fields(type(entity))]
    copy = attrs.evolve(entity)
    for name in draw(st.sets(st.sampled_from(names), max_size=3)):
        object.__setattr__(copy, name, draw(_variants(getattr(entity, name))))
    return copy


# ---------------------------------------------------------------------------------------------
# Tests

_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(customers(), st.none() | employees(), st.booleans())
def test_a_customer_is_the_same_json_as_before(
    customer: Customer, employee: Employee | None, assigned: bool
) -> None:
    if employee is not None and assigned:  # embedded only when it is the assignee
        employee = attrs.evolve(employee, id=customer.assigned_employee_id or employee.id)
    result = same_both_ways(lambda: customer_out.customer_to_wire(customer, employee))
    assert result[0] == "ok"


@_SETTINGS
@given(drifted(customers()), st.none() | employees())
def test_a_drifted_customer_converts_or_fails_as_before(
    customer: Customer, employee: Employee | None
) -> None:
    same_both_ways(lambda: customer_out.customer_to_wire(customer, employee))


@_SETTINGS
@given(customers().flatmap(lambda c: st.tuples(st.just(c), drifted(st.just(c.preferences)))))
def test_drifted_nested_parts_convert_or_fail_as_before(pair: tuple[Customer, Any]) -> None:
    customer, preferences = pair
    if customer.stage_history:
        entry = customer.stage_history[-1]
        object.__setattr__(entry, "changed_at", entry.changed_at.replace(tzinfo=None))
    drifted_customer = attrs.evolve(customer, preferences=preferences)
    same_both_ways(lambda: customer_out.customer_to_wire(drifted_customer))


@_SETTINGS
@given(st.one_of(actions(), drifted(actions())), st.none() | customers())
def test_an_action_is_the_same_json_as_before(
    action: CustomerAction, customer: Customer | None
) -> None:
    same_both_ways(lambda: wire_actions.action_to_wire(action, customer))


@settings(max_examples=1, deadline=None)
@given(customers())
def test_the_compiled_fill_is_used_and_made_once_per_class(customer: Customer) -> None:
    convert._FILLERS.clear()
    customer_out.customer_to_wire(customer)
    made = dict(convert._FILLERS)
    customer_out.customer_to_wire(customer)
    assert made == convert._FILLERS  # reused, not made again
    assert any(key[:2] == (customer_out.CustomerOut, Customer) for key in made)


@pytest.mark.parametrize("value", [5, 5.0, Decimal("5"), Decimal("5.50"), True])
@settings(max_examples=5, deadline=None)
@given(customer=customers())
def test_numbers_keep_their_json_form(value: object, customer: Customer) -> None:
    object.__setattr__(customer, "avg_response_time", value)
    object.__setattr__(customer, "total_deal_value", value)
    same_both_ways(lambda: customer_out.customer_to_wire(customer))

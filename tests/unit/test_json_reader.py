"""The compiled reader of JSON-column entities (``adapters/sql/mappers/json_reader.py``) gives
exactly what :data:`~customers_hub.adapters.sql.mappers.base.json_converter` gives — the
same values of the same types, or the same exception type — for stored JSON and for JSON that
drifted (a value of another type, junk, a missing or an extra key)."""

from __future__ import annotations

import enum
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers_hub.adapters.sql.mappers.base import json_converter, to_json
from customers_hub.adapters.sql.mappers.json_reader import _fast_reader, entity_reader
from customers_hub.domain.model import AiInsights, Customer, KsaCompliance, Preferences
from customers_hub.testing.identity import outcome
from customers_hub.testing.strategies import customers, preferences

_CLASSES = (Preferences, AiInsights, KsaCompliance)


def same_both_ways(cls: type[Any], data: object) -> object:
    new = outcome(entity_reader(cls), data)
    assert new == outcome(json_converter.structure, data, cls)
    return new


class _Other(enum.Enum):
    ONE = "apartment"


def _variants(value: object) -> st.SearchStrategy[object]:
    """``value``, the same datum in another JSON type, or junk."""
    options: list[object] = [value, None, "¿junk?", 7, 7.5, True, [value], {"x": value}]
    if isinstance(value, str):
        options += [value.upper(), "2026-13-40", "1e3", "12.50"]
    if isinstance(value, int) and not isinstance(value, bool):
        options += [str(value), float(value), value != 0]
    if isinstance(value, list):
        options += [tuple(value), [*value, None], [*value, 5], value[:1], "abc", []]
        if value and isinstance(value[0], dict):
            options.append([{**value[0], "points": "x"}])
    if isinstance(value, dict):
        options += [{}, dict.fromkeys(value)]
    options.append(_Other.ONE)
    return st.sampled_from(options)


@st.composite
def drifted(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with up to three keys changed, dropped, or one key added."""
    out = dict(data)
    for key in draw(st.sets(st.sampled_from(sorted(data) or ["x"]), max_size=3)):
        action = draw(st.sampled_from(["change", "change", "drop"]))
        if action == "drop":
            out.pop(key, None)
        else:
            out[key] = draw(_variants(data.get(key)))
    if draw(st.booleans()):
        out["unknownKey"] = 1
    return out


def _stored(customer: Customer) -> list[tuple[type[Any], Any]]:
    return [
        (Preferences, to_json(customer.preferences)),
        (AiInsights, to_json(customer.ai_insights)),
        (KsaCompliance, to_json(customer.ksa_compliance)),
    ]


_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(customers())
def test_stored_json_reads_as_the_converter_reads_it(customer: Customer) -> None:
    for cls, data in _stored(customer):
        if data is not None:
            assert same_both_ways(cls, data)[0] == "ok"


@_SETTINGS
@given(st.data(), customers(), st.sampled_from([0, 1, 2]))
def test_drifted_json_reads_or_fails_as_the_converter(
    data: st.DataObject, customer: Customer, which: int
) -> None:
    cls, stored = _stored(customer)[which]
    if stored is None:
        stored = {}
    same_both_ways(cls, data.draw(drifted(stored)))


@_SETTINGS
@given(preferences(), st.sampled_from([None, [], "x", 5, {"propertyType": "villa"}]))
def test_values_that_are_not_objects_read_as_the_converter(
    prefs: Preferences, other: object
) -> None:
    same_both_ways(Preferences, to_json(prefs))
    same_both_ways(Preferences, other)


def test_every_json_column_entity_is_compiled() -> None:
    # A class the compiled code does not cover would fall back on every row, silently slow.
    for cls in _CLASSES:
        data = to_json(cls()) if cls is Preferences else None
        if data is not None:
            assert _fast_reader(cls)(data) == json_converter.structure(data, cls)
    for cls in _CLASSES:
        assert _fast_reader(cls).__code__.co_filename == f"<json reader {cls.__name__}>"


_ODD_VALUES: tuple[object, ...] = (
    None,
    True,
    0,
    7,
    7.5,
    float("inf"),
    "",
    "¿junk?",
    "villa",
    "high",
    "12.50",
    "2026-01-31",
    "2026-01-31T10:00:00+03:00",
    [],
    ["villa", "apartment"],
    ["a", 1],
    ("villa",),
    [{"factor": "x", "points": 1, "reason": "y"}],
    [{"factor": "x", "points": "1", "reason": "y"}],
    {},
    {"factor": "x", "points": 1, "reason": "y"},
    _Other.ONE,
)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(customers())
def test_every_key_with_every_odd_value_reads_as_the_converter(customer: Customer) -> None:
    # Each key of each stored object in turn holds each odd value, or is missing.
    for cls, base in _stored(customer):
        if base is None:
            continue
        for key in base:
            missing = {k: v for k, v in base.items() if k != key}
            same_both_ways(cls, missing)
            for value in _ODD_VALUES:
                same_both_ways(cls, {**base, key: value})

"""JSON columns are decoded by msgspec with the standard library behind it
(``adapters/sql/engine.json_loads``): every text gives exactly what ``json.loads`` gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.adapters.sql.engine import json_loads

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def same(decoded: object, expected: object) -> bool:
    # repr tells 1 from True and 1.0, -0.0 from 0.0, and shows nan alike on both sides.
    return repr(decoded) == repr(expected)


@given(_VALUES, st.booleans())
def test_any_stored_json_decodes_as_the_standard_library_does(value: object, ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii)
    assert same(json_loads(text), json.loads(text))
    assert same(json_loads(text.encode()), json.loads(text.encode()))


@pytest.mark.parametrize(
    "text",
    [
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "123456789012345678901234567890",
        '{"a":1,"a":2}',
        "5e-324",
        '"\\u0627\\u0644"',
        "[]",
        "{}",
        " 1 ",
    ],
)
def test_texts_msgspec_refuses_or_reads_alike(text: str) -> None:
    assert same(json_loads(text), json.loads(text))


@pytest.mark.parametrize("text", ["", "{", "[1,]", "nope"])
def test_what_is_no_json_fails_as_it_did(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        json_loads(text)

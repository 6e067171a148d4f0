"""domain.patches.Patch: a partial update derived from a record's fields."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal

import attrs
import pytest

from customers_hub.domain.unset import UNSET
from customers_hub.domain.validation import CustomerPatch, PreferencesPatch


def test_it_takes_the_records_fields_only_and_keeps_their_order() -> None:
    patch = CustomerPatch(notes="x", name="سعد", city=UNSET)
    assert patch.given() == {"name": "سعد", "notes": "x"}
    assert list(patch.given()) == ["name", "notes"]  # the record's order, not the call's
    assert patch.city is UNSET  # not sent
    assert patch.name == "سعد"
    with pytest.raises(TypeError, match="no field nme"):
        CustomerPatch(nme="x")
    with pytest.raises(AttributeError):
        _ = patch.nme


def test_none_is_sent_and_clears() -> None:
    patch = CustomerPatch(notes=None)
    assert patch.given() == {"notes": None}
    assert not patch.is_empty
    assert CustomerPatch().is_empty


def test_it_is_frozen_and_compared_by_value_and_type() -> None:
    patch = CustomerPatch(name="a", preferences=PreferencesPatch(bedrooms=3))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        patch.name = "b"  # type: ignore[misc]
    assert patch == CustomerPatch(name="a", preferences=PreferencesPatch(bedrooms=3))
    assert patch != CustomerPatch(name="b")
    assert PreferencesPatch() != CustomerPatch()  # same (empty) values, another record
    assert hash(CustomerPatch(name="a")) == hash(CustomerPatch(name="a"))
    with pytest.raises(TypeError):
        hash(CustomerPatch(source_details={"k": "v"}))  # a dict, as on an attrs record
    assert repr(CustomerPatch(name="a")) == "CustomerPatch(name='a')"


def test_replace_sends_more_or_withdraws() -> None:
    patch = CustomerPatch(name="a", notes="n")
    assert patch.replace(city="Riyadh").given() == {"name": "a", "city": "Riyadh", "notes": "n"}
    assert patch.replace(notes=UNSET).given() == {"name": "a"}
    assert patch.given() == {"name": "a", "notes": "n"}  # unchanged


def test_it_survives_copy_deepcopy_and_pickle() -> None:
    patch = CustomerPatch(
        paid_amount=Decimal("10.50"), preferences=PreferencesPatch(amenities=("pool",))
    )
    assert copy.copy(patch) == patch
    assert copy.deepcopy(patch) == patch
    assert pickle.loads(pickle.dumps(patch)) == patch

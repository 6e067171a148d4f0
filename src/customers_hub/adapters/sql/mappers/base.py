"""The JSON converter, facet kinds and small value helpers of the row mappers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from customers_hub.domain.naming import camel_case

T = TypeVar("T")
E = TypeVar("E")

DEFAULT_TIME_ZONE: Final = ZoneInfo("Asia/Riyadh")
"""The organization time zone appointments' local ``date``/``time`` columns use by default."""

FACET_TAG: Final = "tag"
FACET_PROPERTY_TYPE: Final = "property_type"
FACET_AREA: Final = "area"
FACET_CITY: Final = "city"
FACET_KINDS: Final = (FACET_TAG, FACET_PROPERTY_TYPE, FACET_AREA, FACET_CITY)


# --- the JSON converter ----------------------------------------------------------------------


def _make_converter() -> Converter:
    conv = Converter(unstruct_collection_overrides={tuple: list})
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    conv.register_unstructure_hook(datetime, lambda value: value.isoformat())
    conv.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    conv.register_unstructure_hook(date, lambda value: value.isoformat())
    conv.register_structure_hook(date, lambda value, _: date.fromisoformat(value))

    def unstructure_factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        renames: dict[str, Any] = {
            a.name: override(rename=camel_case(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, **renames)

    def structure_factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(rename=camel_case(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_structure_fn(cls, conv, **renames)

    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    return conv


json_converter: Final[Converter] = _make_converter()
"""The converter of the SQL edge's JSON columns (camelCase keys, Decimal as string)."""


def to_json(value: object, as_type: Any = None) -> Any:
    """``value`` as JSON-ready data (dicts, lists, strings, numbers, booleans, None)."""
    if value is None:
        return None
    return json_converter.unstructure(value, unstructure_as=as_type)


def from_json(data: Any, as_type: type[T]) -> T:
    """The ``as_type`` instance stored as ``data`` by :func:`to_json`."""
    return json_converter.structure(data, as_type)


# --- small helpers ---------------------------------------------------------------------------


def _enum(cls: Callable[[str], E], value: object) -> E | None:
    return None if value is None else cls(str(value))


def _value(member: object) -> str | None:
    # Enum columns hold the wire value; None stays NULL.
    return None if member is None else str(getattr(member, "value", member))


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _tuple_of_str(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    assert isinstance(value, Iterable)
    return tuple(str(v) for v in value)

"""Customer statistics and filter options on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from msgspec import UNSET, UnsetType

from customers_hub.application.queries import (
    CustomerStats,
    FilterOptions,
)
from customers_hub.entrypoints.http.wire.base import (
    Wire,
)
from customers_hub.entrypoints.http.wire.convert import to_wire

# ---------------------------------------------------------------------------------------------
# Statistics and filter options


class PrivacyRequestStatsOut(Wire, kw_only=True):
    """``privacyRequests`` of the customer statistics (admins only; rules §8): open requests,
    overdue ones, and those due by the end of the local day seven days ahead."""

    open: int
    overdue: int
    due_soon: int


class CustomerStatsOut(Wire, kw_only=True):
    """``GET /customers/stats`` (money as numbers); ``privacyRequests`` for admins."""

    total: int
    by_stage: dict[str, int]
    by_source: dict[str, int]
    by_priority: dict[str, int]
    lead_scores: dict[str, float | None]
    financial: dict[str, float | None]
    conversion: dict[str, float | None]
    engagement: dict[str, float | None]
    grouped: dict[str, int] | UnsetType = UNSET
    privacy_requests: PrivacyRequestStatsOut | UnsetType = UNSET


def _numbers(values: Mapping[str, Any]) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            result[key] = float(value) if value != value.to_integral_value() else int(value)
        else:
            result[key] = value
    return result


def customer_stats_to_wire(stats: CustomerStats) -> CustomerStatsOut:
    """The wire form of the customer statistics."""
    return CustomerStatsOut(
        total=stats.total,
        by_stage=dict(stats.by_stage),
        by_source=dict(stats.by_source),
        by_priority=dict(stats.by_priority),
        lead_scores=_numbers(stats.lead_scores),
        financial=_numbers(stats.financial),
        conversion=_numbers(stats.conversion),
        engagement=_numbers(stats.engagement),
        grouped=dict(stats.grouped) if stats.grouped is not None else UNSET,
    )


class FilterOptionOut(Wire, kw_only=True):
    """One filter option with its count."""

    value: str
    label: str | UnsetType = UNSET
    label_en: str | UnsetType = UNSET
    count: int


class EmployeeOptionOut(Wire, kw_only=True):
    """An employee option with how many customers they hold."""

    id: str
    name: str
    name_en: str | UnsetType = UNSET
    count: int


class FilterOptionsOut(Wire, kw_only=True):
    """``GET /customers/filters``."""

    stages: list[FilterOptionOut]
    sources: list[FilterOptionOut]
    cities: list[FilterOptionOut]
    property_types: list[FilterOptionOut]
    employees: list[EmployeeOptionOut]


def filter_options_to_wire(options: FilterOptions) -> FilterOptionsOut:
    """The wire form of the filter options."""
    return to_wire(options, FilterOptionsOut)

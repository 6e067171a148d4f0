"""The replayed clock, a customer's timeline, its plan and its story while replayed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import attrs
from attrs import frozen

from customers_hub.domain.compliance import Financing
from customers_hub.domain.enums import (
    Stage,
)
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.demo.reference import _City, _Listing


class _ReplayClock:
    """The loader's clock: it shows the moment being replayed."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        """The replayed moment (aware UTC)."""
        return self._now

    def set(self, now: datetime) -> None:
        """Move to ``now``."""
        self._now = now


class _Timeline:
    """The moments of one customer's story, from its creation to shortly before now."""

    def __init__(
        self, clock: _ReplayClock, start: datetime, end: datetime, steps: int, rng: random.Random
    ) -> None:
        self.clock = clock
        self.now = start
        self.end = end
        self.steps_left = max(steps, 1)
        self.rng = rng
        clock.set(start)

    def tick(self) -> datetime:
        """The next moment: the time left shared among the steps left, with some jitter."""
        share = (self.end - self.now) / (self.steps_left + 1)
        gap = max(share * self.rng.uniform(0.5, 1.5), timedelta(minutes=7))
        self.steps_left = max(self.steps_left - 1, 1)
        return self.at(self.now + gap)

    def gap(self, longest: timedelta) -> timedelta:
        """A wait of at most ``longest`` that leaves room for the steps left (an hour at least)."""
        return max(min(longest, (self.end - self.now) / (self.steps_left + 1)), timedelta(hours=1))

    def at(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (never backwards, a minute later at least)."""
        self.now = max(moment, self.now + timedelta(minutes=1))
        self.clock.set(self.now)
        return self.now


# --- the plan of one customer ---------------------------------------------------------------------


@frozen
class _CustomerPlan:
    draft: CustomerDraft
    stage: Stage
    assignee: str | None
    created_at: datetime
    end: datetime
    city: _City
    target: _Listing
    alternatives: tuple[_Listing, ...]
    is_citizen: bool
    skip_qualification: bool
    went_back: bool


_K = TypeVar("_K")


@attrs.define
class _Story:
    """One customer's story while it is replayed."""

    plan: _CustomerPlan
    actor: Actor
    customer_id: str
    line: _Timeline
    interest_ids: list[str] = attrs.field(factory=list)
    deal: Decimal = Decimal(0)
    financing: Financing | None = None


def _money(value: Decimal | int | float, step: int = 1000) -> Decimal:
    """``value`` rounded to a multiple of ``step`` SAR."""
    units = (Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return units * step

"""Read plans: what a cached read decides before it touches storage, as a value.

A read use case is two steps (issue 13, "Decide access once"):

* ``plan_<read>(actor, request…)`` — pure (no I/O, no clock, no zone): the access decision (the
  role and the token, and every further rule of the read: ``consent=`` and ``deleted=true`` on
  the customers list …), the parameters' validation (every bad parameter in one
  :class:`~customers_hub.domain.errors.ValidationFailed`) and the caller's scope. It raises the
  403 or the 400, or returns one of the plans below: frozen, holding what the execution needs and
  what tells one result from another (the organization and scope in :class:`Reader`, the
  validated request, the page, the organization's day where the result depends on it);
* ``run_<read>(deps, plan)`` — the execution (the organization's zone, the queries).

The HTTP edge makes the plan, keys the cache by it (``entrypoints/http/caching.plan_key``) and
runs it only on a miss, so a check lives once, in the plan, and holds on a hit as on a miss.

Validation and the zone: a bare date in a range is a local day of the organization's zone,
which only the run step reads. The plan validates with UTC; the only checks the zone can change
are the order of a range's two bounds (``createdTo`` before ``createdFrom`` when one bound is a
bare date and the other an instant). So when the plan finds errors and a range has both bounds,
it leaves the verdict to the run step, which validates again with the zone and raises exactly
the errors the use case always raised (an invalid request is never stored).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Self

import attrs
from attrs import frozen

from customers_hub.application.queries import CustomerListQuery, SearchQuery
from customers_hub.domain import access
from customers_hub.domain.access import Operation, RecordScope, ScopeFilter
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import NotFound
from customers_hub.domain.model import Actor

if TYPE_CHECKING:
    from customers_hub.application.use_cases.reads import (
        AdvancedQuery,
        CustomerListParams,
        SearchParams,
    )

__all__ = [
    "ActionStatsPlan",
    "CustomerListPlan",
    "CustomerQueryPlan",
    "CustomerSearchPlan",
    "CustomerStatsPlan",
    "CustomerViewPlan",
    "EmployeeListPlan",
    "FilterOptionsPlan",
    "ReadPlan",
    "Reader",
    "customer_record_decision",
    "customer_view_decision",
    "hide_restricted",
    "reader_for",
    "zone_decides",
]

Bound = datetime | date | None


@frozen
class Reader:
    """Who reads, as far as a result depends on it: the caller (for the run step's record checks)
    and the scope of the read's operation, decided from the caller's role and token."""

    actor: Actor
    scope: ScopeFilter

    @property
    def organization_id(self) -> str:
        """The organization every part of the read is in."""
        return self.scope.organization_id

    def key_parts(self) -> dict[str, str]:
        """What tells one caller's result from another's: role, reach and the employee the
        reach is relative to (the caller, for TEAM and OWN)."""
        return {
            "role": self.actor.role.value,
            "reach": self.scope.kind.value,
            "employee": self.scope.employee_id or "",
        }


@lru_cache(maxsize=4096)
def reader_for(actor: Actor, operation: Operation) -> Reader:
    """403 unless the role and the token allow ``operation``; then the caller's reader.

    A pure function of the (immutable) actor: decided once per caller and operation (a refusal
    raises every time: ``lru_cache`` keeps no exceptions)."""
    access.enforce(actor, operation, resource_type="", resource_id="")
    return Reader(actor, access.scope_filter(actor, operation))


@frozen
class ReadPlan:
    """A planned read: made (and allowed) for one caller and request."""

    reader: Reader

    @property
    def day(self) -> date | None:
        """The organization's day the result depends on, if any: such a plan needs a read to
        be made, so the cached hit path never reuses it."""
        return None

    def on_day(self, today: date) -> Self:
        """This plan for the organization's day ``today`` (a plan whose result depends on the
        day; made by the caller after the plan allowed the read, since it is a read itself)."""
        return attrs.evolve(self, today=today)  # type: ignore[call-arg]


@frozen
class CustomerListPlan(ReadPlan):
    """``GET /customers``: the whole (validated) request and its page (a number, or
    ``"cursor"``)."""

    params: CustomerListParams
    mode: int | str
    query: CustomerListQuery | None = attrs.field(default=None, eq=False)
    """The query itself when the zone plays no part in it (no time bounds, no ``filters``):
    the run step then neither reads the zone nor validates again. Not part of the plan's
    identity (it follows from the rest)."""


@frozen
class CustomerQueryPlan(ReadPlan):
    """``POST /customers/query``: the validated body."""

    body: AdvancedQuery
    query: CustomerListQuery | None = attrs.field(default=None, eq=False)
    """The query itself when the zone plays no part in it (no condition on a datetime field),
    as :attr:`CustomerListPlan.query`."""


@frozen
class CustomerSearchPlan(ReadPlan):
    """``POST /customers/search``: the validated request."""

    params: SearchParams
    query: SearchQuery | None = attrs.field(default=None, eq=False)
    """The query itself when the zone plays no part in it, as :attr:`CustomerListPlan.query`."""


@frozen
class CustomerViewPlan(ReadPlan):
    """``GET /customers/{id}``: the customer, the relations asked for (validated), and whether
    a soft-deleted customer is read (only an admin's ``includeDeleted`` says so). The decision
    on the record itself needs the record: :func:`customer_view_decision`, after the read."""

    customer_id: str
    include: frozenset[str]
    include_deleted: bool


@frozen
class FilterOptionsPlan(ReadPlan):
    """``GET /customers/filters``: counted over the reader's customers."""


@frozen
class CustomerStatsPlan(ReadPlan):
    """``GET /customers/stats``: the window, the grouping and the organization's day."""

    date_from: Bound = None
    date_to: Bound = None
    group_by: str | None = None
    today: date | None = None

    @property
    def day(self) -> date | None:
        """The organization's day (the numbers of "this month", "overdue" …)."""
        return self.today

    @property
    def with_privacy(self) -> bool:
        """Whether the result carries the privacy requests' numbers (admins', rules §8)."""
        return self.reader.actor.role is Role.ADMIN


@frozen
class ActionStatsPlan(ReadPlan):
    """``GET /customers/actions/stats``: the employee asked for (stripped), the window and the
    organization's day. Whether the employee is in the caller's reach needs a read: the run
    step decides it."""

    assigned_to: str | None = None
    date_from: Bound = None
    date_to: Bound = None
    today: date | None = None

    @property
    def day(self) -> date | None:
        """The organization's day (due today, overdue …)."""
        return self.today


@frozen
class EmployeeListPlan(ReadPlan):
    """``GET /employees``: the filters, and the organization's day when workloads are asked
    for (they count "this month")."""

    role: Role | None = None
    is_active: bool | None = None
    include_stats: bool = False
    today: date | None = None

    @property
    def day(self) -> date | None:
        """The organization's day, with workloads."""
        return self.today


def zone_decides(*ranges: tuple[Bound, Bound]) -> bool:
    """Whether a range has both bounds: then the zone may decide their order (module
    docstring), so only the run step may report a plan's validation errors."""
    return any(low is not None and high is not None for low, high in ranges)


def hide_restricted(actor: Actor, customer_id: str, *, restricted: bool) -> None:
    """404 for a restricted customer (erased, kept for its contract: rules §8) unless the
    caller is an admin: to anyone else it looks like no customer at all."""
    if restricted and actor.role is not Role.ADMIN:
        raise NotFound("customer", customer_id)


def customer_record_decision(
    actor: Actor,
    operation: Operation,
    customer_id: str,
    scope: RecordScope | None,
    *,
    restricted: bool,
) -> None:
    """The decision on a customer once read: 404 when restricted (:func:`hide_restricted`),
    403 when ``scope`` (the record's organization and assignees) is outside the caller's reach
    for ``operation``. The use cases make it after loading a customer; the edge makes it on
    every answer of a cached customer, hit or miss (:func:`customer_view_decision`)."""
    hide_restricted(actor, customer_id, restricted=restricted)
    access.enforce(actor, operation, scope, resource_type="customer", resource_id=customer_id)


def customer_view_decision(
    actor: Actor, customer_id: str, scope: RecordScope | None, *, restricted: bool
) -> None:
    """:func:`customer_record_decision` for reading the customer (``GET /customers/{id}``)."""
    customer_record_decision(
        actor, Operation.READ_CUSTOMERS, customer_id, scope, restricted=restricted
    )

"""Duplicate detection (issue 12, Deliver 3, rules §10): the candidates of one customer, and
the candidate pairs in the caller's scope.

The rule (reasons and score) is :mod:`customers_hub.domain.duplicates`; the
:class:`~customers_hub.application.ports_operations.DuplicateQueries` adapter only finds who
shares a key, by indexed equality, and every match shown is confirmed by the domain's rule on
the loaded customers.

Scope, where the issue is silent: a customer's candidates and the pairs are limited to what the
caller may read (``read_customers``): an agent sees duplicates among their own customers only,
a manager within the team, an admin the organization — never another organization's. Asking
for the candidates of a customer answers like ``GET /customers/{id}``: another organization's
(or a deleted) customer is 404, one of the organization outside the caller's scope 403.
"""

from __future__ import annotations

from typing import Final

from attrs import frozen

from customers_hub.application.context import Dependencies, present
from customers_hub.application.ports_operations import DuplicateQueries
from customers_hub.application.queries import MAX_LIMIT, Page, PageRequest
from customers_hub.application.use_cases.customers import load_customer
from customers_hub.domain import access
from customers_hub.domain.access import Operation
from customers_hub.domain.duplicates import DuplicateMatch, match
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor, Customer

__all__ = [
    "DUPLICATE_PAIRS_DEFAULT_LIMIT",
    "MAX_CANDIDATES",
    "PAGE_MAX",
    "CustomerDuplicates",
    "customer_duplicates",
    "duplicate_pairs",
]

MAX_CANDIDATES: Final = 50
"""At most this many candidates of one customer (strongest first)."""

DUPLICATE_PAIRS_DEFAULT_LIMIT: Final = 20
"""Pairs per page when ``limit`` is not given."""

PAGE_MAX: Final = 1_000_000
"""Largest ``page`` of the pairs."""


@frozen
class CustomerDuplicates:
    """The candidates of ``customer``, strongest first (then by id)."""

    customer: Customer
    matches: tuple[DuplicateMatch, ...]


def _queries(deps: Dependencies) -> DuplicateQueries:
    return present(deps.duplicate_queries, "duplicate_queries")


async def customer_duplicates(
    deps: Dependencies, actor: Actor, customer_id: str
) -> CustomerDuplicates:
    """``GET /customers/{id}/duplicates``: the customers in the caller's scope that look like
    this one, with the reasons and the score of each."""
    queries = _queries(deps)
    async with deps.uow(read_only=True) as uow:
        loaded = await load_customer(
            uow, actor, customer_id, Operation.READ_CUSTOMERS, for_update=False
        )
    customer = loaded.customer
    scope = access.scope_filter(actor, Operation.READ_CUSTOMERS)
    ids = await queries.candidates(customer, scope, MAX_CANDIDATES)
    if not ids:
        return CustomerDuplicates(customer, ())
    async with deps.uow(read_only=True) as uow:
        others = await uow.customers.get_many(actor.organization_id, ids)
    matches = [m for m in (match(customer, others[i]) for i in ids if i in others) if m]
    matches.sort(key=lambda m: (-m.score, m.duplicate.id))
    return CustomerDuplicates(customer, tuple(matches))


async def duplicate_pairs(
    deps: Dependencies,
    actor: Actor,
    *,
    page: int = 1,
    limit: int = DUPLICATE_PAIRS_DEFAULT_LIMIT,
) -> Page[DuplicateMatch]:
    """``GET /customers/duplicates``: pairs of customers both in the caller's scope that look
    like one person, strongest first (then by the ids), ``customer.id < duplicate.id``."""
    access.enforce(actor, Operation.READ_CUSTOMERS, resource_type="", resource_id="")
    errors: list[FieldError] = []
    if not 1 <= page <= PAGE_MAX:
        errors.append(FieldError("page", f"must be between 1 and {PAGE_MAX}"))
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"must be between 1 and {MAX_LIMIT}"))
    if errors:
        raise ValidationFailed(errors)
    queries = _queries(deps)
    scope = access.scope_filter(actor, Operation.READ_CUSTOMERS)
    refs = await queries.pairs(scope, PageRequest(page=page, limit=limit))
    ids = list(dict.fromkeys(i for r in refs.items for i in (r.first_id, r.second_id)))
    customers: dict[str, Customer] = {}
    if ids:
        async with deps.uow(read_only=True) as uow:
            customers = await uow.customers.get_many(actor.organization_id, ids)
    matches: list[DuplicateMatch] = []
    for ref in refs.items:
        first, second = customers.get(ref.first_id), customers.get(ref.second_id)
        found = match(first, second) if first and second else None
        if found is not None:
            matches.append(found)
    return refs.with_items(matches)

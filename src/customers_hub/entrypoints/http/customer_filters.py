"""The customers list's filter parameters, declared once, for ``GET /customers`` and for the
endpoints that select customers the way it does (the export).

:func:`customer_list_filters` declares the list's filter and sort parameters (names, types,
limits, descriptions), checks the money and the date bounds (keeping every error for the
endpoint's one 400), and returns the
:class:`~customers_hub.application.use_cases.reads.CustomerListParams` the read use cases take
(in a :class:`ListFilters`); the use case then runs the list's own parsing
(:func:`~customers_hub.application.use_cases.reads.customer_list_query`). Paging (``page``,
``limit``, ``cursor``), ``fields``, ``include`` and ``deleted`` are the endpoint's own business
and are not declared here. Two ways to take them, both from this one declaration:

* :func:`with_list_filters` on a handler with a keyword-only ``list_filters: ListFilters``
  parameter puts the filter parameters in the handler's own signature at that place (so the
  OpenAPI document lists them there) and hands the handler their :class:`ListFilters`; the
  handler keeps the app's direct injection (:mod:`.injection`) — the customers list;
* ``dependencies={"list_filters": LIST_FILTERS}``, a Litestar dependency — the export.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Final, TypeVar, get_type_hints

from litestar.di import Provide
from litestar.params import Parameter

from customers_hub.application.use_cases.reads import CustomerListParams
from customers_hub.domain.enums import CustomerSource, Priority, PropertyType, Stage
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.entrypoints.http.wire import (
    LEAD_SCORE_MAX,
    LEAD_SCORE_MIN,
    amount_errors,
)
from customers_hub.entrypoints.http.wire.params import parse_window, time_bound

__all__ = ["LIST_FILTERS", "ListFilters", "customer_list_filters", "with_list_filters"]

_R = TypeVar("_R")


class ListFilters:
    """The list's filters of a request, as :func:`customer_list_filters` parsed them, and the
    errors of the values it could not take (a bad bound is left out of ``params``), so the
    endpoint reports them in one 400 with its own (:meth:`merged`).

    A plain class (not attrs) so that Litestar hands it to the handler as it is.
    """

    def __init__(self, params: CustomerListParams, errors: Sequence[FieldError] = ()) -> None:
        self.params = params
        self.errors = tuple(errors)

    def merged(self, bad: ValidationFailed | None = None) -> ValidationFailed | None:
        """These errors followed by ``bad``'s, as one failure; None when there is none."""
        errors = [*self.errors, *(bad.errors if bad is not None else ())]
        return ValidationFailed(errors) if errors else None


async def customer_list_filters(
    search: Annotated[str | None, Parameter(description="Name, phone or email")] = None,
    stage: list[Stage] | None = None,
    source: list[CustomerSource] | None = None,
    priority: list[Priority] | None = None,
    assigned_employee_id: Annotated[list[str] | None, Parameter(query="assignedEmployeeId")] = None,
    lead_score_min: Annotated[
        int | None, Parameter(query="leadScoreMin", ge=LEAD_SCORE_MIN, le=LEAD_SCORE_MAX)
    ] = None,
    lead_score_max: Annotated[
        int | None, Parameter(query="leadScoreMax", ge=LEAD_SCORE_MIN, le=LEAD_SCORE_MAX)
    ] = None,
    budget_min: Annotated[Decimal | None, Parameter(query="budgetMin")] = None,
    budget_max: Annotated[Decimal | None, Parameter(query="budgetMax")] = None,
    property_type: Annotated[list[PropertyType] | None, Parameter(query="propertyType")] = None,
    preferred_areas: Annotated[list[str] | None, Parameter(query="preferredAreas")] = None,
    city: list[str] | None = None,
    tags: list[str] | None = None,
    created_from: Annotated[str | None, time_bound("createdFrom")] = None,
    created_to: Annotated[str | None, time_bound("createdTo")] = None,
    last_contact_from: Annotated[str | None, time_bound("lastContactFrom")] = None,
    last_contact_to: Annotated[str | None, time_bound("lastContactTo")] = None,
    sort_by: Annotated[
        str | None,
        Parameter(
            query="sortBy", description="name, createdAt, leadScore, lastContactAt, dealValue"
        ),
    ] = None,
    sort_order: Annotated[str | None, Parameter(query="sortOrder", description="asc, desc")] = None,
    filters: Annotated[
        str | None, Parameter(description="JSON object of nested filters with operators")
    ] = None,
) -> ListFilters:
    """The list's filters of this request; a bad money value or date bound is recorded in
    :attr:`ListFilters.errors`, never raised here."""
    errors: list[FieldError] = list(
        amount_errors(("budgetMin", budget_min), ("budgetMax", budget_max))
    )
    bounds = parse_window(
        ("createdFrom", created_from),
        ("createdTo", created_to),
        ("lastContactFrom", last_contact_from),
        ("lastContactTo", last_contact_to),
        errors=errors,
    )
    failed = {e.field for e in errors}
    params = CustomerListParams(
        search=search,
        stage=stage or (),
        source=source or (),
        priority=priority or (),
        assigned_employee_id=assigned_employee_id or (),
        lead_score_min=lead_score_min,
        lead_score_max=lead_score_max,
        budget_min=None if "budgetMin" in failed else budget_min,
        budget_max=None if "budgetMax" in failed else budget_max,
        property_type=property_type or (),
        preferred_areas=preferred_areas or (),
        city=city or (),
        tags=tags or (),
        created_from=bounds["createdFrom"],
        created_to=bounds["createdTo"],
        last_contact_from=bounds["lastContactFrom"],
        last_contact_to=bounds["lastContactTo"],
        sort_by=sort_by,
        sort_order=sort_order,
        filters=filters,
    )
    return ListFilters(params, errors)


LIST_FILTERS: Final = Provide(customer_list_filters)
"""The dependency provider of :func:`customer_list_filters`."""


def with_list_filters(handler: Callable[..., Awaitable[_R]]) -> Callable[..., Awaitable[_R]]:
    """``handler`` with the parameters of :func:`customer_list_filters` in place of its
    keyword-only ``list_filters`` parameter, which it then receives parsed.

    Litestar reads the handler's parameters from ``__signature__`` and ``__annotations__``, so
    they are parsed and validated with the handler's own (one 400 for every bad value) and the
    handler needs no dependency of its own (the list keeps the direct injection of the app's).
    """
    signature = inspect.signature(handler)
    hints = get_type_hints(handler, include_extras=True)
    filter_signature = inspect.signature(customer_list_filters)
    filter_hints = get_type_hints(customer_list_filters, include_extras=True)
    marker = signature.parameters.get("list_filters")
    if marker is None or marker.kind is not inspect.Parameter.KEYWORD_ONLY:
        raise TypeError(f"{handler.__qualname__} needs a keyword-only list_filters parameter")
    names = tuple(filter_signature.parameters)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter is marker:
            parameters.extend(
                p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=filter_hints[p.name])
                for p in filter_signature.parameters.values()
            )
        else:
            parameters.append(parameter.replace(annotation=hints.get(parameter.name, Any)))

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> _R:
        values = {name: kwargs.pop(name) for name in names if name in kwargs}
        return await handler(*args, **kwargs, list_filters=await customer_list_filters(**values))

    annotations = {k: v for k, v in hints.items() if k != "list_filters"}
    annotations.update({k: v for k, v in filter_hints.items() if k != "return"})
    wrapper.__annotations__ = annotations
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", Any)
    )
    return wrapper

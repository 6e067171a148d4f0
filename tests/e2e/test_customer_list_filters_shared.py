"""The customers list's filter parameters, declared once (``http/customer_filters.py``) and taken
by the list (in its own signature, :func:`with_list_filters`) and by the export (a dependency):
the same parameters in the OpenAPI document, validated with the list's own in one 400."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.entrypoints.http.customer_filters import (
    ListFilters,
    customer_list_filters,
    with_list_filters,
)

if TYPE_CHECKING:
    from conftest import TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


async def _parameters(client: Client, path: str) -> list[dict[str, Any]]:
    document = (await client.get("/api/v1/openapi.json")).json()
    parameters: list[dict[str, Any]] = document["paths"][path]["get"]["parameters"]
    return [p for p in parameters if p["in"] == "query"]


async def test_the_list_and_the_export_document_the_same_filters_in_the_declared_order(
    client: Client,
) -> None:
    """Each filter stands once in the list's parameters, between ``limit`` and ``cursor``, as
    the export has it (same name, place, requirement)."""
    listed = await _parameters(client, CUSTOMERS)
    exported = {p["name"]: p for p in await _parameters(client, f"{CUSTOMERS}/export")}
    names = [p["name"] for p in listed]
    assert len(names) == len(set(names))
    shared = listed[names.index("limit") + 1 : names.index("cursor")]
    assert len(shared) == len(inspect.signature(customer_list_filters).parameters) == 20
    # The schemas may differ: the document's field rules add the list's sort keys as an enum.
    for parameter in shared:
        other = exported.get(parameter["name"], {})
        assert {**parameter, "schema": None} == {**other, "schema": None}, parameter["name"]


async def test_a_bad_filter_and_a_bad_list_parameter_are_one_400(
    client: Client, token_for: TokenFor
) -> None:
    """Filters are validated with the handler's own parameters (not a dependency first)."""
    response = await client.get(
        CUSTOMERS, params={"leadScoreMin": "999", "page": "0"}, headers=token_for("admin")
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {"leadScoreMin", "page"} <= {d["field"] for d in error["details"]}


async def test_money_dates_fields_and_include_errors_come_together_in_order(
    client: Client, token_for: TokenFor
) -> None:
    """The filters' own checks (money, date bounds) first, then ``fields`` and ``include``."""
    response = await client.get(
        CUSTOMERS,
        params={
            "budgetMin": "-1",
            "createdTo": "yesterday",
            "fields": "nope",
            "include": "documents",
        },
        headers=token_for("admin"),
    )
    assert response.status_code == 400, response.text
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert fields == ["budgetMin", "createdTo", "fields", "include"]


async def test_the_handler_gets_the_parsed_filters_and_its_own_arguments() -> None:
    """The wrapper takes the filters out of the keyword arguments and hands them parsed."""
    seen: dict[str, Any] = {}

    async def handler(
        page: int = 1, *, list_filters: ListFilters, cursor: str | None = None
    ) -> int:
        seen.update(page=page, cursor=cursor, filters=list_filters)
        return 7

    wrapped = with_list_filters(handler)
    names = list(inspect.signature(wrapped).parameters)
    assert names[0] == "page"
    assert names[-1] == "cursor"
    assert names[1:-1] == list(inspect.signature(customer_list_filters).parameters)
    assert await wrapped(page=2, cursor="c", search="sara", budget_min=None) == 7
    assert (seen["page"], seen["cursor"]) == (2, "c")
    assert (seen["filters"].params.search, seen["filters"].errors) == ("sara", ())


def test_a_handler_without_a_keyword_only_list_filters_is_refused() -> None:
    async def positional(list_filters: ListFilters) -> None: ...

    async def absent(page: int = 1) -> None: ...

    for handler in (positional, absent):
        with pytest.raises(TypeError, match="list_filters"):
            with_list_filters(handler)

"""``GET /api/v1/customers/{id}/compliance`` — the agent's compliance checklist (rules §7).

For the customer's next stage and each later one, every rule that entering it requires — §1's
data guards and §7's Saudi compliance rules — with its state (``pass``, ``block``, ``warn``,
``not_applicable``) and its reason in English and Arabic. Read like ``GET /customers/{id}``: 404
when absent, deleted or another organization's, 403 when outside the caller's scope. Not cached:
licences expire and settings change with the day.
"""

from __future__ import annotations

from litestar import Response, get

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import compliance as use_cases
from customers_hub.domain.compliance_rules import CheckState
from customers_hub.domain.enums import Stage
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID, NO_STORE
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import Wire
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = ["ROUTES", "ComplianceCheckOut", "ComplianceController", "ComplianceData"]


class ComplianceCheckOut(Wire, kw_only=True):
    """One rule of one stage ahead."""

    stage: Stage
    rule: str
    state: CheckState
    message: str
    message_ar: str


class ComplianceData(Wire, kw_only=True):
    """``data`` of ``GET /customers/{id}/compliance``."""

    customer_id: str
    stage: Stage
    next_stage: Stage | None
    require_fal_licence: bool
    checks: list[ComplianceCheckOut]


class ComplianceController(StrictController):
    """``/api/v1/customers/{id}/compliance``."""

    path = "/customers"
    tags = ("Customers",)

    @get(
        "/{customer_id:str}/compliance",
        operation_id="getCustomerCompliance",
        summary="Compliance checklist of a customer (rules §7)",
        responses=error_responses(403, 404),
    )
    async def customer_compliance(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID
    ) -> Response[Envelope[ComplianceData]]:
        """Which rules pass and which block each later stage, with reasons in Arabic and
        English."""
        report = await use_cases.get_compliance(deps, actor, customer_id)
        return ok(
            to_wire(
                report,
                ComplianceData,
                checks=[to_wire(i, ComplianceCheckOut) for i in report.items],
            ),
            headers=NO_STORE,
        )


ROUTES = [ComplianceController]

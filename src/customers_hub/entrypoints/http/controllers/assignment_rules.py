"""Assignment rules (issue 12, rules §10): ``/api/v1/assignment-rules``.

* ``POST /assignment-rules`` ``{name, strategy, employeeIds, match?, priority?, active?}`` → 201
  ``{rule}``;
* ``GET /assignment-rules`` (paged, in checking order), ``GET|PATCH|DELETE
  /assignment-rules/{id}``; single-rule responses carry ``ETag: "v<version>"`` and ``PATCH``/
  ``DELETE`` take ``If-Match`` (412 when the rule moved on).

``strategy`` is ``round_robin`` or ``load_balanced``; ``employeeIds`` 1–50 employees of the
organization (422 naming ``employeeIds`` otherwise); ``match`` ``{sources, cities,
propertyTypes}``, each a list (empty or absent fits everything); ``priority`` 0–1,000,000, lower
first (ties: the older rule). Admins manage every rule; a sales manager the rules whose
employees are all in the team; agents and viewers get 403; another organization's rule is 404.
The rules are applied to every new customer created without an assignee (``docs/assignment.md``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, delete, get, patch, post

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import assignment as use_cases
from customers_hub.domain.assignment import AssignmentRule
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.caching import parse_if_match, version_etag
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import id_parameter, if_match_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import LIMIT, PAGE, page_to_wire
from customers_hub.entrypoints.http.wire.assignment import (
    AssignmentRuleData,
    AssignmentRuleDeletedData,
    AssignmentRuleIn,
    AssignmentRulePatchIn,
    AssignmentRulesData,
    draft_of,
    patch_of,
    rule_to_wire,
)

__all__ = ["ROUTES", "AssignmentRulesController"]

_ID = Annotated[str, id_parameter("Assignment rule")]
_IF_MATCH = Annotated[str | None, if_match_parameter("rule")]
_RESOURCE = "assignment rule"


def _one(
    rule: AssignmentRule, message: str | None = None
) -> Response[Envelope[AssignmentRuleData]]:
    return ok(
        AssignmentRuleData(rule=rule_to_wire(rule)),
        message=message,
        headers={"ETag": version_etag(rule.version), "Cache-Control": "private, no-cache"},
    )


class AssignmentRulesController(StrictController):
    """``/api/v1/assignment-rules``."""

    path = "/assignment-rules"
    tags = ("Assignment rules",)

    @post(
        "/",
        operation_id="createAssignmentRule",
        summary="Create an assignment rule",
        responses=error_responses(403, 422),
    )
    async def create_rule(
        self, deps: Dependencies, actor: Actor, data: AssignmentRuleIn
    ) -> Response[Envelope[AssignmentRuleData]]:
        """A new rule; it applies to the next new customers without an assignee."""
        rule = await use_cases.create_assignment_rule(deps, actor, draft_of(data))
        return _one(rule, "Assignment rule created")

    @get(
        "/",
        operation_id="listAssignmentRules",
        summary="List the assignment rules",
        responses=error_responses(403),
    )
    async def list_rules(
        self,
        deps: Dependencies,
        actor: Actor,
        page: PAGE = 1,
        limit: LIMIT = use_cases.RULES_DEFAULT_LIMIT,
    ) -> Response[Envelope[AssignmentRulesData]]:
        """The rules in checking order (a manager sees the team's)."""
        result = await use_cases.list_assignment_rules(deps, actor, page=page, limit=limit)
        return ok(
            AssignmentRulesData(
                rules=[rule_to_wire(r) for r in result.items], pagination=page_to_wire(result)
            ),
            headers={"Cache-Control": "private, no-cache"},
        )

    @get(
        "/{rule_id:str}",
        operation_id="getAssignmentRule",
        summary="Get an assignment rule",
        responses=error_responses(403, 404),
    )
    async def get_rule(
        self, deps: Dependencies, actor: Actor, rule_id: _ID
    ) -> Response[Envelope[AssignmentRuleData]]:
        """One rule of the organization."""
        return _one(await use_cases.get_assignment_rule(deps, actor, rule_id))

    @patch(
        "/{rule_id:str}",
        operation_id="updateAssignmentRule",
        summary="Change an assignment rule",
        responses=error_responses(403, 404, 412, 422),
    )
    async def update_rule(
        self,
        deps: Dependencies,
        actor: Actor,
        rule_id: _ID,
        data: AssignmentRulePatchIn,
        if_match: _IF_MATCH = None,
    ) -> Response[Envelope[AssignmentRuleData]]:
        """Change the sent fields (``match`` is replaced whole)."""
        command = use_cases.UpdateAssignmentRule(
            rule_id=rule_id,
            patch=patch_of(data),
            expected_version=parse_if_match(if_match, resource=_RESOURCE),
        )
        rule = await use_cases.update_assignment_rule(deps, actor, command)
        return _one(rule, "Assignment rule updated")

    @delete(
        "/{rule_id:str}",
        operation_id="deleteAssignmentRule",
        summary="Delete an assignment rule",
        status_code=200,
        responses=error_responses(403, 404, 412),
    )
    async def delete_rule(
        self, deps: Dependencies, actor: Actor, rule_id: _ID, if_match: _IF_MATCH = None
    ) -> Response[Envelope[AssignmentRuleDeletedData]]:
        """Delete the rule (customers it assigned keep their assignee)."""
        command = use_cases.DeleteAssignmentRule(
            rule_id=rule_id, expected_version=parse_if_match(if_match, resource=_RESOURCE)
        )
        await use_cases.delete_assignment_rule(deps, actor, command)
        return ok(AssignmentRuleDeletedData(rule_id=rule_id), message="Assignment rule deleted")


ROUTES: list[Any] = [AssignmentRulesController]
"""Mounted under ``/api/v1``."""

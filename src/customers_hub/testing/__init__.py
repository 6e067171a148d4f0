"""Hypothesis strategies and stateful machines for testing code built on Customers Hub.

Other teams import this module in their own suites to draw valid domain objects and to check
lifecycle and inbox rules against their own systems::

    from hypothesis import given, settings
    from customers_hub.domain.enums import Stage
    from customers_hub.testing import LifecycleMachine, customers

    @given(customers(stage=Stage.CLOSING))
    def test_closing_customers_have_paid(customer):
        assert customer.paid_amount > 0

    TestLifecycle = LifecycleMachine.TestCase
    TestLifecycle.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

Strategy options accept a plain value or a strategy; see :mod:`customers_hub.testing.strategies`.
To run a machine against your own adapters, subclass it and override its ``perform_…`` and
``observe_…`` hooks; see :mod:`customers_hub.testing.machines`.
"""

from __future__ import annotations

from customers_hub.testing.machines import (
    MODEL_ACTION_MOVES,
    MODEL_STAGE_ORDER,
    ActionMachine,
    GuardFacts,
    LifecycleMachine,
    Outcome,
    model_action_command,
    model_effective_status,
    model_guards_hold,
    model_stage_change,
)
from customers_hub.testing.strategies import (
    CITY_DISTRICTS,
    CITY_NAMES_EN,
    DATETIME_MAX,
    DATETIME_MIN,
    ROLE_PERMISSIONS,
    SNOOZE_HORIZON,
    PersonName,
    Team,
    action_notes,
    actions,
    actor_for,
    actors,
    arabic_names,
    aware_datetimes,
    cities,
    customers,
    employees,
    english_names,
    guard_level,
    ids,
    national_id_check_digit_ok,
    national_ids,
    organizations,
    person_names,
    preferences,
    property_interests,
    reasons,
    sar_amounts,
    saudi_mobiles,
    stage_change_requests,
    teams,
)

__all__ = [
    "CITY_DISTRICTS",
    "CITY_NAMES_EN",
    "DATETIME_MAX",
    "DATETIME_MIN",
    "MODEL_ACTION_MOVES",
    "MODEL_STAGE_ORDER",
    "ROLE_PERMISSIONS",
    "SNOOZE_HORIZON",
    "ActionMachine",
    "GuardFacts",
    "LifecycleMachine",
    "Outcome",
    "PersonName",
    "Team",
    "action_notes",
    "actions",
    "actor_for",
    "actors",
    "arabic_names",
    "aware_datetimes",
    "cities",
    "customers",
    "employees",
    "english_names",
    "guard_level",
    "ids",
    "model_action_command",
    "model_effective_status",
    "model_guards_hold",
    "model_stage_change",
    "national_id_check_digit_ok",
    "national_ids",
    "organizations",
    "person_names",
    "preferences",
    "property_interests",
    "reasons",
    "sar_amounts",
    "saudi_mobiles",
    "stage_change_requests",
    "teams",
]

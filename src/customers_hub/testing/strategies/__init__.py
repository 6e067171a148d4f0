"""Hypothesis strategies for Customers Hub domain objects, valid by construction.

Every strategy takes keyword options. An option accepts either a plain value (used as is) or a
strategy (drawn from); left out, a realistic default is drawn. So
``customers(stage=Stage.CLOSING)``, ``customers(stage=st.sampled_from([Stage.QUALIFIED,
Stage.SITE_VISIT]))`` and ``customers()`` all work, and a plain ``None`` means ``None``
(``customers(assigned_employee_id=None)`` is unassigned).

Promises kept by every value drawn here:

* datetimes are timezone-aware UTC, between 2020 and 2030;
* money is ``Decimal`` SAR with at most two decimal places;
* phones are E.164 Saudi mobiles, national ids pass the check digit;
* a customer's stage history starts with the system ``new_lead`` entry and every later entry is a
  move the lifecycle allows; unless ``satisfy_guards=False``, the customer satisfies the guards
  of its stage (rules §1);
* an action's fields agree with its status (rules §2).

Ids are drawn at random (``cust_1a2b3c…``); ids *inside* one aggregate (history entries,
interests, notes) are unique, but two separately drawn aggregates may share an id when Hypothesis
shrinks: use ``st.lists(customers(), unique_by=lambda c: c.id)`` when that matters.
"""

from __future__ import annotations

from customers_hub.testing.strategies.actions import (
    SNOOZE_HORIZON,
    action_notes,
    actions,
    reasons,
    stage_change_requests,
)
from customers_hub.testing.strategies.customers import (
    customers,
    guard_level,
    preferences,
    property_interests,
)
from customers_hub.testing.strategies.options import (
    UNSET,
    OrStrategy,
)
from customers_hub.testing.strategies.people import (
    ROLE_PERMISSIONS,
    Team,
    actor_for,
    actors,
    employees,
    teams,
)
from customers_hub.testing.strategies.values import (
    CITY_DISTRICTS,
    CITY_NAMES_EN,
    DATETIME_MAX,
    DATETIME_MIN,
    NationalIdKind,
    PersonName,
    arabic_names,
    aware_datetimes,
    cities,
    english_names,
    ids,
    national_id_check_digit_ok,
    national_ids,
    organizations,
    person_names,
    sar_amounts,
    saudi_mobiles,
)

__all__ = [
    "CITY_DISTRICTS",
    "CITY_NAMES_EN",
    "DATETIME_MAX",
    "DATETIME_MIN",
    "ROLE_PERMISSIONS",
    "SNOOZE_HORIZON",
    "UNSET",
    "NationalIdKind",
    "OrStrategy",
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

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

from customers_hub.testing import machines, strategies
from customers_hub.testing.machines import *  # noqa: F403 (the names of machines.__all__)
from customers_hub.testing.strategies import *  # noqa: F403 (the names of strategies.__all__)

# One public surface: every machine and every strategy, as their own modules list them.
__all__ = [*machines.__all__, *strategies.__all__]

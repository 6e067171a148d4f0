"""Reusable Hypothesis state machines for the customer lifecycle and the actions inbox.

Each machine drives the domain through random sequences of operations and checks every answer
against a *plain model*: a short, independent re-statement of rules §1 and §2 written with
strings, dicts and sets (:func:`model_stage_change`, :data:`MODEL_ACTION_MOVES`,
:func:`model_action_command`). The model predicts which outcomes are acceptable; where the rules
leave the precedence of two failures open (a non-admin re-opening without a reason; a bad snooze
date on a terminal action) every applicable error is accepted.

Run one in a test module::

    from hypothesis import settings
    from customers_hub.testing import LifecycleMachine

    TestLifecycle = LifecycleMachine.TestCase
    TestLifecycle.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

Check your own system with the same rules by subclassing and overriding the hooks (methods whose
names start with ``perform_``, ``observe_`` or ``on_``, and the strategies ``initial_…``). For
instance, to check that a repository-backed use case behaves like the domain::

    class RepositoryLifecycle(LifecycleMachine):
        def on_start(self, customer):
            self.repo = InMemoryCustomerRepository([customer])

        def perform_stage_change(self, customer, request, *, actor, entry_id, now):
            change_stage_use_case(self.repo, customer.id, request, actor=actor, now=now)
            return self.repo.get(customer.id), self.bus.drain()

        def perform_edit(self, before, after):
            self.repo.save(after)
            return after

        def observe_customer(self):
            return self.repo.get(self.customer.id)

    TestRepositoryLifecycle = RepositoryLifecycle.TestCase

A ``perform_…`` hook must raise the domain's errors (:class:`InvalidStageTransition`,
:class:`PermissionDenied`, :class:`InvalidActionTransition`, :class:`ValidationFailed`) exactly
when the domain would, and return ``(new_value, events)`` otherwise. Release what ``on_start``
acquired in ``teardown()`` (a method of every :class:`~hypothesis.stateful.RuleBasedStateMachine`).
"""

from __future__ import annotations

from customers_hub.testing.machines.actions import (
    ActionMachine,
)
from customers_hub.testing.machines.lifecycle import (
    LifecycleMachine,
)
from customers_hub.testing.machines.model import (
    MODEL_ACTION_MOVES,
    MODEL_STAGE_ORDER,
    GuardFacts,
    Outcome,
    model_action_command,
    model_effective_status,
    model_guards_hold,
    model_stage_change,
)

__all__ = [
    "MODEL_ACTION_MOVES",
    "MODEL_STAGE_ORDER",
    "ActionMachine",
    "GuardFacts",
    "LifecycleMachine",
    "Outcome",
    "model_action_command",
    "model_effective_status",
    "model_guards_hold",
    "model_stage_change",
]

"""Every use case an actor calls is ``(deps, actor, command)`` (issue 13, "a slim write path").

A read takes the id or the query in the command's place. The ports a concern needs are fields of
``Dependencies``, never extra arguments: a caller needs ``hub.deps`` and nothing else.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import customers_hub.application.use_cases as use_cases

# Building blocks inside a unit of work, plan executors (their plan was decided with the actor)
# and system jobs that run without an actor.
NOT_CALLED_BY_AN_ACTOR = {
    "ensure_free",
    "follow_site_visit",
    "plan_assignments",
    "record_assignments",
    "assign_new_customers",
    "organization_settings",
    "compliance_facts",
    "require_licensed_assignee",
    "load_customer",
    "create_system_actions",
    "settings_in",
    "organization_zone",
    "wake_due_snoozes",
}


def _use_cases() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.iter_modules(use_cases.__path__):
        module = importlib.import_module(f"{use_cases.__name__}.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.iscoroutinefunction(value) or inspect.isasyncgenfunction(value):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_use_case_takes_deps_then_the_actor() -> None:
    found = _use_cases()
    assert len(found) > 80  # the walk sees the whole package
    odd = {}
    for name, function in found.items():
        short = name.rpartition(".")[2]
        params = list(inspect.signature(function).parameters)
        if short in NOT_CALLED_BY_AN_ACTOR:
            continue
        if short.startswith("run_"):  # runs a plan, or an import job, with deps alone first
            assert params[0] == "deps", name
            assert params[1] in {"plan", "owner", "organization_id"}, (name, params)
            continue
        if params[:2] != ["deps", "actor"]:
            odd[name] = params
    assert odd == {}


def test_no_use_case_takes_a_port_beside_deps() -> None:
    ports = {"services", "repositories", "erasure", "log", "store"}
    extra = {
        name: sorted(ports & set(inspect.signature(function).parameters))
        for name, function in _use_cases().items()
    }
    assert {name: p for name, p in extra.items() if p} == {}

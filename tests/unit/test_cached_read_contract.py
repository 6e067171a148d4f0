"""The cached hit path (``entrypoints/http/cached_hits.py``) answers a repeated GET with the
response ``cached_read`` made the first time: every handler must return that response as it is.
A handler that changes it (a header added, a body rewritten) would be answered differently on a
hit — so every call of ``cached_read`` is ``return await cached_read(…)``."""

from __future__ import annotations

import ast
from pathlib import Path

import customers_hub

SOURCE = Path(customers_hub.__file__).parent


def _calls_of_cached_read(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "cached_read"
    ]


def _not_returned(tree: ast.AST) -> list[int]:
    """Lines of the calls of ``cached_read`` that are not ``return await cached_read(…)``."""
    returned = {
        id(node.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Return)
        and isinstance(node.value, ast.Await)
        and isinstance(node.value.value, ast.Call)
    }
    return [call.lineno for call in _calls_of_cached_read(tree) if id(call) not in returned]


def test_every_call_of_cached_read_is_returned_as_it_is() -> None:
    calls = 0
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls += len(_calls_of_cached_read(tree))
        assert not _not_returned(tree), f"{path.relative_to(SOURCE)}: {_not_returned(tree)}"
    assert calls >= 5  # the list, the query, search, filter options, statistics …


def test_the_check_sees_a_call_whose_response_is_changed() -> None:
    changed = ast.parse(
        "async def h():\n"
        "    response = await cached_read(c, a, [], k, l)\n"
        "    response.headers['X'] = '1'\n"
        "    return response\n"
    )
    assert _not_returned(changed) == [2]
    kept = ast.parse(
        "async def h():\n    return await caching_module.cached_read(c, a, [], k, l)\n"
    )
    assert _not_returned(kept) == []
    assert len(_calls_of_cached_read(kept)) == 1

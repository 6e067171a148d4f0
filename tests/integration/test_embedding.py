"""The README's embedding example runs as written, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example(marker: str = "embedding-example") -> Callable[[str], Awaitable[None]]:
    """The ``main(database_url)`` of the README's Python block after ``<!-- marker -->``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, f"the README lost its {marker}"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(README), "exec"), namespace)
    main: Callable[[str], Awaitable[None]] = namespace["main"]
    return main


async def test_the_readme_example_runs(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    if engine.dialect.name == "postgresql":
        # The session fixture created the schema on this database; the example's own
        # organization keeps it apart from the other tests' data.
        url = database_url
    else:
        url = f"sqlite:///{tmp_path / 'hub.db'}"  # a fresh file: the hub migrates it itself
    await readme_example()(url)
    if engine.dialect.name == "sqlite":
        assert (tmp_path / "hub.db").exists()

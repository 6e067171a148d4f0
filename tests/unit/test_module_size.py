"""Every module of the package stays small enough to read: at most 700 lines (issue 13)."""

from __future__ import annotations

from pathlib import Path

import customers_hub

MAX_LINES = 700
PACKAGE_ROOT = Path(customers_hub.__file__).parent


def _line_counts() -> dict[str, int]:
    return {
        str(path.relative_to(PACKAGE_ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
    }


def test_the_check_sees_the_whole_package() -> None:
    counts = _line_counts()
    # Every layer, subpackages and the migrations included (none is excepted).
    assert "domain/model.py" in counts
    assert "adapters/sql/tables/__init__.py" in counts
    assert "adapters/sql/migrations/versions/0001_initial.py" in counts


def test_no_module_exceeds_the_limit() -> None:
    too_long = {name: lines for name, lines in _line_counts().items() if lines > MAX_LINES}
    assert too_long == {}, f"split these modules by concern (over {MAX_LINES} lines): {too_long}"

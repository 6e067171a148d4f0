"""The domain core stays pure: importing it loads no adapter or framework library."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import customers_hub.domain

FORBIDDEN_ROOTS = ("sqlalchemy", "litestar", "redis", "cattrs", "psycopg", "dependency_injector")


def _modules_loaded_by_importing_domain() -> set[str]:
    # A fresh interpreter: this test process has loaded test libraries already.
    names = [
        f"customers_hub.domain.{m.name}"
        for m in pkgutil.iter_modules(customers_hub.domain.__path__)
    ]
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def test_every_domain_module_is_imported_by_the_check() -> None:
    loaded = _modules_loaded_by_importing_domain()
    assert "customers_hub.domain.model" in loaded
    assert "customers_hub.domain.enums" in loaded


def test_importing_the_domain_loads_no_adapter_library() -> None:
    loaded = _modules_loaded_by_importing_domain()
    offending = sorted(name for name in loaded if name.split(".")[0] in FORBIDDEN_ROOTS)
    assert offending == []

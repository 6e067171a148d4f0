"""``/api/v1/docs`` renders its operations in headless Chromium with no network at all.

The real ``customers-hub serve`` process is started on a free port; Chromium (Debian's
``chromium``, which the test command installs when missing) loads the page with every host name
but 127.0.0.1 unresolvable, so a single asset fetched from a CDN would leave the page blank.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_serve_smoke import (  # env and started are the smoke tests' fixtures
    CLI,
    ROOT,
    env,  # noqa: F401
    free_port,
    started,  # noqa: F401
    stop,
    wait_until_healthy,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RENDER_TIMEOUT = 120.0
# Flags for a root, headless, offline run (no sandbox as root; no background connections).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--virtual-time-budget=15000",
)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed and the test command could not install it"
)
def test_the_docs_page_renders_every_operation_offline(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    started: list[subprocess.Popen[bytes]],  # noqa: F811
) -> None:
    assert CHROMIUM is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    started.append(process)
    wait_until_healthy(base, process, log)
    try:
        rendered = subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                f"{base}/api/v1/docs",
            ],
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT,
            check=False,
        )
    finally:
        stop(process)
    dom = rendered.stdout
    assert "swagger-ui" in dom, rendered.stderr[-2000:]
    # Swagger UI drew one block per operation, with the API's own paths in them.
    assert dom.count("opblock-summary-path") >= 40, dom[:2000]
    for path in ("/api/v1/customers", "/api/v1/customers/actions/bulk", "/api/v1/employees"):
        assert f'data-path="{path}"' in dom, path
    # Everything the page loaded came from the service itself.
    served = log.read_text(encoding="utf-8")
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in served

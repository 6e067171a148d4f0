"""The interactive API docs, served whole by the service itself: they work with no internet.

Litestar's Swagger UI page loads its JavaScript, CSS and favicon from public CDNs; a CRM inside a
bank's or a ministry's network, or a laptop on a plane, would show a blank page. The assets come
instead from the ``swagger-ui-py`` package (a maintained PyPI package that ships the Swagger UI 5
distribution files, which render OpenAPI 3.1) and are served under :data:`ASSETS_PATH` with a
long-lived ``Cache-Control``: they change only with the package version, and the page's URLs carry
that version so a new one is fetched after an upgrade.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Final

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from customers_hub.entrypoints.http.wire import API_PREFIX

__all__ = ["ASSETS_PATH", "DOCS_PATH", "asset_files", "docs_assets_router", "swagger_assets"]

DOCS_PATH: Final = f"{API_PREFIX}/docs"
"""Where the Swagger UI page is served."""

ASSETS_PATH: Final = f"{DOCS_PATH}/assets"
"""Where its JavaScript, CSS and favicon are served."""

ASSET_MAX_AGE: Final = 7 * 24 * 3600
"""Seconds a browser may keep an asset (the URL changes with the package version)."""

_PACKAGE: Final = "swagger-ui-py"


def asset_files() -> Path:
    """The directory of the Swagger UI distribution files that ``swagger-ui-py`` ships."""
    import swagger_ui  # imported here: only the HTTP edge needs it

    return Path(swagger_ui.__file__).parent / "static"


def _version() -> str:
    return importlib.metadata.version(_PACKAGE)


def swagger_assets() -> dict[str, str]:
    """Keyword arguments of Litestar's ``SwaggerRenderPlugin`` (and the favicon tag) pointing at
    the service's own copies of the assets."""
    stamp = f"?v={_version()}"
    return {
        "js_url": f"{ASSETS_PATH}/swagger-ui-bundle.js{stamp}",
        "css_url": f"{ASSETS_PATH}/swagger-ui.css{stamp}",
        "standalone_preset_js_url": f"{ASSETS_PATH}/swagger-ui-standalone-preset.js{stamp}",
        "favicon": f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    }


def docs_assets_router() -> Router:
    """The route serving the assets: no authentication, not in the OpenAPI document."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[asset_files()],
        name="docs-assets",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=ASSET_MAX_AGE, public=True),
    )

"""The served application, configured from the environment (for ASGI servers).

``customers-hub serve`` runs it; so can any ASGI server, through the factory::

    uvicorn --factory customers_hub.entrypoints.http.asgi:served_app_factory --workers 4

Configuration: the ``CUSTOMERS_HUB_*`` variables of :mod:`customers_hub.entrypoints.settings`,
plus the token keys of :mod:`customers_hub.entrypoints.http.auth` (``CUSTOMERS_HUB_JWT_SECRET``
for HS256, ``CUSTOMERS_HUB_JWT_PUBLIC_KEY`` for RS256/ES256).

**With neither key configured** (the embedded default), a random secret is generated once and
stored in the data directory as ``jwt-secret`` (mode 0600), and used from then on — by every
worker, by ``customers-hub serve`` and by ``customers-hub token``, so the tokens the command
line prints are accepted by the service. Remove the file to invalidate every token issued with
it. A configured ``CUSTOMERS_HUB_JWT_SECRET`` always wins over the stored one.

**Several worker processes without Redis** (``CUSTOMERS_HUB_REDIS_URL`` unset) get no response
cache (:class:`~customers_hub.adapters.cache.NullCache`): each worker's in-process cache would be
invalidated only by the writes that worker served, so the others would answer stale customers
(up to 300 s) and filter options (up to an hour). The number of workers is read once with the
rest of the configuration (:attr:`~customers_hub.entrypoints.settings.HubConfig.workers`:
``CUSTOMERS_HUB_WORKERS``, set by ``customers-hub serve --workers N`` for its workers, else
``WEB_CONCURRENCY``, else the ``--workers N`` of the uvicorn or gunicorn command line the worker
runs under, else 1). Rate limits and real-time events stay
per worker without Redis; set ``CUSTOMERS_HUB_REDIS_URL`` to run the workers as one.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
from pathlib import Path
from typing import Final

from litestar import Litestar
from litestar.types import ASGIApp

from customers_hub.adapters.cache import NullCache
from customers_hub.entrypoints.bootstrap import Hub, build_container, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.http.socketio_server import with_socketio
from customers_hub.entrypoints.settings import JWT_PUBLIC_KEY_ENV, HubConfig

__all__ = [
    "JWT_SECRET_FILE",
    "app_factory",
    "auth_settings",
    "freeze_heap",
    "served_app_factory",
    "served_hub",
    "stored_secret",
]

logger = logging.getLogger(__name__)

JWT_SECRET_FILE: Final = "jwt-secret"
"""Name of the generated HS256 secret in the data directory."""

_SECRET_BYTES: Final = 48


def stored_secret(data_dir: Path) -> str:
    """The secret stored in ``data_dir``, generated (mode 0600) the first time.

    Safe when several processes start at once: the file appears atomically, complete, and the
    first one to create it wins; the others read it.
    """
    path = data_dir / JWT_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{JWT_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(_SECRET_BYTES) + "\n")
            # Atomic, complete, and refused when another process was first (which then wins).
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise ValueError(f"{path} is empty; remove it to generate a new secret")
    return secret


def auth_settings(config: HubConfig) -> AuthSettings:
    """Token verification with the configured keys; with none, the secret stored in the data
    directory (generated the first time).

    Raises :class:`ValueError` naming the variable when the public key file cannot be read.
    """
    if config.uses_stored_secret:
        return AuthSettings(secret=stored_secret(config.data_dir))
    public_key = None
    if config.jwt_public_key is not None:
        try:
            public_key = config.jwt_public_key.read_text(encoding="ascii")
        except (OSError, UnicodeError) as error:
            raise ValueError(
                f"cannot read {JWT_PUBLIC_KEY_ENV}={config.jwt_public_key}: {error}"
            ) from None
    return AuthSettings(secret=config.jwt_secret, public_key=public_key)


def served_hub(config: HubConfig) -> Hub:
    """The hub one of ``config.workers`` worker processes serves: without Redis and with more
    than one worker, its cache stores nothing (the module docstring says why)."""
    workers = config.workers
    if workers > 1 and not config.redis_url:
        logger.warning(
            "%d workers without CUSTOMERS_HUB_REDIS_URL: the response cache is off (each "
            "worker's own cache would serve what another worker changed)",
            workers,
        )
        return Hub(build_container(config, cache=NullCache()), config)
    return build_hub(config=config)


def app_factory() -> Litestar:
    """A new Litestar application for the configuration in the environment."""
    config = HubConfig.from_env()
    return create_app(served_hub(config), auth=auth_settings(config))


def freeze_heap() -> None:
    """Move every object alive after the start into the collector's permanent generation.

    A served process holds ≈ 10⁵–10⁶ objects made once (routes, the OpenAPI document, compiled
    statements, libraries); a full collection walks all of them, which paused a request
    ≈ 50 ms on this two-core machine every few dozen requests — the tail of every timed request
    (docs/benchmarks.md). Frozen, they are never walked again (``gc.freeze``); they stay alive
    as they would anyway. Only for the served app: a test process that builds many apps would
    keep their cyclic garbage for good.
    """
    gc.collect()
    gc.freeze()


def served_app_factory() -> ASGIApp:
    """What the server runs (an ASGI factory): :func:`app_factory`'s application with socket.io
    beside it at ``/socket.io/`` (:mod:`.socketio_server`); the heap made by the start is frozen
    once it has started (:func:`freeze_heap`)."""
    app = app_factory()
    app.on_startup.append(freeze_heap)  # after the hub's own start
    served: ASGIApp = with_socketio(app)  # python-socketio's ASGIApp is untyped
    return served

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
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from litestar import Litestar
from litestar.types import ASGIApp

from customers_hub.entrypoints.bootstrap import build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import JWT_PUBLIC_KEY_ENV, JWT_SECRET_ENV, AuthSettings
from customers_hub.entrypoints.http.socketio_server import with_socketio
from customers_hub.entrypoints.settings import HubConfig

__all__ = [
    "JWT_SECRET_FILE",
    "app_factory",
    "auth_settings",
    "served_app_factory",
    "stored_secret",
    "uses_stored_secret",
]

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


def uses_stored_secret(env: Mapping[str, str] | None = None) -> bool:
    """True when no token key is configured, so the stored secret is used."""
    env = os.environ if env is None else env
    return not (env.get(JWT_SECRET_ENV) or env.get(JWT_PUBLIC_KEY_ENV))


def auth_settings(config: HubConfig, env: Mapping[str, str] | None = None) -> AuthSettings:
    """Token verification from the environment; with no key configured, the stored secret."""
    env = os.environ if env is None else env
    if uses_stored_secret(env):
        return AuthSettings(secret=stored_secret(config.data_dir))
    return AuthSettings.from_env(env)


def app_factory() -> Litestar:
    """A new Litestar application for the configuration in the environment."""
    config = HubConfig.from_env()
    return create_app(build_hub(config=config), auth=auth_settings(config))


def served_app_factory() -> ASGIApp:
    """What the server runs (an ASGI factory): :func:`app_factory`'s application with socket.io
    beside it at ``/socket.io/`` (:mod:`.socketio_server`)."""
    return with_socketio(app_factory())

"""Configuration from environment variables; with none set, the embedded default.

- ``CUSTOMERS_HUB_DATA_DIR`` (``./.customers-hub``): the SQLite file and documents live here.
- ``CUSTOMERS_HUB_DATABASE_URL`` (``sqlite:///<data dir>/hub.db``): SQLite or PostgreSQL URL.
- ``CUSTOMERS_HUB_TIME_ZONE`` (``Asia/Riyadh``): the organization's clock for "today".
- ``CUSTOMERS_HUB_MAX_DOCUMENT_BYTES`` (20 MiB): the upload size limit.
- ``CUSTOMERS_HUB_DB_POOL_SIZE`` (10): PostgreSQL connections per instance, plus as many overflow.
- ``CUSTOMERS_HUB_REDIS_URL`` (unset): Redis shared by several instances (cache, rate-limit
  buckets, real-time event fan-out); unset = the embedded in-process adapters (one instance).
- ``CUSTOMERS_HUB_RATE_LIMITS`` (``on``): ``off`` disables the rate limits (load tests, local work).
- ``CUSTOMERS_HUB_DB_CONNECT_TIMEOUT`` (5), ``CUSTOMERS_HUB_DB_POOL_TIMEOUT`` (5),
  ``CUSTOMERS_HUB_DB_STATEMENT_TIMEOUT`` (30, 0 = none): PostgreSQL waits in seconds
  (:class:`~customers_hub.adapters.sql.engine.DatabaseTimeouts`; ``docs/operations.md``).
- ``CUSTOMERS_HUB_METRICS_TOKEN`` (unset): when set, ``GET /metrics`` wants
  ``Authorization: Bearer <it>``; unset, ``/metrics`` is open like ``/health``.
- ``CUSTOMERS_HUB_OUTBOX_RELAY`` (``on``): run the outbox relay and the webhook sender in the
  HTTP service; ``CUSTOMERS_HUB_OUTBOX_POLL_SECONDS`` (0.25);
  ``CUSTOMERS_HUB_OUTBOX_RETENTION_DAYS`` (7): relayed events and finished deliveries older than
  this are pruned (``docs/webhooks.md``).
- ``CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE`` (``off``): accept private, loopback and link-local
  webhook targets; ``CUSTOMERS_HUB_WEBHOOKS_TIMEOUT_SECONDS`` (10),
  ``CUSTOMERS_HUB_WEBHOOKS_CONCURRENCY`` (1 per hook), ``CUSTOMERS_HUB_WEBHOOKS_BACKOFF_SECONDS``
  (10, the first retry), ``CUSTOMERS_HUB_WEBHOOKS_BACKOFF_CAP_SECONDS`` (3600),
  ``CUSTOMERS_HUB_WEBHOOKS_GIVE_UP_SECONDS`` (86400), ``CUSTOMERS_HUB_WEBHOOKS_DISABLE_SECONDS``
  (259200), ``CUSTOMERS_HUB_WEBHOOKS_LEASE_SECONDS`` (60).
- ``CUSTOMERS_HUB_JWT_SECRET`` (HS256) and ``CUSTOMERS_HUB_JWT_PUBLIC_KEY`` (a PEM path, RS256 and
  ES256): the token keys; with neither, the secret stored in the data directory
  (:func:`customers_hub.entrypoints.http.asgi.auth_settings`).
- ``CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL`` (30): seconds between two runs of the snooze wake-up
  job; ``0`` or ``off`` turns it off (:mod:`customers_hub.entrypoints.http.jobs`).
- ``CUSTOMERS_HUB_WORKERS``, else ``WEB_CONCURRENCY``, else the ``--workers N`` of the uvicorn or
  gunicorn command line (1): how many worker processes serve the app, which decides their cache
  (:mod:`customers_hub.entrypoints.http.asgi`).

They are read once, by :meth:`HubConfig.from_env`: everything else takes the :class:`HubConfig`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from attrs import field, frozen

from customers_hub.adapters.relay import OutboxSettings
from customers_hub.adapters.sql.engine import DatabaseTimeouts
from customers_hub.adapters.webhook_sender import WebhookSettings
from customers_hub.domain.webhooks import RetryPolicy

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "DEFAULT_SNOOZE_INTERVAL",
    "JWT_PUBLIC_KEY_ENV",
    "JWT_SECRET_ENV",
    "SNOOZE_INTERVAL_ENV",
    "WORKERS_ENV",
    "HubConfig",
    "parse_switch",
    "snooze_interval",
    "worker_count",
]

DATA_DIR_ENV: Final = "CUSTOMERS_HUB_DATA_DIR"
DEFAULT_DATA_DIR: Final = ".customers-hub"
DATABASE_URL_ENV: Final = "CUSTOMERS_HUB_DATABASE_URL"
JWT_SECRET_ENV: Final = "CUSTOMERS_HUB_JWT_SECRET"
JWT_PUBLIC_KEY_ENV: Final = "CUSTOMERS_HUB_JWT_PUBLIC_KEY"

SNOOZE_INTERVAL_ENV: Final = "CUSTOMERS_HUB_SNOOZE_WAKE_INTERVAL"
"""Seconds between two runs of the snooze wake-up; ``0``/``off`` disables the job."""

DEFAULT_SNOOZE_INTERVAL: Final = 30.0
"""Half the rules' one-minute bound, so a passed snooze is woken within 60 seconds."""

WORKERS_ENV: Final = "CUSTOMERS_HUB_WORKERS"
"""How many worker processes serve the app; set by ``customers-hub serve`` for its workers."""

_SERVERS: Final = ("uvicorn", "gunicorn")

_ON = frozenset({"on", "true", "1", "yes", "enabled"})
_OFF = frozenset({"off", "false", "0", "no", "disabled"})


def parse_switch(name: str, value: str | None, *, default: bool) -> bool:
    """An on/off environment variable (``on``/``off``, ``true``/``false``, ``1``/``0``, …).

    Unset or blank gives ``default``; anything else unknown is a :class:`ValueError` naming
    the variable (a typo must not silently keep limits on or off).
    """
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise ValueError(f"{name} must be 'on' or 'off', got {value!r}")


@frozen
class HubConfig:
    """Everything the composition root needs to build a hub."""

    data_dir: Path
    database_url: str
    time_zone: str = "Asia/Riyadh"
    max_document_bytes: int = 20 * 1024 * 1024
    db_pool_size: int = 10
    redis_url: str | None = None
    """Redis for the cache, rate limits and event fan-out; ``None`` = in-process adapters."""
    rate_limits_enabled: bool = True
    db_timeouts: DatabaseTimeouts = field(factory=DatabaseTimeouts)
    """Bounds of every wait on PostgreSQL."""
    # Secrets stay out of the repr (a logged configuration must not carry them).
    metrics_token: str | None = field(default=None, repr=False)
    """Bearer token ``/metrics`` wants; ``None`` = open."""
    outbox: OutboxSettings = field(factory=OutboxSettings)
    """The outbox relay (``CUSTOMERS_HUB_OUTBOX_*``)."""
    webhooks: WebhookSettings = field(factory=WebhookSettings)
    """Webhook targets and delivery (``CUSTOMERS_HUB_WEBHOOKS_*``)."""
    jwt_secret: str | None = field(default=None, repr=False)
    """The HS256 secret; with no key at all, the one stored in ``data_dir`` is used."""
    jwt_public_key: Path | None = None
    """A PEM public key file (RS256, ES256)."""
    snooze_interval: float | None = DEFAULT_SNOOZE_INTERVAL
    """Seconds between two runs of the snooze wake-up job of the HTTP service; ``None`` = off."""
    workers: int = 1
    """How many worker processes serve the app (without Redis, several cache nothing)."""

    @property
    def documents_dir(self) -> Path:
        """Where uploaded documents are stored (under generated names)."""
        return self.data_dir / "documents"

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        database_url: str | None = None,
        argv: Sequence[str] | None = None,
    ) -> HubConfig:
        """Read the ``CUSTOMERS_HUB_*`` variables (and the server's ``argv`` for the number of
        workers); an explicit ``database_url`` wins.

        Raises :class:`ValueError` naming the variable of a value that cannot be read.
        """
        env = os.environ if env is None else env
        key_path = env.get(JWT_PUBLIC_KEY_ENV) or None
        data_dir = Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser()
        url = (
            database_url
            or env.get(DATABASE_URL_ENV)
            or f"sqlite:///{(data_dir / 'hub.db').resolve()}"
        )
        return cls(
            data_dir=data_dir,
            database_url=url,
            time_zone=env.get("CUSTOMERS_HUB_TIME_ZONE", "Asia/Riyadh"),
            max_document_bytes=int(env.get("CUSTOMERS_HUB_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024)),
            db_pool_size=int(env.get("CUSTOMERS_HUB_DB_POOL_SIZE", 10)),
            redis_url=(env.get("CUSTOMERS_HUB_REDIS_URL") or "").strip() or None,
            rate_limits_enabled=parse_switch(
                "CUSTOMERS_HUB_RATE_LIMITS", env.get("CUSTOMERS_HUB_RATE_LIMITS"), default=True
            ),
            db_timeouts=DatabaseTimeouts(
                connect=float(env.get("CUSTOMERS_HUB_DB_CONNECT_TIMEOUT", 5)),
                pool=float(env.get("CUSTOMERS_HUB_DB_POOL_TIMEOUT", 5)),
                statement=float(env.get("CUSTOMERS_HUB_DB_STATEMENT_TIMEOUT", 30)),
            ),
            metrics_token=(env.get("CUSTOMERS_HUB_METRICS_TOKEN") or "").strip() or None,
            outbox=_outbox_settings(env),
            webhooks=_webhook_settings(env),
            jwt_secret=env.get(JWT_SECRET_ENV) or None,
            jwt_public_key=Path(key_path).expanduser() if key_path else None,
            snooze_interval=snooze_interval(env.get(SNOOZE_INTERVAL_ENV, "")),
            workers=worker_count(env, sys.argv if argv is None else argv),
        )

    @property
    def uses_stored_secret(self) -> bool:
        """True when no token key is configured, so the secret stored in ``data_dir`` is used."""
        return not (self.jwt_secret or self.jwt_public_key)


def snooze_interval(value: str) -> float | None:
    """The snooze wake-up interval in seconds from its variable, or ``None`` when it is off.

    Blank → :data:`DEFAULT_SNOOZE_INTERVAL`. Raises :class:`ValueError` on anything that is
    neither a positive number nor an "off" word.
    """
    raw = value.strip().lower()
    if not raw:
        return DEFAULT_SNOOZE_INTERVAL
    if raw in _OFF:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{SNOOZE_INTERVAL_ENV} must be seconds or 'off', got {raw!r}") from None
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise ValueError(f"{SNOOZE_INTERVAL_ENV} must be a finite number >= 0, got {raw!r}")
    return seconds or None


def _count(name: str, value: str) -> int:
    try:
        count = int(value.strip())
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{name} must be a positive number of workers, got {value!r}")
    return count


def _workers_option(argv: Sequence[str]) -> str | None:
    """The value of ``--workers N`` / ``--workers=N`` (gunicorn also ``-w N`` / ``-wN``) when
    ``argv`` is a uvicorn or gunicorn command line."""
    if not argv:
        return None
    program = Path(argv[0])
    # ``python -m uvicorn`` runs as ``…/uvicorn/__main__.py``.
    server = (program.parent if program.name == "__main__.py" else program).stem
    if server not in _SERVERS:
        return None
    for index, arg in enumerate(argv[1:], start=1):
        following = argv[index + 1] if index + 1 < len(argv) else None
        if arg == "--workers" or (server == "gunicorn" and arg == "-w"):
            return following
        if arg.startswith("--workers="):
            return arg.partition("=")[2]
        if server == "gunicorn" and arg.startswith("-w") and arg[2:].isdigit():
            return arg[2:]
    return None


def worker_count(env: Mapping[str, str], argv: Sequence[str]) -> int:
    """How many worker processes serve the app; 1 when nothing says.

    ``CUSTOMERS_HUB_WORKERS`` (set by ``customers-hub serve --workers N`` for its workers), else
    ``WEB_CONCURRENCY`` (uvicorn's and gunicorn's default worker count), else the ``--workers N``
    (gunicorn: ``-w N``) of the uvicorn or gunicorn command line the worker runs under (a spawned
    uvicorn worker keeps its server's command line). Raises :class:`ValueError` naming the
    variable for a value that is not a positive number.
    """
    for name in (WORKERS_ENV, "WEB_CONCURRENCY"):
        value = env.get(name, "").strip()
        if value:
            return _count(name, value)
    option = _workers_option(argv)
    if option is None:
        return 1
    try:
        return max(1, int(option))
    except ValueError:
        return 1  # the server itself refuses a bad option


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return float(env.get(f"CUSTOMERS_HUB_{name}") or default)


def _outbox_settings(env: Mapping[str, str]) -> OutboxSettings:
    return OutboxSettings(
        enabled=parse_switch(
            "CUSTOMERS_HUB_OUTBOX_RELAY", env.get("CUSTOMERS_HUB_OUTBOX_RELAY"), default=True
        ),
        poll_interval=_seconds(env, "OUTBOX_POLL_SECONDS", 0.25),
        retention=timedelta(days=_seconds(env, "OUTBOX_RETENTION_DAYS", 7)),
    )


def _webhook_settings(env: Mapping[str, str]) -> WebhookSettings:
    defaults = RetryPolicy()
    return WebhookSettings(
        allow_private=parse_switch(
            "CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE",
            env.get("CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE"),
            default=False,
        ),
        timeout=_seconds(env, "WEBHOOKS_TIMEOUT_SECONDS", 10),
        concurrency=int(env.get("CUSTOMERS_HUB_WEBHOOKS_CONCURRENCY") or 1),
        lease=timedelta(seconds=_seconds(env, "WEBHOOKS_LEASE_SECONDS", 60)),
        policy=RetryPolicy(
            base=_seconds(env, "WEBHOOKS_BACKOFF_SECONDS", defaults.base),
            cap=_seconds(env, "WEBHOOKS_BACKOFF_CAP_SECONDS", defaults.cap),
            give_up_after=_seconds(env, "WEBHOOKS_GIVE_UP_SECONDS", defaults.give_up_after),
            disable_after=_seconds(env, "WEBHOOKS_DISABLE_SECONDS", defaults.disable_after),
        ),
    )

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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import field, frozen

from customers_hub.adapters.relay import OutboxSettings
from customers_hub.adapters.sql.engine import DatabaseTimeouts
from customers_hub.adapters.webhook_sender import WebhookSettings
from customers_hub.domain.webhooks import RetryPolicy

__all__ = ["HubConfig", "parse_switch"]

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
    metrics_token: str | None = None
    """Bearer token ``/metrics`` wants; ``None`` = open."""
    outbox: OutboxSettings = field(factory=OutboxSettings)
    """The outbox relay (``CUSTOMERS_HUB_OUTBOX_*``)."""
    webhooks: WebhookSettings = field(factory=WebhookSettings)
    """Webhook targets and delivery (``CUSTOMERS_HUB_WEBHOOKS_*``)."""

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
        cls, env: Mapping[str, str] | None = None, *, database_url: str | None = None
    ) -> HubConfig:
        """Read the ``CUSTOMERS_HUB_*`` variables; an explicit ``database_url`` wins."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("CUSTOMERS_HUB_DATA_DIR", "./.customers-hub")).expanduser()
        url = (
            database_url
            or env.get("CUSTOMERS_HUB_DATABASE_URL")
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
        )


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

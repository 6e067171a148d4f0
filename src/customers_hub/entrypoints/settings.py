"""Configuration from environment variables; with none set, the embedded default.

- ``CUSTOMERS_HUB_DATA_DIR`` (``./.customers-hub``): the SQLite file and documents live here.
- ``CUSTOMERS_HUB_DATABASE_URL`` (``sqlite:///<data dir>/hub.db``): SQLite or PostgreSQL URL.
- ``CUSTOMERS_HUB_TIME_ZONE`` (``Asia/Riyadh``): the organization's clock for "today".
- ``CUSTOMERS_HUB_MAX_DOCUMENT_BYTES`` (20 MiB): the upload size limit.
- ``CUSTOMERS_HUB_DB_POOL_SIZE`` (10): PostgreSQL connections per instance, plus as many overflow.
- ``CUSTOMERS_HUB_REDIS_URL`` (unset): Redis shared by several instances (cache, rate-limit
  buckets, real-time event fan-out); unset = the embedded in-process adapters (one instance).
- ``CUSTOMERS_HUB_RATE_LIMITS`` (``on``): ``off`` disables the rate limits (load tests, local work).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import frozen

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
        )

"""Configuration from environment variables; with none set, the embedded default.

- ``CUSTOMERS_HUB_DATA_DIR`` (``./.customers-hub``): the SQLite file and documents live here.
- ``CUSTOMERS_HUB_DATABASE_URL`` (``sqlite:///<data dir>/hub.db``): SQLite or PostgreSQL URL.
- ``CUSTOMERS_HUB_TIME_ZONE`` (``Asia/Riyadh``): the organization's clock for "today".
- ``CUSTOMERS_HUB_MAX_DOCUMENT_BYTES`` (20 MiB): the upload size limit.
- ``CUSTOMERS_HUB_DB_POOL_SIZE`` (10): PostgreSQL connections per instance, plus as many overflow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import frozen


@frozen
class HubConfig:
    """Everything the composition root needs to build a hub."""

    data_dir: Path
    database_url: str
    time_zone: str = "Asia/Riyadh"
    max_document_bytes: int = 20 * 1024 * 1024
    db_pool_size: int = 10

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
        )

"""The configuration is read from the environment once, by ``HubConfig.from_env``.

Everything else takes the :class:`HubConfig`: a setting read on its own somewhere else would
escape a test's or an embedding service's configuration (issue 13: "one settings object").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from customers_hub.entrypoints.settings import (
    DEFAULT_SNOOZE_INTERVAL,
    SNOOZE_INTERVAL_ENV,
    WORKERS_ENV,
    HubConfig,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "customers_hub"
READS = re.compile(r"os\.environ(?!\[[^\]]+\]\s*=)|os\.getenv|getenv\(")

# Where the environment may still appear, and why.
ALLOWED = {
    "entrypoints/settings.py": "the one reader",
    "entrypoints/cli.py": "`serve` hands its options to its worker processes through it",
    "adapters/metrics.py": "prometheus_client's own PROMETHEUS_MULTIPROC_DIR convention",
}


def test_no_other_module_reads_the_environment() -> None:
    readers = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if READS.search(path.read_text(encoding="utf-8"))
    }
    assert readers, "the pattern must find the one reader"
    assert "entrypoints/settings.py" in readers
    assert readers <= set(ALLOWED), sorted(readers - set(ALLOWED))


def test_every_service_setting_comes_from_one_read(tmp_path: Path) -> None:
    key = tmp_path / "identity.pem"
    env = {
        "CUSTOMERS_HUB_DATA_DIR": str(tmp_path),
        "CUSTOMERS_HUB_JWT_SECRET": "s" * 32,
        "CUSTOMERS_HUB_JWT_PUBLIC_KEY": str(key),
        SNOOZE_INTERVAL_ENV: "12",
        WORKERS_ENV: "3",
        "CUSTOMERS_HUB_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    config = HubConfig.from_env(env, argv=["python"])
    assert config.data_dir == tmp_path
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'hub.db'}"
    assert config.jwt_secret == "s" * 32
    assert config.jwt_public_key == key
    assert config.snooze_interval == 12.0
    assert config.workers == 3
    assert not config.uses_stored_secret


def test_nothing_set_is_the_embedded_default() -> None:
    config = HubConfig.from_env({}, argv=["python"])
    assert config.uses_stored_secret
    assert config.snooze_interval == DEFAULT_SNOOZE_INTERVAL
    assert config.workers == 1
    assert config.redis_url is None
    # A directly built configuration is the same default: nothing is read for it.
    direct = HubConfig(data_dir=config.data_dir, database_url=config.database_url)
    assert (direct.snooze_interval, direct.workers) == (config.snooze_interval, config.workers)


@pytest.mark.parametrize(
    ("name", "value"),
    [(WORKERS_ENV, "many"), (SNOOZE_INTERVAL_ENV, "soon"), ("CUSTOMERS_HUB_RATE_LIMITS", "maybe")],
)
def test_a_bad_value_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        HubConfig.from_env({name: value}, argv=["python"])


def test_the_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    env = {
        "CUSTOMERS_HUB_DATA_DIR": str(tmp_path),
        "CUSTOMERS_HUB_JWT_SECRET": "jwt-secret-value-" + "s" * 16,
        "CUSTOMERS_HUB_METRICS_TOKEN": "metrics-token-value",
    }
    config = HubConfig.from_env(env, argv=["python"])
    assert config.jwt_secret == env["CUSTOMERS_HUB_JWT_SECRET"]
    assert config.metrics_token == "metrics-token-value"
    shown = repr(config)
    assert "jwt-secret-value" not in shown
    assert "metrics-token-value" not in shown
    assert str(tmp_path) in shown  # the rest is still shown

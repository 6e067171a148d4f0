"""Several worker processes without Redis cache nothing (issue 13, bug 4).

Each worker process has its own in-process cache, and a write invalidates only the cache of the
worker that served it: the others kept answering the old customer (for up to 300 s) or the old
filter options (up to an hour). So when more than one worker serves the app and no Redis is
configured, the hub gets a cache that stores nothing (:class:`NullCache`) — whether the workers
were started by ``customers-hub serve --workers N`` or by an ASGI server running the factory
(``uvicorn --factory …:served_app_factory --workers N``, ``WEB_CONCURRENCY``). One process keeps
its in-process cache; Redis is shared by every worker, so it stays.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from attrs import evolve

from customers_hub.adapters.cache import InMemoryCache, NullCache, RedisCache
from customers_hub.application.caching import CacheKeys, Invalidation
from customers_hub.entrypoints import cli
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.asgi import app_factory, served_hub
from customers_hub.entrypoints.settings import WORKERS_ENV, HubConfig, worker_count

UVICORN = "/srv/hub/.venv/bin/uvicorn"
FACTORY = "customers_hub.entrypoints.http.asgi:served_app_factory"


@pytest.fixture
def config(tmp_path: Path) -> HubConfig:
    return HubConfig(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'hub.db'}")


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The factory's environment: a data directory and a secret, no Redis, no worker count."""
    for name in (WORKERS_ENV, "WEB_CONCURRENCY", "CUSTOMERS_HUB_REDIS_URL"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTOMERS_HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CUSTOMERS_HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_SECRET", "unit-test-secret-long-enough-for-hs256")
    monkeypatch.setattr("sys.argv", ["python"])
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "argv", "expected"),
    [
        pytest.param({}, ["python"], 1, id="nothing-says-more"),
        pytest.param({WORKERS_ENV: "3"}, ["python"], 3, id="set-by-serve"),
        pytest.param({"WEB_CONCURRENCY": "4"}, ["python"], 4, id="web-concurrency"),
        pytest.param({WORKERS_ENV: "1", "WEB_CONCURRENCY": "4"}, ["python"], 1, id="serve-wins"),
        pytest.param({}, [UVICORN, "--factory", FACTORY, "--workers", "2"], 2, id="uvicorn"),
        pytest.param({}, [UVICORN, "--workers=5", "--factory", FACTORY], 5, id="uvicorn-eq"),
        pytest.param(
            {},
            ["/usr/lib/python3/site-packages/uvicorn/__main__.py", "--workers", "2", FACTORY],
            2,
            id="python-m-uvicorn",
        ),
        pytest.param({}, ["/usr/bin/gunicorn", "-w", "3", "app:x"], 3, id="gunicorn-w"),
        pytest.param({}, ["/usr/bin/gunicorn", "-w3", "app:x"], 3, id="gunicorn-w3"),
        pytest.param({}, ["/usr/bin/gunicorn", "--workers", "6", "app:x"], 6, id="gunicorn"),
        pytest.param({}, ["/usr/bin/other-tool", "--workers", "6"], 1, id="another-program"),
        pytest.param({}, [UVICORN, "--factory", FACTORY], 1, id="uvicorn-one-worker"),
    ],
)
def test_the_worker_count(env: dict[str, str], argv: list[str], expected: int) -> None:
    assert worker_count(env, argv) == expected


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_a_bad_worker_count_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=WORKERS_ENV):
        worker_count({WORKERS_ENV: value}, ["python"])


async def stores_nothing(hub: Hub) -> bool:
    key = CacheKeys.customer("org_1", "cust_1")
    await hub.cache.put(await hub.cache.get(key), b"cached")
    return not (await hub.cache.get(key)).hit


async def test_several_workers_without_redis_cache_nothing(config: HubConfig) -> None:
    hub = served_hub(evolve(config, workers=2))
    try:
        assert isinstance(hub.cache, NullCache)
        assert await stores_nothing(hub)
        # Invalidations after a commit still go through it (and do nothing).
        await hub.cache.invalidate(Invalidation("org_1", frozenset({"customers"})))
    finally:
        await hub.close()


async def test_one_worker_keeps_its_in_process_cache(config: HubConfig) -> None:
    hub = served_hub(evolve(config, workers=1))
    try:
        assert isinstance(hub.cache, InMemoryCache)
        assert not await stores_nothing(hub)
    finally:
        await hub.close()


async def test_several_workers_with_redis_share_its_cache(config: HubConfig) -> None:
    shared = HubConfig(
        data_dir=config.data_dir,
        database_url=config.database_url,
        redis_url="redis://127.0.0.1:1/0",  # never connected
        workers=4,
    )
    hub = served_hub(shared)
    try:
        assert isinstance(hub.cache, RedisCache)
    finally:
        await hub.close()


def factory_cache(environment: pytest.MonkeyPatch) -> Any:
    return app_factory().state.hub.cache


def test_the_factory_alone_keeps_the_in_process_cache(environment: pytest.MonkeyPatch) -> None:
    assert isinstance(factory_cache(environment), InMemoryCache)


def test_the_factory_under_uvicorn_workers_caches_nothing_without_redis(
    environment: pytest.MonkeyPatch,
) -> None:
    # uvicorn's worker processes are spawned with the server's command line.
    environment.setattr("sys.argv", [UVICORN, "--factory", FACTORY, "--workers", "2"])
    assert isinstance(factory_cache(environment), NullCache)


def test_the_factory_with_web_concurrency_caches_nothing_without_redis(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("WEB_CONCURRENCY", "3")
    assert isinstance(factory_cache(environment), NullCache)


def test_the_factory_of_serve_workers_caches_nothing_without_redis(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv(WORKERS_ENV, "2")
    assert isinstance(factory_cache(environment), NullCache)


def test_serve_tells_its_workers_how_many_they_are(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str | None] = []

    def fake_run(app: Any, **options: Any) -> None:
        seen.append(os.environ.get(WORKERS_ENV))

    environment.setattr(uvicorn, "run", fake_run)
    assert cli.main(["serve", "--workers", "2"]) == 0
    assert seen == ["2"]
    # Set for the worker processes only: this process's environment is left as it was.
    assert WORKERS_ENV not in os.environ
    err = capsys.readouterr().err
    assert "CUSTOMERS_HUB_REDIS_URL" in err
    assert "cache is off" in err

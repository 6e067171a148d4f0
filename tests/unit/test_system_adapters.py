"""The small system adapters: clock, ids, local document storage, in-process events."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.storage import LocalDocumentStorage
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.domain.enums import Stage
from customers_hub.domain.events import CustomerStageChanged, DomainEvent

# --- clock -----------------------------------------------------------------------------------


def test_the_clock_is_aware_utc_and_current() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=5)


# --- ids -------------------------------------------------------------------------------------


def test_ids_carry_the_prefix_and_twenty_sortable_characters() -> None:
    new_id = PrefixedIdGenerator().new_id("cust")
    assert re.fullmatch(r"cust_[0-9a-hjkmnp-tv-z]{20}", new_id), new_id
    assert len(new_id) <= 50


def test_ids_of_one_generator_are_unique_and_sort_in_creation_order() -> None:
    ids = PrefixedIdGenerator()
    made = [ids.new_id("action") for _ in range(5000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)


def test_ids_of_two_generators_sort_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_700_000_000_000_000_000]
    monkeypatch.setattr("customers_hub.adapters.system.time.time_ns", lambda: clock[0])
    early = PrefixedIdGenerator().new_id("cust")
    clock[0] += 2_000_000  # two milliseconds later
    late = PrefixedIdGenerator().new_id("cust")
    assert early < late


def test_ids_stay_monotonic_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_700_000_000_000_000_000]
    monkeypatch.setattr("customers_hub.adapters.system.time.time_ns", lambda: clock[0])
    ids = PrefixedIdGenerator()
    first = ids.new_id("x")
    clock[0] -= 10_000_000_000  # ten seconds back
    second = ids.new_id("x")
    assert first < second


@pytest.mark.parametrize("prefix", ["", "_cust", "cu st", "cust/", "a" * 30, "ع"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        PrefixedIdGenerator().new_id(prefix)


# --- document storage ------------------------------------------------------------------------


async def test_storage_round_trip_replace_and_delete(tmp_path: Path) -> None:
    storage = LocalDocumentStorage(tmp_path / "docs")
    assert await storage.get("doc_1") is None
    await storage.put("doc_1", b"first")
    assert await storage.get("doc_1") == b"first"
    await storage.put("doc_1", b"second")
    assert await storage.get("doc_1") == b"second"
    await storage.delete("doc_1")
    assert await storage.get("doc_1") is None
    await storage.delete("doc_1")  # absent: no error
    # No temp files are left behind.
    assert list((tmp_path / "docs").iterdir()) == []


@pytest.mark.parametrize(
    "key",
    ["", "../escape", "..", "a/b", "a\\b", "/etc/passwd", ".hidden", "a..b", "x\x00y", "k" * 300],
)
async def test_storage_refuses_keys_that_are_not_plain_generated_names(
    tmp_path: Path, key: str
) -> None:
    storage = LocalDocumentStorage(tmp_path / "docs")
    with pytest.raises(ValueError, match="storage key"):
        await storage.put(key, b"data")
    with pytest.raises(ValueError, match="storage key"):
        await storage.get(key)
    with pytest.raises(ValueError, match="storage key"):
        await storage.delete(key)
    assert not (tmp_path / "escape").exists()
    assert not (tmp_path / "docs").exists() or list((tmp_path / "docs").iterdir()) == []


async def test_a_failed_write_keeps_the_old_bytes_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalDocumentStorage(tmp_path)
    await storage.put("doc_1", b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("customers_hub.adapters.storage.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await storage.put("doc_1", b"new")
    monkeypatch.undo()
    assert await storage.get("doc_1") == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc_1"]


async def test_concurrent_writes_leave_one_whole_value(tmp_path: Path) -> None:
    storage = LocalDocumentStorage(tmp_path)
    values = [bytes([n]) * 200_000 for n in range(8)]
    await asyncio.gather(*(storage.put("doc_1", v) for v in values))
    assert await storage.get("doc_1") in values


# --- events ----------------------------------------------------------------------------------


def _event(n: int) -> CustomerStageChanged:
    return CustomerStageChanged(
        organization_id="org_1",
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        employee_ids=(),
        customer_id=f"cust_{n}",
        from_stage=Stage.NEW_LEAD,
        to_stage=Stage.QUALIFIED,
        changed_by="emp_1",
    )


async def test_every_handler_gets_every_event_in_order() -> None:
    publisher = InProcessEventPublisher()
    seen: list[tuple[str, str]] = []

    async def first(event: DomainEvent) -> None:
        assert isinstance(event, CustomerStageChanged)
        seen.append(("first", event.customer_id))

    async def second(event: DomainEvent) -> None:
        assert isinstance(event, CustomerStageChanged)
        seen.append(("second", event.customer_id))

    publisher.subscribe(first)
    publisher.subscribe(second)
    await publisher.publish([_event(1), _event(2)])
    assert seen == [
        ("first", "cust_1"),
        ("second", "cust_1"),
        ("first", "cust_2"),
        ("second", "cust_2"),
    ]


async def test_a_failing_handler_is_logged_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher = InProcessEventPublisher()
    seen: list[DomainEvent] = []

    async def broken(event: DomainEvent) -> None:
        raise RuntimeError("handler bug")

    async def working(event: DomainEvent) -> None:
        seen.append(event)

    publisher.subscribe(broken)
    publisher.subscribe(working)
    with caplog.at_level(logging.ERROR, logger="customers_hub.adapters.events"):
        await publisher.publish([_event(1), _event(2)])
    assert seen == [_event(1), _event(2)]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert "handler bug" in (failures[0].exc_text or "")


async def test_unsubscribe_and_no_subscribers() -> None:
    publisher = InProcessEventPublisher()
    await publisher.publish([_event(1)])  # nobody listens: nothing happens
    seen: list[DomainEvent] = []

    async def handler(event: DomainEvent) -> None:
        seen.append(event)

    unsubscribe = publisher.subscribe(handler)
    await publisher.publish([_event(1)])
    unsubscribe()
    unsubscribe()  # twice is harmless
    await publisher.publish([_event(2)])
    assert seen == [_event(1)]

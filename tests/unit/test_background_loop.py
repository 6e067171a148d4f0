""":class:`BackgroundLoop` stops whenever it is stopped — also when a wake-up arrives in the
same loop iteration as the stop (CI saw the loop run on after ``stop_loop`` and fail on the
event it had forgotten: Python 3.11's ``wait_for`` lost the cancellation)."""

from __future__ import annotations

import asyncio

import pytest

from customers_hub.adapters.relay import BackgroundLoop


@pytest.mark.parametrize("ticks_between", range(6))
async def test_a_wake_up_just_before_the_stop_does_not_keep_the_loop_running(
    ticks_between: int,
) -> None:
    steps: list[int] = []

    async def step() -> float:
        steps.append(1)
        return 10.0  # then wait for a wake-up

    loop = BackgroundLoop("test", idle=10.0)
    loop.start_loop(step)
    for _ in range(3):
        await asyncio.sleep(0)
    assert steps == [1]
    assert loop.running
    loop.wake()
    for _ in range(ticks_between):
        await asyncio.sleep(0)
    await asyncio.wait_for(loop.stop_loop(), 2)  # raised AttributeError before the fix
    assert not loop.running
    woken = len(steps)
    assert woken in (1, 2)  # the wake-up ran the step at most once before the stop
    await asyncio.sleep(0.01)
    assert len(steps) == woken  # and nothing ran after it


async def test_a_stopped_loop_starts_again_and_wakes() -> None:
    steps: list[int] = []
    ran = asyncio.Event()

    async def step() -> float:
        steps.append(1)
        ran.set()
        return 10.0

    loop = BackgroundLoop("test", idle=10.0)
    loop.start_loop(step)
    await asyncio.wait_for(ran.wait(), 2)
    await loop.stop_loop()
    ran.clear()
    loop.start_loop(step)
    await asyncio.wait_for(ran.wait(), 2)
    ran.clear()
    loop.wake()
    await asyncio.wait_for(ran.wait(), 2)
    assert len(steps) == 3
    await loop.stop_loop()
    assert not loop.running


async def stopped_during_a_step(seconds: float, grace: float) -> list[str]:
    """How a step of ``seconds`` ended when the loop was stopped while it ran."""
    began, finished = asyncio.Event(), []

    async def step() -> float:
        began.set()
        try:
            await asyncio.sleep(seconds)  # a transaction in progress
            finished.append("committed")
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise
        return 10.0

    loop = BackgroundLoop("test", idle=10.0)
    loop.start_loop(step)
    await began.wait()
    await asyncio.wait_for(loop.stop_loop(grace=grace), 2)
    assert not loop.running
    return finished


async def test_a_stop_lets_the_step_under_way_finish() -> None:
    """A step cancelled mid-way could leave its database transaction open (SQLite's write lock
    held until the connection was collected: the next writer waited out the busy timeout)."""
    assert await stopped_during_a_step(0.05, grace=1.0) == ["committed"]


async def test_a_step_longer_than_the_grace_is_cancelled() -> None:
    assert await stopped_during_a_step(30, grace=0.05) == ["cancelled"]

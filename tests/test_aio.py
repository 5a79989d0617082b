"""The service event loop: uvloop where installed, the standard loop when asked."""

from __future__ import annotations

import asyncio

import pytest

from hashwatt._aio import event_loop_name, run


def test_the_environment_can_force_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    monkeypatch.setenv("HASHWATT_EVENT_LOOP", "asyncio")
    assert event_loop_name() == "asyncio"
    assert run(loop_module()).startswith("asyncio")
    monkeypatch.delenv("HASHWATT_EVENT_LOOP")
    # uvloop is an optional extra; the dev install (and so CI) has it
    assert event_loop_name() == "uvloop"
    assert run(loop_module()).startswith("uvloop")

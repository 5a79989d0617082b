"""Running a service's event loop: uvloop where it is installed, asyncio's own loop otherwise.

A fleet agent or a twin site spends most of its time opening and closing short TCP
connections; uvloop (libuv) does that in C and cuts the CPU time per device poll
(``bench/bench_fleet_poll.py`` measures both). It is optional (``pip install hashwatt[fast]``):
``HASHWATT_EVENT_LOOP=asyncio`` forces the standard loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["event_loop_name", "run"]

T = TypeVar("T")


def event_loop_name() -> str:
    """``uvloop`` when it is installed and not turned off, else ``asyncio``."""
    if os.environ.get("HASHWATT_EVENT_LOOP", "").strip().lower() == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`event_loop_name` names."""
    if event_loop_name() == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)

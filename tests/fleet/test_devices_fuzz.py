"""Hostile replies: captured real replies with values swapped for arbitrary JSON, served on loopback.

Whatever a device answers, a read ends in a Telemetry or a typed DeviceError, never another
exception (hypothesis mutates the captures from asic-rs; the bytes travel over a real socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashwatt.fleet import DeviceError, Endpoint, Telemetry
from hashwatt.fleet._devices import AntminerStock, Device, LuxOS, WhatsminerV2
from tests.fleet._replay import ApiServer, captured

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(reply: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    out = copy.deepcopy(reply)
    if not path:
        return out
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return out


class _Mutating:
    """Serves captures; the current mutation applies to one command's reply."""

    def __init__(self, folder: str) -> None:
        self.rpc = captured(folder)
        self.target: tuple[str, tuple[Any, ...], Any] | None = None

    def replies(self) -> dict[str, Any]:
        return {k: (lambda _p, k=k: self._reply(k)) for k in self.rpc}

    def _reply(self, command: str) -> dict[str, Any]:
        if self.target is not None and self.target[0] == command:
            return _mutate(self.rpc[command], self.target[1], self.target[2])
        return self.rpc[command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(folder: str, make: type[Device], data: st.DataObject) -> None:
    state = _Mutating(folder)
    command = data.draw(st.sampled_from(sorted(set(make.commands_for(make.METRICS)) & set(state.rpc))))
    paths = _paths(state.rpc[command])[1:]
    shallow = [p for p in paths if len(p) <= 2]  # sections and their first entries: where shapes break
    path = data.draw(st.sampled_from(shallow) | st.sampled_from(paths))
    value = data.draw(st.sampled_from([[], {}, None, "", 0, -1, "nan", [{}], [None]]) | JSON)
    state.target = (command, path, value)
    json.dumps(state.target[2])  # the mutation must be sendable JSON
    api = ApiServer(state.replies())

    async def main() -> None:
        await api.start()
        try:
            # a stock machine that seems asleep asks its web interface: nothing listens there
            dev = make(Endpoint("127.0.0.1", api_port=api.port, http_port=_free_port()), timeout_s=2.0)
            with contextlib.suppress(DeviceError):  # a typed error is a fine end; anything else fails
                assert isinstance(await dev.read(), Telemetry)
        finally:
            await api.stop()

    asyncio.run(main())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_luxos_reads_survive_any_value_in_any_field(data: st.DataObject) -> None:
    _run("luxminer/v1", LuxOS, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_whatsminer_reads_survive_any_value_in_any_field(data: st.DataObject) -> None:
    _run("whatsminer/v2", WhatsminerV2, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_stock_reads_survive_any_value_in_any_field(data: st.DataObject) -> None:
    _run("antminer/v2020", AntminerStock, data)

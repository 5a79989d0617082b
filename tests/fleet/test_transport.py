"""The device transport on real loopback sockets: cgminer replies end at the NUL or the close,
a reset is an unreachable device, API 3.x requests share one connection and survive a device
that closes after each reply."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable

import pytest

from hashwatt.fleet._transport import V3Connection, cgminer_multi, cgminer_request, exchange
from hashwatt.fleet.errors import DeviceError, DeviceReplyInvalid, DeviceTimeout, DeviceUnreachable
from hashwatt.minerapi import V3FrameReader, encode_v3_frame

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
_LO = "127.0.0.1"


async def _serve(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_cgminer_reply_ends_at_nul_or_close_and_a_reset_is_unreachable() -> None:
    async def main() -> None:
        async def nul(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b'{"a":1}\x00trailing')  # the NUL ends the reply, whatever follows
            await writer.drain()
            await asyncio.sleep(0.5)  # and the device has not closed yet
            writer.close()

        async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b'{"b":')
            await writer.drain()
            writer.write(b"2}")
            writer.close()

        async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.transport.abort()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)

        async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"x" * 5000)
            await writer.drain()
            await asyncio.sleep(1)

        servers = {name: await _serve(h) for name, h in locals().items() if callable(h) and name != "main"}
        try:
            port = {name: p for name, (_, p) in servers.items()}
            assert await exchange("127.0.0.1", port["nul"], b"{}", timeout_s=2.0) == b'{"a":1}'
            assert await exchange("127.0.0.1", port["close"], b"{}", timeout_s=2.0) == b'{"b":2}'
            with pytest.raises(DeviceUnreachable):
                await exchange("127.0.0.1", port["reset"], b"{}", timeout_s=2.0)
            with pytest.raises(DeviceTimeout):
                await exchange("127.0.0.1", port["silent"], b"{}", timeout_s=0.3)
            with pytest.raises(DeviceReplyInvalid, match="exceeds 1000 bytes"):
                await exchange("127.0.0.1", port["flood"], b"{}", timeout_s=2.0, max_bytes=1000)
        finally:
            for server, _ in servers.values():
                server.close()

    asyncio.run(main())


@pytest.mark.parametrize("keep_open", [True, False], ids=["keep-alive", "close-after-reply"])
def test_v3_requests_share_one_connection_and_reconnect_when_closed(keep_open: bool) -> None:
    async def main() -> None:
        connections = 0

        async def device(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            frames = V3FrameReader()
            while chunk := await reader.read(4096):
                for msg in frames.feed(chunk):
                    writer.write(encode_v3_frame({"code": 0, "msg": {"echo": msg["cmd"], "n": connections}}))
                    await writer.drain()
                    if not keep_open:
                        writer.close()
                        return
            writer.close()

        server, port = await _serve(device)
        try:
            async with V3Connection("127.0.0.1", port, timeout_s=2.0) as conn:
                replies = [await conn.request({"cmd": f"c{i}"}) for i in range(3)]
            assert [r["msg"]["echo"] for r in replies] == ["c0", "c1", "c2"]
            assert connections == (1 if keep_open else 3)
        finally:
            server.close()

    asyncio.run(main())


def test_v3_frame_cut_by_the_device_is_a_bad_reply() -> None:
    async def main() -> None:
        async def device(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(4096)
            writer.write(struct.pack("<I", 100) + b'{"code":0')  # promises 100 bytes, sends 9
            await writer.drain()
            writer.close()

        server, port = await _serve(device)
        try:
            async with V3Connection("127.0.0.1", port, timeout_s=2.0) as conn:
                with pytest.raises(DeviceReplyInvalid, match="whole frame"):
                    await conn.request({"cmd": "get.device.info"})
        finally:
            server.close()

    asyncio.run(main())


def test_every_transport_failure_names_the_command_being_run() -> None:
    # Connect, framing, timeout and JSON errors are raised below the layer that knows the
    # command; the command-level calls name it, so an operator's log says what failed.
    async def main() -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b"<html>not json</html>\x00")
            await writer.drain()
            writer.close()

        async def partial(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b'{"summary": [{"STATUS": [{"STATUS": "S"}]}], "id": 1}\x00')
            await writer.drain()
            writer.close()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)

        async def half_frame(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(struct.pack("<I", 50) + b"{")  # a 3.x frame cut short
            await writer.drain()
            writer.close()

        servers = {name: await _serve(h) for name, h in locals().items() if callable(h) and name != "main"}
        closed_server, closed_port = await _serve(silent)
        closed_server.close()
        await closed_server.wait_closed()
        port = {name: p for name, (_, p) in servers.items()}
        cases: list[tuple[type[DeviceError], str, Callable[[], Awaitable[object]]]] = [
            (
                DeviceReplyInvalid,
                "stats",
                lambda: cgminer_request(_LO, port["garbage"], "stats", timeout_s=2.0),
            ),
            (
                DeviceTimeout,
                "summary",
                lambda: cgminer_request(_LO, port["silent"], "summary", timeout_s=0.3),
            ),
            (DeviceUnreachable, "pools", lambda: cgminer_request(_LO, closed_port, "pools", timeout_s=2.0)),
            (
                DeviceReplyInvalid,
                "pools",
                lambda: cgminer_multi(_LO, port["partial"], ["summary", "pools"], timeout_s=2.0),
            ),
            (
                DeviceReplyInvalid,
                "get.miner.status",
                lambda: V3Connection(_LO, port["half_frame"], timeout_s=2.0).request(
                    {"cmd": "get.miner.status"}
                ),
            ),
        ]
        try:
            for kind, command, call in cases:
                with pytest.raises(kind) as info:
                    await call()
                assert info.value.command == command, (kind, command)
                assert info.value.address.startswith("127.0.0.1:")
        finally:
            for server, _ in servers.values():
                server.close()

    asyncio.run(main())

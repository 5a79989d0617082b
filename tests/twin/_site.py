"""Helpers for twin tests: a small site on a private loopback subnet, served in-process."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from hashwatt.twin import Clock, GroupSpec, SiteServer, SiteSpec, Twin, build_twins

CAPTURES = Path(__file__).parents[2] / ".." / "shared" / "data" / "fleet" / "asic-rs"


def private_subnet() -> str:
    """A /24 of loopback no other test process is likely to use (pid and chance)."""
    return f"127.{100 + os.getpid() % 100}.{random.randint(1, 250)}"


def spec(*groups: tuple[str, str, int], subnet: str, ramp_s: float = 0.0) -> SiteSpec:
    return SiteSpec(
        seed=3,
        ramp_seconds=ramp_s,
        reboot_seconds=2.0,
        restart_seconds=1.0,
        group=[
            GroupSpec(model=m, firmware=fw, count=n, range=f"{subnet}.1-{subnet}.254") for m, fw, n in groups
        ],
    )


@asynccontextmanager
async def serving(site: SiteSpec) -> AsyncIterator[tuple[SiteServer, list[Twin]]]:
    """Serve a site on the real firmware ports, one socket per twin and port (per-address mode)."""
    clock = Clock()
    twins = build_twins(site, now_s=clock.now())
    server = SiteServer(twins, clock=clock, mode="per-address")
    await server.start()
    try:
        yield server, twins
    finally:
        await server.close()


async def wait_for(predicate, timeout_s: float = 10.0, every_s: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    """Poll an (async) predicate until true; fail with a clear message at the deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(every_s)


def digest_header(user: str, password: str, method: str, uri: str, nonce: str) -> str:
    """An RFC 7616 Digest Authorization header (MD5, qop=auth), as httpx would send it."""
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    realm = "antMiner Configuration"
    ha1, ha2 = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{nonce}:00000001:abcdef:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc=00000001, cnonce="abcdef", algorithm=MD5'
    )


async def rpc_raw(host: str, payload: bytes, *, port: int = 4028, timeout_s: float = 5.0) -> bytes:
    """Send bytes to a cgminer-style port and read to EOF, as pyasic does."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 20), timeout_s)
    finally:
        writer.close()


async def rpc(host: str, command: str, parameter: str | None = None, *, port: int = 4028) -> dict:  # type: ignore[type-arg]
    from hashwatt.minerapi import decode_reply, encode_request

    return decode_reply(await rpc_raw(host, encode_request(command, parameter), port=port))

"""Each fault, injected into served twins, shows through the API as real firmware shows it;
the server survives garbage, oversized requests, wrong credentials and half-open connections."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest

from hashwatt.minerapi import FrameError, decode_reply, encode_request
from hashwatt.twin import Fault, apply_fault

from ._site import private_subnet, rpc, rpc_raw, serving, spec, wait_for

GROUPS = (("S19 Pro", "stock", 3), ("S19j Pro", "luxos", 1), ("M30S+ (100T)", "whatsminer", 1))


def _run(body) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        async with serving(spec(*GROUPS, subnet=private_subnet())) as (server, twins):
            await body(server, twins)

    asyncio.run(main())


def test_hardware_faults_show_through_the_api() -> None:
    async def body(server, twins) -> None:  # type: ignore[no-untyped-def]
        stock, other, _, lux, wm = twins
        now = server.clock.now
        apply_fault(stock, Fault.FAN, 1, now())
        apply_fault(other, Fault.DEAD_BOARD, 1, now())
        apply_fault(other, Fault.FAILING_CHIPS, 12, now())
        apply_fault(wm, Fault.PSU, None, now())
        server.clock.jump(30.0)
        stats = (await rpc(stock.host, "stats"))["STATS"][1]
        assert stats["fan1"] == 0 and stats["GHS 5s"] == 0.0  # bmminer stops on a lost fan
        async with httpx.AsyncClient(auth=httpx.DigestAuth("root", "root")) as client:
            summary = (await client.get(f"http://{stock.host}/cgi-bin/summary.cgi")).json()
        fans = next(s for s in summary["SUMMARY"][0]["status"] if s["type"] == "fans")
        assert fans["status"] == "e"
        stats = (await rpc(other.host, "stats"))["STATS"][1]
        assert stats["chain_acn2"] == 0 and stats["chain_rate2"] == "0.00"
        assert stats["chain_acs1"].count("x") == 12 and stats["chain_acn1"] == 114
        assert float(stats["chain_rate1"]) < float(stats["chain_rate3"])
        summary = (await rpc(wm.host, "summary"))["SUMMARY"][0]
        assert summary["Power"] == -1 and 218 in [
            summary[f"Error Code {i}"] for i in range(summary["Error Code Count"])
        ]
        assert (await rpc(wm.host, "get_psu"))["Msg"]["fan_speed"] == "0"
        # overheating: intake air up 70 degC -> throttle, then protective shutdown
        apply_fault(lux, Fault.OVERHEAT, 70, now())
        server.clock.jump(1800.0)
        reply = await rpc(lux.host, "stats+config+temps")
        assert reply["stats"][0]["STATS"][1]["GHS 5s"] == 0.0
        assert reply["config"][0]["CONFIG"][0]["SystemStatus"] == "Error"
        assert max(t["TopLeft"] for t in reply["temps"][0]["TEMPS"]) > lux.hardware.hot_chip_c * 0.85
        events = (await rpc(lux.host, "events"))["EVENTS"]
        assert any(e["Code"] == "OVERHEAT_PROTECTION" for e in events)

    _run(body)


def test_network_faults() -> None:
    async def body(server, twins) -> None:  # type: ignore[no-untyped-def]
        refuse, hole, slow, lux, wm = twins
        now = server.clock.now
        apply_fault(refuse, Fault.REFUSE, None, now())
        with contextlib.suppress(ConnectionResetError):  # dropped at once: a reset or an empty read
            assert await rpc_raw(refuse.host, encode_request("version")) == b""
        apply_fault(hole, Fault.BLACKHOLE, None, now())
        with pytest.raises(TimeoutError):
            await rpc_raw(hole.host, encode_request("version"), timeout_s=0.5)
        apply_fault(slow, Fault.SLOW, 0.6, now())
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert (await rpc(slow.host, "version"))["VERSION"][0]["Type"] == "Antminer S19 Pro"
        assert loop.time() - start >= 0.55
        apply_fault(lux, Fault.GARBAGE, None, now())
        with pytest.raises(FrameError):
            decode_reply(await rpc_raw(lux.host, encode_request("summary")))
        apply_fault(wm, Fault.TRUNCATED, None, now())
        with pytest.raises(FrameError):
            decode_reply(await rpc_raw(wm.host, encode_request("summary")))
        for twin in (refuse, hole, slow, lux, wm):
            apply_fault(twin, Fault.CLEAR, None, now())
        assert all([(await rpc(t.host, "summary"))["STATUS"] for t in twins])

    _run(body)


def test_reboot_loop_firmware_swap_and_password_change() -> None:
    async def body(server, twins) -> None:  # type: ignore[no-untyped-def]
        looping, swapping, locked, _, _ = twins
        now = server.clock.now
        apply_fault(looping, Fault.REBOOT_LOOP, 4, now())
        server.clock.jump(60.0)
        looping.advance(now())
        assert looping.physics.boot_count >= 5
        apply_fault(swapping, Fault.FIRMWARE_SWAP, "luxos", now())
        assert "BMMiner" in (await rpc(swapping.host, "version"))["VERSION"][0]
        apply_fault(swapping, Fault.REBOOT, None, now())
        await wait_for(lambda: swapping.is_up(now()), timeout_s=10)
        version = await rpc(swapping.host, "version")
        assert "LUXminer" in version["VERSION"][0] and version["STATUS"][0]["Description"].startswith(
            "LUXminer"
        )
        apply_fault(locked, Fault.PASSWORD, "s3cret", now())
        url = f"http://{locked.host}/cgi-bin/get_system_info.cgi"
        async with httpx.AsyncClient() as client:
            assert (await client.get(url, auth=httpx.DigestAuth("root", "root"))).status_code == 401
            ok = await client.get(url, auth=httpx.DigestAuth("root", "s3cret"))
            assert ok.status_code == 200 and ok.json()["minertype"] == "Antminer S19 Pro"

    _run(body)


def test_server_survives_hostile_clients() -> None:
    async def body(server, twins) -> None:  # type: ignore[no-untyped-def]
        stock, _, _, lux, wm = twins
        reply = decode_reply(await rpc_raw(stock.host, b"\x00\xff garbage {{{\n"))
        assert reply["STATUS"][0]["Code"] == 23 and reply["STATUS"][0]["STATUS"] == "E"
        oversized = b'{"command":"' + b"a" * 40_000 + b'"}'
        answer = await rpc_raw(lux.host, oversized)
        assert decode_reply(answer)["STATUS"][0]["Code"] == 23
        # half-open: connect, send half a request, never finish; others are still served
        idle = [await asyncio.open_connection(wm.host, 4028) for _ in range(20)]
        for _, writer in idle:
            writer.write(b'{"command":"sum')
            await writer.drain()
        assert (await rpc(wm.host, "summary"))["SUMMARY"][0]["Elapsed"] >= 0
        # HTTP: no credentials, wrong credentials, malformed request line, oversized headers
        async with httpx.AsyncClient() as client:
            url = f"http://{stock.host}/cgi-bin/summary.cgi"
            r = await client.get(url)
            assert r.status_code == 401 and 'realm="antMiner Configuration"' in r.headers["www-authenticate"]
            assert (await client.get(url, auth=httpx.DigestAuth("root", "wrong"))).status_code == 401
            missing = await client.get(
                f"http://{stock.host}/kaonsu/v1/brief", auth=httpx.DigestAuth("root", "root")
            )
            assert missing.status_code == 404
            with pytest.raises(json.JSONDecodeError):
                missing.json()  # non-JSON 404, or pyasic would take the twin for MaraFW
        raw = await rpc_raw(stock.host, b"GARBAGE / HTTP/9.9\r\n\r\n", port=80)
        assert raw.startswith(b"HTTP/1.1 4")
        raw = await rpc_raw(
            stock.host, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100_000 + b"\r\n\r\n", port=80
        )
        assert raw == b"" or raw.startswith(b"HTTP/1.1 4")
        for _, writer in idle:
            writer.close()
        assert (await rpc(stock.host, "version"))["STATUS"][0]["STATUS"] == "S"

    _run(body)

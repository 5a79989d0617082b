"""Discovery: range parsing, and a concurrent scan of loopback addresses that replay real captures.

Each address of 127.0.10.0/24 is its own loopback host (Linux routes 127/8 to lo), answering on
real sockets with replies captured from real firmware; some are dead, hung or answer garbage.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from hashwatt.fleet import DeviceIdentity, Endpoint, Firmware, PollOutcome
from hashwatt.fleet._credentials import Credentials, CredentialStore
from hashwatt.fleet._discovery import (
    IdentityChangeKind,
    compare_identity,
    parse_range,
    scan,
)
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._replay import ApiServer, DigestCgiServer, StockState, captured, running


def test_parse_range_forms() -> None:
    assert parse_range("10.0.0.1-10.0.0.3") == ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    assert parse_range("10.0.0.254-10.0.1.1") == ("10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1")
    assert parse_range("10.0.0.5-7") == ("10.0.0.5", "10.0.0.6", "10.0.0.7")
    assert len(parse_range("10.1.0.0/22")) == 1022
    assert parse_range("10.0.0.0/31") == ("10.0.0.0", "10.0.0.1")
    assert parse_range("10.0.0.1, 10.0.0.0/30,10.0.0.9") == ("10.0.0.1", "10.0.0.2", "10.0.0.9")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "10.0.0.256",
        "10.0.0.5-10.0.0.1",
        "10.0.0.1-",
        "10.0.0.1,,10.0.0.2",
        "10.0.0.0/8",
        "fe80::1",
        "10.0.0.x",
    ],
)
def test_parse_range_rejects_typos_with_one_clear_message(bad: str) -> None:
    with pytest.raises(FleetInputError) as err:
        parse_range(bad)
    assert "\n" not in str(err.value) and str(err.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_scan_identifies_each_firmware_and_records_dead_hung_and_garbage() -> None:
    api_port, http_port = _free_port(), _free_port()
    stock = StockState()
    servers = [
        ApiServer(stock.api_replies(), host="127.0.10.1", port=api_port),
        DigestCgiServer(stock.cgi_routes(), host="127.0.10.1", port=http_port),
        ApiServer(dict(captured("luxminer/v1")), host="127.0.10.2", port=api_port),
        ApiServer(dict(captured("whatsminer/v2")), host="127.0.10.3", port=api_port),
        ApiServer(dict(captured("luxminer/v1")), host="127.0.10.4", port=api_port, mode="hang"),
        ApiServer(dict(captured("luxminer/v1")), host="127.0.10.5", port=api_port, mode="garbage"),
        # 127.0.10.6: nothing listens (dead)
    ]

    async def main() -> None:
        async with running(*servers):
            start = time.monotonic()
            result = await scan(
                parse_range("127.0.10.1-127.0.10.6"),
                endpoint_for=lambda h: Endpoint(
                    h, api_port=api_port, http_port=http_port, v3_port=_free_port()
                ),
                timeout_s=1.5,
                deadline_s=2.0,
                concurrency=8,
            )
            elapsed = time.monotonic() - start
        # the hung address costs its own deadline, in parallel with the others
        assert elapsed < 2.0 + 2.0
        by_host = {f.endpoint.host: f for f in result.found}
        assert by_host["127.0.10.1"].identity.firmware is Firmware.STOCK
        assert by_host["127.0.10.1"].identity.serial == stock.system_info["serinum"]
        assert by_host["127.0.10.1"].factory_credentials
        assert by_host["127.0.10.2"].identity.firmware is Firmware.LUXOS
        assert by_host["127.0.10.3"].identity.firmware is Firmware.WHATSMINER
        outcomes = {a: o for a, o, _ in result.failed}
        assert outcomes == {
            "127.0.10.4": PollOutcome.TIMEOUT,
            "127.0.10.5": PollOutcome.BAD_REPLY,
            "127.0.10.6": PollOutcome.UNREACHABLE,
        }
        assert set(result.dead) == {"127.0.10.4", "127.0.10.6"}
        assert [d.address for d in result.devices] == [f.endpoint.address for f in result.found]
        # the stock adapter found the catalog model, so its power is an estimate
        stock_dev = result.devices[0]
        assert stock_dev.efficiency_j_per_th is not None

    asyncio.run(main())


def test_scan_uses_configured_credentials_and_says_when_factory() -> None:
    api_port, http_port = _free_port(), _free_port()
    stock = StockState()
    servers = [
        ApiServer(stock.api_replies(), host="127.0.11.1", port=api_port),
        DigestCgiServer(stock.cgi_routes(), host="127.0.11.1", port=http_port, password="site-pw-9"),
    ]

    async def main() -> None:
        async with running(*servers):
            result = await scan(
                ["127.0.11.1"],
                endpoint_for=lambda h: Endpoint(h, api_port=api_port, http_port=http_port),
                timeout_s=1.0,
                credentials=CredentialStore(by_site={"west": Credentials("root", "site-pw-9")}),
                site="west",
            )
            assert result.found and not result.found[0].factory_credentials
            assert result.found[0].identity.serial == stock.system_info["serinum"]
            # with factory credentials the web refuses: the failure is typed, the secret is absent
            bad = await scan(
                ["127.0.11.1"],
                endpoint_for=lambda h: Endpoint(h, api_port=api_port, http_port=http_port),
                timeout_s=1.0,
            )
            assert [o for _, o, _ in bad.failed] == [PollOutcome.AUTH_FAILED]
            assert "site-pw-9" not in bad.failed[0][2] and "root" not in bad.failed[0][2]

    asyncio.run(main())


def _ident(
    serial: str | None, firmware: Firmware = Firmware.STOCK, version: str = "1", mac: str | None = None
) -> DeviceIdentity:
    return DeviceIdentity("Antminer", "Antminer S19 Pro", firmware, version, serial, mac)


def test_compare_identity_tells_replacement_swap_and_update() -> None:
    assert compare_identity(_ident("A"), _ident("A")) is None
    change = compare_identity(_ident("A"), _ident("B"))
    assert change is not None and change.kind is IdentityChangeKind.REPLACED
    change = compare_identity(_ident("A"), _ident("A", Firmware.LUXOS))
    assert change is not None and change.kind is IdentityChangeKind.FIRMWARE_SWAP
    change = compare_identity(_ident("A"), _ident("A", version="2"))
    assert change is not None and change.kind is IdentityChangeKind.FIRMWARE_UPDATE
    change = compare_identity(_ident(None, mac="aa:bb"), _ident(None, mac="AA:CC"))
    assert change is not None and change.kind is IdentityChangeKind.REPLACED

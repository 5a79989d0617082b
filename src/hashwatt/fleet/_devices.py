"""Device adapters: one small interface over the firmware protocols hashwatt speaks itself.

Each adapter names, in one declarative map, the commands that fill each metric
(:attr:`Device.METRICS`); a read asks for the union of those commands in one multi-command
request, so a device costs one connection per cycle where its firmware allows it. Identity
(model, serial, MAC, firmware version) is read by :meth:`Device.identify` at discovery and
kept, not re-read every cycle. Every failure is a typed :class:`~hashwatt.fleet.DeviceError`;
a field the firmware does not report is ``None``, never 0.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from hashwatt._redact import redact_url
from hashwatt.fleet._credentials import FACTORY_CREDENTIALS, Credentials, ResolvedCredentials
from hashwatt.fleet._transport import (
    V3Connection,
    cgminer_multi,
    cgminer_payload,
    cgminer_request,
    status_ok,
)
from hashwatt.fleet._types import (
    BoardReading,
    DeviceIdentity,
    DeviceState,
    Endpoint,
    Firmware,
    PoolReading,
    Telemetry,
)
from hashwatt.fleet.errors import (
    ControlUnsupported,
    DeviceAuthFailed,
    DeviceError,
    DeviceReplyInvalid,
    DeviceTimeout,
    DeviceUnreachable,
)
from hashwatt.minerapi import (
    MAX_REPLY_BYTES,
    FrameError,
    decrypt_v2,
    derive_v2_credentials,
    encode_v2_privileged,
    encrypt_v3_param,
    v3_token,
)

__all__ = [
    "ADAPTERS",
    "ALL_METRICS",
    "AntminerStock",
    "Device",
    "LuxOS",
    "PoolConfig",
    "WhatsminerV2",
    "WhatsminerV3",
    "adapter_for",
    "estimate_power_w",
]

ALL_METRICS: frozenset[str] = frozenset(
    {
        "hashrate",
        "expected_hashrate",
        "power",
        "temperatures",
        "fans",
        "boards",
        "pools",
        "shares",
        "state",
        "profile",
    }
)
#: Below this fraction of the expected hashrate a device that answers is not "mining".
MINING_FRACTION = 0.02


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """One pool entry to configure; the password never appears in a repr."""

    url: str
    user: str
    password: str = field(default="x", repr=False)

    def __repr__(self) -> str:
        return f"PoolConfig(url={redact_url(self.url)!r}, user={self.user!r}, password='***')"


def estimate_power_w(hashrate_ths: float, efficiency_j_per_th: float) -> float:
    """Wall power estimated from measured hashrate and the model's rated efficiency [W].

    Stock firmware reports no wattage; J/TH x TH/s = W. The reading is flagged estimated.
    """
    return hashrate_ths * efficiency_j_per_th


def _now() -> datetime:
    return datetime.now(UTC)


def _num(value: Any) -> float | None:
    """A firmware number that may arrive as a string ("37603.30"), empty, or missing.

    "nan" and "inf" parse as floats but are no reading: they count as missing.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    num = _num(value)
    return None if num is None else int(num)


def _dash_temps(value: Any) -> float | None:
    """bmminer's "73-45-64-65" per-board sensor string -> the hottest non-zero sensor [°C]."""
    if not isinstance(value, str) or not value:
        return _num(value) or None
    temps = [t for t in (_num(p) for p in value.split("-")) if t is not None and t > 0]
    return max(temps) if temps else None


def _obj(value: Any) -> dict[str, Any]:
    """A sub-object of a reply, or {} when the firmware sent something else."""
    return value if isinstance(value, dict) else {}


def _hashes_nothing(hashrate_ths: float | None, expected_ths: float | None) -> bool:
    """A device that answers but hashes (almost) nothing: asleep, idle, or still starting."""
    if hashrate_ths is None:
        return False
    return hashrate_ths == 0 or bool(expected_ths and hashrate_ths < MINING_FRACTION * expected_ths)


def _list(value: Any) -> list[Any]:
    """A reply list that has at least one element ({} when the firmware sent none or no list)."""
    return value if isinstance(value, list) and value else [{}]


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _ghs_to_ths(value: float | None, unit: str = "GH") -> float | None:
    if value is None:
        return None
    scale = {"GH": 1e-3, "GH/S": 1e-3, "MH": 1e-6, "MH/S": 1e-6, "TH": 1.0, "TH/S": 1.0}.get(
        unit.upper(), 1e-3
    )
    return value * scale


def _section(reply: Mapping[str, Any], key: str, address: str) -> list[dict[str, Any]]:
    """The named detail section of a cgminer reply, checked to be a list of objects."""
    if not status_ok(reply):
        raise DeviceReplyInvalid(
            f"{key.lower()} answered with an error status", address=address, command=key.lower()
        )
    value = reply.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DeviceReplyInvalid(f"reply lacks the {key} section", address=address, command=key.lower())
    return value


def _first(reply: Mapping[str, Any], key: str, address: str) -> dict[str, Any]:
    """The first entry of a reply's detail section; an empty section is an invalid reply."""
    entries = _section(reply, key, address)
    if not entries:
        raise DeviceReplyInvalid(f"the {key} section is empty", address=address, command=key.lower())
    return entries[0]


def _pools(entries: Sequence[Mapping[str, Any]]) -> tuple[PoolReading, ...]:
    out = []
    for i, p in enumerate(entries):
        status = str(p.get("Status", "")).lower() or "unknown"
        index = _int(p.get("POOL"))
        out.append(
            PoolReading(
                index=i if index is None else index,
                url=redact_url(str(p.get("URL", ""))),
                user=str(p.get("User", "")),
                status=status,
                active=bool(p.get("Stratum Active", False)),
                accepted=_int(p.get("Accepted")),
                rejected=_int(p.get("Rejected")),
                stale=_int(p.get("Stale")),
            )
        )
    return tuple(out)


def _bmminer_stats(stats: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The chain entry of a bmminer-style STATS list (the one with per-chain fields)."""
    for entry in stats:
        if "chain_acn1" in entry or "total_rateideal" in entry or "fan_num" in entry:
            return entry
    return {}


def _bmminer_boards(st: Mapping[str, Any], expected_ths: float | None) -> tuple[BoardReading, ...]:
    """Per-board readings from ``chain_rateN``/``chain_acnN``/``temp_chipN`` (N from 1)."""
    count = _int(st.get("miner_count")) or 0
    present = [n for n in range(1, 17) if (_int(st.get(f"chain_acn{n}")) or 0) > 0]
    last = max([count, *present]) if present or count else 0
    per_board = expected_ths / last if expected_ths is not None and last else None
    unit = str(st.get("rate_unit", "GH"))
    boards = []
    for n in range(1, last + 1):
        boards.append(
            BoardReading(
                index=n - 1,
                hashrate_ths=_ghs_to_ths(_num(st.get(f"chain_rate{n}")) or 0.0, unit),
                expected_hashrate_ths=per_board,
                chips=_int(st.get(f"chain_acn{n}")) or 0,
                chips_expected=None,
                temp_chip_c=_dash_temps(st.get(f"temp_chip{n}")) or _num(st.get(f"temp2_{n}")),
                temp_board_c=_dash_temps(st.get(f"temp_pcb{n}")) or _num(st.get(f"temp{n}")),
            )
        )
    return tuple(boards)


def _bmminer_fans(st: Mapping[str, Any]) -> tuple[int, ...]:
    count = _int(st.get("fan_num"))
    names = [f"fan{n}" for n in range(1, (count or 8) + 1)]
    return tuple(int(_num(st.get(k)) or 0) for k in names if k in st)


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _http_client() -> httpx.AsyncClient:
    """One HTTP client per event loop for every device's web interface.

    A client costs ~0.1 s to build (its TLS context), too much per device per request. Miners
    close their connections, so nothing is kept alive; the environment's proxies are ignored.
    """
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None:
        client = httpx.AsyncClient(
            verify=False,
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=0),
        )
        _CLIENTS[loop] = client
    return client


class Device(abc.ABC):
    """One miner, reached at an explicit endpoint. Subclasses speak one firmware."""

    firmware: ClassVar[Firmware]
    #: metric -> the API commands that fill it; a read sends the union, batched.
    METRICS: ClassVar[Mapping[str, tuple[str, ...]]]

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        credentials: ResolvedCredentials | None = None,
        identity: DeviceIdentity | None = None,
        efficiency_j_per_th: float | None = None,
        timeout_s: float = 5.0,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        self.endpoint = endpoint
        self.resolved = credentials or ResolvedCredentials(FACTORY_CREDENTIALS[self.firmware], factory=True)
        self.identity = identity
        self.efficiency_j_per_th = efficiency_j_per_th
        self.timeout_s = timeout_s
        self.max_reply_bytes = max_reply_bytes

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint.address})"

    @property
    def address(self) -> str:
        return self.endpoint.address

    @property
    def factory_credentials(self) -> bool:
        """True while the device is reached with its firmware's factory default credentials."""
        return self.resolved.factory

    @property
    def credentials(self) -> Credentials:
        return self.resolved.credentials

    @classmethod
    def commands_for(cls, metrics: Iterable[str]) -> tuple[str, ...]:
        """The commands a read of ``metrics`` needs, each once, in map order."""
        wanted = set(metrics)
        unknown = wanted - set(cls.METRICS)
        if unknown:
            raise ValueError(f"unknown metrics: {sorted(unknown)}")
        out: dict[str, None] = {}
        for metric, cmds in cls.METRICS.items():
            if metric in wanted:
                out.update(dict.fromkeys(cmds))
        return tuple(out)

    async def _rpc_multi(self, commands: Sequence[str]) -> dict[str, dict[str, Any]]:
        return await cgminer_multi(
            self.endpoint.host,
            self.endpoint.api_port,
            commands,
            timeout_s=self.timeout_s,
            max_bytes=self.max_reply_bytes,
        )

    async def _rpc(self, command: str, parameter: str | None = None) -> dict[str, Any]:
        return await cgminer_request(
            self.endpoint.host,
            self.endpoint.api_port,
            command,
            parameter,
            timeout_s=self.timeout_s,
            max_bytes=self.max_reply_bytes,
        )

    def _power(self, hashrate_ths: float | None) -> tuple[float | None, bool]:
        if hashrate_ths is None or self.efficiency_j_per_th is None:
            return None, True
        return estimate_power_w(hashrate_ths, self.efficiency_j_per_th), True

    @abc.abstractmethod
    async def identify(self) -> DeviceIdentity:
        """Make, model, firmware and its version, serial and MAC (kept on ``self.identity``)."""

    @abc.abstractmethod
    async def read(self, metrics: Iterable[str] = ALL_METRICS) -> Telemetry:
        """One telemetry snapshot, or a typed :class:`DeviceError`."""

    # Controls: the default is "this firmware has no such control".
    async def reboot(self) -> None:
        raise ControlUnsupported("reboot is not supported by this firmware", address=self.address)

    async def sleep(self) -> None:
        raise ControlUnsupported("sleep is not supported by this firmware", address=self.address)

    async def wake(self) -> None:
        raise ControlUnsupported("wake is not supported by this firmware", address=self.address)

    async def set_power_target(self, power_w: float) -> str | None:
        """Ask for at most ``power_w`` [W]; returns the profile chosen, if the firmware uses profiles."""
        raise ControlUnsupported("this firmware has no power target", address=self.address)

    async def set_profile(self, name: str) -> None:
        raise ControlUnsupported("this firmware has no profiles", address=self.address)

    async def set_pools(self, pools: Sequence[PoolConfig], *, group: str | None = None) -> None:
        """Give ``pools`` the top priorities (read-modify-write: every other setting is kept);
        ``group`` names a LuxOS pool group (other firmwares have none)."""
        raise ControlUnsupported("pool changes are not supported by this firmware", address=self.address)

    def _no_groups(self, group: str | None) -> None:
        if group is not None:
            raise ControlUnsupported("pool groups are a LuxOS feature", address=self.address)

    async def set_fault_light(self, on: bool) -> None:
        raise ControlUnsupported("this firmware has no fault light control", address=self.address)

    async def profiles(self) -> tuple[tuple[str, float], ...]:
        """The (name, power [W]) profiles the device offers; () where it has none."""
        return ()

    async def fault_light(self) -> bool:
        """Whether the fault (locate) light is on, as the device reports it."""
        raise ControlUnsupported("this firmware does not report its fault light", address=self.address)


# --------------------------------------------------------------------------- stock Antminer


class AntminerStock(Device):
    """Stock Bitmain firmware: cgminer API on ``api_port`` (reads), Digest CGI on ``http_port`` (controls)."""

    firmware = Firmware.STOCK
    METRICS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "hashrate": ("summary",),
        "expected_hashrate": ("stats",),
        "power": ("summary",),  # estimated from the hashrate and the catalog model
        "temperatures": ("stats",),
        "fans": ("stats",),
        "boards": ("stats",),
        "pools": ("pools",),
        "shares": ("summary",),
        "state": ("summary", "stats"),  # near-zero hashrate -> get_miner_conf.cgi tells sleep from idle
        "profile": (),
    }

    @property
    def _web_address(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.http_port}"

    async def _cgi(self, name: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET (or POST ``body`` as JSON to) ``/cgi-bin/NAME.cgi``; the JSON object it answers."""
        raw = await self._cgi_raw(name, body)
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise DeviceReplyInvalid(
                f"{name}.cgi did not answer JSON", address=self._web_address, command=f"{name}.cgi"
            ) from exc
        if not isinstance(value, dict):
            raise DeviceReplyInvalid(
                f"{name}.cgi did not answer a JSON object", address=self._web_address, command=f"{name}.cgi"
            )
        return value

    async def _cgi_raw(self, name: str, body: Mapping[str, Any] | None = None) -> bytes:
        address = self._web_address
        try:
            async with asyncio.timeout(self.timeout_s):
                client = _http_client()
                url = f"http://{self.endpoint.host}:{self.endpoint.http_port}/cgi-bin/{name}.cgi"
                auth = httpx.DigestAuth(self.credentials.user, self.credentials.password)
                if body is None:
                    resp = await client.get(url, auth=auth, timeout=self.timeout_s)
                else:
                    resp = await client.post(url, json=dict(body), auth=auth, timeout=self.timeout_s)
                if resp.status_code == 401:
                    raise DeviceAuthFailed(
                        "web interface refused the credentials", address=address, command=f"{name}.cgi"
                    )
                if resp.status_code != 200:
                    raise DeviceReplyInvalid(
                        f"{name}.cgi answered HTTP {resp.status_code}", address=address, command=f"{name}.cgi"
                    )
                if len(resp.content) > self.max_reply_bytes:
                    raise DeviceReplyInvalid(
                        f"{name}.cgi reply too large", address=address, command=f"{name}.cgi"
                    )
                return resp.content
        except TimeoutError as exc:
            raise DeviceTimeout(
                f"web interface gave no reply within {self.timeout_s:g} s",
                address=address,
                command=f"{name}.cgi",
            ) from exc
        except httpx.TimeoutException as exc:
            raise DeviceTimeout(
                f"web interface gave no reply within {self.timeout_s:g} s",
                address=address,
                command=f"{name}.cgi",
            ) from exc
        except httpx.HTTPError as exc:
            raise DeviceUnreachable(
                f"web interface: {type(exc).__name__}", address=address, command=f"{name}.cgi"
            ) from exc

    async def identify(self) -> DeviceIdentity:
        version = await self._rpc("version")
        ver = _first(version, "VERSION", self.address)
        model = str(ver.get("Type", "")).strip() or "Antminer"
        serial = mac = hostname = None
        try:
            info = await self._cgi("get_system_info")
        except DeviceAuthFailed:
            raise
        except DeviceError:
            info = {}  # the API answered; identity without serial/MAC is still an identity
        else:
            model = str(info.get("minertype") or model)
            serial = str(info.get("serinum") or "") or None
            mac = str(info.get("macaddr") or "") or None
            hostname = str(info.get("hostname") or "") or None
        self.identity = DeviceIdentity(
            make="Antminer",
            model=model,
            firmware=Firmware.STOCK,
            firmware_version=str(ver.get("CompileTime") or ver.get("Miner") or ""),
            serial=serial,
            mac=mac,
            hostname=hostname,
            catalog_model=self.identity.catalog_model if self.identity else None,
        )
        return self.identity

    async def _work_mode(self) -> str:
        conf = await self._cgi("get_miner_conf")
        return str(conf.get("bitmain-work-mode", "0"))

    async def read(self, metrics: Iterable[str] = ALL_METRICS) -> Telemetry:
        replies = await self._rpc_multi(self.commands_for(metrics) or ("summary",))
        summary = _first(replies["summary"], "SUMMARY", self.address) if "summary" in replies else {}
        st = _bmminer_stats(_section(replies["stats"], "STATS", self.address)) if "stats" in replies else {}
        pools = _pools(_section(replies["pools"], "POOLS", self.address)) if "pools" in replies else ()
        hashrate = _ghs_to_ths(_num(summary.get("GHS 5s")))
        if hashrate is None and st:
            hashrate = _ghs_to_ths(_num(st.get("GHS 5s")))
        expected = _ghs_to_ths(_num(st.get("total_rateideal")), str(st.get("rate_unit", "GH")))
        boards = _bmminer_boards(st, expected) if st else ()
        state = DeviceState.MINING
        if _hashes_nothing(hashrate, expected):
            # Only a machine that hashes (almost) nothing costs a web request to tell sleep from idle.
            state = DeviceState.SLEEPING if await self._work_mode() == "1" else DeviceState.IDLE
        power, estimated = self._power(hashrate)
        return Telemetry(
            time_utc=_now(),
            state=state,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=power,
            power_estimated=estimated,
            temp_chip_max_c=_max(b.temp_chip_c for b in boards),
            temp_board_max_c=_max(b.temp_board_c for b in boards),
            temp_inlet_c=None,
            fans_rpm=_bmminer_fans(st),
            boards=boards,
            pools=pools,
            accepted=_int(summary.get("Accepted")),
            rejected=_int(summary.get("Rejected")),
            stale=_int(summary.get("Stale")),
            hardware_errors=_int(summary.get("Hardware Errors")),
            uptime_s=_int(summary.get("Elapsed")) if summary else _int(st.get("Elapsed")),
        )

    async def _set_conf(self, changes: Mapping[str, Any]) -> None:
        """Read-modify-write of the whole miner configuration: unchanged keys are sent back as read."""
        conf = await self._cgi("get_miner_conf")
        pools = [
            {"url": str(p.get("url", "")), "user": str(p.get("user", "")), "pass": str(p.get("pass", ""))}
            for p in conf.get("pools", [])
            if isinstance(p, dict)
        ]
        while len(pools) < 3:
            pools.append({"url": "", "user": "", "pass": ""})
        body: dict[str, Any] = {
            "bitmain-fan-ctrl": conf.get("bitmain-fan-ctrl", False),
            "bitmain-fan-pwm": str(conf.get("bitmain-fan-pwm", "100")),
            "freq-level": str(conf.get("bitmain-freq-level", "100")),
            "miner-mode": int(str(conf.get("bitmain-work-mode", "0")) or 0),
            "pools": pools,
        }
        for key, value in changes.items():
            if key == "pools":
                named = list(value)
                body["pools"] = named + pools[len(named) :]  # unnamed slots keep their pools
            else:
                body[key] = value
        reply = await self._cgi("set_miner_conf", body)
        if str(reply.get("stats", "")).lower() != "success":
            raise DeviceReplyInvalid(
                f"set_miner_conf refused ({str(reply.get('code', ''))[:16]})",
                address=self._web_address,
                command="set_miner_conf.cgi",
            )

    async def reboot(self) -> None:
        await self._cgi_raw("reboot")

    async def sleep(self) -> None:
        await self._set_conf({"miner-mode": 1})

    async def wake(self) -> None:
        await self._set_conf({"miner-mode": 0})

    async def set_profile(self, name: str) -> None:
        modes = {"normal": 0, "sleep": 1, "low": 3}
        if name not in modes:
            raise ControlUnsupported(
                f"stock firmware modes are {', '.join(modes)}, not {name!r}", address=self.address
            )
        await self._set_conf({"miner-mode": modes[name]})

    async def set_pools(self, pools: Sequence[PoolConfig], *, group: str | None = None) -> None:
        """The given pools take the first slots; the slots not named keep the device's pools."""
        self._no_groups(group)
        if not 1 <= len(pools) <= 3:
            raise ValueError("stock firmware takes 1 to 3 pools")
        await self._set_conf({"pools": [{"url": p.url, "user": p.user, "pass": p.password} for p in pools]})

    async def set_fault_light(self, on: bool) -> None:
        reply = await self._cgi("blink", {"blink": "true" if on else "false"})
        expected = "B000" if on else "B100"
        if reply.get("code") != expected:
            raise DeviceReplyInvalid(
                f"blink answered {str(reply.get('code'))[:16]!r}",
                address=self._web_address,
                command="blink.cgi",
            )

    async def fault_light(self) -> bool:
        return bool((await self._cgi("get_blink_status")).get("blink"))

    async def miner_conf(self) -> dict[str, Any]:
        """The configuration as the device reports it (pool passwords included: keep it in memory)."""
        return await self._cgi("get_miner_conf")


# --------------------------------------------------------------------------- LuxOS


class LuxOS(Device):
    """LuxOS: the cgminer API plus sessions (writes only), curtail, profiles and power readings."""

    firmware = Firmware.LUXOS
    METRICS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "hashrate": ("summary",),
        "expected_hashrate": ("stats",),
        "power": ("power",),
        "temperatures": ("stats",),
        "fans": ("fans",),
        "boards": ("stats",),
        "pools": ("pools",),
        "shares": ("summary",),
        "state": ("config", "summary"),  # CONFIG.CurtailMode says sleep
        "profile": ("config",),
    }

    async def identify(self) -> DeviceIdentity:
        replies = await self._rpc_multi(("version", "config"))
        ver = _first(replies["version"], "VERSION", self.address)
        cfg = _first(replies["config"], "CONFIG", self.address)
        self.identity = DeviceIdentity(
            make="Antminer",
            model=str(cfg.get("Model") or ver.get("Type") or "Antminer"),
            firmware=Firmware.LUXOS,
            firmware_version=str(ver.get("LUXminer") or ver.get("Miner") or ""),
            serial=str(cfg.get("SerialNumber") or "") or None,
            mac=str(cfg.get("MACAddr") or "") or None,
            hostname=str(cfg.get("Hostname") or "") or None,
            catalog_model=self.identity.catalog_model if self.identity else None,
        )
        return self.identity

    async def read(self, metrics: Iterable[str] = ALL_METRICS) -> Telemetry:
        replies = await self._rpc_multi(self.commands_for(metrics) or ("summary",))
        summary = _first(replies["summary"], "SUMMARY", self.address) if "summary" in replies else {}
        st = _bmminer_stats(_section(replies["stats"], "STATS", self.address)) if "stats" in replies else {}
        cfg = _first(replies["config"], "CONFIG", self.address) if "config" in replies else {}
        pools = _pools(_section(replies["pools"], "POOLS", self.address)) if "pools" in replies else ()
        power: float | None = None
        if "power" in replies:
            power = _num(_first(replies["power"], "POWER", self.address).get("Watts"))
        fans: tuple[int, ...] = ()
        if "fans" in replies:
            fans = tuple(
                int(_num(f.get("RPM")) or 0) for f in _section(replies["fans"], "FANS", self.address)
            )
        elif st:
            fans = _bmminer_fans(st)
        hashrate = _ghs_to_ths(_num(summary.get("GHS 5s")))
        expected = _ghs_to_ths(_num(st.get("total_rateideal")), str(st.get("rate_unit", "GH")))
        boards = _bmminer_boards(st, expected) if st else ()
        curtail = str(cfg.get("CurtailMode", "None"))
        if cfg and curtail not in ("None", ""):
            state = DeviceState.SLEEPING
        elif _hashes_nothing(hashrate, expected):
            state = DeviceState.IDLE
        else:
            state = DeviceState.MINING
        return Telemetry(
            time_utc=_now(),
            state=state,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=power,
            power_estimated=False,
            temp_chip_max_c=_max(b.temp_chip_c for b in boards),
            temp_board_max_c=_max(b.temp_board_c for b in boards),
            temp_inlet_c=None,
            fans_rpm=fans,
            boards=boards,
            pools=pools,
            accepted=_int(summary.get("Accepted")),
            rejected=_int(summary.get("Rejected")),
            stale=_int(summary.get("Stale")),
            hardware_errors=_int(summary.get("Hardware Errors")),
            uptime_s=_int(summary.get("Elapsed")),
            profile=str(cfg["Profile"]) if cfg.get("Profile") else None,
        )

    async def _session(self) -> str:
        """The current session id, or a new one from ``logon`` (LuxOS allows one at a time)."""
        reply = await self._rpc("session")
        if status_ok(reply):
            sid = str(_obj(_list(reply.get("SESSION"))[0]).get("SessionID", ""))
            if sid:
                return sid
        reply = await self._rpc("logon")
        if not status_ok(reply):
            raise DeviceAuthFailed(
                "logon refused (another session is active?)", address=self.address, command="logon"
            )
        sid = str(_obj(_list(reply.get("SESSION"))[0]).get("SessionID", ""))
        if not sid:
            raise DeviceReplyInvalid("logon answered no session id", address=self.address, command="logon")
        return sid

    async def _write(self, command: str, *params: str) -> dict[str, Any]:
        sid = await self._session()
        reply = await self._rpc(command, ",".join((sid, *params)))
        if not status_ok(reply):
            msg = ""
            status = reply.get("STATUS")
            if isinstance(status, list) and status and isinstance(status[0], dict):
                msg = str(status[0].get("Msg", ""))[:80]
            raise DeviceReplyInvalid(f"{command} refused: {msg}", address=self.address, command=command)
        return reply

    async def reboot(self) -> None:
        await self._write("rebootdevice")

    async def sleep(self) -> None:
        await self._write("curtail", "sleep")

    async def wake(self) -> None:
        await self._write("curtail", "wakeup")

    async def profiles(self) -> tuple[tuple[str, float], ...]:
        reply = await self._rpc("profiles")
        out = []
        for p in _section(reply, "PROFILES", self.address):
            watts = _num(p.get("Watts"))
            if p.get("Profile Name") and watts is not None:
                out.append((str(p["Profile Name"]), watts))
        return tuple(out)

    async def set_profile(self, name: str) -> None:
        names = {n for n, _ in await self.profiles()}
        if name not in names:
            raise ControlUnsupported(f"no profile named {name!r} on this device", address=self.address)
        reply = await self._write("profileset", name)
        got = str(_obj(_list(reply.get("PROFILE"))[0]).get("Profile", name))
        if got != name:
            raise DeviceReplyInvalid(
                f"profileset chose {got!r}, not {name!r}", address=self.address, command="profileset"
            )

    async def set_power_target(self, power_w: float) -> str | None:
        """The highest profile whose rated watts fit under ``power_w`` (as LuxOS Commander does)."""
        fitting = [(w, n) for n, w in await self.profiles() if w <= power_w]
        if not fitting:
            raise ControlUnsupported(f"no profile fits under {power_w:g} W", address=self.address)
        _, name = max(fitting)
        await self.set_profile(name)
        return name

    async def set_fault_light(self, on: bool) -> None:
        await self._write("ledset", "red", "blink" if on else "off")

    async def fault_light(self) -> bool:
        cfg = _first(await self._rpc("config"), "CONFIG", self.address)
        return str(cfg.get("RedLed", "off")).lower() not in ("off", "auto", "")

    async def _pool_table(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(pools in priority order, groups) as the firmware reports them."""
        replies = await self._rpc_multi(("pools", "groups"))
        pools = sorted(
            _section(replies["pools"], "POOLS", self.address),
            key=lambda p: (_int(p.get("Priority")) or 0, _int(p.get("POOL")) or 0),
        )
        return pools, _section(replies["groups"], "GROUPS", self.address)

    async def group_pools(self, group: str | None = None) -> list[tuple[str, str]]:
        """(URL, user) of a group's pools in priority order (``None``: the active pool's group)."""
        table, groups = await self._pool_table()
        if group is None:
            active = next((p for p in table if p.get("Stratum Active")), table[0] if table else {})
            gid = _int(active.get("GROUP")) or 0
        else:
            found = [_int(g.get("GROUP")) for g in groups if str(g.get("Name")) == group]
            if not found or found[0] is None:
                return []
            gid = found[0]
        return [
            (str(p.get("URL", "")), str(p.get("User", "")))
            for p in table
            if (_int(p.get("GROUP")) or 0) == gid
        ]

    async def _pool_write(self, command: str, *params: str) -> None:
        """A pool or group command (no session id: luxos-tooling's api.json marks them
        ``logon_required: false``); a refusal is a :class:`DeviceReplyInvalid` with its message."""
        reply = await self._rpc(command, ",".join(params))
        if not status_ok(reply):
            status = _obj(_list(reply.get("STATUS"))[0])
            raise DeviceReplyInvalid(
                f"{command} refused: {str(status.get('Msg', ''))[:80]}", address=self.address, command=command
            )

    async def set_pools(self, pools: Sequence[PoolConfig], *, group: str | None = None) -> None:
        """Read-modify-write of one pool group: ``pools`` take its top priorities, in order.

        The group is ``group`` (created when missing) or the group of the active pool. Pools of
        the group already configured are reused (their passwords untouched), missing ones are
        added with ``addpool``, ``switchpool`` orders them, and only the pools they replace in
        the group's first places are removed; other groups and pools are not touched. The
        whole change runs under a LuxOS session, the firmware's lock against concurrent writers.
        """
        if not 1 <= len(pools) <= 3:
            raise ValueError("a pool change takes 1 to 3 pools")
        await self._session()
        table, groups = await self._pool_table()
        names = {str(g.get("Name")): _int(g.get("GROUP")) or 0 for g in groups}
        gid: int
        if group is None:
            active = next((p for p in table if p.get("Stratum Active")), table[0] if table else {})
            gid = _int(active.get("GROUP")) or 0
            group = next((n for n, i in names.items() if i == gid), None)
        else:
            if group not in names:
                await self._pool_write("addgroup", group, "1")
                table, groups = await self._pool_table()
                names = {str(g.get("Name")): _int(g.get("GROUP")) or 0 for g in groups}
                if group not in names:
                    raise DeviceReplyInvalid(
                        f"addgroup did not create {group!r}", address=self.address, command="addgroup"
                    )
            gid = names[group]

        def key(p: Mapping[str, Any]) -> tuple[str, str]:
            return str(p.get("URL", "")), str(p.get("User", ""))

        wanted = [(p.url, p.user) for p in pools]
        members = [p for p in table if (_int(p.get("GROUP")) or 0) == gid]
        replaced = [key(p) for p in members[: len(pools)] if key(p) not in wanted]
        present = {key(p) for p in members}
        for p in pools:
            if (p.url, p.user) not in present:
                await self._pool_write("addpool", p.url, p.user, p.password, *([group] if group else []))

        async def pool_id(url_user: tuple[str, str]) -> int | None:
            """The pool's id in the group now (ids move as pools are switched and removed)."""
            table, _ = await self._pool_table()
            ids = [
                _int(p.get("POOL"))
                for p in table
                if key(p) == url_user and (_int(p.get("GROUP")) or 0) == gid
            ]
            return ids[0] if ids else None

        for url_user in reversed(wanted):  # the last switched ends on top
            pid = await pool_id(url_user)
            if pid is None:
                raise DeviceReplyInvalid(
                    "a pool just added is not listed", address=self.address, command="addpool"
                )
            await self._pool_write("switchpool", str(pid))
        for url_user in replaced:
            pid = await pool_id(url_user)
            if pid is not None:
                await self._pool_write("removepool", str(pid))


# --------------------------------------------------------------------------- Whatsminer 2.x (reads)


class WhatsminerV2(Device):
    """Whatsminer API 2.x on ``api_port``: plain reads; writes need the token + AES envelope."""

    firmware = Firmware.WHATSMINER
    METRICS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "hashrate": ("summary",),
        "expected_hashrate": ("summary",),
        "power": ("summary",),
        "temperatures": ("summary", "devs"),
        "fans": ("summary",),
        "boards": ("devs",),
        "pools": ("pools",),
        "shares": ("summary",),
        "state": ("summary", "status"),  # status.mineroff tells a powered-off miner
        "profile": ("summary",),
    }
    #: commands the firmware answers only one per request (its own API, not cgminer's)
    SINGLE: ClassVar[frozenset[str]] = frozenset(
        {"status", "get_version", "get_miner_info", "get_error_code", "get_psu"}
    )

    async def _fetch(self, commands: Sequence[str]) -> dict[str, dict[str, Any]]:
        multi = [c for c in commands if c not in self.SINGLE]
        single = [c for c in commands if c in self.SINGLE]
        tasks = [self._rpc(c) for c in single]
        results = await asyncio.gather(self._rpc_multi(multi) if multi else _empty(), *tasks)
        out: dict[str, dict[str, Any]] = dict(results[0])
        out.update(zip(single, results[1:], strict=True))
        return out

    async def identify(self) -> DeviceIdentity:
        replies = await self._fetch(("get_version", "get_miner_info", "devdetails"))
        version = replies["get_version"]
        info = replies["get_miner_info"]
        if not status_ok(version) or not isinstance(version.get("Msg"), dict):
            raise DeviceReplyInvalid(
                "get_version answered an error", address=self.address, command="get_version"
            )
        msg_info: dict[str, Any] = (
            info["Msg"] if status_ok(info) and isinstance(info.get("Msg"), dict) else {}
        )
        model = "Whatsminer"
        with contextlib.suppress(DeviceError):
            details = _section(replies["devdetails"], "DEVDETAILS", self.address)
            if details and details[0].get("Model"):
                model = f"Whatsminer {details[0]['Model']}"
        self.identity = DeviceIdentity(
            make="Whatsminer",
            model=model,
            firmware=Firmware.WHATSMINER,
            firmware_version=str(version["Msg"].get("fw_ver", "")),
            serial=str(msg_info.get("minersn") or "") or None,
            mac=str(msg_info.get("mac") or "") or None,
            hostname=str(msg_info.get("hostname") or "") or None,
            catalog_model=self.identity.catalog_model if self.identity else None,
        )
        return self.identity

    async def read(self, metrics: Iterable[str] = ALL_METRICS) -> Telemetry:
        replies = await self._fetch(self.commands_for(metrics) or ("summary",))
        summary = _first(replies["summary"], "SUMMARY", self.address) if "summary" in replies else {}
        devs = _section(replies["devs"], "DEVS", self.address) if "devs" in replies else []
        pools = _pools(_section(replies["pools"], "POOLS", self.address)) if "pools" in replies else ()
        hashrate = _ghs_to_ths(_num(summary.get("MHS 1m", summary.get("MHS av"))), "MH")
        expected = _ghs_to_ths(_num(summary.get("Factory GHS")), "GH")
        power = _num(summary.get("Power"))
        if power is not None and power < 0:
            power = None  # -1 means "not measured"
        boards = tuple(
            BoardReading(
                index=_int(d.get("ASC", d.get("Slot"))) or i,
                hashrate_ths=_ghs_to_ths(_num(d.get("MHS 1m", d.get("MHS av"))), "MH"),
                expected_hashrate_ths=_ghs_to_ths(_num(d.get("Factory GHS")), "GH"),
                chips=_int(d.get("Effective Chips")),
                chips_expected=None,
                temp_chip_c=_num(d.get("Chip Temp Max", d.get("Chip Temp Avg"))),
                temp_board_c=_num(d.get("Temperature")),
            )
            for i, d in enumerate(devs)
        )
        mineroff = False
        status = replies.get("status")
        if status is not None and status_ok(status) and isinstance(status.get("Msg"), dict):
            msg = status["Msg"]
            mineroff = str(msg.get("mineroff", msg.get("btmineroff", "false"))).lower() == "true"
        if mineroff:
            state = DeviceState.SLEEPING
        elif _hashes_nothing(hashrate, expected):
            state = DeviceState.IDLE
        else:
            state = DeviceState.MINING
        fans = tuple(
            int(_num(summary.get(k)) or 0) for k in ("Fan Speed In", "Fan Speed Out") if k in summary
        )
        errors = tuple(
            str(summary[k])
            for k in sorted(summary)
            if k.startswith("Error Code ") and k != "Error Code Count"
        )
        chip_max = _num(summary.get("Chip Temp Max"))
        return Telemetry(
            time_utc=_now(),
            state=state,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=power,
            power_estimated=False,
            temp_chip_max_c=chip_max if chip_max is not None else _max(b.temp_chip_c for b in boards),
            temp_board_max_c=_max(b.temp_board_c for b in boards),
            temp_inlet_c=_num(summary.get("Env Temp")),
            fans_rpm=fans,
            boards=boards,
            pools=pools,
            accepted=_int(summary.get("Accepted")),
            rejected=_int(summary.get("Rejected")),
            stale=_int(summary.get("Stale")),
            hardware_errors=_int(summary.get("Hardware Errors")),
            uptime_s=_int(summary.get("Elapsed")),
            error_codes=errors,
            power_target_w=_num(summary.get("Power Limit")),
            profile=str(summary["Power Mode"]).lower() if summary.get("Power Mode") else None,
        )

    # Writes: get_token in the clear, then the command inside the AES envelope.
    _AUTH_CODES: ClassVar[frozenset[int]] = frozenset({45, 135, 137})

    async def _write(self, cmd: str, **params: Any) -> dict[str, Any]:
        token = await self._rpc("get_token")
        msg = token.get("Msg")
        if not status_ok(token) or not isinstance(msg, dict) or not {"time", "salt", "newsalt"} <= set(msg):
            code = _int(token.get("Code"))
            if code in self._AUTH_CODES:
                raise DeviceAuthFailed("get_token refused", address=self.address, command="get_token")
            raise DeviceReplyInvalid("get_token answered no token", address=self.address, command="get_token")
        creds = derive_v2_credentials(
            self.credentials.password,
            salt=str(msg["salt"]),
            newsalt=str(msg["newsalt"]),
            time=str(msg["time"]),
        )
        reply = await cgminer_payload(
            self.endpoint.host,
            self.endpoint.api_port,
            encode_v2_privileged({"cmd": cmd, **params}, creds),
            command=cmd,
            timeout_s=self.timeout_s,
            max_bytes=self.max_reply_bytes,
        )
        if "enc" in reply:
            try:
                reply = decrypt_v2(str(reply["enc"]), creds.aes_key)
            except FrameError as exc:
                raise DeviceReplyInvalid(
                    "reply envelope does not decrypt", address=self.address, command=cmd
                ) from exc
        if not status_ok(reply):
            if _int(reply.get("Code")) in self._AUTH_CODES:
                raise DeviceAuthFailed(f"{cmd} refused the credentials", address=self.address, command=cmd)
            raise DeviceReplyInvalid(
                f"{cmd} refused: {str(reply.get('Msg', ''))[:80]}", address=self.address, command=cmd
            )
        return reply

    async def reboot(self) -> None:
        await self._write("reboot")

    async def sleep(self) -> None:
        await self._write("power_off", respbefore="true")

    async def wake(self) -> None:
        await self._write("power_on")

    async def set_power_target(self, power_w: float) -> str | None:
        if not power_w > 0:
            raise ValueError("power target must be positive")
        await self._write("adjust_power_limit", power_limit=str(int(power_w)))
        return None

    async def set_profile(self, name: str) -> None:
        commands = {"low": "set_low_power", "normal": "set_normal_power", "high": "set_high_power"}
        if name not in commands:
            raise ControlUnsupported(
                f"Whatsminer modes are {', '.join(commands)}, not {name!r}", address=self.address
            )
        await self._write(commands[name])

    async def set_pools(self, pools: Sequence[PoolConfig], *, group: str | None = None) -> None:
        """``update_pools`` sets all three slots: unnamed slots keep the pools the device reports."""
        self._no_groups(group)
        current = _section(await self._rpc("pools"), "POOLS", self.address)
        slots = _three_slots(pools, [(str(e.get("URL", "")), str(e.get("User", ""))) for e in current])
        params: dict[str, str] = {}
        for i, (url, user, password) in enumerate(slots, start=1):
            params.update({f"pool{i}": url, f"worker{i}": user, f"passwd{i}": password})
        await self._write("update_pools", **params)

    async def set_fault_light(self, on: bool) -> None:
        if on:
            await self._write("set_led", color="red", period=200, duration=100, start=0)
        else:
            await self._write("set_led", param="auto")

    async def fault_light(self) -> bool:
        info = await self._rpc("get_miner_info")
        return str(_obj(info.get("Msg")).get("ledstat", "auto")).lower() != "auto"


# --------------------------------------------------------------------------- Whatsminer 3.x


class WhatsminerV3(Device):
    """Whatsminer API 3.x on ``v3_port``: length-prefixed JSON frames; ``set.*`` carry a salted token."""

    firmware = Firmware.WHATSMINER_V3
    METRICS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "hashrate": ("summary",),
        "expected_hashrate": ("summary",),
        "power": ("summary",),
        "temperatures": ("summary", "edevs"),
        "fans": ("summary",),
        "boards": ("edevs",),
        "pools": ("pools",),
        "shares": (),
        "state": ("summary",),  # near-zero hashrate -> get.device.info says whether it is stopped
        "profile": (),
    }

    @property
    def _v3_address(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.v3_port}"

    def _connection(self) -> V3Connection:
        return V3Connection(
            self.endpoint.host,
            self.endpoint.v3_port,
            timeout_s=self.timeout_s,
            max_bytes=self.max_reply_bytes,
        )

    async def _call(self, message: Mapping[str, Any], conn: V3Connection | None = None) -> dict[str, Any]:
        if conn is None:
            async with self._connection() as own:
                reply = await own.request(message)
        else:
            reply = await conn.request(message)
        code = _int(reply.get("code"))
        if code == -4:
            raise DeviceAuthFailed(
                f"{message.get('cmd')} refused: no permission",
                address=self._v3_address,
                command=str(message.get("cmd", "")),
            )
        if code != 0:
            raise DeviceReplyInvalid(
                f"{message.get('cmd')} answered code {code}",
                address=self._v3_address,
                command=str(message.get("cmd", "")),
            )
        return reply

    async def _msg(self, cmd: str, param: Any = None, conn: V3Connection | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"cmd": cmd}
        if param is not None:
            message["param"] = param
        msg = (await self._call(message, conn)).get("msg")
        if not isinstance(msg, dict):
            raise DeviceReplyInvalid(f"{cmd} answered no object", address=self._v3_address, command=cmd)
        return msg

    async def identify(self) -> DeviceIdentity:
        info = await self._msg("get.device.info")
        miner, network, system = (_obj(info.get(k)) for k in ("miner", "network", "system"))
        self.identity = DeviceIdentity(
            make="Whatsminer",
            model=f"Whatsminer {miner.get('type', '')}".strip(),
            firmware=Firmware.WHATSMINER_V3,
            firmware_version=str(system.get("fwversion", "")),
            serial=str(miner.get("miner-sn") or "") or None,
            mac=str(network.get("mac") or "") or None,
            hostname=str(network.get("hostname") or "") or None,
            catalog_model=self.identity.catalog_model if self.identity else None,
        )
        return self.identity

    async def read(self, metrics: Iterable[str] = ALL_METRICS) -> Telemetry:
        commands = self.commands_for(metrics) or ("summary",)
        async with self._connection() as conn:  # one connection for every report of the read
            by = {c: await self._msg("get.miner.status", c, conn) for c in commands}
            return await self._telemetry(by, conn)

    async def _telemetry(self, by: Mapping[str, dict[str, Any]], conn: V3Connection) -> Telemetry:
        summary = by.get("summary", {}).get("summary", {})
        if not isinstance(summary, dict):
            raise DeviceReplyInvalid("summary is not an object", address=self._v3_address, command="summary")
        edevs = [e for e in by.get("edevs", {}).get("edevs", []) if isinstance(e, dict)]
        pools_raw = [p for p in by.get("pools", {}).get("pools", []) if isinstance(p, dict)]
        hashrate = _num(summary.get("hash-realtime"))
        expected = _num(summary.get("factory-hash"))
        boards = tuple(
            BoardReading(
                index=i if _int(e.get("id")) is None else int(e["id"]),
                hashrate_ths=_num(e.get("hash-realtime", e.get("hash-average"))),
                expected_hashrate_ths=_num(e.get("factory-hash")),
                chips=_int(e.get("effective-chips")),
                chips_expected=None,
                temp_chip_c=_num(e.get("chip-temp-max")),
                temp_board_c=None,
            )
            for i, e in enumerate(edevs)
        )
        board_temps = summary.get("board-temperature")
        state = DeviceState.MINING
        if _hashes_nothing(hashrate, expected):
            info = await self._msg("get.device.info", conn=conn)
            working = str(_obj(info.get("miner")).get("working", "true")).lower()
            state = DeviceState.SLEEPING if working == "false" else DeviceState.IDLE
        pools = tuple(
            PoolReading(
                index=i,
                url=redact_url(str(p.get("url", ""))),
                user=str(p.get("account", "")),
                status=str(p.get("status", "")).lower() or "unknown",
                active=bool(p.get("stratum-active", False)),
                accepted=_int(p.get("accepted")),
                rejected=_int(p.get("rejected")),
                stale=_int(p.get("stale")),
            )
            for i, p in enumerate(pools_raw)
        )
        return Telemetry(
            time_utc=_now(),
            state=state,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected,
            power_w=_num(summary.get("power-realtime")),
            power_estimated=False,
            temp_chip_max_c=_num(summary.get("chip-temp-max")),
            temp_board_max_c=_max(_num(t) for t in board_temps) if isinstance(board_temps, list) else None,
            temp_inlet_c=_num(summary.get("environment-temperature")),
            fans_rpm=tuple(
                int(_num(summary.get(k)) or 0) for k in ("fan-speed-in", "fan-speed-out") if k in summary
            ),
            boards=boards,
            pools=pools,
            accepted=None,
            rejected=None,
            stale=None,
            hardware_errors=None,
            uptime_s=_int(summary.get("elapsed")),
            power_target_w=_num(summary.get("power-limit")),
        )

    async def _set(self, cmd: str, param: Any, *, encrypt: bool = False) -> None:
        """A ``set.*`` command with its salted token; ``encrypt`` sends ``param`` encrypted
        (``set.miner.pools``: the firmware refuses pool passwords in the clear)."""
        salt = str((await self._msg("get.device.info")).get("salt", ""))
        ts = int(_now().timestamp())
        password = self.credentials.password
        token = v3_token(cmd, password, salt, ts)
        if encrypt:
            param = encrypt_v3_param(param, cmd, password, salt, ts)
        await self._call(
            {"cmd": cmd, "param": param, "ts": ts, "account": self.credentials.user, "token": token}
        )

    async def set_pools(self, pools: Sequence[PoolConfig], *, group: str | None = None) -> None:
        """``set.miner.pools`` sets all three slots: unnamed slots keep the pools the device reports."""
        self._no_groups(group)
        current = (await self._msg("get.miner.status", "pools")).get("pools", [])
        kept = [(str(p.get("url", "")), str(p.get("account", ""))) for p in current if isinstance(p, dict)]
        slots = _three_slots(pools, kept)
        await self._set(
            "set.miner.pools",
            [{"pool": url, "worker": user, "passwd": password} for url, user, password in slots],
            encrypt=True,
        )

    async def reboot(self) -> None:
        await self._set("set.system.reboot", None)

    async def sleep(self) -> None:
        await self._set("set.miner.service", "stop")

    async def wake(self) -> None:
        await self._set("set.miner.service", "start")

    async def set_power_target(self, power_w: float) -> str | None:
        if not power_w > 0:
            raise ValueError("power target must be positive")
        await self._set("set.miner.power_limit", int(power_w))
        return None

    async def set_fault_light(self, on: bool) -> None:
        param: Any = [{"color": "red", "period": 200, "duration": 100, "start": 0}] if on else "auto"
        await self._set("set.system.led", param)

    async def fault_light(self) -> bool:
        system = _obj((await self._msg("get.device.info")).get("system"))
        return str(system.get("ledstatus", "auto")).lower() != "auto"


def _three_slots(
    pools: Sequence[PoolConfig], current: Sequence[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """Whatsminer's three pool slots: ``pools`` first, then the device's other pools as read.

    The firmware never reveals pool passwords, so a kept pool is sent back with "x" (what
    pools accept as "no password").
    """
    if not 1 <= len(pools) <= 3:
        raise ValueError("Whatsminer takes 1 to 3 pools")
    slots = [(p.url, p.user, p.password) for p in pools]
    slots += [(url, user, "x") for url, user in current[len(slots) : 3]]
    slots += [("", "", "")] * (3 - len(slots))
    return slots


async def _empty() -> dict[str, dict[str, Any]]:
    return {}


#: firmware -> adapter class; discovery and the poller pick from this one table.
ADAPTERS: dict[Firmware, type[Device]] = {
    Firmware.STOCK: AntminerStock,
    Firmware.LUXOS: LuxOS,
    Firmware.WHATSMINER: WhatsminerV2,
    Firmware.WHATSMINER_V3: WhatsminerV3,
}


def adapter_for(
    firmware: Firmware,
    endpoint: Endpoint,
    *,
    credentials: ResolvedCredentials | None = None,
    identity: DeviceIdentity | None = None,
    efficiency_j_per_th: float | None = None,
    timeout_s: float = 5.0,
) -> Device:
    """The adapter for ``firmware`` at ``endpoint`` (``ControlUnsupported`` for unknown firmware)."""
    cls = ADAPTERS.get(firmware)
    if cls is None:
        raise ControlUnsupported(f"firmware {firmware.value} is not spoken yet", address=endpoint.address)
    return cls(
        endpoint,
        credentials=credentials,
        identity=identity,
        efficiency_j_per_th=efficiency_j_per_th,
        timeout_s=timeout_s,
    )

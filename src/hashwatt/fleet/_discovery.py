"""Discovery: parse address ranges, probe every address concurrently, identify what answers.

Concurrency is a fixed pool of workers (well under the 20,000 open-file limit: each worker
holds at most two sockets), each address has its own deadline, so a hung or garbage-answering
address costs one worker for ``timeout_s`` and never delays the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hashwatt.errors import InputError
from hashwatt.fleet._credentials import CredentialStore
from hashwatt.fleet._devices import Device, adapter_for
from hashwatt.fleet._transport import cgminer_request, status_ok, v3_request
from hashwatt.fleet._types import DeviceIdentity, Endpoint, Firmware, PollOutcome
from hashwatt.fleet.errors import (
    DeviceAuthFailed,
    DeviceError,
    DeviceReplyInvalid,
    DeviceTimeout,
    DeviceUnreachable,
    FleetInputError,
)

if TYPE_CHECKING:
    from hashwatt.data.hardware import MinerModel

__all__ = [
    "MAX_SCAN_ADDRESSES",
    "Found",
    "IdentityChange",
    "IdentityChangeKind",
    "ScanResult",
    "catalog_efficiency_j_per_th",
    "catalog_model_for",
    "classify_firmware",
    "compare_identity",
    "identify_at",
    "outcome_of",
    "parse_range",
    "probe",
    "reidentify",
    "scan",
]

#: The largest range one scan accepts (a /16); a typo such as 10.0.0.0/8 is refused, not scanned.
MAX_SCAN_ADDRESSES = 65_536
#: Whatsminer firmware dated from 2024-11 on speaks API 3.x on 4433 (YYYYMMDD prefix of fw_ver).
_WHATSMINER_V3_FROM = 20241100


def parse_range(text: str, *, max_addresses: int = MAX_SCAN_ADDRESSES) -> tuple[str, ...]:
    """``A.B.C.D-A.B.C.E``, ``A.B.C.D-E``, a CIDR block or one address, or a comma list of them.

    Addresses come back in order without duplicates. A CIDR block of /31 or larger yields its
    host addresses (network and broadcast excluded). Raises :class:`FleetInputError` naming the
    offending item.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise FleetInputError(f"empty item in address range {text!r}", field="range", value=text)
    out: dict[str, None] = {}
    for item in items:
        for addr in _expand(item, max_addresses):
            out[addr] = None
            if len(out) > max_addresses:
                raise FleetInputError(
                    f"range {text!r} covers more than {max_addresses} addresses", field="range", value=text
                )
    return tuple(out)


def _expand(item: str, max_addresses: int) -> Iterable[str]:
    try:
        if "/" in item:
            net = ipaddress.IPv4Network(item, strict=False)
            if net.num_addresses > max_addresses + 2:
                raise FleetInputError(
                    f"{item!r} covers more than {max_addresses} addresses", field="range", value=item
                )
            return [str(a) for a in (net.hosts() if net.prefixlen < 31 else net)]
        if "-" in item:
            first_text, _, last_text = item.partition("-")
            first = ipaddress.IPv4Address(first_text.strip())
            last_text = last_text.strip()
            if last_text.isdigit():  # short form 10.0.0.1-20: the last octet only
                last = ipaddress.IPv4Address(f"{first_text.strip().rsplit('.', 1)[0]}.{last_text}")
            else:
                last = ipaddress.IPv4Address(last_text)
            if int(last) < int(first):
                raise FleetInputError(f"range {item!r} ends before it starts", field="range", value=item)
            if int(last) - int(first) + 1 > max_addresses:
                raise FleetInputError(
                    f"{item!r} covers more than {max_addresses} addresses", field="range", value=item
                )
            return [str(ipaddress.IPv4Address(n)) for n in range(int(first), int(last) + 1)]
        return [str(ipaddress.IPv4Address(item))]
    except ipaddress.AddressValueError as exc:
        raise FleetInputError(
            f"{item!r} is not an IPv4 address, range or CIDR block ({exc})", field="range", value=item
        ) from exc
    except ValueError as exc:
        raise FleetInputError(
            f"{item!r} is not an IPv4 address, range or CIDR block ({exc})", field="range", value=item
        ) from exc


def classify_firmware(reply: dict[str, Any]) -> Firmware | None:
    """Which firmware a ``version`` reply (or error reply) comes from, by its telltale strings."""
    text = repr(reply).upper()
    if "LUXMINER" in text:
        return Firmware.LUXOS
    if "BTMINER" in text or "BITMICRO" in text or "WHATSMINER" in text:
        return Firmware.WHATSMINER
    if "BMMINER" in text or "ANTMINER" in text:
        return Firmware.STOCK
    return None


async def probe(endpoint: Endpoint, *, timeout_s: float) -> Firmware:
    """The firmware answering at ``endpoint``: API 4028 ``version`` first, then API 3.x on 4433.

    Raises :class:`DeviceUnreachable` / :class:`DeviceTimeout` when nothing answers and
    :class:`DeviceReplyInvalid` when something answers that is no miner hashwatt speaks.
    """
    host = endpoint.host
    try:
        reply = await cgminer_request(host, endpoint.api_port, "version", timeout_s=timeout_s)
    except DeviceUnreachable as api_exc:
        if isinstance(api_exc, DeviceTimeout):
            raise
        try:
            info = await v3_request(host, endpoint.v3_port, {"cmd": "get.device.info"}, timeout_s=timeout_s)
        except DeviceError:
            raise api_exc from None
        if isinstance(info.get("msg"), dict) and "miner" in info["msg"]:
            return Firmware.WHATSMINER_V3
        raise DeviceReplyInvalid(
            "port 4433 answers, but not as Whatsminer API 3.x",
            address=endpoint.address,
            command="get.device.info",
        ) from None
    firmware = classify_firmware(reply)
    if firmware is None and not status_ok(reply):
        # Whatsminer 2.x may refuse "version" anonymously; its own get_version names it.
        version = await cgminer_request(host, endpoint.api_port, "get_version", timeout_s=timeout_s)
        msg = version.get("Msg")
        if status_ok(version) and isinstance(msg, dict) and "fw_ver" in msg:
            firmware = Firmware.WHATSMINER
    if firmware is None:
        raise DeviceReplyInvalid(
            "answers on the API port, but as no firmware hashwatt speaks",
            address=endpoint.address,
            command="version",
        )
    if firmware is Firmware.WHATSMINER and await _whatsminer_v3(endpoint, timeout_s):
        return Firmware.WHATSMINER_V3
    return firmware


async def _whatsminer_v3(endpoint: Endpoint, timeout_s: float) -> bool:
    """True for Whatsminer firmware new enough for API 3.x that also answers it on ``v3_port``."""
    try:
        version = await cgminer_request(endpoint.host, endpoint.api_port, "get_version", timeout_s=timeout_s)
    except DeviceError:
        return False
    msg = version.get("Msg")
    fw = str(msg.get("fw_ver", "")) if isinstance(msg, dict) else ""
    digits = fw.lstrip("'")[:8]
    if not (digits.isdigit() and int(digits) >= _WHATSMINER_V3_FROM):
        return False
    try:
        info = await v3_request(
            endpoint.host, endpoint.v3_port, {"cmd": "get.device.info"}, timeout_s=timeout_s
        )
    except DeviceError:
        return False
    return isinstance(info.get("msg"), dict)


@lru_cache(maxsize=256)
def catalog_model_for(model: str) -> MinerModel | None:
    """The catalog model a firmware model string names ("Whatsminer M60S_VK40" -> M60S), if any."""
    from hashwatt.data.hardware import find_miner  # the catalog (pandas) loads only when needed

    name = model.replace("_", " ").strip()
    words = name.split()
    candidates = [name]
    if len(words) > 2:  # "Whatsminer M60S VK40": the catalog names the model, not the bin code
        candidates.append(" ".join(words[:2]))
    for cand in candidates:
        try:
            return find_miner(cand)
        except InputError:
            continue
    return None


def catalog_efficiency_j_per_th(model: str) -> float | None:
    """The rated efficiency [J/TH] of the catalog model a firmware model string names, if any."""
    found = catalog_model_for(model)
    return None if found is None else found.efficiency_j_per_th


@dataclass(frozen=True, slots=True)
class Found:
    """A device that answered and identified itself."""

    endpoint: Endpoint
    identity: DeviceIdentity
    factory_credentials: bool
    latency_ms: float


@dataclass(frozen=True, slots=True)
class ScanResult:
    found: tuple[Found, ...]
    failed: tuple[tuple[str, PollOutcome, str], ...]  # (address, outcome, one-line error)
    duration_s: float
    addresses: int
    devices: tuple[Device, ...] = field(default=(), repr=False)  # ready adapters for the found ones

    @property
    def dead(self) -> tuple[str, ...]:
        return tuple(a for a, o, _ in self.failed if o in (PollOutcome.UNREACHABLE, PollOutcome.TIMEOUT))


def outcome_of(exc: DeviceError) -> PollOutcome:
    """The poll outcome a device error stands for."""
    if isinstance(exc, DeviceTimeout):
        return PollOutcome.TIMEOUT
    if isinstance(exc, DeviceUnreachable):
        return PollOutcome.UNREACHABLE
    if isinstance(exc, DeviceAuthFailed):
        return PollOutcome.AUTH_FAILED
    return PollOutcome.BAD_REPLY


async def identify_at(
    endpoint: Endpoint,
    *,
    timeout_s: float,
    credentials: CredentialStore | None = None,
    site: str | None = None,
) -> Device:
    """Probe, then identify: a ready adapter whose ``identity`` is set."""
    firmware = await probe(endpoint, timeout_s=timeout_s)
    store = credentials or CredentialStore()
    resolved = store.resolve(firmware, host=endpoint.host, address=endpoint.address, site=site)
    device = adapter_for(firmware, endpoint, credentials=resolved, timeout_s=timeout_s)
    identity = await device.identify()
    if resolved.factory or store.by_model:
        by_model = store.resolve(
            firmware, host=endpoint.host, address=endpoint.address, site=site, model=identity.model
        )
        device.resolved = by_model
    await _attach_catalog(device)
    return device


async def _attach_catalog(device: Device) -> None:
    """Set the catalog model and rated efficiency (stock power estimates) from the identity."""
    if device.identity is None:
        return
    # The first lookup loads the catalog (pandas): off the event loop, so other probes go on.
    catalog = await asyncio.to_thread(catalog_model_for, device.identity.model)
    if catalog is not None:
        device.efficiency_j_per_th = catalog.efficiency_j_per_th
        device.identity = dataclasses.replace(device.identity, catalog_model=catalog.model)


async def reidentify(
    device: Device,
    *,
    timeout_s: float,
    credentials: CredentialStore | None = None,
    site: str | None = None,
) -> tuple[Device, IdentityChange | None]:
    """Identify the device at ``device``'s endpoint again: the adapter to use now, and what changed.

    The same firmware keeps the device's credentials; another firmware gets the store's (or
    its factory default). A new adapter is returned whenever the firmware changed.
    """
    firmware = await probe(device.endpoint, timeout_s=timeout_s)
    endpoint = device.endpoint
    if firmware is device.firmware and credentials is None:
        resolved = device.resolved
    else:
        resolved = (credentials or CredentialStore()).resolve(
            firmware, host=endpoint.host, address=endpoint.address, site=site
        )
    fresh = adapter_for(firmware, endpoint, credentials=resolved, timeout_s=device.timeout_s)
    await fresh.identify()
    await _attach_catalog(fresh)
    assert fresh.identity is not None  # identify() sets it
    change = None if device.identity is None else compare_identity(device.identity, fresh.identity)
    return fresh, change


async def scan(
    addresses: Sequence[str],
    *,
    endpoint_for: Callable[[str], Endpoint] = Endpoint,
    concurrency: int = 1024,
    timeout_s: float = 2.0,
    deadline_s: float | None = None,
    credentials: CredentialStore | None = None,
    site: str | None = None,
    on_progress: Callable[[int, int], Awaitable[None] | None] | None = None,
) -> ScanResult:
    """Probe and identify every address with ``concurrency`` workers.

    ``endpoint_for`` maps an address to its ports (port forwards, offset demo ports);
    ``deadline_s`` bounds one address in all (default: three request timeouts).
    """
    if concurrency < 1:
        raise FleetInputError("scan concurrency must be at least 1")
    per_address = deadline_s if deadline_s is not None else 3 * timeout_s
    queue: asyncio.Queue[str] = asyncio.Queue()
    for addr in addresses:
        queue.put_nowait(addr)
    found: list[Found] = []
    devices: list[Device] = []
    failed: list[tuple[str, PollOutcome, str]] = []
    done = 0
    start = time.monotonic()

    async def worker() -> None:
        nonlocal done
        while True:
            try:
                addr = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            endpoint = endpoint_for(addr)
            t0 = time.monotonic()
            try:
                async with asyncio.timeout(per_address):
                    device = await identify_at(
                        endpoint, timeout_s=timeout_s, credentials=credentials, site=site
                    )
            except TimeoutError:
                failed.append(
                    (addr, PollOutcome.TIMEOUT, f"{endpoint.address}: no identity within {per_address:g} s")
                )
            except DeviceError as exc:
                failed.append((addr, outcome_of(exc), str(exc)))
            else:
                assert device.identity is not None  # identify_at always sets it
                found.append(
                    Found(
                        endpoint, device.identity, device.factory_credentials, (time.monotonic() - t0) * 1e3
                    )
                )
                devices.append(device)
            done += 1
            if on_progress is not None:
                maybe = on_progress(done, len(addresses))
                if maybe is not None:
                    await maybe

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, max(1, len(addresses))))]
    await asyncio.gather(*workers)
    order = {a: i for i, a in enumerate(addresses)}
    pairs = sorted(zip(found, devices, strict=True), key=lambda p: order.get(p[0].endpoint.host, 0))
    return ScanResult(
        found=tuple(f for f, _ in pairs),
        failed=tuple(sorted(failed, key=lambda f: order.get(f[0], 0))),
        duration_s=time.monotonic() - start,
        addresses=len(addresses),
        devices=tuple(d for _, d in pairs),
    )


class IdentityChangeKind(enum.StrEnum):
    REPLACED = "replaced"  # another machine at the same address (new serial)
    FIRMWARE_SWAP = "firmware_swap"  # same machine, other firmware (e.g. stock -> LuxOS)
    FIRMWARE_UPDATE = "firmware_update"  # same machine and firmware, new version


@dataclass(frozen=True, slots=True)
class IdentityChange:
    kind: IdentityChangeKind
    before: DeviceIdentity
    after: DeviceIdentity


def compare_identity(before: DeviceIdentity, after: DeviceIdentity) -> IdentityChange | None:
    """What changed at an address between two identifications, if anything that matters.

    A different serial (or, where a firmware hides the serial, a different MAC) is another
    machine; the same machine under another firmware is a swap.
    """
    same_serial = before.serial == after.serial if before.serial and after.serial else None
    same_mac = before.mac.lower() == after.mac.lower() if before.mac and after.mac else None
    if same_serial is False or (same_serial is None and same_mac is False):
        return IdentityChange(IdentityChangeKind.REPLACED, before, after)
    if before.firmware is not after.firmware:
        return IdentityChange(IdentityChangeKind.FIRMWARE_SWAP, before, after)
    if before.firmware_version != after.firmware_version:
        return IdentityChange(IdentityChangeKind.FIRMWARE_UPDATE, before, after)
    return None

"""Poll results as the poller hands them to the store, built from a few numbers."""

from __future__ import annotations

import datetime as dt

from hashwatt.fleet import (
    BoardReading,
    DeviceIdentity,
    DeviceState,
    Endpoint,
    Firmware,
    PollOutcome,
    PollResult,
    PoolReading,
    Telemetry,
)

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def ep(i: int) -> Endpoint:
    return Endpoint("127.0.0.1", api_port=14028 + i, http_port=18080 + i, v3_port=14433 + i)


def identity(serial: str = "SN1", firmware: Firmware = Firmware.LUXOS) -> DeviceIdentity:
    return DeviceIdentity(
        make="Antminer",
        model="Antminer S19 Pro",
        firmware=firmware,
        firmware_version="2024.1",
        serial=serial,
        mac="00:11:22:33:44:55",
        catalog_model="Antminer S19 Pro",
    )


def telemetry(
    time_utc: dt.datetime,
    *,
    hashrate_ths: float = 110.0,
    expected_ths: float = 110.0,
    power_w: float | None = 3250.0,
    estimated: bool = False,
    chip_c: float = 70.0,
    fans: tuple[int, ...] = (5400, 5500, 5300, 5600),
    boards: int = 3,
    accepted: int = 1000,
    rejected: int = 2,
    uptime_s: int = 86_400,
    pool_status: str = "alive",
    state: DeviceState = DeviceState.MINING,
) -> Telemetry:
    per_board = hashrate_ths / max(boards, 1)
    return Telemetry(
        time_utc=time_utc,
        state=state,
        hashrate_ths=hashrate_ths,
        expected_hashrate_ths=expected_ths,
        power_w=power_w,
        power_estimated=estimated,
        temp_chip_max_c=chip_c,
        temp_board_max_c=chip_c - 10,
        temp_inlet_c=25.0,
        fans_rpm=fans,
        boards=tuple(
            BoardReading(i, per_board, expected_ths / 3, 114, 114, chip_c - i, chip_c - 10 - i)
            for i in range(boards)
        ),
        pools=(
            PoolReading(
                0, "stratum+tcp://pool.example:3333", "acct.w1", pool_status, True, accepted, rejected, 0
            ),
        ),
        accepted=accepted,
        rejected=rejected,
        stale=0,
        hardware_errors=5,
        uptime_s=uptime_s,
    )


def ok(i: int, time_utc: dt.datetime, **kw: object) -> PollResult:
    return PollResult(ep(i), time_utc, PollOutcome.OK, telemetry(time_utc, **kw), latency_ms=12.0)  # type: ignore[arg-type]


def failed(i: int, time_utc: dt.datetime, outcome: PollOutcome = PollOutcome.UNREACHABLE) -> PollResult:
    return PollResult(ep(i), time_utc, outcome, None, latency_ms=3000.0, error="connection refused")


#: Keys every row of `fleet list --json` and `fleet show --json` carries (issue #12).
LIST_KEYS = {
    "address",
    "make",
    "model",
    "firmware",
    "serial",
    "state",
    "hashrate_ths",
    "expected_hashrate_ths",
    "power_w",
    "power_estimated",
    "temperatures",
    "fans_rpm",
    "boards",
    "pools",
    "last_seen_utc",
}

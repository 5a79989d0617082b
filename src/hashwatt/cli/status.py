"""``hashwatt status`` and ``hashwatt demo``: the network report on embedded data."""

from __future__ import annotations

import typer

from hashwatt.cli._output import (
    JSON_OPTION,
    console,
    fmt_btc_from_sat,
    fmt_int,
    fmt_si,
    key_value_table,
    print_json,
)
from hashwatt.network import NetworkStatus, network_status


def _status_rows(status: NetworkStatus) -> list[tuple[str, str]]:
    return [
        ("latest retarget height", fmt_int(status.height)),
        ("block hash", status.block_hash),
        ("date (UTC)", status.time_utc.strftime("%Y-%m-%d %H:%M:%S")),
        ("bits", status.bits_hex),
        ("difficulty", f"{status.difficulty:,.0f} ({status.difficulty / 1e12:.2f} T)"),
        ("implied hashrate @ 600 s", fmt_si(status.hashrate_at_target_interval_hs, "H/s")),
        (
            "hashrate, previous period",
            f"{fmt_si(status.hashrate_previous_period_hs, 'H/s')} "
            f"(mean block {status.previous_period_mean_interval_s:.1f} s)",
        ),
        ("block subsidy", fmt_btc_from_sat(status.subsidy_sat)),
        ("next retarget height", fmt_int(status.next_retarget_height)),
        (
            "next halving",
            f"height {fmt_int(status.next_halving_height)} "
            f"({fmt_int(status.blocks_to_halving)} blocks, ~{status.next_halving_estimate_utc:%Y-%m-%d} at 600 s)",
        ),
        (
            "supply issued",
            f"{fmt_btc_from_sat(status.supply_issued_sat)} of {fmt_btc_from_sat(status.supply_total_sat)} "
            f"({status.supply_issued_pct:.3f} %)",
        ),
    ]


def status(json_output: JSON_OPTION = False) -> None:
    """Network status at the latest retarget in the shipped chain data."""
    report = network_status()
    if json_output:
        print_json(report)
        return
    console.print(key_value_table("Bitcoin network status (embedded chain data)", _status_rows(report)))


def demo(json_output: JSON_OPTION = False) -> None:
    """The main job on embedded defaults (what ``make run`` shows)."""
    status(json_output=json_output)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("demo")(demo)

"""``hashwatt status`` and ``hashwatt demo``: the network report on embedded data."""

from __future__ import annotations

from typing import Annotated

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
        (
            "chain tip (shipped data)",
            f"{fmt_int(status.tip_height)} at {status.tip_time_utc:%Y-%m-%d %H:%M} UTC",
        ),
        (
            "latest retarget",
            f"{fmt_int(status.retarget_height)} at {status.retarget_time_utc:%Y-%m-%d %H:%M} UTC "
            f"({status.difficulty_change_pct:+.2f} %)",
        ),
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
            f"height {fmt_int(status.next_halving_height)} ({fmt_int(status.blocks_to_halving)} blocks): "
            f"~{status.next_halving_estimate_utc:%Y-%m-%d} at 600 s, "
            f"~{status.next_halving_estimate_observed_utc:%Y-%m-%d} at the observed pace",
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


def demo(
    mine_blocks: Annotated[int, typer.Option("--blocks", help="Blocks to mine in the demo pool.", min=0)] = 3,
) -> None:
    """The main job on embedded defaults (what ``make run`` shows): a tour in three parts.

    1. the network now (embedded chain data), 2. which machines pay at 6 c/kWh (hardware
    catalog and daily history), 3. real SHA-256d mining against a demo Stratum pool on
    loopback, every found block checked by ``hashwatt.chain``. Each part is a command of its
    own with ``--json``: ``status``, ``rank``, ``mine --demo``.
    """
    from hashwatt.cli.economics import rank_cmd
    from hashwatt.cli.mine import mine

    console.rule("[bold]1. The network (hashwatt status)")
    status(json_output=False)
    console.rule("[bold]2. Which machines pay at $0.06/kWh (hashwatt rank --power-price 0.06)")
    rank_cmd(power_price=0.06, top=8)
    if mine_blocks:
        console.rule(
            f"[bold]3. Mining for real against a demo pool (hashwatt mine --demo --blocks {mine_blocks})"
        )
        mine(demo=True, blocks=mine_blocks)
    console.rule("[bold]More")
    console.print(
        "hashwatt --help · docs/ (CHAIN, POW, STRATUM, ECONOMICS, ENERGY, NETWORK, PERFORMANCE) · "
        "try: hashwatt profit 's21 pro' --power-price 0.05, hashwatt network pools, "
        "hashwatt dispatch --market ERCOT --year 2021 --model s21 --count 1000 --hashprice-history"
    )


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("demo")(demo)

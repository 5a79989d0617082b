"""``hashwatt profit | rank | forecast | backtest | hashprice | plan | best``: mining economics.

The default network snapshot is the last dated day of the shipped history; every command
says which date it used. The edge parses flags and prints: the arithmetic lives in
:mod:`hashwatt.economics`, the charts in :mod:`hashwatt.economics.plot`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from hashwatt.cli import coins as coins_cli
from hashwatt.cli._output import (
    JSON_OPTION,
    WIDE_OPTION,
    Column,
    console,
    err_console,
    fmt_usd,
    key_value_table,
    output_path,
    print_fitted_table,
    print_json,
    print_plain,
    records_table,
    save_figure,
    write_csv,
)
from hashwatt.data import MinerModel, UnknownMinerError, find_miner, hardware_catalog, lookup_miner, utc_today
from hashwatt.data.live import MempoolSpaceSource, live_snapshot
from hashwatt.economics import (
    DEFAULT_GROWTH_DAMPING,
    Capex,
    CostModel,
    DifficultyGrowthFit,
    MonteCarloConfig,
    MonteCarloResult,
    NetworkOverrides,
    NetworkState,
    PoolScheme,
    ProfitResult,
    Scenario,
    apply_overrides,
    backtest,
    best_for_budget,
    fit_difficulty_growth,
    fleet_profit,
    fleet_sites,
    halving_schedule,
    hashprice_history,
    load_fleet,
    monte_carlo,
    pool_payout,
    profit,
    profit_heatmap,
    rank_catalog,
    tornado,
)
from hashwatt.economics._inputs import cost_model, parse_fraction, read_unit_prices
from hashwatt.economics._reports import (
    hashprice_yearly,
    heatmap_price_axes,
    simple_payback_days,
    year_end_rows,
)
from hashwatt.economics.errors import EconomicsInputError

COUNT = Annotated[int, typer.Option("--count", "-n", min=1, help="Number of machines.")]
POWER_PRICE = Annotated[float, typer.Option("--power-price", help="Electricity price [USD/kWh].")]
HOSTING = Annotated[float, typer.Option("--hosting", help="Hosting fee [USD/kW/month] on nameplate kW.")]
ALL_IN = Annotated[
    float | None,
    typer.Option("--all-in", help="All-in hosting rate [USD/kWh]; replaces power price and PUE."),
]
PUE = Annotated[float, typer.Option("--pue", help="Power usage effectiveness (cooling overhead), >= 1.")]
UPTIME = Annotated[float, typer.Option("--uptime", help="Fraction of the time the machine hashes (0-1].")]
POOL_FEE = Annotated[str, typer.Option("--pool-fee", help="Pool fee, e.g. 2% or 0.02.")]
SCHEME = Annotated[PoolScheme, typer.Option("--scheme", help="Pool payout scheme.", case_sensitive=False)]
DATE = Annotated[
    str | None,
    typer.Option("--date", help="Network snapshot day (YYYY-MM-DD); default: last day of the data."),
]
CATALOG = Annotated[
    list[Path] | None, typer.Option("--catalog", help="Extra catalog file (CSV or TOML), repeatable.")
]
PLOT = Annotated[Path | None, output_path("--plot", "Write a chart here (PNG; .svg or .pdf by suffix).")]
CSV = Annotated[Path | None, output_path("--csv", "Write the daily table as CSV here.")]


MARKET = Annotated[
    str | None,
    typer.Option(
        "--market",
        help="Price electricity with the shipped hourly market prices instead: ERCOT, CAISO, PJM or NYISO "
        "(2020-2024; other days reuse the same day of year), optionally MARKET:YEAR.",
    ),
]
TOU = Annotated[
    str | None,
    typer.Option(
        "--tou", help="Time-of-use periods over --power-price, e.g. '14-20:0.20,20-22:0.10' [h-h:USD/kWh]."
    ),
]


def _costs(
    power_price: float,
    hosting: float,
    all_in: float | None,
    pue: float,
    uptime: float,
    pool_fee: str,
    scheme: PoolScheme,
    market: str | None = None,
    tou: str | None = None,
) -> CostModel:
    return cost_model(
        power_price_usd_per_kwh=power_price,
        hosting_usd_per_kw_month=hosting,
        all_in_usd_per_kwh=all_in,
        pue=pue,
        uptime=uptime,
        pool_fee=pool_fee,
        pool_scheme=scheme,
        market=market,
        tou=tou,
    )


DIFFICULTY = Annotated[
    str | None,
    typer.Option(
        "--difficulty",
        help="Network difficulty, raw as 'hashwatt chain target' prints it or with a T/P suffix (135.6T).",
    ),
]
HASHRATE_EHS = Annotated[
    float | None,
    typer.Option("--hashrate-ehs", help="Network hashrate [EH/s]; sets the difficulty at 600-s blocks."),
]
BTC_PRICE = Annotated[
    float | None, typer.Option("--btc-price", help="BTC price [USD]; replaces the shipped one.")
]
FEES_PER_BLOCK = Annotated[
    float | None,
    typer.Option("--fees-btc-per-block", help="Mean fees per block [BTC]; replaces the shipped."),
]
FEE_SHARE = Annotated[
    str | None,
    typer.Option("--fee-share", help="Fees as a share of the block reward, e.g. 2% (instead of fees)."),
]
HASHPRICE = Annotated[
    float | None,
    typer.Option(
        "--hashprice",
        help="Hashprice [USD/PH/day]; solves the BTC price (or, with --btc-price, the difficulty).",
    ),
]
NETWORK_FILE = Annotated[
    Path | None,
    typer.Option(
        "--network",
        exists=True,
        dir_okay=False,
        readable=True,
        help="TOML or JSON file with difficulty, hashrate_ehs, btc_price_usd, fees_btc_per_block, fee_share, "
        "hashprice_usd_per_ph_day (flags win).",
    ),
]


def _network(
    date: str | None,
    *,
    difficulty: str | None = None,
    hashrate_ehs: float | None = None,
    btc_price: float | None = None,
    fees_btc_per_block: float | None = None,
    fee_share: str | None = None,
    hashprice: float | None = None,
    network_file: Path | None = None,
    base: NetworkState | None = None,
) -> NetworkState:
    """The network of a report: ``base`` (live) or the shipped as-of (or ``--date``), then overrides."""
    net = base if base is not None else NetworkState.latest() if date is None else NetworkState.on(date)
    flags = {
        "difficulty": difficulty,
        "hashrate_ehs": hashrate_ehs,
        "btc_price_usd": btc_price,
        "fees_btc_per_block": fees_btc_per_block,
        "fee_share": None if fee_share is None else parse_fraction(fee_share),
        "hashprice_usd_per_ph_day": hashprice,
    }
    given = NetworkOverrides.model_validate_or_raise(
        {k: v for k, v in flags.items() if v is not None}, source="options"
    )
    overrides = given if network_file is None else NetworkOverrides.from_file(network_file).merged(given)
    return net if overrides.empty else apply_overrides(net, overrides)


_OVERRIDE_OPTIONS = (
    "difficulty",
    "hashrate_ehs",
    "btc_price",
    "fees_btc_per_block",
    "fee_share",
    "hashprice",
    "network_file",
)


def _overrides_given(options: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The network-override options of a command (its ``locals()``), for :func:`_network`."""
    return {k: options[k] for k in _OVERRIDE_OPTIONS if k in options and k not in skip}


def _as_of_json(net: NetworkState) -> dict[str, object] | None:
    return None if net.as_of is None else net.as_of.to_json(utc_today())


def _as_of_row(net: NetworkState) -> tuple[str, str]:
    """The report's "as of" row; warns once on stderr when an input is older than 30 days."""
    if net.as_of is None:
        return ("as of", "given values")
    today = utc_today()
    warning = net.as_of.warning(today)
    if warning is not None:
        err_console.print(f"warning: {escape(warning)}", highlight=False, soft_wrap=True)
    return ("as of", net.as_of.summary(today))


def _miner(
    model: str, catalog: list[Path] | None, hashrate_ths: float | None, power_w: float | None
) -> tuple[MinerModel, str | None]:
    """The machine, and a note to print once the report succeeds (the bin picked by default)."""
    if hashrate_ths is not None or power_w is not None:
        if hashrate_ths is None or power_w is None:
            raise EconomicsInputError("a custom machine needs both --hashrate-ths and --power-w")
        return MinerModel.from_specs(model, hashrate_ths=hashrate_ths, power_w=power_w), None
    cat = hardware_catalog(catalog or [])
    try:
        found = lookup_miner(model, catalog=cat)
    except UnknownMinerError as exc:
        raise coins_cli.other_algorithm_hint(model) or exc from None
    return found.miner, found.note


def _say_note(note: str | None) -> None:
    if note is not None:
        err_console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


def _usd(x: float) -> str:
    return fmt_usd(x, cents=True)


def _snapshot_note(net: NetworkState, live: bool = False) -> str:
    day = net.date.isoformat() if net.date else "given values"
    if live:
        return f"live network {day} (height {net.height:,})"
    return f"network {day} (height {net.height:,}; the shipped data's newest state unless --date)"


class PriceModel(enum.StrEnum):
    """BTC price paths of ``forecast``: geometric Brownian motion, or bootstrapped history."""

    GBM = "gbm"
    BOOTSTRAP = "bootstrap"


# --------------------------------------------------------------------------- profit


def profit_cmd(
    model: Annotated[
        str, typer.Argument(help="Machine model, fuzzy (e.g. 's21 pro'), or a name for --hashrate-ths.")
    ],
    count: COUNT = 1,
    power_price: POWER_PRICE = 0.05,
    hosting: HOSTING = 0.0,
    all_in: ALL_IN = None,
    pue: PUE = 1.0,
    uptime: UPTIME = 1.0,
    pool_fee: POOL_FEE = "0%",
    scheme: SCHEME = PoolScheme.FPPS,
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    fee_share: FEE_SHARE = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    machine_price: Annotated[
        float | None, typer.Option("--machine-price", help="Price per machine [USD] for a simple payback.")
    ] = None,
    hashrate_ths: Annotated[
        float | None, typer.Option("--hashrate-ths", help="Custom machine hashrate [TH/s].")
    ] = None,
    power_w: Annotated[float | None, typer.Option("--power-w", help="Custom machine power [W].")] = None,
    pool_hashrate_ehs: Annotated[
        float | None,
        typer.Option(
            "--pool-hashrate-ehs", min=1e-9, help="Your pool's hashrate [EH/s]: PPLNS luck for a small pool."
        ),
    ] = None,
    market: MARKET = None,
    tou: TOU = None,
    heatmap: Annotated[
        Path | None,
        output_path(
            "--plot",
            "Write a profit heatmap (power price x BTC price) here; --heatmap is an alias.",
            "--heatmap",
        ),
    ] = None,
    catalog: CATALOG = None,
    live_url: Annotated[
        str | None,
        typer.Option(
            "--live-url",
            help="Use a mempool.space-style API (e.g. https://mempool.space) instead of the snapshot.",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Disk cache for --live-url responses.")
    ] = None,
    coin: coins_cli.COIN = None,
    rank: coins_cli.RANK = False,
    coin_data: coins_cli.COIN_DATA = None,
    coin_difficulty: coins_cli.COIN_DIFFICULTY = None,
    coin_price: coins_cli.COIN_PRICE = None,
    coin_reward: coins_cli.COIN_REWARD = None,
    coin_live: coins_cli.COIN_LIVE = None,
    hashrate: coins_cli.HASHRATE = None,
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Daily revenue, costs, profit and break-evens of MODEL at today's (snapshot) network.

    --coin prices another coin or a merged set (ltc+doge); --rank lists what MODEL should mine.
    """
    costs = _costs(power_price, hosting, all_in, pue, uptime, pool_fee, scheme, market, tou)
    if coins_cli.wants_coins(coin, rank):
        coins_cli.run(locals())
        return
    miner, note = _miner(model, catalog, hashrate_ths, power_w)
    base = None
    if live_url is not None:
        if date is not None:
            raise EconomicsInputError("--date and --live-url exclude each other")
        cache = cache_dir if cache_dir is not None else Path.home() / ".cache" / "hashwatt" / "live"
        base = NetworkState.from_snapshot(live_snapshot(MempoolSpaceSource(live_url, cache_dir=cache)))
    net = _network(date, base=base, **_overrides_given(locals()))
    capex_model = Capex(machine_usd=machine_price) if machine_price is not None else None
    r = profit(miner, count=count, costs=costs, network=net, capex=capex_model)
    _say_note(note)
    _warn_profit_inputs(r, costs)
    luck = _luck(r, costs, net, pool_hashrate_ehs)
    halving = halving_schedule(net.height, net.date or dt.date.today(), count=1)[0]
    if heatmap is not None:
        _save_heatmap(miner, count, costs, net, heatmap)
    payback = None
    if machine_price is not None:
        capex = Capex(machine_usd=machine_price).total_usd(count=count, power_w=miner.power_w)
        payback = simple_payback_days(capex, r.profit_usd_per_day)
    if json_output:
        print_json(
            {
                **dataclasses.asdict(r),
                "snapshot_date": net.date,
                "as_of": _as_of_json(net),
                "snapshot_source": "live" if live_url else "embedded",
                "height": net.height,
                "fees_btc_per_block": net.fees_btc_per_block,
                "subsidy_btc_per_block": net.subsidy_btc_per_block,
                "next_halving_height": halving.height,
                "next_halving_date_600s": halving.date,
                "simple_payback_days": payback,
                "luck": luck,
                "source": miner.source,
            }
        )
        return
    rows = [
        ("machine", f"{count} x {miner.model} ({miner.maker})"),
        (
            "specs",
            f"{r.hashrate_ths:,.1f} TH/s, {r.power_w / 1000:,.2f} kW, {r.efficiency_j_per_th:.2f} J/TH",
        ),
        ("snapshot", _snapshot_note(net, live=live_url is not None)),
        _as_of_row(net),
        ("difficulty / price", f"{net.difficulty / 1e12:,.2f} T / {_usd(net.price_usd)}"),
        (
            "reward per block",
            f"{net.subsidy_btc_per_block:g} BTC subsidy + {net.fees_btc_per_block:.4f} BTC fees",
        ),
        ("hashprice", f"{_usd(r.hashprice_usd_per_ph_day)} /PH/day ({r.hashprice_btc_per_ph_day:.6f} BTC)"),
        ("share of network hashrate", f"{r.network_share:.3g} ({r.network_share * 100:.3g} %)"),
        ("pool", _pool_note(r)),
        ("revenue", f"{r.revenue_btc_per_day:.8f} BTC/day = {_usd(r.revenue_usd_per_day)}/day"),
        ("energy", f"{r.energy_kwh_per_day:,.1f} kWh/day = {_usd(r.energy_cost_usd_per_day)}/day"),
        ("other costs", f"{_usd(r.fixed_cost_usd_per_day)}/day"),
        ("profit", f"{_usd(r.profit_usd_per_day)}/day ({_usd(r.profit_usd_per_day * 30.4375)}/month)"),
        ("break-even power price", f"{r.break_even_power_price_usd_per_kwh * 100:.2f} c/kWh"),
        ("break-even hashprice", f"{_usd(r.break_even_hashprice_usd_per_ph_day)} /PH/day"),
        ("cost per BTC (break-even BTC price)", _usd(r.cost_per_btc_usd)),
        ("shutdown BTC price (covers power only)", _usd(r.shutdown_price_usd)),
        ("next halving (600 s blocks)", f"height {halving.height:,} ~ {halving.date}"),
    ]
    rows.extend(_luck_rows(luck))
    if machine_price is not None:
        rows.append(("simple payback", f"{payback:,.0f} days" if payback else "never at today's numbers"))
        rows.append(("all-in cost per BTC (3-year depreciation)", _usd(r.all_in_cost_per_btc_usd)))
    rows.append(("spec source", miner.source))
    if market is not None or tou is not None:
        price_kwh = costs.mean_energy_price_usd_per_kwh() * 100
        rows.append(("mean energy price", f"{price_kwh:.2f} c/kWh ({market or 'time-of-use'})"))
    if heatmap is not None:
        rows.append(("heatmap", str(heatmap)))
    console.print(key_value_table(f"Profitability of {miner.model}", rows))


def _pool_note(r: ProfitResult) -> str:
    if r.pool_scheme == PoolScheme.SOLO.value:
        return "solo (own node): no pool fee, the whole block when found"
    return f"{r.pool_scheme.upper()}, fee {r.pool_fee * 100:.2f} %"


def _warn_profit_inputs(r: ProfitResult, costs: CostModel) -> None:
    """One ``warning:`` line per input that makes the answer suspect (refusals raise earlier)."""
    if r.network_share > 0.5:
        err_console.print(
            f"warning: this fleet is {r.network_share:.0%} of the network's hashrate: it would move "
            "the difficulty and the fee market, which this model holds fixed",
            highlight=False,
            soft_wrap=True,
        )
    if costs.pool_scheme is PoolScheme.SOLO and costs.pool_fee > 0:
        err_console.print(
            f"warning: --scheme solo pays no pool fee; --pool-fee {costs.pool_fee:.2%} ignored",
            highlight=False,
            soft_wrap=True,
        )


def _luck(
    r: ProfitResult, costs: CostModel, net: NetworkState, pool_hashrate_ehs: float | None
) -> list[dict[str, float]] | None:
    """Solo (or small-pool PPLNS) variance over 30 and 365 days; None for smooth schemes."""
    scheme = costs.pool_scheme
    if pool_hashrate_ehs is not None and scheme is not PoolScheme.PPLNS:
        raise EconomicsInputError("--pool-hashrate-ehs applies to --scheme pplns")
    if scheme is not PoolScheme.SOLO and pool_hashrate_ehs is None:
        return None
    pool_ths = None if pool_hashrate_ehs is None else pool_hashrate_ehs * 1e6
    if pool_ths is not None and pool_ths < r.hashrate_ths:
        raise EconomicsInputError("--pool-hashrate-ehs is smaller than your own hashrate")
    finder_ths = r.hashrate_ths * costs.uptime if pool_ths is None else pool_ths
    out: list[dict[str, float]] = []
    for days in (30, 365):
        pay = pool_payout(
            scheme,
            hashrate_ths=r.hashrate_ths * costs.uptime,
            difficulty=net.difficulty,
            subsidy_btc_per_block=net.subsidy_btc_per_block,
            fees_btc_per_block=net.fees_btc_per_block,
            horizon_days=days,
            pool_fee=costs.effective_pool_fee,
            pool_hashrate_ths=pool_ths,
        )
        out.append(
            {
                "horizon_days": days,
                "expected_days_per_block": r.expected_days_per_block * r.hashrate_ths / finder_ths,
                "probability_no_block": pay.probability_zero,
                "expected_btc": pay.expected_btc,
                "p5_btc": pay.p5_btc,
                "p95_btc": pay.p95_btc,
            }
        )
    return out


def _available_from(miner: MinerModel) -> tuple[dt.date | None, str]:
    """When ``miner`` could first be bought, and how that date is known (for the warning).

    The catalog's own date first; else another bin of the same model, else the network energy
    model's assumed launch month (said so, as it is not from a cited source).
    """
    if miner.release_date is not None:
        return miner.release_date, ""
    from hashwatt.network import hardware_availability

    hw = hardware_availability()
    row = hw[hw["model"] == miner.model]
    if row.empty or pd.isna(row["available_from"].iloc[0]):
        return None, ""
    source = str(row["available_from_source"].iloc[0])
    how = {"family": " (another bin's date)", "assumed": " (an assumed launch month, not a cited date)"}
    return pd.Timestamp(row["available_from"].iloc[0]).date(), how.get(source, "")


def _power_text(costs: CostModel) -> str:
    """The electricity input of a plot title: mean price, and TOU/market when not flat."""
    kind = {"TimeOfUse": " TOU mean", "HourlyPrice": " market mean"}.get(type(costs.electricity).__name__, "")
    if costs.all_in_usd_per_kwh is not None:
        return f"all-in {costs.all_in_usd_per_kwh * 100:.2f} c/kWh"
    return f"power {costs.mean_energy_price_usd_per_kwh() * 100:.2f} c/kWh{kind}"


def _luck_rows(luck: list[dict[str, float]] | None) -> list[tuple[str, str]]:
    if not luck:
        return []
    rows = [("expected days per block (yours or the pool's)", f"{luck[0]['expected_days_per_block']:,.1f}")]
    for item in luck:
        days = int(item["horizon_days"])
        rows.append((f"P(no block in {days} days)", f"{item['probability_no_block']:.1%}"))
        rows.append(
            (
                f"BTC in {days} days: P5 / mean / P95",
                f"{item['p5_btc']:.4f} / {item['expected_btc']:.4f} / {item['p95_btc']:.4f}",
            )
        )
    return rows


def _save_heatmap(miner: MinerModel, count: int, costs: CostModel, net: NetworkState, path: Path) -> None:
    from hashwatt.economics.plot import plot_profit_heatmap

    power, btc = heatmap_price_axes(net.price_usd)
    grid = profit_heatmap(
        miner, count=count, costs=costs, network=net, power_prices_usd_per_kwh=power, btc_prices_usd=btc
    )
    now_power = costs.mean_energy_price_usd_per_kwh()
    title = (
        f"Daily profit [USD/day], {count} x {miner.model}, difficulty of {net.date}\n"
        f"pool fee {costs.effective_pool_fee:.1%}, now: {_power_text(costs)}"
    )
    save_figure(plot_profit_heatmap(grid, title=title, current=(net.price_usd, now_power)), path)


# --------------------------------------------------------------------------- rank


def rank_cmd(
    power_price: POWER_PRICE = 0.06,
    pue: PUE = 1.0,
    uptime: UPTIME = 1.0,
    pool_fee: POOL_FEE = "0%",
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    fee_share: FEE_SHARE = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to show in the table.")] = 25,
    catalog: CATALOG = None,
    csv: CSV = None,
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Rank the whole catalog by daily profit at a power price (like ASICMinerValue)."""
    costs = _costs(power_price, 0.0, None, pue, uptime, pool_fee, PoolScheme.FPPS)
    net = _network(date, **_overrides_given(locals()))
    ranked = rank_catalog(costs=costs, network=net, catalog=hardware_catalog(catalog or []))
    if csv is not None:
        write_csv(ranked, csv, index=False)
    if json_output:
        print_json(
            {
                "snapshot_date": net.date,
                "as_of": _as_of_json(net),
                "power_price_usd_per_kwh": power_price,
                "models": ranked,
            }
        )
        return
    rows = [
        (
            i + 1,
            r["model"],
            f"{r['hashrate_ths']:g}",
            f"{r['power_w']:,.0f}",
            f"{r['efficiency_j_per_th']:.1f}",
            _usd(r["revenue_usd_per_day"]),
            _usd(r["energy_cost_usd_per_day"]),
            _usd(r["profit_usd_per_day"]),
            f"{r['break_even_power_price_usd_per_kwh'] * 100:.2f}",
            _usd(r["shutdown_price_usd"]),
        )
        for i, r in enumerate(ranked.head(top).to_dict(orient="records"))
    ]
    title = f"Catalog at {power_price * 100:.2f} c/kWh; {_snapshot_note(net)}"
    cols = [
        Column("#"),
        Column("model", wrap=True, justify="left"),
        Column("TH/s", drop=3),
        Column("W", drop=7),
        Column("J/TH", drop=1),
        Column("revenue/d", drop=5),
        Column("power/d", drop=6),
        Column("profit/d"),
        Column("b/e c/kWh", drop=2),
        Column("shutdown BTC", drop=4),
    ]
    print_fitted_table(title, cols, rows, wide=wide)
    print_plain(_as_of_row(net)[1])
    if len(ranked) > top:
        print_plain(f"{len(ranked) - top} more models: --top {len(ranked)} or --csv")
    if csv is not None:
        print_plain(f"CSV written to {csv}")


# --------------------------------------------------------------------------- forecast


def _difficulty_growth(
    given: str | None, date: str | None, net: NetworkState
) -> tuple[float, DifficultyGrowthFit | None]:
    """The growth the user gave, or the damped fit on the retargets up to the network's date."""
    if given is not None:
        return parse_fraction(given), None
    fit = fit_difficulty_growth(end=None if date is None else net.date)
    return fit.damped_growth_per_year(), fit


def _growth_note(growth: float, fit: DifficultyGrowthFit | None) -> str:
    if fit is None:
        return f"{growth * 100:.1f} %/year (given)"
    return (
        f"{growth * 100:.1f} %/year = {DEFAULT_GROWTH_DAMPING:g} x the log growth of a log-linear fit, "
        f"{fit.growth_per_year * 100:.1f} ± {fit.growth_per_year_se * 100:.1f} %/year, over "
        f"{fit.points} retargets {fit.window_start} .. {fit.window_end} (one-year backtest: docs/ECONOMICS.md)"
    )


def _price_model_note(result: MonteCarloResult) -> str:
    if result.price_model == "bootstrap":
        first, last = result.bootstrap_window or ("?", "?")
        return (
            f"bootstrap of daily log-returns {first} .. {last}, blocks of "
            f"{result.bootstrap_block_days} days (no drift parameter)"
        )
    return (
        f"gbm, daily log drift {result.price_log_drift_per_day:.5f}, vol {result.price_log_vol_per_day:.4f}"
    )


def _payback_rows(result: MonteCarloResult) -> list[tuple[str, str]]:
    if result.probability_payback is None:
        return [("payback", "not applicable (no machine cost; give --machine-price)")]
    median = result.payback_days_median
    if_paid = result.payback_days_median_if_paid
    return [
        ("P(payback within horizon)", f"{result.probability_payback:.1%}"),
        (
            "median payback (all paths)",
            f"{median:,.0f} days"
            if median is not None
            else "beyond the horizon (half the paths never pay back)",
        ),
        (
            "median payback if paid (conditional)",
            f"{if_paid:,.0f} days" if if_paid is not None else "no path pays back",
        ),
    ]


def forecast_cmd(
    model: Annotated[str, typer.Argument(help="Machine model (fuzzy).")],
    years: Annotated[float, typer.Option("--years", help="Horizon [years].", min=0.01, max=50)] = 3.0,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.", min=1)] = 10_000,
    count: COUNT = 1,
    power_price: POWER_PRICE = 0.05,
    hosting: HOSTING = 0.0,
    all_in: ALL_IN = None,
    pue: PUE = 1.0,
    uptime: UPTIME = 1.0,
    pool_fee: POOL_FEE = "0%",
    scheme: SCHEME = PoolScheme.FPPS,
    market: MARKET = None,
    tou: TOU = None,
    show_tornado: Annotated[
        bool, typer.Option("--tornado", help="Also print a deterministic sensitivity (tornado) of NPV.")
    ] = False,
    price_model: Annotated[
        PriceModel, typer.Option("--price-model", help="BTC price paths.", case_sensitive=False)
    ] = PriceModel.GBM,
    difficulty_growth: Annotated[
        str | None,
        typer.Option("--difficulty-growth", help="Per year, e.g. 30% (default: fitted on the last year)."),
    ] = None,
    difficulty_vol: Annotated[str, typer.Option("--difficulty-vol", help="Annual vol of difficulty.")] = "0",
    price_drift: Annotated[
        str | None, typer.Option("--price-drift", help="Annual BTC drift, e.g. 20%.")
    ] = None,
    price_vol: Annotated[
        str | None, typer.Option("--price-vol", help="Annual BTC volatility, e.g. 60%.")
    ] = None,
    fee_share: Annotated[str | None, typer.Option("--fee-share", help="Fees as a share of reward.")] = None,
    machine_price: Annotated[float, typer.Option("--machine-price", help="Price per machine [USD].")] = 0.0,
    discount_rate: Annotated[str, typer.Option("--discount-rate", help="Annual rate for NPV.")] = "10%",
    curtail: Annotated[
        bool, typer.Option("--curtail", help="Switch off on days revenue < power cost.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    catalog: CATALOG = None,
    plot: PLOT = None,
    csv: CSV = None,
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Monte Carlo forecast of MODEL: P5/P50/P95 bands of price, hashprice and profit."""
    miner, note = _miner(model, catalog, None, None)
    costs = _costs(power_price, hosting, all_in, pue, uptime, pool_fee, scheme, market, tou)
    # forecast's --fee-share is the scenario's fee share, not a network override
    net = _network(date, **_overrides_given(locals(), skip=("fee_share",)))
    growth, fit = _difficulty_growth(difficulty_growth, date, net)
    cfg = MonteCarloConfig(
        paths=paths,
        days=round(years * 365.25),
        price_model="gbm" if price_model is PriceModel.GBM else "bootstrap",
        price_drift_per_year=parse_fraction(price_drift) if price_drift else None,
        price_vol_per_year=parse_fraction(price_vol) if price_vol else None,
        difficulty_growth_per_year=growth,
        difficulty_vol_per_year=parse_fraction(difficulty_vol),
        fee_share=parse_fraction(fee_share) if fee_share else None,
        discount_rate=parse_fraction(discount_rate),
        curtail=curtail,
        seed=seed,
    )
    capex = Capex(machine_usd=machine_price)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json_output,
    ) as bar:
        task = bar.add_task(f"{paths:,} paths", total=cfg.days)
        result = monte_carlo(
            miner,
            count=count,
            costs=costs,
            network=net,
            config=cfg,
            capex=capex,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    _say_note(note)
    bands = result.bands
    if csv is not None:
        write_csv(bands, csv)
    if plot is not None:
        from hashwatt.economics.plot import plot_forecast_bands

        title = (
            f"{count} x {miner.model}: {paths:,} paths from {net.date}; "
            f"{_power_text(costs)}, pool fee {costs.effective_pool_fee:.1%}"
        )
        save_figure(
            plot_forecast_bands(
                bands, title=title, capex_usd=capex.total_usd(count=count, power_w=miner.power_w)
            ),
            plot,
        )
    summary: dict[str, Any] = {
        "model": miner.model,
        "count": count,
        "snapshot_date": net.date,
        "as_of": _as_of_json(net),
        "paths": result.paths,
        "days": result.days,
        "difficulty_growth_per_year": growth,
        "difficulty_growth_fit": None
        if fit is None
        else {
            "method": "log-linear least squares over retargets, log growth damped",
            "fitted_growth_per_year": fit.growth_per_year,
            "damping": DEFAULT_GROWTH_DAMPING,
            "window_start": fit.window_start,
            "window_end": fit.window_end,
            "points": fit.points,
            "growth_per_year_se": fit.growth_per_year_se,
        },
        "price_model": price_model.value,
        **(
            {
                "bootstrap_block_days": result.bootstrap_block_days,
                "bootstrap_window": list(result.bootstrap_window or ()),
            }
            if result.price_model == "bootstrap"
            else {
                "price_log_drift_per_day": result.price_log_drift_per_day,
                "price_log_vol_per_day": result.price_log_vol_per_day,
            }
        ),
        "capex_usd": result.capex_usd,
        "total_profit_usd": [
            result.total_profit_usd_p5,
            result.total_profit_usd_p50,
            result.total_profit_usd_p95,
        ],
        "npv_usd": [result.npv_usd_p5, result.npv_usd_p50, result.npv_usd_p95],
        "probability_payback": result.probability_payback,
        "payback_days_median": result.payback_days_median,
        "payback_days_median_if_paid": result.payback_days_median_if_paid,
    }
    tor = None
    if show_tornado:
        scen = Scenario(days=cfg.days, difficulty_growth_per_year=growth, discount_rate=cfg.discount_rate)
        tor = tornado(miner, count=count, costs=costs, network=net, capex=capex, scenario=scen)
    yearly = year_end_rows(bands, years)
    if json_output:
        print_json(
            {
                **summary,
                "yearly": yearly.reset_index(),
                "tornado": tor,
                "plot": plot,
                "csv": csv,
            }
        )
        return
    console.print(
        key_value_table(
            f"Forecast: {count} x {miner.model}, {years:g} years, {paths:,} paths",
            [
                ("snapshot", _snapshot_note(net)),
                _as_of_row(net),
                ("difficulty growth", _growth_note(growth, fit)),
                ("price model", _price_model_note(result)),
                ("total profit P5 / P50 / P95", " / ".join(_usd(x) for x in summary["total_profit_usd"])),
                ("NPV P5 / P50 / P95", " / ".join(_usd(x) for x in summary["npv_usd"])),
                ("capex", _usd(result.capex_usd)),
                *_payback_rows(result),
            ],
        )
    )
    rows = [
        (
            d.date().isoformat(),
            *(_usd(float(r[f"price_usd_p{q}"])) for q in (5, 50, 95)),
            *(_usd(float(r[f"cumulative_profit_usd_p{q}"])) for q in (5, 50, 95)),
        )
        for d, r in zip(yearly.index, yearly.to_dict(orient="records"), strict=True)
    ]
    cols = [
        Column("date"),
        Column("BTC P5", drop=5),
        Column("BTC P50", drop=1),
        Column("BTC P95", drop=4),
        Column("profit P5", drop=3),
        Column("profit P50"),
        Column("profit P95", drop=2),
    ]
    print_fitted_table("Bands at each year end (BTC price; cumulative profit)", cols, rows, wide=wide)
    if tor is not None:
        t_rows = [
            (
                _TORNADO_LABELS.get(str(r["parameter"]), (str(r["parameter"]), "{:.4g}"))[0],
                _tornado_range(str(r["parameter"]), float(r["low_input"]), float(r["high_input"])),
                _usd(r["npv_usd_at_low"]),
                _usd(r["npv_usd_at_high"]),
                _usd(r["swing"]),
            )
            for r in tor.to_dict(orient="records")
        ]
        t_cols = [
            Column("input", wrap=True, justify="left"),
            Column("range", drop=1),
            Column("NPV at low"),
            Column("NPV at high"),
            Column("swing"),
        ]
        print_fitted_table("Sensitivity of NPV (deterministic, flat BTC price)", t_cols, t_rows, wide=wide)
    _say_written(("chart", plot), ("CSV", csv))


#: Tornado parameters as a reader names them, with the format of their range.
_TORNADO_LABELS: dict[str, tuple[str, str]] = {
    "power_price_usd_per_kwh": ("power price", "{:.2f} c/kWh"),
    "btc_price_usd": ("BTC price", "${:,.0f}"),
    "difficulty_growth_per_year": ("difficulty growth", "{:+.1f} %/yr"),
    "uptime": ("uptime", "{:.0f} %"),
}
#: Factor from the tornado's input unit to the one shown (USD/kWh -> cents, fractions -> %).
_TORNADO_SCALE = {"power_price_usd_per_kwh": 100.0, "difficulty_growth_per_year": 100.0, "uptime": 100.0}


def _tornado_range(name: str, low: float, high: float) -> str:
    fmt = _TORNADO_LABELS.get(name, (name, "{:.4g}"))[1]
    k = _TORNADO_SCALE.get(name, 1.0)
    return f"{fmt.format(low * k)} .. {fmt.format(high * k)}"


def _say_written(*outputs: tuple[str, Path | None]) -> None:
    """Tell where each output file went (the table above does not show it)."""
    for what, path in outputs:
        if path is not None:
            print_plain(f"{what} written to {path}")


# --------------------------------------------------------------------------- backtest


def backtest_cmd(
    model: Annotated[str, typer.Argument(help="Machine model (fuzzy).")],
    bought: Annotated[str, typer.Option("--bought", help="Purchase day (YYYY-MM-DD).")],
    end: Annotated[str | None, typer.Option("--end", help="Last day (default: end of the data).")] = None,
    count: COUNT = 1,
    power_price: POWER_PRICE = 0.05,
    hosting: HOSTING = 0.0,
    all_in: ALL_IN = None,
    pue: PUE = 1.0,
    uptime: UPTIME = 1.0,
    pool_fee: POOL_FEE = "0%",
    scheme: SCHEME = PoolScheme.FPPS,
    market: MARKET = None,
    tou: TOU = None,
    machine_price: Annotated[float, typer.Option("--machine-price", help="Price per machine [USD].")] = 0.0,
    catalog: CATALOG = None,
    plot: PLOT = None,
    csv: CSV = None,
    json_output: JSON_OPTION = False,
) -> None:
    """What MODEL bought on --bought really earned, versus the flat-difficulty forecast then."""
    miner, note = _miner(model, catalog, None, None)
    costs = _costs(power_price, hosting, all_in, pue, uptime, pool_fee, scheme, market, tou)
    bt = backtest(miner, bought, count=count, costs=costs, capex=Capex(machine_usd=machine_price), end=end)
    _say_note(note)
    released, how = _available_from(miner)
    if released is not None and bt.bought < released:
        err_console.print(
            f"warning: {escape(miner.model)} was released {released}{how}, after --bought {bt.bought}: "
            "this backtest runs a machine nobody could buy then",
            highlight=False,
            soft_wrap=True,
        )
    if bt.network_share_max > 0.5:
        err_console.print(
            f"warning: the fleet reaches {bt.network_share_max:.0%} of the network hashrate during the "
            "backtest: a pool this large changes the difficulty it is measured against",
            highlight=False,
            soft_wrap=True,
        )
    if csv is not None:
        write_csv(bt.frame, csv)
    if plot is not None:
        from hashwatt.economics.plot import plot_backtest

        title = (
            f"{count} x {miner.model} bought {bt.bought}; "
            f"{_power_text(costs)}, pool fee {costs.effective_pool_fee:.1%}"
        )
        save_figure(plot_backtest(bt.frame, capex_usd=bt.capex_usd, title=title), plot)
    if json_output:
        fields = {k: v for k, v in dataclasses.asdict(bt).items() if k != "frame"}
        print_json({**fields, "plot": plot, "csv": csv})
        return
    interp = int(bt.frame["fees_interpolated"].sum())
    rows = [
        ("period", f"{bt.bought} .. {bt.end} ({len(bt.frame):,} days)"),
        ("capex", _usd(bt.capex_usd)),
        ("actual total profit", _usd(bt.actual_total_profit_usd)),
        ("forecast at purchase (flat difficulty & price)", _usd(bt.forecast_total_profit_usd)),
        ("actual payback", str(bt.actual_payback_date or "not reached")),
        ("forecast payback", str(bt.forecast_payback_date or "not reached")),
        ("actual ROI / NPV", f"{bt.actual.roi:.1%} / {_usd(bt.actual.npv_usd)}"),
        ("days with interpolated fees", f"{interp:,}"),
    ]
    console.print(key_value_table(f"Backtest: {count} x {miner.model}", rows))
    _say_written(("chart", plot), ("CSV", csv))


# --------------------------------------------------------------------------- hashprice


def hashprice_cmd(
    history: Annotated[
        bool, typer.Option("--history", help="Show the daily history (yearly summary).")
    ] = False,
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    fee_share: FEE_SHARE = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    plot: PLOT = None,
    csv: CSV = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Hashprice (USD and BTC per PH/s and per TH/s per day) at a day, or its whole history."""
    if history or plot is not None or csv is not None:
        hp = hashprice_history()
        if csv is not None:
            write_csv(hp, csv)
        if plot is not None:
            from hashwatt.economics.plot import plot_hashprice

            save_figure(plot_hashprice(hp), plot)
        yearly = hashprice_yearly(hp)
        if json_output:
            print_json(
                {
                    "first_day": hp.index[0].date(),
                    "last_day": hp.index[-1].date(),
                    "yearly_mean": yearly.reset_index(names="year"),
                }
            )
            return
        if history:
            rows = [
                (
                    y,
                    f"{r['hashprice_usd_per_ph_day']:,.2f}",
                    f"{r['hashprice_btc_per_ph_day']:.6f}",
                    int(r["days"]),
                    int(r["interpolated_fee_days"]),
                )
                for y, r in zip(yearly.index, yearly.to_dict(orient="records"), strict=True)
            ]
            cols = ["year", "mean USD/PH/day", "mean BTC/PH/day", "days", "interp. fee days"]
            console.print(
                records_table(f"Hashprice {hp.index[0].date()} .. {hp.index[-1].date()}", cols, rows)
            )
        _say_written(("chart", plot), ("CSV", csv))
        return
    state = _network(date, **_overrides_given(locals()))
    hp_row = {
        "hashprice_usd_per_ph_day": state.hashprice_usd_per_ph_day,
        "hashprice_btc_per_ph_day": state.hashprice_btc_per_ph_day,
        "hashprice_usd_per_th_day": state.hashprice_usd_per_ph_day / 1000,
        "hashprice_btc_per_th_day": state.hashprice_btc_per_ph_day / 1000,
    }
    sources = {i.name: i.source for i in state.as_of.inputs} if state.as_of is not None else {}
    result: dict[str, Any] = {
        "date": state.date,
        "as_of": _as_of_json(state),
        "height": state.height,
        "difficulty": state.difficulty,
        "price_usd": state.price_usd,
        "subsidy_btc_per_block": state.subsidy_btc_per_block,
        "fees_btc_per_block": state.fees_btc_per_block,
        **hp_row,
        "price_source": sources.get("price", ""),
        "fees_source": sources.get("fees", ""),
    }
    if json_output:
        print_json(result)
        return
    kv_rows: list[tuple[str, str]] = [
        ("date", f"{state.date} (UTC day; {'the package as-of' if date is None else 'as asked'})"),
        _as_of_row(state),
        ("height / difficulty", f"{state.height:,} / {state.difficulty / 1e12:,.2f} T"),
        ("price", _usd(state.price_usd)),
        ("reward per block", f"{state.subsidy_btc_per_block:g} + {state.fees_btc_per_block:.4f} BTC fees"),
        (
            "hashprice",
            f"{_usd(result['hashprice_usd_per_ph_day'])} /PH/day = ${result['hashprice_usd_per_th_day']:.4f} /TH/day",
        ),
        ("hashprice (BTC)", f"{result['hashprice_btc_per_ph_day']:.8f} BTC/PH/day"),
        ("sources", f"price {result['price_source']}; fees {result['fees_source']}"),
    ]
    console.print(key_value_table("Hashprice", kv_rows))


# --------------------------------------------------------------------------- plan

_EXAMPLE_FLEET = Path(__file__).resolve().parent.parent / "economics" / "examples" / "fleet.toml"


def _finite(x: float) -> bool:
    return math.isfinite(x)


def _fleet_row(r: Mapping[Any, Any], first: str, *, site_totals: bool) -> tuple[str, ...]:
    """One table row; machine rows show money, site rows the break-evens (all in --json)."""
    row = [first, f"{int(r['count']):,}", f"{r['hashrate_ths'] / 1000:,.1f}"]
    if not site_totals:
        keys = ("revenue_usd_per_day", "total_cost_usd_per_day", "profit_usd_per_day")
        return (*row, *(f"{r[k]:,.0f}" for k in keys))
    be = r["break_even_power_price_usd_per_kwh"]
    hp, per_btc = r["break_even_hashprice_usd_per_ph_day"], r["cost_per_btc_usd"]
    return (
        *row,
        f"{r['power_kw'] / 1000:,.2f}",
        f"{r['profit_usd_per_day']:,.0f}",
        f"{be * 100:.2f}" if _finite(be) else "-",
        f"{hp:,.2f}" if _finite(hp) else "-",
        f"{per_btc:,.0f}" if _finite(per_btc) else "-",
    )


def plan_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="Fleet TOML file: site tables, each with its miner entries.")
    ] = None,
    example: Annotated[
        bool, typer.Option("--example", help="Print the shipped example fleet file and exit.")
    ] = False,
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    fee_share: FEE_SHARE = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    catalog: CATALOG = None,
    csv: CSV = None,
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Plan a fleet on paper: many models and counts at many sites, per site and in total.

    Hashrate, power, revenue, costs, profit; break-evens per site and in total: power price,
    hashprice, cost per BTC (= break-even BTC price).

    Power: power_price_usd_per_kwh, a shipped market (market = "ERCOT:2023") or all_in_usd_per_kwh.

    Also per site: hosting, PUE, uptime, pool fee and scheme, maintenance and staff.

    Start from the shipped example: hashwatt plan --example > fleet.toml

    Formerly `hashwatt fleet`: that name now belongs to the fleet operations service,
    which manages real machines.
    """
    if example:
        print(_EXAMPLE_FLEET.read_text(encoding="utf-8"), end="")
        return
    if file is None:
        raise EconomicsInputError("give a fleet TOML file (see `hashwatt plan --example`)")
    entries = load_fleet(file, catalog=hardware_catalog(catalog or []))
    net = _network(date, **_overrides_given(locals()))
    machines = fleet_profit(entries, network=net)
    sites = fleet_sites(entries, network=net)
    if csv is not None:
        write_csv(machines, csv, index=False)
    if json_output:
        print_json(
            {
                "snapshot_date": net.date,
                "as_of": _as_of_json(net),
                "height": net.height,
                "btc_price_usd": net.price_usd,
                "hashprice_usd_per_ph_day": net.hashprice_usd_per_ph_day,
                "sites": sites,
                "machines": machines,
            }
        )
        return
    title = f"Fleet {file.name} [USD/day]; {_snapshot_note(net)}; BTC {_usd(net.price_usd)}"
    m_rows = [
        _fleet_row(r, f"{r['site']}: {r['model']}", site_totals=False)
        for r in machines.iloc[:-1].to_dict(orient="records")
    ]
    m_cols = [
        Column("site: model", wrap=True, justify="left"),
        Column("units", drop=3),
        Column("PH/s", drop=2),
        Column("revenue", drop=1),
        Column("costs", drop=1),
        Column("profit"),
    ]
    print_fitted_table(title, m_cols, m_rows, wide=wide)
    s_rows = [_fleet_row(r, str(r["site"]), site_totals=True) for r in sites.to_dict(orient="records")]
    s_cols = [
        Column("site", wrap=True, justify="left"),
        Column("units", drop=4),
        Column("PH/s", drop=3),
        Column("MW", drop=5),
        Column("profit/d"),
        Column("b/e c/kWh", drop=1),
        Column("b/e USD/PH/d", drop=2),
        Column("USD/BTC"),
    ]
    print_fitted_table("Per site and total; break-evens (USD/BTC: cost per BTC)", s_cols, s_rows, wide=wide)
    print_plain(_as_of_row(net)[1])  # wraps at spaces: no date is cut
    _say_written(("per-machine CSV", csv))


# --------------------------------------------------------------------------- best


def _payback(days: object) -> str:
    if isinstance(days, int | float) and math.isfinite(days):
        return f"{days:,.0f}"
    return "never"


def best_cmd(
    budget: Annotated[float, typer.Option("--budget", help="Money to spend on machines [USD].")],
    price: Annotated[
        list[str] | None,
        typer.Option("--price", help="Unit price of a model, MODEL=USD (fuzzy name), repeatable."),
    ] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="CSV of unit prices with columns model,price_usd.")
    ] = None,
    power_price: POWER_PRICE = 0.05,
    max_power_kw: Annotated[
        float | None, typer.Option("--max-power-kw", help="Power available at the site, in kW.")
    ] = None,
    launch_prices: Annotated[
        bool,
        typer.Option(
            "--launch-prices",
            help="Also use the dated launch prices of the few catalog rows that have one (yours win).",
        ),
    ] = False,
    hosting: HOSTING = 0.0,
    all_in: ALL_IN = None,
    pue: PUE = 1.0,
    uptime: UPTIME = 1.0,
    pool_fee: POOL_FEE = "0%",
    scheme: SCHEME = PoolScheme.FPPS,
    market: MARKET = None,
    tou: TOU = None,
    date: DATE = None,
    difficulty: DIFFICULTY = None,
    hashrate_ehs: HASHRATE_EHS = None,
    btc_price: BTC_PRICE = None,
    fees_btc_per_block: FEES_PER_BLOCK = None,
    fee_share: FEE_SHARE = None,
    hashprice: HASHPRICE = None,
    network_file: NETWORK_FILE = None,
    years: Annotated[
        float, typer.Option("--years", min=0.1, max=20, help="Horizon of the NPV ranking [years].")
    ] = 4.0,
    discount_rate: Annotated[str, typer.Option("--discount-rate", help="Annual rate for NPV.")] = "10%",
    difficulty_growth: Annotated[
        str | None,
        typer.Option(
            "--difficulty-growth", help="Per year, e.g. 30% (default: the forecast's fitted growth)."
        ),
    ] = None,
    price_growth: Annotated[
        str, typer.Option("--price-growth", help="BTC price growth per year over the horizon, e.g. 10%.")
    ] = "0%",
    curtail: Annotated[
        bool, typer.Option("--curtail", help="Switch off on days revenue < power cost.")
    ] = False,
    catalog: CATALOG = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Best machine for a budget: ranked by NPV over --years (difficulty growth, halvings), day one beside it.

    Prices are yours: the catalog holds specs, not market prices, which change every week.

    Give --price "s21 xp=5200" (repeatable) and/or --prices prices.csv (columns model,price_usd).

    Without any price the command refuses. --max-power-kw caps the units by the site's power.

    --launch-prices adds the catalog's few dated launch prices (old; see the catalog notes).
    """
    costs = _costs(power_price, hosting, all_in, pue, uptime, pool_fee, scheme, market, tou)
    net = _network(date, **_overrides_given(locals()))
    cat = hardware_catalog(catalog or [])
    unit_prices = {
        find_miner(name, catalog=cat).model: usd
        for name, usd in read_unit_prices(price or [], prices).items()
    }
    if launch_prices:
        priced = cat[cat["price_usd"].notna()]
        for model, usd in zip(priced["model"].tolist(), priced["price_usd"].tolist(), strict=True):
            unit_prices.setdefault(str(model), float(usd))
    growth, fit = _difficulty_growth(difficulty_growth, date, net)
    scenario = Scenario(
        days=round(years * 365.25),
        difficulty_growth_per_year=growth,
        price_growth_per_year=parse_fraction(price_growth),
        discount_rate=parse_fraction(discount_rate),
        curtail=curtail,
    )
    ranked = best_for_budget(
        budget,
        unit_prices,
        costs=costs,
        network=net,
        catalog=cat,
        max_power_kw=max_power_kw,
        scenario=scenario,
    )
    if json_output:
        print_json(
            {
                "snapshot_date": net.date,
                "as_of": _as_of_json(net),
                "budget_usd": budget,
                "power_price_usd_per_kwh": costs.mean_energy_price_usd_per_kwh(),
                "max_power_kw": max_power_kw,
                "ranked_by": "npv_usd",
                "horizon_days": scenario.days,
                "discount_rate": scenario.discount_rate,
                "difficulty_growth_per_year": growth,
                "price_growth_per_year": scenario.price_growth_per_year,
                "best": ranked.iloc[0].to_dict(),
                "options": ranked,
            }
        )
        return
    rows = [
        (
            escape(str(r["model"])),
            f"{int(r['units']):,}" + ("*" if r["limited_by"] == "power" else ""),
            f"{r['hashrate_ths'] / 1000:,.2f}",
            f"{r['npv_usd']:,.0f}",
            "-" if r["irr"] is None or r["irr"] != r["irr"] else f"{r['irr'] * 100:.0f}%",
            _payback(r["payback_days_life"]),
            f"{r['profit_usd_per_day']:,.0f}",
            str(int(r["rank_day_one"])),
        )
        for r in ranked.to_dict(orient="records")
    ]
    cols = ["model", "units", "PH/s", "NPV USD", "IRR", "payback d", "day-1 USD/d", "day-1 #"]
    limit = f", {max_power_kw:,.0f} kW max (* = capped)" if max_power_kw is not None else ""
    title = (
        f"Best for {_usd(budget)} at {costs.mean_energy_price_usd_per_kwh() * 100:.2f} c/kWh{limit}, "
        f"by NPV over {years:g} years at {scenario.discount_rate:.0%}"
    )
    console.print(records_table(title, cols, rows))
    console.print(
        f"difficulty {_growth_note(growth, fit)}; BTC price {scenario.price_growth_per_year:+.0%}/year; "
        f"{'curtailed when unprofitable' if curtail else 'running every day'}; {_snapshot_note(net)}",
        highlight=False,
    )
    print_plain(_as_of_row(net)[1])  # wraps at spaces: no date is cut


def register(app: typer.Typer) -> None:
    app.command("profit")(profit_cmd)
    app.command("rank")(rank_cmd)
    app.command("forecast")(forecast_cmd)
    app.command("backtest")(backtest_cmd)
    app.command("hashprice")(hashprice_cmd)
    app.command("plan")(plan_cmd)
    app.command("best")(best_cmd)

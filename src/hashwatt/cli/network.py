"""``hashwatt network``: decentralization, double-spend security, selfish mining, energy, block discovery."""

from __future__ import annotations

import datetime as dt
import enum
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import Progress

from hashwatt.chain import Block
from hashwatt.cli._output import (
    JSON_OPTION,
    WIDE_OPTION,
    Column,
    console,
    err_console,
    fmt_int,
    fmt_usd,
    key_value_table,
    output_path,
    print_fitted_table,
    print_json,
    print_plain,
    records_table,
    save_figure,
)
from hashwatt.data.cbeci import load_cbeci_csv
from hashwatt.data.pools import load_pool_blocks
from hashwatt.errors import HashwattError, InputError
from hashwatt.network import (
    MINING_MIX_CARBON_G_PER_KWH,
    MINING_MIX_FROM_YEAR,
    BlockAttribution,
    Chain,
    ConcentrationMetrics,
    DoubleSpendModel,
    EnergyAssumptions,
    attack_cost,
    attribute_blocks_from_node,
    attribute_full_block,
    confirmations_for_risk,
    decentralization_history,
    decentralization_report,
    double_spend_grunspan_perez_marco,
    double_spend_nakamoto,
    double_spend_rosenfeld,
    energy_by_year,
    hashrate_history,
    network_energy_history,
    next_adjustment,
    orphan_rate,
    pool_blocks,
    pool_counts_by_window,
    probability_no_block,
    selfish_mining_revenue_eyal_sirer,
    selfish_mining_threshold,
    simulate_selfish_mining,
    trailing_windows,
    trend_per_year,
)

network_app = typer.Typer(
    help="Network analytics: pools, attribution, double-spend security, selfish mining, energy, blocks.",
    no_args_is_help=True,
)


class Window(enum.StrEnum):
    """Counting window of the pool and block histories (values of :data:`hashwatt.network.Window`)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Trailing(enum.StrEnum):
    """Trailing window of ``network pool-blocks`` (keys of :data:`hashwatt.network.TRAILING_WINDOWS`)."""

    H24 = "24h"
    D7 = "7d"
    D30 = "30d"
    Y1 = "1y"


class CarbonMixChoice(enum.StrEnum):
    """Carbon intensity of ``network energy`` (values of ``network.CarbonMix``)."""

    MINING = "mining"
    WORLD = "world"


class ShareInterval(enum.StrEnum):
    """Binomial interval of a pool's share (values of :data:`hashwatt.network.IntervalMethod`)."""

    WILSON = "wilson"
    CLOPPER_PEARSON = "clopper-pearson"


class Weighting(enum.StrEnum):
    """Best-guess hardware mix of ``network energy`` (values of ``network._energy.Weighting``)."""

    PROFIT = "profit"
    EQUAL = "equal"


#: The double-spend models, in the order the table shows them.
_MODELS: tuple[DoubleSpendModel, ...] = ("nakamoto", "rosenfeld", "grunspan_perez_marco")


def _parse_date(text: str | None, flag: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(text.strip()), tz="UTC")
    except ValueError as exc:
        raise InputError(
            f"{flag} must be an ISO date (YYYY-MM-DD), got {text!r}", field=flag, value=text
        ) from exc


def _select_blocks(since: str | None, until: str | None) -> pd.DataFrame:
    blocks = load_pool_blocks()
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")
    if start is not None:
        blocks = blocks[blocks["time_utc"] >= start]
    if end is not None:
        blocks = blocks[blocks["time_utc"] < end + pd.Timedelta(days=1)]
    if blocks.empty:
        raise InputError(
            "no blocks in the selected range (the shipped history covers 2021-01-02 .. 2026-04-22)"
        )
    return blocks


def _pct(x: float) -> str:
    return f"{100.0 * x:.2f} %"


def _metrics_rows(label: str, m: ConcentrationMetrics) -> list[tuple[str, str]]:
    return [
        (f"{label}: entities", str(m.entities)),
        (
            f"{label}: Nakamoto coefficient",
            f"{m.nakamoto_coefficient} (CI {m.nakamoto_coefficient_ci[0]}..{m.nakamoto_coefficient_ci[1]})",
        ),
        (f"{label}: HHI", f"{m.hhi:.4f} = {m.hhi * 1e4:,.0f} pts (CI {m.hhi_ci[0]:.4f}..{m.hhi_ci[1]:.4f})"),
        (
            f"{label}: Shannon entropy",
            f"{m.entropy_bits:.3f} bits (CI {m.entropy_bits_ci[0]:.3f}..{m.entropy_bits_ci[1]:.3f})",
        ),
        (f"{label}: Gini", f"{m.gini:.3f} (CI {m.gini_ci[0]:.3f}..{m.gini_ci[1]:.3f})"),
        (f"{label}: top pool", f"{m.top_pool} {_pct(m.top_share)}"),
    ]


def _calendar_window_partial(blocks: pd.DataFrame, start: pd.Timestamp, window: str) -> bool:
    """True when the shipped blocks cover only part of the calendar window starting at ``start``."""
    times = pd.to_datetime(blocks["time_utc"], utc=True)
    begin = (
        pd.Timestamp(start).tz_localize("UTC") if pd.Timestamp(start).tzinfo is None else pd.Timestamp(start)
    )
    end = (
        begin
        + {
            "day": pd.DateOffset(days=1),
            "week": pd.DateOffset(weeks=1),
            "month": pd.DateOffset(months=1),
            "year": pd.DateOffset(years=1),
        }[window]
    )
    return bool(times.min() > begin or times.max() < end - pd.Timedelta(hours=1))


@network_app.command("pools")
def pools(
    window: Annotated[Window, typer.Option(help="Counting window.", case_sensitive=False)] = Window.MONTH,
    since: Annotated[str | None, typer.Option(help="First UTC day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last UTC day (YYYY-MM-DD).")] = None,
    top: Annotated[int, typer.Option(help="Pools to list / plot.", min=1, max=40)] = 10,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    method: Annotated[
        ShareInterval, typer.Option(help="Share interval.", case_sensitive=False)
    ] = ShareInterval.WILSON,
    plot: Annotated[
        Path | None, output_path("--plot", "Write a PNG of shares over time to this path.")
    ] = None,
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Pool shares (latest window, with CIs), concentration metrics and their trend over the history."""
    if not 0.0 < confidence < 1.0:
        raise InputError("--confidence must lie in (0, 1)")
    blocks = _select_blocks(since, until)
    counts = pool_counts_by_window(blocks, window.value)
    latest_start = counts.index[-1]
    latest = counts.iloc[-1]
    report = decentralization_report(
        {str(k): int(v) for k, v in latest.items() if int(v) > 0},
        confidence=confidence,
        method=method.value,
    )
    history = decentralization_history(blocks, window.value)
    trends = {
        col: trend_per_year(history[col])
        for col in ("unknown_share", "top_share", "nakamoto", "hhi", "entropy_bits", "hhi_excl_unknown")
    }
    if plot is not None:
        from hashwatt.network.plot import plot_pool_shares

        title = f"Bitcoin block share by pool, per {window.value}"
        save_figure(plot_pool_shares(counts, top=top, title=title), plot)
    trailing = trailing_windows(blocks, label="pool_name")
    adjustment = next_adjustment(load_pool_blocks()) if until is None else None
    partial = _calendar_window_partial(blocks, latest_start, window.value)
    if json_output:
        print_json(
            {
                "window": window.value,
                "latest_window_start": latest_start,
                "latest_window_partial": partial,
                "trailing": [
                    {
                        "window": w.name,
                        "start": w.start,
                        "end": w.end,
                        "blocks": w.blocks,
                        "partial": w.partial,
                        "pools": [
                            {
                                "pool": str(name),
                                "blocks": round(float(share) * w.blocks),
                                "share": float(share),
                            }
                            for name, share in w.shares().head(top).items()
                        ],
                    }
                    for w in trailing
                ],
                "next_adjustment": adjustment,
                "latest": report,
                "history": history.reset_index(),
                "trend_per_year": trends,
                "plot": plot,
            }
        )
        return
    title = f"Pool shares, {window.value} starting {latest_start:%Y-%m-%d} ({fmt_int(report.blocks)} blocks)"
    if partial:
        title += f"; partial {window.value}: the blocks cover only part of it"
    rows = [
        (s.pool, fmt_int(s.blocks), _pct(s.share), f"{_pct(s.share_lower)} .. {_pct(s.share_upper)}")
        for s in report.shares[:top]
    ]
    ci_column = f"{confidence:.0%} CI ({method.value})"
    console.print(records_table(title, ["pool", "blocks", "share", ci_column], rows))
    summary = [
        (
            "unknown (no pool matched)",
            f"{fmt_int(report.unknown_blocks)} blocks, {_pct(report.unknown_share)}",
        )
    ]
    summary += _metrics_rows("unknown as one entity", report.unknown_as_entity)
    if report.unknown_excluded is not None:
        summary += _metrics_rows("unknown excluded", report.unknown_excluded)
    console.print(key_value_table("Concentration (bootstrap CIs)", summary))
    shown = history.tail(24)
    hist_rows = [
        (
            f"{idx:%Y-%m-%d}",
            fmt_int(int(r["blocks"])),
            _pct(float(r["unknown_share"])),
            f"{r['top_pool']} {_pct(float(r['top_share']))}",
            str(int(r["nakamoto"])),
            f"{float(r['hhi']):.4f}",
            f"{float(r['entropy_bits']):.2f}",
            f"{float(r['hhi_excl_unknown']):.4f}",
        )
        for idx, r in zip(shown.index, shown.to_dict(orient="records"), strict=True)
    ]
    trend_cols = [
        Column("start"),
        Column("blocks", drop=5),
        Column("unknown", drop=3),
        Column("top pool", wrap=True, justify="left"),
        Column("Nakamoto", drop=1),
        Column("HHI", drop=2),
        Column("entropy", drop=4),
        Column("HHI excl. unknown", drop=6),
    ]
    print_fitted_table(
        f"Trend per {window.value} (last {len(shown)} of {len(history)})", trend_cols, hist_rows, wide=wide
    )
    print_plain(
        "Trend per year: "
        + ", ".join(
            f"{k} {v:+.4f}" if math.isfinite(v) else f"{k} n/a (one window)" for k, v in trends.items()
        )
    )
    t_rows = [
        (
            w.name + (" (partial)" if w.partial else ""),
            fmt_int(w.blocks),
            ", ".join(f"{n} {_pct(float(v))}" for n, v in w.shares().head(3).items()),
        )
        for w in trailing
    ]
    console.print(
        records_table("Trailing windows to the newest block", ["window", "blocks", "top pools"], t_rows)
    )
    if adjustment is not None:
        a = adjustment
        console.print(
            key_value_table(
                "Next difficulty adjustment (estimate from the current epoch)",
                [
                    ("epoch", f"{fmt_int(a.epoch_start_height)} .. {fmt_int(a.retarget_height - 1)}"),
                    (
                        "progress",
                        f"{fmt_int(a.blocks_mined)} of 2,016 blocks ({a.progress:.1%}), {fmt_int(a.blocks_remaining)} to go",
                    ),
                    ("mean block time so far", f"{a.mean_block_time_s:,.0f} s"),
                    ("estimated change", f"{a.estimated_change_pct:+.2f} %"),
                    (
                        "estimated retarget",
                        f"{a.estimated_retarget_time:%Y-%m-%d %H:%M} UTC at height {fmt_int(a.retarget_height)}",
                    ),
                ],
            )
        )
    if plot is not None:
        print_plain(f"Plot written to {plot}")


@network_app.command("pool-blocks")
def pool_blocks_cmd(
    pool: Annotated[str, typer.Argument(help='Pool display name or slug ("Foundry USA", foundryusa).')],
    window: Annotated[
        Trailing, typer.Option(help="Trailing window before the newest block.", case_sensitive=False)
    ] = Trailing.D7,
    since: Annotated[str | None, typer.Option(help="First UTC day (YYYY-MM-DD); replaces --window.")] = None,
    until: Annotated[str | None, typer.Option(help="Last UTC day (YYYY-MM-DD); replaces --window.")] = None,
    limit: Annotated[
        int, typer.Option(help="Newest blocks to list in the table (JSON lists all).", min=1)
    ] = 50,
    json_output: JSON_OPTION = False,
) -> None:
    """The blocks one pool found in a window: height, header time, subsidy (from the shipped labels)."""
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")
    if end is not None:
        end = end + pd.Timedelta(days=1)
    found = pool_blocks(load_pool_blocks(), pool, window=window.value, start=start, end=end)
    label = (
        f"trailing {window.value}"
        if start is None and end is None
        else f"{found.start:%Y-%m-%d} .. {(found.end - pd.Timedelta(seconds=1)):%Y-%m-%d}"
    )
    if json_output:
        print_json(
            {
                "pool": found.pool,
                "slug": found.slug,
                "window": window.value if start is None and end is None else None,
                "start": found.start,
                "end": found.end,
                "partial": found.partial,
                "window_blocks": found.window_blocks,
                "blocks_found": found.count,
                "share": found.share if found.window_blocks else None,
                "blocks": found.blocks.to_dict(orient="records"),
            }
        )
        return
    share = f" ({_pct(found.share)} of {fmt_int(found.window_blocks)})" if found.window_blocks else ""
    print_plain(f"{found.pool}: {fmt_int(found.count)} blocks{share}, {label}")
    if found.partial:
        print_plain("partial window: the shipped blocks cover only part of it")
    shown = found.blocks.tail(limit).iloc[::-1]
    rows = [
        (fmt_int(int(r["height"])), f"{r['time_utc']:%Y-%m-%d %H:%M:%S}", f"{float(r['subsidy_btc']):g}")
        for r in shown.to_dict(orient="records")
    ]
    console.print(records_table("Blocks found, newest first", ["height", "time (UTC)", "subsidy BTC"], rows))
    if found.count > len(rows):
        print_plain(f"the newest {len(rows)} of {fmt_int(found.count)} shown (--limit, or --json for all)")


@network_app.command("security")
def security(
    attacker: Annotated[float, typer.Option(help="Attacker share of the hashrate q, 0 < q < 1.")] = 0.1,
    confirmations: Annotated[int, typer.Option(help="Confirmations z the merchant waits for.")] = 6,
    risk: Annotated[float, typer.Option(help="Acceptable success probability for the depth search.")] = 0.001,
    json_output: JSON_OPTION = False,
) -> None:
    """Double-spend success probability (Nakamoto, Rosenfeld, Grunspan-Perez-Marco) and depth needed."""
    probs = {
        "nakamoto": double_spend_nakamoto(attacker, confirmations),
        "rosenfeld": double_spend_rosenfeld(attacker, confirmations),
        "grunspan_perez_marco": double_spend_grunspan_perez_marco(attacker, confirmations),
    }
    needed: dict[str, int | None] = {
        model: None if attacker >= 0.5 else confirmations_for_risk(attacker, risk, model=model)
        for model in _MODELS
    }
    result = {
        "attacker_share": attacker,
        "confirmations": confirmations,
        "success_probability": probs,
        "risk": risk,
        "confirmations_for_risk": needed,
    }
    if json_output:
        print_json(result)
        return
    rows = [
        (model, f"{p:.7f}", "-" if needed[model] is None else str(needed[model]))
        for model, p in probs.items()
    ]
    console.print(
        records_table(
            f"Double spend: attacker q = {attacker}, z = {confirmations}",
            ["model", "P(success)", f"z for P < {risk:g}"],
            rows,
        )
    )
    console.print(
        "Rosenfeld's exact form equals the Grunspan-Perez-Marco closed form; Nakamoto's is an approximation."
    )


@network_app.command("selfish")
def selfish(
    alpha: Annotated[float, typer.Option(help="Selfish pool's hashrate share alpha.")] = 0.3,
    gamma: Annotated[
        float, typer.Option(help="Share of honest miners that build on the pool's block in a tie.")
    ] = 0.5,
    simulate: Annotated[
        int | None, typer.Option(help="Also simulate this many blocks (Monte Carlo).", min=2000)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of the simulation.")] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Eyal-Sirer selfish-mining revenue and threshold, optionally checked by simulation."""
    revenue = selfish_mining_revenue_eyal_sirer(alpha, gamma)
    threshold = selfish_mining_threshold(gamma)
    result: dict[str, Any] = {
        "alpha": alpha,
        "gamma": gamma,
        "relative_revenue_formula": revenue,
        "threshold_alpha": threshold,
        "profitable": revenue > alpha,
    }
    sim = None
    if simulate is not None:
        with Progress(
            transient=True, console=err_console, disable=json_output or simulate < 50_000_000
        ) as bar:
            task = bar.add_task("simulating blocks", total=simulate)
            sim = simulate_selfish_mining(
                alpha, gamma, simulate, seed=seed, on_batch=lambda n: bar.advance(task, n)
            )
        result["simulation"] = sim
    if json_output:
        print_json(result)
        return
    rows = [
        ("relative revenue (Eyal-Sirer)", f"{revenue:.5f}  (honest mining: {alpha:.5f})"),
        ("profitability threshold", f"alpha > {threshold:.5f} at gamma = {gamma}"),
        ("selfish mining pays", "yes" if revenue > alpha else "no"),
    ]
    if sim is not None:
        z = (sim.relative_revenue - revenue) / sim.standard_error if sim.standard_error > 0 else float("nan")
        rows += [
            ("simulated blocks", f"{fmt_int(sim.blocks_simulated)} in {sim.batches} independent batches"),
            (
                "simulated revenue",
                f"{sim.relative_revenue:.5f} +- {sim.standard_error:.5f} (SE), {z:+.2f} SE",
            ),
            ("main-chain share of found blocks", _pct(sim.main_chain_fraction)),
        ]
    console.print(key_value_table(f"Selfish mining, alpha = {alpha}, gamma = {gamma}", rows))


def _assumption_rows(a: EnergyAssumptions) -> list[tuple[str, str]]:
    return [
        ("power price", f"{a.power_price_usd_per_kwh} USD/kWh"),
        ("PUE lower / best / upper", f"{a.pue_lower} / {a.pue_best} / {a.pue_upper}"),
        ("best-guess weighting", a.weighting),
        ("undated models", "assumed launch months" if a.use_assumed_release_dates else "left out"),
        ("smoothing", f"{a.smoothing_days}-day trailing mean of hashrate and revenue"),
        (
            "carbon intensity",
            f"{a.carbon_g_per_kwh} gCO2/kWh"
            if a.carbon_g_per_kwh is not None
            else "world grid mix (Ember), nearest year"
            if a.carbon_mix == "world"
            else f"mining mix {MINING_MIX_CARBON_G_PER_KWH:.0f} gCO2/kWh from {MINING_MIX_FROM_YEAR} "
            "(CCAF 2025 survey: 39.8 Mt / 138 TWh), world grid mix (Ember) before",
        ),
    ]


def _cbeci_rows(ours: pd.DataFrame, cbeci: pd.DataFrame) -> list[dict[str, Any]]:
    """Per calendar year both estimates cover fully: hashwatt's and CBECI's energy [TWh]."""
    mine = energy_by_year(ours)
    theirs = energy_by_year(cbeci)
    out = []
    for year in mine.index.intersection(theirs.index):
        full = 366 if dt.date(int(year), 12, 31).timetuple().tm_yday == 366 else 365
        if int(mine.loc[year, "days"]) != full or int(theirs.loc[year, "days"]) != full:
            continue
        m, t = mine.loc[year], theirs.loc[year]
        out.append(
            {
                "year": int(year),
                "hashwatt_lower_twh": float(m["energy_lower_twh"]),
                "hashwatt_best_twh": float(m["energy_best_twh"]),
                "hashwatt_upper_twh": float(m["energy_upper_twh"]),
                "cbeci_lower_twh": float(t["energy_min_twh"]),
                "cbeci_best_twh": float(t["energy_guess_twh"]),
                "cbeci_upper_twh": float(t["energy_max_twh"]),
                "best_within_cbeci_bounds": bool(
                    float(t["energy_min_twh"]) <= float(m["energy_best_twh"]) <= float(t["energy_max_twh"])
                ),
            }
        )
    return out


@network_app.command("energy")
def energy(
    history: Annotated[
        bool, typer.Option("--history", help="Show the monthly history, not one day.")
    ] = False,
    date: Annotated[str | None, typer.Option(help="Day to report (default: last day of the data).")] = None,
    since: Annotated[str | None, typer.Option(help="First day of --history / --plot.")] = None,
    power_price: Annotated[float, typer.Option("--power-price", help="Electricity price [USD/kWh].")] = 0.05,
    weighting: Annotated[
        Weighting, typer.Option(help="Best guess hardware mix.", case_sensitive=False)
    ] = Weighting.PROFIT,
    carbon: Annotated[
        float | None, typer.Option(help="Carbon intensity [gCO2/kWh] (replaces --carbon-mix).")
    ] = None,
    carbon_mix: Annotated[
        CarbonMixChoice,
        typer.Option(
            help="mining: CCAF's surveyed mining mix from 2024 (world mix before); world: world grid mix.",
            case_sensitive=False,
        ),
    ] = CarbonMixChoice.MINING,
    cbeci: Annotated[
        Path | None,
        typer.Option(
            help="A CBECI daily CSV (CC BY-NC-SA, not shipped): compare per year and overlay on --plot.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    assumed_dates: Annotated[
        bool,
        typer.Option(
            "--assumed-dates/--no-assumed-dates", help="Use assumed launch months for undated models."
        ),
    ] = True,
    plot: Annotated[Path | None, output_path("--plot", "Write a PNG of the bounds over time.")] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Network power and annual energy: lower bound, best guess, upper bound (Cambridge-style)."""
    assumptions = EnergyAssumptions(
        power_price_usd_per_kwh=power_price,
        weighting=weighting.value,
        carbon_g_per_kwh=carbon,
        carbon_mix=carbon_mix.value,
        use_assumed_release_dates=assumed_dates,
    )
    frame = network_energy_history(assumptions, start=since)
    reference = None if cbeci is None else load_cbeci_csv(cbeci)
    comparison = None if reference is None else _cbeci_rows(frame, reference)
    if plot is not None:
        from hashwatt.network.plot import plot_energy_history

        title = (
            f"Bitcoin network power at {assumptions.power_price_usd_per_kwh:g} USD/kWh, "
            f"{assumptions.weighting}-weighted best guess, PUE {assumptions.pue_best:g}"
        )
        save_figure(plot_energy_history(frame, title=title, reference=reference), plot)
    if comparison is not None and not json_output:
        console.print(
            records_table(
                "Energy per calendar year [TWh]: hashwatt vs CBECI (lower / best / upper)",
                ["year", "hashwatt", "CBECI", "best inside CBECI"],
                [
                    (
                        str(c["year"]),
                        f"{c['hashwatt_lower_twh']:,.1f} / {c['hashwatt_best_twh']:,.1f} / {c['hashwatt_upper_twh']:,.1f}",
                        f"{c['cbeci_lower_twh']:,.1f} / {c['cbeci_best_twh']:,.1f} / {c['cbeci_upper_twh']:,.1f}",
                        "yes" if c["best_within_cbeci_bounds"] else "no",
                    )
                    for c in comparison
                ],
            )
        )
    if history:
        monthly = frame.drop(columns=["no_profitable_hardware"]).resample("MS").mean()
        if json_output:
            print_json(
                {
                    "assumptions": assumptions,
                    "daily": frame.reset_index(),
                    "by_year": energy_by_year(frame).reset_index(),
                    "cbeci_by_year": comparison,
                    "plot": plot,
                }
            )
            return
        rows = [
            (
                f"{idx:%Y-%m}",
                f"{float(r['hashrate_ehs']):,.0f}",
                f"{float(r['break_even_efficiency_j_per_th']):,.0f}",
                f"{float(r['energy_lower_twh_per_year']):,.1f}",
                f"{float(r['energy_best_twh_per_year']):,.1f}",
                f"{float(r['energy_upper_twh_per_year']):,.1f}",
                f"{float(r['emissions_best_mt_per_year']):,.1f}",
            )
            for idx, r in zip(monthly.index, monthly.to_dict(orient="records"), strict=True)
        ]
        console.print(
            records_table(
                "Network energy by month (means of daily estimates)",
                [
                    "month",
                    "EH/s",
                    "breakeven J/TH",
                    "lower TWh/yr",
                    "best TWh/yr",
                    "upper TWh/yr",
                    "MtCO2/yr",
                ],
                rows,
            )
        )
        console.print(key_value_table("Assumptions", _assumption_rows(assumptions)))
        return
    parsed = _parse_date(date, "--date")
    day = frame.index[-1] if parsed is None else parsed.tz_localize(None)
    if day not in frame.index:
        raise InputError(
            f"{date} is not covered ({frame.index[0]:%Y-%m-%d} .. {frame.index[-1]:%Y-%m-%d})",
            field="--date",
            value=date,
        )
    row = {str(k): v for k, v in frame.loc[day].to_dict().items()}
    if json_output:
        print_json(
            {
                "date": day.date(),
                "assumptions": assumptions,
                "estimate": row,
                "cbeci_by_year": comparison,
                "plot": plot,
            }
        )
        return
    day_rows: list[tuple[str, str]] = [
        ("hashrate (7-day mean)", f"{float(row['hashrate_ehs']):,.1f} EH/s"),
        ("breakeven efficiency", f"{float(row['break_even_efficiency_j_per_th']):,.1f} J/TH"),
        (
            "models available / profitable",
            f"{int(row['models_available'])} / {int(row['models_profitable'])} "
            f"({int(row['models_profitable_assumed_date'])} with an assumed release date)",
        ),
        (
            "efficiency lower / best / upper",
            f"{float(row['efficiency_lower_j_per_th']):.1f} / {float(row['efficiency_best_j_per_th']):.1f} / "
            f"{float(row['efficiency_upper_j_per_th']):.1f} J/TH",
        ),
        (
            "power lower / best / upper",
            f"{float(row['power_lower_gw']):.2f} / {float(row['power_best_gw']):.2f} / {float(row['power_upper_gw']):.2f} GW",
        ),
        (
            "annualized lower / best / upper",
            f"{float(row['energy_lower_twh_per_year']):.1f} / {float(row['energy_best_twh_per_year']):.1f} / "
            f"{float(row['energy_upper_twh_per_year']):.1f} TWh/yr",
        ),
        (
            "emissions (best guess)",
            f"{float(row['emissions_best_mt_per_year']):.1f} MtCO2/yr at {float(row['carbon_g_per_kwh']):.0f} gCO2/kWh",
        ),
    ]
    console.print(
        key_value_table(f"Network energy on {day:%Y-%m-%d}", day_rows + _assumption_rows(assumptions))
    )


@network_app.command("attack")
def attack(
    date: Annotated[str | None, typer.Option(help="Day of the history (default: its last day).")] = None,
    share: Annotated[float, typer.Option(help="Attacker share of the combined hashrate.")] = 0.5,
    power_price: Annotated[float, typer.Option("--power-price", help="Electricity price [USD/kWh].")] = 0.05,
    hardware_usd_per_th: Annotated[
        float, typer.Option(help="Machine price assumption [USD per TH/s].")
    ] = 15.0,
    rental_premium: Annotated[float, typer.Option(help="Hash-market premium over hashprice.")] = 0.10,
    pue: Annotated[float, typer.Option(help="Power usage effectiveness.")] = 1.10,
    miner: Annotated[
        str | None, typer.Option(help="Catalog model (default: most efficient available).")
    ] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Majority-attack cost for one hour and one day (crypto51 style), assumptions shown."""
    cost = attack_cost(
        day=date,
        attacker_share=share,
        power_price_usd_per_kwh=power_price,
        hardware_usd_per_th=hardware_usd_per_th,
        rental_premium=rental_premium,
        pue=pue,
        miner_model=miner,
    )
    if json_output:
        print_json(cost)
        return
    head = [
        ("network hashrate", f"{cost.network_hashrate_ehs:,.1f} EH/s"),
        (
            "attacker hashrate",
            f"{cost.attacker_hashrate_ehs:,.1f} EH/s ({_pct(cost.attacker_share)} of the total)",
        ),
        ("hashprice", f"{cost.hashprice_usd_per_ph_day:,.2f} USD/PH/day"),
        (
            "hardware",
            f"{fmt_int(cost.machines)} x {cost.miner_model} ({cost.miner_hashrate_ths:g} TH/s, {cost.miner_power_w:g} W)",
        ),
        (
            "hardware cost",
            f"{fmt_usd(cost.hardware_cost_usd)} at {cost.hardware_usd_per_th:g} USD/TH (assumed)",
        ),
        ("power", f"{cost.power_mw:,.0f} MW (PUE {cost.pue})"),
    ]
    console.print(key_value_table(f"Majority attack on {cost.date}", head))
    rows = [
        (
            f"{r.duration_h:g} h",
            fmt_usd(r.rental_cost_usd),
            f"{r.energy_mwh:,.0f} MWh",
            fmt_usd(r.energy_cost_usd),
            fmt_usd(r.mining_revenue_usd),
        )
        for r in cost.rows
    ]
    console.print(
        records_table(
            f"Cost by duration (rental = hashprice x (1 + {cost.rental_premium:g}); power {cost.power_price_usd_per_kwh} USD/kWh)",
            ["duration", "rental", "energy", "energy cost", "block rewards earned meanwhile"],
            rows,
        )
    )


@network_app.command("blocks")
def blocks_cmd(
    window: Annotated[Window, typer.Option(help="Counting window.", case_sensitive=False)] = Window.MONTH,
    since: Annotated[str | None, typer.Option(help="First UTC day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last UTC day (YYYY-MM-DD).")] = None,
    confidence: Annotated[float, typer.Option(help="Confidence level of the hashrate intervals.")] = 0.95,
    delay: Annotated[float, typer.Option(help="Block propagation delay for the orphan rate [s].")] = 2.0,
    json_output: JSON_OPTION = False,
) -> None:
    """Hashrate from observed block intervals (chi-square CI) per window; Poisson facts; orphan rate."""
    if not 0.0 < confidence < 1.0:
        raise InputError("--confidence must lie in (0, 1)")
    selected = _select_blocks(since, until)
    table = hashrate_history(selected, window.value, confidence=confidence)
    facts = {
        "orphan_rate_at_delay": orphan_rate(delay),
        "propagation_delay_s": delay,
        "p_no_block_in_1h": probability_no_block(3600.0),
        "p_no_block_in_2h": probability_no_block(7200.0),
    }
    if table.empty:
        raise InputError(
            "no difficulty is shipped for this range (the retarget history ends at height 880,991)"
        )
    if json_output:
        print_json(
            {"window": window.value, "confidence": confidence, "hashrate": table.reset_index(), **facts}
        )
        return
    shown = table.tail(36)
    rows = [
        (
            f"{idx:%Y-%m-%d}",
            fmt_int(int(r["intervals"])),
            f"{float(r['mean_interval_s']):.1f}",
            f"{float(r['hashrate_ehs']):,.1f}",
            f"{float(r['hashrate_lower_ehs']):,.1f} .. {float(r['hashrate_upper_ehs']):,.1f}",
        )
        for idx, r in zip(shown.index, shown.to_dict(orient="records"), strict=True)
    ]
    console.print(
        records_table(
            f"Hashrate from block intervals per {window.value} (last {len(shown)} of {len(table)})",
            ["start", "intervals", "mean interval s", "EH/s", f"{confidence:.0%} CI"],
            rows,
        )
    )
    console.print(
        key_value_table(
            "Poisson block discovery",
            [
                ("P(no block for 1 h)", f"{facts['p_no_block_in_1h']:.5f}"),
                ("P(no block for 2 h)", f"{facts['p_no_block_in_2h']:.2e}"),
                (f"orphan rate at {delay:g} s propagation", _pct(facts["orphan_rate_at_delay"])),
            ],
        )
    )


def _read_block_file(path: Path) -> Block:
    """A block from a file, raw or hex (the same bounded reader as ``hashwatt block decode``)."""
    from hashwatt.cli.block import read_block_bytes

    data = read_block_bytes(str(path))
    try:
        return Block.from_bytes(data)
    except HashwattError as exc:
        raise InputError(
            f"{path}: not a serialized block ({exc})", field="--block-file", value=str(path), path=str(path)
        ) from exc


@network_app.command("attribute")
def attribute(
    block_file: Annotated[
        list[Path] | None, typer.Option("--block-file", help="A block, raw or hex (repeatable).")
    ] = None,
    node: Annotated[str | None, typer.Option(help="Bitcoin Core RPC URL http://USER:PASS@HOST:PORT.")] = None,
    height: Annotated[int | None, typer.Option(help="First height to fetch from --node.", min=0)] = None,
    count: Annotated[int, typer.Option(help="Blocks to fetch from --node.", min=1, max=1000)] = 1,
    testnet: Annotated[bool, typer.Option("--testnet", help="Decode payout addresses for testnet.")] = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Which pool mined a block: payout addresses, then coinbase tags (mempool.space's pool list)."""
    chain: Chain = "testnet" if testnet else "mainnet"
    results: list[BlockAttribution] = []
    for path in block_file or []:
        results.append(attribute_full_block(_read_block_file(path), chain=chain))
    if node is not None:
        if height is None:
            raise InputError("--node needs --height")
        from hashwatt.node import RpcClient

        results += attribute_blocks_from_node(RpcClient(node), range(height, height + count), chain=chain)
    elif height is not None:
        raise InputError("--height needs --node")
    if not results:
        raise InputError("give --block-file PATH or --node URL --height H")
    if json_output:
        print_json(results)
        return
    rows = [
        (
            "-" if r.height is None else fmt_int(r.height),
            r.block_hash[:20] + "...",
            f"{r.time_utc:%Y-%m-%d %H:%M}",
            r.pool or "unknown",
            r.matched_by or "-",
            r.coinbase_ascii[:40],
        )
        for r in results
    ]
    console.print(
        records_table("Block attribution", ["height", "hash", "time (UTC)", "pool", "by", "coinbase"], rows)
    )


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")


__all__ = ["network_app", "register"]

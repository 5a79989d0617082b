"""``hashwatt dispatch`` and ``hashwatt sites compare``: when to run, and where to build."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from hashwatt.cli._output import (
    JSON_OPTION,
    WIDE_OPTION,
    Column,
    console,
    fmt_usd,
    key_value_table,
    output_path,
    print_fitted_table,
    print_json,
    print_plain,
    save_figure,
)
from hashwatt.data.prices import FillMethod, PriceSeries, market_prices, read_price_csv
from hashwatt.economics import parse_pool_fee
from hashwatt.energy import (
    Conditions,
    DispatchResult,
    MachineClass,
    Tariff,
    dispatch_lp,
    dispatch_threshold,
    load_tariff,
)
from hashwatt.energy._sites import compare_sites, load_sites
from hashwatt.errors import InputError

sites_app = typer.Typer(help="Compare candidate mining sites.", no_args_is_help=True)


class Method(enum.StrEnum):
    """Dispatch method: the hourly threshold rule, the linear program, or LP when hours couple."""

    AUTO = "auto"
    THRESHOLD = "threshold"
    LP = "lp"


class Fill(enum.StrEnum):
    """How to repair a price file's gaps, duplicates and DST folds (``data.prices.FillMethod``)."""

    FFILL = "ffill"
    INTERPOLATE = "interpolate"
    DROP = "drop"


def _prices(
    prices: Path | None,
    market: str | None,
    year: int | None,
    *,
    fill: Fill | None,
    tz: str | None,
    node: str | None,
    time_column: str | None,
    price_column: str | None,
) -> PriceSeries:
    fill_method: FillMethod | None = None if fill is None else fill.value
    if prices is not None and market is not None:
        raise InputError("give either --prices FILE or --market/--year, not both")
    if prices is not None:
        return read_price_csv(
            prices, tz=tz, node=node, time_column=time_column, price_column=price_column, fill=fill_method
        )
    if market is None or year is None:
        raise InputError("give --prices FILE or --market ERCOT --year 2021")
    return market_prices(market, year, fill=fill_method)


def _machines(
    model: str | None, count: int | None, efficiency_j_per_th: float | None, power_mw: float | None
) -> list[MachineClass]:
    if model is not None:
        if efficiency_j_per_th is not None or power_mw is not None:
            raise InputError("give either --model/--count or --efficiency-j-per-th/--power-mw")
        from hashwatt.data.hardware import find_miner

        return [MachineClass.from_miner(find_miner(model), count or 1)]
    if efficiency_j_per_th is None or power_mw is None:
        raise InputError("give --model S21 --count 1000, or --efficiency-j-per-th 17.5 --power-mw 1")
    if efficiency_j_per_th <= 0 or power_mw <= 0:
        raise InputError("--efficiency-j-per-th and --power-mw must be > 0")
    return [MachineClass.from_efficiency(efficiency_j_per_th, power_mw)]


def _hashprice(value: float | None, history: bool, index: pd.DatetimeIndex) -> float | pd.Series:
    if value is not None and history:
        raise InputError("give either --hashprice or --hashprice-history")
    if value is not None:
        if value < 0:
            raise InputError("--hashprice must be >= 0 USD/PH/day")
        return value
    if not history:
        raise InputError("give --hashprice USD_PER_PH_DAY or --hashprice-history")
    from hashwatt.economics import hashprice_history

    frame = hashprice_history()
    series = frame["hashprice_usd_per_ph_day"].dropna()
    last = pd.Timestamp(series.index.max())
    if last.tz is None:
        last = last.tz_localize("UTC")
    if last < index[-1].floor("D"):
        raise InputError(
            f"the shipped hashprice history ends {last.date()}, before the price period ends "
            f"({index[-1].date()}); pass --hashprice instead",
            field="--hashprice",
            value=None,
        )
    return series


def _summary_rows(result: DispatchResult) -> list[tuple[str, str]]:
    s = result.summary
    rows = [
        ("method", s.method),
        ("hours", f"{s.hours:,}"),
        ("uptime (capacity-weighted)", f"{s.uptime_fraction:.2%}"),
        ("hours running", f"{s.hours_running:,}"),
        ("IT energy", f"{s.it_energy_mwh:,.1f} MWh"),
        ("grid energy", f"{s.grid_energy_mwh:,.1f} MWh"),
        ("mean hashrate", f"{s.mean_hashrate_ths / 1000:,.2f} PH/s"),
        ("revenue", fmt_usd(s.revenue_usd)),
        ("energy cost", fmt_usd(s.energy_cost_usd)),
    ]
    for label, value in (
        ("demand charges", s.demand_charge_usd),
        ("4CP transmission", s.four_cp_usd),
        ("fixed fees", s.fixed_usd),
        ("DR credits", -s.dr_credit_usd),
        ("restart costs", s.restart_cost_usd),
    ):
        if value:
            rows.append((label, fmt_usd(value)))
    rows += [
        ("total cost", fmt_usd(s.total_cost_usd)),
        ("profit", fmt_usd(s.profit_usd)),
        ("always-on profit", fmt_usd(s.always_on_profit_usd)),
        ("savings vs always-on", fmt_usd(s.savings_vs_always_on_usd)),
    ]
    return rows


def dispatch(
    prices: Annotated[Path | None, typer.Option("--prices", help="Price CSV (ISO export).")] = None,
    market: Annotated[str | None, typer.Option(help="Shipped market: ERCOT, CAISO, PJM, NYISO.")] = None,
    year: Annotated[
        int | None, typer.Option(help="Local calendar year of the shipped market (2020-2024).")
    ] = None,
    fill: Annotated[
        Fill | None, typer.Option(help="Repair gaps/duplicates/DST folds.", case_sensitive=False)
    ] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive local timestamps in --prices.")] = None,
    node: Annotated[str | None, typer.Option(help="Node to select in a multi-node --prices file.")] = None,
    time_column: Annotated[str | None, typer.Option(help="Time column of --prices.")] = None,
    price_column: Annotated[str | None, typer.Option(help="Price column of --prices [USD/MWh].")] = None,
    model: Annotated[str | None, typer.Option(help="Miner model from the catalog, e.g. S21.")] = None,
    count: Annotated[int | None, typer.Option(help="Number of machines of --model.", min=1)] = None,
    efficiency_j_per_th: Annotated[float | None, typer.Option(help="Fleet efficiency [J/TH].")] = None,
    power_mw: Annotated[float | None, typer.Option(help="Fleet power [MW].")] = None,
    hashprice: Annotated[float | None, typer.Option(help="Hashprice [USD/PH/day], constant.")] = None,
    hashprice_history: Annotated[
        bool, typer.Option("--hashprice-history", help="Use the shipped daily hashprice history.")
    ] = False,
    tariff: Annotated[Path | None, typer.Option(help="Tariff TOML (demand charges, 4CP, TOU...).")] = None,
    method: Annotated[
        Method, typer.Option(help="auto: LP when the tariff couples hours.", case_sensitive=False)
    ] = Method.AUTO,
    pue: Annotated[float, typer.Option(help="Power usage effectiveness [-].", min=1.0)] = 1.0,
    pool_fee: Annotated[str, typer.Option(help="Pool fee, e.g. 2% or 0.02.")] = "0%",
    plot: Annotated[Path | None, output_path("--plot", "Write a schedule plot (PNG).")] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Schedule a fleet hour by hour against prices: when to run, throttle or curtail."""
    series = _prices(
        prices, market, year, fill=fill, tz=tz, node=node, time_column=time_column, price_column=price_column
    )
    machines = _machines(model, count, efficiency_j_per_th, power_mw)
    price = series.price_usd_per_mwh
    hp = _hashprice(hashprice, hashprice_history, pd.DatetimeIndex(price.index))
    tariff_obj = load_tariff(tariff) if tariff is not None else Tariff(timezone=series.timezone)
    couples = bool(tariff_obj.demand or tariff_obj.four_cp or tariff_obj.demand_response) or (
        tariff_obj.energy.kind == "tiered"
    )
    use_lp = method is Method.LP or (method is Method.AUTO and couples)
    conditions = Conditions(pue=pue, pool_fee=parse_pool_fee(pool_fee))
    run = dispatch_lp if use_lp else dispatch_threshold
    result = run(price, machines, hp, tariff=tariff_obj, conditions=conditions)
    if plot is not None:
        from hashwatt.energy.plot import plot_schedule

        where = f"{market.upper()} {year}" if market is not None else f"{prices.name if prices else 'prices'}"
        fleet = (
            f"{count or 1} x {machines[0].name}"
            if model is not None
            else f"{power_mw:g} MW at {efficiency_j_per_th:g} J/TH"
        )
        hp_text = "hashprice history" if hashprice_history else f"hashprice {hashprice:g} USD/PH/day"
        title = f"{where}: {fleet}, {hp_text}, pool fee {conditions.pool_fee:.1%}, PUE {pue:g}"
        save_figure(plot_schedule(result, title=title, timezone=series.timezone), plot)
    if json_output:
        print_json(
            {
                "source": series.source,
                "fill": series.fill,
                "filled_intervals": series.filled_intervals,
                "issues_repaired": [str(i) for i in series.issues],
                "machines": [
                    {
                        "name": m.name,
                        "count": m.count,
                        "efficiency_j_per_th": m.efficiency_j_per_th,
                        "power_w": m.power_w,
                        "hashrate_ths": m.hashrate_ths,
                    }
                    for m in machines
                ],
                "tariff": tariff_obj.name,
                "hashprice_usd_per_ph_day_mean": float(result.schedule["hashprice_usd_per_ph_day"].mean()),
                "summary": result.summary,
                "plot": str(plot) if plot else None,
            }
        )
        return
    title = f"Dispatch: {series.source}"
    console.print(key_value_table(title, _summary_rows(result)))
    if series.issues:
        console.print(
            f"repaired {len(series.issues)} issue(s) with fill={series.fill}", style="yellow", markup=False
        )
    if plot is not None:
        print_plain(f"plot written to {plot}")


def _fmt_hashprice(value: float | str) -> str:
    return "daily history" if isinstance(value, str) else f"{value:g} USD/PH/day"


@sites_app.command("compare")
def sites_compare(
    file: Annotated[Path, typer.Argument(help="Sites TOML (see energy/examples/sites.toml).")],
    wide: WIDE_OPTION = False,
    json_output: JSON_OPTION = False,
) -> None:
    """Rank candidate sites by profit; show payback and emissions per PH and per BTC."""
    config = load_sites(file)
    results = compare_sites(config)
    if json_output:
        print_json({"fleet": config.fleet.model_dump(), "sites": results})
        return
    title = (
        f"Sites ranked by profit: {config.fleet.power_mw:g} MW at {config.fleet.efficiency_j_per_th:g} J/TH, "
        f"hashprice {_fmt_hashprice(config.fleet.hashprice_usd_per_ph_day)}, {config.fleet.year}"
    )
    columns = [
        Column("#"),
        Column("site", wrap=True, justify="left"),
        Column("uptime", drop=4),
        Column("PUE", drop=5),
        Column("profit/yr"),
        Column("payback yr", drop=1),
        Column("gCO2/kWh", drop=3),
        Column("kgCO2/PH-day", drop=6),
        Column("tCO2/BTC", drop=2),
    ]
    rows = [
        (
            str(r.rank),
            r.name,
            f"{r.uptime_fraction:.1%}",
            f"{r.mean_pue:.3f}",
            fmt_usd(r.profit_usd_per_year),
            "never" if r.payback_years is None else f"{r.payback_years:.1f}",
            "-" if r.carbon_g_per_kwh_mean is None else f"{r.carbon_g_per_kwh_mean:,.0f}",
            "-" if r.emissions_kg_per_ph_day is None else f"{r.emissions_kg_per_ph_day:,.0f}",
            "-" if r.emissions_t_per_btc is None else f"{r.emissions_t_per_btc:,.1f}",
        )
        for r in results
    ]
    print_fitted_table(title, columns, rows, wide=wide)


def register(app: typer.Typer) -> None:
    """Add ``dispatch`` and the ``sites`` group to the root app."""
    app.command("dispatch")(dispatch)
    app.add_typer(sites_app, name="sites")

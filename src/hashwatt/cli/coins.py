"""``hashwatt profit MODEL --coin ltc+doge`` and ``hashwatt profit MODEL --rank``: other coins.

``--coin`` runs the profit report on another coin or a merged-mining set; ``--rank`` answers
"what should this hardware mine" across every algorithm the machine is rated for. Both live
under ``profit`` because they take the same machine and cost inputs and answer the same
question, per coin; ``hashwatt rank`` stays the ranking of machines. The arithmetic is
:mod:`hashwatt.economics._coins`; this module parses and prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hashwatt.cli._output import (
    Column,
    console,
    err_console,
    fmt_si,
    fmt_usd,
    key_value_table,
    print_fitted_table,
    print_json,
    print_plain,
)
from hashwatt.data import STALE_AFTER_DAYS, UnknownMinerError, utc_today
from hashwatt.data.coins import AlgoMachine, AlgoRate, MiningAlgorithm, lookup_algo_machine, parse_hashrate_hs
from hashwatt.data.live import MempoolSpaceSource
from hashwatt.economics import Capex, CostModel
from hashwatt.economics._coins import (
    LIVE_COINS,
    CoinOverrides,
    CoinProfitResult,
    CoinState,
    coin_options,
    coin_profit,
    coin_spec,
    coin_state,
    coin_state_live,
    load_coin_data,
    parse_coin_set,
    rank_coins,
)
from hashwatt.economics.errors import EconomicsInputError
from hashwatt.errors import HashwattError

COIN = Annotated[
    str | None,
    typer.Option(
        "--coin",
        help="Mine another coin: ltc, doge, bch, etc, xmr, zec, dash, rvn, erg, eth (history only), "
        "or a merged-mining set such as ltc+doge.",
    ),
]
RANK = Annotated[
    bool,
    typer.Option("--rank", help="Rank every coin (and merged set) MODEL can mine by daily profit."),
]
COIN_DATA = Annotated[
    Path | None,
    typer.Option(
        "--coin-data",
        exists=True,
        dir_okay=False,
        readable=True,
        help="TOML or JSON with today's values per coin: [ltc] difficulty, price_usd_per_coin, "
        "subsidy_coin_per_block, fees_coin_per_block (flags win).",
    ),
]
COIN_DIFFICULTY = Annotated[
    list[str] | None,
    typer.Option(
        "--coin-difficulty", help="A coin's network difficulty, COIN=VALUE (e.g. ltc=30.5M), repeatable."
    ),
]
COIN_PRICE = Annotated[
    list[str] | None,
    typer.Option("--coin-price", help="A coin's price [USD], COIN=VALUE (e.g. doge=0.16), repeatable."),
]
COIN_REWARD = Annotated[
    list[str] | None,
    typer.Option(
        "--coin-reward",
        help="A coin's block subsidy to miners [coins/block], fees apart, COIN=VALUE (e.g. rvn=2500), repeatable.",
    ),
]
COIN_LIVE = Annotated[
    list[str] | None,
    typer.Option(
        "--coin-live",
        help="Read a coin's state from a mempool.space-compatible API, COIN=URL "
        f"(e.g. ltc=https://litecoinspace.org; {', '.join(LIVE_COINS)}), repeatable; --coin-* values win.",
    ),
]
HASHRATE = Annotated[
    list[str] | None,
    typer.Option(
        "--hashrate",
        help="A rating of MODEL, ALGO=RATE[@WATTS] (e.g. kawpow=24MH/s@150, scrypt=16G@3400), repeatable; "
        "replaces the catalog's.",
    ),
]

#: profit's Bitcoin-only options, refused with --coin/--rank (their per-coin forms are named).
_BTC_ONLY = {
    "difficulty": "--difficulty (use --coin-difficulty COIN=VALUE)",
    "hashrate_ehs": "--hashrate-ehs",
    "btc_price": "--btc-price (use --coin-price COIN=USD)",
    "fees_btc_per_block": "--fees-btc-per-block (use --coin-data)",
    "fee_share": "--fee-share",
    "hashprice": "--hashprice",
    "network_file": "--network (use --coin-data)",
    "live_url": "--live-url",
    "pool_hashrate_ehs": "--pool-hashrate-ehs",
    "heatmap": "--plot",
    "hashrate_ths": "--hashrate-ths (use --hashrate ALGO=RATE)",
    "catalog": "--catalog",
}


#: Where --coin-live responses are cached unless --cache-dir says (the Bitcoin adapter's folder).
LIVE_CACHE = Path.home() / ".cache" / "hashwatt" / "live"


def wants_coins(coin: str | None, rank: bool) -> bool:
    """True when ``profit`` should run the other-coin report (``--coin btc`` alone stays Bitcoin's)."""
    return rank or (coin is not None and coin.strip().lower() not in ("btc", "bitcoin"))


def other_algorithm_hint(model: str) -> EconomicsInputError | None:
    """For a name the SHA-256 catalog lacks: which coins the machine of that name mines, if known."""
    try:
        machine = lookup_algo_machine(model)
    except HashwattError:
        return None
    algorithms = sorted({r.algorithm.value for r in machine.rates} - {MiningAlgorithm.SHA256D.value})
    if not algorithms:
        return None
    coins = [
        "+".join(s.ticker.lower() for s in option)
        for a in algorithms
        for option in coin_options(MiningAlgorithm(a))
    ]
    return EconomicsInputError(
        f"{machine.model} mines {', '.join(algorithms)}, not Bitcoin's SHA-256: price it with "
        f'`hashwatt profit "{model}" --coin {coins[-1]}` (coins: {", ".join(coins)}) or --rank'
    )


def _pairs(flag: str, values: Sequence[str] | None) -> list[tuple[str, str]]:
    out = []
    for text in values or ():
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise EconomicsInputError(f"{flag} expects COIN=VALUE, got {text!r}", field=flag, value=text)
        out.append((key.strip(), value.strip()))
    return out


def _number(flag: str, text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise EconomicsInputError(f"{flag}: {text!r} is not a number", field=flag, value=text) from None
    return value


def coin_overrides(
    coin_data: Path | None,
    difficulty: Sequence[str] | None,
    price: Sequence[str] | None,
    reward: Sequence[str] | None,
) -> dict[str, CoinOverrides]:
    """Today's values per coin (lower-case ticker): the file, then the flags on top."""
    out = load_coin_data(coin_data) if coin_data is not None else {}
    flags: dict[str, dict[str, object]] = {}
    for flag, field, values in (
        ("--coin-difficulty", "difficulty", difficulty),
        ("--coin-price", "price_usd_per_coin", price),
        ("--coin-reward", "subsidy_coin_per_block", reward),
    ):
        for key, value in _pairs(flag, values):
            ticker = coin_spec(key).ticker.lower()
            flags.setdefault(ticker, {})[field] = value if field == "difficulty" else _number(flag, value)
    for ticker, doc in flags.items():
        given = CoinOverrides.validated(doc, source=f"options for {ticker}")
        out[ticker] = out[ticker].merged(given) if ticker in out else given
    return out


def machine_for(model: str, hashrates: Sequence[str] | None, power_w: float | None) -> AlgoMachine:
    """The catalog's machine (or a custom one when every rating is given), user ratings on top."""
    ratings = []
    for text in hashrates or ():
        algo, sep, rest = text.partition("=")
        if not sep or not rest.strip():
            raise EconomicsInputError(
                f"--hashrate expects ALGO=RATE[@WATTS], got {text!r}", field="--hashrate", value=text
            )
        rate_text, at, watts = rest.partition("@")
        power = _number("--hashrate", watts.strip().removesuffix("W").removesuffix("w")) if at else math.nan
        ratings.append(
            AlgoRate(MiningAlgorithm.parse(algo), parse_hashrate_hs(rate_text), power, "user input")
        )
    if ratings:
        try:
            machine = lookup_algo_machine(model)
        except UnknownMinerError:  # an unknown name with its ratings given is a custom machine
            machine = AlgoMachine(model=model, maker="custom", device_type="custom", rates=())
    else:
        machine = lookup_algo_machine(model)
    for rate in ratings:
        machine = machine.with_rate(rate)
    if power_w is not None:
        if not (math.isfinite(power_w) and power_w > 0):
            raise EconomicsInputError(
                f"--power-w must be > 0, got {power_w}", field="--power-w", value=power_w
            )
        if len(machine.rates) != 1:
            raise EconomicsInputError(
                "--power-w needs a machine with one rating; give --hashrate ALGO=RATE@WATTS"
            )
        machine = dataclasses.replace(
            machine, rates=(dataclasses.replace(machine.rates[0], power_w=power_w),)
        )
    return machine


def refuse_btc_only(options: Mapping[str, Any]) -> None:
    """One error line naming the Bitcoin-only options given with --coin/--rank."""
    given = [text for name, text in _BTC_ONLY.items() if options.get(name) not in (None, [], ())]
    if given:
        raise EconomicsInputError(
            f"with --coin or --rank, Bitcoin-only options do not apply: {', '.join(given)}",
            field=",".join(given),
            value=given,
        )


def _rate_unit(hashrate_hs: float, algorithm: str) -> str:
    return fmt_si(hashrate_hs, "Sol/s" if algorithm == MiningAlgorithm.EQUIHASH else "H/s")


def _efficiency(power_w: float, hashrate_hs: float) -> str:
    """Power per unit of hashrate with the hashrate's own prefix: 224 J/GH for 15 GH/s at 3,360 W."""
    prefixes = ["", "k", "M", "G", "T", "P", "E"]
    magnitude = 0
    scaled = hashrate_hs
    while scaled >= 1000 and magnitude < len(prefixes) - 1:
        scaled /= 1000
        magnitude += 1
    return f"{power_w / scaled:,.3g} J/{prefixes[magnitude]}H"


def _price(usd_per_coin: float) -> str:
    """A coin price: cents above a dollar, four significant digits below (DOGE was $0.003164)."""
    return fmt_usd(usd_per_coin, cents=True) if usd_per_coin >= 1 else f"${usd_per_coin:.4g}"


def _stale_warning(states: Sequence[CoinState]) -> None:
    today = utc_today()
    old = sorted(
        {
            (s.ticker, i.date)
            for s in states
            if s.as_of is not None
            for i in s.as_of.inputs
            if i.age_days(today) > STALE_AFTER_DAYS
        }
    )
    if old:
        parts = ", ".join(f"{t} {d.isoformat()} ({(today - d).days:,} days old)" for t, d in old)
        err_console.print(
            f"warning: shipped coin data end before today: {escape(parts)}; give --coin-difficulty, "
            "--coin-price, --coin-reward or --coin-data FILE for today's",
            highlight=False,
            soft_wrap=True,
        )


def _states(
    tickers: Sequence[str],
    overrides: Mapping[str, CoinOverrides],
    day: str | None,
    live: Mapping[str, CoinState],
) -> dict[str, CoinState]:
    when = None if day is None else _date(day)
    out = {}
    for t in tickers:
        key = t.lower()
        ov = overrides.get(key)
        if key in live:
            out[key] = live[key] if ov is None else _given_on(live[key], ov)
        else:
            out[key] = coin_state(t, day=when, overrides=ov)
    return out


def _given_on(state: CoinState, ov: CoinOverrides) -> CoinState:
    """A live state with the user's values on top (the user's word wins)."""
    values = {k: v for k, v in ov.model_dump(exclude_none=True).items()}
    as_of = state.as_of
    names = {
        "difficulty": "difficulty",
        "price_usd_per_coin": "price",
        "subsidy_coin_per_block": "subsidy",
        "fees_coin_per_block": "fees",
    }
    for field in values:
        if as_of is not None:
            as_of = as_of.with_override(names[field], utc_today())
    return dataclasses.replace(state, as_of=as_of, **values)


def live_states(pairs: Sequence[str] | None, cache_dir: Path) -> dict[str, CoinState]:
    """``--coin-live COIN=URL`` values read now (through the disk cache of the Bitcoin adapter)."""
    out = {}
    for key, url in _pairs("--coin-live", pairs):
        spec = coin_spec(key)
        out[spec.ticker.lower()] = coin_state_live(spec.ticker, MempoolSpaceSource(url, cache_dir=cache_dir))
    return out


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise EconomicsInputError(
            f"--date must be YYYY-MM-DD, got {text!r}", field="--date", value=text
        ) from None


def coin_profit_report(
    *,
    coin: str,
    count: int,
    costs: CostModel,
    day: str | None,
    overrides: Mapping[str, CoinOverrides],
    machine: AlgoMachine,
    machine_price: float | None,
    json_output: bool,
    live: Mapping[str, CoinState] | None = None,
) -> None:
    """``profit MODEL --coin SET``: the Bitcoin report's lines, per coin where they differ."""
    specs = parse_coin_set(coin)
    states = _states([s.ticker for s in specs], overrides, day, live or {})
    capex = Capex(machine_usd=machine_price) if machine_price is not None else None
    r = coin_profit(machine, specs, states=states, count=count, costs=costs, capex=capex)
    _stale_warning(list(states.values()))
    if json_output:
        print_json(
            {
                **dataclasses.asdict(r),
                "merged_mining": len(specs) > 1,
                "as_of": {
                    t: None if s.as_of is None else s.as_of.to_json(utc_today()) for t, s in states.items()
                },
                "heights": {t: s.height for t, s in states.items()},
                "notes": [s.note for s in specs if s.note],
            }
        )
        return
    print_profit_table(r, states, specs_note=[s.note for s in specs if s.note])


def print_profit_table(
    r: CoinProfitResult, states: Mapping[str, CoinState], *, specs_note: Sequence[str]
) -> None:
    def usd(x: float) -> str:
        return fmt_usd(x, cents=True)

    rows = [
        ("machine", f"{r.count} x {r.model}"),
        (
            "specs",
            f"{_rate_unit(r.hashrate_hs, r.algorithm)} {r.algorithm}, {r.power_w / 1000:,.2f} kW, "
            f"{_efficiency(r.power_w, r.hashrate_hs)}",
        ),
    ]
    if len(r.coins) > 1:
        rows.append(("mining", f"{' + '.join(r.coins)} merged (AuxPoW): the same hashes earn every coin"))
    today = utc_today()
    for rev in r.revenues:
        state = states[rev.ticker.lower()]
        rows.append(
            (
                f"{rev.ticker} network",
                f"{rev.date}: difficulty {fmt_si(rev.difficulty, '').strip()}, {rev.subsidy_coin_per_block:,.6g} + "
                f"{rev.fees_coin_per_block:,.4g} fees {rev.ticker}/block, {_price(rev.price_usd_per_coin)}",
            )
        )
        if state.as_of is not None:
            rows.append((f"{rev.ticker} as of", state.as_of.summary(today)))
        rows.append(
            (
                f"{rev.ticker} revenue",
                f"{rev.coins_per_day:,.6g} {rev.ticker}/day = {usd(rev.revenue_usd_per_day)}/day",
            )
        )
    rows += [
        ("pool fee", f"{r.pool_fee * 100:.2f} %"),
        ("revenue", f"{usd(r.revenue_usd_per_day)}/day"),
        ("energy", f"{r.energy_kwh_per_day:,.1f} kWh/day = {usd(r.energy_cost_usd_per_day)}/day"),
        ("other costs", f"{usd(r.fixed_cost_usd_per_day)}/day"),
        ("profit", f"{usd(r.profit_usd_per_day)}/day ({usd(r.profit_usd_per_day * 30.4375)}/month)"),
        ("break-even power price", f"{r.break_even_power_price_usd_per_kwh * 100:.2f} c/kWh"),
        (
            "break-even coin prices",
            f"{r.break_even_price_fraction * 100:.1f} % of the prices above, all together",
        ),
    ]
    if r.capex_usd is not None:
        payback = r.simple_payback_days
        rows.append(("simple payback", f"{payback:,.0f} days" if payback else "never at these numbers"))
    rows.append(("spec source", r.source))
    rows += [("note", n) for n in specs_note]
    console.print(key_value_table(f"Profitability of {r.model} on {'+'.join(r.coins)}", rows))


def coin_rank_report(
    *,
    machine: AlgoMachine,
    count: int,
    costs: CostModel,
    power_price: float,
    day: str | None,
    overrides: Mapping[str, CoinOverrides],
    live: Mapping[str, CoinState],
    wide: bool,
    json_output: bool,
) -> None:
    """``profit MODEL --rank``: every option, best first, in a table that fits 80 columns."""
    states = {t: _given_on(st, overrides[t]) if t in overrides else st for t, st in live.items()}
    ranked = rank_coins(
        machine,
        overrides={t: ov for t, ov in overrides.items() if t not in live},
        states=states,
        day=None if day is None else _date(day),
        count=count,
        costs=costs,
    )
    if json_output:
        print_json(
            {
                "model": machine.model,
                "count": count,
                "power_price_usd_per_kwh": power_price,
                "options": ranked,
            }
        )
        return
    dates = sorted({d for d in ranked["data_date"] if d is not None})
    if dates and (utc_today() - dates[0]).days > STALE_AFTER_DAYS:
        err_console.print(
            f"warning: the ranking uses data from {', '.join(str(d) for d in dates)}; give --coin-data FILE "
            "with today's difficulty, price and subsidy per coin for today's ranking",
            highlight=False,
            soft_wrap=True,
        )

    def money(x: float) -> str:
        return fmt_usd(x, cents=True)

    rows = [
        (
            i + 1,
            r["option"],
            r["algorithm"],
            _rate_unit(r["hashrate_hs"], r["algorithm"]),
            "n/a" if math.isnan(r["power_w"]) else f"{r['power_w']:,.0f}",
            money(r["revenue_usd_per_day"]),
            money(r["energy_cost_usd_per_day"]),
            money(r["profit_usd_per_day"]),
            "n/a"
            if math.isnan(r["break_even_power_price_usd_per_kwh"])
            else f"{r['break_even_power_price_usd_per_kwh'] * 100:.2f}",
            str(r["data_date"] or "no data"),
        )
        for i, r in enumerate(ranked.to_dict(orient="records"))
    ]
    cols = [
        Column("#"),
        Column("coin", wrap=True, justify="left"),
        Column("algorithm", drop=1, justify="left"),
        Column("hashrate", drop=3),
        Column("W", drop=5),
        Column("revenue/d", drop=4),
        Column("power/d", drop=6),
        Column("profit/d"),
        Column("b/e c/kWh", drop=2),
        Column("data"),
    ]
    title = f"What {machine.model} should mine at {power_price * 100:.2f} c/kWh"
    print_fitted_table(title, cols, rows, wide=wide)
    for option, note in dict.fromkeys(
        (r["option"], r["note"]) for r in ranked.to_dict(orient="records") if r["note"]
    ):
        print_plain(f"{option}: {note}")


def run(options: Mapping[str, Any]) -> None:
    """The ``profit`` command's other-coin branch, from its options (its ``locals()``)."""
    refuse_btc_only(options)
    if options["rank"] and options["coin"] is not None:
        raise EconomicsInputError("give --coin or --rank, not both")
    if options["coin_live"] and options["date"] is not None:
        raise EconomicsInputError("--date and --coin-live exclude each other")
    overrides = coin_overrides(
        options["coin_data"], options["coin_difficulty"], options["coin_price"], options["coin_reward"]
    )
    machine = machine_for(options["model"], options["hashrate"], options["power_w"])
    costs: CostModel = options["costs"]
    live = live_states(options["coin_live"], options["cache_dir"] or LIVE_CACHE)
    if options["rank"]:
        coin_rank_report(
            machine=machine,
            count=options["count"],
            costs=costs,
            power_price=options["power_price"],
            day=options["date"],
            overrides=overrides,
            live=live,
            wide=options["wide"],
            json_output=options["json_output"],
        )
        return
    coin_profit_report(
        coin=options["coin"],
        count=options["count"],
        costs=costs,
        day=options["date"],
        overrides=overrides,
        machine=machine,
        machine_price=options["machine_price"],
        json_output=options["json_output"],
        live=live,
    )

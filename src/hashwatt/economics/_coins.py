"""Economics for every proof-of-work coin: network state per coin, merged mining, and the ranking
of what a given machine should mine (WhatToMine's question).

Notes
-----
A hashrate ``h`` [H/s] finds blocks of a coin at difficulty ``D`` as a Poisson process of rate
``h / (D W)`` per second, ``W`` the coin's expected hashes per unit of difficulty (the same
closed form as Bitcoin's, :func:`hashwatt.economics.expected_blocks_per_day`):

* ``W = 2**32`` where difficulty follows Bitcoin's ``getdifficulty`` convention (difficulty 1 =
  target 0x1d00ffff): BTC, BCH, LTC, DOGE, DASH (and RVN, unverified). For the Scrypt coins this
  holds for the *network* difficulty: LTC's genesis bits 0x1e0ffff0 are difficulty 0.000244 =
  0xffff / (0x0ffff0 x 256), and 2**256 / target = D x 2**32 on the real headers (tested). The
  factor 65,536 of Scrypt miners belongs to *pool share* difficulty only (cpuminer's Stratum
  convention, share difficulty 1 = 2**16 hashes): ``2**32 x 65,536 / 65,536 = 2**32``.
* ``W = 1`` where difficulty is the expected hashes per block: ETH, ETC, XMR, ERG.
* ``W = 2**13 = 8192`` for ZEC (Equihash solutions; powLimit 2**243).

Revenue [coin/day] = ``86,400 h / (D W) x u (1 - f) x (s + k fees)``: ``u`` uptime, ``f`` pool
fee, ``k`` the scheme's share of fees (PPS: 0), ``s`` the subsidy *miners* receive per block
(ZEC 80 % of issuance, DASH 50 % of the issuance between superblocks; see :data:`COIN_SPECS`).
Merged mining (AuxPoW): the same hashes earn the parent and every child chain in full, so the
revenue of ``LTC+DOGE`` is the sum over the coins. Costs, break-evens and payback are the
Bitcoin engine's (:class:`CostModel`, :class:`Capex`).

The shipped coin data end on 2020-07-27 (Coin Metrics; ETH's proof of work on 2022-09-14). Given
values (:class:`CoinOverrides`) date the state today; for coins with consensus parameters
(BTC, LTC, DOGE) the subsidy then follows the schedule at the height projected at the target
block interval.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import pydantic

from hashwatt.chain import (
    BCH,
    BTC,
    COIN,
    DOGE,
    HASHES_PER_DIFFICULTY,
    LTC,
    SECONDS_PER_DAY,
    ChainParams,
    DogecoinSubsidy,
)
from hashwatt.data import AsOf, DatedInput, DateOutOfRangeError, LiveSource, utc_today
from hashwatt.data.coins import (
    COIN_HISTORY_FILES,
    ETH_LAST_POW_BLOCK,
    ETH_MERGE_DATE,
    AlgoMachine,
    AlgoRate,
    MiningAlgorithm,
    coin_daily_history,
)
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import Capex
from hashwatt.economics._overrides import parse_difficulty, read_inputs_file, validate_or_raise
from hashwatt.economics._profit import NetworkState, daily_costs
from hashwatt.economics._reports import simple_payback_days
from hashwatt.economics._revenue import expected_blocks_per_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "COIN_SPECS",
    "CoinOverrides",
    "CoinProfitResult",
    "CoinRevenue",
    "CoinSpec",
    "CoinState",
    "coin_options",
    "coin_profit",
    "coin_revenue",
    "coin_spec",
    "coin_state",
    "coin_state_live",
    "load_coin_data",
    "parse_coin_set",
    "rank_coins",
]


# ---------------------------------------------------------------- Dash's masternode share
# Dash Core mainnet (dashpay/dash: GetMasternodePayment, in src/masternode/payments.cpp, in
# src/validation.cpp in v20-era releases, with GetBlockSubsidyHelper for the treasury; heights
# from src/chainparams.cpp: nMasternodePaymentsIncreaseBlock 158,000 and Period 17,280,
# BRRHeight 1,374,912, nSuperblockCycle 16,616, V20Height 1,987,776, the era that starts the
# credit pool and the 75 % share, MnRewardEra::CreditPool): masternodes take a share of each block's value
# (the subsidy left after the treasury, plus fees) that rose from 20 % in steps, was reallocated
# toward 60 % from BRRHeight, and is 75 % of a block value that keeps 80 % of the subsidy from V20.
_DASH_MN_INCREASE_BLOCK = 158_000
_DASH_MN_INCREASE_PERIOD = 576 * 30
#: (periods after the increase block, share added once the height passes it).
_DASH_MN_STEPS = (
    (0, 0.05),
    (1, 0.05),
    (2, 0.05),
    (3, 0.025),
    (4, 0.025),
    (5, 0.025),
    (6, 0.025),
    (7, 0.025),
    (9, 0.025),
)
_DASH_BRR_HEIGHT = 1_374_912
_DASH_SUPERBLOCK_CYCLE = 16_616
_DASH_V20_HEIGHT = 1_987_776
#: Masternode share per reallocation period (three superblock cycles each) [per mille].
_DASH_BRR_PERMILLE = (
    513,
    526,
    533,
    540,
    546,
    552,
    557,
    562,
    567,
    572,
    577,
    582,
    585,
    588,
    591,
    594,
    597,
    599,
    600,
)


def dash_masternode_share(height: int) -> float:
    """Share of a Dash block's value (subsidy after the treasury, plus fees) paid to masternodes [-].

    The miner keeps the rest: 80 % until height 158,000, 50 % from 313,521, 40-48.7 % during the
    reallocation from 1,379,128, 25 % from V20 (1,987,776).
    """
    share = 0.20
    for periods, step in _DASH_MN_STEPS:
        if height > _DASH_MN_INCREASE_BLOCK + periods * _DASH_MN_INCREASE_PERIOD:
            share += step
    cycle = _DASH_SUPERBLOCK_CYCLE
    realloc_start = _DASH_BRR_HEIGHT - _DASH_BRR_HEIGHT % cycle + cycle
    if height < realloc_start:
        return share
    if height >= _DASH_V20_HEIGHT:
        return 0.75
    period = min((height - realloc_start) // (3 * cycle), len(_DASH_BRR_PERMILLE) - 1)
    return _DASH_BRR_PERMILLE[period] / 1000


@dataclasses.dataclass(frozen=True, slots=True)
class CoinSpec:
    """What the economics need to know about a coin.

    ``hashes_per_difficulty``: expected hashes per unit of difficulty [H]; ``block_interval_s``:
    target block time [s] (ETH/ETC: the typical ~13 s, their difficulty has no fixed target);
    ``miner_share``: share of the shipped daily issuance that reaches miners [-];
    ``masternode_share``: for coins whose masternodes take part of each block's value (subsidy and
    fees) by height, that share (the miner keeps the rest; ``miner_share`` is then unused); ``chain``: the
    consensus parameters where hashwatt has them (their subsidy schedule is then used);
    ``pow_ended``: the day proof of work stopped (the ranking never offers the coin).
    """

    ticker: str
    name: str
    algorithm: MiningAlgorithm
    hashes_per_difficulty: float
    block_interval_s: float
    miner_share: float = 1.0
    masternode_share: Callable[[int], float] | None = None
    chain: ChainParams | None = None
    pow_ended: dt.date | None = None
    note: str = ""

    @property
    def has_history(self) -> bool:
        return self.ticker.lower() in COIN_HISTORY_FILES or self.chain is BTC

    @property
    def merged_mining_child(self) -> bool:
        """True when the coin accepts AuxPoW, i.e. can be merge-mined under a parent chain."""
        return self.chain is not None and self.chain.auxpow is not None


def _spec(
    ticker: str, name: str, algorithm: MiningAlgorithm, w: float, interval: float, **kw: object
) -> CoinSpec:
    return CoinSpec(ticker, name, algorithm, w, interval, **kw)  # type: ignore[arg-type]


_A = MiningAlgorithm
#: Every coin the economics know, by lower-case ticker.
COIN_SPECS: dict[str, CoinSpec] = {
    s.ticker.lower(): s
    for s in (
        _spec("BTC", "bitcoin", _A.SHA256D, HASHES_PER_DIFFICULTY, BTC.target_block_interval_s, chain=BTC),
        _spec(
            "BCH", "bitcoin cash", _A.SHA256D, HASHES_PER_DIFFICULTY, BCH.target_block_interval_s, chain=BCH
        ),
        _spec("LTC", "litecoin", _A.SCRYPT, HASHES_PER_DIFFICULTY, LTC.target_block_interval_s, chain=LTC),
        _spec("DOGE", "dogecoin", _A.SCRYPT, HASHES_PER_DIFFICULTY, DOGE.target_block_interval_s, chain=DOGE),
        _spec(
            "DASH",
            "dash",
            _A.X11,
            HASHES_PER_DIFFICULTY,
            150,
            masternode_share=dash_masternode_share,
            note="miners keep the block value (subsidy after the treasury, plus fees) less the "
            "masternodes' share by height, Dash Core's schedule (50 % from mid-2015 to 2021); the "
            "shipped daily issuance is taken as the block value (the treasury paid out in "
            "superblocks counted in)",
        ),
        _spec("ETC", "ethereum classic", _A.ETCHASH, 1.0, 13),
        _spec(
            "ETH",
            "ethereum (proof of work)",
            _A.ETHASH,
            1.0,
            13,
            pow_ended=ETH_MERGE_DATE,
            note=f"proof of work ended at block {ETH_LAST_POW_BLOCK:,} on {ETH_MERGE_DATE} (the Merge); "
            "history kept for backtests",
        ),
        _spec("XMR", "monero", _A.RANDOMX, 1.0, 120),
        _spec(
            "ZEC",
            "zcash",
            _A.EQUIHASH,
            8192.0,
            75,
            miner_share=0.8,
            note="miners get 80 % (funding streams 20 %)",
        ),
        _spec(
            "RVN",
            "ravencoin",
            _A.KAWPOW,
            HASHES_PER_DIFFICULTY,
            60,
            note="no shipped network data; difficulty taken as Bitcoin's convention (unverified)",
        ),
        _spec("ERG", "ergo", _A.AUTOLYKOS2, 1.0, 120, note="no shipped network data"),
    )
}
#: The coins a live source can price: those with a subsidy schedule in their chain parameters.
LIVE_COINS = tuple(t for t, spec in COIN_SPECS.items() if spec.chain is not None)


def coin_spec(ticker: str) -> CoinSpec:
    """A coin by ticker or name, any case."""
    key = ticker.strip().lower()
    spec = COIN_SPECS.get(key) or next((s for s in COIN_SPECS.values() if s.name == key), None)
    if spec is None:
        raise EconomicsInputError(
            f"unknown coin {ticker!r} (one of {', '.join(COIN_SPECS)})", field="coin", value=ticker
        )
    return spec


def parse_coin_set(text: str) -> tuple[CoinSpec, ...]:
    """``"ltc"`` or a merged-mining set ``"ltc+doge"``: one algorithm, at most one non-AuxPoW parent."""
    specs = tuple(coin_spec(part) for part in text.split("+") if part.strip())
    if not specs:
        raise EconomicsInputError("--coin needs a coin, e.g. ltc or ltc+doge")
    if len({s.ticker for s in specs}) != len(specs):
        raise EconomicsInputError(f"{text!r} names a coin twice", field="coins", value=text)
    if len(specs) > 1:
        algorithms = {s.algorithm for s in specs}
        if len(algorithms) > 1:
            raise EconomicsInputError(
                f"{text!r} mixes algorithms ({', '.join(sorted(algorithms))}): merged mining shares one hash",
                field="coins",
                value=text,
            )
        parents = [s.ticker for s in specs if not s.merged_mining_child]
        if len(parents) > 1:
            raise EconomicsInputError(
                f"{' and '.join(parents)} cannot be merge-mined together: only AuxPoW chains (DOGE) ride on a parent",
                field="coins",
                value=text,
            )
    return specs


@dataclasses.dataclass(frozen=True, slots=True)
class CoinState:
    """One coin's network inputs: difficulty (its own convention), miners' subsidy and mean fees
    [coin/block], price [USD/coin], the day and (where known) the height."""

    ticker: str
    date: dt.date | None
    height: int | None
    difficulty: float
    subsidy_coin_per_block: float
    fees_coin_per_block: float
    price_usd_per_coin: float
    as_of: AsOf | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.difficulty) and self.difficulty > 0):
            raise EconomicsInputError(
                f"{self.ticker}: difficulty must be positive, got {self.difficulty}",
                field="difficulty",
                value=self.difficulty,
            )
        for name in ("subsidy_coin_per_block", "fees_coin_per_block", "price_usd_per_coin"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise EconomicsInputError(
                    f"{self.ticker}: {name} must be >= 0 and known, got {value}", field=name, value=value
                )


class CoinOverrides(pydantic.BaseModel):
    """Today's values for one coin (all optional); a ``--coin-data`` file holds one table per coin."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    difficulty: float | None = None
    price_usd_per_coin: float | None = None
    subsidy_coin_per_block: float | None = None
    fees_coin_per_block: float | None = None

    @pydantic.field_validator("difficulty", mode="before")
    @classmethod
    def _difficulty(cls, value: object) -> float | None:
        return None if value is None else parse_difficulty(value)  # type: ignore[arg-type]

    @pydantic.field_validator("price_usd_per_coin", "subsidy_coin_per_block", "fees_coin_per_block")
    @classmethod
    def _non_negative(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and 0 <= value <= 1e12):
            raise EconomicsInputError(f"must be a finite number >= 0, got {value!r}")
        return value

    @classmethod
    def validated(cls, doc: Mapping[str, object], *, source: str) -> CoinOverrides:
        """The values of ``doc``, or one :class:`EconomicsInputError` naming ``source`` and the field."""
        return validate_or_raise(cls, doc, source=source)

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def merged(self, other: CoinOverrides) -> CoinOverrides:
        """These values with ``other``'s given ones on top (flags over a file)."""
        return CoinOverrides.model_validate(
            self.model_dump(exclude_none=True) | other.model_dump(exclude_none=True)
        )


def load_coin_data(path: str | Path) -> dict[str, CoinOverrides]:
    """A TOML or JSON file of today's values, one table per coin (``[ltc]``, ``[doge]``)."""
    path = Path(path)
    doc = read_inputs_file(path, what="coin data file")
    if not isinstance(doc, dict):
        raise EconomicsInputError(
            f"{path}: expected one table per coin, e.g. [ltc]",
            field="file",
            value=type(doc).__name__,
            path=str(path),
        )
    out: dict[str, CoinOverrides] = {}
    for key, table in doc.items():
        spec = coin_spec(str(key))
        if not isinstance(table, dict):
            raise EconomicsInputError(
                f"{path}: [{key}] must be a table of values", field=str(key), value=table, path=str(path)
            )
        out[spec.ticker.lower()] = CoinOverrides.validated(table, source=f"{path}: [{key}]")
    return out


def _btc_state(day: dt.date | None) -> CoinState:
    net = NetworkState.latest() if day is None else NetworkState.on(day)
    return CoinState(
        ticker="BTC",
        date=net.date,
        height=net.height,
        difficulty=net.difficulty,
        subsidy_coin_per_block=net.subsidy_btc_per_block,
        fees_coin_per_block=net.fees_btc_per_block,
        price_usd_per_coin=net.price_usd,
        as_of=net.as_of,
    )


def _shipped_state(spec: CoinSpec, day: dt.date | None) -> CoinState:
    if spec.chain is BTC:
        return _btc_state(day)
    if not spec.has_history:
        raise EconomicsInputError(
            f"no shipped network data for {spec.ticker}: give its difficulty, price and subsidy (--coin-data)",
            field="coin_data",
            value=spec.ticker,
        )
    hist = coin_daily_history(spec.ticker)
    first, last = hist.index[0].date(), hist.index[-1].date()
    if day is None:
        row, date = hist.iloc[-1], last
    else:
        if not first <= day <= last:
            raise EconomicsInputError(
                f"{spec.ticker} history covers {first} to {last}, not {day}", field="day", value=day
            )
        pos = int(hist.index.get_indexer(pd.DatetimeIndex([pd.Timestamp(day)]))[0])
        if pos < 0:
            raise EconomicsInputError(f"{spec.ticker} history has no row for {day}", field="day", value=day)
        row, date = hist.iloc[pos], day
    blocks = float(row["block_count"])
    height = int(row["height"])
    sched = spec.chain.subsidy if spec.chain is not None else None
    # The miners' part of subsidy and fees where masternodes take theirs by height.
    keep = 1.0 - spec.masternode_share(height) if spec.masternode_share is not None else None
    if isinstance(sched, DogecoinSubsidy) and height < sched.simplified_height:
        # Dogecoin's early rewards were random: the schedule holds their maximum, the data the mean
        subsidy, subsidy_source = float(row["issuance_native"]) / blocks, "coinmetrics (random-reward era)"
    elif spec.chain is not None:
        subsidy, subsidy_source = (
            spec.chain.block_subsidy_sat(height) / COIN,
            f"schedule at height {height:,}",
        )
    elif keep is not None:
        subsidy = float(row["issuance_native"]) / blocks * keep
        subsidy_source = f"coinmetrics, miners' {keep:.1%} at height {height:,}"
    else:
        subsidy, subsidy_source = float(row["issuance_native"]) / blocks * spec.miner_share, "coinmetrics"
    if math.isnan(subsidy) or math.isnan(float(row["price_usd"])):
        raise EconomicsInputError(
            f"{spec.ticker} on {date}: the shipped data have no issuance or price that day; give them (--coin-data)",
            field="coin_data",
            value=date,
        )
    fees, fees_source = float(row["fees_native"]) / blocks, "coinmetrics"
    if keep is not None:  # the masternodes' share is of subsidy and fees alike
        fees, fees_source = fees * keep, f"coinmetrics, miners' {keep:.1%} at height {height:,}"
    as_of = AsOf(
        (
            DatedInput("difficulty", date, "coinmetrics"),
            DatedInput("price", date, "coinmetrics"),
            DatedInput("subsidy", date, subsidy_source),
            DatedInput("fees", date, fees_source),
        )
    )
    return CoinState(
        ticker=spec.ticker,
        date=date,
        height=height,
        difficulty=float(row["difficulty"]),
        subsidy_coin_per_block=subsidy,
        fees_coin_per_block=0.0 if math.isnan(fees) else fees,
        price_usd_per_coin=float(row["price_usd"]),
        as_of=as_of,
    )


def coin_state(
    ticker: str,
    *,
    day: dt.date | None = None,
    overrides: CoinOverrides | None = None,
    today: dt.date | None = None,
) -> CoinState:
    """A coin's network state: the shipped day (default: the last), then the given values.

    With values given and no ``day`` the state is dated ``today`` (default: the UTC date); a coin
    with consensus parameters (LTC, DOGE, BTC) then takes its subsidy from the schedule at the
    height projected from the last shipped day at the target block time, unless the subsidy is
    given. With a ``day``, the given values replace that day's.
    A coin without shipped data (RVN, ERG) needs difficulty, price and subsidy given.
    """
    spec = coin_spec(ticker)
    ov = overrides or CoinOverrides()
    if ov.empty:
        return _shipped_state(spec, day)
    now = utc_today() if today is None else today
    if not spec.has_history:
        missing = [
            n
            for n in ("difficulty", "price_usd_per_coin", "subsidy_coin_per_block")
            if getattr(ov, n) is None
        ]
        if missing:
            raise EconomicsInputError(
                f"no shipped network data for {spec.ticker}: give {', '.join(missing)} (--coin-data)",
                field=",".join(missing),
                value=spec.ticker,
            )
        inputs = tuple(DatedInput(n, now, "override") for n in ("difficulty", "price", "subsidy", "fees"))
        return CoinState(
            ticker=spec.ticker,
            date=now,
            height=None,
            difficulty=ov.difficulty,  # type: ignore[arg-type]
            subsidy_coin_per_block=ov.subsidy_coin_per_block,  # type: ignore[arg-type]
            fees_coin_per_block=ov.fees_coin_per_block or 0.0,
            price_usd_per_coin=ov.price_usd_per_coin,  # type: ignore[arg-type]
            as_of=AsOf(inputs),
        )
    base = _shipped_state(spec, day)
    as_of = base.as_of or AsOf(())
    height = base.height
    subsidy = base.subsidy_coin_per_block
    if (
        day is None
        and spec.chain is not None
        and base.height is not None
        and base.date is not None
        and now > base.date
    ):
        height = base.height + int((now - base.date).days * SECONDS_PER_DAY / spec.block_interval_s)
        subsidy = spec.chain.block_subsidy_sat(height) / COIN
        projected = DatedInput(
            "subsidy", now, f"schedule at estimated height {height:,}", date_estimated=True
        )
        as_of = AsOf(tuple(projected if i.name == "subsidy" else i for i in as_of.inputs))
    given = {
        "difficulty": ("difficulty", ov.difficulty),
        "price": ("price_usd_per_coin", ov.price_usd_per_coin),
        "subsidy": ("subsidy_coin_per_block", ov.subsidy_coin_per_block),
        "fees": ("fees_coin_per_block", ov.fees_coin_per_block),
    }
    values = {
        "difficulty": base.difficulty,
        "price_usd_per_coin": base.price_usd_per_coin,
        "subsidy_coin_per_block": subsidy,
        "fees_coin_per_block": base.fees_coin_per_block,
    }
    for input_name, (field, value) in given.items():
        if value is not None:
            values[field] = value
            as_of = as_of.with_override(input_name, now)
    return CoinState(
        ticker=spec.ticker, date=now if day is None else day, height=height, as_of=as_of, **values
    )


def coin_state_live(ticker: str, source: LiveSource) -> CoinState:
    """A coin's state from a live source (a mempool.space-compatible API of that chain, e.g. a
    self-hosted mempool or litecoinspace.org for LTC): tip height, difficulty, mean fees of the
    last 24 h and price; the subsidy follows the coin's schedule at the next height, so only coins
    with consensus parameters (BTC, LTC, DOGE) are accepted. Dated the price's UTC day."""
    spec = coin_spec(ticker)
    if spec.chain is None:
        raise EconomicsInputError(
            f"a live source needs a coin with a subsidy schedule ({', '.join(LIVE_COINS)}), not {spec.ticker}",
            field="coin",
            value=spec.ticker,
        )
    height = source.tip_height()
    difficulty = source.difficulty()
    fees = source.fees_btc_per_block()  # [coin/block]: the endpoint's base units / 1e8 on every chain here
    price, when = source.price_usd()
    day = when.date()
    subsidy = spec.chain.block_subsidy_sat(height + 1) / COIN
    inputs = tuple(DatedInput(n, day, "live") for n in ("difficulty", "price", "subsidy", "fees"))
    return CoinState(
        ticker=spec.ticker,
        date=day,
        height=height,
        difficulty=difficulty,
        subsidy_coin_per_block=subsidy,
        fees_coin_per_block=fees,
        price_usd_per_coin=price,
        as_of=AsOf(inputs),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class CoinRevenue:
    """One coin's share of a machine's daily revenue."""

    ticker: str
    date: dt.date | None
    difficulty: float
    subsidy_coin_per_block: float
    fees_coin_per_block: float
    price_usd_per_coin: float
    blocks_per_day: float
    network_share: float
    coins_per_day: float
    revenue_usd_per_day: float


def coin_revenue(hashrate_hs: float, spec: CoinSpec, state: CoinState, costs: CostModel) -> CoinRevenue:
    """Expected daily revenue of ``hashrate_hs`` [H/s] on one coin (see module notes)."""
    blocks = float(
        expected_blocks_per_day(
            hashrate_hs / 1e12, state.difficulty, hashes_per_difficulty=spec.hashes_per_difficulty
        )
    )
    share = blocks * spec.block_interval_s / SECONDS_PER_DAY
    if share > 1.0:
        raise EconomicsInputError(
            f"{hashrate_hs:.4g} H/s is more than the whole {spec.ticker} network at difficulty "
            f"{state.difficulty:.4g}: lower --count or check the difficulty",
            field="hashrate_hs",
            value=hashrate_hs,
        )
    reward = state.subsidy_coin_per_block + costs.fee_share * state.fees_coin_per_block
    coins = blocks * reward * costs.kept_fraction
    return CoinRevenue(
        ticker=spec.ticker,
        date=state.date,
        difficulty=state.difficulty,
        subsidy_coin_per_block=state.subsidy_coin_per_block,
        fees_coin_per_block=state.fees_coin_per_block,
        price_usd_per_coin=state.price_usd_per_coin,
        blocks_per_day=blocks,
        network_share=share,
        coins_per_day=coins,
        revenue_usd_per_day=coins * state.price_usd_per_coin,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class CoinProfitResult:
    """Daily economics of ``count`` machines mining a coin or a merged set (USD unless named).

    ``break_even_price_fraction``: the share of today's coin prices (all scaled together) at
    which profit is zero [-]; ``simple_payback_days``: capex / daily profit (None: never or no
    price given).
    """

    model: str
    coins: tuple[str, ...]
    algorithm: str
    count: int
    hashrate_hs: float
    power_w: float
    revenues: tuple[CoinRevenue, ...]
    revenue_usd_per_day: float
    energy_kwh_per_day: float
    energy_cost_usd_per_day: float
    fixed_cost_usd_per_day: float
    total_cost_usd_per_day: float
    profit_usd_per_day: float
    margin: float
    break_even_power_price_usd_per_kwh: float
    break_even_price_fraction: float
    pool_fee: float
    capex_usd: float | None
    simple_payback_days: float | None
    source: str


def _rate_for(machine: AlgoMachine, algorithm: MiningAlgorithm) -> AlgoRate:
    rate = machine.rate(algorithm)
    if rate is None:
        have = ", ".join(r.algorithm.value for r in machine.rates) or "none"
        raise EconomicsInputError(
            f"{machine.model} has no {algorithm.value} rating (it has: {have}); give --hashrate {algorithm.value}=RATE",
            field="hashrate",
            value=algorithm.value,
        )
    return rate


def coin_profit(
    machine: AlgoMachine,
    coins: str | Sequence[CoinSpec],
    *,
    states: Mapping[str, CoinState] | None = None,
    count: int = 1,
    costs: CostModel | None = None,
    capex: Capex | None = None,
) -> CoinProfitResult:
    """Daily revenue, cost, profit, break-evens and payback of ``machine`` on a coin set.

    ``coins``: ``"ltc"``, ``"ltc+doge"`` (merged) or specs; ``states``: network states by
    ticker (lower case), default each coin's last shipped day (:func:`coin_state`).
    """
    if count < 1:
        raise EconomicsInputError(f"count must be >= 1, got {count}", field="count", value=count)
    specs = parse_coin_set(coins) if isinstance(coins, str) else tuple(coins)
    costs = costs or CostModel()
    rate = _rate_for(machine, specs[0].algorithm)
    if math.isnan(rate.power_w):
        raise EconomicsInputError(
            f"{machine.model}: the source gives no power on {rate.algorithm.value}; give --power-w",
            field="power_w",
            value=None,
        )
    given = states or {}
    hashrate = rate.hashrate_hs * count
    revenues = tuple(
        coin_revenue(hashrate, s, given.get(s.ticker.lower()) or coin_state(s.ticker), costs) for s in specs
    )
    revenue = sum(r.revenue_usd_per_day for r in revenues)
    day = daily_costs(costs, power_w=rate.power_w, count=count, revenue_usd_per_day=revenue)
    capex_usd = capex.total_usd(count=count, power_w=rate.power_w) if capex is not None else None
    return CoinProfitResult(
        model=machine.model,
        coins=tuple(s.ticker for s in specs),
        algorithm=rate.algorithm.value,
        count=count,
        hashrate_hs=hashrate,
        power_w=rate.power_w * count,
        revenues=revenues,
        revenue_usd_per_day=revenue,
        energy_kwh_per_day=day.energy_kwh_per_day,
        energy_cost_usd_per_day=day.energy_cost_usd_per_day,
        fixed_cost_usd_per_day=day.fixed_cost_usd_per_day,
        total_cost_usd_per_day=day.total_cost_usd_per_day,
        profit_usd_per_day=day.profit_usd_per_day,
        margin=day.margin,
        break_even_power_price_usd_per_kwh=day.break_even_power_price_usd_per_kwh,
        break_even_price_fraction=day.total_cost_usd_per_day / revenue if revenue > 0 else float("inf"),
        pool_fee=costs.effective_pool_fee,
        capex_usd=capex_usd,
        simple_payback_days=None
        if capex_usd is None
        else simple_payback_days(capex_usd, day.profit_usd_per_day),
        source=rate.source,
    )


def coin_options(algorithm: MiningAlgorithm) -> list[tuple[CoinSpec, ...]]:
    """What hardware of one algorithm can mine: each live coin, and the merged set when one exists."""
    live = [s for s in COIN_SPECS.values() if s.algorithm is algorithm and s.pow_ended is None]
    options: list[tuple[CoinSpec, ...]] = [(s,) for s in live]
    parents = [s for s in live if not s.merged_mining_child]
    children = [s for s in live if s.merged_mining_child]
    if children:
        options += [(p, *children) for p in parents]
    return options


def rank_coins(
    machine: AlgoMachine,
    *,
    overrides: Mapping[str, CoinOverrides] | None = None,
    states: Mapping[str, CoinState] | None = None,
    day: dt.date | None = None,
    count: int = 1,
    costs: CostModel | None = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """What ``machine`` should mine: every coin (and merged set) of every algorithm it is rated
    for, by daily profit, best first; revenue only where the source gives no power.

    Ethereum is never offered (proof of work ended 2022-09-15). Coins without shipped data (RVN,
    ERG) appear with a note unless ``overrides`` give their difficulty, price and subsidy;
    ``states`` (by lower-case ticker, e.g. from :func:`coin_state_live`) are used as given. One row
    per option: option ("LTC+DOGE"), algorithm, hashrate_hs, power_w, revenue_usd_per_day,
    energy_cost_usd_per_day, profit_usd_per_day, break_even_power_price_usd_per_kwh, data_date
    (the oldest input's day), note, source.
    """
    costs = costs or CostModel()
    given = overrides or {}
    known = states or {}
    rows = []
    for rate in machine.rates:
        for option in coin_options(rate.algorithm):
            name = "+".join(s.ticker for s in option)
            row: dict[str, object] = {
                "option": name,
                "algorithm": rate.algorithm.value,
                "hashrate_hs": rate.hashrate_hs * count,
                "power_w": rate.power_w * count,
                "revenue_usd_per_day": math.nan,
                "energy_cost_usd_per_day": math.nan,
                "profit_usd_per_day": math.nan,
                "break_even_power_price_usd_per_kwh": math.nan,
                "data_date": None,
                "note": "; ".join(s.note for s in option if s.note),
                "source": rate.source,
            }
            try:
                chosen = {
                    s.ticker.lower(): known.get(s.ticker.lower())
                    or coin_state(s.ticker, day=day, overrides=given.get(s.ticker.lower()), today=today)
                    for s in option
                }
            except (EconomicsInputError, DateOutOfRangeError) as exc:
                row["note"] = str(exc)
                rows.append(row)
                continue
            dates = [st.as_of.date if st.as_of is not None else st.date for st in chosen.values()]
            row["data_date"] = min(d for d in dates if d is not None)
            if math.isnan(rate.power_w):
                revenues = [
                    coin_revenue(rate.hashrate_hs * count, s, chosen[s.ticker.lower()], costs) for s in option
                ]
                row["revenue_usd_per_day"] = sum(r.revenue_usd_per_day for r in revenues)
                row["note"] = "; ".join(
                    n for n in ("no power in the source: revenue only", str(row["note"])) if n
                )
            else:
                single = dataclasses.replace(machine, rates=(rate,))
                r = coin_profit(single, option, states=chosen, count=count, costs=costs)
                row["revenue_usd_per_day"] = r.revenue_usd_per_day
                row["energy_cost_usd_per_day"] = r.energy_cost_usd_per_day
                row["profit_usd_per_day"] = r.profit_usd_per_day
                row["break_even_power_price_usd_per_kwh"] = r.break_even_power_price_usd_per_kwh
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(_RANK_COLUMNS))
    return frame.sort_values(
        ["profit_usd_per_day", "revenue_usd_per_day"], ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)


_RANK_COLUMNS = (
    "option",
    "algorithm",
    "hashrate_hs",
    "power_w",
    "revenue_usd_per_day",
    "energy_cost_usd_per_day",
    "profit_usd_per_day",
    "break_even_power_price_usd_per_kwh",
    "data_date",
    "note",
    "source",
)

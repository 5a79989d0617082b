"""Profitability of a machine (or N of them) at one network state.

Notes
-----
With ``h`` the fleet hashrate [TH/s], ``u`` uptime, ``f`` pool fee, ``k`` the scheme's fee
share (PPS: 0) and ``B = 86,400 h 1e12 / (D 2**32)`` expected blocks/day:

* revenue_btc_per_day = B u (1 - f) (subsidy + k fees)
* revenue_usd_per_day = revenue_btc_per_day x price
* energy cost = kWh/day x price [USD/kWh]; kWh/day = P/1000 x 24 x u x PUE
* break-even electricity price = (revenue_usd - fixed costs) / kWh per day [USD/kWh]
* break-even hashprice = total cost / (h/1000 x u x (1 - f) x (subsidy + k fees)/(subsidy + fees))
  [USD/PH/day]
* cost per BTC = total cost per day / revenue_btc_per_day [USD/BTC] (= break-even BTC price)
* shutdown price = energy cost per day / revenue_btc_per_day [USD/BTC]: below it the
  machine does not cover its electricity (the marginal cost).
* all-in cost per BTC = (total cost + straight-line depreciation) / revenue_btc_per_day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hashwatt.chain import COIN, TARGET_BLOCK_INTERVAL_S, block_subsidy_sat
from hashwatt.data import AsOf, MinerModel, NetworkSnapshot, network_snapshot
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import Capex
from hashwatt.economics._revenue import SECONDS_PER_DAY, expected_blocks_per_day, hashprice_btc_per_ph_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["DailyCosts", "NetworkState", "ProfitResult", "daily_costs", "profit"]

#: Blocks per day at the 600-s target: the network's share of them is the fleet's share of hashrate.
BLOCKS_PER_DAY = SECONDS_PER_DAY / TARGET_BLOCK_INTERVAL_S


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkState:
    """The network inputs of a calculation: difficulty, price [USD/BTC], fees and subsidy [BTC/block]."""

    height: int
    difficulty: float
    price_usd: float
    fees_btc_per_block: float
    subsidy_btc_per_block: float
    date: dt.date | None = None
    as_of: AsOf | None = None

    def __post_init__(self) -> None:
        if self.height < 0:
            raise EconomicsInputError("height must be >= 0", field="height", value=self.height)
        if not self.difficulty > 0:
            raise EconomicsInputError(
                f"difficulty must be positive, got {self.difficulty}",
                field="difficulty",
                value=self.difficulty,
            )
        if not self.price_usd >= 0:
            raise EconomicsInputError(
                f"BTC price cannot be negative, got {self.price_usd}", field="price_usd", value=self.price_usd
            )
        if not self.fees_btc_per_block >= 0 or not self.subsidy_btc_per_block >= 0:
            raise EconomicsInputError("fees and subsidy per block cannot be negative")

    @classmethod
    def from_snapshot(cls, snap: NetworkSnapshot) -> NetworkState:
        return cls(
            height=snap.height,
            difficulty=snap.difficulty,
            price_usd=snap.price_usd,
            fees_btc_per_block=snap.fees_btc_per_block,
            subsidy_btc_per_block=block_subsidy_sat(snap.height + 1) / COIN,
            date=snap.date,
            as_of=snap.as_of,
        )

    @classmethod
    def latest(cls) -> NetworkState:
        """The package's as-of: the newest shipped network state (see :func:`hashwatt.data.current_snapshot`)."""
        return cls.from_snapshot(network_snapshot())

    @classmethod
    def on(cls, day: dt.date | str) -> NetworkState:
        return cls.from_snapshot(network_snapshot(day))

    def replace(self, **changes: object) -> NetworkState:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def hashprice_btc_per_ph_day(self) -> float:
        return float(
            hashprice_btc_per_ph_day(self.difficulty, self.subsidy_btc_per_block, self.fees_btc_per_block)
        )

    @property
    def hashprice_usd_per_ph_day(self) -> float:
        return self.hashprice_btc_per_ph_day * self.price_usd


@dataclasses.dataclass(frozen=True, slots=True)
class ProfitResult:
    """Daily economics of ``count`` machines at one network state (USD unless named)."""

    model: str
    count: int
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    network_date: dt.date | None
    difficulty: float
    price_usd: float
    hashprice_btc_per_ph_day: float
    hashprice_usd_per_ph_day: float
    revenue_btc_per_day: float
    revenue_usd_per_day: float
    energy_kwh_per_day: float
    energy_cost_usd_per_day: float
    fixed_cost_usd_per_day: float
    total_cost_usd_per_day: float
    profit_usd_per_day: float
    margin: float
    break_even_power_price_usd_per_kwh: float
    break_even_hashprice_usd_per_ph_day: float
    cost_per_btc_usd: float
    shutdown_price_usd: float
    depreciation_usd_per_day: float = 0.0
    all_in_cost_per_btc_usd: float = float("nan")
    pool_scheme: str = "fpps"
    pool_fee: float = 0.0
    network_share: float = float("nan")
    expected_days_per_block: float = float("inf")


@dataclasses.dataclass(frozen=True, slots=True)
class DailyCosts:
    """The cost side of a day of mining, the same for every coin (USD unless named)."""

    energy_kwh_per_day: float
    energy_cost_usd_per_day: float
    fixed_cost_usd_per_day: float
    total_cost_usd_per_day: float
    profit_usd_per_day: float
    margin: float
    break_even_power_price_usd_per_kwh: float


def daily_costs(costs: CostModel, *, power_w: float, count: int, revenue_usd_per_day: float) -> DailyCosts:
    """Energy, other costs, profit, margin and break-even power price of ``count`` machines of
    ``power_w`` [W] each that together earn ``revenue_usd_per_day`` [USD/day] (see module notes)."""
    fleet_w = power_w * count
    kwh = costs.energy_kwh_per_day(fleet_w)
    energy = costs.energy_cost_usd_per_day(fleet_w)
    fixed = costs.fixed_cost_usd_per_day(power_w, count)
    total = energy + fixed
    prof = revenue_usd_per_day - total
    return DailyCosts(
        energy_kwh_per_day=kwh,
        energy_cost_usd_per_day=energy,
        fixed_cost_usd_per_day=fixed,
        total_cost_usd_per_day=total,
        profit_usd_per_day=prof,
        margin=prof / revenue_usd_per_day if revenue_usd_per_day > 0 else float("-inf"),
        break_even_power_price_usd_per_kwh=(revenue_usd_per_day - fixed) / kwh,
    )


def profit(
    miner: MinerModel,
    *,
    count: int = 1,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    capex: Capex | None = None,
) -> ProfitResult:
    """Daily revenue, cost, profit and break-evens for ``count`` machines (see module notes).

    With ``capex``, straight-line depreciation is reported and added to the all-in cost per
    BTC (``(total cost + depreciation) / BTC per day``); the break-evens stay cash-based.
    """
    if count < 1:
        raise EconomicsInputError(f"count must be >= 1, got {count}", field="count", value=count)
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    h_ths = miner.hashrate_ths * count
    blocks_per_day = float(expected_blocks_per_day(h_ths, net.difficulty))
    share = blocks_per_day / BLOCKS_PER_DAY
    if share > 1.0:
        raise EconomicsInputError(
            f"{count:,} x {miner.model} = {h_ths / 1e6:,.4g} EH/s is more than the whole network "
            f"({h_ths / 1e6 / share:,.4g} EH/s at difficulty {net.difficulty / 1e12:,.2f} T): it would "
            "earn more than is issued; lower --count or raise the difficulty",
            field="count",
            value=count,
        )
    power_w = miner.power_w * count
    reward = net.subsidy_btc_per_block + costs.fee_share * net.fees_btc_per_block
    keep = costs.kept_fraction
    revenue_btc = blocks_per_day * reward * keep
    revenue_usd = revenue_btc * net.price_usd
    day = daily_costs(costs, power_w=miner.power_w, count=count, revenue_usd_per_day=revenue_usd)
    energy, total = day.energy_cost_usd_per_day, day.total_cost_usd_per_day
    full_reward = net.subsidy_btc_per_block + net.fees_btc_per_block
    realised = (reward / full_reward if full_reward > 0 else 0.0) * keep
    ph = h_ths / 1000.0
    dep = capex.depreciation_usd_per_day(count=count, power_w=miner.power_w) if capex is not None else 0.0
    return ProfitResult(
        model=miner.model,
        count=count,
        hashrate_ths=h_ths,
        power_w=power_w,
        efficiency_j_per_th=miner.power_w / miner.hashrate_ths,
        network_date=net.date,
        difficulty=net.difficulty,
        price_usd=net.price_usd,
        hashprice_btc_per_ph_day=net.hashprice_btc_per_ph_day,
        hashprice_usd_per_ph_day=net.hashprice_usd_per_ph_day,
        revenue_btc_per_day=revenue_btc,
        revenue_usd_per_day=revenue_usd,
        energy_kwh_per_day=day.energy_kwh_per_day,
        energy_cost_usd_per_day=energy,
        fixed_cost_usd_per_day=day.fixed_cost_usd_per_day,
        total_cost_usd_per_day=total,
        profit_usd_per_day=day.profit_usd_per_day,
        margin=day.margin,
        break_even_power_price_usd_per_kwh=day.break_even_power_price_usd_per_kwh,
        break_even_hashprice_usd_per_ph_day=total / (ph * realised) if realised > 0 else float("inf"),
        cost_per_btc_usd=total / revenue_btc if revenue_btc > 0 else float("inf"),
        shutdown_price_usd=energy / revenue_btc if revenue_btc > 0 else float("inf"),
        depreciation_usd_per_day=dep,
        all_in_cost_per_btc_usd=(total + dep) / revenue_btc if revenue_btc > 0 else float("inf"),
        pool_scheme=costs.pool_scheme.value,
        pool_fee=costs.effective_pool_fee,
        network_share=share,
        expected_days_per_block=1.0 / blocks_per_day if blocks_per_day > 0 else float("inf"),
    )

"""Mining economics: hashprice, profitability, break-even, ROI, scenarios, backtests.

Pure functions and small frozen dataclasses over numpy/pandas; every quantity carries its
unit in its name. Formulas and assumptions: ``docs/ECONOMICS.md``.
"""

from hashwatt.economics._analysis import TornadoMetric, profit_heatmap, tornado
from hashwatt.economics._backtest import BacktestResult, backtest
from hashwatt.economics._costs import DAYS_PER_MONTH, CostModel, FlatPrice, HourlyPrice, PowerPrice, TimeOfUse
from hashwatt.economics._finance import (
    Capex,
    InvestmentMetrics,
    investment_metrics,
    irr_annual,
    npv_usd,
    payback_day,
)
from hashwatt.economics._fleet import FleetEntry, best_for_budget, fleet_profit, fleet_sites, rank_catalog
from hashwatt.economics._fleet_file import load_fleet, market_power_price, parse_fleet
from hashwatt.economics._history import hashprice_history
from hashwatt.economics._montecarlo import (
    BAND_METRICS,
    MonteCarloConfig,
    MonteCarloResult,
    fit_price_model,
    historical_log_returns,
    monte_carlo,
)
from hashwatt.economics._network import (
    DEFAULT_GROWTH_DAMPING,
    DEFAULT_GROWTH_WINDOW_DAYS,
    DifficultyGrowthFit,
    HalvingForecast,
    backtest_difficulty_growth,
    block_time_with_growth_s,
    fit_difficulty_growth,
    fit_difficulty_growth_per_day,
    halving_schedule,
    height_at,
    observed_block_time_s,
)
from hashwatt.economics._overrides import NetworkOverrides, apply_overrides, parse_difficulty
from hashwatt.economics._pools import PoolPayout, PoolScheme, parse_pool_fee, pool_payout
from hashwatt.economics._profit import NetworkState, ProfitResult, profit
from hashwatt.economics._projection import (
    Projection,
    Scenario,
    annual_to_daily,
    network_paths,
    project,
    subsidy_btc_at,
)
from hashwatt.economics._revenue import (
    HASHES_PER_DIFFICULTY,
    SECONDS_PER_DAY,
    btc_per_day,
    expected_blocks_per_day,
    hashprice_btc_per_ph_day,
    hashprice_usd_per_ph_day,
    ph_day_to_th_day,
)
from hashwatt.economics._sweep import SweepCase, power_price_sweep, run_case, run_sweep
from hashwatt.economics.errors import EconomicsError, EconomicsInputError

__all__ = [
    "BAND_METRICS",
    "DAYS_PER_MONTH",
    "DEFAULT_GROWTH_DAMPING",
    "DEFAULT_GROWTH_WINDOW_DAYS",
    "HASHES_PER_DIFFICULTY",
    "SECONDS_PER_DAY",
    "BacktestResult",
    "Capex",
    "CostModel",
    "DifficultyGrowthFit",
    "EconomicsError",
    "EconomicsInputError",
    "FlatPrice",
    "FleetEntry",
    "HalvingForecast",
    "HourlyPrice",
    "InvestmentMetrics",
    "MonteCarloConfig",
    "MonteCarloResult",
    "NetworkOverrides",
    "NetworkState",
    "PoolPayout",
    "PoolScheme",
    "PowerPrice",
    "ProfitResult",
    "Projection",
    "Scenario",
    "SweepCase",
    "TimeOfUse",
    "TornadoMetric",
    "annual_to_daily",
    "apply_overrides",
    "backtest",
    "backtest_difficulty_growth",
    "best_for_budget",
    "block_time_with_growth_s",
    "btc_per_day",
    "expected_blocks_per_day",
    "fit_difficulty_growth",
    "fit_difficulty_growth_per_day",
    "fit_price_model",
    "fleet_profit",
    "fleet_sites",
    "halving_schedule",
    "hashprice_btc_per_ph_day",
    "hashprice_history",
    "hashprice_usd_per_ph_day",
    "height_at",
    "historical_log_returns",
    "investment_metrics",
    "irr_annual",
    "load_fleet",
    "market_power_price",
    "monte_carlo",
    "network_paths",
    "npv_usd",
    "observed_block_time_s",
    "parse_difficulty",
    "parse_fleet",
    "parse_pool_fee",
    "payback_day",
    "ph_day_to_th_day",
    "pool_payout",
    "power_price_sweep",
    "profit",
    "profit_heatmap",
    "project",
    "rank_catalog",
    "run_case",
    "run_sweep",
    "subsidy_btc_at",
    "tornado",
]

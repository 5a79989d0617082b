"""Profit, break-even identities, costs, pools and investment metrics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from hashwatt.data import MinerModel, find_miner
from hashwatt.economics import (
    Capex,
    CostModel,
    FlatPrice,
    HourlyPrice,
    NetworkState,
    PoolScheme,
    TimeOfUse,
    investment_metrics,
    irr_annual,
    npv_usd,
    parse_pool_fee,
    payback_day,
    pool_payout,
    profit,
)
from hashwatt.economics.errors import EconomicsInputError
from hashwatt.errors import InputError

NET = NetworkState(
    height=900_000,
    difficulty=120e12,
    price_usd=90_000.0,
    fees_btc_per_block=0.05,
    subsidy_btc_per_block=3.125,
)
MINER = MinerModel.from_specs("Test 200T", hashrate_ths=200.0, power_w=3500.0)


def test_profit_hand_numbers() -> None:
    costs = CostModel(electricity=FlatPrice(0.06), uptime=0.95, pool_fee=0.02, pue=1.1)
    r = profit(MINER, count=3, costs=costs, network=NET)
    blocks = 86_400 * 600e12 / (120e12 * 2**32)
    assert r.revenue_btc_per_day == pytest.approx(blocks * 3.175 * 0.95 * 0.98, rel=1e-12)
    assert r.energy_kwh_per_day == pytest.approx(3 * 3.5 * 24 * 0.95 * 1.1)
    assert r.energy_cost_usd_per_day == pytest.approx(r.energy_kwh_per_day * 0.06)
    assert r.profit_usd_per_day == pytest.approx(r.revenue_usd_per_day - r.total_cost_usd_per_day)
    assert r.hashrate_ths == 600 and r.efficiency_j_per_th == 17.5


def test_break_even_identities() -> None:
    costs = CostModel(
        electricity=FlatPrice(0.07),
        hosting_usd_per_kw_month=5.0,
        maintenance_usd_per_month=10.0,
        staff_usd_per_month=300.0,
        uptime=0.97,
        pool_fee=0.025,
    )
    r = profit(MINER, count=10, costs=costs, network=NET)
    # 1. at the break-even electricity price, profit is zero
    at_be = profit(
        MINER, count=10, costs=costs.with_power_price(r.break_even_power_price_usd_per_kwh), network=NET
    )
    assert at_be.profit_usd_per_day == pytest.approx(0.0, abs=1e-9)
    # 2. at a BTC price equal to the cost per BTC, profit is zero
    at_cost = profit(
        MINER, count=10, costs=costs, network=dataclasses.replace(NET, price_usd=r.cost_per_btc_usd)
    )
    assert at_cost.profit_usd_per_day == pytest.approx(0.0, abs=1e-9)
    # 3. at the shutdown price, revenue equals the energy bill
    at_shut = profit(
        MINER, count=10, costs=costs, network=dataclasses.replace(NET, price_usd=r.shutdown_price_usd)
    )
    assert at_shut.revenue_usd_per_day == pytest.approx(at_shut.energy_cost_usd_per_day, rel=1e-12)
    assert r.shutdown_price_usd < r.cost_per_btc_usd
    # 4. a network whose hashprice equals the break-even hashprice makes zero profit
    scale = NET.hashprice_usd_per_ph_day / r.break_even_hashprice_usd_per_ph_day
    at_hp = profit(
        MINER, count=10, costs=costs, network=dataclasses.replace(NET, difficulty=NET.difficulty * scale)
    )
    assert at_hp.hashprice_usd_per_ph_day == pytest.approx(r.break_even_hashprice_usd_per_ph_day)
    assert at_hp.profit_usd_per_day == pytest.approx(0.0, abs=1e-9)


def test_pps_excludes_fees_and_all_in_rate() -> None:
    fpps = profit(MINER, costs=CostModel(pool_scheme=PoolScheme.FPPS), network=NET)
    pps = profit(MINER, costs=CostModel(pool_scheme=PoolScheme.PPS), network=NET)
    assert pps.revenue_btc_per_day / fpps.revenue_btc_per_day == pytest.approx(3.125 / 3.175)
    allin = profit(MINER, costs=CostModel(all_in_usd_per_kwh=0.08, pue=1.3), network=NET)
    assert allin.energy_kwh_per_day == pytest.approx(3.5 * 24)  # PUE is inside the all-in rate
    assert allin.energy_cost_usd_per_day == pytest.approx(3.5 * 24 * 0.08)


def test_tariffs() -> None:
    tou = TimeOfUse.from_periods([(14, 20, 0.20)], base_usd_per_kwh=0.04)
    assert tou.mean_usd_per_kwh() == pytest.approx((18 * 0.04 + 6 * 0.20) / 24)
    idx = pd.date_range("2023-01-01", periods=48, freq="h", tz="UTC")
    hourly = HourlyPrice(pd.Series(np.r_[np.full(24, 0.03), np.full(24, 0.09)], index=idx))
    days = pd.DatetimeIndex(["2023-01-01", "2023-01-02", "2024-01-02"])
    np.testing.assert_allclose(hourly.daily_usd_per_kwh(days), [0.03, 0.09, 0.09])  # 2024-01-02 reuses day 2
    c = CostModel(electricity=hourly)
    np.testing.assert_allclose(c.daily_energy_cost_usd_per_day(1000.0, days), [0.72, 2.16, 2.16])
    with pytest.raises(EconomicsInputError):
        TimeOfUse((0.1,) * 23)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"all_in_usd_per_kwh": -0.01},
        {"uptime": 1.2},
        {"uptime": 0.0},
        {"pue": 0.9},
        {"pool_fee": 1.0},
        {"hosting_usd_per_kw_month": -1.0},
    ],
)
def test_cost_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        CostModel(**kwargs)  # type: ignore[arg-type]


def test_negative_power_price_rejected() -> None:
    with pytest.raises(InputError, match="negative"):
        FlatPrice(-0.01)


def test_pool_fee_parsing() -> None:
    assert parse_pool_fee("2%") == pytest.approx(0.02)
    assert parse_pool_fee("0.025") == pytest.approx(0.025)
    assert parse_pool_fee(1.5) == pytest.approx(0.015)
    for bad in ("abc", "150%", "-1%"):
        with pytest.raises(InputError):
            parse_pool_fee(bad)


def test_pool_schemes() -> None:
    kw = {
        "hashrate_ths": 1000.0,
        "difficulty": 120e12,
        "subsidy_btc_per_block": 3.125,
        "fees_btc_per_block": 0.1,
        "horizon_days": 30.0,
        "pool_fee": 0.02,
    }
    lam = 30 * 86_400 * 1e15 / (120e12 * 2**32)
    fpps = pool_payout("fpps", **kw)
    pps = pool_payout(PoolScheme.PPS, **kw)
    ppsp = pool_payout("pps+", pool_hashrate_ths=1e6, **kw)
    pplns = pool_payout("pplns", pool_hashrate_ths=1e6, **kw)
    solo = pool_payout("solo", **kw)
    assert fpps.expected_btc == pytest.approx(0.98 * lam * 3.225) and fpps.std_btc == 0
    assert pps.expected_btc == pytest.approx(0.98 * lam * 3.125)
    assert ppsp.expected_btc == pytest.approx(fpps.expected_btc) and 0 < ppsp.std_btc < pplns.std_btc
    # PPLNS: pool finds Poisson(lam / share) blocks; CV = sqrt(share / lam)
    assert pplns.std_btc / pplns.expected_btc == pytest.approx(math.sqrt(1e-3 / lam))
    assert solo.probability_zero == pytest.approx(math.exp(-lam))
    assert solo.std_btc / solo.expected_btc == pytest.approx(1 / math.sqrt(lam))
    assert pplns.p5_btc < pplns.expected_btc < pplns.p95_btc
    with pytest.raises(InputError):
        pool_payout("pplns", **kw)  # needs the pool's hashrate


def test_finance_textbook() -> None:
    flows = np.full(20, 100.0)
    assert payback_day(flows, capex_usd=1000.0) == 10
    assert payback_day(flows, capex_usd=5000.0) is None
    assert npv_usd(flows, capex_usd=1000.0, rate=0.0) == pytest.approx(1000.0)
    # NPV at the IRR is zero; discounting lowers NPV
    flows = np.full(365, 10.0)
    irr = irr_annual(flows, capex_usd=3000.0, salvage_usd=100.0)
    assert irr is not None and irr > 0
    assert npv_usd(flows, capex_usd=3000.0, rate=irr, salvage_usd=100.0) == pytest.approx(0.0, abs=1e-6)
    assert npv_usd(flows, capex_usd=3000.0, rate=0.2) < npv_usd(flows, capex_usd=3000.0, rate=0.05)
    # one year of 1/day discounted at 10 %/year, checked against an independent sum
    ind = sum(1.0 / 1.1 ** (t / 365.25) for t in range(1, 366))
    assert npv_usd(np.ones(365), capex_usd=0.0, rate=0.1) == pytest.approx(ind, rel=1e-12)
    m = investment_metrics(np.full(100, 50.0), capex_usd=2000.0, salvage_usd=500.0)
    assert m.payback_days == 40 and m.roi == pytest.approx((5000 + 500 - 2000) / 2000)
    capex = Capex(
        machine_usd=3000, shipping_usd=100, duties=0.1, infrastructure_usd_per_mw=200_000, salvage=0.2
    )
    assert capex.total_usd(count=10, power_w=3500) == pytest.approx(10 * 3100 * 1.1 + 200_000 * 0.035)
    assert capex.salvage_usd(count=10) == pytest.approx(6000)
    with pytest.raises(InputError):
        Capex(salvage=1.5)


def test_profit_uses_catalog_and_default_snapshot() -> None:
    r = profit(find_miner("s21 pro"))
    assert r.network_date is not None and r.network_date.isoformat() == "2026-06-14"
    assert r.model == "Antminer S21 Pro"
    with pytest.raises(InputError):
        profit(MINER, count=0)
    with pytest.raises(InputError):
        NetworkState(height=1, difficulty=-5, price_usd=1, fees_btc_per_block=0, subsidy_btc_per_block=50)


def test_depreciation_and_all_in_cost() -> None:
    capex = Capex(machine_usd=3652.5, salvage=0.0, depreciation_years=1.0)
    r = profit(MINER, costs=CostModel(electricity=FlatPrice(0.05)), network=NET, capex=capex)
    assert r.depreciation_usd_per_day == pytest.approx(10.0)
    assert r.all_in_cost_per_btc_usd == pytest.approx(
        (r.total_cost_usd_per_day + 10.0) / r.revenue_btc_per_day
    )
    assert r.all_in_cost_per_btc_usd > r.cost_per_btc_usd

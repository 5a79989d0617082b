"""LP/MILP dispatch: 4CP, demand response, ramps, minimum run times, power targets, tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hashwatt.data.prices import market_prices
from hashwatt.energy import (
    DemandCharge,
    DemandResponseEvent,
    FourCP,
    MachineClass,
    PowerCurve,
    Tariff,
    TariffError,
    TieredBlock,
    TieredEnergy,
    assumed_power_curve,
    dispatch_lp,
    dispatch_threshold,
)

HASHPRICE = 55.0


@pytest.fixture(scope="module")
def ercot_2023() -> pd.Series:
    return market_prices("ERCOT", 2023).price_usd_per_mwh


def test_four_cp_hours_are_avoided_and_the_charge_drops(ercot_2023: pd.Series) -> None:
    machine = MachineClass.from_efficiency(17.5, 2.0)
    # Four known peak hours (17:00 CDT on a mid-month day of June..September 2023).
    cp = ["2023-06-15T22:00:00Z", "2023-07-18T22:00:00Z", "2023-08-15T22:00:00Z", "2023-09-12T22:00:00Z"]
    tariff = Tariff(timezone="America/Chicago", four_cp=FourCP(usd_per_kw_year=60.0, hours_utc=tuple(cp)))
    thr = dispatch_threshold(ercot_2023, [machine], HASHPRICE, tariff=tariff)
    lp = dispatch_lp(ercot_2023, [machine], HASHPRICE, tariff=tariff)
    cp_idx = pd.DatetimeIndex(pd.to_datetime(cp, utc=True))
    on_thr = thr.schedule.loc[cp_idx, "it_load_kw"].to_numpy()
    assert on_thr.mean() > 0, "the threshold rule runs in at least some CP hours (else nothing to test)"
    assert (lp.schedule.loc[cp_idx, "it_load_kw"] == 0).all()
    # Charge = rate x mean load in the four hours: 60 USD/kW-yr x mean kW.
    assert thr.summary.four_cp_usd == pytest.approx(60.0 * on_thr.mean())
    assert lp.summary.four_cp_usd == 0.0
    # Outside the CP hours the LP does what the threshold rule does.
    others = ~lp.schedule.index.isin(cp_idx)
    np.testing.assert_allclose(lp.load_fraction[others], thr.load_fraction[others], atol=1e-6)
    lost_margin = thr.schedule.loc[cp_idx, "profit_usd"].sum()
    assert lp.summary.profit_usd - thr.summary.profit_usd == pytest.approx(
        thr.summary.four_cp_usd - lost_margin, rel=1e-6
    )


def test_four_cp_proxy_picks_one_summer_hour_per_month(ercot_2023: pd.Series) -> None:
    tariff = Tariff(
        timezone="America/Chicago", four_cp=FourCP(usd_per_kw_year=60.0, proxy="top_price_hour_jun_sep")
    )
    mask = tariff.four_cp_mask(ercot_2023.index, ercot_2023.to_numpy())
    hours = ercot_2023.index[mask].tz_convert("America/Chicago")
    assert sorted(hours.month.tolist()) == [6, 7, 8, 9]
    for ts in hours:
        month = ercot_2023[ercot_2023.index.tz_convert("America/Chicago").month == ts.month]
        assert ercot_2023[ts] == month.max()


def test_demand_charge_lowers_peaks_and_lp_accounts_it(ercot_2023: pd.Series) -> None:
    machine = MachineClass.from_efficiency(25.0, 1.0)
    tariff = Tariff(timezone="America/Chicago", demand=DemandCharge(usd_per_kw_month=40.0))
    thr = dispatch_threshold(ercot_2023, [machine], 45.0, tariff=tariff)
    lp = dispatch_lp(ercot_2023, [machine], 45.0, tariff=tariff)
    assert lp.summary.profit_usd > thr.summary.profit_usd
    assert lp.summary.demand_charge_usd < thr.summary.demand_charge_usd
    # The LP's monthly peak is a flat level it never exceeds.
    local = lp.schedule.index.tz_convert("America/Chicago")
    peaks = lp.schedule["grid_kw"].groupby(local.month).max()
    assert lp.summary.demand_charge_usd == pytest.approx(40.0 * peaks.sum())


def test_demand_response_cap_and_credit(ercot_2023: pd.Series) -> None:
    machine = MachineClass.from_efficiency(17.5, 1.0)
    event = DemandResponseEvent(
        start_utc="2023-08-10T20:00:00Z",
        duration_h=4,
        max_grid_kw=200.0,
        baseline_kw=1000.0,
        credit_usd_per_mwh=300.0,
    )
    tariff = Tariff(demand_response=(event,))
    lp = dispatch_lp(ercot_2023, [machine], HASHPRICE, tariff=tariff)
    window = lp.schedule.loc["2023-08-10T20:00Z":"2023-08-10T23:00Z", "grid_kw"]
    assert len(window) == 4 and (window <= 200.0 + 1e-6).all()
    assert lp.summary.dr_violation_hours == 0
    assert lp.summary.dr_credit_usd == pytest.approx(float(((1000.0 - window) * 300.0 / 1000.0).sum()))
    thr = dispatch_threshold(ercot_2023, [machine], HASHPRICE, tariff=tariff)
    assert lp.summary.profit_usd >= thr.summary.profit_usd - 1e-6


def _spiky(hours: int) -> pd.Series:
    idx = pd.date_range("2023-03-01", periods=hours, freq="1h", tz="UTC")
    price = np.full(hours, 30.0)
    price[5::7] = 400.0  # a 1-hour spike every 7 hours
    return pd.Series(price, index=idx)


def test_ramp_limit_is_respected() -> None:
    prices = _spiky(96)
    machine = MachineClass("ramped", efficiency_j_per_th=20.0, power_w=1e6, ramp_w_per_h=250e3)
    free = dispatch_lp(prices, [MachineClass.from_efficiency(20.0, 1.0)], HASHPRICE)
    lp = dispatch_lp(prices, [machine], HASHPRICE)
    steps = np.abs(np.diff(lp.schedule["it_load_kw"].to_numpy()))
    assert steps.max() <= 250.0 + 1e-6
    assert lp.summary.profit_usd <= free.summary.profit_usd + 1e-6
    assert lp.summary.profit_usd > 0


def test_min_up_down_and_restart_cost_milp() -> None:
    prices = _spiky(72)
    plain = MachineClass.from_efficiency(20.0, 1.0)
    sticky = MachineClass(
        "sticky", efficiency_j_per_th=20.0, power_w=1e6, min_down_h=3, restart_cost_usd=50.0
    )
    free = dispatch_lp(prices, [plain], HASHPRICE)
    milp = dispatch_lp(prices, [sticky], HASHPRICE)
    assert milp.summary.method == "milp"
    on = milp.load_fraction[:, 0] > 0.5
    # Every off period (between starts) lasts at least 3 hours.
    runs = np.diff(np.flatnonzero(np.diff(np.r_[1, on.astype(int), 1]) != 0))
    off_runs = [length for i, length in enumerate(runs) if i % 2 == 0 and length > 0]
    assert off_runs and min(off_runs) >= 3
    assert milp.summary.profit_usd <= free.summary.profit_usd + 1e-6
    # Brute-force check on a short horizon: a 3-hour minimum down time with a 400 USD spike
    # (loss 400 - 119 = 281 per MWh) and 30 USD hours around it (gain 89 each):
    # switching off costs two good hours (178) + restart 50 = 228 < 281, so it switches off.
    assert not on[5]
    assert milp.summary.restart_cost_usd == pytest.approx(
        50.0 * np.count_nonzero(np.diff(on.astype(int)) == 1)
    )


def test_power_curve_underclocks_in_mid_price_hours(ercot_2023: pd.Series) -> None:
    curve = assumed_power_curve(beta=0.5, min_power_fraction=0.5, max_power_fraction=1.2)
    tuned = MachineClass("tuned", efficiency_j_per_th=20.0, power_w=1e6, curve=curve)
    onoff = MachineClass.from_efficiency(20.0, 1.0)
    a = dispatch_lp(ercot_2023, [tuned], HASHPRICE)
    b = dispatch_lp(ercot_2023, [onoff], HASHPRICE)
    assert a.summary.profit_usd > b.summary.profit_usd
    frac = a.load_fraction[:, 0]
    assert (frac > 1.0 + 1e-6).any(), "overclocks in cheap hours"
    partial = (frac > 1e-6) & (frac < 1.0 - 1e-6)
    assert partial.any(), "underclocks in mid-price hours"
    # Underclocked hours are pricier than overclocked ones.
    price = ercot_2023.to_numpy()
    assert price[partial].mean() > price[frac > 1.0 + 1e-6].mean()


def test_power_curve_hull_and_validation() -> None:
    curve = PowerCurve(((0.5, 0.70), (0.75, 0.80), (1.0, 1.0)))  # (0.75, 0.8) lies under the hull
    widths, slopes = curve.fleet_segments()
    assert widths.sum() == pytest.approx(1.0)
    assert np.all(np.diff(slopes) <= 1e-12)
    assert len(widths) == 2
    with pytest.raises(Exception, match="increasing"):
        PowerCurve(((1.0, 1.0), (0.5, 0.7)))


def test_tiered_tariff_blocks() -> None:
    prices = _spiky(24 * 30)
    tariff = Tariff(
        energy=TieredEnergy(
            blocks=(TieredBlock(up_to_kwh=200_000, rate_usd_per_kwh=0.05), TieredBlock(rate_usd_per_kwh=0.20))
        )
    )
    machine = MachineClass.from_efficiency(20.0, 1.0)
    lp = dispatch_lp(prices, [machine], HASHPRICE, tariff=tariff)
    # Breakeven is 114.6 USD/MWh: the first 200 MWh at 50 pay off, the second block at 200 does not.
    assert lp.summary.grid_energy_mwh == pytest.approx(200.0, rel=1e-6)
    assert lp.summary.energy_cost_usd == pytest.approx(200_000 * 0.05)
    falling = Tariff(
        energy=TieredEnergy(
            blocks=(TieredBlock(up_to_kwh=1000, rate_usd_per_kwh=0.10), TieredBlock(rate_usd_per_kwh=0.05))
        )
    )
    with pytest.raises(TariffError, match="convex"):
        dispatch_lp(prices, [machine], HASHPRICE, tariff=falling)


def _brute_force_best(margin_usd: np.ndarray, min_up: int, min_down: int, restart_usd: float) -> float:
    """Best profit over all on/off sequences (fleet running before hour 0), by enumeration."""
    n = len(margin_usd)
    best = -np.inf
    for code in range(2**n):
        on = [(code >> h) & 1 == 1 for h in range(n)]
        runs: list[tuple[bool, int, int]] = []  # (state, start, length), with the pre-horizon "on" run
        state, start = True, -(10**6)
        for h, u in enumerate(on):
            if u != state:
                runs.append((state, start, h - start))
                state, start = u, h
        runs.append((state, start, n - start))
        ok = True
        for i, (st, _, length) in enumerate(runs[:-1]):  # the last run may be cut by the horizon
            if st and i > 0 and length < min_up:
                ok = False
            if not st and length < min_down:
                ok = False
        if not ok:
            continue
        starts = sum(1 for i in range(1, len(runs)) if runs[i][0])
        profit = float(sum(m for m, u in zip(margin_usd, on, strict=True) if u)) - restart_usd * starts
        best = max(best, profit)
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_milp_matches_brute_force_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 13
    idx = pd.date_range("2023-05-01", periods=n, freq="1h", tz="UTC")
    prices = pd.Series(rng.normal(110.0, 60.0, n).round(2), index=idx)
    machine = MachineClass(
        "unit", efficiency_j_per_th=20.0, power_w=1e6, min_up_h=3, min_down_h=2, restart_cost_usd=25.0
    )
    res = dispatch_lp(prices, [machine], HASHPRICE)
    revenue_per_h = 1e6 / 20.0 * HASHPRICE / 24_000.0
    margin = revenue_per_h - prices.to_numpy()  # USD per hour at 1 MW
    best = _brute_force_best(margin, 3, 2, 25.0)
    assert res.summary.profit_usd == pytest.approx(best, abs=1e-6)
    free = float(np.maximum(margin, 0).sum())
    assert best < free - 1.0, "the constraints bind in these draws"
    # The enumerator itself: without constraints it finds the threshold optimum.
    assert _brute_force_best(margin, 1, 1, 0.0) == pytest.approx(free)


def test_soft_dr_cap_trades_penalty_against_margin(ercot_2023: pd.Series) -> None:
    machine = MachineClass.from_efficiency(17.5, 1.0)
    start = "2023-03-01T06:00:00Z"  # cheap spring hours: running is worth ~100 USD/MWh
    cheap = DemandResponseEvent(
        start_utc=start, duration_h=3, max_grid_kw=0.0, baseline_kw=1000.0, penalty_usd_per_mwh=10.0
    )
    dear = cheap.model_copy(update={"penalty_usd_per_mwh": 10_000.0})
    low = dispatch_lp(ercot_2023, [machine], HASHPRICE, tariff=Tariff(demand_response=(cheap,)))
    high = dispatch_lp(ercot_2023, [machine], HASHPRICE, tariff=Tariff(demand_response=(dear,)))
    window = slice(start, "2023-03-01T08:00Z")
    assert (low.schedule.loc[window, "grid_kw"] > 999).all()  # paying 10 USD/MWh beats curtailing
    assert low.summary.dr_penalty_usd == pytest.approx(3 * 1000 * 10.0 / 1000)
    assert low.summary.dr_violation_hours == 3
    assert (high.schedule.loc[window, "grid_kw"] == 0).all()
    assert high.summary.dr_penalty_usd == 0.0


def _peak_cap_grid_search(
    prices: np.ndarray, months: np.ndarray, eff_j_per_th: float, mw: float, rate: float
) -> float:
    """Naive optimum for one on/off class with a demand charge: try 201 caps per month."""
    margin = HASHPRICE * 1000.0 / 24.0 / eff_j_per_th - prices  # USD/MWh
    total = 0.0
    for m in np.unique(months):
        sel = margin[months == m]
        caps = np.linspace(0.0, mw * 1000.0, 201)
        profits = (np.maximum(sel, 0).sum() * caps / 1000.0) - rate * caps
        total += float(profits.max())
    return total


def test_lp_demand_charge_optimum_matches_cap_search(ercot_2023: pd.Series) -> None:
    # 45 USD/kW-month sits inside the range of monthly margins (31-52 USD/kW): some months run.
    tariff = Tariff(timezone="America/Chicago", demand=DemandCharge(usd_per_kw_month=45.0))
    res = dispatch_lp(ercot_2023, [MachineClass.from_efficiency(25.0, 1.0)], HASHPRICE, tariff=tariff)
    months = tariff.month_labels(ercot_2023.index)
    naive = _peak_cap_grid_search(ercot_2023.to_numpy(), months, 25.0, 1.0, 45.0)
    assert res.summary.profit_usd >= naive - 1e-6
    assert res.summary.profit_usd == pytest.approx(naive, rel=1e-9)
    assert 0 < res.summary.demand_charge_usd < 45.0 * 1000 * 12  # some months are not worth a peak


def test_curve_efficiency_improves_when_underclocked() -> None:
    curve = assumed_power_curve(beta=0.5)
    m = MachineClass("s21", efficiency_j_per_th=17.5, power_w=3500.0, curve=curve)
    assert m.efficiency_at(1.0) == pytest.approx(17.5)
    # h = p ** 0.5 at the sampled points (0.5, 0.6, ..., 1.2) -> J/TH scales with p ** 0.5.
    assert m.efficiency_at(0.6) == pytest.approx(17.5 * 0.6**0.5, rel=1e-9)
    assert m.efficiency_at(0.5) < m.efficiency_at(0.6) < m.efficiency_at(1.0)
    assert m.efficiency_at(1.2) > 17.5
    assert np.isnan(curve.hashrate_fraction(1.5))  # beyond the curve: not defined

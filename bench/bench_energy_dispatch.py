"""Energy dispatch benchmarks: threshold rule (8,760 h x 100 classes) and LP (8,760 h x 5 classes).

Run: ``python bench/bench_energy_dispatch.py``. Prints each timing and its ratio to a naive
baseline measured in the same run:

- threshold: the numpy kernel vs a pure-Python double loop over hours and classes (same answer);
- LP with demand charges: HiGHS vs a naive grid search over one monthly peak cap (101 levels
  per month, merit-order fill under the cap), which is slower and never more profitable.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from hashwatt.data.prices import market_prices
from hashwatt.energy import (
    DemandCharge,
    FourCP,
    MachineClass,
    Tariff,
    assumed_power_curve,
    dispatch_lp,
    dispatch_threshold,
    threshold_load_fraction,
)

HASHPRICE = 55.0


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_threshold() -> None:
    prices = market_prices("ERCOT", 2021).price_usd_per_mwh.to_numpy()
    hp = np.full(prices.shape, HASHPRICE)
    eff = np.linspace(15.0, 40.0, 100)
    fast = _best_of(lambda: threshold_load_fraction(prices, hp, eff), 20)

    def naive() -> list[list[float]]:
        out = []
        for h in range(len(prices)):
            row = []
            for k in range(len(eff)):
                row.append(1.0 if prices[h] < hp[h] * 1000.0 / 24.0 / eff[k] else 0.0)
            out.append(row)
        return out

    slow = _best_of(naive, 1)
    assert np.array_equal(np.array(naive()), threshold_load_fraction(prices, hp, eff))
    print(
        f"threshold 8760 h x 100 classes: {fast * 1e3:.2f} ms (numpy) vs {slow * 1e3:.0f} ms (pure Python), "
        f"ratio {slow / fast:.0f}x"
    )
    series = market_prices("ERCOT", 2021).price_usd_per_mwh
    machines = [MachineClass.from_efficiency(float(e), 0.1) for e in eff]
    full = _best_of(lambda: dispatch_threshold(series, machines, HASHPRICE), 5)
    print(
        f"dispatch_threshold incl. accounting, bill and always-on baseline, 100 classes: {full * 1e3:.1f} ms"
    )


def _grid_search_peak(
    prices: np.ndarray, months: np.ndarray, eff: np.ndarray, power_kw: np.ndarray, rate: float
) -> float:
    """Naive: per month, try 101 peak caps; under each cap fill classes in merit order while profitable."""
    order = np.argsort(eff)
    eff, power_kw = eff[order], power_kw[order]
    margin = (HASHPRICE * 1000.0 / 24.0 / eff)[None, :] - prices[:, None]  # USD/MWh per class
    total = 0.0
    cap_total = power_kw.sum()
    for m in np.unique(months):
        sel = months == m
        best = -np.inf
        for cap in np.linspace(0.0, cap_total, 101):
            cum = np.cumsum(power_kw) - power_kw
            alloc = np.clip(cap - cum, 0.0, power_kw)  # kW per class under the cap
            run = margin[sel] > 0
            profit = float((run * alloc[None, :] * margin[sel]).sum() / 1000.0) - rate * cap
            best = max(best, profit)
        total += best
    return total


def bench_lp() -> None:
    series = market_prices("ERCOT", 2021).price_usd_per_mwh
    classes = [(15.0, 2.0), (17.5, 2.0), (21.0, 2.0), (25.0, 2.0), (30.0, 2.0)]
    machines = [MachineClass.from_efficiency(e, mw) for e, mw in classes]
    tariff = Tariff(timezone="America/Chicago", demand=DemandCharge(usd_per_kw_month=15.0))
    results = []
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        results.append(dispatch_lp(series, machines, HASHPRICE, tariff=tariff))
        times.append(time.perf_counter() - t0)
    lp_t = min(times)
    lp_profit = results[0].summary.profit_usd
    months = tariff.month_labels(series.index)
    eff = np.array([e for e, _ in classes])
    power_kw = np.array([mw * 1000 for _, mw in classes])
    t0 = time.perf_counter()
    naive_profit = _grid_search_peak(series.to_numpy(), months, eff, power_kw, 15.0)
    naive_t = time.perf_counter() - t0
    print(
        f"LP 8760 h x 5 classes + demand charge: {lp_t:.2f} s (HiGHS, best of 3, median "
        f"{statistics.median(times):.2f} s) vs {naive_t:.2f} s (naive 101-level peak grid search), "
        f"ratio {naive_t / lp_t:.1f}x; profit LP {lp_profit:,.0f} USD vs naive {naive_profit:,.0f} USD "
        f"(LP - naive = {lp_profit - naive_profit:,.0f} USD)"
    )


def bench_lp_full() -> None:
    """Harder LP: power curves (segments), ramps, demand charge and 4CP; no naive method handles all."""
    series = market_prices("ERCOT", 2021).price_usd_per_mwh
    curve = assumed_power_curve()
    machines = [
        MachineClass(f"c{e}", efficiency_j_per_th=e, power_w=2e6, curve=curve, ramp_w_per_h=1e6)
        for e in (15.0, 17.5, 21.0, 25.0, 30.0)
    ]
    tariff = Tariff(
        timezone="America/Chicago",
        demand=DemandCharge(usd_per_kw_month=15.0),
        four_cp=FourCP(usd_per_kw_year=60.0, proxy="top_price_hour_jun_sep"),
    )
    t0 = time.perf_counter()
    res = dispatch_lp(series, machines, HASHPRICE, tariff=tariff)
    lp_t = time.perf_counter() - t0
    segs = sum(len(m.curve.fleet_segments()[0]) for m in machines if m.curve is not None)
    print(
        f"LP 8760 h x 5 classes ({segs} curve segments) + ramps + demand + 4CP: {lp_t:.2f} s, "
        f"profit {res.summary.profit_usd:,.0f} USD"
    )


if __name__ == "__main__":
    bench_threshold()
    bench_lp()
    bench_lp_full()

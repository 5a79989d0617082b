"""Monte Carlo: 10,000 paths x 5 years daily, vectorised + streamed vs a naive per-path loop.

Run: python bench/bench_economics_montecarlo.py

The naive baseline is the textbook loop (for each path, for each day: draw, update price,
compute revenue and profit, store), keeping the whole paths x days profit matrix and
taking percentiles at the end. It runs on a subset of paths in the same process and its
time is scaled linearly to 10,000 paths (it is linear in paths by construction). Both use
the same model and the same random stream, so their bands are compared for equality.
"""

from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np

from hashwatt.data import MinerModel
from hashwatt.economics import CostModel, FlatPrice, MonteCarloConfig, NetworkState, monte_carlo
from hashwatt.economics._montecarlo import historical_log_returns

PATHS = 10_000
DAYS = 5 * 365 + 1  # 1,826 days
NAIVE_PATHS = 300
MINER = MinerModel.from_specs("bench 200T", hashrate_ths=200.0, power_w=3500.0)
NET = NetworkState(
    height=894_803,
    difficulty=123.2e12,
    price_usd=96_535.0,
    fees_btc_per_block=0.04,
    subsidy_btc_per_block=3.125,
)
COSTS = CostModel(electricity=FlatPrice(0.05))
GROWTH = 0.3


def naive(paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-path, per-day Python loop; returns (price, cumulative profit) P5/P50/P95 per day."""
    r = historical_log_returns(4 * 365)
    m, s = float(r.mean()), float(r.std(ddof=1))
    g = math.log1p((1 + GROWTH) ** (1 / 365.25) - 1)
    block_time = (
        600.0 * float(__import__("scipy.special", fromlist=["lambertw"]).lambertw(14 * g).real) / (14 * g)
    )
    ss = np.random.SeedSequence(seed).spawn(3)
    z_all = np.random.default_rng(ss[0]).standard_normal((DAYS, paths))  # the engine's price stream
    price = np.empty((paths, DAYS))
    cum = np.empty((paths, DAYS))
    energy = 3.5 * 24 * 0.05
    for p in range(paths):
        lp = math.log(NET.price_usd)
        ld = math.log(NET.difficulty)
        total = 0.0
        for d in range(DAYS):
            lp += m + s * z_all[d, p]
            ld += g
            height = NET.height + int((d + 1) * 86_400 / block_time)
            subsidy = (50 * 100_000_000 >> (height // 210_000)) / 1e8
            blocks = 86_400 * 200e12 / (math.exp(ld) * 2.0**32)
            rev = blocks * (subsidy + NET.fees_btc_per_block) * math.exp(lp)
            total += rev - energy
            price[p, d] = math.exp(lp)
            cum[p, d] = total
    return np.percentile(price, (5, 50, 95), axis=0), np.percentile(cum, (5, 50, 95), axis=0)


def main() -> None:
    cfg = MonteCarloConfig(paths=PATHS, days=DAYS, difficulty_growth_per_year=GROWTH, seed=42)
    monte_carlo(MINER, costs=COSTS, network=NET, config=MonteCarloConfig(paths=100, days=50))  # warm caches
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = monte_carlo(MINER, costs=COSTS, network=NET, config=cfg)
        times.append(time.perf_counter() - t0)
    fast = min(times)
    tracemalloc.start()
    monte_carlo(MINER, costs=COSTS, network=NET, config=cfg)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    cube_mb = PATHS * DAYS * 5 * 8 / 1e6

    t0 = time.perf_counter()
    price_b, cum_b = naive(NAIVE_PATHS, seed=42)
    naive_s = time.perf_counter() - t0
    naive_scaled = naive_s * PATHS / NAIVE_PATHS
    # Same model, same random stream: the engine on NAIVE_PATHS paths must give the naive bands.
    sub = monte_carlo(
        MINER,
        costs=COSTS,
        network=NET,
        config=MonteCarloConfig(paths=NAIVE_PATHS, days=DAYS, difficulty_growth_per_year=GROWTH, seed=42),
    )
    eng_price = sub.bands[["price_usd_p5", "price_usd_p50", "price_usd_p95"]].to_numpy().T
    eng_cum = sub.bands[
        ["cumulative_profit_usd_p5", "cumulative_profit_usd_p50", "cumulative_profit_usd_p95"]
    ]
    rel = max(
        float(np.max(np.abs(eng_price / price_b - 1))),
        float(np.max(np.abs(eng_cum.to_numpy().T - cum_b)) / np.max(np.abs(cum_b))),
    )

    print(f"monte carlo {PATHS:,} paths x {DAYS:,} days (GBM price, 30 %/yr difficulty, halving by height)")
    print(f"  vectorised+streamed: best of 3 = {fast:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(
        f"  peak traced memory: {peak_mb:.0f} MB (a kept paths x days x 5-metric cube would be {cube_mb:.0f} MB)"
    )
    print(
        f"  naive loop: {naive_s:.2f} s for {NAIVE_PATHS} paths -> {naive_scaled:.1f} s scaled to {PATHS:,}"
    )
    print(f"  ratio naive/vectorised: {naive_scaled / fast:.0f}x")
    print(f"  P50 total profit {res.total_profit_usd_p50:,.0f} USD over {DAYS} days")
    print(f"  engine vs naive bands on {NAIVE_PATHS} paths, same stream: max relative difference {rel:.1e}")


if __name__ == "__main__":
    main()

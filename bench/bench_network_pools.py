"""Pool concentration over the shipped history: vectorized (pandas bincount + numpy) vs a Python loop.

Run: ``.venv/bin/python bench/bench_network_pools.py``. Both compute, for every day of the
282,174 shipped blocks, the block counts per pool and the Nakamoto coefficient, HHI and entropy
(unknown as one entity); the results are compared before timing is printed.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict

from hashwatt.data.pools import load_pool_blocks
from hashwatt.network import decentralization_history


def naive_daily_metrics(timestamps: list[int], pools: list[str]) -> dict[int, tuple[int, float, float]]:
    """Per-block Python loop into dicts (UTC day = timestamp // 86,400), then metrics per day."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for ts, pool in zip(timestamps, pools, strict=True):
        counts[ts // 86_400][pool] += 1
    out: dict[int, tuple[int, float, float]] = {}
    for day, counter in counts.items():
        total = sum(counter.values())
        shares = sorted((v / total for v in counter.values()), reverse=True)
        running, nakamoto = 0.0, 0
        for s in shares:
            running += s
            nakamoto += 1
            if running > 0.5 + 1e-12:
                break
        hhi = sum(s * s for s in shares)
        entropy = -sum(s * math.log2(s) for s in shares)
        out[day] = (nakamoto, hhi, entropy)
    return out


def main() -> None:
    t0 = time.perf_counter()
    blocks = load_pool_blocks()
    load_s = time.perf_counter() - t0

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        history = decentralization_history(blocks, "day")
        best = min(best, time.perf_counter() - t0)

    t0 = time.perf_counter()
    naive = naive_daily_metrics(blocks["timestamp_unix"].tolist(), blocks["pool_slug"].astype(str).tolist())
    naive_s = time.perf_counter() - t0

    assert len(naive) == len(history)
    for idx, row in zip(history.index, history.to_dict(orient="records"), strict=True):
        n, hhi, ent = naive[int(idx.timestamp()) // 86_400]
        assert (
            n == row["nakamoto"] and abs(hhi - row["hhi"]) < 1e-12 and abs(ent - row["entropy_bits"]) < 1e-9
        )

    print(f"pool history: {len(blocks):,} blocks, {len(history):,} days")
    print(f"  load shipped CSV (first call, uncached): {load_s:.2f} s")
    print(
        f"  vectorized daily metrics (bincount + numpy, incl. excl.-unknown and Gini): {best * 1e3:.0f} ms (best of 3)"
    )
    print(f"  naive Python loop (counts + Nakamoto/HHI/entropy only): {naive_s * 1e3:.0f} ms")
    print(f"  ratio naive / vectorized: {naive_s / best:.1f}x (results identical)")


if __name__ == "__main__":
    main()

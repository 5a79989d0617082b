"""Selfish-mining block race: 10^7 simulated blocks (numba JIT) vs a naive Python loop.

Run: ``.venv/bin/python bench/bench_network_selfish.py``. The naive loop (pure Python,
``random.random()`` per block, same state machine) runs on fewer blocks and its time is scaled
linearly to 10^7 blocks; the printout says so.
"""

from __future__ import annotations

import time

import numpy as np

from hashwatt.network import selfish_mining_revenue_eyal_sirer, simulate_selfish_mining
from hashwatt.network._selfish import selfish_race_counts_python

BLOCKS = 10_000_000
NAIVE_BLOCKS = 500_000
ALPHA, GAMMA = 0.3, 0.5


def naive_race(n_blocks: int, alpha: float, gamma: float, seed: int) -> tuple[int, int]:
    """The Eyal-Sirer state machine as a plain Python loop, one draw per block (draws included)."""
    uniforms = np.random.default_rng(seed).random(n_blocks)
    return selfish_race_counts_python(uniforms, alpha, gamma)


def main() -> None:
    t0 = time.perf_counter()
    simulate_selfish_mining(ALPHA, GAMMA, 20_000, batches=2, seed=0)  # JIT compile / cache load
    compile_s = time.perf_counter() - t0

    best = float("inf")
    sim = None
    for rep in range(3):
        t0 = time.perf_counter()
        sim = simulate_selfish_mining(ALPHA, GAMMA, BLOCKS, batches=20, seed=rep)
        best = min(best, time.perf_counter() - t0)
    assert sim is not None

    naive_s = float("inf")
    for rep in range(3):
        t0 = time.perf_counter()
        s, h = naive_race(NAIVE_BLOCKS, ALPHA, GAMMA, seed=rep)
        naive_s = min(naive_s, time.perf_counter() - t0)
    naive_scaled_s = naive_s * BLOCKS / NAIVE_BLOCKS

    print(f"selfish-mining race, alpha={ALPHA}, gamma={GAMMA}")
    print(f"  first call (JIT compile or cache load): {compile_s:.2f} s")
    print(
        f"  vectorized draws + numba kernel: {BLOCKS:,} blocks in {best:.3f} s (best of 3) "
        f"= {BLOCKS / best / 1e6:.1f} M blocks/s"
    )
    print(
        f"  relative revenue {sim.relative_revenue:.5f} +- {sim.standard_error:.5f} (SE), "
        f"formula {selfish_mining_revenue_eyal_sirer(ALPHA, GAMMA):.5f}"
    )
    print(
        f"  naive Python loop: {NAIVE_BLOCKS:,} blocks in {naive_s:.3f} s (best of 3) "
        f"(revenue {s / (s + h):.4f}); scaled linearly to {BLOCKS:,} blocks: {naive_scaled_s:.1f} s"
    )
    print(
        f"  speed-up vs naive loop: {naive_scaled_s / best:.0f}x; target < 5 s: {'OK' if best < 5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

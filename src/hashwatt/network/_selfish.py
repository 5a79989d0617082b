"""Selfish mining (Eyal & Sirer 2014): the closed-form revenue, the threshold and a block-race simulator.

The simulator runs Eyal & Sirer's state machine (Algorithm 1) block by block: each newly found
block is the selfish pool's with probability ``alpha``; in a tie (state 0') an honest miner builds
on the selfish branch with probability ``gamma``. The kernel is compiled with numba; the same
logic in plain Python (:func:`selfish_race_counts_python`) is the reference and the naive baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from hashwatt.network.errors import NetworkInputError

#: Uniform draws generated at once inside one race (bounds memory to 8 MB) [blocks].
DEFAULT_CHUNK_BLOCKS = 1_000_000


def _check_alpha(alpha: float, *, upper: float = 1.0) -> float:
    value = float(alpha)
    if not 0.0 <= value < upper or math.isnan(value):
        raise NetworkInputError(
            f"selfish pool share alpha must lie in [0, {upper}), got {alpha!r}", field="alpha", value=alpha
        )
    return value


def _check_gamma(gamma: float) -> float:
    value = float(gamma)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise NetworkInputError(
            f"tie-breaking share gamma must lie in [0, 1], got {gamma!r}", field="gamma", value=gamma
        )
    return value


def selfish_mining_revenue_eyal_sirer(alpha: float, gamma: float) -> float:
    """Relative revenue of a selfish pool (Eyal & Sirer 2014, eq. 8) [fraction of main-chain blocks].

    Parameters: ``alpha`` selfish pool's share of the hashrate [fraction, 0 <= alpha < 1/2];
    ``gamma`` share of honest miners that mine on the selfish branch during a tie [fraction, 0..1].

    Notes
    -----
    ::

        R = (alpha (1-alpha)^2 (4 alpha + gamma (1 - 2 alpha)) - alpha^3)
            / (1 - alpha (1 + (2 - alpha) alpha))

    Honest mining earns ``R = alpha``; selfish mining pays when ``R > alpha``.
    """
    a = _check_alpha(alpha, upper=0.5)
    g = _check_gamma(gamma)
    numerator = a * (1.0 - a) ** 2 * (4.0 * a + g * (1.0 - 2.0 * a)) - a**3
    denominator = 1.0 - a * (1.0 + (2.0 - a) * a)
    return numerator / denominator


def selfish_mining_threshold(gamma: float) -> float:
    """Smallest pool share for which selfish mining beats honest mining (Eyal & Sirer 2014) [fraction].

    Notes
    -----
    ``alpha* = (1 - gamma) / (3 - 2 gamma)``: 1/3 at gamma = 0, 1/4 at gamma = 1/2, 0 at gamma = 1.
    """
    g = _check_gamma(gamma)
    return (1.0 - g) / (3.0 - 2.0 * g)


def _race_counts_kernel(
    uniforms: npt.NDArray[np.float64], alpha: float, gamma: float, state: int
) -> tuple[int, int, int]:
    # state: -1 is the tie (0'), otherwise the selfish pool's private lead (0, 1, 2, ...)
    selfish = 0
    honest = 0
    tie_selfish = alpha + gamma * (1.0 - alpha)
    for i in range(uniforms.shape[0]):
        u = uniforms[i]
        if state == -1:
            if u < alpha:  # selfish extends its branch and publishes: both blocks are its
                selfish += 2
            elif u < tie_selfish:  # an honest miner extends the selfish branch
                selfish += 1
                honest += 1
            else:  # an honest miner extends the honest branch
                honest += 2
            state = 0
        elif u < alpha:
            state += 1
        elif state == 0:
            honest += 1
        elif state == 1:
            state = -1
        elif state == 2:  # publish the whole private chain (lead 2 over 1): both are the pool's
            selfish += 2
            state = 0
        else:  # lead > 2: reveal one block, which will end up in the main chain
            selfish += 1
            state -= 1
    return selfish, honest, state


RaceKernel = Callable[[npt.NDArray[np.float64], float, float, int], tuple[int, int, int]]


@lru_cache(maxsize=1)
def _jit_kernel() -> RaceKernel:
    """The kernel compiled with numba on first use (numba is imported lazily: CLI start-up)."""
    import numba

    compiled: RaceKernel = numba.njit(cache=True, nogil=True)(_race_counts_kernel)
    return compiled


def _race_counts_jit(
    uniforms: npt.NDArray[np.float64], alpha: float, gamma: float, state: int
) -> tuple[int, int, int]:
    return _jit_kernel()(uniforms, alpha, gamma, state)


def selfish_race_counts(uniforms: npt.NDArray[np.float64], alpha: float, gamma: float) -> tuple[int, int]:
    """Blocks each side gets into the main chain from one race driven by ``uniforms`` (JIT) [blocks].

    ``uniforms`` are U(0, 1) draws, one per found block. The race starts at state 0; blocks
    still private or tied when the draws run out are not counted.
    """
    a = _check_alpha(alpha)
    g = _check_gamma(gamma)
    values = np.ascontiguousarray(uniforms, dtype=np.float64)
    selfish, honest, _ = _race_counts_jit(values, a, g, 0)
    return int(selfish), int(honest)


def selfish_race_counts_python(uniforms: npt.ArrayLike, alpha: float, gamma: float) -> tuple[int, int]:
    """Plain-Python reference of :func:`selfish_race_counts` (same draws, same result; slow) [blocks]."""
    a = _check_alpha(alpha)
    g = _check_gamma(gamma)
    selfish = honest = state = 0
    tie_selfish = a + g * (1.0 - a)
    for u in np.asarray(uniforms, dtype=np.float64).tolist():
        if state == -1:
            if u < a:
                selfish += 2
            elif u < tie_selfish:
                selfish += 1
                honest += 1
            else:
                honest += 2
            state = 0
        elif u < a:
            state += 1
        elif state == 0:
            honest += 1
        elif state == 1:
            state = -1
        elif state == 2:
            selfish += 2
            state = 0
        else:
            selfish += 1
            state -= 1
    return selfish, honest


@dataclass(frozen=True, slots=True)
class SelfishSimulation:
    """Outcome of a Monte Carlo selfish-mining race, with a batch-based standard error."""

    alpha: float
    gamma: float
    #: Blocks found in all (selfish + honest, including orphans) [blocks].
    blocks_simulated: int
    batches: int
    selfish_blocks: int
    honest_blocks: int
    #: Selfish share of main-chain blocks, total over all batches [fraction].
    relative_revenue: float
    #: Standard error of ``relative_revenue``: std of the batch revenues / sqrt(batches) [fraction].
    standard_error: float
    #: Eyal-Sirer closed form for comparison (None for alpha >= 1/2) [fraction].
    revenue_formula: float | None
    #: Main-chain blocks / blocks found: the network's stale-block cost of the attack [fraction].
    main_chain_fraction: float


def simulate_selfish_mining(
    alpha: float,
    gamma: float,
    blocks: int,
    *,
    batches: int = 20,
    seed: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> SelfishSimulation:
    """Run ``batches`` independent races of ``blocks // batches`` found blocks each.

    Parameters: ``alpha`` selfish share [fraction, 0..1); ``gamma`` tie share [fraction, 0..1];
    ``blocks`` total blocks found [blocks]; ``batches`` independent races (>= 2) from which the
    standard error is estimated; ``seed`` for numpy's PCG64 generator (reproducible runs);
    ``on_batch`` is called with the blocks of each finished batch (for a progress bar).

    Notes
    -----
    Each batch starts in state 0 and draws its own uniforms, so batch revenues are independent;
    the standard error is ``std(batch revenues, ddof=1) / sqrt(batches)``. Draws are generated
    in chunks of :data:`DEFAULT_CHUNK_BLOCKS` to bound memory; the race state carries across chunks.
    """
    a = _check_alpha(alpha)
    g = _check_gamma(gamma)
    if isinstance(blocks, bool) or int(blocks) != blocks or blocks < 1:
        raise NetworkInputError(
            f"blocks must be a positive whole number, got {blocks!r}", field="blocks", value=blocks
        )
    if batches < 2:
        raise NetworkInputError(
            f"batches must be >= 2 to estimate a standard error, got {batches!r}",
            field="batches",
            value=batches,
        )
    per_batch = int(blocks) // batches
    if per_batch < 100:
        raise NetworkInputError(
            f"need at least 100 blocks per batch, got {per_batch} ({blocks} / {batches})",
            field="blocks",
            value=blocks,
        )
    rng = np.random.Generator(np.random.PCG64(seed))
    revenues = np.empty(batches)
    total_selfish = total_honest = 0
    for b in range(batches):
        selfish, honest = _one_batch(rng, per_batch, a, g)
        total_selfish += selfish
        total_honest += honest
        revenues[b] = selfish / max(selfish + honest, 1)
        if on_batch is not None:
            on_batch(per_batch)
    main_chain = total_selfish + total_honest
    return SelfishSimulation(
        alpha=a,
        gamma=g,
        blocks_simulated=per_batch * batches,
        batches=batches,
        selfish_blocks=total_selfish,
        honest_blocks=total_honest,
        relative_revenue=total_selfish / max(main_chain, 1),
        standard_error=float(np.std(revenues, ddof=1) / math.sqrt(batches)),
        revenue_formula=selfish_mining_revenue_eyal_sirer(a, g) if a < 0.5 else None,
        main_chain_fraction=main_chain / (per_batch * batches),
    )


def _one_batch(rng: np.random.Generator, n_blocks: int, alpha: float, gamma: float) -> tuple[int, int]:
    """One race of ``n_blocks`` found blocks, drawn in chunks; the race state carries across chunks."""
    selfish = honest = state = 0
    done = 0
    while done < n_blocks:
        size = min(DEFAULT_CHUNK_BLOCKS, n_blocks - done)
        s, h, state = _race_counts_jit(rng.random(size), alpha, gamma, state)
        selfish += int(s)
        honest += int(h)
        done += size
    return selfish, honest


__all__ = [
    "SelfishSimulation",
    "selfish_mining_revenue_eyal_sirer",
    "selfish_mining_threshold",
    "selfish_race_counts",
    "selfish_race_counts_python",
    "simulate_selfish_mining",
]

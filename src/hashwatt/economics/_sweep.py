"""One scenario runner for sweeps, run in-process or on a Dask cluster.

A sweep is a list of :class:`SweepCase` (machine, costs, network, Monte Carlo settings,
capex); :func:`run_case` turns one into a summary row. :func:`run_sweep` maps it over the
cases locally, or with ``client=`` (a ``dask.distributed.Client``) on any Dask cluster, so
sweeps too large for one machine scale out without a second code path. Each case carries
its own seed, so both ways give identical rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from hashwatt.data import MinerModel
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import Capex
from hashwatt.economics._montecarlo import MonteCarloConfig, monte_carlo
from hashwatt.economics._profit import NetworkState
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["SweepCase", "power_price_sweep", "run_case", "run_sweep"]


@dataclasses.dataclass(frozen=True, slots=True)
class SweepCase:
    """One scenario of a sweep; ``network`` None means the embedded snapshot (resolved up front)."""

    name: str
    miner: MinerModel
    count: int = 1
    costs: CostModel = dataclasses.field(default_factory=CostModel)
    network: NetworkState | None = None
    config: MonteCarloConfig = dataclasses.field(
        default_factory=lambda: MonteCarloConfig(paths=2_000, days=365)
    )
    capex: Capex = dataclasses.field(default_factory=Capex)


def run_case(case: SweepCase) -> dict[str, Any]:
    """Monte Carlo summary of one case (pure: same case, same row)."""
    res = monte_carlo(
        case.miner,
        count=case.count,
        costs=case.costs,
        network=case.network,
        config=case.config,
        capex=case.capex,
    )
    return {
        "name": case.name,
        "model": case.miner.model,
        "count": case.count,
        "power_price_usd_per_kwh": case.costs.mean_energy_price_usd_per_kwh(),
        "paths": res.paths,
        "days": res.days,
        "capex_usd": res.capex_usd,
        "total_profit_usd_p5": res.total_profit_usd_p5,
        "total_profit_usd_p50": res.total_profit_usd_p50,
        "total_profit_usd_p95": res.total_profit_usd_p95,
        "npv_usd_p5": res.npv_usd_p5,
        "npv_usd_p50": res.npv_usd_p50,
        "npv_usd_p95": res.npv_usd_p95,
        "probability_payback": res.probability_payback,
    }


def run_sweep(cases: Sequence[SweepCase], *, client: Any = None) -> pd.DataFrame:
    """Run every case; ``client`` (``dask.distributed.Client``) distributes them.

    Rows come back in the order of ``cases``.
    """
    if not cases:
        raise EconomicsInputError("a sweep needs at least one case")
    net = NetworkState.latest() if any(c.network is None for c in cases) else None
    resolved = [c if c.network is not None else dataclasses.replace(c, network=net) for c in cases]
    if client is None:
        rows = [run_case(c) for c in resolved]
    else:
        futures = client.map(run_case, resolved, pure=False)
        rows = client.gather(futures)
    return pd.DataFrame(rows)


def power_price_sweep(
    miner: MinerModel,
    power_prices_usd_per_kwh: Sequence[float],
    *,
    count: int = 1,
    costs: CostModel | None = None,
    config: MonteCarloConfig | None = None,
    capex: Capex | None = None,
    network: NetworkState | None = None,
) -> list[SweepCase]:
    """Cases that differ only by the flat electricity price [USD/kWh]."""
    base = costs or CostModel()
    cfg = config or MonteCarloConfig(paths=2_000, days=365)
    return [
        SweepCase(
            name=f"{miner.model} @ {p:.4f} USD/kWh",
            miner=miner,
            count=count,
            costs=base.with_power_price(p),
            network=network,
            config=cfg,
            capex=capex or Capex(),
        )
        for p in power_prices_usd_per_kwh
    ]

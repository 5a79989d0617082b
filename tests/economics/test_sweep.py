"""The sweep runner: in-process and on a real Dask local cluster give the same rows."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

from hashwatt.data import MinerModel
from hashwatt.economics import Capex, MonteCarloConfig, NetworkState, power_price_sweep, run_sweep
from hashwatt.errors import InputError

NET = NetworkState(
    height=900_000,
    difficulty=120e12,
    price_usd=90_000.0,
    fees_btc_per_block=0.05,
    subsidy_btc_per_block=3.125,
)
MINER = MinerModel.from_specs("Test 200T", hashrate_ths=200.0, power_w=3500.0)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_sweep_local_equals_dask(client: Client) -> None:
    cases = power_price_sweep(
        MINER,
        [0.03, 0.05, 0.07, 0.09],
        config=MonteCarloConfig(paths=300, days=200, seed=3),
        capex=Capex(machine_usd=2500.0),
        network=NET,
    )
    local = run_sweep(cases)
    dist = run_sweep(cases, client=client)
    pd.testing.assert_frame_equal(local, dist)
    assert list(local["power_price_usd_per_kwh"]) == [0.03, 0.05, 0.07, 0.09]
    assert local["npv_usd_p50"].is_monotonic_decreasing
    # the workers really ran the cases
    assert sum(client.run(lambda: 1).values()) == 2
    with pytest.raises(InputError):
        run_sweep([])

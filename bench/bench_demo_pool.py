"""What the demo's pool costs: ``hashwatt serve --demo``'s site (twins, two agents) run for
``--seconds`` without the pool, then with the pool and one Stratum worker per twin, in this one
process; prints the process CPU per wall second of each run, the difference (the pool's share of
one core), and each worker's credited hashrate against its twin's modelled hashrate.

    python bench/bench_demo_pool.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from hashwatt.web._demo import demo_site
from hashwatt.web._pool import pool_report


async def run(seconds: float, *, pool: bool) -> tuple[float, dict[str, object] | None, dict[str, float]]:
    async with demo_site(
        port_offset=36000 + os.getpid() % 2000,
        block=210,
        interval_s=3.0,
        curtail=False,
        users=False,
        pool=pool,
    ) as site:
        await asyncio.sleep(10.0)  # twins ramped, workers connected
        wall0, cpu0 = time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        report = pool_report(site.pool) if site.pool is not None else None
        modelled = {f"demo.{t.index}": t.physics.hashrate_ths for t in site.twins}
    return share, report, modelled


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    without, _, _ = asyncio.run(run(args.seconds, pool=False))
    with_pool, report, modelled = asyncio.run(run(args.seconds, pool=True))
    print(f"demo without pool: {100 * without:.1f} % of one core")
    print(f"demo with pool:    {100 * with_pool:.1f} % of one core")
    print(f"the pool and its workers: {100 * (with_pool - without):+.1f} % of one core")
    assert report is not None
    print(
        f"credited {report['hashrate_hs']:.0f} H/s standing for {report['hashrate_ths_equivalent']:.0f} TH/s"
    )
    print(f"{'worker':10s} {'modelled TH/s':>14s} {'credited TH/s':>14s} {'ratio':>6s}")
    for w in report["workers"]:  # type: ignore[attr-defined]
        m = modelled[w["worker"]]
        print(
            f"{w['worker']:10s} {m:14.1f} {w['hashrate_ths_equivalent']:14.1f} {w['hashrate_ths_equivalent'] / m:6.2f}"
        )


if __name__ == "__main__":
    main()

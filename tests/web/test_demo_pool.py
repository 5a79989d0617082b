"""The demo's pool: one Stratum worker per twin pays real shares to hashwatt's pool for a fixed
fraction of the hashrate its twin models, so the pool credits the workers in proportion to
their machines and a sleeping machine pays nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hashwatt.chain import HASHES_PER_DIFFICULTY
from hashwatt.miner.demo_pool import start_demo_pool
from hashwatt.pow import scan
from hashwatt.stratum import ShareLog, sqlite_url
from hashwatt.twin import Clock, GroupSpec, Mode, SiteSpec, build_twins
from hashwatt.twin import Firmware as TwinFirmware
from hashwatt.twin._stratum import StratumLink
from hashwatt.web._demo import DEMO_SHARE_DIFFICULTY
from hashwatt.web._pool import PoolView, pool_report

#: Large enough for dozens of shares in a few seconds (the demo itself uses 2e-10).
SCALE = 2e-9
RUN_S = 5.0


def test_workers_are_credited_in_proportion_to_their_twins(tmp_path: Path) -> None:
    async def main() -> None:
        share_log = ShareLog(sqlite_url(tmp_path / "shares.db"), synchronous="NORMAL")
        server = await start_demo_pool(
            share_log, share_difficulty=DEMO_SHARE_DIFFICULTY, target_share_interval_s=5.0
        )
        url = f"stratum+tcp://127.0.0.1:{server.port}"
        clock = Clock()
        spec = SiteSpec(
            ramp_seconds=0,
            reboot_seconds=0,
            restart_seconds=0,
            group=[
                GroupSpec(
                    model="Antminer S19 Pro",
                    count=2,
                    range="127.0.0.1-127.0.0.2",
                    pool=url,
                    user="t",
                    stratum=True,
                ),
                GroupSpec(
                    model="Whatsminer M60S",
                    firmware=TwinFirmware.WHATSMINER_V3,
                    range="127.0.0.3",
                    pool=url,
                    user="t",
                    stratum=True,
                ),
            ],
        )
        twins = build_twins(spec, now_s=clock.now())
        twins[1].physics.set_mode(Mode.SLEEP, clock.now())
        scan(bytes(76), 0, 1024, 0)  # the kernel is chosen (measured) on first use: not in the timing
        links = [StratumLink(t, clock.now, work_scale=SCALE) for t in twins]
        stop = asyncio.Event()
        started = time.time()
        tasks = [asyncio.create_task(link.run(stop)) for link in links]
        await asyncio.sleep(RUN_S)
        stop.set()
        await asyncio.gather(*tasks)
        elapsed = time.time() - started
        await server.close()
        try:
            work: dict[str, float] = {}
            for record in share_log.records():
                work[record.worker] = work.get(record.worker, 0.0) + record.difficulty
            report = pool_report(
                PoolView(share_log.engine, url, work_scale=SCALE, started_unix_s=started),
                now_s=started + elapsed,
            )
        finally:
            share_log.close()
        assert server.counters["rejected"] == 0
        # every share the pool acknowledged is in the log (the last answers may not be read yet)
        assert report["accepted"] - len(links) <= sum(link.accepted for link in links) <= report["accepted"]
        assert "t.1" not in work  # asleep: owes nothing, pays nothing
        for t in (twins[0], twins[2]):
            owed = SCALE * t.physics.hashrate_ths * 1e12 * elapsed / HASHES_PER_DIFFICULTY
            # never more than owed; less only by the connect time and the unpaid remainder
            assert 0.75 * owed <= work[f"t.{t.index}"] <= owed * 1.01, (t.index, work, owed)
        ratio = work["t.2"] / work["t.0"]
        assert ratio == pytest.approx(twins[2].physics.hashrate_ths / twins[0].physics.hashrate_ths, rel=0.15)
        shown = {w["worker"]: w for w in report["workers"]}
        for t in (twins[0], twins[2]):
            assert shown[f"t.{t.index}"]["hashrate_ths_equivalent"] == pytest.approx(
                t.physics.hashrate_ths, rel=0.25
            )

    asyncio.run(main())

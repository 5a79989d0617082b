"""Optional Stratum V1 link: a twin mines on hashwatt's own pool, and a pool change made
through the firmware API moves it to the other pool, visible on the pools' side."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from hashwatt.twin import Clock, SiteServer, build_twins, run_site
from tests.stratum._helpers import demo_pool

from ._site import private_subnet, spec, wait_for


def _workers(pool) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {worker: s.accepted for (_, worker), s in pool.workers.items()}  # worker = full "user.rig"


def test_twin_mines_on_its_pool_and_follows_a_pool_change(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            demo_pool(tmp_path, db_name="a.db") as pool_a,
            demo_pool(tmp_path, db_name="b.db") as pool_b,
        ):
            site = spec(("S19 Pro", "stock", 1), subnet=private_subnet())
            site = site.model_copy(
                update={
                    "share_interval_seconds": 0.2,
                    "group": [
                        site.group[0].model_copy(
                            update={"stratum": True, "pool": f"stratum+tcp://127.0.0.1:{pool_a.port}"}
                        )
                    ],
                }
            )
            clock = Clock()
            twins = build_twins(site, now_s=clock.now())
            twin = twins[0]
            server = SiteServer(twins, clock=clock, mode="per-address")
            stop = asyncio.Event()
            ready: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(
                run_site(
                    server, stop=stop, on_ready=ready.set_result, share_interval_s=site.share_interval_seconds
                )
            )
            await asyncio.wait_for(ready, 10)
            user = twin.pools[0].user
            await wait_for(lambda: _workers(pool_a).get(user, 0) >= 2, timeout_s=20)
            assert user not in _workers(pool_b)
            new = [{"url": f"stratum+tcp://127.0.0.1:{pool_b.port}", "user": "moved.rig", "pass": "x"}]
            async with httpx.AsyncClient(auth=httpx.DigestAuth("root", "root")) as client:
                r = await client.post(f"http://{twin.host}/cgi-bin/set_miner_conf.cgi", json={"pools": new})
                assert r.json()["code"] == "M000"
            server.clock.jump(twin.restart_delay_s + 1)
            await wait_for(lambda: _workers(pool_b).get("moved.rig", 0) >= 1, timeout_s=20)
            before = _workers(pool_a)[user]
            await asyncio.sleep(1.0)
            assert _workers(pool_a)[user] == before  # nothing more arrives at the old pool
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(main())

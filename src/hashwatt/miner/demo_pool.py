"""The demo pool: hashwatt's Stratum pool serving the demo chain (Bitcoin) or the merged
Litecoin + Dogecoin demo, for ``hashwatt mine --demo`` and the dashboard's demo site.

Its own module, above both job sources, so that neither source module imports the other's.
"""

from __future__ import annotations

from collections.abc import Callable

from hashwatt.chain import BTC, ChainParams, PowAlgorithm
from hashwatt.miner.demo import DEMO_BLOCK_EXPECTED_HASHES, DEMO_SHARE_DIFFICULTY, DemoJobSource
from hashwatt.miner.merged import (
    LTC_DEMO,
    MERGED_DEMO_BLOCK_EXPECTED_HASHES,
    MERGED_DEMO_SHARE_DIFFICULTY,
    MergedDemoJobSource,
)
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog
from hashwatt.work import BlockResult

__all__ = ["start_demo_pool"]


async def start_demo_pool(
    share_log: ShareLog,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    block_expected_hashes: float | None = None,
    share_difficulty: float | None = None,
    target_share_interval_s: float = 2.0,
    on_block: Callable[[BlockResult], None] | None = None,
    coin: ChainParams = BTC,
    aux_block_expected_hashes: float | None = None,
) -> PoolServer:
    """A started pool server on the demo chain (close it with ``await server.close()``).

    ``coin`` LTC serves the merged-mining demo (:class:`hashwatt.miner.merged.MergedDemoJobSource`:
    Litecoin jobs committing to Dogecoin blocks); defaults follow the coin.
    """
    source: DemoJobSource | MergedDemoJobSource
    if coin.pow_algorithm is PowAlgorithm.SCRYPT:
        coin = LTC_DEMO
        difficulty = MERGED_DEMO_SHARE_DIFFICULTY if share_difficulty is None else share_difficulty
        source = MergedDemoJobSource(
            block_expected_hashes=(
                MERGED_DEMO_BLOCK_EXPECTED_HASHES if block_expected_hashes is None else block_expected_hashes
            ),
            aux_block_expected_hashes=aux_block_expected_hashes,
        )
    else:
        difficulty = DEMO_SHARE_DIFFICULTY if share_difficulty is None else share_difficulty
        source = DemoJobSource(
            block_expected_hashes=DEMO_BLOCK_EXPECTED_HASHES
            if block_expected_hashes is None
            else block_expected_hashes
        )
    config = PoolConfig(
        start_difficulty=difficulty,
        min_difficulty=min(difficulty, 2.0**-20),
        target_share_interval_s=target_share_interval_s,
        retarget_interval_s=10 * target_share_interval_s,
        coin=coin,
    )
    server = PoolServer(source, share_log, config, on_block=on_block)
    await server.start(host, port)
    return server

"""Live adapter: replayed responses over a real loopback HTTP server; cache, bounds, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hashwatt.data import find_miner, network_snapshot
from hashwatt.data.live import LiveDataError, MempoolSpaceSource, live_snapshot
from hashwatt.economics import NetworkState, profit
from hashwatt.errors import InputError
from tests._support.replay import Replay


def test_live_snapshot_from_replayed_api(replay: Replay, tmp_path: Path) -> None:
    src = MempoolSpaceSource(replay.url, cache_dir=tmp_path)
    snap = live_snapshot(src)
    assert snap.height == 894_803 and snap.date == dt.date(2025, 5, 1)
    assert snap.subsidy_btc_per_block == 3.125 and snap.price_source == "live"
    assert snap.fees_btc_per_block == pytest.approx((4_113_471 + 4_083_175) / 2 / 1e8)
    # the recorded values are the shipped 2025-05-01 row: same hashprice as the embedded snapshot
    emb = network_snapshot("2025-05-01")
    assert snap.difficulty == pytest.approx(emb.difficulty) and snap.price_usd == emb.price_usd
    r = profit(find_miner("s21 xp"), network=NetworkState.from_snapshot(snap))
    assert r.revenue_usd_per_day > 0


def test_cache_serves_repeats_and_stale_fallback(tmp_path: Path) -> None:
    replay = Replay()
    src = MempoolSpaceSource(replay.url, cache_dir=tmp_path, ttl_s=3600)
    assert src.tip_height() == src.tip_height() == 894_803
    assert replay.hits["/api/blocks/tip/height"] == 1  # second read came from disk
    no_cache = MempoolSpaceSource(replay.url, cache_dir=tmp_path, ttl_s=0)
    no_cache.tip_height()
    assert replay.hits["/api/blocks/tip/height"] == 2  # expired entry refetched
    url = replay.url
    replay.close()  # server gone
    with pytest.raises(LiveDataError, match="unreachable"):
        MempoolSpaceSource(url, cache_dir=tmp_path, ttl_s=0, timeout_s=2).tip_height()
    stale = MempoolSpaceSource(url, cache_dir=tmp_path, ttl_s=0, timeout_s=2, allow_stale=True)
    assert stale.tip_height() == 894_803


def test_bad_responses_are_typed_errors(replay: Replay, tmp_path: Path) -> None:
    src = MempoolSpaceSource(replay.url)
    with pytest.raises(LiveDataError, match="HTTP 404"):
        src.get_text("/api/nope")
    replay.bodies["/api/blocks/tip/height"] = b"<html>oops</html>"
    with pytest.raises(LiveDataError, match="not an integer"):
        src.tip_height()
    replay.bodies["/api/v1/prices"] = b'{"time": 1, "USD": -5}'
    with pytest.raises(LiveDataError, match="positive USD"):
        src.price_usd()
    replay.bodies["/api/v1/mining/hashrate/3d"] = b"{not json"
    with pytest.raises(LiveDataError, match="not JSON"):
        src.difficulty()
    replay.bodies["/api/v1/mining/blocks/fees/24h"] = b"[" + b"1," * 600 + b"1]"
    with pytest.raises(LiveDataError, match="larger than"):
        MempoolSpaceSource(replay.url, max_bytes=1000).fees_btc_per_block()
    with pytest.raises(InputError):
        MempoolSpaceSource("ftp://example.org")

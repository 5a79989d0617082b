"""Live adapter: replayed responses over a real loopback HTTP server; cache, bounds, errors."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hashwatt.data import find_miner, network_snapshot
from hashwatt.data.live import LiveDataError, MempoolSpaceSource, live_snapshot
from hashwatt.economics import NetworkState, profit
from hashwatt.errors import InputError

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "economics" / "mempool_api"
ROUTES = {
    "/api/blocks/tip/height": "blocks_tip_height.txt",
    "/api/v1/mining/hashrate/3d": "v1_mining_hashrate_3d.json",
    "/api/v1/mining/blocks/fees/24h": "v1_mining_blocks_fees_24h.json",
    "/api/v1/prices": "v1_prices.json",
}


class Replay:
    """A loopback HTTP server replaying recorded bodies; counts hits per path."""

    def __init__(self) -> None:
        self.bodies = {path: (FIXTURES / name).read_bytes() for path, name in ROUTES.items()}
        self.hits: dict[str, int] = {}
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                replay.hits[self.path] = replay.hits.get(self.path, 0) + 1
                body = replay.bodies.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.close()


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


def test_cli_profit_live(replay: Replay, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hashwatt.cli.main import main

    code = main(["profit", "s21 xp", "--live-url", replay.url, "--cache-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["snapshot_source"] == "live" and data["height"] == 894_803
    assert replay.hits["/api/v1/prices"] == 1
    code = main(["profit", "s21 xp", "--live-url", replay.url, "--date", "2024-01-01"])
    assert code == 2 and "exclude" in capsys.readouterr().err

"""A loopback HTTP server replaying recorded mempool.space bodies (the live adapter's tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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

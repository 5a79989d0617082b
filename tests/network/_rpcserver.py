"""A real HTTP JSON-RPC server on loopback answering ``getblockhash`` and ``getblock <hash> 0``
with real blocks, like Bitcoin Core does (port 0: an ephemeral port per test)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _handler(blocks: dict[int, tuple[str, str]]) -> type[BaseHTTPRequestHandler]:
    by_hash = {h: raw for h, raw in blocks.values()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(length))
            method, params = req["method"], req.get("params", [])
            result: Any = None
            error: Any = None
            if method == "getblockhash" and params and params[0] in blocks:
                result = blocks[params[0]][0]
            elif method == "getblock" and params and params[0] in by_hash and params[1:] == [0]:
                result = by_hash[params[0]]
            else:
                error = {"code": -8, "message": f"{method}: not found"}
            body = json.dumps({"result": result, "error": error, "id": req.get("id")}).encode()
            self.send_response(200 if error is None else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def block_server(blocks: dict[int, tuple[str, str]]) -> Iterator[str]:
    """Serve ``{height: (block_hash_hex, raw_block_hex)}``; yields the node URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(blocks))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://user:pass@127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

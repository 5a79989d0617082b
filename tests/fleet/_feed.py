"""A loopback HTTP price feed for the curtailment tests (fleet and CLI)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Feed(http.server.BaseHTTPRequestHandler):
    """Serves whatever body, content type and status the test sets on its class."""

    body = b""
    kind = "text/csv"
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.send_header("Content-Type", type(self).kind)
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def feed_server() -> Iterator[tuple[type[Feed], str]]:
    handler = type("Feed", (Feed,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/prices"
    finally:
        server.shutdown()
        server.server_close()

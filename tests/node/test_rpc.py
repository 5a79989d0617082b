"""The JSON-RPC client against hostile HTTP servers on loopback: bounded reads, redacted errors."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from hashwatt.errors import InputError
from hashwatt.node import (
    NodeAuthFailed,
    NodeError,
    NodeUnreachable,
    NodeUrl,
    NodeUrlError,
    ResponseTooLarge,
    RpcClient,
)
from tests.node._rpcserver import fake_core, recorded_template

LIMIT = 64 * 1024
#: The endless server gives up after this much: far above LIMIT, so a client that did not stop
#: reading at its bound would get it all and the byte count below would show it.
SERVER_CAP = 32 * 1024 * 1024


class _Sent:
    def __init__(self) -> None:
        self.bytes = 0
        self.done = threading.Event()


@contextmanager
def raw_http_server(respond: Callable[[socket.socket, _Sent], None]) -> Iterator[tuple[int, _Sent]]:
    """A loopback TCP server that reads one request and lets ``respond`` write raw bytes."""
    sent = _Sent()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            try:
                respond(conn, sent)
            except OSError:
                pass  # the client hung up: what the bounded reader is expected to do
            finally:
                sent.done.set()

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], sent
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def endless_chunked(conn: socket.socket, sent: _Sent) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"[" + b"1," * 8191 + b"1"
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    while sent.bytes < SERVER_CAP:
        conn.sendall(frame)
        sent.bytes += len(piece)


def huge_content_length(conn: socket.socket, sent: _Sent) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
    conn.sendall(b"{" * 1024)
    sent.bytes += 1024


@pytest.mark.parametrize("respond", [endless_chunked, huge_content_length])
def test_oversized_response_stops_at_the_bound_sync(respond: Callable[[socket.socket, _Sent], None]) -> None:
    with raw_http_server(respond) as (port, sent):
        client = RpcClient(f"http://u:pw@127.0.0.1:{port}", max_response_bytes=LIMIT, timeout_s=20)
        with pytest.raises(ResponseTooLarge) as info:
            client.call("getblocktemplate")
        assert info.value.limit_bytes == LIMIT
        assert info.value.method == "getblocktemplate"
        assert sent.done.wait(10)
    assert sent.bytes < SERVER_CAP  # the client hung up instead of reading it all


@pytest.mark.parametrize("respond", [endless_chunked, huge_content_length])
def test_oversized_response_stops_at_the_bound_async(respond: Callable[[socket.socket, _Sent], None]) -> None:
    with raw_http_server(respond) as (port, sent):
        client = RpcClient(f"http://u:pw@127.0.0.1:{port}", max_response_bytes=LIMIT, timeout_s=20)
        with pytest.raises(ResponseTooLarge):
            asyncio.run(client.acall("getblocktemplate"))
        assert sent.done.wait(10)
    assert sent.bytes < SERVER_CAP


def test_silent_server_times_out_as_unreachable() -> None:
    gate = threading.Event()

    def never_answer(conn: socket.socket, sent: _Sent) -> None:
        gate.wait(10)

    with raw_http_server(never_answer) as (port, _):
        client = RpcClient(f"http://u:pw@127.0.0.1:{port}", timeout_s=0.5)
        with pytest.raises(NodeUnreachable):
            client.call("getblockcount")
        with pytest.raises(NodeUnreachable):
            asyncio.run(client.acall("getblockcount"))
        gate.set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _full_text(exc: BaseException) -> str:
    """Message, repr, attributes and the whole chained traceback: nowhere may a password hide."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(vars(exc))


def test_unreachable_node_errors_carry_no_password() -> None:
    url = f"http://alice:Sup3rS3cret@127.0.0.1:{_free_port()}/wallet/w1"
    client = RpcClient(url, timeout_s=2)
    for attempt in (lambda: client.call("getblockcount"), lambda: asyncio.run(client.acall("getblockcount"))):
        with pytest.raises(NodeUnreachable) as info:
            attempt()
        assert "Sup3rS3cret" not in _full_text(info.value)
        assert info.value.url.endswith("/wallet/w1")
        assert "cannot reach" in str(info.value)
    assert "Sup3rS3cret" not in repr(client)


def test_refused_credentials_are_typed_and_redacted() -> None:
    with fake_core(recorded_template()) as (url, _):
        bad = url.replace("s3cret", "Wr0ngS3cret")
        with pytest.raises(NodeAuthFailed) as info:
            RpcClient(bad).call("getblockcount")
        assert isinstance(info.value, NodeError)
        assert "Wr0ngS3cret" not in _full_text(info.value)
        assert "rpcuser" not in info.value.url


# --------------------------------------------------------------------------- one URL parser

SECRET = "Sup3rS3cret"


@pytest.mark.parametrize(
    ("text", "scheme", "host", "port", "path"),
    [
        ("http://u:pw@127.0.0.1:18443", "http", "127.0.0.1", 18443, "/"),
        ("u:pw@node.lan", "http", "node.lan", 8332, "/"),
        ("https://u:pw@[::1]:8332/wallet/w1", "https", "::1", 8332, "/wallet/w1"),
        ("http://[fe80::1%eth0]:1", "http", "fe80::1%eth0", 1, "/"),
        ("HTTP://u:pw@host:65535/?x=1#frag", "http", "host", 65535, "/?x=1"),
        ("http://u:p@ss/w@host:8/", "http", "host", 8, "/"),
    ],
)
def test_node_url_parses_hosts_ports_and_paths(
    text: str, scheme: str, host: str, port: int, path: str
) -> None:
    url = NodeUrl.parse(text)
    assert (url.scheme, url.host, url.port, url.path) == (scheme, host, port, path)
    assert "pw" not in repr(url) and "@" not in url.address


def test_node_url_keeps_percent_encoded_credentials() -> None:
    url = NodeUrl.parse("http://al%40ice:p%3Aw%2F@127.0.0.1:1")
    assert (url.user, url.password) == ("al@ice", "p:w/")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"http://u:{SECRET}@[::1:1/", "closing bracket"),
        (f"http://u:{SECRET}@[zz]:1/", "not an IPv6 address"),
        (f"http://u:{SECRET}@[::1]x:1/", "after the IPv6 host"),
        (f"http://u:{SECRET}@::1:8332/", "in brackets"),
        (f"http://u:{SECRET}@host:0/", "1..65535"),
        (f"http://u:{SECRET}@host:65536/", "1..65535"),
        (f"http://u:{SECRET}@host:+80/", "1..65535"),
        (f"http://u:{SECRET}@host:-1/", "1..65535"),
        (f"http://u:{SECRET}@host:/", "1..65535"),
        (f"http://u:{SECRET}@host:８０/", "1..65535"),
        (f"http://u:{SECRET}@host:99999999999999999999/", "1..65535"),
        (f"ftp://u:{SECRET}@host:1/", "scheme"),
        (f"stratum+tcp://u:{SECRET}@host:1/", "scheme"),
        (f"http://u:{SECRET}@:8332/", "no host"),
        (f"http://u:{SECRET}@ho st:1/", "host name"),
        ("", "no host"),
    ],
)
def test_bad_node_urls_are_one_typed_redacted_error(text: str, problem: str) -> None:
    with pytest.raises(NodeUrlError) as info:
        RpcClient(text)
    assert problem in info.value.problem
    assert isinstance(info.value, InputError) and isinstance(info.value, NodeError)
    assert SECRET not in _full_text(info.value)
    assert "\n" not in str(info.value)


def test_longpoll_uri_goes_through_the_same_parser() -> None:
    client = RpcClient(f"http://u:{SECRET}@127.0.0.1:18443")
    moved = client.at("https://[::1]/lp?id=7")
    assert (moved.scheme, moved.host, moved.port, moved.path) == ("https", "::1", 443, "/lp?id=7")
    assert moved.at("/other").url == "https://[::1]:443/other"
    with pytest.raises(NodeUrlError):
        client.at("http://[::1/lp")


def test_unreachable_error_names_the_transport_cause() -> None:
    client = RpcClient(f"http://u:{SECRET}@127.0.0.1:{_free_port()}", timeout_s=2)
    with pytest.raises(NodeUnreachable) as info:
        client.call("getblockcount")
    reason = str(info.value).rpartition(": ")[2]
    assert reason and "unparseable" not in reason  # the cause, not a redaction placeholder

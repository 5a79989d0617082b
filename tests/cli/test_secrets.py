"""No secrets in what the CLI prints: node and database passwords are masked."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from hashwatt.cli.pool import _without_password
from hashwatt.node._rpc import redact_url
from tests._support.cli import Run

SECRET = "Sup3rS3cretPw"
REGTEST_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def test_database_url_password_masked() -> None:
    shown = _without_password("postgresql+psycopg://miner:hunter2@db.internal:5432/shares")
    assert "hunter2" not in shown
    assert shown.startswith("postgresql+psycopg://miner:") and shown.endswith("@db.internal:5432/shares")
    assert (
        _without_password("sqlite:////var/lib/hashwatt/shares.db") == "sqlite:////var/lib/hashwatt/shares.db"
    )
    assert "hunter2" not in _without_password("not a url hunter2")


def test_node_url_password_masked() -> None:
    assert "hunter2" not in redact_url("https://rpc:hunter2@node:8332/wallet/x")


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_pool_serve_error_path_keeps_the_password_out_of_all_output(
    cli: Run, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """stdout, stderr and every log record of each failing run: the password appears nowhere."""
    port = _refused_port()
    base = ["pool", "serve", "--port", "0", "--duration", "2"]
    share_log = ["--share-log", str(tmp_path / "s.db")]
    cases = [
        ["--demo", "--share-log", f"postgresql+psycopg://user:{SECRET}@127.0.0.1:{port}/db"],
        ["--demo", "--json", "--share-log", f"postgresql+psycopg://user:{SECRET}@127.0.0.1:{port}/db"],
        ["--demo", "--json", "--share-log", f"mysql://user:{SECRET}@127.0.0.1:{port}/db"],
        ["--node", f"http://user:{SECRET}@127.0.0.1:{port}/", "--address", REGTEST_ADDRESS, *share_log],
        ["--node", f"http://user:{SECRET}@[::1:{port}/", "--address", REGTEST_ADDRESS, *share_log],
        ["--upstream", f"stratum+tcp://user:{SECRET}@[::1:{port}", *share_log],
    ]
    caplog.set_level(logging.DEBUG)
    for args in cases:
        caplog.clear()
        result = cli(*base, *args)
        output = result.out + result.err
        assert result.code == 2, (args, result)
        assert SECRET not in output + caplog.text, args
        assert output.strip().startswith("error:") and len(output.strip().splitlines()) == 1, output

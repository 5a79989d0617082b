"""``hashwatt serve --share-log`` and ``--pool-groups``: a share log or groups file that cannot be
used is one line, exit 2, with any password masked, before the server listens; neither goes with
``--demo`` (which runs its own pool and groups)."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path


def hashwatt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hashwatt", *args], capture_output=True, text=True, timeout=120
    )


def test_serve_share_log_errors_are_one_line_without_the_password() -> None:
    bad = hashwatt("serve", "--port", "0", "--share-log", "postgresql+psycopg://u:sekrit@127.0.0.1:1/x")
    both = hashwatt("serve", "--port", "0", "--demo", "--share-log", "sqlite:///x.db")
    for r, word in ((bad, "share table"), (both, "--demo")):
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1 and word in r.stderr
        assert "Traceback" not in r.stderr and "sekrit" not in r.stdout + r.stderr


def test_serve_pool_groups_file_errors_are_one_line_before_listening(tmp_path: Path) -> None:
    leaky = tmp_path / "groups.toml"
    leaky.write_text('[[group]]\nname = "a"\nurl = "stratum+tcp://acct:sekrit@p:1"\nuser = "u"\n')
    cases = (
        (hashwatt("serve", "--port", "0", "--pool-groups", str(tmp_path / "absent.toml")), "not found"),
        (hashwatt("serve", "--port", "0", "--pool-groups", str(leaky)), "group.0.url"),
        (hashwatt("serve", "--port", "0", "--demo", "--pool-groups", str(leaky)), "--demo"),
    )
    for r, word in cases:
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error:") and r.stderr.count("\n") == 1 and word in r.stderr
        assert "Traceback" not in r.stderr and "sekrit" not in r.stdout + r.stderr
        assert "dashboard:" not in r.stdout  # refused before it listened


def test_serve_with_a_pool_groups_file_starts_and_answers(tmp_path: Path) -> None:
    groups = tmp_path / "groups.toml"
    groups.write_text('[[group]]\nname = "main"\nurl = "stratum+tcp://pool.example:3333"\nuser = "s.r"\n')
    db = f"sqlite:///{tmp_path / 'fleet.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hashwatt", "serve", "--port", "0", "--db", db, "--pool-groups", str(groups)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server has bound its port
        assert line.startswith("hashwatt dashboard: http://127.0.0.1:"), line
        url = line.split()[-1]
        with urllib.request.urlopen(url + "login", timeout=10) as reply:
            assert reply.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0

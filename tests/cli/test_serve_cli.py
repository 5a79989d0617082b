"""``hashwatt serve --share-log``: a share log that cannot be opened is one line, exit 2, with
the URL's password masked; it does not go with ``--demo`` (which runs its own pool)."""

from __future__ import annotations

import subprocess
import sys


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

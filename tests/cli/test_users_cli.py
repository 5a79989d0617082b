"""``hashwatt users``: the first admin from the CLI, password from stdin, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hashwatt.fleet._store import FleetStore
from hashwatt.web import Role, UserStore


def hashwatt(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hashwatt", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_users_add_then_log_in_and_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")
    password = "a-long-enough-password"
    r = hashwatt(
        "users", "add", "root", "--role", "admin", "--password-stdin", "--db", db, stdin=password + "\n"
    )
    assert r.returncode == 0, r.stderr
    assert password not in r.stdout + r.stderr
    with FleetStore.open(f"sqlite:///{db}") as store:
        user = UserStore(store.engine).authenticate("root", password)
    assert user.role is Role.ADMIN
    again = hashwatt("users", "add", "root", "--password-stdin", "--db", db, stdin=password + "\n")
    short = hashwatt("users", "add", "bob", "--password-stdin", "--db", db, stdin="short\n")
    role = hashwatt(
        "users", "add", "eve", "--role", "god", "--password-stdin", "--db", db, stdin=password + "\n"
    )
    for bad, word in ((again, "exists"), (short, "at least"), (role, "god")):
        assert bad.returncode == 2
        assert word in bad.stderr and "Traceback" not in bad.stderr
    assert all(b.stderr.startswith("error:") and b.stderr.count("\n") == 1 for b in (again, short))
    listed = hashwatt("users", "list", "--json", "--db", db)
    assert '"root"' in listed.stdout and '"admin"' in listed.stdout

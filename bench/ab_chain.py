"""A/B of the chain decoder: an older commit against the working tree, in one process, CPU time.

On a shared machine two separate runs of bench_chain.py differ by more than a refactor's
effect; interleaving the two versions in one process and taking the best CPU time of each
cancels most of the load. The old commit's ``src/hashwatt`` is copied to a temporary package
``hashwatt_base`` so both import side by side.

Run: .venv/bin/python bench/ab_chain.py [COMMIT]   (default ff162a3, before issue 10's chain changes)
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BLOCK_FILE = ROOT / "tests" / "data" / "chain" / "block_413567.hex"


def import_base(commit: str, where: Path) -> ModuleType:
    """``hashwatt_base.chain`` from ``commit`` (imports rewritten from ``hashwatt`` to ``hashwatt_base``)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src/hashwatt"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    package = where / "hashwatt_base"
    (where / "src" / "hashwatt").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\bhashwatt(?=[. ])", "hashwatt_base", text), encoding="utf-8")
    sys.path.insert(0, str(where))
    return importlib.import_module("hashwatt_base.chain")


def best_cpu_s(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main(argv: list[str]) -> int:
    commit = argv[1] if len(argv) > 1 else "ff162a3"
    import hashwatt.chain as branch

    raw = bytes.fromhex(BLOCK_FILE.read_text().strip())
    with tempfile.TemporaryDirectory() as tmp:
        base = import_base(commit, Path(tmp))
        if base.Block.from_bytes(raw).to_bytes() != branch.Block.from_bytes(raw).to_bytes() != raw:
            raise SystemExit("the two versions decode the block differently")

        def check(chain: ModuleType) -> Callable[[], object]:
            def run() -> None:
                if chain.validate_block(chain.Block.from_bytes(raw), height=413567):
                    raise SystemExit("unexpected consensus errors")

            return run

        cases = {
            "parse": (lambda: base.Block.from_bytes(raw), lambda: branch.Block.from_bytes(raw)),
            "parse + full check": (check(base), check(branch)),
        }
        best = {name: [float("inf"), float("inf")] for name in cases}
        for _ in range(25):  # interleaved, so both see the same load
            for name, (fn_base, fn_branch) in cases.items():
                best[name][0] = min(best[name][0], best_cpu_s(fn_base))
                best[name][1] = min(best[name][1], best_cpu_s(fn_branch))
    print(f"block 413567, best CPU time of 25 interleaved runs; base = {commit}")
    for name, (t_base, t_branch) in best.items():
        print(
            f"{name}: base {t_base * 1e3:.1f} ms, working tree {t_branch * 1e3:.1f} ms, "
            f"working tree / base {t_branch / t_base:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Arrows point down only: no module imports a room of a higher layer (docs/ARCHITECTURE.md).

Every module's imports are read from its syntax tree, so imports under ``TYPE_CHECKING``,
inside functions and relative imports all count; only ``importlib`` calls escape (the CLI's
lazy command loading, which stays inside the edge).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "src" / "hashwatt"

#: The one layer table: a room may import its own layer and the layers below it, never above.
LAYERS: dict[str, int] = {
    # 0: foundations (pure, fast; the work unit sits here so protocols can share it)
    "__init__": 0,
    "errors": 0,
    "_toml": 0,
    "_redact": 0,
    "_aio": 0,
    "chain": 0,
    "work": 0,
    "pow": 0,
    "data": 0,
    # 1: protocols, device emulation and models
    "stratum": 1,
    "node": 1,
    "economics": 1,
    "twin": 1,
    "minerapi": 1,  # firmware wire codecs shared by twin/ (servers) and fleet/ (clients)
    # 2: use-cases that compose the core
    "miner": 2,
    "fleet": 2,
    "energy": 2,
    "network": 2,
    # 3: edges (parse, print, serve; ``python -m hashwatt`` is the CLI's)
    "cli": 3,
    "web": 3,
    "__main__": 3,
}
LAYER_NAMES = ("foundation", "protocol/model", "use-case", "edge")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Absolute names of the hashwatt modules ``path`` imports (relative imports resolved)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            if target == root.name:  # ``from hashwatt import cli`` imports the room itself
                found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == root.name or m.startswith(root.name + ".")}


def room_of(module: str) -> str | None:
    """The room a hashwatt module belongs to (``hashwatt.chain._codec`` -> ``chain``)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1] if parts[1] in LAYERS else None


def upward_imports(root: Path) -> set[tuple[str, str]]:
    """Every (importer, imported) pair where the imported room sits in a higher layer."""
    bad: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        src_room = room_of(importer)
        if src_room is None:
            raise AssertionError(f"{importer}: room not in the layer table; add it to LAYERS")
        for imported in imported_modules(path, root):
            dst_room = room_of(imported)
            if dst_room is not None and LAYERS[dst_room] > LAYERS[src_room]:
                bad.add((importer, imported))
    return bad


def describe(edges: set[tuple[str, str]]) -> str:
    lines = []
    for importer, imported in sorted(edges):
        src, dst = room_of(importer), room_of(imported)
        assert src is not None and dst is not None
        lines.append(
            f"{importer} ({LAYER_NAMES[LAYERS[src]]}) imports {imported} ({LAYER_NAMES[LAYERS[dst]]})"
        )
    return "\n".join(lines)


def test_every_room_is_in_the_layer_table() -> None:
    rooms = {p.name for p in PACKAGE_ROOT.iterdir() if (p / "__init__.py").is_file()}
    rooms |= {p.stem for p in PACKAGE_ROOT.glob("*.py")}
    missing = rooms - set(LAYERS)
    assert not missing, f"rooms without a layer: {sorted(missing)}"


def test_no_import_points_up() -> None:
    unexpected = upward_imports(PACKAGE_ROOT)
    assert not unexpected, "imports that point up:\n" + describe(unexpected)


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("relative", "text", "edge"),
    [
        ("chain/_x.py", "import hashwatt.miner.engine\n", ("hashwatt.chain._x", "hashwatt.miner.engine")),
        (
            "work/_x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hashwatt.stratum import Pool\n",
            ("hashwatt.work._x", "hashwatt.stratum"),
        ),
        ("node/_x.py", "from ..fleet import Fleet\n", ("hashwatt.node._x", "hashwatt.fleet")),
        ("data/__init__.py", "from hashwatt import cli\n", ("hashwatt.data", "hashwatt.cli")),
        (
            "miner/_x.py",
            "def f() -> None:\n    from hashwatt.web.app import make\n",
            ("hashwatt.miner._x", "hashwatt.web.app"),
        ),
    ],
)
def test_the_check_catches_a_synthetic_upward_import(
    tmp_path: Path, relative: str, text: str, edge: tuple[str, str]
) -> None:
    root = tmp_path / "hashwatt"
    _write(root, "__init__.py", "")
    for room in ("chain", "work", "node", "data", "miner", "stratum", "fleet", "cli", "web"):
        _write(root, f"{room}/__init__.py", "")
    _write(root, "cli/main.py", "from hashwatt.miner import engine\nfrom hashwatt.chain import x\n")
    assert upward_imports(root) == set()  # downward and same-layer imports are fine
    _write(root, relative, text)
    assert upward_imports(root) == {edge}

"""Error families (docs/ERRORS.md): every error a room raises is reachable from the room's base."""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

import pytest

import hashwatt.errors
from hashwatt.economics.errors import EconomicsError
from hashwatt.energy.errors import EnergyError
from hashwatt.errors import ChainError, DataError, HashwattError, InputError
from hashwatt.miner.errors import MinerError
from hashwatt.network.errors import NetworkError
from hashwatt.node.errors import NodeError
from hashwatt.work.errors import WorkError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "src" / "hashwatt"
DOC = Path(__file__).resolve().parent.parent / "docs" / "ERRORS.md"

BASES: dict[str, type[HashwattError]] = {
    "chain": ChainError,
    "work": WorkError,
    "miner": MinerError,
    "node": NodeError,
    "data": DataError,
    "economics": EconomicsError,
    "energy": EnergyError,
    "network": NetworkError,
}

#: Raises that are not the room's own, each with its reason.
ALLOWED: dict[tuple[str, str], str] = {
    # pydantic's contract: a validator raises ValueError, pydantic wraps it in a ValidationError
    # that the room's loader turns into SiteConfigError / TariffError.
    ("hashwatt.energy._sites", "ValueError"): "pydantic validator",
    ("hashwatt.energy._tariff", "ValueError"): "pydantic validator",
    # the engine re-checks every hit with hashlib; a miss is the pow kernel's fault, so pow's error
    ("hashwatt.miner.engine", "KernelError"): "a pow kernel fault, reported as pow's",
}


def raised_names(path: Path) -> set[str]:
    """Names of the classes a module raises by call (``raise Name(...)``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@pytest.mark.parametrize("room", sorted(BASES))
def test_every_raise_reaches_the_rooms_base(room: str) -> None:
    base = BASES[room]
    stray: list[str] = []
    for path in sorted((PACKAGE_ROOT / room).rglob("*.py")):
        name = module_of(path)
        module = importlib.import_module(name)
        for cls_name in raised_names(path):
            if (name, cls_name) in ALLOWED:
                continue
            cls = getattr(module, cls_name, getattr(builtins, cls_name, None))
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                continue  # a factory or a re-raised value, not a class
            if not issubclass(cls, base):
                stray.append(f"{name} raises {cls_name}, not a {base.__name__}")
    assert not stray, "\n".join(stray)


def test_the_check_sees_a_stray_raise(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    raise InputError('x')\n\ndef g(exc):\n    raise exc\n")
    assert raised_names(module) == {"InputError"}
    assert not issubclass(InputError, ChainError)  # so chain raising it would be reported


def _error_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    modules = [hashwatt.errors] + [
        importlib.import_module(f"hashwatt.{room}.errors") for room in BASES if room not in ("chain", "data")
    ]
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, HashwattError)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_error_class_is_in_the_documented_tree() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(cls.__name__ for cls in _error_classes() if cls.__name__ not in text)
    assert not missing, f"docs/ERRORS.md does not list: {missing}"


def test_context_travels_as_attributes() -> None:
    from hashwatt.chain import BlockHeader
    from hashwatt.errors import InvalidField
    from hashwatt.node.errors import NodeUnreachable
    from hashwatt.work.errors import WorkInputError

    with pytest.raises(InvalidField) as field_info:
        BlockHeader(1, bytes(31), bytes(32), 0, 0, 0)
    assert (field_info.value.structure, field_info.value.field) == ("BlockHeader", "prev_hash")
    error = WorkInputError("share target must be positive", job_id="j7")
    assert error.job_id == "j7" and isinstance(error, InputError) and "j7" in str(error)
    unreachable = NodeUnreachable("getblockcount", "http://127.0.0.1:8332/", "refused")
    assert (unreachable.method, unreachable.url) == ("getblockcount", "http://127.0.0.1:8332/")

"""Input errors carry their context as attributes (docs/ERRORS.md): a scan of the source.

Every ``raise <InputError subclass>(f"...")`` whose message interpolates what was given also
passes ``field=`` (and ``value=``), unless its class fills them in itself (``PoolConfigError``,
``PoolUrlError``, ``UnknownMinerError``...) or the raise is allow-listed below with a reason.
``PENDING`` would count raises per module not given their context yet (it may only shrink; empty now).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from hashwatt.errors import InputError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "src" / "hashwatt"

#: (module, enclosing function): why no single field exists.
NO_SINGLE_FIELD: dict[tuple[str, str], str] = {
    # a pydantic validator shared by several fields: pydantic's ValidationError names the field,
    # and validate_or_raise turns it into an EconomicsInputError with field= the dotted location
    ("hashwatt.economics._coins", "_non_negative"): "pydantic validator shared by several fields",
}

#: module -> raises still without field=, to be given their context (the count may only shrink;
#: empty since every room's raises carry theirs).
PENDING: dict[str, int] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _class_sets_its_own_field(cls: type[InputError]) -> bool:
    """A class whose constructor takes no ``field`` keyword fills the context in itself."""
    return "field" not in inspect.signature(cls.__init__).parameters


def fieldless_raises(path: Path, namespace: dict[str, object]) -> list[tuple[str, int]]:
    """(enclosing function, line) of each ``raise Cls(f"...")`` of an InputError without field=."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                call = child.exc
                func = call.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                cls = namespace.get(name)
                if (
                    isinstance(cls, type)
                    and issubclass(cls, InputError)
                    and not _class_sets_its_own_field(cls)
                    and call.args
                    and isinstance(call.args[0], ast.JoinedStr)
                    and "field" not in {k.arg for k in call.keywords}
                ):
                    found.append((where, child.lineno))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def _scan() -> dict[str, list[tuple[str, int]]]:
    result: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if path.name == "__main__.py" or "migrations" in path.parts:
            continue
        name = _module_name(path)
        module = importlib.import_module(name)
        hits = fieldless_raises(path, vars(module))
        if hits:
            result[name] = hits
    return result


def test_no_input_error_raise_leaves_its_field_out() -> None:
    problems: list[str] = []
    scanned = _scan()
    for module, hits in scanned.items():
        left = [(where, line) for where, line in hits if (module, where) not in NO_SINGLE_FIELD]
        allowed = PENDING.get(module, 0)
        if len(left) > allowed:
            shown = ", ".join(f"{where}:{line}" for where, line in left)
            problems.append(f"{module}: {len(left)} raise(s) without field= (pending {allowed}): {shown}")
        elif len(left) < allowed:
            problems.append(f"{module}: only {len(left)} left; lower PENDING[{module!r}] to {len(left)}")
    stale = [m for m in PENDING if m not in scanned]
    problems += [f"{m}: none left; drop it from PENDING" for m in stale]
    assert not problems, "\n".join(problems)


def test_the_scan_sees_a_fieldless_raise(tmp_path: Path) -> None:
    class Bad(InputError):
        pass

    source = tmp_path / "m.py"
    source.write_text(
        "def f(x):\n"
        "    raise Bad(f'bad {x}')\n"
        "def g(x):\n"
        "    raise Bad(f'bad {x}', field='x', value=x)\n"
        "def h(x):\n"
        "    raise Bad('plain')\n"
    )
    assert fieldless_raises(source, {"Bad": Bad}) == [("f", 2)]

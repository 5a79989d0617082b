"""User TOML files: every failure is one typed error naming the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashwatt._toml import read_toml
from hashwatt.errors import InputError


def test_read_toml_errors(tmp_path: Path) -> None:
    good = tmp_path / "ok.toml"
    good.write_text('[site]\nname = "x"\n', encoding="utf-8")
    assert read_toml(good, what="sites file", error=InputError) == {"site": {"name": "x"}}
    with pytest.raises(InputError, match="sites file not found"):
        read_toml(tmp_path / "missing.toml", what="sites file", error=InputError)
    with pytest.raises(InputError, match="sites file not found"):
        read_toml(tmp_path, what="sites file", error=InputError)  # a directory is not a file
    bad = tmp_path / "bad.toml"
    bad.write_text("[site\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        read_toml(bad, what="sites file", error=InputError)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="cannot read sites file"):
        read_toml(binary, what="sites file", error=InputError)

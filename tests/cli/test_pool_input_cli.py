"""``pool``, ``mine``, ``block`` and ``chain``: nonsense numbers and unusable node URLs are one
``error:`` line and exit 2 (issue #14), read from the app itself so a new option is covered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support.cli import Run, leaf_commands

BLOCK_FILE = str(Path(__file__).resolve().parents[1] / "data" / "chain" / "block_413567.hex")
SECRET = "Sup3rS3cret"
REGTEST_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

#: A short, harmless run of each command, so a value wrongly accepted ends the run at once.
BASE_ARGS: dict[tuple[str, ...], list[str]] = {
    ("pool", "serve"): ["--demo", "--port", "0", "--duration", "0"],
    ("mine",): ["--demo", "--duration", "0", "--threads", "1"],
    ("block", "decode"): [BLOCK_FILE, "--txs", "0"],
    ("chain", "supply"): [],
    ("chain", "target"): ["1d00ffff"],
    ("chain", "retarget"): [
        "--prev-bits",
        "1d00ffff",
        "--first-time",
        "1231006505",
        "--last-time",
        "1232216105",
    ],
}
GROUPS = ("pool", "mine", "block", "chain")
NONSENSE = ["-1", "nan", "inf", "-inf", "1e400", "1e300", str(2**70), "2**70"]


def _numeric_options() -> list[tuple[tuple[str, ...], str]]:
    found = []
    for path, command in leaf_commands():
        if path[0] not in GROUPS:
            continue
        for param in command.params:
            if param.param_type_name == "option" and param.type_descriptor.annotation in (int, float):
                found.append((path, max(param.opts, key=len)))
    return found


NUMERIC = _numeric_options()


def test_the_numeric_options_are_found() -> None:
    names = {(path, opt) for path, opt in NUMERIC}
    assert (("block", "decode"), "--height") in names and (("pool", "serve"), "--difficulty") in names
    assert (("mine",), "--duration") in names and (("chain", "retarget"), "--first-time") in names


@pytest.mark.parametrize(
    ("path", "option"), NUMERIC, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x
)
def test_nonsense_numbers_are_one_line_exit_2(
    cli: Run, tmp_path: Path, path: tuple[str, ...], option: str
) -> None:
    base = list(BASE_ARGS[path])  # a new command in these groups needs its harmless run here
    if path == ("pool", "serve"):
        base += ["--share-log", str(tmp_path / "shares.db")]
    for value in NONSENSE:
        result = cli(*path, *base, option, value)
        lines = result.err.strip().splitlines()
        assert result.code == 2, (option, value, result)
        assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.err, result.err
        assert option in result.err or value in result.err, result.err


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (f"http://u:{SECRET}@[::1:1/", "closing bracket"),
        (f"http://u:{SECRET}@[zz]:1/", "not an IPv6 address"),
        (f"http://u:{SECRET}@::1:8332/", "in brackets"),
        (f"http://u:{SECRET}@[::1]:0/", "1..65535"),
        (f"http://u:{SECRET}@[::1]:99999/", "1..65535"),
        (f"http://u:{SECRET}@node:+80/", "1..65535"),
        (f"ftp://u:{SECRET}@node:1/", "scheme"),
        (f"http://u:{SECRET}@:8332/", "no host"),
        (f"http://u:{SECRET}@no de:1/", "host name"),
    ],
)
def test_bad_node_urls_are_one_redacted_line_everywhere(
    cli: Run, tmp_path: Path, url: str, needle: str
) -> None:
    runs = [
        (
            "pool",
            "serve",
            "--port",
            "0",
            "--node",
            url,
            "--address",
            REGTEST_ADDRESS,
            "--duration",
            "0",
            "--share-log",
            str(tmp_path / "shares.db"),
        ),
        ("mine", "--node", url, "--address", REGTEST_ADDRESS, "--duration", "0"),
        ("network", "attribute", "--node", url, "--height", "1"),
    ]
    for argv in runs:
        result = cli(*argv)
        lines = result.err.strip().splitlines()
        assert result.code == 2, (argv, result)
        assert len(lines) == 1 and lines[0].startswith("error: node URL"), result.err
        assert needle in result.err and SECRET not in result.err + result.out
    assert not (tmp_path / "shares.db").exists()  # refused before the share log was opened

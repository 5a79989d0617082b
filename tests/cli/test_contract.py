"""What every command promises: one ``error:`` line and exit 2 for bad input (usage errors
included), output files checked before work starts, user text never read as Rich markup,
help that keeps its bracketed units, and charts that never touch the caller's backend.

The command lists are read from the app itself, so a new command cannot skip these checks.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import get_args

import pytest

from hashwatt.cli import energy as energy_cli
from hashwatt.cli import network as network_cli
from hashwatt.cli._output import fmt_usd
from hashwatt.cli.economics import PriceModel
from hashwatt.data.prices import FillMethod
from hashwatt.network import TRAILING_WINDOWS, CarbonMix, DoubleSpendModel, IntervalMethod, Weighting, Window
from tests._support.cli import Run, leaf_commands

SRC = Path(__file__).resolve().parents[2] / "src" / "hashwatt"

#: The smallest valid invocation of each command (options with an output path come on top).
MINIMAL_ARGS: dict[tuple[str, ...], list[str]] = {
    ("profit",): ["s21"],
    ("rank",): [],
    ("forecast",): ["s21", "--paths", "10", "--years", "0.1"],
    ("backtest",): ["s19 pro", "--bought", "2024-01-01"],
    ("hashprice",): [],
    ("plan",): ["fleet.toml"],
    ("dispatch",): ["--market", "ERCOT", "--year", "2021", "--model", "s21", "--hashprice", "50"],
    ("network", "pools"): [],
    ("network", "energy"): [],
}


def _one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("path", [path for path, _ in leaf_commands()], ids=lambda path: " ".join(path))
def test_every_command_answers_an_unknown_option_with_one_line(cli: Run, path: tuple[str, ...]) -> None:
    result = cli(*path, "--no-such-option")
    assert result.code == 2, result
    assert _one_error_line(result.err), result.err
    assert "--no-such-option" in result.err


@pytest.mark.parametrize("path", [path for path, _ in leaf_commands()], ids=lambda path: " ".join(path))
def test_every_command_has_help(cli: Run, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.code == 0 and "Usage" in result.out and result.err == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["profit", "s21", "--count", "0"], "--count"),
        (["pool", "serve", "--port", "70000"], "--port"),
        (["chain", "supply", "--height", "-1"], "--height"),
        (["profit"], "Missing argument"),
        (["network", "pools", "--window", "fortnight"], "--window"),
        (["forecast", "s21", "--price-model", "garch"], "--price-model"),
        (["dispatch", "--method", "magic"], "--method"),
        (["dispatch", "--fill", "guess"], "--fill"),
        (["network", "energy", "--weighting", "vibes"], "--weighting"),
        (["network", "pools", "--method", "bayes"], "--method"),
        (["profit", "s21", "--scheme", "ppx"], "--scheme"),
    ],
)
def test_usage_errors_are_one_line_exit_2(cli: Run, args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert _one_error_line(result.err), result.err
    assert needle in result.err


def test_choices_accept_any_case(cli: Run) -> None:
    result = cli("network", "security", "--attacker", "0.1", "--json")
    assert result.code == 0
    assert cli("profit", "s21", "--scheme", "PPS", "--json").code == 0


def test_choice_enums_match_the_library_literals() -> None:
    """The CLI's Enums carry exactly the values the library functions accept."""
    assert {w.value for w in network_cli.Window} == set(get_args(Window))
    assert {m.value for m in network_cli.ShareInterval} == set(get_args(IntervalMethod))
    assert {w.value for w in network_cli.Weighting} == set(get_args(Weighting))
    assert {c.value for c in network_cli.CarbonMixChoice} == set(get_args(CarbonMix))
    assert [t.value for t in network_cli.Trailing] == list(TRAILING_WINDOWS)
    assert set(network_cli._MODELS) == set(get_args(DoubleSpendModel))
    assert {f.value for f in energy_cli.Fill} == set(get_args(FillMethod))
    assert {p.value for p in PriceModel} == {"gbm", "bootstrap"}


def test_no_choice_is_checked_by_hand_with_type_ignore() -> None:
    for module in (SRC / "cli").glob("*.py"):
        for line in module.read_text(encoding="utf-8").splitlines():
            assert "type: ignore[arg-type]" not in line and "type: ignore[assignment]" not in line, (
                module.name,
                line,
            )


# --------------------------------------------------------------------------- output paths


def _output_options() -> dict[tuple[tuple[str, ...], str], list[str]]:
    """(command path, flag) for every option that writes a file."""
    found = {}
    for path, command in leaf_commands():
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag in ("--csv", "--plot", "--heatmap"):
                    found[(path, flag)] = MINIMAL_ARGS.get(path, [])
    return found


OUTPUTS = _output_options()


def test_every_output_option_is_covered() -> None:
    assert {path for path, _ in OUTPUTS} == set(MINIMAL_ARGS), "add the new command to MINIMAL_ARGS"
    assert len(OUTPUTS) >= 10


@pytest.mark.parametrize(
    ("path", "flag"), sorted(OUTPUTS), ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_output_into_a_missing_folder_or_onto_a_folder(
    cli: Run, tmp_path: Path, path: tuple[str, ...], flag: str
) -> None:
    args = [*path, *OUTPUTS[(path, flag)]]
    missing = cli(*args, flag, str(tmp_path / "no-such-folder" / "out.png"))
    assert missing.code == 2 and _one_error_line(missing.err), missing
    assert "does not exist" in missing.err
    folder = cli(*args, flag, str(tmp_path))
    assert folder.code == 2 and _one_error_line(folder.err), folder
    assert "directory" in folder.err
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere, no adir.png


def test_a_failing_write_is_one_line(cli: Run) -> None:
    result = cli("hashprice", "--csv", "/proc/hashwatt-test.csv")
    assert result.code == 2 and _one_error_line(result.err), result
    assert "cannot write /proc/hashwatt-test.csv" in result.err


def test_plot_goes_exactly_where_asked_and_says_so(cli: Run, tmp_path: Path) -> None:
    chart = tmp_path / "chart"  # no suffix: matplotlib alone would write chart.png
    result = cli("backtest", "s19 pro", "--bought", "2024-01-01", "--plot", str(chart))
    assert result.code == 0, result.err
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "chart.png").exists()
    assert f"chart written to {chart}" in result.out.replace("\n", "")
    svg = tmp_path / "bands.svg"
    result = cli("forecast", "s21", "--paths", "20", "--years", "0.2", "--plot", str(svg))
    assert result.code == 0, result.err
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert f"chart written to {svg}" in result.out.replace("\n", "")


# --------------------------------------------------------------------------- markup


def test_model_name_with_markup_is_shown_verbatim(cli: Run) -> None:
    result = cli("profit", "s21 [/b] pro")
    assert result.code == 2 and _one_error_line(result.err), result.err
    assert "s21 [/b] pro" in result.err


PLAN = """
[[site]]
name = "Site [/x] B"
power_price_usd_per_kwh = 0.05

[[site.miner]]
model = "s21"
count = 2
"""


def test_plan_file_and_site_names_with_markup(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "[/x].toml"  # the file x].toml in a folder named "["
    missing = cli("plan", str(path))
    assert missing.code == 2 and _one_error_line(missing.err)
    assert "[/x].toml" in missing.err
    path.parent.mkdir()
    path.write_text(PLAN, encoding="utf-8")
    result = cli("plan", str(path))
    assert result.code == 0, result.err
    text = result.out.replace("\n", " ")
    assert "x].toml" in text and "Site [/x] B" in text


def test_empty_plan_file_message_keeps_its_brackets(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    result = cli("plan", str(path))
    assert result.code == 2 and _one_error_line(result.err)
    assert "[[site]]" in result.err


def test_help_keeps_bracketed_units(cli: Run) -> None:
    result = cli("forecast", "--help")
    assert result.code == 0
    assert "Horizon [years]" in result.out
    assert "[USD/kWh]" in cli("profit", "--help").out


def test_fleet_name_is_free_and_plan_says_what_it_was() -> None:
    assert ("plan",) in dict(leaf_commands())
    command = dict(leaf_commands())[("plan",)]
    assert "hashwatt fleet" in (command.help or "")
    assert ("fleet",) not in dict(leaf_commands())  # the fleet operations service takes the name


# --------------------------------------------------------------------------- mine


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mine_reports_an_unreachable_pool_and_exits_1(cli: Run) -> None:
    url = f"stratum+tcp://127.0.0.1:{_closed_port()}"
    result = cli("mine", "-o", url, "--duration", "1", "--give-up-after", "0", "--threads", "1")
    assert result.code == 1
    assert _one_error_line(result.err), result.err
    assert "no pool reachable in 1 s" in result.err and "127.0.0.1" in result.err


@pytest.mark.parametrize(
    "url", ["stratum+tcp://[::1", "stratum+tcp://[zz]:3333", "stratum+tcp://[::1]:99999", "stratum+tcp://h"]
)
def test_malformed_pool_urls_are_one_line_exit_2(cli: Run, url: str) -> None:
    result = cli("mine", "-o", url, "--duration", "1")
    assert result.code == 2
    assert _one_error_line(result.err), result.err
    assert url in result.err


def test_mine_gives_up_when_failover_is_exhausted(cli: Run) -> None:
    urls = [f"stratum+tcp://127.0.0.1:{_closed_port()}" for _ in range(2)]
    result = cli("mine", "-o", urls[0], "-o", urls[1], "--give-up-after", "1", "--threads", "1", "--json")
    assert result.code == 1
    assert "every pool failed 1 times in a row" in result.err
    events = [line for line in result.out.splitlines() if '"connect_failed"' in line]
    assert len(events) == 2  # each pool tried once, then the failover list is exhausted
    assert '"gave_up"' in result.out and '"error": "no pool reachable' in result.out


# --------------------------------------------------------------------------- charts


def test_plot_modules_leave_the_backend_alone() -> None:
    """A notebook's backend survives drawing every chart; no library module calls matplotlib.use."""
    import io

    import matplotlib
    import numpy as np
    import pandas as pd

    from hashwatt.economics import plot as econ_plot

    before = matplotlib.get_backend()
    matplotlib.use("svg")  # what a user chose, and not the Agg the CLI would pick
    try:
        days = pd.date_range("2024-01-01", periods=5, freq="D")
        grid = pd.DataFrame(np.arange(6.0).reshape(2, 3), index=[0.01, 0.02], columns=[5e4, 6e4, 7e4])
        econ_plot.plot_profit_heatmap(grid, title="t").savefig(io.BytesIO(), format="png")
        frame = pd.DataFrame({"hashprice_usd_per_ph_day": np.arange(1.0, 6.0)}, index=days)
        econ_plot.plot_hashprice(frame).savefig(io.BytesIO(), format="png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    for module in SRC.rglob("*.py"):
        assert "matplotlib.use(" not in module.read_text(encoding="utf-8"), module


# --------------------------------------------------------------------------- layering


def _imported_modules(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_below_the_edge_imports_the_cli() -> None:
    """The CLI is the edge: the miner reports through events, never by printing with cli._output."""
    offenders = {
        str(module.relative_to(SRC)): sorted(
            n for n in _imported_modules(module) if n.startswith("hashwatt.cli")
        )
        for module in SRC.rglob("*.py")
        if module.relative_to(SRC).parts[0] not in ("cli", "__main__.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pool_and_node_text_is_printed_verbatim() -> None:
    """Remote strings (a pool's message, a node's reject reason) may hold Rich markup."""
    import io

    from rich.console import Console

    from hashwatt.cli.mine import _block_line, _event_line
    from hashwatt.work import BlockResult

    sink = io.StringIO()
    console = Console(file=sink, width=200)
    console.print(_event_line("disconnected", {"event": "x", "reason": "pool says [/b] [red]bye"}))
    console.print(_block_line(BlockResult("00" * 32, 840_000, False, "rejected: [/x] bad-txns")))
    text = sink.getvalue()
    assert "reason=pool says [/b] [red]bye" in text
    assert "rejected: [/x] bad-txns" in text


def test_a_failing_engine_is_reported_in_one_line() -> None:
    """Errors raised in the engine's workers or share callback end up in the run's error line."""
    import time

    from hashwatt.cli.mine import _engine_failure
    from hashwatt.miner.engine import SearchEngine
    from hashwatt.pow import MAX_TARGET
    from tests._support.work import make_job

    engine = SearchEngine(backend="cpu", threads=1, batch_nonces=1 << 12)
    assert _engine_failure(engine) is None

    def broken(_solution: object) -> None:
        raise RuntimeError("share consumer failed")

    engine.set_job(make_job(share_target=MAX_TARGET >> 4))
    engine.start(broken)
    deadline = time.monotonic() + 60
    while engine.error_count < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    engine.stop()
    message = _engine_failure(engine)
    assert message is not None and "\n" not in message
    assert "RuntimeError: share consumer failed" in message and "errors in all" in message


# --------------------------------------------------------------------------- consistency

#: The smallest valid invocation of each command that takes ``--pool-fee``.
POOL_FEE_ARGS: dict[tuple[str, ...], list[str]] = {
    ("profit",): ["s21"],
    ("rank",): [],
    ("forecast",): ["s21", "--paths", "10", "--years", "0.1"],
    ("backtest",): ["s19 pro", "--bought", "2024-01-01"],
    ("best",): ["--budget", "50000", "--price", "s21=5000"],
    ("dispatch",): MINIMAL_ARGS[("dispatch",)],
}


def _takes(command: object, flag: str) -> bool:
    return any(flag in getattr(param, "opts", []) for param in getattr(command, "params", []))


def test_every_pool_fee_command_is_covered() -> None:
    assert {path for path, command in leaf_commands() if _takes(command, "--pool-fee")} == set(POOL_FEE_ARGS)


@pytest.mark.parametrize("path", sorted(POOL_FEE_ARGS), ids=lambda path: " ".join(path))
def test_pool_fee_as_percent_or_fraction_gives_the_same_result(cli: Run, path: tuple[str, ...]) -> None:
    args = [*path, *POOL_FEE_ARGS[path], "--json"]
    percent = cli(*args, "--pool-fee", "2%")
    fraction = cli(*args, "--pool-fee", "0.02")
    free = cli(*args, "--pool-fee", "0%")
    assert percent.code == fraction.code == free.code == 0, (percent.err, fraction.err, free.err)
    assert json.loads(percent.out) == json.loads(fraction.out)
    assert json.loads(percent.out) != json.loads(free.out)  # the fee reached the model
    bad = cli(*args, "--pool-fee", "lots")
    assert bad.code == 2 and _one_error_line(bad.err), bad


def test_every_command_that_draws_takes_plot_and_heatmap_is_its_alias(cli: Run, tmp_path: Path) -> None:
    for path, command in leaf_commands():
        flags = [flag for param in command.params for flag in getattr(param, "opts", [])]
        if "--heatmap" in flags:
            (param,) = [p for p in command.params if "--heatmap" in getattr(p, "opts", [])]
            assert "--plot" in param.opts, path
            assert "alias" in (getattr(param, "help", "") or ""), path
    for flag in ("--plot", "--heatmap"):
        chart = tmp_path / f"heat{flag}.png"
        result = cli("profit", "s21", flag, str(chart))
        assert result.code == 0, result.err
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0.0, "$0"),
        (12_345.4, "$12,345"),
        (999_999.0, "$999,999"),
        (1_234_567.0, "$1.23M"),
        (4_500_000_000.0, "$4.50B"),
        (-2_000_000.0, "-$2.00M"),
        (7.5e12, "$7.50T"),
        (float("inf"), "n/a"),
    ],
)
def test_one_money_format(amount: float, shown: str) -> None:
    assert fmt_usd(amount) == shown


def test_amounts_never_print_as_si_prefixed_usd(cli: Run) -> None:
    for module in (SRC / "cli").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for unit in ("G USD", "M USD", "k USD", "MUSD", "GUSD"):
            assert unit not in text, (module.name, unit)
    result = cli("network", "attack")
    assert result.code == 0, result.err
    assert "USD " not in result.out.replace("USD/", "")  # every amount is $-prefixed
    assert re.search(r"hardware cost\s+│\s+\$[\d.,]+[MBT] ", result.out), result.out


def test_sites_compare_json_is_objects(cli: Run) -> None:
    result = cli("sites", "compare", str(SRC / "energy" / "examples" / "sites.toml"), "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert isinstance(data["fleet"], dict) and "power_mw" in data["fleet"]
    assert data["sites"] and all(
        isinstance(site, dict) and "profit_usd_per_year" in site for site in data["sites"]
    )

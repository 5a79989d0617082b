"""The chain and block commands: output, --json, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hashwatt.cli.main import main

CHAIN_DATA = Path(__file__).resolve().parent.parent / "data" / "chain"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_chain_target_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "chain", "target", "17028c61", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["bits_hex"] == "17028c61"
    assert data["difficulty"] == pytest.approx(110.4519074e12, rel=1e-8)
    assert int(data["target_hex"], 16) == 0x028C61 << (8 * (0x17 - 3))


def test_chain_supply(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "chain", "supply", "--height", "840000", "--json")
    assert code == 0
    assert json.loads(out)["subsidy_sat"] == 312_500_000
    code, out, _ = run_cli(capsys, "chain", "supply", "--json")
    data = json.loads(out)
    assert data["total_supply_sat"] == 2_099_999_997_690_000
    assert data["eras"][1] == {
        "era": 1,
        "first_height": 210_000,
        "subsidy_sat": 2_500_000_000,
        "supply_at_era_end_sat": 15_750_000 * 100_000_000,
    }


def test_chain_retarget_compute_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    # Height 878976: period from 876960 to 878975.
    code, out, _ = run_cli(
        capsys,
        "chain",
        "retarget",
        "--prev-bits",
        "1702905c",
        "--first-time",
        "1735509342",
        "--last-time",
        "1736711606",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["timespan_s"] == 1736711606 - 1735509342
    code, out, _ = run_cli(capsys, "chain", "retarget", "--last", "3", "--json")
    rows = json.loads(out)
    assert [r["height"] for r in rows] == [949536, 951552, 953568]
    assert rows[-1]["bits_hex"] == "170240c3"  # Electrum's checkpoint, the newest shipped retarget
    assert rows[-1]["date_estimated"] is True and rows[-1]["source"] == "electrum"
    code, out, _ = run_cli(capsys, "chain", "retarget", "--last", "3")
    assert code == 0 and "~2026-06-14" in out and "estimated" in out
    code, out, _ = run_cli(
        capsys,
        "chain",
        "retarget",
        "--prev-bits",
        "17028c61",
        "--first-time",
        "1735509342",
        "--last-time",
        "1736711606",
    )
    text = " ".join(out.split())
    assert code == 0 and "next bits / difficulty" in text and "prev_bits_hex" not in text


def test_block_decode_file_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "block", "decode", str(CHAIN_DATA / "block_testnet3_924634.hex"), "--json")
    assert code == 0
    info = json.loads(out)
    assert info["hash"] == "000000000000045e0b1660b6445b5e5c5ab63c9a4f956be7e1e69be04fa4497b"
    assert info["tx_count"] == 15 and info["segwit"] is True and info["valid"] is True
    assert info["merkle_root"] == info["merkle_root_recomputed"]
    assert len(info["transactions"]) == 15


def test_block_decode_table_and_fees(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "block", "decode", str(CHAIN_DATA / "block_413567.hex"), "--height", "413567"
    )
    assert code == 0
    assert "1,557" in out and "all passed" in out and "fees claimed" in out


def test_block_decode_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytes.fromhex((CHAIN_DATA / "block_testnet3_924634.hex").read_text().strip())
    path = tmp_path / "block.bin"
    path.write_bytes(raw)
    code, out, _ = run_cli(capsys, "block", "decode", str(path), "--json")
    assert code == 0 and json.loads(out)["size_bytes"] == len(raw)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["block", "decode", "00" * 80 + "05" + "00" * 20], "truncated"),
        (["block", "decode", "zz" * 100], "not hexadecimal"),
        (["block", "decode", "0" * 161], "odd length"),
        (["block", "decode", "nonexistent-file.hex"], "no such file"),
        (["chain", "target", "ff123456"], "overflow"),
        (["chain", "target", "nothex"], "bits must be"),
        (["chain", "retarget", "--prev-bits", "1d00ffff"], "go together"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _out, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_trailing_bytes_and_oversized_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw_hex = (CHAIN_DATA / "block_testnet3_924634.hex").read_text().strip()
    code, _, err = run_cli(capsys, "block", "decode", raw_hex + "00")
    assert code == 2 and "trailing" in err
    forged = raw_hex[:160] + "ff0000000001000000" + raw_hex[162:]
    code, _, err = run_cli(capsys, "block", "decode", forged)
    assert code == 2 and "above the limit" in err


def test_console_script_process_exit_code() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hashwatt", "chain", "target", "0x04923456"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "negative" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_status_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["tip_height"] == 946_236
    assert data["retarget_height"] == 946_236 // 2016 * 2016
    assert data["subsidy_sat"] == 312_500_000
    assert data["next_halving_height"] == 1_050_000
    assert data["blocks_to_halving"] == 1_050_000 - 946_236
    assert data["supply_issued_sat"] == 19_687_500 * 100_000_000 + (946_236 - 839_999) * 312_500_000
    assert data["hashrate_at_target_interval_hs"] == pytest.approx(data["difficulty"] * 2**32 / 600)
    # The retarget that set these bits follows from the previous period's pace (4x clamp not binding).
    assert 1 + data["difficulty_change_pct"] / 100 == pytest.approx(
        600 * 2016 / 2015 / data["previous_period_mean_interval_s"], rel=1e-4
    )
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "946,236" in out and "next halving" in out


def test_a_command_loads_only_its_own_module() -> None:
    """`hashwatt chain ...` must not pay for scipy/SQLAlchemy imports of other rooms."""
    code = (
        "import sys; from hashwatt.cli.main import main; rc = main(['chain', 'target', '1d00ffff', '--json']); "
        "print(rc, 'hashwatt.cli.economics' in sys.modules, 'hashwatt.stratum' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "0 False False"


def test_help_lists_every_room(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for command in ("status", "chain", "block", "mine", "pool", "bench", "profit", "dispatch", "network"):
        assert command in out

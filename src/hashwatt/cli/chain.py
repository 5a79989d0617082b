"""``hashwatt chain``: targets, supply and retargets."""

from __future__ import annotations

from typing import Annotated

import typer

from hashwatt.chain import (
    DIFFICULTY_1_TARGET,
    HALVING_INTERVAL,
    MAX_BLOCK_HEIGHT,
    bits_to_target,
    block_subsidy_sat,
    decode_compact,
    difficulty_from_bits,
    halving_heights,
    hashes_per_block,
    hashrate_from_difficulty,
    next_bits,
    supply_at_height_sat,
    target_to_bits,
    total_supply_sat,
)
from hashwatt.cli._output import (
    JSON_OPTION,
    MAX_COUNT,
    MAX_HEADER_TIME,
    console,
    fmt_btc_from_sat,
    fmt_int,
    fmt_si,
    key_value_table,
    print_json,
    print_plain,
    records_table,
)
from hashwatt.data import load_retarget_history
from hashwatt.errors import InputError

chain_app = typer.Typer(help="Consensus arithmetic: targets, supply, retargets.", no_args_is_help=True)


def parse_bits(text: str) -> int:
    """Compact bits from hex (``1d00ffff``, ``0x1d00ffff``) or a decimal integer (``486604799``)."""
    cleaned = text.strip().lower()
    try:
        if cleaned.startswith("0x"):
            value = int(cleaned[2:], 16)
        elif len(cleaned) == 8 and not cleaned.isdigit():
            value = int(cleaned, 16)
        elif cleaned.isdigit() and len(cleaned) != 8:
            value = int(cleaned)
        else:
            value = int(cleaned, 16)
    except ValueError as exc:
        raise InputError(
            f"bits must be 8 hex digits (e.g. 1d00ffff) or a decimal integer, got {text!r}",
            field="bits",
            value=text,
        ) from exc
    if not 0 <= value <= 0xFFFFFFFF:
        raise InputError(f"bits must fit in 32 bits, got {text!r}", field="bits", value=text)
    return value


@chain_app.command("target")
def target(
    bits: Annotated[str, typer.Argument(help="Compact bits: hex like 1d00ffff or 0x17028c61.")],
    json_output: JSON_OPTION = False,
) -> None:
    """Decode compact BITS into the target, difficulty and the hashrate it implies."""
    value = parse_bits(bits)
    decoded = decode_compact(value)
    tgt = bits_to_target(value)
    difficulty = difficulty_from_bits(value)
    result = {
        "bits_hex": f"{value:08x}",
        "target_hex": f"{tgt:064x}",
        "canonical_bits_hex": f"{target_to_bits(tgt):08x}",
        "negative": decoded.negative,
        "overflow": decoded.overflow,
        "difficulty": difficulty,
        "difficulty_1_target_hex": f"{DIFFICULTY_1_TARGET:064x}",
        "expected_hashes_per_block": hashes_per_block(difficulty),
        "hashrate_at_600s_hs": hashrate_from_difficulty(difficulty),
    }
    if json_output:
        print_json(result)
        return
    rows = [
        ("bits", f"{value:08x}"),
        ("target", f"{tgt:064x}"),
        ("canonical bits", f"{target_to_bits(tgt):08x}"),
        ("difficulty", f"{difficulty:,.4f}"),
        ("expected hashes per block", f"{hashes_per_block(difficulty):.4e}"),
        ("implied hashrate @ 600 s", fmt_si(hashrate_from_difficulty(difficulty), "H/s")),
    ]
    console.print(key_value_table(f"Target of bits {value:08x}", rows))


@chain_app.command("supply")
def supply(
    height: Annotated[
        int | None,
        typer.Option(help="Block height (default: the whole schedule).", min=0, max=MAX_BLOCK_HEIGHT),
    ] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Subsidy and coins issued at HEIGHT, or the whole halving schedule."""
    if height is not None:
        result: dict[str, object] = {
            "height": height,
            "subsidy_sat": block_subsidy_sat(height),
            "supply_issued_sat": supply_at_height_sat(height),
            "total_supply_sat": total_supply_sat(),
        }
        if json_output:
            print_json(result)
            return
        console.print(
            key_value_table(
                f"Supply at height {height:,}",
                [
                    ("subsidy", fmt_btc_from_sat(block_subsidy_sat(height))),
                    ("issued through this block", fmt_btc_from_sat(supply_at_height_sat(height))),
                    ("total supply", fmt_btc_from_sat(total_supply_sat())),
                ],
            )
        )
        return
    eras = [
        {
            "era": i,
            "first_height": start,
            "subsidy_sat": block_subsidy_sat(start),
            "supply_at_era_end_sat": supply_at_height_sat(start + HALVING_INTERVAL - 1),
        }
        for i, start in enumerate([0, *halving_heights()])
    ]
    if json_output:
        print_json({"total_supply_sat": total_supply_sat(), "eras": eras})
        return
    rows = [
        (
            e["era"],
            fmt_int(int(e["first_height"])),
            fmt_btc_from_sat(int(e["subsidy_sat"])),
            fmt_btc_from_sat(int(e["supply_at_era_end_sat"])),
        )
        for e in eras[:12]
    ]
    console.print(
        records_table(
            "Halving schedule (first 12 eras)", ["era", "from height", "subsidy", "issued by era end"], rows
        )
    )
    console.print(f"{len(eras)} eras in all; total supply {fmt_btc_from_sat(total_supply_sat())}")


@chain_app.command("retarget")
def retarget(
    prev_bits: Annotated[str | None, typer.Option(help="Bits of the ending period (hex).")] = None,
    first_time: Annotated[
        int | None, typer.Option(help="Time of block h-2016 [unix s].", min=0, max=MAX_HEADER_TIME)
    ] = None,
    last_time: Annotated[
        int | None, typer.Option(help="Time of block h-1 [unix s].", min=0, max=MAX_HEADER_TIME)
    ] = None,
    last: Annotated[
        int, typer.Option(help="With no inputs: show this many recent retargets.", min=1, max=MAX_COUNT)
    ] = 10,
    json_output: JSON_OPTION = False,
) -> None:
    """Compute the next bits from a period's first and last block times, or list recent retargets."""
    given = [prev_bits is not None, first_time is not None, last_time is not None]
    if any(given) and not all(given):
        raise InputError("--prev-bits, --first-time and --last-time go together")
    if prev_bits is not None and first_time is not None and last_time is not None:
        old = parse_bits(prev_bits)
        new = next_bits(old, first_time, last_time)
        result = {
            "prev_bits_hex": f"{old:08x}",
            "timespan_s": last_time - first_time,
            "next_bits_hex": f"{new:08x}",
            "prev_difficulty": difficulty_from_bits(old),
            "next_difficulty": difficulty_from_bits(new),
            "change_pct": 100.0 * (difficulty_from_bits(new) / difficulty_from_bits(old) - 1.0),
        }
        if json_output:
            print_json(result)
            return
        labelled = [
            ("previous bits / difficulty", f"{result['prev_bits_hex']} / {result['prev_difficulty']:,.2f}"),
            ("period span (first to last block)", f"{last_time - first_time:,} s"),
            ("next bits / difficulty", f"{result['next_bits_hex']} / {result['next_difficulty']:,.2f}"),
            ("change", f"{result['change_pct']:+.4f} %"),
        ]
        console.print(key_value_table("Retarget", labelled))
        return
    history = load_retarget_history().tail(last)
    records = [
        {
            "height": int(height),
            "date": time_utc.date().isoformat(),
            "date_estimated": time_source == "estimated_retarget_ratio",
            "source": str(source),
            "bits_hex": str(bits_hex),
            "difficulty": difficulty_from_bits(int(str(bits_hex), 16)),
            "change_pct": None if change != change else float(change),
        }
        for height, time_utc, bits_hex, change, time_source, source in zip(
            history["height"].tolist(),
            history["time_utc"].tolist(),
            history["bits_hex"].tolist(),
            history["difficulty_change_pct"].tolist(),
            history["time_source"].tolist(),
            history["source"].tolist(),
            strict=True,
        )
    ]
    if json_output:
        print_json(records)
        return
    rows = [
        (
            fmt_int(r["height"]),
            ("~" if r["date_estimated"] else "") + r["date"],
            r["bits_hex"],
            f"{r['difficulty'] / 1e12:,.2f} T",
            "" if r["change_pct"] is None else f"{r['change_pct']:+.2f} %",
        )
        for r in records
    ]
    console.print(
        records_table(
            "Recent retargets (embedded history)", ["height", "date", "bits", "difficulty", "change"], rows
        )
    )
    if any(r["date_estimated"] for r in records):
        print_plain("~ date estimated from the retarget ratios (no header time shipped past 946,236)")


def register(app: typer.Typer) -> None:
    app.add_typer(chain_app, name="chain")

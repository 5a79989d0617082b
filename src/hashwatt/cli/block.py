"""``hashwatt block decode``: header fields, transactions, weight and consensus checks of a block."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hashwatt.chain import (
    BIP34_HEIGHT_MAINNET,
    MAX_BLOCK_HEIGHT,
    Block,
    block_merkle_root,
    block_size,
    block_subsidy_sat,
    block_weight,
    bytes_from_hex,
    difficulty_from_bits,
    find_witness_commitment,
    hash_to_hex,
    header_hash_hex,
    header_meets_target,
    tx_vsize,
    tx_weight,
    txid,
    validate_block,
    wtxid,
)
from hashwatt.cli._output import (
    JSON_OPTION,
    MAX_COUNT,
    MAX_HEADER_TIME,
    console,
    fmt_btc_from_sat,
    fmt_int,
    key_value_table,
    print_json,
    records_table,
)
from hashwatt.errors import InputError

block_app = typer.Typer(help="Decode and check serialized blocks.", no_args_is_help=True)

#: Refuse inputs larger than any valid block could be in hex (4 MB weight -> <= 4 MB bytes, x2 for hex).
MAX_INPUT_BYTES = 16 * 1024 * 1024
_HEX_CHARS_WS = frozenset("0123456789abcdefABCDEF \t\r\n")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def read_block_bytes(source: str) -> bytes:
    """Block bytes from a file (raw or hex), ``-`` for stdin hex, or a hex string."""
    if source == "-":
        text = sys.stdin.read(MAX_INPUT_BYTES + 1)
        if len(text) > MAX_INPUT_BYTES:
            raise InputError("input on stdin is larger than 16 MiB")
        return bytes_from_hex(text)
    path = Path(source)
    if len(source) < 1024 and _is_file(path):
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InputError(
                f"{source} is larger than 16 MiB; no block is that large",
                field="source",
                value=source,
                path=source,
            )
        data = path.read_bytes()
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            return data  # raw binary block
        if text.strip() and all(c in _HEX_CHARS_WS for c in text):
            return bytes_from_hex(text)
        return data
    if len(source) > 2 * MAX_INPUT_BYTES:
        raise InputError("block hex larger than 16 MiB")
    if source and all(c in _HEX_CHARS_WS for c in source):
        return bytes_from_hex(source)
    shown = source if len(source) <= 40 else source[:37] + "..."
    if any(c in "/\\." for c in source):
        raise InputError(f"no such file: {shown}", field="source", value=shown)
    # Not a file: decode as hex so the error says what is wrong with it.
    return bytes_from_hex(source)


def describe_block(block: Block, *, height: int | None, now: int | None) -> dict[str, Any]:
    """Everything ``block decode`` reports, as a JSON-ready dict."""
    header = block.header
    coinbase = block.transactions[0] if block.transactions else None
    coinbase_value = sum(o.value_sat for o in coinbase.outputs) if coinbase else 0
    claimed_fees = coinbase_value - block_subsidy_sat(height) if height is not None else None
    errors = validate_block(block, height=height, now=now, bip34_height=BIP34_HEIGHT_MAINNET)
    commitment = find_witness_commitment(coinbase) if coinbase else None
    return {
        "hash": header_hash_hex(header),
        "version": header.version,
        "version_hex": f"{header.version & 0xFFFFFFFF:08x}",
        "prev_hash": hash_to_hex(header.prev_hash),
        "merkle_root": hash_to_hex(header.merkle_root),
        "merkle_root_recomputed": hash_to_hex(block_merkle_root(block)),
        "time": header.time,
        "time_utc": dt.datetime.fromtimestamp(header.time, tz=dt.UTC).isoformat(),
        "bits_hex": f"{header.bits:08x}",
        "nonce": header.nonce,
        "difficulty": difficulty_from_bits(header.bits),
        "pow_valid": header_meets_target(header),
        "height": height,
        "tx_count": len(block.transactions),
        "size_bytes": block_size(block),
        "stripped_size_bytes": len(block.to_bytes(include_witness=False)),
        "weight_wu": block_weight(block),
        "segwit": any(tx.has_witness for tx in block.transactions),
        "witness_commitment": commitment.hex() if commitment else None,
        "coinbase_value_sat": coinbase_value,
        "subsidy_sat": block_subsidy_sat(height) if height is not None else None,
        # Fees are only known from the spent outputs; the coinbase tells what the miner claimed.
        "fees_claimed_by_coinbase_sat": claimed_fees,
        "valid": not errors,
        "errors": [f"{type(e).__name__}: {e}" for e in errors],
        "transactions": [
            {
                "txid": hash_to_hex(txid(tx)),
                "wtxid": hash_to_hex(wtxid(tx)),
                "inputs": len(tx.inputs),
                "outputs": len(tx.outputs),
                "output_value_sat": sum(o.value_sat for o in tx.outputs),
                "weight_wu": tx_weight(tx),
                "vsize_vb": tx_vsize(tx),
            }
            for tx in block.transactions
        ],
    }


@block_app.command("decode")
def decode(
    source: Annotated[
        str, typer.Argument(help="A file (raw or hex), '-' for hex on stdin, or the block hex itself.")
    ],
    height: Annotated[
        int | None,
        typer.Option(
            help="Block height: enables BIP 34, subsidy and fee checks.", min=0, max=MAX_BLOCK_HEIGHT
        ),
    ] = None,
    now: Annotated[
        int | None, typer.Option(help="Clock for the future-time check [unix s].", min=0, max=MAX_HEADER_TIME)
    ] = None,
    show_txs: Annotated[
        int, typer.Option("--txs", help="List the first N transactions.", min=0, max=MAX_COUNT)
    ] = 10,
    json_output: JSON_OPTION = False,
) -> None:
    """Decode a serialized block: header fields, transactions, weight, fees and consensus checks."""
    block = Block.from_bytes(read_block_bytes(source))
    info = describe_block(block, height=height, now=now)
    if json_output:
        print_json(info)
        return
    rows = [
        ("hash", info["hash"]),
        ("version", f"{info['version']} (0x{info['version_hex']})"),
        ("previous block", info["prev_hash"]),
        ("merkle root", info["merkle_root"]),
        ("time", info["time_utc"]),
        ("bits / difficulty", f"{info['bits_hex']} / {info['difficulty']:,.2f}"),
        ("nonce", fmt_int(info["nonce"])),
        ("proof of work", "valid" if info["pow_valid"] else "INVALID"),
        ("transactions", fmt_int(info["tx_count"])),
        ("size / stripped", f"{fmt_int(info['size_bytes'])} B / {fmt_int(info['stripped_size_bytes'])} B"),
        ("weight", f"{fmt_int(info['weight_wu'])} WU"),
        ("segwit", "yes" if info["segwit"] else "no"),
        ("coinbase pays", fmt_btc_from_sat(info["coinbase_value_sat"])),
    ]
    if info["fees_claimed_by_coinbase_sat"] is not None:
        rows.append(("subsidy", fmt_btc_from_sat(info["subsidy_sat"])))
        rows.append(("fees claimed", fmt_btc_from_sat(info["fees_claimed_by_coinbase_sat"])))
    rows.append(("consensus checks", "all passed" if info["valid"] else "; ".join(info["errors"])))
    console.print(key_value_table("Block", rows))
    if show_txs:
        tx_rows = [
            (i, t["txid"], t["inputs"], t["outputs"], fmt_btc_from_sat(t["output_value_sat"]), t["vsize_vb"])
            for i, t in enumerate(info["transactions"][:show_txs])
        ]
        title = f"Transactions (first {min(show_txs, info['tx_count'])} of {info['tx_count']})"
        console.print(records_table(title, ["#", "txid", "in", "out", "output value", "vsize"], tx_rows))
    if not info["valid"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(block_app, name="block")

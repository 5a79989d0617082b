"""Benchmark: parse + full check of a real ~1 MB block, and the merkle root of 4,000 txids.

Each figure (best CPU time) is printed beside a naive textbook implementation measured in the same run
(BytesIO field-by-field parsing, hex-string merkle tree), so the ratio is meaningful on any machine.

Run: .venv/bin/python bench/bench_chain.py
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import struct
import time
from collections.abc import Callable
from pathlib import Path

from hashwatt.chain import Block, block_merkle_root, merkle_root, validate_block

BLOCK_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "chain" / "block_413567.hex"


# ---- naive baseline: the way a tutorial would write it ---------------------------------------
def _naive_varint(f: io.BytesIO) -> int:
    first = f.read(1)[0]
    if first < 0xFD:
        return first
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(f.read(size), "little")


def _naive_dsha(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


class NaiveTx:
    """A tutorial-style transaction: mutable lists, serialize() rebuilt on demand."""

    def __init__(
        self,
        version: int,
        inputs: list[tuple[bytes, int, bytes, int]],
        outputs: list[tuple[int, bytes]],
        locktime: int,
    ) -> None:
        self.version, self.inputs, self.outputs, self.locktime = version, inputs, outputs, locktime

    def serialize(self) -> bytes:
        out = struct.pack("<i", self.version) + _naive_varint_bytes(len(self.inputs))
        for prev, vout, script, seq in self.inputs:
            out += (
                prev
                + struct.pack("<I", vout)
                + _naive_varint_bytes(len(script))
                + script
                + struct.pack("<I", seq)
            )
        out += _naive_varint_bytes(len(self.outputs))
        for value, script in self.outputs:
            out += struct.pack("<q", value) + _naive_varint_bytes(len(script)) + script
        return out + struct.pack("<I", self.locktime)

    def txid_hex(self) -> str:
        return _naive_dsha(self.serialize())[::-1].hex()


def _naive_varint_bytes(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def naive_parse(raw: bytes) -> tuple[bytes, list[NaiveTx]]:
    f = io.BytesIO(raw)
    header = f.read(80)
    txs = []
    for _ in range(_naive_varint(f)):
        version = struct.unpack("<i", f.read(4))[0]
        inputs = []
        for _ in range(_naive_varint(f)):
            prev = f.read(32)
            vout = struct.unpack("<I", f.read(4))[0]
            script = f.read(_naive_varint(f))
            inputs.append((prev, vout, script, struct.unpack("<I", f.read(4))[0]))
        outputs = []
        for _ in range(_naive_varint(f)):
            value = struct.unpack("<q", f.read(8))[0]
            outputs.append((value, f.read(_naive_varint(f))))
        txs.append(NaiveTx(version, inputs, outputs, struct.unpack("<I", f.read(4))[0]))
    return header, txs


def naive_parse_and_check(raw: bytes) -> bool:
    """Textbook: parse into objects, txids by re-serializing, hex-string merkle tree, PoW, size."""
    header, txs = naive_parse(raw)
    txids = [tx.txid_hex() for tx in txs]
    root = naive_merkle_root_hex(txids)
    pow_ok = int.from_bytes(_naive_dsha(header), "little") <= _naive_target(header)
    coinbase_ok = txs[0].inputs[0][0] == bytes(32) and all(tx.inputs[0][0] != bytes(32) for tx in txs[1:])
    unique = len(set(txids)) == len(txids)
    return pow_ok and coinbase_ok and unique and root == header[36:68][::-1].hex() and len(raw) <= 4_000_000


def hash_only_scan(raw: bytes) -> tuple[str, bool]:
    """Lower bound, not a parser: walk the bytes, hash each raw transaction slice, build no values."""
    f = io.BytesIO(raw)
    header = f.read(80)
    txids = []
    for _ in range(_naive_varint(f)):
        start = f.tell()
        f.read(4)
        for _ in range(_naive_varint(f)):
            f.read(36)
            f.read(_naive_varint(f))
            f.read(4)
        for _ in range(_naive_varint(f)):
            f.read(8)
            f.read(_naive_varint(f))
        f.read(4)
        txids.append(_naive_dsha(raw[start : f.tell()])[::-1].hex())
    root = naive_merkle_root_hex(txids)
    return root, root == header[36:68][::-1].hex()


def _naive_target(header: bytes) -> int:
    bits = struct.unpack("<I", header[72:76])[0]
    return (bits & 0xFFFFFF) * 2 ** (8 * ((bits >> 24) - 3))


def naive_merkle_root_hex(txids_hex: list[str]) -> str:
    if len(txids_hex) == 1:
        return txids_hex[0]
    level = list(txids_hex)
    if len(level) % 2 == 1:
        level.append(level[-1])
    parents = []
    for i in range(0, len(level), 2):
        left = bytes.fromhex(level[i])[::-1]
        right = bytes.fromhex(level[i + 1])[::-1]
        parents.append(_naive_dsha(left + right)[::-1].hex())
    return naive_merkle_root_hex(parents)


# ---- harness ------------------------------------------------------------------------------------
def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs [s]: on a shared machine wall time measures the neighbours."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    raw = bytes.fromhex(BLOCK_FILE.read_text().strip())
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, Python {platform.python_version()}"
    )

    def ours_block() -> None:
        block = Block.from_bytes(raw)
        errors = validate_block(block, height=413567)
        if errors:
            raise SystemExit(f"unexpected errors: {errors}")

    def naive_block() -> None:
        if not naive_parse_and_check(raw):
            raise SystemExit("naive check failed")

    def scan_block() -> None:
        if not hash_only_scan(raw)[1]:
            raise SystemExit("scan failed")

    ours_block()
    naive_block()
    t_ours = best_of(ours_block, 7)
    t_naive = best_of(naive_block, 7)
    t_scan = best_of(scan_block, 7)
    block = Block.from_bytes(raw)
    print(
        f"parse + full check, block 413567 ({len(raw):,} B, {len(block.transactions):,} txs): "
        f"hashwatt {t_ours * 1e3:.1f} ms, naive textbook parser+check {t_naive * 1e3:.1f} ms, "
        f"ratio {t_naive / t_ours:.2f}x"
    )
    print(
        f"  lower bound, hash-only byte scan (builds no values, checks merkle only): {t_scan * 1e3:.1f} ms "
        f"({t_ours / t_scan:.2f}x faster than hashwatt's full parse + check)"
    )
    t_parse = best_of(lambda: Block.from_bytes(raw), 7)
    t_root = best_of(lambda: block_merkle_root(block), 7)
    print(f"  breakdown: parse {t_parse * 1e3:.1f} ms, txids+merkle {t_root * 1e3:.1f} ms")

    txids = [hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(4000)]
    txids_hex = [t[::-1].hex() for t in txids]
    if merkle_root(txids)[::-1].hex() != naive_merkle_root_hex(txids_hex):
        raise SystemExit("merkle roots disagree")
    t_m = best_of(lambda: merkle_root(txids), 20)
    t_mn = best_of(lambda: naive_merkle_root_hex(txids_hex), 20)
    print(
        f"merkle root of 4,000 txids: hashwatt {t_m * 1e3:.2f} ms, naive hex-string tree {t_mn * 1e3:.2f} ms, "
        f"ratio {t_mn / t_m:.2f}x  (floor: 3,999 SHA256d calls)"
    )


if __name__ == "__main__":
    main()

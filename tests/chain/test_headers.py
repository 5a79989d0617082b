"""Every header of the first two periods links to its predecessor and meets its target."""

from __future__ import annotations

from hashwatt.chain import (
    BlockHeader,
    bits_to_target,
    hash_from_hex,
    hash_to_hex,
    header_hash,
    header_meets_target,
    next_bits,
)
from tests.chain._fixtures import csv_rows


def test_first_4032_headers_link_and_meet_target() -> None:
    rows = csv_rows("btc_headers_0_4031.csv")
    assert len(rows) == 4032
    prev_hash = bytes(32)
    for row in rows:
        raw = bytes.fromhex(row["header_hex"])
        header = BlockHeader.from_bytes(raw)
        assert header.to_bytes() == raw
        block_hash = header_hash(header)
        assert hash_to_hex(block_hash) == row["block_hash"]
        assert header.prev_hash == prev_hash, row["height"]
        assert header.prev_hash == hash_from_hex(row["prev_block_hash"])
        assert header.merkle_root == hash_from_hex(row["merkle_root"])
        assert header.time == int(row["timestamp_unix"])
        assert header.nonce == int(row["nonce"])
        assert int.from_bytes(block_hash, "little") <= bits_to_target(header.bits)
        prev_hash = block_hash


def test_retarget_at_2016_from_the_first_period() -> None:
    rows = csv_rows("btc_headers_0_4031.csv")
    first, last, new = (BlockHeader.from_bytes(bytes.fromhex(rows[h]["header_hex"])) for h in (0, 2015, 2016))
    assert next_bits(first.bits, first.time, last.time) == new.bits == 0x1D00FFFF


def test_headers_at_retargets_meet_their_targets() -> None:
    rows = csv_rows("btc_headers_at_retargets.csv")
    assert len(rows) == 437
    for row in rows:
        header = BlockHeader.from_bytes(bytes.fromhex(row["header_hex"]))
        assert hash_to_hex(header_hash(header)) == row["block_hash"]
        assert header_meets_target(header)
        assert f"{header.bits:08x}" == row["bits_hex"]
        # Flipping the nonce breaks the proof of work (with overwhelming probability).
        tampered = BlockHeader(
            header.version, header.prev_hash, header.merkle_root, header.time, header.bits, header.nonce ^ 1
        )
        assert not header_meets_target(tampered)

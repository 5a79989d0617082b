"""Header-level PoW for Dash (X11), Ethereum (Ethash) and Zcash (Equihash 200,9) on shipped vectors."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hashwatt.chain import (
    check_equihash_header,
    check_equihash_solution,
    check_ethash,
    check_kawpow,
    check_x11_header,
    difficulty_to_boundary,
    ethash_epoch,
    x11_hash,
)
from hashwatt.chain._altpow import ZCASH_HEADER_PREFIX_SIZE
from hashwatt.chain._kawpow import kawpow_final_hash
from hashwatt.errors import BadEquihashSolution, BadMixDigest, BadProofOfWork, InvalidField, PowLibraryMissing

DATA = Path(__file__).resolve().parent.parent / "data" / "chain"


def _dash_rows() -> list[dict[str, str]]:
    with (DATA / "dash_headers_every576.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_every_shipped_dash_header_passes_x11_and_hashes_to_its_block_hash() -> None:
    rows = _dash_rows()
    assert len(rows) == 3997
    for row in rows:
        digest = check_x11_header(bytes.fromhex(row["header_hex"]))
        assert digest[::-1].hex() == row["block_hash"], row["height"]


def test_a_tampered_dash_nonce_fails_x11() -> None:
    header = bytearray.fromhex(_dash_rows()[-1]["header_hex"])
    header[76] ^= 0x01
    with pytest.raises(BadProofOfWork):
        check_x11_header(bytes(header))


def test_x11_wants_80_bytes() -> None:
    with pytest.raises(InvalidField):
        x11_hash(b"\x00" * 79)


ETHASH = _json("ethash_hash_vectors.json")["cases"]


def _seal_args(case: dict[str, Any]) -> tuple[bytes, int, bytes, int]:
    """Header hash, nonce, mix and block number of an Ethash or KawPoW vector."""
    return (
        bytes.fromhex(case["header_hash"]),
        int(case["nonce"], 16),
        bytes.fromhex(case["mix_hash"]),
        case["block_number"],
    )


def test_ethash_vectors_verify_light_and_tampering_fails() -> None:
    """One test, so a parallel run builds the epoch's light cache once (about 5-8 s)."""
    for case in ETHASH:
        result = check_ethash(*_seal_args(case), boundary=int(case["final_hash"], 16))
        assert result.hex() == case["final_hash"]
    header, nonce, mix, block = _seal_args(ETHASH[0])
    with pytest.raises(BadMixDigest):
        check_ethash(header, nonce ^ 1, mix, block, boundary=2**256 - 1)
    with pytest.raises(BadMixDigest):
        check_ethash(header, nonce, bytes([mix[0] ^ 1]) + mix[1:], block, boundary=2**256 - 1)
    with pytest.raises(BadProofOfWork):
        check_ethash(header, nonce, mix, block, boundary=int(ETHASH[0]["final_hash"], 16) - 1)


def test_ethash_boundary_and_epochs() -> None:
    assert difficulty_to_boundary(1) == 2**256 - 1
    assert difficulty_to_boundary(2**255) == 2
    assert difficulty_to_boundary(3) == 2**256 // 3
    with pytest.raises(InvalidField):
        ethash_epoch(30_000 * 32_640)
    assert ethash_epoch(29_999) == 0 and ethash_epoch(30_000) == 1
    assert ethash_epoch(11_700_000, epoch_length=60_000) == 195


ZEC = _json("zec_genesis_header.json")


def test_zcash_genesis_equihash_and_target() -> None:
    digest = check_equihash_header(bytes.fromhex(ZEC["header_hex"]))
    assert digest[::-1].hex() == ZEC["block_hash"]


def _zec_solution() -> tuple[bytes, bytes]:
    header = bytes.fromhex(ZEC["header_hex"])
    return header[:ZCASH_HEADER_PREFIX_SIZE], header[ZCASH_HEADER_PREFIX_SIZE + 3 :]


def _indices(solution: bytes) -> list[int]:
    value = int.from_bytes(solution, "big")
    return [(value >> (21 * (511 - i))) & 0x1FFFFF for i in range(512)]


def _pack(indices: list[int]) -> bytes:
    value = 0
    for index in indices:
        value = (value << 21) | index
    return value.to_bytes(1344, "big")


def test_equihash_tampering_names_the_broken_rule() -> None:
    prefix, solution = _zec_solution()
    indices = _indices(solution)
    assert _pack(indices) == solution
    nonce_changed = prefix[:-1] + bytes([prefix[-1] ^ 1])
    cases = {
        "collision": (nonce_changed, solution),
        "size": (prefix, solution[:-1]),
        "distinct": (prefix, _pack([indices[1], *indices[1:]])),
        "order": (prefix, _pack([indices[1], indices[0], *indices[2:]])),
    }
    for rule, (pre, sol) in cases.items():
        with pytest.raises(BadEquihashSolution) as caught:
            check_equihash_solution(pre, sol)
        assert caught.value.rule == rule
    with pytest.raises(InvalidField):
        check_equihash_solution(prefix, solution, n=200, k=8)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dash_hash", None)
    with pytest.raises(PowLibraryMissing) as caught:
        x11_hash(b"\x00" * 80)
    assert caught.value.extra == "coins" and "hashwatt[coins]" in str(caught.value)


KAWPOW = _json("rvn_kawpow_vectors.json")
KAWPOW_CASES = KAWPOW["cases"] + KAWPOW["extra_cases_from_kawpow_tests_cpp"]


def test_every_kawpow_vector_gives_its_final_hash_from_its_mix() -> None:
    assert len(KAWPOW_CASES) == 14
    for case in KAWPOW_CASES:
        header, nonce, mix, _ = _seal_args(case)
        assert kawpow_final_hash(header, nonce, mix).hex() == case["final_hash"]


def test_kawpow_final_hash_above_the_boundary_is_bad_pow_before_any_cache() -> None:
    case = KAWPOW_CASES[1]
    with pytest.raises(BadProofOfWork):
        check_kawpow(*_seal_args(case), boundary=int(case["final_hash"], 16) - 1)


def test_kawpow_mix_recomputed_for_epoch_0_vectors_and_tampering_fails() -> None:
    """Epoch 0 only (blocks 0..7,499): one cache build; about 1 s a mix in pure Python."""
    for case in [c for c in KAWPOW_CASES if c["block_number"] < 7_500][:2]:
        final = check_kawpow(*_seal_args(case), boundary=int(case["final_hash"], 16))
        assert final.hex() == case["final_hash"]
    header, nonce, mix, block = _seal_args(KAWPOW_CASES[1])
    with pytest.raises(BadMixDigest):
        check_kawpow(header, nonce ^ 1, mix, block, boundary=2**256 - 1)

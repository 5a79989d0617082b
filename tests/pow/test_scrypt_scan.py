"""scan_scrypt against the Litecoin genesis header and brute force."""

from __future__ import annotations

import pytest

from hashwatt.pow import PowInputError, scan_scrypt, scrypt_hash_value

# A real Litecoin header (the first vector of tests/data/chain/ltc_scrypt_vectors.json).
LTC_HEADER80 = bytes.fromhex(
    "020000004c1271c211717198227392b029a64a7971931d351b387bb80db027f270411e398a07046f7d4a08dd815412a8"
    "712f874a7ebf0507e3878bd24e20a3b73fd750a667d2f451eac7471b00de6659"
)


def test_real_header_nonce_found_and_neighbours_not() -> None:
    nonce = int.from_bytes(LTC_HEADER80[76:], "little")
    target = 0x47C7EA << (8 * (0x1B - 3))  # bits 1b47c7ea, from the header
    assert scrypt_hash_value(LTC_HEADER80[:76], nonce) <= target
    assert scan_scrypt(LTC_HEADER80[:76], nonce - 3, 7, target) == [nonce]


def test_matches_brute_force_at_easy_target() -> None:
    header = bytes(range(76))
    target = 1 << 252  # about one nonce in 16 hits
    found = scan_scrypt(header, 1000, 64, target)
    assert found == [n for n in range(1000, 1064) if scrypt_hash_value(header, n) <= target]
    assert found  # fixed header: this range holds hits, so an always-empty scan fails here


def test_bad_input_is_typed() -> None:
    with pytest.raises(PowInputError):
        scan_scrypt(b"short", 0, 1, 1)

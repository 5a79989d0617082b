"""Address parsing: BIP 173/350 vectors and python-bitcoinlib as an oracle for base58 and v0."""

from __future__ import annotations

import random

import bitcoin
import bitcoin.wallet
import pytest

from hashwatt.chain import (
    AddressError,
    address_to_script,
    b58check_encode,
    encode_segwit,
    parse_address,
    script_to_address,
)

# BIP 350 "valid" vectors with their scriptPubKeys (BIP 173 ones re-checked under BIP 350).
VALID_SEGWIT = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]

# BIP 350 "invalid" vectors (each a different rule).
INVALID = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # unknown HRP
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32 checksum
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",  # v2 with bech32 checksum
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # v16 with bech32 checksum
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with bech32m checksum
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # v0 with bech32m checksum
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # invalid character
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # witness version 17
    "bc1pw5dgrnzv",  # 1-byte program
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41-byte program
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # padding > 4 bits
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # base58 checksum off by one character
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0",  # '0' is not base58
    "",
]


@pytest.mark.parametrize(("address", "script_hex"), VALID_SEGWIT)
def test_bip350_valid_vectors(address: str, script_hex: str) -> None:
    assert address_to_script(address).hex() == script_hex


@pytest.mark.parametrize("address", INVALID)
def test_bip350_invalid_vectors(address: str) -> None:
    with pytest.raises(AddressError):
        parse_address(address)


def test_kinds_and_networks() -> None:
    assert parse_address("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0").kind == "p2tr"
    assert parse_address("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").kind == "p2wpkh"
    assert parse_address("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080").network == "regtest"
    assert parse_address("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").kind == "p2pkh"
    assert parse_address("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy").kind == "p2sh"
    # Right address, wrong network.
    with pytest.raises(AddressError):
        parse_address("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "testnet")
    with pytest.raises(AddressError):
        parse_address("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "mainnet")
    assert parse_address("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "signet").kind == "p2pkh"


@pytest.mark.parametrize("params", ["mainnet", "testnet", "regtest"])
def test_random_addresses_match_python_bitcoinlib(params: str) -> None:
    rng = random.Random(params)
    bitcoin.SelectParams(params)
    try:
        for _ in range(40):
            h = rng.randbytes(20)
            for addr in (
                bitcoin.wallet.P2PKHBitcoinAddress.from_bytes(h),
                bitcoin.wallet.P2SHBitcoinAddress.from_bytes(h),
                bitcoin.wallet.P2WPKHBitcoinAddress.from_bytes(0, h),
                bitcoin.wallet.P2WSHBitcoinAddress.from_bytes(0, rng.randbytes(32)),
            ):
                text = str(addr)
                assert address_to_script(text, params) == bytes(addr.to_scriptPubKey()), text
    finally:
        bitcoin.SelectParams("mainnet")


def test_encoders_round_trip() -> None:
    prog = bytes(range(32))
    for version in (0, 1, 16):
        text = encode_segwit("tb", version, prog)
        assert parse_address(text).script_pubkey[2:] == prog
    payload = b"\x05" + bytes(20)
    assert parse_address(b58check_encode(payload)).kind == "p2sh"


@pytest.mark.parametrize(("address", "script_hex"), VALID_SEGWIT)
def test_script_to_address_inverts_parse(address: str, script_hex: str) -> None:
    parsed = parse_address(address)
    assert parsed.script_pubkey.hex() == script_hex
    assert script_to_address(parsed.script_pubkey, parsed.network) == address.lower()


def test_script_to_address_base58_and_non_standard() -> None:
    genesis_payout = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    script = address_to_script(genesis_payout)
    assert script_to_address(script) == genesis_payout
    p2sh = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    assert script_to_address(address_to_script(p2sh)) == p2sh
    assert script_to_address(address_to_script(p2sh), "testnet") != p2sh  # other prefix
    assert script_to_address(b"\x6a\x04test") is None  # OP_RETURN
    assert script_to_address(bytes.fromhex("41" + "04" * 65 + "ac")) is None  # bare pubkey (P2PK)
    assert script_to_address(b"\x00\x15" + bytes(21)) is None  # v0 program of 21 bytes: not standard

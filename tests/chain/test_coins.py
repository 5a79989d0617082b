"""Coins as parameters: scrypt vectors, Litecoin's real retargets, subsidy schedules, prefixes, DigiShield."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.chain import (
    BITCOIN_RETARGET,
    BTC,
    COIN,
    DOGE,
    HASHES_PER_DIFFICULTY,
    LTC,
    SCRYPT_POW_LIMIT,
    Block,
    BlockHeader,
    ChainParams,
    HalvingSchedule,
    PowAlgorithm,
    TxOut,
    b58check_decode,
    b58check_encode,
    bits_to_target,
    block_subsidy_sat,
    check_block,
    coin,
    difficulty_from_bits,
    encode_segwit,
    hash_to_hex,
    header_hash,
    header_hash_hex,
    next_bits,
    scrypt_1024_1_1_256,
    target_to_bits,
    validate_block,
)
from hashwatt.errors import (
    BadCoinbaseHeight,
    BadCoinbaseValue,
    BadMerkleRoot,
    BadProofOfWork,
    BadTransaction,
    ChainError,
    ChainInputError,
)
from tests.chain._fixtures import CHAIN_DATA, csv_rows


@lru_cache(maxsize=1)
def _scrypt_vectors() -> dict[str, object]:
    return dict(json.loads((CHAIN_DATA / "ltc_scrypt_vectors.json").read_text()))


def _ltc_genesis() -> BlockHeader:
    genesis = _scrypt_vectors()["genesis"]
    assert isinstance(genesis, dict)
    return BlockHeader.from_bytes(bytes.fromhex(genesis["header_hex"]))


@lru_cache(maxsize=1)
def _ltc_headers() -> dict[int, tuple[str, BlockHeader]]:
    """The shipped LTC headers at h-1 and h of every retarget, plus the genesis (for the first retarget)."""
    headers = {
        int(row["height"]): (row["block_hash"], BlockHeader.from_bytes(bytes.fromhex(row["header_hex"])))
        for row in csv_rows("ltc_headers_retarget_pairs.csv")
    }
    genesis = _ltc_genesis()
    headers[0] = (header_hash_hex(genesis), genesis)
    return headers


# -- proof of work ------------------------------------------------------------------------------


def test_scrypt_matches_litecoins_vectors() -> None:
    vectors = _scrypt_vectors()["scrypt_vectors"]
    assert isinstance(vectors, list) and len(vectors) == 5
    for vector in vectors:
        header = BlockHeader.from_bytes(bytes.fromhex(vector["header_hex"]))
        assert hash_to_hex(LTC.pow_hash(header)) == vector["scrypt_hash_display"]
        assert LTC.header_meets_target(header)
        # The block id stays SHA256d: scrypt is only the proof-of-work hash.
        assert LTC.pow_hash(header) != header_hash(header)


def test_ltc_genesis_hash_and_proof_of_work() -> None:
    genesis = _ltc_genesis()
    assert header_hash(genesis) == LTC.genesis_hash
    assert hash_to_hex(scrypt_1024_1_1_256(genesis.to_bytes())) == (
        "0000050c34a64b415b6b15b37f2216634b5b1669cb9a2e38d76f7213b0671e00"
    )
    assert LTC.header_meets_target(genesis)
    # One nonce off and the scrypt hash no longer meets the genesis target.
    tampered = BlockHeader(
        genesis.version, genesis.prev_hash, genesis.merkle_root, genesis.time, genesis.bits, genesis.nonce + 1
    )
    assert not LTC.header_meets_target(tampered)


def test_every_shipped_ltc_header_meets_its_scrypt_target() -> None:
    headers = _ltc_headers()
    assert len(headers) == 2868 + 1
    for height, (block_hash, header) in headers.items():
        assert header_hash_hex(header) == block_hash, height
        assert LTC.header_meets_target(header), height
    # The same headers fail Bitcoin's SHA256d proof of work: the algorithm is a parameter that matters.
    assert sum(BTC.header_meets_target(header) for _, header in headers.values()) == 0


def test_pow_algorithm_is_a_parameter() -> None:
    assert (BTC.pow_algorithm, LTC.pow_algorithm, DOGE.pow_algorithm) == (
        PowAlgorithm.SHA256D,
        PowAlgorithm.SCRYPT,
        PowAlgorithm.SCRYPT,
    )
    header = _ltc_genesis()
    assert BTC.pow_hash(header) == header_hash(header)


# -- Litecoin's retarget ------------------------------------------------------------------------


def _ltc_retargets() -> list[tuple[int, int, int, int, int]]:
    """(h, bits at h-1, time at the span's first block, time at h-1, real bits at h) per shipped retarget."""
    headers = _ltc_headers()
    rule = LTC.retarget
    out = []
    for height in sorted(headers):
        if not rule.is_retarget_height(height):
            continue
        last = headers[height - 1][1]
        first = headers[rule.first_block_height(height)][1]
        out.append((height, last.bits, first.time, last.time, headers[height][1].bits))
    return out


def test_every_shipped_ltc_retarget_reproduced() -> None:
    retargets = _ltc_retargets()
    assert len(retargets) == 1434
    assert retargets[0][0] == 2016 and retargets[-1][0] == 2_890_944
    changed = 0
    for height, prev_bits, first_time, last_time, real_bits in retargets:
        assert LTC.retarget.next_bits(prev_bits, first_time, last_time, height=height) == real_bits, height
        changed += prev_bits != real_bits
    assert changed > 1400  # the walk compares real changes, not bits carried over


def test_ltc_full_span_matters() -> None:
    """Bitcoin's 2015-interval span breaks most real Litecoin retargets: the walk discriminates.

    (The one-bit overflow shift halves a compact target that is always even, exactly; the floor it
    adds cannot reach the 24-bit mantissa, so no boundary tells it apart and none is claimed.)
    """
    headers = _ltc_headers()
    wrong_span = 0
    for height, prev_bits, _first_time, last_time, real_bits in _ltc_retargets():
        btc_style_first = headers[height - 2016][1]
        if LTC.retarget.next_bits(prev_bits, btc_style_first.time, last_time, height=height) != real_bits:
            wrong_span += 1
    assert wrong_span > 1000


def test_ltc_first_retarget_measures_from_genesis() -> None:
    rule = LTC.retarget
    assert rule.first_block_height(2016) == 0
    assert rule.first_block_height(4032) == 2015
    assert BITCOIN_RETARGET.first_block_height(4032) == 2016
    # Capped at the scrypt proof-of-work limit: the first LTC retarget went from 1e0ffff0 to 1e0fffff.
    assert target_to_bits(SCRYPT_POW_LIMIT) == 0x1E0FFFFF


def test_bitcoin_functions_are_the_btc_parameters() -> None:
    assert BTC.retarget is BITCOIN_RETARGET
    assert next_bits(0x1B0404CB, 0, 1_000_000) == BTC.retarget.next_bits(
        0x1B0404CB, 0, 1_000_000, height=2016
    )
    for height in (0, 209_999, 210_000, 6_930_000):
        assert BTC.block_subsidy_sat(height) == block_subsidy_sat(height)


# -- subsidies ----------------------------------------------------------------------------------


def test_ltc_subsidy_halves_every_840000() -> None:
    assert LTC.block_subsidy_sat(0) == 50 * COIN
    assert LTC.block_subsidy_sat(839_999) == 50 * COIN
    assert LTC.block_subsidy_sat(840_000) == 25 * COIN
    assert LTC.block_subsidy_sat(1_680_000) == 1_250_000_000
    assert LTC.block_subsidy_sat(2_520_000) == 625_000_000
    # 84 million LTC, short of it by the rounding of 33 halvings, as Bitcoin's 21 million.
    assert isinstance(LTC.subsidy, HalvingSchedule)
    total = LTC.subsidy.total_supply_sat()
    assert 83_999_990 * COIN < total < 84_000_000 * COIN


def test_doge_subsidy_schedule() -> None:
    # Pseudo-random era: the maximum a coinbase could claim, 1,000,000 >> (height // 100,000) DOGE.
    assert DOGE.block_subsidy_sat(1) == 1_000_000 * COIN
    assert DOGE.block_subsidy_sat(144_999) == 500_000 * COIN
    # Fixed per era from 145,000: 500,000 >> (height // 100,000).
    assert DOGE.block_subsidy_sat(145_000) == 250_000 * COIN
    assert DOGE.block_subsidy_sat(200_000) == 125_000 * COIN
    assert DOGE.block_subsidy_sat(599_999) == 15_625 * COIN
    # Then 10,000 DOGE forever.
    assert DOGE.block_subsidy_sat(600_000) == 10_000 * COIN
    assert DOGE.block_subsidy_sat(5_000_000) == 10_000 * COIN
    with pytest.raises(ChainInputError):
        DOGE.block_subsidy_sat(-1)


# -- lookup and addresses ------------------------------------------------------------------------


def test_coin_lookup() -> None:
    assert coin("ltc") is LTC and coin(" Dogecoin ") is DOGE and coin("BTC") is BTC
    with pytest.raises(ChainInputError, match="unknown coin"):
        coin("eth")


@pytest.mark.parametrize(
    ("params", "p2pkh_lead", "p2sh_leads"),
    [(BTC, "1", "3"), (LTC, "L", "M"), (DOGE, "D", "9A")],
)
def test_address_prefixes_give_the_known_leading_characters(
    params: ChainParams, p2pkh_lead: str, p2sh_leads: str
) -> None:
    for payload in (bytes(20), b"\xff" * 20, bytes(range(20))):
        p2pkh = b58check_encode(bytes([params.address.p2pkh_prefix]) + payload)
        p2sh = b58check_encode(bytes([params.address.p2sh_prefix]) + payload)
        assert p2pkh[0] == p2pkh_lead
        assert p2sh[0] in p2sh_leads
        assert b58check_decode(p2pkh) == bytes([params.address.p2pkh_prefix]) + payload


def test_ltc_bech32_hrp() -> None:
    assert encode_segwit(LTC.address.hrp, 0, bytes(20)).startswith("ltc1q")
    assert DOGE.address.hrp == ""  # no segwit on Dogecoin


# -- DigiShield ---------------------------------------------------------------------------------


def test_digishield_hand_computed() -> None:
    rule = DOGE.retarget
    bits = 0x1B06F8F0
    target = bits_to_target(bits)
    h = 400_000
    # On time: unchanged.
    assert rule.next_bits(bits, 1000, 1060, height=h) == target_to_bits(target)
    # 140 s: 60 + 80/8 = 70 s.
    assert rule.next_bits(bits, 1000, 1140, height=h) == target_to_bits(target * 70 // 60)
    # 10 s: 60 + (-50)/8 truncated toward zero = 60 - 6 = 54 (flooring would give 53).
    assert rule.next_bits(bits, 1000, 1010, height=h) == target_to_bits(target * 54 // 60)
    # Out-of-order times: -300 s -> 60 - 45 = 15, clamped up to 45 (T - T/4).
    assert rule.next_bits(bits, 1300, 1000, height=h) == target_to_bits(target * 45 // 60)
    # A four-hour gap: clamped down to 90 (T + T/2).
    assert rule.next_bits(bits, 0, 14_400, height=h) == target_to_bits(target * 90 // 60)
    # Never easier than the proof-of-work limit.
    assert rule.next_bits(0x1E0FFFFF, 0, 14_400, height=h) == 0x1E0FFFFF
    assert rule.is_retarget_height(h) and rule.first_block_height(h) == h - 2


def test_digishield_rejects_the_earlier_era() -> None:
    with pytest.raises(ChainInputError, match="145000"):
        DOGE.retarget.next_bits(0x1E0FFFFF, 0, 60, height=144_999)
    with pytest.raises(ChainError):
        DOGE.retarget.first_block_height(100)


def _doge_blocks_per_day_since_digishield() -> float:
    """Mean blocks a day over the DigiShield era, from the shipped headers' heights (2014-03 .. 2021-01)."""
    rows = [
        (date.fromisoformat(row["date"]), int(row["first_height"]))
        for row in csv_rows("doge_daily_difficulty_from_headers_2013_2021.csv")
    ]
    start = next((day, height) for day, height in rows if height >= 145_000)
    end = rows[-1]
    return (end[1] - start[1]) / (end[0] - start[0]).days


def _simulated_blocks_per_day(blocks: int, seed: int) -> float:
    """DigiShield at constant hashrate, with exponential (Poisson-process) block intervals."""
    rng = random.Random(seed)
    bits = 0x1B06F8F0
    hashrate_hs = difficulty_from_bits(bits) * HASHES_PER_DIFFICULTY / DOGE.target_block_interval_s
    before_last, last = 0, 60
    total_s = 0.0
    warmup = 1000
    for i in range(blocks + warmup):
        bits = DOGE.retarget.next_bits(bits, before_last, last, height=400_000 + i)
        interval_s = rng.expovariate(hashrate_hs / (difficulty_from_bits(bits) * HASHES_PER_DIFFICULTY))
        before_last, last = last, last + round(interval_s)
        if i >= warmup:
            total_s += interval_s
    return 86_400 * blocks / total_s


def test_digishield_predicts_dogecoins_real_block_rate() -> None:
    """DigiShield's per-block filter runs slow (Jensen: the mean of log-steps is below the log of the mean).

    At constant hashrate the rule settles near 63.4 s a block, about 1,362 blocks a day, not the
    1,440 a 60 s target suggests; the real chain made about 1,371 a day over 2014-03..2021-01.
    """
    real = _doge_blocks_per_day_since_digishield()
    simulated = _simulated_blocks_per_day(20_000, seed=7)
    assert real < 1440 * 0.96  # the real chain is measurably slower than 60 s blocks
    assert abs(simulated - real) / real < 0.02


# -- whole blocks --------------------------------------------------------------------------------


def _ltc_genesis_block() -> Block:
    return Block.from_bytes(bytes.fromhex((CHAIN_DATA / "ltc_block_0.hex").read_text().strip()))


def test_ltc_genesis_block_validates_as_litecoin_only() -> None:
    block = _ltc_genesis_block()
    assert header_hash(block.header) == LTC.genesis_hash
    assert validate_block(block, height=0, fees_sat=0, params=LTC) == []
    # The same bytes under Bitcoin's parameters: scrypt work is not SHA256d work.
    assert [type(e) for e in validate_block(block, height=0, fees_sat=0)] == [BadProofOfWork]
    # Paying one base unit over the 50 LTC subsidy is caught with Litecoin's schedule.
    coinbase = block.transactions[0]
    over = TxOut(50 * COIN + 1, coinbase.outputs[0].script_pubkey)
    greedy = Block(block.header, (dataclasses.replace(coinbase, outputs=(over,)),))
    errors = validate_block(greedy, height=0, fees_sat=0, check_pow=False, params=LTC)
    assert [type(e) for e in errors] == [BadMerkleRoot, BadCoinbaseValue]
    check_block(block, height=0, fees_sat=0, params=LTC)


def test_money_range_and_bip34_are_per_coin() -> None:
    block = _ltc_genesis_block()
    coinbase = block.transactions[0]
    big = TxOut(30_000_000 * COIN, coinbase.outputs[0].script_pubkey)  # above 21M, below 84M
    rich = Block(block.header, (dataclasses.replace(coinbase, outputs=(big,)),))
    assert not any(isinstance(e, BadTransaction) for e in validate_block(rich, check_pow=False, params=LTC))
    assert any(isinstance(e, BadTransaction) for e in validate_block(rich, check_pow=False, params=BTC))
    # BIP 34 binds from each coin's own height: 710,000 on Litecoin, 227,931 on Bitcoin.
    assert not any(
        isinstance(e, BadCoinbaseHeight)
        for e in validate_block(block, height=709_999, check_pow=False, params=LTC)
    )
    assert any(
        isinstance(e, BadCoinbaseHeight)
        for e in validate_block(block, height=710_000, check_pow=False, params=LTC)
    )
    assert any(
        isinstance(e, BadCoinbaseHeight) for e in validate_block(block, height=227_931, check_pow=False)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=2**180, max_value=SCRYPT_POW_LIMIT // 2).map(target_to_bits),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=-100_000, max_value=100_000),
)
def test_digishield_step_is_bounded(bits: int, before_last_time: int, span_s: int) -> None:
    """Whatever the times (even out of order), one block moves the target by x0.75..x1.5 at most."""
    last_time = max(0, before_last_time + span_s)
    old = bits_to_target(bits)
    new = bits_to_target(DOGE.retarget.next_bits(bits, before_last_time, last_time, height=1_000_000))
    # Compact rounding only truncates, by less than one part in 2**15 of a normalised mantissa.
    assert old * 45 // 60 * (1 - 2**-15) <= new <= old * 90 // 60

"""Chains as parameters: one frozen :class:`ChainParams` per coin, never a copy of the code.

Bitcoin, Litecoin and Dogecoin share the 80-byte header, the compact ``bits`` encoding, the
difficulty-1 convention (0x1d00ffff) and the merkle tree; they differ in the proof-of-work hash,
the block interval, the subsidy schedule, the retarget rule, the address prefixes and (Dogecoin)
merged mining. Those differences are the fields here; the behaviour lives in the rules each field
holds (:mod:`hashwatt.chain._supply`, :mod:`hashwatt.chain._retarget`), and Bitcoin's existing
module-level functions are the BTC values' behaviour.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from hashwatt.chain._address import NETWORKS, Network
from hashwatt.chain._codec import hash_from_hex, sha256d
from hashwatt.chain._header import BlockHeader
from hashwatt.chain._retarget import (
    BITCOIN_RETARGET,
    AsertRetarget,
    DigiShieldRetarget,
    PeriodRetarget,
    RetargetRule,
)
from hashwatt.chain._supply import BITCOIN_SUBSIDY, DogecoinSubsidy, HalvingSchedule, SubsidySchedule
from hashwatt.chain._target import TARGET_BLOCK_INTERVAL_S, bits_to_target, hash_meets_target
from hashwatt.chain._transaction import COIN, MAX_MONEY_SAT
from hashwatt.errors import ChainInputError

#: Scrypt cost parameters of Litecoin's scrypt_1024_1_1_256 (Tenebrix, 2011): N, r, p.
SCRYPT_N = 1024
SCRYPT_R = 1
SCRYPT_P = 1


class PowAlgorithm(StrEnum):
    """The hash a header's proof of work is measured with."""

    SHA256D = "sha256d"
    SCRYPT = "scrypt"

    def hash(self, data: bytes) -> bytes:
        """This algorithm's proof-of-work hash of ``data`` (an 80-byte header), internal order."""
        return _POW_HASHES[self](data)


def scrypt_1024_1_1_256(data: bytes) -> bytes:
    """Litecoin's proof-of-work hash: scrypt(N=1024, r=1, p=1, 32 bytes), the data as password and salt.

    The standard library's ``hashlib.scrypt`` (OpenSSL) is the reference implementation here; the
    result is in internal byte order, compared little-endian with the target like SHA256d.
    """
    return hashlib.scrypt(data, salt=data, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


_POW_HASHES = {
    PowAlgorithm.SHA256D: sha256d,
    PowAlgorithm.SCRYPT: scrypt_1024_1_1_256,
}


@dataclass(frozen=True, slots=True)
class AuxPowParams:
    """Merged mining as a child chain (namecoin's AuxPoW, as Dogecoin adopted it).

    ``chain_id`` is the child's id (bits 16..31 of its block version); ``version_flag`` marks a
    block that carries an AuxPoW proof; ``start_height`` the first height allowed to.
    """

    chain_id: int
    version_flag: int
    start_height: int


@dataclass(frozen=True, slots=True)
class ChainParams:
    """Everything consensus-relevant that differs between the coins hashwatt knows.

    ``pow_limit`` is the easiest target allowed (Core: consensus.powLimit); ``genesis_hash`` is
    in internal byte order; ``address`` holds the base58 prefixes and bech32 HRP (empty where
    the coin has no segwit); ``max_money_sat`` bounds any single amount (Core: MAX_MONEY, a
    sanity bound, not the supply: Dogecoin has no cap); ``bip34_height`` is where the coinbase
    must start with the height (Core: consensus.BIP34Height).
    """

    name: str
    ticker: str
    pow_algorithm: PowAlgorithm
    target_block_interval_s: int
    pow_limit: int
    subsidy: SubsidySchedule
    retarget: RetargetRule
    address: Network
    genesis_hash: bytes
    max_money_sat: int
    bip34_height: int
    auxpow: AuxPowParams | None = None

    def pow_hash(self, header: BlockHeader) -> bytes:
        """The header's proof-of-work hash (internal order); the block id stays SHA256d on every chain."""
        return self.pow_algorithm.hash(header.to_bytes())

    def header_meets_target(self, header: BlockHeader) -> bool:
        """The header's own proof-of-work hash is at or below the target its bits encode."""
        return hash_meets_target(self.pow_hash(header), bits_to_target(header.bits))

    def block_subsidy_sat(self, height: int) -> int:
        """New coins a block at ``height`` may create [sat] (1 coin = :data:`COIN` base units on all three)."""
        return self.subsidy.block_subsidy_sat(height)


#: Bitcoin mainnet height from which BIP 34 requires the height in the coinbase.
BIP34_HEIGHT_MAINNET = 227_931
#: Litecoin and Dogecoin proof-of-work limit, 0x00000fff...f (compact 1e0fffff).
SCRYPT_POW_LIMIT = (1 << 236) - 1

BTC = ChainParams(
    name="bitcoin",
    ticker="BTC",
    pow_algorithm=PowAlgorithm.SHA256D,
    target_block_interval_s=TARGET_BLOCK_INTERVAL_S,
    pow_limit=BITCOIN_RETARGET.pow_limit,
    subsidy=BITCOIN_SUBSIDY,
    retarget=BITCOIN_RETARGET,
    address=NETWORKS["mainnet"],
    genesis_hash=hash_from_hex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
    max_money_sat=MAX_MONEY_SAT,
    bip34_height=BIP34_HEIGHT_MAINNET,
)

#: Litecoin mainnet (litecoin-project/litecoin src/chainparams.cpp, src/pow.cpp): 150 s blocks,
#: 50 LTC halving every 840,000 blocks, the 2016-block retarget over 3.5 days with the full-span
#: fix and the one-bit overflow shift; base58 prefixes L (48) and M (50), bech32 ``ltc``;
#: MAX_MONEY 84 million LTC (src/amount.h); BIP 34 from 710,000.
LTC = ChainParams(
    name="litecoin",
    ticker="LTC",
    pow_algorithm=PowAlgorithm.SCRYPT,
    target_block_interval_s=150,
    pow_limit=SCRYPT_POW_LIMIT,
    subsidy=HalvingSchedule(initial_subsidy_sat=50 * COIN, halving_interval=840_000),
    retarget=PeriodRetarget(
        interval=2016,
        timespan_s=2016 * 150,
        pow_limit=SCRYPT_POW_LIMIT,
        full_span=True,
        overflow_shift=True,
    ),
    address=Network("litecoin", 0x30, 0x32, "ltc"),
    genesis_hash=hash_from_hex("12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2"),
    max_money_sat=84_000_000 * COIN,
    bip34_height=710_000,
)

#: Dogecoin mainnet (dogecoin/libdohj AbstractDogecoinParams, DogecoinMainNetParams): 60 s blocks,
#: DigiShield from 145,000, AuxPoW (chain id 0x0062) from 371,337; base58 prefixes D (30) and
#: 9/A (22), no segwit; MAX_MONEY 10 billion DOGE (src/amount.h); BIP 34 from 1,034,383 (v3 blocks).
DOGE = ChainParams(
    name="dogecoin",
    ticker="DOGE",
    pow_algorithm=PowAlgorithm.SCRYPT,
    target_block_interval_s=60,
    pow_limit=SCRYPT_POW_LIMIT,
    subsidy=DogecoinSubsidy(),
    retarget=DigiShieldRetarget(timespan_s=60, pow_limit=SCRYPT_POW_LIMIT, start_height=145_000),
    address=Network("dogecoin", 0x1E, 0x16, ""),
    genesis_hash=hash_from_hex("1a91e3dace36e2be3bf030a65679fe821aa1d6ef92e7c9902eb318182c355691"),
    max_money_sat=10_000_000_000 * COIN,
    bip34_height=1_034_383,
    auxpow=AuxPowParams(chain_id=0x0062, version_flag=0x100, start_height=371_337),
)

#: Bitcoin Cash mainnet (bitcoin-cash-node src/chainparams.cpp, src/pow.cpp; the 2020-11-15 ASERT
#: spec): Bitcoin's chain to height 478,558, then its own. Bitcoin's parameters (SHA256d headers,
#: 600 s blocks, halvings, limit, genesis, MAX_MONEY, BIP 34 height) except the retarget, ASERT
#: (aserti3-2d, half-life two days) anchored at block 661,647 (bits 0x1804dafe, parent time
#: 1605447844), and the addresses: legacy base58 prefixes as Bitcoin's, no segwit (no bech32
#: HRP), CashAddr not modelled. The EDA and cw-144 eras before the anchor are not modelled.
BCH = replace(
    BTC,
    name="bitcoin cash",
    ticker="BCH",
    retarget=AsertRetarget(
        anchor_height=661_647,
        anchor_bits=0x1804DAFE,
        anchor_parent_time_s=1_605_447_844,
        spacing_s=TARGET_BLOCK_INTERVAL_S,
        half_life_s=2 * 24 * 60 * 60,
        pow_limit=BITCOIN_RETARGET.pow_limit,
    ),
    address=Network("bitcoincash", 0x00, 0x05, ""),
)

#: The coins by ticker (lower case) and by name.
COINS: dict[str, ChainParams] = {p.ticker.lower(): p for p in (BTC, LTC, DOGE, BCH)} | {
    p.name: p for p in (BTC, LTC, DOGE, BCH)
}


def coin(name: str) -> ChainParams:
    """Parameters by ticker or name, case-insensitive (``btc``, ``LTC``, ``dogecoin``, ``bch``)."""
    params = COINS.get(name.strip().lower())
    if params is None:
        known = ", ".join(p.ticker.lower() for p in dict.fromkeys(COINS.values()))
        raise ChainInputError(f"unknown coin {name!r} ({known})", field="coin", value=name)
    return params

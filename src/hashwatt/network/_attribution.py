"""Attribute a block to a mining pool from its coinbase: payout addresses first, then coinbase tags.

mempool.space's ``pools-v2.json`` lists, per pool, payout addresses and coinbase tags (regular
expressions matched case-insensitively against the coinbase scriptSig as text). A payout
address is an unambiguous payment to the pool, so it is tried first; tags are then tried in the
list's order and the first match wins (mempool.space checks both per pool in list order; the
two orders agree on the blocks tested here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from hashwatt.chain import Block, Transaction, block_merkle_root, header_hash_hex, push_int
from hashwatt.data.pools import Pool, load_pools
from hashwatt.network.errors import NetworkError, NetworkInputError

Chain = Literal["mainnet", "testnet"]

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
# version bytes (base58) and human-readable parts (bech32) per chain
_P2PKH_VERSION = {"mainnet": 0x00, "testnet": 0x6F}
_P2SH_VERSION = {"mainnet": 0x05, "testnet": 0xC4}
_HRP = {"mainnet": "bc", "testnet": "tb"}


def base58check_encode(version: int, payload: bytes) -> str:
    """Base58Check of ``version || payload`` with the 4-byte double-SHA256 checksum."""
    data = bytes([version]) + payload
    data += hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58_ALPHABET[rem])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(out))


def _bech32_polymod(values: Sequence[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


def _convert_bits_8_to_5(data: bytes) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def segwit_address(hrp: str, witness_version: int, program: bytes) -> str:
    """BIP 173 (bech32, version 0) / BIP 350 (bech32m, version >= 1) address."""
    data = [witness_version, *_convert_bits_8_to_5(program)]
    const = _BECH32_CONST if witness_version == 0 else _BECH32M_CONST
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _bech32_polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


def script_to_address(script_pubkey: bytes, *, chain: Chain = "mainnet") -> str | None:
    """The address a standard output script pays to (P2PKH, P2SH, segwit v0..v16); None otherwise.

    Bare public keys (P2PK, early coinbases), OP_RETURN and non-standard scripts have no address.
    """
    s = script_pubkey
    if len(s) == 25 and s[:3] == b"\x76\xa9\x14" and s[23:] == b"\x88\xac":
        return base58check_encode(_P2PKH_VERSION[chain], s[3:23])
    if len(s) == 23 and s[:2] == b"\xa9\x14" and s[22] == 0x87:
        return base58check_encode(_P2SH_VERSION[chain], s[2:22])
    if 4 <= len(s) <= 42 and (s[0] == 0 or 0x51 <= s[0] <= 0x60) and s[1] == len(s) - 2:
        version = 0 if s[0] == 0 else s[0] - 0x50
        program = s[2:]
        if version == 0 and len(program) not in (20, 32):
            return None
        if 2 <= len(program) <= 40:
            return segwit_address(_HRP[chain], version, program)
    return None


def coinbase_text(coinbase_script_sig: bytes) -> str:
    """The scriptSig as text for tag matching: UTF-8 where valid, U+FFFD for other bytes.

    ASCII bytes always survive, and multi-byte tags (F2Pool's "七彩神仙鱼", emoji) match too.
    """
    return coinbase_script_sig.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class _CompiledPools:
    pools: tuple[Pool, ...]
    by_address: dict[str, Pool]
    tag_patterns: tuple[tuple[re.Pattern[str], Pool], ...]


def _compile(pools: tuple[Pool, ...]) -> _CompiledPools:
    by_address: dict[str, Pool] = {}
    patterns: list[tuple[re.Pattern[str], Pool]] = []
    for pool in pools:
        for address in pool.addresses:
            by_address.setdefault(address, pool)
        for tag in pool.tags:
            try:
                patterns.append((re.compile(tag, re.IGNORECASE), pool))
            except re.error:  # a tag that is not a valid regex is taken literally
                patterns.append((re.compile(re.escape(tag), re.IGNORECASE), pool))
    return _CompiledPools(pools=pools, by_address=by_address, tag_patterns=tuple(patterns))


@lru_cache(maxsize=4)
def _compiled(pools: tuple[Pool, ...]) -> _CompiledPools:
    return _compile(pools)


MatchKind = Literal["address", "tag"]


def _match(
    coinbase_script_sig: bytes, payout_addresses: Sequence[str], pools: tuple[Pool, ...] | None
) -> tuple[Pool, MatchKind] | None:
    if not isinstance(coinbase_script_sig, bytes | bytearray):
        raise NetworkInputError("coinbase_script_sig must be bytes")
    compiled = _compiled(load_pools() if pools is None else pools)
    for address in payout_addresses:
        pool = compiled.by_address.get(address)
        if pool is not None:
            return pool, "address"
    text = coinbase_text(bytes(coinbase_script_sig))
    for pattern, pool in compiled.tag_patterns:
        if pattern.search(text):
            return pool, "tag"
    return None


def attribute_block(
    coinbase_script_sig: bytes,
    payout_addresses: list[str],
    *,
    pools: tuple[Pool, ...] | None = None,
) -> Pool | None:
    """The pool that mined a block, from its coinbase scriptSig and payout addresses; None if unknown.

    ``pools`` defaults to the shipped ``mining_pools_v2.json``. Addresses are matched exactly
    (first); tags are case-insensitive regular expressions searched in :func:`coinbase_text`.
    """
    found = _match(coinbase_script_sig, payout_addresses, pools)
    return None if found is None else found[0]


def coinbase_payout_addresses(coinbase: Transaction, *, chain: Chain = "mainnet") -> list[str]:
    """Addresses paid by the coinbase's outputs, in output order (outputs without one skipped)."""
    addresses = []
    for output in coinbase.outputs:
        address = script_to_address(output.script_pubkey, chain=chain)
        if address is not None:
            addresses.append(address)
    return addresses


def attribute_coinbase(
    coinbase: Transaction, *, chain: Chain = "mainnet", pools: tuple[Pool, ...] | None = None
) -> Pool | None:
    """:func:`attribute_block` applied to a parsed coinbase transaction."""
    if not coinbase.inputs:
        raise NetworkError("a coinbase transaction has exactly one input; this one has none")
    return attribute_block(
        coinbase.inputs[0].script_sig, coinbase_payout_addresses(coinbase, chain=chain), pools=pools
    )


class RpcCaller(Protocol):
    """Anything with Bitcoin Core's ``call(method, *params)`` (e.g. :class:`hashwatt.node.RpcClient`)."""

    def call(self, method: str, *params: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class BlockAttribution:
    """Who mined one block, and on what evidence."""

    height: int | None
    block_hash: str
    time_utc: dt.datetime
    pool: str | None
    pool_id: int | None
    #: ``address`` (a payout address of the pool) or ``tag`` (a coinbase tag); None if unknown.
    matched_by: str | None
    payout_addresses: tuple[str, ...]
    #: Printable characters of the coinbase scriptSig (what the tags were searched in).
    coinbase_ascii: str


def coinbase_height(block: Block) -> int | None:
    """The BIP 34 height pushed at the start of the coinbase scriptSig; None before BIP 34.

    Only version >= 2 blocks carry it (BIP 34), and only a canonical push is accepted.
    """
    if block.header.version < 2 or not block.transactions or not block.transactions[0].inputs:
        return None
    script_sig = block.transactions[0].inputs[0].script_sig
    if not script_sig or not 1 <= script_sig[0] <= 8 or len(script_sig) < 1 + script_sig[0]:
        return None
    value = int.from_bytes(script_sig[1 : 1 + script_sig[0]], "little", signed=False)
    if value & (1 << (8 * script_sig[0] - 1)):  # a negative script number is no height
        return None
    return value if script_sig.startswith(push_int(value)) else None


def attribute_full_block(
    block: Block,
    *,
    height: int | None = None,
    chain: Chain = "mainnet",
    pools: tuple[Pool, ...] | None = None,
) -> BlockAttribution:
    """Attribute a parsed block after checking that its transactions match the header's merkle root.

    ``height`` defaults to the BIP 34 height in the coinbase (None for older blocks).
    """
    if not block.transactions:
        raise NetworkError("a block without transactions has no coinbase")
    if block_merkle_root(block) != block.header.merkle_root:
        raise NetworkError("the block's transactions do not match its header's merkle root")
    coinbase = block.transactions[0]
    if not coinbase.inputs:
        raise NetworkError("the first transaction has no input, so it is not a coinbase")
    script_sig = coinbase.inputs[0].script_sig
    addresses = coinbase_payout_addresses(coinbase, chain=chain)
    found = _match(script_sig, addresses, pools)
    return BlockAttribution(
        height=coinbase_height(block) if height is None else height,
        block_hash=header_hash_hex(block.header),
        time_utc=dt.datetime.fromtimestamp(block.header.time, tz=dt.UTC),
        pool=None if found is None else found[0].name,
        pool_id=None if found is None else found[0].id,
        matched_by=None if found is None else found[1],
        payout_addresses=tuple(addresses),
        coinbase_ascii="".join(c if 32 <= ord(c) < 127 else "." for c in script_sig.decode("latin-1")),
    )


def attribute_blocks_from_node(
    client: RpcCaller,
    heights: Sequence[int],
    *,
    chain: Chain = "mainnet",
    pools: tuple[Pool, ...] | None = None,
) -> list[BlockAttribution]:
    """Fetch blocks by height from a node (``getblockhash``, ``getblock <hash> 0``) and attribute them.

    Each raw block is checked: its header must hash to the hash the node named, and its
    transactions must match the merkle root, before the coinbase is trusted.
    """
    results = []
    for height in heights:
        if height < 0:
            raise NetworkInputError(f"height must be >= 0, got {height}")
        block_hash = str(client.call("getblockhash", int(height)))
        raw = client.call("getblock", block_hash, 0)
        if not isinstance(raw, str):
            raise NetworkError(f"getblock {block_hash}: expected raw block hex (verbosity 0)")
        block = Block.from_hex(raw)
        if header_hash_hex(block.header) != block_hash:
            raise NetworkError(f"the node returned a block whose header does not hash to {block_hash}")
        results.append(attribute_full_block(block, height=int(height), chain=chain, pools=pools))
    return results


__all__ = [
    "BlockAttribution",
    "Chain",
    "MatchKind",
    "RpcCaller",
    "attribute_block",
    "attribute_blocks_from_node",
    "attribute_coinbase",
    "attribute_full_block",
    "base58check_encode",
    "coinbase_height",
    "coinbase_payout_addresses",
    "coinbase_text",
    "script_to_address",
    "segwit_address",
]

"""Attribute a block to a mining pool from its coinbase: payout addresses first, then coinbase tags.

mempool.space's ``pools-v2.json`` lists, per pool, payout addresses and coinbase tags (regular
expressions matched case-insensitively against the coinbase scriptSig as text). A payout
address is an unambiguous payment to the pool, so it is tried first; tags are then tried in the
list's order and the first match wins (mempool.space checks both per pool in list order; the
two orders agree on the blocks tested here).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from hashwatt.chain import (
    Block,
    Transaction,
    block_merkle_root,
    header_hash_hex,
    push_int,
    script_to_address,
)
from hashwatt.data.pools import Pool, load_pools
from hashwatt.network.errors import NetworkError, NetworkInputError

Chain = Literal["mainnet", "testnet"]


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
        raise NetworkInputError(
            "coinbase_script_sig must be bytes",
            field="coinbase_script_sig",
            value=type(coinbase_script_sig).__name__,
        )
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
        address = script_to_address(output.script_pubkey, chain)
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
            raise NetworkInputError(f"height must be >= 0, got {height}", field="height", value=height)
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
    "coinbase_height",
    "coinbase_payout_addresses",
    "coinbase_text",
    "script_to_address",
]

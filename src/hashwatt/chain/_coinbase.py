"""Coinbase construction: BIP 34 height, tag, extranonce split for Stratum, payout and commitment.

Stratum miners receive the coinbase as ``coinb1`` and ``coinb2`` and splice
``extranonce1 || extranonce2`` between them; both halves are the non-witness serialization,
because the merkle tree commits to txids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hashwatt.chain._codec import compact_size_bytes, i32_le, i64_le, u32_le, var_bytes
from hashwatt.chain._merkle import WITNESS_RESERVED_VALUE, witness_commitment_script
from hashwatt.chain._script import push_data, push_int
from hashwatt.chain._supply import check_height
from hashwatt.chain._transaction import COINBASE_VOUT, NULL_HASH, OutPoint, Transaction, TxIn, TxOut
from hashwatt.errors import ChainInputError

#: Consensus bounds on the coinbase scriptSig length (Core: bad-cb-length) [bytes].
COINBASE_SCRIPT_MIN = 2
COINBASE_SCRIPT_MAX = 100


@dataclass(frozen=True, slots=True)
class CoinbaseParts:
    """A coinbase split around its extranonce, as Stratum's mining.notify carries it."""

    coinb1: bytes
    coinb2: bytes
    extranonce1_size: int
    extranonce2_size: int
    segwit: bool

    def assemble(self, extranonce1: bytes, extranonce2: bytes) -> bytes:
        """Non-witness coinbase bytes (what is hashed into the txid)."""
        if len(extranonce1) != self.extranonce1_size or len(extranonce2) != self.extranonce2_size:
            raise ChainInputError(
                f"extranonce sizes must be {self.extranonce1_size}+{self.extranonce2_size} bytes, "
                f"got {len(extranonce1)}+{len(extranonce2)}",
                field="extranonce",
                value=(len(extranonce1), len(extranonce2)),
            )
        return self.coinb1 + extranonce1 + extranonce2 + self.coinb2

    def transaction(self, extranonce1: bytes, extranonce2: bytes) -> Transaction:
        """The coinbase transaction, with the witness reserved value when the block commits to witnesses."""
        tx = Transaction.from_bytes(self.assemble(extranonce1, extranonce2))
        if not self.segwit:
            return tx
        txin = tx.inputs[0]
        with_witness = TxIn(txin.prevout, txin.script_sig, txin.sequence, (WITNESS_RESERVED_VALUE,))
        return Transaction(tx.version, (with_witness,), tx.outputs, tx.locktime)


def coinbase_outputs(
    payout_script: bytes, reward_sat: int, *, witness_commitment: bytes | None = None
) -> list[TxOut]:
    """The payout output, then (if given) the zero-value witness commitment output."""
    if reward_sat < 0:
        raise ChainInputError(
            f"coinbase reward must be >= 0 sat, got {reward_sat}", field="reward_sat", value=reward_sat
        )
    outputs = [TxOut(reward_sat, payout_script)]
    if witness_commitment is not None:
        outputs.append(TxOut(0, witness_commitment_script(witness_commitment)))
    return outputs


def coinbase_script_prefix(height: int, tag: bytes = b"") -> bytes:
    """scriptSig start: the BIP 34 height push, then the tag as one data push."""
    check_height(height)
    return push_int(height) + (push_data(tag) if tag else b"")


def build_coinbase(
    height: int,
    outputs: Sequence[TxOut],
    *,
    tag: bytes = b"",
    extranonce1_size: int = 4,
    extranonce2_size: int = 4,
    segwit: bool = False,
    version: int = 1,
    sequence: int = 0xFFFFFFFF,
    locktime: int = 0,
) -> CoinbaseParts:
    """Coinbase with a placeholder of ``extranonce1_size + extranonce2_size`` bytes in its scriptSig.

    The scriptSig is ``<height> [<tag>] <push of extranonce1||extranonce2>``, a push-only script.
    ``segwit`` marks a block that carries a witness commitment (its coinbase then gets the
    witness reserved value as its single witness item).
    """
    if extranonce1_size < 0 or extranonce2_size < 0:
        raise ChainInputError(
            f"extranonce sizes must be >= 0, got {extranonce1_size}+{extranonce2_size}",
            field="extranonce_size",
            value=(extranonce1_size, extranonce2_size),
        )
    if not outputs:
        raise ChainInputError("a coinbase needs at least one output", field="outputs", value=0)
    extranonce_size = extranonce1_size + extranonce2_size
    prefix = coinbase_script_prefix(height, tag)
    if extranonce_size:
        if extranonce_size >= 0x4C:
            raise ChainInputError(
                f"extranonce of {extranonce_size} bytes is longer than 75",
                field="extranonce_size",
                value=extranonce_size,
            )
        prefix += bytes((extranonce_size,))
    script_len = len(prefix) + extranonce_size
    if not COINBASE_SCRIPT_MIN <= script_len <= COINBASE_SCRIPT_MAX:
        raise ChainInputError(
            f"coinbase scriptSig would be {script_len} bytes; consensus allows "
            f"{COINBASE_SCRIPT_MIN}..{COINBASE_SCRIPT_MAX} (shorten the tag)",
            field="script_sig",
            value=script_len,
        )
    coinb1 = b"".join(
        (
            i32_le(version),  # nVersion
            compact_size_bytes(1),  # one input
            NULL_HASH,  # prevout txid: all zeros
            u32_le(COINBASE_VOUT),  # prevout index 0xffffffff
            compact_size_bytes(script_len),  # scriptSig length covers the extranonce
            prefix,
        )
    )
    coinb2 = b"".join(
        (
            u32_le(sequence),  # nSequence
            compact_size_bytes(len(outputs)),
            *(i64_le(o.value_sat) + var_bytes(o.script_pubkey) for o in outputs),
            u32_le(locktime),  # nLockTime
        )
    )
    return CoinbaseParts(coinb1, coinb2, extranonce1_size, extranonce2_size, segwit)


def simple_coinbase(
    height: int,
    outputs: Sequence[TxOut],
    *,
    script_suffix: bytes = b"",
    witness: bool = False,
) -> Transaction:
    """A whole coinbase transaction (no Stratum split): height push then ``script_suffix``."""
    script_sig = push_int(height) + script_suffix
    if len(script_sig) < COINBASE_SCRIPT_MIN:
        script_sig += b"\x00" * (COINBASE_SCRIPT_MIN - len(script_sig))
    txin = TxIn(
        OutPoint(NULL_HASH, COINBASE_VOUT),
        script_sig,
        0xFFFFFFFF,
        (WITNESS_RESERVED_VALUE,) if witness else (),
    )
    return Transaction(1, (txin,), tuple(outputs), 0)

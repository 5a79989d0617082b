"""Transactions: legacy and segwit (BIP 141/144) encodings, txid, wtxid, weight, vsize."""

from __future__ import annotations

from dataclasses import dataclass

from hashwatt.chain._codec import (
    ByteReader,
    compact_size_bytes,
    i32_le,
    i64_le,
    sha256d,
    u32_le,
    var_bytes,
)
from hashwatt.errors import DecodeError, NonCanonical

#: Weight units per non-witness byte (BIP 141 WITNESS_SCALE_FACTOR).
WITNESS_SCALE_FACTOR = 4
#: Satoshis per bitcoin (Core: COIN).
COIN = 100_000_000
#: Largest value any amount may have (Core: MAX_MONEY, 21 million BTC).
MAX_MONEY_SAT = 21_000_000 * COIN
#: The outpoint index a coinbase input carries (with an all-zero txid).
COINBASE_VOUT = 0xFFFFFFFF
NULL_HASH = bytes(32)


@dataclass(frozen=True, slots=True)
class OutPoint:
    """A reference to a transaction output (Core: COutPoint). ``txid`` is internal order."""

    txid: bytes
    vout: int

    @property
    def is_null(self) -> bool:
        """True for the coinbase's placeholder outpoint."""
        return self.txid == NULL_HASH and self.vout == COINBASE_VOUT


@dataclass(frozen=True, slots=True)
class TxIn:
    """A transaction input (Core: CTxIn) with its witness stack (empty for legacy)."""

    prevout: OutPoint
    script_sig: bytes
    sequence: int = 0xFFFFFFFF
    witness: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class TxOut:
    """A transaction output (Core: CTxOut): ``value_sat`` satoshis to ``script_pubkey``."""

    value_sat: int
    script_pubkey: bytes


@dataclass(frozen=True, slots=True)
class Transaction:
    """A Bitcoin transaction (Core: CTransaction). Hashes are functions: :func:`txid`, :func:`wtxid`."""

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int = 0

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    @property
    def is_coinbase(self) -> bool:
        return len(self.inputs) == 1 and self.inputs[0].prevout.is_null

    def to_bytes(self, *, include_witness: bool = True) -> bytes:
        """Wire encoding; BIP 144 form with marker and flag when witnesses exist."""
        segwit = include_witness and self.has_witness
        parts = [i32_le(self.version)]  # nVersion, int32 LE
        if segwit:
            parts.append(b"\x00\x01")  # marker, flag
        parts.append(compact_size_bytes(len(self.inputs)))
        for txin in self.inputs:
            parts.append(txin.prevout.txid)  # prevout hash, internal order
            parts.append(u32_le(txin.prevout.vout))  # prevout index, uint32 LE
            parts.append(var_bytes(txin.script_sig))
            parts.append(u32_le(txin.sequence))  # nSequence, uint32 LE
        parts.append(compact_size_bytes(len(self.outputs)))
        for txout in self.outputs:
            parts.append(i64_le(txout.value_sat))  # nValue, int64 LE
            parts.append(var_bytes(txout.script_pubkey))
        if segwit:
            for txin in self.inputs:
                parts.append(compact_size_bytes(len(txin.witness)))
                parts.extend(var_bytes(item) for item in txin.witness)
        parts.append(u32_le(self.locktime))  # nLockTime, uint32 LE
        return b"".join(parts)

    @classmethod
    def read_from(cls, reader: ByteReader) -> Transaction:
        """Decode one transaction from ``reader`` (Core's UnserializeTransaction rules)."""
        version = reader.i32("tx version")
        n_in = reader.compact_size("tx input count")
        flags = 0
        if n_in == 0:
            flags = reader.u8("segwit flag")
            if flags != 0:
                n_in = reader.compact_size("tx input count")
        inputs_raw = [_read_txin(reader) for _ in range(n_in)]
        n_out = reader.compact_size("tx output count")
        outputs = tuple(
            TxOut(reader.i64("output value"), reader.var_bytes("scriptPubKey")) for _ in range(n_out)
        )
        if flags & 1:
            flags ^= 1
            witnesses = [_read_witness(reader) for _ in range(n_in)]
            if not any(witnesses):
                raise NonCanonical("segwit transaction with only empty witnesses (superfluous witness)")
            inputs = tuple(
                TxIn(prevout, script_sig, sequence, wit)
                for (prevout, script_sig, sequence), wit in zip(inputs_raw, witnesses, strict=True)
            )
        else:
            inputs = tuple(
                TxIn(prevout, script_sig, sequence) for prevout, script_sig, sequence in inputs_raw
            )
        if flags:
            raise DecodeError(f"unknown transaction serialization flags 0x{flags:02x}")
        locktime = reader.u32("tx locktime")
        return cls(version, inputs, outputs, locktime)

    @classmethod
    def from_bytes(cls, data: bytes) -> Transaction:
        """Decode exactly one transaction; trailing bytes are an error."""
        reader = ByteReader(data)
        tx = cls.read_from(reader)
        reader.expect_end("transaction")
        return tx


def _read_txin(reader: ByteReader) -> tuple[OutPoint, bytes, int]:
    prev_txid = reader.read(32, "prevout txid")
    prev_vout = reader.u32("prevout index")
    script_sig = reader.var_bytes("scriptSig")
    sequence = reader.u32("sequence")
    return OutPoint(prev_txid, prev_vout), script_sig, sequence


def _read_witness(reader: ByteReader) -> tuple[bytes, ...]:
    n_items = reader.compact_size("witness item count")
    return tuple(reader.var_bytes("witness item") for _ in range(n_items))


def txid(tx: Transaction) -> bytes:
    """Transaction id: SHA256d of the non-witness serialization (internal order)."""
    return sha256d(tx.to_bytes(include_witness=False))


def wtxid(tx: Transaction) -> bytes:
    """Witness transaction id (BIP 141): SHA256d of the full serialization."""
    return sha256d(tx.to_bytes(include_witness=True))


def tx_weight(tx: Transaction) -> int:
    """Weight units (BIP 141): base size x 3 + total size."""
    base = len(tx.to_bytes(include_witness=False))
    total = len(tx.to_bytes(include_witness=True)) if tx.has_witness else base
    return base * (WITNESS_SCALE_FACTOR - 1) + total


def tx_vsize(tx: Transaction) -> int:
    """Virtual size in vbytes: weight / 4 rounded up."""
    return (tx_weight(tx) + WITNESS_SCALE_FACTOR - 1) // WITNESS_SCALE_FACTOR

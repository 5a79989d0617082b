"""Transactions: legacy and segwit (BIP 141/144) encodings, txid, wtxid, weight, vsize."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hashwatt.chain._codec import (  # the parser reads with the codec's own structs
    _I32,
    _I64,
    _U32,
    INT32_RANGE,
    INT64_RANGE,
    UINT32_RANGE,
    ByteReader,
    check_bytes,
    check_int,
    compact_size_bytes,
    i32_le,
    i64_le,
    read_compact_size,
    sha256d,
    u32_le,
    var_bytes,
)
from hashwatt.errors import DecodeError, NonCanonical, Truncated

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

    def __post_init__(self) -> None:
        check_bytes("OutPoint", "txid", self.txid, 32)
        check_int("OutPoint", "vout", self.vout, UINT32_RANGE)

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

    def __post_init__(self) -> None:
        check_int("TxIn", "sequence", self.sequence, UINT32_RANGE)


@dataclass(frozen=True, slots=True)
class TxOut:
    """A transaction output (Core: CTxOut): ``value_sat`` satoshis to ``script_pubkey``."""

    value_sat: int
    script_pubkey: bytes

    def __post_init__(self) -> None:
        # The wire range only: a negative or oversized amount is a consensus failure that
        # check_block reports (BadTransaction), not an unrepresentable value.
        check_int("TxOut", "value_sat", self.value_sat, INT64_RANGE)


@dataclass(frozen=True, slots=True)
class Transaction:
    """A Bitcoin transaction (Core: CTransaction). Hashes are functions: :func:`txid`, :func:`wtxid`."""

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int = 0
    # Encodings remembered from decoding. Not init fields, so dataclasses.replace() never carries
    # them into a changed value; the value is immutable, so they cannot go stale.
    _stripped: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _full: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int("Transaction", "version", self.version, INT32_RANGE)
        check_int("Transaction", "locktime", self.locktime, UINT32_RANGE)

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    @property
    def is_coinbase(self) -> bool:
        return len(self.inputs) == 1 and self.inputs[0].prevout.is_null

    def to_bytes(self, *, include_witness: bool = True) -> bytes:
        """Wire encoding; BIP 144 form with marker and flag when witnesses exist."""
        segwit = include_witness and self.has_witness
        cached = self._full if segwit else self._stripped
        if cached is not None:
            return cached
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
        tx, end = parse_transaction(reader.data, reader.position)
        reader.seek(end)
        return tx

    @classmethod
    def from_bytes(cls, data: bytes) -> Transaction:
        """Decode exactly one transaction; trailing bytes are an error."""
        reader = ByteReader(data)
        tx = cls.read_from(reader)
        reader.expect_end("transaction")
        return tx


#: Smallest encodings, used to refuse counts the remaining bytes cannot hold before looping.
_MIN_TXIN_SIZE = 41
_MIN_TXOUT_SIZE = 9


def _compact(buf: bytes, pos: int, what: str, min_item_size: int = 1) -> tuple[int, int]:
    """A count at ``pos`` (:func:`read_compact_size`) that also fits in what is left."""
    value = buf[pos]
    if value < 0xFD:
        pos += 1
    else:
        value, pos = read_compact_size(buf, pos, what)
    if value * min_item_size > len(buf) - pos:
        raise Truncated(
            f"truncated {what}: {value} items cannot fit in the {len(buf) - pos} bytes left",
            what=what,
            offset=pos,
            needed=value * min_item_size,
            got=len(buf) - pos,
        )
    return value, pos


def _var_bytes(buf: bytes, pos: int, what: str) -> tuple[bytes, int]:
    n = buf[pos]
    if n < 0xFD:
        pos += 1
    else:
        n, pos = _compact(buf, pos, what)
    end = pos + n
    if end > len(buf):
        raise Truncated(
            f"truncated {what}: needed {n} bytes at offset {pos}, {len(buf) - pos} left",
            what=what,
            offset=pos,
            needed=n,
            got=len(buf) - pos,
        )
    return buf[pos:end], end


# The decoder builds the wire records through their slot descriptors, skipping the frozen
# dataclass __init__ (a Python-level setattr per field); the values are identical and still frozen.
_new = object.__new__
_set_outpoint_txid = OutPoint.__dict__["txid"].__set__
_set_outpoint_vout = OutPoint.__dict__["vout"].__set__
_set_txin_prevout = TxIn.__dict__["prevout"].__set__
_set_txin_script_sig = TxIn.__dict__["script_sig"].__set__
_set_txin_sequence = TxIn.__dict__["sequence"].__set__
_set_txin_witness = TxIn.__dict__["witness"].__set__
_set_txout_value = TxOut.__dict__["value_sat"].__set__
_set_txout_script = TxOut.__dict__["script_pubkey"].__set__
_set_tx_version = Transaction.__dict__["version"].__set__
_set_tx_inputs = Transaction.__dict__["inputs"].__set__
_set_tx_outputs = Transaction.__dict__["outputs"].__set__
_set_tx_locktime = Transaction.__dict__["locktime"].__set__
_set_tx_stripped = Transaction.__dict__["_stripped"].__set__
_set_tx_full = Transaction.__dict__["_full"].__set__


def parse_transaction(buf: bytes, pos: int = 0) -> tuple[Transaction, int]:
    """Decode one transaction at ``buf[pos:]``; returns it and the offset just after it.

    Follows Core's UnserializeTransaction: an empty input list means a segwit marker, the
    next byte the flags; flag 1 means witnesses follow the outputs; other flags are errors,
    and a witness section with only empty stacks is rejected as superfluous.
    """
    start = pos
    buf_len = len(buf)
    try:
        version = _I32.unpack_from(buf, pos)[0]
        pos += 4
        body_start = pos
        n_in, pos = _compact(buf, pos, "tx input count", _MIN_TXIN_SIZE)
        flags = 0
        if n_in == 0:
            flags = buf[pos]
            pos += 1
            if flags != 0:
                body_start = pos  # the stripped form resumes at the real input count
                n_in, pos = _compact(buf, pos, "tx input count", _MIN_TXIN_SIZE)
        inputs_list: list[TxIn] = []
        for _ in range(n_in):
            prevout = _new(OutPoint)
            _set_outpoint_txid(prevout, buf[pos : pos + 32])
            _set_outpoint_vout(prevout, _U32.unpack_from(buf, pos + 32)[0])
            pos += 36
            n = buf[pos]
            if n < 0xFD:
                pos += 1
            else:
                n, pos = _compact(buf, pos, "scriptSig")
            end = pos + n
            if end > buf_len:
                raise Truncated(
                    f"truncated scriptSig: needed {n} bytes at offset {pos}, {buf_len - pos} left",
                    what="scriptSig",
                    offset=pos,
                    needed=n,
                    got=buf_len - pos,
                )
            txin = _new(TxIn)
            _set_txin_prevout(txin, prevout)
            _set_txin_script_sig(txin, buf[pos:end])
            _set_txin_sequence(txin, _U32.unpack_from(buf, end)[0])
            _set_txin_witness(txin, ())
            pos = end + 4
            inputs_list.append(txin)
        outputs: list[TxOut] = []
        if n_in or flags:
            n_out, pos = _compact(buf, pos, "tx output count", _MIN_TXOUT_SIZE)
            for _ in range(n_out):
                value = _I64.unpack_from(buf, pos)[0]
                pos += 8
                n = buf[pos]
                if n < 0xFD:
                    pos += 1
                else:
                    n, pos = _compact(buf, pos, "scriptPubKey")
                end = pos + n
                if end > buf_len:
                    raise Truncated(
                        f"truncated scriptPubKey: needed {n} bytes at offset {pos}, {buf_len - pos} left",
                        what="scriptPubKey",
                        offset=pos,
                        needed=n,
                        got=buf_len - pos,
                    )
                txout = _new(TxOut)
                _set_txout_value(txout, value)
                _set_txout_script(txout, buf[pos:end])
                pos = end
                outputs.append(txout)
        body_end = pos
        segwit = False
        if flags & 1:
            flags ^= 1
            segwit = True
            any_witness = False
            for txin in inputs_list:
                n_items, pos = _compact(buf, pos, "witness item count")
                items = []
                for _ in range(n_items):
                    item, pos = _var_bytes(buf, pos, "witness item")
                    items.append(item)
                if items:
                    any_witness = True
                    _set_txin_witness(txin, tuple(items))  # still private to this function
            if not any_witness:
                raise NonCanonical(
                    "segwit transaction with only empty witnesses (superfluous witness)",
                    what="witness",
                    offset=body_end,
                )
        if flags:
            raise DecodeError(f"unknown transaction serialization flags 0x{flags:02x}")
        locktime = _U32.unpack_from(buf, pos)[0]
        pos += 4
    except (IndexError, struct.error) as exc:
        raise Truncated(
            f"truncated transaction starting at offset {start}",
            what="transaction",
            offset=start,
            got=len(buf) - start,
        ) from exc
    # Wire values are in range by construction (int32/uint32 unpacked): __post_init__'s checks
    # are for values built by hand, so the decoder sets the slots directly.
    full = buf[start:pos]
    stripped = full if not segwit else buf[start : start + 4] + buf[body_start:body_end] + buf[pos - 4 : pos]
    keep = segwit or (flags == 0 and n_in)
    tx = _new(Transaction)
    _set_tx_version(tx, version)
    _set_tx_inputs(tx, tuple(inputs_list))
    _set_tx_outputs(tx, tuple(outputs))
    _set_tx_locktime(tx, locktime)
    _set_tx_stripped(tx, stripped if keep else None)
    _set_tx_full(tx, full if segwit else None)
    return tx, pos


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

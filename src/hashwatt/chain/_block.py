"""Full blocks (Core: CBlock): header, transactions, weight, and commitments."""

from __future__ import annotations

from dataclasses import dataclass

from hashwatt.chain._codec import ByteReader, bytes_from_hex, compact_size_bytes
from hashwatt.chain._header import HEADER_SIZE, BlockHeader
from hashwatt.chain._merkle import WITNESS_COMMITMENT_HEADER, merkle_root, witness_merkle_root
from hashwatt.chain._transaction import WITNESS_SCALE_FACTOR, Transaction, tx_weight, txid, wtxid
from hashwatt.errors import Truncated

#: Consensus limit on block weight (BIP 141 MAX_BLOCK_WEIGHT) [weight units].
MAX_BLOCK_WEIGHT = 4_000_000
#: Smallest possible transaction (no inputs are valid in blocks, so this is a decode bound) [bytes].
_MIN_TX_SIZE = 10


@dataclass(frozen=True, slots=True)
class Block:
    """A header and its transactions; the coinbase is ``transactions[0]``."""

    header: BlockHeader
    transactions: tuple[Transaction, ...]

    def to_bytes(self, *, include_witness: bool = True) -> bytes:
        parts = [self.header.to_bytes(), compact_size_bytes(len(self.transactions))]
        parts.extend(tx.to_bytes(include_witness=include_witness) for tx in self.transactions)
        return b"".join(parts)

    @classmethod
    def read_from(cls, reader: ByteReader) -> Block:
        header = BlockHeader.read_from(reader)
        return cls(header, read_transactions(reader))

    @classmethod
    def from_bytes(cls, data: bytes) -> Block:
        """Decode exactly one block; trailing bytes are an error."""
        reader = ByteReader(data)
        block = cls.read_from(reader)
        reader.expect_end("block")
        return block

    @classmethod
    def from_hex(cls, text: str) -> Block:
        return cls.from_bytes(bytes_from_hex(text))


def read_transactions(reader: ByteReader) -> tuple[Transaction, ...]:
    """A block's transaction count and transactions (after its header, or its AuxPoW proof)."""
    n_tx = reader.compact_size("transaction count")
    # A count larger than the remaining bytes could hold is rejected before any allocation.
    if n_tx * _MIN_TX_SIZE > reader.remaining:
        raise Truncated(
            f"truncated block: {n_tx} transactions cannot fit in the {reader.remaining} bytes left",
            what="block",
            offset=reader.position,
            needed=n_tx * _MIN_TX_SIZE,
            got=reader.remaining,
        )
    return tuple(Transaction.read_from(reader) for _ in range(n_tx))


def block_txids(block: Block) -> list[bytes]:
    return [txid(tx) for tx in block.transactions]


def block_wtxids(block: Block) -> list[bytes]:
    return [wtxid(tx) for tx in block.transactions]


def block_merkle_root(block: Block) -> bytes:
    """Merkle root recomputed from the transactions (compare with ``header.merkle_root``)."""
    return merkle_root(block_txids(block))


def block_witness_root(block: Block) -> bytes:
    return witness_merkle_root(block_wtxids(block))


def block_weight(block: Block) -> int:
    """Block weight [WU]: header and tx count at 4 WU a byte, plus each transaction's weight."""
    overhead = HEADER_SIZE + len(compact_size_bytes(len(block.transactions)))
    return overhead * WITNESS_SCALE_FACTOR + sum(tx_weight(tx) for tx in block.transactions)


def block_size(block: Block) -> int:
    """Serialized size with witnesses [bytes]."""
    return len(block.to_bytes())


def find_witness_commitment(coinbase: Transaction) -> bytes | None:
    """The commitment in the coinbase's last matching output (Core's GetWitnessCommitmentIndex)."""
    found: bytes | None = None
    for txout in coinbase.outputs:
        script = txout.script_pubkey
        if len(script) >= 38 and script[:6] == WITNESS_COMMITMENT_HEADER:
            found = script[6:38]
    return found

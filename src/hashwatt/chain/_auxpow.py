"""AuxPoW: the merged-mining proof a Dogecoin block carries instead of its own proof of work.

A merged-mined child block (Dogecoin) is valid when a parent block (Litecoin, or any scrypt
chain) commits to it: the parent's coinbase scriptSig holds ``fabe6d6d`` + the chain merkle root
(display byte order) + the tree size + a nonce (little-endian uint32 each); the child's block hash
folds up the chain branch to that root at the slot the nonce and chain id select; the coinbase
folds up its branch to the parent header's merkle root; and the parent header's scrypt hash meets
the child's target. Written from namecoin/Dogecoin Core's CAuxPow::check and libdohj's AuxPoW.
"""

from __future__ import annotations

from dataclasses import dataclass

from hashwatt.chain._block import Block, read_transactions
from hashwatt.chain._codec import (
    INT32_RANGE,
    ByteReader,
    check_bytes,
    check_int,
    compact_size_bytes,
    hash_to_hex,
    i32_le,
)
from hashwatt.chain._header import BlockHeader, header_hash
from hashwatt.chain._merkle import merkle_root_from_branch
from hashwatt.chain._params import ChainParams
from hashwatt.chain._target import bits_to_target, hash_meets_target
from hashwatt.chain._transaction import Transaction, txid
from hashwatt.chain._validation import validate_block
from hashwatt.errors import (
    AuxPowBadCommitment,
    AuxPowBadProofOfWork,
    AuxPowBadTreeSize,
    AuxPowBranchTooLong,
    AuxPowChainRootMissing,
    AuxPowCoinbaseNotInParent,
    AuxPowInvalid,
    AuxPowNotCoinbase,
    AuxPowParentChainId,
    AuxPowWrongIndex,
    BlockInvalid,
    ChainInputError,
    NonCanonical,
)

#: The merged-mining magic before the chain root in the parent coinbase (namecoin pchMergedMiningHeader).
MERGED_MINING_HEADER = bytes.fromhex("fabe6d6d")
#: Longest chain merkle branch a proof may carry (Core: "Aux POW chain merkle branch too long").
MAX_CHAIN_BRANCH_LEN = 30
#: Without the magic, the root must start within this many bytes of the scriptSig (legacy proofs).
LEGACY_ROOT_MAX_OFFSET = 20
#: Longest coinbase branch decoded: a 2**32-transaction parent block cannot exist.
_MAX_COINBASE_BRANCH_LEN = 32


def _read_branch(reader: ByteReader, what: str, limit: int) -> tuple[tuple[bytes, ...], int]:
    count = reader.compact_size(f"{what} length")
    if count > limit:
        raise NonCanonical(
            f"{what} has {count} hashes; at most {limit} are possible", what=what, value=count, limit=limit
        )
    hashes = tuple(reader.read(32, f"{what} hash") for _ in range(count))
    return hashes, reader.i32(f"{what} index")


@dataclass(frozen=True, slots=True)
class AuxPow:
    """The proof, fields in wire order (Core: CAuxPow, serialized after an AuxPoW block's header).

    ``coinbase_tx`` the parent's coinbase; ``parent_hash`` the parent block hash (unused by the
    checks, as in Core); ``coinbase_branch``/``coinbase_index`` the coinbase's merkle branch in
    the parent block (index must be 0); ``chain_branch``/``chain_index`` the child's branch in
    the merged-mining tree; ``parent_header`` the parent's 80-byte header. Hashes internal order.
    """

    coinbase_tx: Transaction
    parent_hash: bytes
    coinbase_branch: tuple[bytes, ...]
    coinbase_index: int
    chain_branch: tuple[bytes, ...]
    chain_index: int
    parent_header: BlockHeader

    def __post_init__(self) -> None:
        check_bytes("AuxPow", "parent_hash", self.parent_hash, 32)
        check_int("AuxPow", "coinbase_index", self.coinbase_index, INT32_RANGE)
        check_int("AuxPow", "chain_index", self.chain_index, INT32_RANGE)
        for name, branch in (("coinbase_branch", self.coinbase_branch), ("chain_branch", self.chain_branch)):
            for item in branch:
                check_bytes("AuxPow", name, item, 32)

    def to_bytes(self) -> bytes:
        return b"".join(
            [
                self.coinbase_tx.to_bytes(),  # parent coinbase transaction
                self.parent_hash,  # hashBlock, internal order
                compact_size_bytes(len(self.coinbase_branch)),
                *self.coinbase_branch,  # vMerkleBranch, internal order
                i32_le(self.coinbase_index),  # nIndex, int32 LE
                compact_size_bytes(len(self.chain_branch)),
                *self.chain_branch,  # vChainMerkleBranch, internal order
                i32_le(self.chain_index),  # nChainIndex, int32 LE
                self.parent_header.to_bytes(),  # parentBlock, 80 bytes
            ]
        )

    @classmethod
    def read_from(cls, reader: ByteReader) -> AuxPow:
        coinbase_tx = Transaction.read_from(reader)
        parent_hash = reader.read(32, "AuxPoW parent hash")
        coinbase_branch, coinbase_index = _read_branch(reader, "coinbase branch", _MAX_COINBASE_BRANCH_LEN)
        chain_branch, chain_index = _read_branch(reader, "chain branch", _MAX_COINBASE_BRANCH_LEN)
        parent_header = BlockHeader.read_from(reader)
        return cls(
            coinbase_tx,
            parent_hash,
            coinbase_branch,
            coinbase_index,
            chain_branch,
            chain_index,
            parent_header,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AuxPow:
        reader = ByteReader(data)
        proof = cls.read_from(reader)
        reader.expect_end("AuxPoW")
        return proof


@dataclass(frozen=True, slots=True)
class MergedMiningCommitment:
    """What a parent coinbase commits to: ``fabe6d6d`` + chain root + tree size + nonce.

    ``chain_root`` is in internal order (the coinbase carries it reversed, in display order);
    ``tree_size`` is 2 ** (chain branch length); ``nonce`` picks each chain's slot.
    """

    chain_root: bytes
    tree_size: int
    nonce: int

    def __post_init__(self) -> None:
        check_bytes("MergedMiningCommitment", "chain_root", self.chain_root, 32)
        check_int("MergedMiningCommitment", "tree_size", self.tree_size, INT32_RANGE)
        check_int("MergedMiningCommitment", "nonce", self.nonce, (0, 0xFFFFFFFF))

    def to_bytes(self) -> bytes:
        """The 44 bytes a pool puts in the parent coinbase scriptSig."""
        return b"".join(
            [
                MERGED_MINING_HEADER,  # magic
                self.chain_root[::-1],  # chain merkle root, display order
                i32_le(self.tree_size),  # tree size, int32 LE
                self.nonce.to_bytes(4, "little"),  # nonce, uint32 LE
            ]
        )


def find_merged_mining_commitment(script_sig: bytes) -> MergedMiningCommitment | None:
    """The commitment after the first ``fabe6d6d`` in a coinbase scriptSig, or None if there is none
    (or it is cut short). Reading only: :func:`check_auxpow` applies the rules."""
    at = script_sig.find(MERGED_MINING_HEADER)
    body = (
        script_sig[at + len(MERGED_MINING_HEADER) : at + len(MERGED_MINING_HEADER) + 40] if at >= 0 else b""
    )
    if len(body) < 40:
        return None
    return MergedMiningCommitment(
        chain_root=body[:32][::-1],
        tree_size=int.from_bytes(body[32:36], "little", signed=True),
        nonce=int.from_bytes(body[36:40], "little"),
    )


def expected_chain_index(nonce: int, chain_id: int, branch_len: int) -> int:
    """The slot a chain takes in the merged-mining tree (Core: CAuxPow::getExpectedIndex).

    A linear congruential step over the commitment's nonce and the chain id, in uint32
    arithmetic, modulo the tree size, so no chain can claim two slots in one tree.
    """
    rand = (nonce * 1103515245 + 12345) & 0xFFFFFFFF
    rand = (rand + chain_id) & 0xFFFFFFFF
    rand = (rand * 1103515245 + 12345) & 0xFFFFFFFF
    return rand % (1 << branch_len)


def chain_id_of(version: int) -> int:
    """The chain id a block version carries in its upper 16 bits (Core: CPureBlockHeader::GetChainId)."""
    return (version & 0xFFFFFFFF) >> 16


def check_auxpow(proof: AuxPow, aux_block_hash: bytes, bits: int, params: ChainParams) -> None:
    """Validate ``proof`` for the child block with hash ``aux_block_hash`` (internal order) and ``bits``.

    Runs Core's checks in Core's order (CAuxPow::check, then the parent's proof of work against
    the child's target) and raises the :class:`~hashwatt.errors.AuxPowInvalid` subclass of the
    first that fails; returns None when the proof holds.
    """
    if params.auxpow is None:
        raise ChainInputError(f"{params.name} is not a merged-mined chain", field="params", value=params.name)
    check_bytes("check_auxpow", "aux_block_hash", aux_block_hash, 32)
    chain_id = params.auxpow.chain_id
    if proof.coinbase_index != 0 or not proof.coinbase_tx.is_coinbase:
        raise AuxPowNotCoinbase(
            "the AuxPoW transaction is not the parent block's coinbase",
            expected=0,
            actual=proof.coinbase_index,
        )
    parent_chain_id = chain_id_of(proof.parent_header.version)
    if parent_chain_id == chain_id:
        raise AuxPowParentChainId(
            f"the AuxPoW parent block has this chain's own id 0x{chain_id:04x}", actual=parent_chain_id
        )
    height = len(proof.chain_branch)
    if height > MAX_CHAIN_BRANCH_LEN:
        raise AuxPowBranchTooLong(
            f"AuxPoW chain merkle branch has {height} levels, at most {MAX_CHAIN_BRANCH_LEN}",
            expected=MAX_CHAIN_BRANCH_LEN,
            actual=height,
        )
    chain_root = merkle_root_from_branch(aux_block_hash, proof.chain_branch, proof.chain_index)
    coinbase_root = merkle_root_from_branch(
        txid(proof.coinbase_tx), proof.coinbase_branch, proof.coinbase_index
    )
    if coinbase_root != proof.parent_header.merkle_root:
        raise AuxPowCoinbaseNotInParent(
            "the AuxPoW coinbase branch does not lead to the parent header's merkle root",
            expected=hash_to_hex(proof.parent_header.merkle_root),
            actual=hash_to_hex(coinbase_root),
        )
    script = proof.coinbase_tx.inputs[0].script_sig
    root_bytes = chain_root[::-1]  # the coinbase carries the root in display order
    root_at = script.find(root_bytes)
    if root_at < 0:
        raise AuxPowChainRootMissing(
            "the parent coinbase does not commit to this block's chain merkle root", expected=root_bytes.hex()
        )
    magic_at = script.find(MERGED_MINING_HEADER)
    if magic_at >= 0:
        if script.find(MERGED_MINING_HEADER, magic_at + 1) >= 0:
            raise AuxPowBadCommitment("the parent coinbase holds more than one merged-mining header")
        if magic_at + len(MERGED_MINING_HEADER) != root_at:
            raise AuxPowBadCommitment(
                "the merged-mining header is not just before the chain merkle root",
                expected=root_at - len(MERGED_MINING_HEADER),
                actual=magic_at,
            )
    elif root_at > LEGACY_ROOT_MAX_OFFSET:
        raise AuxPowBadCommitment(
            f"without a merged-mining header the chain root must start in the first "
            f"{LEGACY_ROOT_MAX_OFFSET} bytes of the parent coinbase",
            expected=LEGACY_ROOT_MAX_OFFSET,
            actual=root_at,
        )
    tail = script[root_at + 32 : root_at + 40]
    if len(tail) < 8:
        raise AuxPowBadTreeSize(
            "the parent coinbase lacks the merged-mining tree size and nonce after the root"
        )
    size = int.from_bytes(tail[:4], "little", signed=True)
    if size != 1 << height:
        raise AuxPowBadTreeSize(
            "the merged-mining tree size in the parent coinbase does not match the chain branch",
            expected=1 << height,
            actual=size,
        )
    nonce = int.from_bytes(tail[4:8], "little")
    slot = expected_chain_index(nonce, chain_id, height)
    if proof.chain_index != slot:
        raise AuxPowWrongIndex(
            "the chain branch is not at the slot the commitment nonce and chain id select",
            expected=slot,
            actual=proof.chain_index,
        )
    parent_pow = params.pow_hash(proof.parent_header)
    target = bits_to_target(bits)
    if not hash_meets_target(parent_pow, target):
        raise AuxPowBadProofOfWork(
            "the AuxPoW parent header's proof-of-work hash is above this block's target",
            expected=f"{target:064x}",
            actual=hash_to_hex(parent_pow),
        )


@dataclass(frozen=True, slots=True)
class AuxPowBlock:
    """A merged-mined child block as its chain relays it (Dogecoin Core: a CBlock whose version
    carries the AuxPoW flag): the 80-byte header, the :class:`AuxPow` proof, then the
    transactions. ``block`` is the same block without the proof (for the checks that do not
    read the proof of work)."""

    header: BlockHeader
    auxpow: AuxPow
    transactions: tuple[Transaction, ...]

    @property
    def block(self) -> Block:
        return Block(self.header, self.transactions)

    def to_bytes(self) -> bytes:
        return b"".join(
            [
                self.header.to_bytes(),  # child header, 80 bytes
                self.auxpow.to_bytes(),  # CAuxPow
                compact_size_bytes(len(self.transactions)),  # transaction count
                *(tx.to_bytes() for tx in self.transactions),  # transactions, wire order
            ]
        )

    @classmethod
    def read_from(cls, reader: ByteReader) -> AuxPowBlock:
        header = BlockHeader.read_from(reader)
        auxpow = AuxPow.read_from(reader)
        return cls(header, auxpow, read_transactions(reader))

    @classmethod
    def from_bytes(cls, data: bytes) -> AuxPowBlock:
        reader = ByteReader(data)
        block = cls.read_from(reader)
        reader.expect_end("AuxPoW block")
        return block


def validate_auxpow_block(
    block: AuxPowBlock,
    params: ChainParams,
    *,
    height: int | None = None,
    fees_sat: int | None = None,
    now: int | None = None,
) -> list[BlockInvalid]:
    """Every rule a merged-mined block breaks (empty: valid): the block checks of
    :func:`~hashwatt.chain.validate_block` without its own proof of work, then the proof
    (:func:`check_auxpow` against the block's hash and bits). A chain without AuxPoW, or a
    header without the AuxPoW version flag or with another chain's id, is refused."""
    aux = params.auxpow
    if aux is None:
        raise ChainInputError(f"{params.name} is not a merged-mined chain", field="params", value=params.name)
    errors = validate_block(
        block.block, height=height, fees_sat=fees_sat, now=now, check_pow=False, params=params
    )
    version = block.header.version & 0xFFFFFFFF
    if not version & aux.version_flag or chain_id_of(version) != aux.chain_id:
        errors.append(
            AuxPowParentChainId(
                f"block version {version:08x} lacks the AuxPoW flag 0x{aux.version_flag:x} "
                f"or chain id 0x{aux.chain_id:04x}",
                expected=aux.chain_id,
                actual=chain_id_of(version),
            )
        )
    try:
        check_auxpow(block.auxpow, header_hash(block.header), block.header.bits, params)
    except AuxPowInvalid as exc:
        errors.append(exc)
    return errors

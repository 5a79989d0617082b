"""Merkle trees: roots, the coinbase branch Stratum sends, and BIP 141 witness commitments."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from hashwatt.chain._codec import sha256d
from hashwatt.errors import ChainInputError

#: scriptPubKey prefix of the witness commitment output: OP_RETURN, push 36, 0xaa21a9ed (BIP 141).
WITNESS_COMMITMENT_HEADER = bytes.fromhex("6a24aa21a9ed")
#: The witness reserved value committed alongside the witness root (32 zero bytes by convention).
WITNESS_RESERVED_VALUE = bytes(32)


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    """Merkle root of internal-order hashes; an odd level pairs its last hash with itself.

    An empty list has the all-zero root, as in Core's ComputeMerkleRoot.
    """
    if not hashes:
        return bytes(32)
    level = list(hashes)
    sha = hashlib.sha256
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        it = iter(level)
        level = [sha(sha(a + b).digest()).digest() for a, b in zip(it, it, strict=True)]
    return level[0]


def merkle_branch(hashes: Sequence[bytes], index: int = 0) -> list[bytes]:
    """Sibling hashes from leaf ``index`` up to the root (for index 0: Stratum's merkle_branch)."""
    if not 0 <= index < len(hashes):
        raise ChainInputError(
            f"leaf {index} outside a tree of {len(hashes)} leaves", field="index", value=index
        )
    branch: list[bytes] = []
    level = list(hashes)
    sha = hashlib.sha256
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        branch.append(level[index ^ 1])
        it = iter(level)
        level = [sha(sha(a + b).digest()).digest() for a, b in zip(it, it, strict=True)]
        index >>= 1
    return branch


def merkle_root_from_branch(leaf: bytes, branch: Sequence[bytes], index: int = 0) -> bytes:
    """Fold a leaf up its branch (what a miner does with the coinbase hash and merkle_branch)."""
    node = leaf
    for sibling in branch:
        node = sha256d(sibling + node) if index & 1 else sha256d(node + sibling)
        index >>= 1
    return node


def witness_merkle_root(wtxids: Sequence[bytes]) -> bytes:
    """BIP 141 witness root: the merkle root of wtxids with the coinbase's replaced by zeros."""
    if not wtxids:
        return bytes(32)
    return merkle_root([bytes(32), *wtxids[1:]])


def witness_commitment(witness_root: bytes, reserved_value: bytes = WITNESS_RESERVED_VALUE) -> bytes:
    """The 32-byte commitment: SHA256d(witness root || witness reserved value)."""
    return sha256d(witness_root + reserved_value)


def witness_commitment_script(commitment: bytes) -> bytes:
    """The coinbase output scriptPubKey carrying ``commitment`` (OP_RETURN 0xaa21a9ed...)."""
    return WITNESS_COMMITMENT_HEADER + commitment

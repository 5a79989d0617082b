"""Dogecoin AuxPoW: the real proof validates; every tampered field fails with its own typed error."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.chain import (
    DOGE,
    LTC,
    MERGED_MINING_HEADER,
    AuxPow,
    BlockHeader,
    MergedMiningCommitment,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    chain_id_of,
    check_auxpow,
    expected_chain_index,
    find_merged_mining_commitment,
    hash_from_hex,
    hash_to_hex,
    header_hash,
    merkle_branch,
    merkle_root,
    merkle_root_from_branch,
    push_int,
    sha256d,
    txid,
)
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
    BadProofOfWork,
    ChainError,
    ChainInputError,
    DecodeError,
    NonCanonical,
    TrailingBytes,
    Truncated,
)
from tests.chain._fixtures import CHAIN_DATA

DOGE_BITS = 0x1B06F8F0


@lru_cache(maxsize=1)
def _vector() -> dict[str, object]:
    return dict(json.loads((CHAIN_DATA / "doge_auxpow_vector.json").read_text()))


def _raw() -> bytes:
    return bytes.fromhex(str(_vector()["auxpow_hex"]))


def _proof() -> AuxPow:
    return AuxPow.from_bytes(_raw())


def _aux_hash() -> bytes:
    """The Dogecoin block the proof is for (display hash in the vector's description)."""
    return hash_from_hex("0c836b86991631d34a8a68054e2f62db919b39d1ee43c27ab3344d6aa82fa609")


def _check(proof: AuxPow, *, aux_hash: bytes | None = None, bits: int = DOGE_BITS) -> None:
    check_auxpow(proof, _aux_hash() if aux_hash is None else aux_hash, bits, DOGE)


def _with_script(proof: AuxPow, script_sig: bytes) -> AuxPow:
    """The proof with another parent coinbase scriptSig, and the parent merkle root rebuilt to match,
    so the coinbase-branch check passes and the commitment checks behind it are reached."""
    tx = proof.coinbase_tx
    new_in = dataclasses.replace(tx.inputs[0], script_sig=script_sig)
    new_tx = Transaction(tx.version, (new_in, *tx.inputs[1:]), tx.outputs, tx.locktime)
    root = merkle_root_from_branch(txid(new_tx), proof.coinbase_branch, proof.coinbase_index)
    parent = dataclasses.replace(proof.parent_header, merkle_root=root)
    return dataclasses.replace(proof, coinbase_tx=new_tx, parent_header=parent)


def _script() -> bytes:
    return _proof().coinbase_tx.inputs[0].script_sig


def _magic_at() -> int:
    return _script().index(MERGED_MINING_HEADER)


# -- the real proof ------------------------------------------------------------------------------


def test_real_proof_decodes_and_round_trips() -> None:
    proof = _proof()
    vector = _vector()
    assert proof.to_bytes() == _raw()
    assert hash_to_hex(txid(proof.coinbase_tx)) == vector["coinbase_txid"]
    assert proof.parent_header.to_bytes().hex() == vector["parent_header_hex"]
    assert len(proof.coinbase_branch) == vector["coinbase_branch_len"]
    assert len(proof.chain_branch) == vector["chain_branch_len"]
    assert proof.chain_index == vector["chain_index"]
    assert hash_to_hex(DOGE.pow_hash(proof.parent_header)) == vector["parent_scrypt_pow_hash"]


def test_real_proof_validates() -> None:
    proof = _proof()
    _check(proof)  # raises on any failure
    # The slot the commitment's nonce selects for chain id 0x0062 in a 2**6 tree is the proof's 56.
    tail = _script()[_magic_at() + 36 : _magic_at() + 44]
    assert int.from_bytes(tail[:4], "little") == 64
    assert expected_chain_index(int.from_bytes(tail[4:], "little"), 0x0062, 6) == 56
    assert chain_id_of(proof.parent_header.version) == 0  # a Litecoin-style parent, version 2


def test_only_a_merged_mined_chain_takes_a_proof() -> None:
    with pytest.raises(ChainInputError, match="not a merged-mined chain"):
        check_auxpow(_proof(), _aux_hash(), DOGE_BITS, LTC)


# -- each tampered field, its own error ------------------------------------------------------------


def test_coinbase_index_not_zero() -> None:
    with pytest.raises(AuxPowNotCoinbase) as err:
        _check(dataclasses.replace(_proof(), coinbase_index=1))
    assert err.value.actual == 1 and err.value.expected == 0


def test_parent_transaction_not_a_coinbase() -> None:
    proof = _proof()
    tx = proof.coinbase_tx
    spend = TxIn(dataclasses.replace(tx.inputs[0].prevout, vout=0), tx.inputs[0].script_sig)
    with pytest.raises(AuxPowNotCoinbase):
        _check(
            dataclasses.replace(proof, coinbase_tx=Transaction(tx.version, (spend,), tx.outputs, tx.locktime))
        )


def test_parent_with_our_chain_id() -> None:
    proof = _proof()
    parent = dataclasses.replace(proof.parent_header, version=(0x0062 << 16) | 2)
    with pytest.raises(AuxPowParentChainId) as err:
        _check(dataclasses.replace(proof, parent_header=parent))
    assert err.value.actual == 0x0062


def test_chain_branch_too_long() -> None:
    proof = _proof()
    with pytest.raises(AuxPowBranchTooLong) as err:
        _check(dataclasses.replace(proof, chain_branch=proof.chain_branch * 6))  # 36 levels
    assert err.value.actual == 36


@pytest.mark.parametrize("level", [0, 1, 2])
def test_coinbase_branch_hash(level: int) -> None:
    proof = _proof()
    branch = list(proof.coinbase_branch)
    branch[level] = bytes(32)
    with pytest.raises(AuxPowCoinbaseNotInParent) as err:
        _check(dataclasses.replace(proof, coinbase_branch=tuple(branch)))
    assert err.value.expected == hash_to_hex(proof.parent_header.merkle_root)


def test_parent_merkle_root() -> None:
    proof = _proof()
    parent = dataclasses.replace(proof.parent_header, merkle_root=bytes(32))
    with pytest.raises(AuxPowCoinbaseNotInParent):
        _check(dataclasses.replace(proof, parent_header=parent))


def test_coinbase_script_without_rebuilt_root() -> None:
    script = bytearray(_script())
    script[-1] ^= 1
    tx = _proof().coinbase_tx
    new_tx = Transaction(
        tx.version, (dataclasses.replace(tx.inputs[0], script_sig=bytes(script)),), tx.outputs, tx.locktime
    )
    with pytest.raises(AuxPowCoinbaseNotInParent):
        _check(dataclasses.replace(_proof(), coinbase_tx=new_tx))


def test_proof_for_another_block() -> None:
    other = bytearray(_aux_hash())
    other[0] ^= 1
    with pytest.raises(AuxPowChainRootMissing):
        _check(_proof(), aux_hash=bytes(other))


@pytest.mark.parametrize("level", [0, 3, 5])
def test_chain_branch_hash(level: int) -> None:
    proof = _proof()
    branch = list(proof.chain_branch)
    branch[level] = bytes(32)
    with pytest.raises(AuxPowChainRootMissing):
        _check(dataclasses.replace(proof, chain_branch=tuple(branch)))


def test_chain_index() -> None:
    with pytest.raises(AuxPowChainRootMissing):
        _check(dataclasses.replace(_proof(), chain_index=57))


def test_commitment_root_byte() -> None:
    script = bytearray(_script())
    script[_magic_at() + 4] ^= 1  # first byte of the committed chain root
    with pytest.raises(AuxPowChainRootMissing):
        _check(_with_script(_proof(), bytes(script)))


def test_commitment_magic_repeated() -> None:
    with pytest.raises(AuxPowBadCommitment):
        _check(_with_script(_proof(), _script() + MERGED_MINING_HEADER))


def test_commitment_magic_not_adjacent() -> None:
    script = _script()
    at = _magic_at()
    moved = script[:at] + MERGED_MINING_HEADER + b"\x00" + script[at + 4 :]
    with pytest.raises(AuxPowBadCommitment) as err:
        _check(_with_script(_proof(), moved))
    assert err.value.actual == at and err.value.expected == at + 1


def test_commitment_without_magic_too_late() -> None:
    script = _script()
    at = _magic_at()
    late = script[:at] + bytes(20) + script[at + 4 :]  # no magic; root now at offset > 20
    with pytest.raises(AuxPowBadCommitment):
        _check(_with_script(_proof(), late))


def test_commitment_without_magic_early_is_accepted_structurally() -> None:
    """The legacy form (root within 20 bytes, no magic) passes every commitment check; the rebuilt
    parent then fails only its proof of work, which proves the structural checks all passed."""
    script = _script()
    at = _magic_at()
    legacy = script[:at] + script[at + 4 :]
    with pytest.raises(AuxPowBadProofOfWork):
        _check(_with_script(_proof(), legacy))


def test_commitment_tree_size() -> None:
    script = bytearray(_script())
    size_at = _magic_at() + 36
    script[size_at : size_at + 4] = (32).to_bytes(4, "little")
    with pytest.raises(AuxPowBadTreeSize) as err:
        _check(_with_script(_proof(), bytes(script)))
    assert err.value.expected == 64 and err.value.actual == 32


def test_commitment_truncated_after_root() -> None:
    script = _script()
    with pytest.raises(AuxPowBadTreeSize):
        _check(_with_script(_proof(), script[: _magic_at() + 36 + 6]))


def test_commitment_nonce() -> None:
    script = bytearray(_script())
    nonce_at = _magic_at() + 40
    nonce = int.from_bytes(script[nonce_at : nonce_at + 4], "little")
    new_nonce = next(n for n in range(nonce + 1, nonce + 100) if expected_chain_index(n, 0x0062, 6) != 56)
    script[nonce_at : nonce_at + 4] = new_nonce.to_bytes(4, "little")
    with pytest.raises(AuxPowWrongIndex) as err:
        _check(_with_script(_proof(), bytes(script)))
    assert err.value.actual == 56 and err.value.expected == expected_chain_index(new_nonce, 0x0062, 6)


def test_parent_header_nonce() -> None:
    proof = _proof()
    parent = dataclasses.replace(proof.parent_header, nonce=proof.parent_header.nonce ^ 1)
    with pytest.raises(AuxPowBadProofOfWork) as err:
        _check(dataclasses.replace(proof, parent_header=parent))
    assert isinstance(err.value, BadProofOfWork)  # also a plain proof-of-work failure for callers


def test_child_target_harder_than_parent_work() -> None:
    # The parent's scrypt hash 0x0000000000003178b... meets 0x1b06f8f0 but not a target 2**16 times harder.
    with pytest.raises(AuxPowBadProofOfWork):
        _check(_proof(), bits=0x1906F8F0)


# -- decoding -------------------------------------------------------------------------------------


def test_decode_errors() -> None:
    raw = _raw()
    with pytest.raises(Truncated):
        AuxPow.from_bytes(raw[:-1])
    with pytest.raises(TrailingBytes):
        AuxPow.from_bytes(raw + b"\x00")
    proof = _proof()
    at = len(proof.coinbase_tx.to_bytes()) + 32  # the coinbase branch's CompactSize count
    with pytest.raises(NonCanonical):
        AuxPow.from_bytes(raw[:at] + b"\xfd\x00\x01" + raw[at + 1 :])


def test_every_single_byte_change_is_rejected() -> None:
    """Flip one bit in each byte of the real proof: each variant fails to decode or to validate,
    except within the parent hash, which (as in Core) no check reads."""
    raw = _raw()
    proof = _proof()
    parent_hash_at = len(proof.coinbase_tx.to_bytes())
    unused = range(parent_hash_at, parent_hash_at + 32)
    for i in range(len(raw)):
        mutated = bytearray(raw)
        mutated[i] ^= 0x01
        if i in unused:
            _check(AuxPow.from_bytes(bytes(mutated)))
            continue
        with pytest.raises(ChainError):
            _check(AuxPow.from_bytes(bytes(mutated)))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_fail_with_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        AuxPow.from_bytes(data)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=700), st.binary(min_size=1, max_size=8))
def test_spliced_bytes_never_validate_silently(position: int, insert: bytes) -> None:
    raw = _raw()
    position = min(position, len(raw))
    mutated = raw[:position] + insert + raw[position:]
    try:
        proof = AuxPow.from_bytes(mutated)
    except DecodeError:
        return
    with pytest.raises(AuxPowInvalid):
        _check(proof)


def test_header_type_is_shared() -> None:
    assert isinstance(_proof().parent_header, BlockHeader)


# -- building a proof, as a merged-mining pool will ----------------------------------------------


def test_commitment_read_from_the_real_coinbase() -> None:
    proof = _proof()
    found = find_merged_mining_commitment(_script())
    assert found is not None
    assert found.tree_size == 64
    assert found.chain_root == merkle_root_from_branch(_aux_hash(), proof.chain_branch, proof.chain_index)
    assert found.to_bytes() == _script()[_magic_at() : _magic_at() + 44]
    assert find_merged_mining_commitment(_script()[: _magic_at() + 40]) is None  # cut short
    assert find_merged_mining_commitment(b"\x03\x86\xf6\x09") is None


def test_built_proof_for_two_merged_chains_validates() -> None:
    """A pool's view: two child chains in one 2-slot tree, a parent coinbase committing to it,
    a parent header mined (scrypt) to an easy target; the validator accepts the proof."""
    doge_hash = sha256d(b"a dogecoin block")
    other_id = 0x0001
    nonce = next(
        n for n in range(100) if expected_chain_index(n, 0x0062, 1) != expected_chain_index(n, other_id, 1)
    )
    slot = expected_chain_index(nonce, 0x0062, 1)
    leaves = [bytes(32), bytes(32)]
    leaves[slot] = doge_hash
    leaves[1 - slot] = sha256d(b"another chain's block")
    commitment = MergedMiningCommitment(chain_root=merkle_root(leaves), tree_size=2, nonce=nonce)
    script = push_int(3_000_000) + commitment.to_bytes() + b"hashwatt"
    coinbase = Transaction(1, (TxIn(OutPoint(bytes(32), 0xFFFFFFFF), script),), (TxOut(25 * 10**8, b"\x51"),))
    easy_bits = 0x207FFFFF
    parent = BlockHeader(0x20000000, bytes(32), txid(coinbase), 1_700_000_000, easy_bits, 0)
    while not DOGE.header_meets_target(parent):
        parent = dataclasses.replace(parent, nonce=parent.nonce + 1)
    proof = AuxPow(
        coinbase_tx=coinbase,
        parent_hash=header_hash(parent),
        coinbase_branch=(),
        coinbase_index=0,
        chain_branch=tuple(merkle_branch(leaves, slot)),
        chain_index=slot,
        parent_header=parent,
    )
    assert AuxPow.from_bytes(proof.to_bytes()) == proof
    check_auxpow(proof, doge_hash, easy_bits, DOGE)
    # The other chain's slot with Dogecoin's hash is not Dogecoin's proof.
    with pytest.raises(AuxPowChainRootMissing):
        check_auxpow(dataclasses.replace(proof, chain_index=1 - slot), doge_hash, easy_bits, DOGE)
    # Real Dogecoin difficulty: this parent's work is nowhere near enough.
    with pytest.raises(AuxPowBadProofOfWork):
        check_auxpow(proof, doge_hash, DOGE_BITS, DOGE)

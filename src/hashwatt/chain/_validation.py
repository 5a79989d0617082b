"""Context-free and light contextual block checks with typed errors (Core: CheckBlock & co).

Not a full node: scripts and the UTXO set are out of scope. What a miner or pool must get
right before it submits a block is here: proof of work, merkle root, transaction shape,
coinbase rules, weight, witness commitment and the future-time limit. The coin is a parameter
(``params``, Bitcoin by default): its proof-of-work hash, subsidy, money bound and BIP 34 height.
A merged-mined (AuxPoW) block carries its work in the parent: check it with ``check_pow=False``
and :func:`~hashwatt.chain.check_auxpow`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict, Unpack

from hashwatt.chain._block import MAX_BLOCK_WEIGHT, Block, block_weight, find_witness_commitment
from hashwatt.chain._coinbase import COINBASE_SCRIPT_MAX, COINBASE_SCRIPT_MIN
from hashwatt.chain._merkle import merkle_root, witness_commitment, witness_merkle_root
from hashwatt.chain._params import BTC, ChainParams
from hashwatt.chain._script import push_int
from hashwatt.chain._target import bits_to_target, hash_meets_target
from hashwatt.chain._transaction import (
    COINBASE_VOUT,
    NULL_HASH,
    OutPoint,
    Transaction,
    txid,
    wtxid,
)
from hashwatt.errors import (
    BadCoinbase,
    BadCoinbaseHeight,
    BadCoinbaseValue,
    BadMerkleRoot,
    BadProofOfWork,
    BadTimestamp,
    BadTransaction,
    BadWeight,
    BadWitnessCommitment,
    BlockInvalid,
    DuplicateTransaction,
    TargetError,
)

#: How far a block's time may run ahead of the validating node's clock (Core: MAX_FUTURE_BLOCK_TIME) [s].
MAX_FUTURE_BLOCK_TIME_S = 2 * 60 * 60


def _check_pow(block: Block, params: ChainParams) -> BlockInvalid | None:
    try:
        target = bits_to_target(block.header.bits)
    except TargetError as exc:
        return BadProofOfWork(f"invalid bits: {exc}")
    if not hash_meets_target(params.pow_hash(block.header), target):
        return BadProofOfWork(f"header {params.pow_algorithm} hash is above the target of its bits")
    return None


def _check_transaction_shape(tx: Transaction, index: int, max_money_sat: int) -> BlockInvalid | None:
    if not tx.inputs:
        return BadTransaction(f"transaction {index} has no inputs")
    if not tx.outputs:
        return BadTransaction(f"transaction {index} has no outputs")
    total = 0
    for txout in tx.outputs:
        if not 0 <= txout.value_sat <= max_money_sat:
            return BadTransaction(f"transaction {index} has an output value out of range")
        total += txout.value_sat
        if total > max_money_sat:
            return BadTransaction(
                f"transaction {index} outputs sum above the money range ({max_money_sat} sat)"
            )
    prevouts = {(txin.prevout.txid, txin.prevout.vout) for txin in tx.inputs}
    if len(prevouts) != len(tx.inputs):
        return BadTransaction(f"transaction {index} spends the same output twice")
    if index and (NULL_HASH, COINBASE_VOUT) in prevouts:
        return BadTransaction(f"transaction {index} spends a null outpoint")
    return None


def block_fees_sat(block: Block, spent_values_sat: Mapping[OutPoint, int]) -> int | None:
    """Total fees of the non-coinbase transactions, or ``None`` where an input value is unknown.

    ``spent_values_sat`` maps each spent outpoint to its value [sat]; outputs created earlier in
    the same block are resolved from the block itself.
    """
    created: dict[OutPoint, int] = {}
    fees = 0
    for tx in block.transactions[1:]:
        value_in = 0
        for txin in tx.inputs:
            value = created.get(txin.prevout, spent_values_sat.get(txin.prevout))
            if value is None:
                return None
            value_in += value
        value_out = sum(o.value_sat for o in tx.outputs)
        fees += value_in - value_out
        tid = txid(tx)
        for vout, txout in enumerate(tx.outputs):
            created[OutPoint(tid, vout)] = txout.value_sat
    return fees


def validate_block(
    block: Block,
    *,
    height: int | None = None,
    spent_values_sat: Mapping[OutPoint, int] | None = None,
    fees_sat: int | None = None,
    now: int | None = None,
    check_pow: bool = True,
    bip34_height: int | None = None,
    params: ChainParams = BTC,
) -> list[BlockInvalid]:
    """Every rule the block breaks, in check order (an empty list means valid).

    ``height`` enables the BIP 34 and coinbase-value checks; the value check also needs the
    fees, from ``fees_sat`` or from ``spent_values_sat``. ``now`` [unix s] enables the
    future-time check. ``bip34_height`` defaults to the coin's (``params.bip34_height``).
    """
    if bip34_height is None:
        bip34_height = params.bip34_height
    errors: list[BlockInvalid] = []
    if check_pow and (pow_error := _check_pow(block, params)) is not None:
        errors.append(pow_error)
    txs = block.transactions
    if not txs:
        errors.append(BadCoinbase("block has no transactions"))
        return errors
    if not txs[0].is_coinbase:
        errors.append(BadCoinbase("first transaction is not a coinbase"))
    if any(tx.is_coinbase for tx in txs[1:]):
        errors.append(BadCoinbase("more than one coinbase"))
    txids = [txid(tx) for tx in txs]
    if merkle_root(txids) != block.header.merkle_root:
        errors.append(BadMerkleRoot("merkle root does not match the transactions"))
    if len(set(txids)) != len(txids):
        errors.append(DuplicateTransaction("block contains a duplicate transaction"))
    for index, tx in enumerate(txs):
        if (shape_error := _check_transaction_shape(tx, index, params.max_money_sat)) is not None:
            errors.append(shape_error)
    coinbase = txs[0]
    if coinbase.is_coinbase:
        script_len = len(coinbase.inputs[0].script_sig)
        if not COINBASE_SCRIPT_MIN <= script_len <= COINBASE_SCRIPT_MAX:
            errors.append(BadCoinbase(f"coinbase scriptSig is {script_len} bytes (allowed 2..100)"))
    weight = block_weight(block)
    if weight > MAX_BLOCK_WEIGHT:
        errors.append(BadWeight(f"block weight {weight} exceeds {MAX_BLOCK_WEIGHT}"))
    if (witness_error := _check_witness_commitment(block)) is not None:
        errors.append(witness_error)
    if height is not None and coinbase.is_coinbase:
        if height >= bip34_height and not coinbase.inputs[0].script_sig.startswith(push_int(height)):
            errors.append(BadCoinbaseHeight(f"coinbase does not start with the height {height} (BIP 34)"))
        if fees_sat is None and spent_values_sat is not None:
            fees_sat = block_fees_sat(block, spent_values_sat)
        if fees_sat is not None:
            allowed = params.block_subsidy_sat(height) + fees_sat
            paid = sum(o.value_sat for o in coinbase.outputs)
            if paid > allowed:
                errors.append(
                    BadCoinbaseValue(f"coinbase pays {paid} sat, more than subsidy + fees = {allowed} sat")
                )
    if now is not None and block.header.time > now + MAX_FUTURE_BLOCK_TIME_S:
        errors.append(
            BadTimestamp(f"block time {block.header.time} is more than 2 hours after the clock ({now})")
        )
    return errors


def _check_witness_commitment(block: Block) -> BlockInvalid | None:
    coinbase = block.transactions[0]
    commitment = find_witness_commitment(coinbase)
    if commitment is None:
        if any(tx.has_witness for tx in block.transactions):
            return BadWitnessCommitment("transactions carry witnesses but the coinbase has no commitment")
        return None
    witness = coinbase.inputs[0].witness if coinbase.inputs else ()
    if len(witness) != 1 or len(witness[0]) != 32:
        return BadWitnessCommitment("coinbase witness must be one 32-byte reserved value")
    root = witness_merkle_root([wtxid(tx) for tx in block.transactions])
    if witness_commitment(root, witness[0]) != commitment:
        return BadWitnessCommitment("witness commitment does not match the witness merkle root")
    return None


class ValidateOptions(TypedDict, total=False):
    """Keyword options shared by :func:`validate_block` and :func:`check_block`."""

    height: int | None
    spent_values_sat: Mapping[OutPoint, int] | None
    fees_sat: int | None
    now: int | None
    check_pow: bool
    bip34_height: int | None
    params: ChainParams


def check_block(block: Block, **options: Unpack[ValidateOptions]) -> None:
    """Raise the first :class:`BlockInvalid` :func:`validate_block` finds; return if valid."""
    errors = validate_block(block, **options)
    if errors:
        raise errors[0]

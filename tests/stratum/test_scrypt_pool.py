"""Scrypt Stratum, sans-IO: the scrypt difficulty convention, scrypt share checks, and merged
mining (a share that meets Dogecoin's target becomes a Dogecoin block with its AuxPoW proof)."""

from __future__ import annotations

import dataclasses
import functools
import json
import struct
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.chain import (
    BTC,
    DOGE,
    LTC,
    AuxPowBadProofOfWork,
    AuxPowParentChainId,
    BadProofOfWork,
    PowAlgorithm,
    check_auxpow,
    header_hash,
    scrypt_1024_1_1_256,
    sha256d,
    validate_auxpow_block,
    validate_block,
)
from hashwatt.miner.merged import DOGE_DEMO, LTC_DEMO, MergedDemoJobSource
from hashwatt.pow import scan_scrypt
from hashwatt.stratum import (
    BITCOIN_SHARES,
    ErrorCode,
    JobBook,
    PoolConfig,
    ProtocolViolation,
    ServerSession,
    ShareAccepted,
    ShareRejected,
    ShareRules,
    Subscription,
    notify_params,
    share_rules,
    target_from_difficulty,
)
from hashwatt.stratum._session import ClientSession, NewJob
from hashwatt.work import Job, header_prefix

LTC_RULES = share_rules(LTC)
EN1 = b"\x00\x00\x00\x07"
#: A share every ~16 scrypt hashes (scrypt difficulty 2**-12), so the tests stay fast.
SHARE_DIFFICULTY = 2.0**-12


# -- the difficulty convention ---------------------------------------------------------------


def test_scrypt_difficulty_one_is_0000ffff_shifted_224() -> None:
    assert LTC_RULES.target(1.0) == 0x0000FFFF << 224
    # Stratum difficulty 65,536 on scrypt is Bitcoin's difficulty 1 (cpuminer's diff / 65536).
    assert LTC_RULES.target(65536.0) == BITCOIN_SHARES.target(1.0) == 0xFFFF << 208
    assert LTC_RULES.target(3.0) == (0xFFFF << 224) // 3
    assert LTC_RULES.difficulty(0xFFFF << 220) == 16.0
    assert share_rules(DOGE).difficulty_1_target == LTC_RULES.difficulty_1_target  # both scrypt
    assert LTC_RULES.bitcoin_difficulty_per_difficulty == 2.0**-16


def _cpuminer_target(stratum_difficulty: float) -> int:
    """pooler's cpuminer for ``-a scrypt``: ``diff_to_target(target, diff / 65536.0)`` in doubles:
    the difficulty is divided by 2**32 while above 1 (at most six times, moving word ``k`` down
    from 6), then ``m = 0xffff0000 / diff`` (truncated to 64 bits) is placed at 32-bit word ``k``."""
    diff = stratum_difficulty / 65536.0
    k = 6
    while k > 0 and diff > 1.0:
        diff /= 4294967296.0
        k -= 1
    m = int(4294901760.0 / diff) & ((1 << 64) - 1)
    return m << (32 * k)


@settings(max_examples=150, deadline=None)
@given(st.floats(min_value=2.0**-12, max_value=2.0**40, allow_nan=False, allow_infinity=False))
def test_scrypt_target_agrees_with_cpuminer(difficulty: float) -> None:
    ours = LTC_RULES.target(difficulty)
    theirs = _cpuminer_target(difficulty)
    assert ours == min(int(Fraction(0xFFFF << 224) / Fraction(difficulty)), (1 << 256) - 1)  # floor
    # cpuminer's m is a truncated integer of at least 31 bits: the two agree to 2**-30.
    assert abs(ours - theirs) <= ours >> 30


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-12, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_bitcoin_share_targets_are_unchanged(difficulty: float) -> None:
    assert BITCOIN_SHARES.target(difficulty) == target_from_difficulty(difficulty)
    assert share_rules(BTC).pow_algorithm is PowAlgorithm.SHA256D


def test_client_session_turns_set_difficulty_into_a_scrypt_job() -> None:
    source = MergedDemoJobSource()
    session = ClientSession(user="u", version_mask=None, extranonce_subscribe=False, rules=LTC_RULES)
    session.start()
    session.receive(b'{"id": 1, "result": [[], "01020304", 4], "error": null}\n')
    notify = {
        "id": None,
        "method": "mining.notify",
        "params": notify_params(source.make_job(clean_jobs=True)),
    }
    lines = (
        json.dumps({"id": None, "method": "mining.set_difficulty", "params": [2]}) + "\n" + json.dumps(notify)
    )
    events = session.receive((lines + "\n").encode())
    jobs = [e.job for e in events if isinstance(e, NewJob)]
    assert jobs and jobs[-1].pow_algorithm is PowAlgorithm.SCRYPT
    assert jobs[-1].share_target == (0xFFFF << 224) // 2
    assert jobs[-1].aux is None  # merged mining is the pool's business, not on the wire


# -- the share check -------------------------------------------------------------------------


def _line(msg_id: Any, method: str, params: list[Any]) -> bytes:
    return (json.dumps({"id": msg_id, "method": method, "params": params}) + "\n").encode()


def _working(job: Job) -> ServerSession:
    config = PoolConfig(
        coin=LTC_DEMO, start_difficulty=SHARE_DIFFICULTY, min_difficulty=SHARE_DIFFICULTY, vardiff=False
    )
    book = JobBook()
    book.add(job)
    session = ServerSession(config, book=JobBook(), now_s=0.0)
    session.receive(_line(1, "mining.subscribe", ["t"]), now_s=0.0, unix_s=job.ntime)
    session.subscribed(Subscription(EN1, 4), book)
    session.receive(_line(2, "mining.authorize", ["w.1", "x"]), now_s=0.0, unix_s=job.ntime)
    assert session.working
    session.data_to_send()
    return session


def _submit(session: ServerSession, job: Job, nonce: int, msg_id: int = 9) -> list[Any]:
    params = ["w.1", job.job_id, "00000000", f"{job.ntime:08x}", f"{nonce:08x}"]
    return session.receive(_line(msg_id, "mining.submit", params), now_s=1.0, unix_s=job.ntime)


def _scrypt_value(job: Job, nonce: int) -> int:
    prefix = header_prefix(dataclasses.replace(job, extranonce1=EN1), bytes(4))
    return int.from_bytes(scrypt_1024_1_1_256(prefix + struct.pack("<I", nonce)), "little")


def _merged_job(*, block_hashes: float, aux_hashes: float) -> tuple[MergedDemoJobSource, Job]:
    source = MergedDemoJobSource(block_expected_hashes=block_hashes, aux_block_expected_hashes=aux_hashes)
    return source, source.make_job(clean_jobs=True)


def test_shares_are_hashed_with_scrypt_and_credit_both_chains() -> None:
    _, job = _merged_job(block_hashes=2.0**40, aux_hashes=2.0**40)
    assert job.pow_algorithm is PowAlgorithm.SCRYPT and job.aux is not None
    session = _working(job)
    share_target = LTC_RULES.target(SHARE_DIFFICULTY)
    prefix = header_prefix(dataclasses.replace(job, extranonce1=EN1), bytes(4))
    hits = scan_scrypt(prefix, 0, 256, share_target)
    assert hits, "a scrypt share every ~16 hashes: 256 hashes must hold one"
    (event,) = _submit(session, job, hits[0])
    assert isinstance(event, ShareAccepted)
    record = event.record
    assert (record.chain, record.aux_chain, record.aux_is_block, record.is_block) == (
        "LTC",
        "DOGE",
        False,
        False,
    )
    assert record.difficulty == SHARE_DIFFICULTY
    assert int(record.share_hash_hex, 16) == _scrypt_value(job, hits[0])
    assert event.block is None and event.aux_block is None
    # A nonce whose SHA256d hash would pass but whose scrypt hash does not is a low-difficulty share.
    sha_only = next(
        n
        for n in range(256, 1 << 16)
        if int.from_bytes(sha256d(prefix + struct.pack("<I", n)), "little") <= share_target
        and _scrypt_value(job, n) > share_target
    )
    (rejected,) = _submit(session, job, sha_only, msg_id=10)
    assert rejected == ShareRejected("w", "w.1", ErrorCode.LOW_DIFFICULTY)


def test_a_share_meeting_dogecoins_target_becomes_a_valid_auxpow_block() -> None:
    # Dogecoin ~every 16 hashes, Litecoin practically never: the share is a Dogecoin block only.
    _, job = _merged_job(block_hashes=2.0**40, aux_hashes=16.0)
    assert job.aux is not None
    session = _working(job)
    aux_target = job.aux.target
    nonce = next(
        n for n in range(4096) if _scrypt_value(job, n) <= min(aux_target, LTC_RULES.target(SHARE_DIFFICULTY))
    )
    (event,) = _submit(session, job, nonce)
    assert isinstance(event, ShareAccepted) and event.block is None
    block = event.aux_block
    assert block is not None and event.record.aux_is_block and event.record.aux_height == 1
    assert header_hash(block.header) == header_hash(job.aux.header)
    assert validate_auxpow_block(block, DOGE_DEMO, height=1, fees_sat=0) == []
    # The parent header is the share, and its scrypt hash (not its own block) carries the work.
    parent = block.auxpow.parent_header
    assert int.from_bytes(LTC.pow_hash(parent), "little") <= aux_target
    assert not LTC.header_meets_target(parent)
    # Tampered: another parent nonce breaks the proof of work; a version without the AuxPoW flag
    # is refused; so is the real Dogecoin difficulty.
    bad_nonce = next(n for n in range(nonce + 1, nonce + 4096) if _scrypt_value(job, n) > aux_target)
    tampered = dataclasses.replace(
        block,
        auxpow=dataclasses.replace(block.auxpow, parent_header=dataclasses.replace(parent, nonce=bad_nonce)),
    )
    errors = validate_auxpow_block(tampered, DOGE_DEMO, height=1)
    assert [type(e) for e in errors] == [AuxPowBadProofOfWork]
    unflagged = dataclasses.replace(block, header=dataclasses.replace(block.header, version=4))
    assert any(isinstance(e, AuxPowParentChainId) for e in validate_auxpow_block(unflagged, DOGE_DEMO))
    with pytest.raises(BadProofOfWork):  # the same proof at a real Dogecoin difficulty
        check_auxpow(block.auxpow, header_hash(block.header), 0x1A01CD2D, DOGE_DEMO)


def test_a_share_meeting_litecoins_target_is_a_valid_litecoin_block() -> None:
    _, job = _merged_job(block_hashes=16.0, aux_hashes=2.0**40)
    session = _working(job)
    nonce = next(n for n in range(4096) if _scrypt_value(job, n) <= job.block_target)
    (event,) = _submit(session, job, nonce)
    assert isinstance(event, ShareAccepted) and event.aux_block is None and event.record.is_block
    block = event.block
    assert block is not None
    assert validate_block(block, height=1, fees_sat=0, params=LTC_DEMO) == []
    assert LTC.header_meets_target(block.header)  # scrypt, not SHA256d, meets the bits
    # The coinbase carries the merged-mining commitment to the pending Dogecoin block.
    from hashwatt.chain import find_merged_mining_commitment

    assert job.aux is not None
    found = find_merged_mining_commitment(block.transactions[0].inputs[0].script_sig)
    assert found is not None and found.chain_root == header_hash(job.aux.header) and found.tree_size == 1


# -- the AuxPoW block's wire format ------------------------------------------------------------


def _aux_block() -> Any:
    _, job = _merged_job(block_hashes=2.0**40, aux_hashes=4.0)
    session = _working(job)
    assert job.aux is not None
    nonce = next(
        n
        for n in range(4096)
        if _scrypt_value(job, n) <= min(job.aux.target, LTC_RULES.target(SHARE_DIFFICULTY))
    )
    (event,) = _submit(session, job, nonce)
    assert isinstance(event, ShareAccepted) and event.aux_block is not None
    return event.aux_block


@functools.cache
def _cached_aux_block() -> Any:
    return _aux_block()


def test_auxpow_block_round_trips() -> None:
    from hashwatt.chain import AuxPowBlock, TrailingBytes, Truncated

    block = _cached_aux_block()
    raw = block.to_bytes()
    assert AuxPowBlock.from_bytes(raw) == block
    with pytest.raises(TrailingBytes):
        AuxPowBlock.from_bytes(raw + b"\x00")
    with pytest.raises(Truncated):
        AuxPowBlock.from_bytes(raw[:-1])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_auxpow_block_decoder_never_crashes(data: st.DataObject) -> None:
    """Any splice of a real AuxPoW block either decodes to a value that re-encodes to the same
    bytes or raises a typed decode error, never anything else."""
    from hashwatt.chain import AuxPowBlock, DecodeError

    raw = bytearray(_cached_aux_block().to_bytes())
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at : at + data.draw(st.integers(0, 8))] = data.draw(st.binary(max_size=8))
    try:
        decoded = AuxPowBlock.from_bytes(bytes(raw))
    except DecodeError:
        return
    assert decoded.to_bytes() == bytes(raw)


@pytest.mark.parametrize("rules", [BITCOIN_SHARES, LTC_RULES], ids=["sha256d", "scrypt"])
def test_a_difficulty_whose_target_is_zero_is_a_protocol_violation(rules: ShareRules) -> None:
    """A pool's ``set_difficulty 1e300`` after a job was a WorkInputError that escaped the client
    session (its target rounds to 0); now it is refused as a protocol error like any bad value."""
    session = ClientSession(user="u", version_mask=None, extranonce_subscribe=False, rules=rules)
    session.start()
    session.receive(b'{"id": 1, "result": [[], "01020304", 4], "error": null}\n')
    notify = {
        "id": None,
        "method": "mining.notify",
        "params": notify_params(MergedDemoJobSource().make_job(clean_jobs=True)),
    }
    session.receive((json.dumps(notify) + "\n").encode())
    with pytest.raises(ProtocolViolation, match="too high"):
        session.receive(b'{"id": null, "method": "mining.set_difficulty", "params": [1e300]}\n')

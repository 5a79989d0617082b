"""The one solved-header hash (``work.prefix_hash``) against real blocks and the assembled header."""

from __future__ import annotations

import pytest

from hashwatt.chain import hash_to_hex, header_hash
from hashwatt.work import Job, Solution, assemble_header, header_prefix, prefix_hash, solution_hash
from tests.chain._fixtures import block_vectors, parsed_block


@pytest.mark.parametrize("name", ["block_413567.hex", "block_testnet3_924634.hex"])
def test_prefix_hash_of_a_real_header_is_its_block_hash(name: str) -> None:
    header = parsed_block(name).header
    raw = header.to_bytes()
    assert prefix_hash(raw[:76], header.nonce) == header_hash(header)


def test_prefix_hash_matches_the_published_block_hashes() -> None:
    for vector in block_vectors()[:4]:
        raw = bytes.fromhex(vector["block_hex"])[:80]
        assert hash_to_hex(prefix_hash(raw[:76], int.from_bytes(raw[76:], "little"))) == vector["block_hash"]


def test_solution_hash_is_the_hash_of_the_assembled_header() -> None:
    job = Job(
        job_id="1",
        prev_hash=bytes(range(32)),
        coinb1=bytes.fromhex(
            "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff"
        ),
        coinb2=bytes.fromhex("ffffffff0100f2052a010000000000000000"),
        merkle_branch=(bytes(32),),
        version=0x20000000,
        bits=0x1D00FFFF,
        ntime=1_700_000_000,
        extranonce1=b"\x01\x02\x03\x04",
        extranonce2_size=4,
        share_target=2**255,
        version_mask=0x1FFFE000,
    )
    for nonce in (0, 1, 0xFFFFFFFF):
        solution = Solution("1", b"\x00\x00\x00\x07", job.ntime + 5, nonce, 0x20002000)
        assert solution_hash(job, solution) == header_hash(assemble_header(job, solution))
        prefix = header_prefix(job, solution.extranonce2, version=solution.version, ntime=solution.ntime)
        assert prefix_hash(prefix, nonce) == solution_hash(job, solution)

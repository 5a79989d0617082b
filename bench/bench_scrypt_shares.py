"""Pool-side share checking, scrypt (merged LTC+DOGE job) beside SHA256d (the Bitcoin demo job).

The sans-IO pool session judges ``mining.submit`` lines with every share valid (difficulty
2**-40 caps the target) and no block reachable, so what is timed is the whole accept path:
parse, job lookup, header, proof-of-work hash, duplicate check, share record. Rounds alternate
BTC and LTC and the median of each is reported in microseconds of thread CPU per share, with
the LTC/BTC ratio from the same run (a shared machine stretches both alike).

    python bench/bench_scrypt_shares.py [--shares 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

from hashwatt.miner.demo import DemoJobSource
from hashwatt.miner.merged import LTC_DEMO, MergedDemoJobSource
from hashwatt.stratum import JobBook, PoolConfig, ServerSession, ShareAccepted, Subscription
from hashwatt.work import Job


def _session(job: Job, config: PoolConfig) -> ServerSession:
    book = JobBook()
    book.add(job)
    session = ServerSession(config, book=JobBook(), now_s=0.0)
    line = b'{"id": 1, "method": "mining.subscribe", "params": ["bench"]}\n'
    session.receive(line, now_s=0.0, unix_s=job.ntime)
    session.subscribed(Subscription(b"\x00\x00\x00\x01", 4), book)
    auth = b'{"id": 2, "method": "mining.authorize", "params": ["w.1", "x"]}\n'
    session.receive(auth, now_s=0.0, unix_s=job.ntime)
    session.data_to_send()
    return session


def _round(job: Job, config: PoolConfig, shares: int, offset: int) -> float:
    """Thread CPU seconds per accepted share over ``shares`` fresh nonces."""
    session = _session(job, config)
    lines = [
        (
            f'{{"id": {i + 3}, "method": "mining.submit", "params": '
            f'["w.1", "{job.job_id}", "00000000", "{job.ntime:08x}", "{(offset + i) & 0xFFFFFFFF:08x}"]}}\n'
        ).encode()
        for i in range(shares)
    ]
    start = time.thread_time()
    accepted = 0
    for line in lines:
        for event in session.receive(line, now_s=1.0, unix_s=job.ntime):
            if isinstance(event, ShareAccepted):
                accepted += 1
                session.share_stored(event.token, None, now_s=1.0)
        session.data_to_send()
    elapsed = time.thread_time() - start
    assert accepted == shares, (accepted, shares)
    return elapsed / shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    easy = {"start_difficulty": 2.0**-40, "min_difficulty": 2.0**-40, "vardiff": False}
    # Message budgets lifted: the bench times the share check, not the flood control.
    limits = {"message_rate_per_s": 1e9, "message_burst": 1e9, "address_message_rate_per_s": 1e9}
    btc = (
        DemoJobSource(block_expected_hashes=2.0**60).make_job(clean_jobs=True),
        PoolConfig(**easy, **limits),
    )
    source = MergedDemoJobSource(block_expected_hashes=2.0**60, aux_block_expected_hashes=2.0**60)
    ltc = (source.make_job(clean_jobs=True), PoolConfig(coin=LTC_DEMO, **easy, **limits))
    times: dict[str, list[float]] = {"BTC sha256d": [], "LTC scrypt (merged DOGE)": []}
    for r in range(args.rounds):
        for name, (job, config) in zip(times, (btc, ltc), strict=True):
            times[name].append(_round(job, config, args.shares, r * args.shares))
    medians = {name: statistics.median(t) for name, t in times.items()}
    btc_s, ltc_s = medians.values()
    for name, seconds in medians.items():
        print(f"{name:28s} {seconds * 1e6:9.1f} us CPU/share  {1 / seconds:10,.0f} shares per CPU-second")
    print(f"scrypt / sha256d CPU per share: {ltc_s / btc_s:.1f}x")
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "shares": args.shares,
                "rounds": args.rounds,
                "us_per_share": {k: round(v * 1e6, 2) for k, v in medians.items()},
                "ratio_scrypt_over_sha256d": round(ltc_s / btc_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

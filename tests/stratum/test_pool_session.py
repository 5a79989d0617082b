"""The pool-side session without a socket: bytes and time in, events and bytes out; fuzzed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import (
    CloseConnection,
    ErrorCode,
    JobBook,
    PoolConfig,
    ServerSession,
    ShareAccepted,
    ShareRejected,
    SubscribeRequested,
    Subscription,
    TokenBucket,
)

#: Difficulty 2**-40 caps the share target at 2**256 - 1: every header is a valid share.
CONFIG = PoolConfig(start_difficulty=2.0**-40, min_difficulty=2.0**-40, vardiff=False)


def _line(msg_id: Any, method: str, params: list[Any]) -> bytes:
    return (json.dumps({"id": msg_id, "method": method, "params": params}) + "\n").encode()


def _replies(session: ServerSession) -> list[dict[str, Any]]:
    return [json.loads(x) for x in session.data_to_send().splitlines()]


def _book() -> JobBook:
    book = JobBook()
    book.add(DemoJobSource().make_job(clean_jobs=True))
    return book


def _working(config: PoolConfig = CONFIG) -> tuple[ServerSession, JobBook]:
    book = _book()
    session = ServerSession(config, book=JobBook(), now_s=0.0)
    events = session.receive(_line(1, "mining.subscribe", ["t"]), now_s=0.0, unix_s=2e9)
    assert events == [SubscribeRequested(None)]
    session.subscribed(Subscription(b"\x00\x00\x00\x01", 4), book)
    session.receive(_line(2, "mining.authorize", ["w.1", "x"]), now_s=0.0, unix_s=2e9)
    assert session.working
    session.data_to_send()
    return session, book


def test_subscribe_pauses_the_session_until_the_pool_answers() -> None:
    session = ServerSession(CONFIG, book=JobBook(), now_s=0.0)
    data = _line(1, "mining.subscribe", ["t"]) + _line(2, "mining.authorize", ["w.1", "x"])
    assert session.receive(data, now_s=0.0, unix_s=2e9) == [SubscribeRequested(None)]
    assert session.backlog == 1 and session.data_to_send() == b""
    session.subscribed(Subscription(b"\xaa\xbb\xcc\xdd", 4), _book())
    assert session.receive(b"", now_s=0.0, unix_s=2e9) == []
    replies = _replies(session)
    assert replies[0]["id"] == 1 and replies[0]["result"][1] == "aabbccdd"
    assert replies[1] == {"id": 2, "result": True, "error": None}
    assert [r["method"] for r in replies[2:]] == ["mining.set_difficulty", "mining.notify"]


def test_share_answer_waits_for_the_share_log_and_replies_stay_in_order() -> None:
    session, book = _working()
    job = book.latest
    assert job is not None
    submit = _line(7, "mining.submit", ["w.1", job.job_id, "00000000", f"{job.ntime:08x}", "00000000"])
    (event,) = session.receive(submit + _line(8, "mining.ping", []), now_s=1.0, unix_s=2e9)
    assert isinstance(event, ShareAccepted) and event.record.worker == "w.1"
    assert session.data_to_send() == b""  # the pong waits behind the share's answer
    assert session.share_stored(event.token, None, now_s=1.0)
    assert [r["id"] for r in _replies(session)] == [7, 8]
    # The same share again: a duplicate, answered at once.
    (again,) = session.receive(submit, now_s=2.0, unix_s=2e9)
    assert again == ShareRejected("w", "w.1", ErrorCode.DUPLICATE_SHARE)


def test_a_share_the_log_refused_is_forgotten_so_its_resend_counts() -> None:
    session, book = _working()
    job = book.latest
    assert job is not None
    submit = _line(3, "mining.submit", ["w.1", job.job_id, "00000001", f"{job.ntime:08x}", "00000000"])
    (event,) = session.receive(submit, now_s=1.0, unix_s=2e9)
    assert isinstance(event, ShareAccepted)
    assert not session.share_stored(event.token, OSError("disk"), now_s=1.0)
    assert _replies(session)[0]["error"][0] == 20
    (resend,) = session.receive(submit, now_s=2.0, unix_s=2e9)
    assert isinstance(resend, ShareAccepted)


def test_protocol_errors_carry_their_code_and_strikes_close() -> None:
    session = ServerSession(PoolConfig(max_violations=3), book=JobBook(), now_s=0.0)
    events = session.receive(b"{nope\n" + _line(1, "mining.frob", []), now_s=0.0, unix_s=0.0)
    assert events == []
    assert [r["error"][0] for r in _replies(session)] == [20, 20]
    # Unanswerable noise (a notification of an unknown method) is a strike without an answer.
    (close,) = session.receive(_line(None, "mining.frob", []), now_s=0.0, unix_s=0.0)
    assert isinstance(close, CloseConnection) and session.closed
    assert session.data_to_send() == b""


def test_message_budget_throttles_then_closes_a_flood() -> None:
    config = PoolConfig(message_rate_per_s=10.0, message_burst=20.0, turn_messages=1000, flood_grace_s=2.0)
    session = ServerSession(config, book=JobBook(), now_s=0.0)
    pings = b"".join(_line(i, "mining.ping", []) for i in range(100))
    assert session.receive(pings, now_s=0.0, unix_s=0.0) == []
    assert len(_replies(session)) == 20 and session.backlog == 80
    assert 0.0 < session.throttle_wait_s(0.0) <= 0.1
    session.receive(b"", now_s=1.0, unix_s=0.0)  # a second later: ten more tokens
    assert len(_replies(session)) == 10
    events = session.receive(b"", now_s=3.5, unix_s=0.0)  # still flooding past the grace period
    assert any(isinstance(e, CloseConnection) for e in events)


def test_one_turn_handles_at_most_turn_messages() -> None:
    session = ServerSession(PoolConfig(turn_messages=5), book=JobBook(), now_s=0.0)
    session.receive(b"".join(_line(i, "mining.ping", []) for i in range(12)), now_s=0.0, unix_s=0.0)
    assert len(_replies(session)) == 5 and session.backlog == 7


def test_address_bucket_is_shared_by_connections_from_one_address() -> None:
    config = PoolConfig(turn_messages=1000)
    shared = TokenBucket(5.0, 10.0, now_s=0.0)
    a = ServerSession(config, book=JobBook(), now_s=0.0, address_bucket=shared)
    b = ServerSession(config, book=JobBook(), now_s=0.0, address_bucket=shared)
    a.receive(b"".join(_line(i, "mining.ping", []) for i in range(8)), now_s=0.0, unix_s=0.0)
    b.receive(b"".join(_line(i, "mining.ping", []) for i in range(8)), now_s=0.0, unix_s=0.0)
    assert len(_replies(a)) + len(_replies(b)) == 10


def test_idle_timer_counts_messages_not_bytes() -> None:
    session, _book = _working(PoolConfig(idle_timeout_s=10.0, start_difficulty=1.0))
    for t in range(1, 30):  # one byte a second, never a whole line
        session.receive(b" ", now_s=float(t), unix_s=2e9)
        if session.tick(float(t)):
            break
    assert session.closed and session.close_reason == "idle timeout"


def test_unauthorized_worker_names_are_bounded_per_connection() -> None:
    session, _book = _working(PoolConfig(max_workers_per_connection=3, start_difficulty=1.0))
    lines = b"".join(_line(10 + i, "mining.authorize", [f"w.{i}", "x"]) for i in range(6))
    session.receive(lines, now_s=1.0, unix_s=2e9)
    codes = [r["error"][0] if r["error"] else None for r in _replies(session) if "result" in r]
    assert codes == [None, None, None, 24, 24, 24]  # w.1 is there; w.0 and w.2 fit; no more
    assert len(session.authorized) == 3


_METHODS = st.sampled_from(
    [
        "mining.subscribe",
        "mining.authorize",
        "mining.submit",
        "mining.configure",
        "mining.suggest_difficulty",
        "mining.extranonce.subscribe",
        "mining.ping",
        "mining.frob",
    ]
)
_SCALAR = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=12)
# Nesting built to a fixed depth (3) rather than with st.recursive, whose draws overran
# max_leaves and were retried a third of the time: the same shapes at half the generation cost.
_FLAT = _SCALAR | st.lists(_SCALAR, max_size=6) | st.dictionaries(st.text(max_size=8), _SCALAR, max_size=4)
_JSON = _FLAT | st.lists(_FLAT, max_size=6) | st.dictionaries(st.text(max_size=8), _FLAT, max_size=4)


@st.composite
def _chunks(draw: st.DrawFn) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            out.append(draw(st.binary(max_size=80)))
        else:
            msg_id = draw(st.none() | st.integers(0, 9) | st.text(max_size=3))
            params = draw(st.lists(_JSON, max_size=6))
            try:
                text = json.dumps({"id": msg_id, "method": draw(_METHODS), "params": params})
            except ValueError:
                continue
            out.append(text.encode() + b"\n")
    return out


@settings(max_examples=150, deadline=None)
@given(_chunks(), st.lists(st.floats(0, 5), min_size=1, max_size=4))
def test_session_survives_any_byte_stream(chunks: list[bytes], steps: list[float]) -> None:
    session = ServerSession(
        PoolConfig(start_difficulty=2.0**-30, min_difficulty=2.0**-30, max_line_bytes=512),
        book=JobBook(),
        now_s=0.0,
    )
    book = _book()
    now = 0.0
    for i, chunk in enumerate(chunks):
        now += steps[i % len(steps)]
        events = session.receive(chunk, now_s=now, unix_s=2e9)
        for event in events:
            if isinstance(event, SubscribeRequested):
                session.subscribed(Subscription(b"\x01\x02\x03\x04", 4), book)
            elif isinstance(event, ShareAccepted):
                session.share_stored(event.token, None, now_s=now)
        session.tick(now)
        for line in session.data_to_send().splitlines():
            reply = json.loads(line)  # every byte out is one JSON object per line
            assert isinstance(reply, dict) and ("method" in reply or "error" in reply)
        if session.closed:
            assert session.receive(b"more\n", now_s=now, unix_s=2e9) == []
            break


def test_the_session_core_does_no_io_and_reads_no_clock() -> None:
    import hashwatt.stratum._flow as flow
    import hashwatt.stratum._pool_session as core

    for module in (core, flow):
        names = set(vars(module))
        assert not names & {"asyncio", "socket", "time", "os", "selectors", "threading"}, module.__name__

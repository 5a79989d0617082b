"""Framing: bounded JSON lines, message parsing and encoding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.stratum import (
    LineBuffer,
    MessageReader,
    ProtocolViolation,
    Request,
    Response,
    encode_error,
    encode_request,
    encode_result,
    parse_message,
)


def test_lines_split_across_reads_and_crlf() -> None:
    buf = LineBuffer(100)
    assert buf.feed(b'{"id":1,') == []
    assert buf.feed(b'"method":"a"}\r\n\n{"id"') == [b'{"id":1,"method":"a"}']
    assert buf.pending_bytes == 5
    assert buf.feed(b":2}\n") == [b'{"id":2}']


def test_line_over_the_bound_is_refused_even_without_newline() -> None:
    buf = LineBuffer(64)
    with pytest.raises(ProtocolViolation):
        buf.feed(b"x" * 65)
    buf2 = LineBuffer(64)
    buf2.feed(b"x" * 60)
    with pytest.raises(ProtocolViolation):
        buf2.feed(b"x" * 10)
    buf3 = LineBuffer(64)
    with pytest.raises(ProtocolViolation):
        buf3.feed(b"y" * 70 + b"\n")


def test_parse_request_response_and_errors() -> None:
    req = parse_message(b'{"id": 7, "method": "mining.subscribe", "params": ["cgminer/4.10"]}')
    assert req == Request(7, "mining.subscribe", ["cgminer/4.10"])
    note = parse_message(b'{"id": null, "method": "mining.set_difficulty", "params": [8]}')
    assert note == Request(None, "mining.set_difficulty", [8])
    ok = parse_message(b'{"id": 3, "result": true, "error": null}')
    assert ok == Response(3, True, None)
    bad = parse_message(b'{"id": 4, "result": null, "error": [23, "Low difficulty share", null]}')
    assert bad == Response(4, None, (23, "Low difficulty share"))
    named = parse_message(b'{"id": 5, "result": null, "error": {"code": 21, "message": "Job not found"}}')
    assert isinstance(named, Response) and named.error == (21, "Job not found")


@pytest.mark.parametrize(
    "line",
    [
        b"{not json",
        b"[1,2,3]",
        b'"str"',
        b'{"id": 1}',
        b'{"id": [1], "method": "x"}',
        b'{"method": 5}',
        b'{"id": 1, "method": "x", "params": 5}',
        b"\xff\xfe",
    ],
)
def test_malformed_messages_raise(line: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parse_message(line)


def test_encoders_match_cgminer_shapes() -> None:
    assert json.loads(encode_request(None, "mining.notify", [1])) == {
        "id": None,
        "method": "mining.notify",
        "params": [1],
    }
    assert json.loads(encode_result(2, True)) == {"id": 2, "result": True, "error": None}
    assert json.loads(encode_error(3, 21, "Job not found")) == {
        "id": 3,
        "result": None,
        "error": [21, "Job not found", None],
    }
    assert encode_result(1, True).endswith(b"\n") and encode_result(1, True).count(b"\n") == 1


def test_reader_yields_violation_in_place_and_keeps_going() -> None:
    reader = MessageReader()
    out = reader.feed(b'garbage\n{"id":1,"method":"mining.ping","params":[]}\n')
    assert isinstance(out[0], ProtocolViolation)
    assert out[1] == Request(1, "mining.ping", [])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_reader_never_raises_anything_but_violation(chunks: list[bytes]) -> None:
    reader = MessageReader(max_line_bytes=256)
    for chunk in chunks:
        try:
            for item in reader.feed(chunk):
                assert isinstance(item, Request | Response | ProtocolViolation)
        except ProtocolViolation:
            reader = MessageReader(max_line_bytes=256)

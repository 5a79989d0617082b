"""cgminer JSON API framing against captured replies and pyasic's reader as an oracle."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyasic.rpc.base import BaseMinerRPCAPI

from hashwatt.minerapi import (
    FrameError,
    FrameTooLarge,
    RequestBuffer,
    decode_reply,
    encode_reply,
    encode_request,
    join_multi,
    parse_request,
    split_multi,
)

CAPTURES = Path(__file__).parents[2] / ".." / "shared" / "data" / "fleet" / "asic-rs"
CGMINER_CAPTURES = sorted(
    p
    for sub in ("antminer/v2020", "luxminer/v1", "whatsminer/v1", "whatsminer/v2")
    for p in (CAPTURES / sub).glob("*.json")
)


def test_captures_present() -> None:
    assert len(CGMINER_CAPTURES) >= 30


@pytest.mark.parametrize("path", CGMINER_CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reply_round_trip_matches_pyasic(path: Path) -> None:
    body = json.loads(path.read_text())
    wire = encode_reply(body)
    assert wire.endswith(b"\x00") and wire.count(b"\x00") == 1
    assert decode_reply(wire) == body
    assert BaseMinerRPCAPI._load_api_data(wire) == body


def test_old_bmminer_missing_comma_is_tolerated() -> None:
    wire = b'{"STATS":[{"BMMiner":"1.0.0"}{"STATS":0,"ID":"BTM_SOC0"}],"id":1}\x00'
    assert decode_reply(wire)["STATS"][1]["ID"] == "BTM_SOC0"


@pytest.mark.parametrize(
    "wire", [b"", b"\x00", b'{"STATUS":[{"STATUS":"S"', b"[1,2]\x00", b"\xff\xfe{}", b"garbage"]
)
def test_bad_replies_raise_frame_error(wire: bytes) -> None:
    with pytest.raises(FrameError):
        decode_reply(wire)


def test_reply_bound() -> None:
    with pytest.raises(FrameTooLarge):
        decode_reply(b"{}" + b" " * 100, max_bytes=50)


def test_request_forms() -> None:
    req = parse_request(encode_request("summary+devs"))
    assert req is not None and req.command == "summary+devs" and req.parameter is None
    req = parse_request(b'{"command":"ascset","parameter":0}\x00')
    assert req is not None and req.parameter == "0"
    req = parse_request(b"pools|0\n")
    assert req is not None and req.text_form and (req.command, req.parameter) == ("pools", "0")
    req = parse_request(b'{"enc":1,"data":"abc="}')
    assert req is not None and req.command == "" and req.body["enc"] == 1


def test_request_buffer_completes_across_reads_and_is_bounded() -> None:
    wire = encode_request("version", "x")
    buf = RequestBuffer()
    for i in range(len(wire) - 1):
        assert buf.feed(wire[i : i + 1]) is None
    done = buf.feed(wire[-1:])
    assert done is not None and done.command == "version"
    small = RequestBuffer(max_bytes=10)
    with pytest.raises(FrameTooLarge):
        small.feed(b'{"command":"' + b"a" * 20)


@pytest.mark.parametrize("wire", [b'{"command":"x"}}', b"[1]", b'{"a":1,]', b"\xc3(", b"{x|y}\n"])
def test_garbage_requests_raise(wire: bytes) -> None:
    with pytest.raises(FrameError):
        parse_request(wire)


@given(st.binary(max_size=200))
def test_parse_request_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        parse_request(data)


@given(st.dictionaries(st.text(max_size=10), st.one_of(st.integers(), st.text(), st.booleans()), max_size=5))
def test_reply_round_trip(body: dict[str, object]) -> None:
    assert decode_reply(encode_reply(body)) == body


def test_multi() -> None:
    assert split_multi("summary+devs+summary") == ("summary", "devs")
    assert join_multi("a", "b") == "a+b"
    with pytest.raises(FrameError):
        join_multi("a+b", "c")


def test_reply_codec_falls_back_for_what_orjson_refuses() -> None:
    """Firmware sends NaN and integers past 64 bits; the fast path must not lose them."""
    from hashwatt.minerapi import _json

    assert decode_reply(b'{"GHS 5s": NaN, "id": 1}\x00')["id"] == 1
    big = {"Best Share": 2**70}
    assert decode_reply(encode_reply(big)) == big
    assert _json.loads(_json.dumps({"a": [1.5, "x"]})) == {"a": [1.5, "x"]}

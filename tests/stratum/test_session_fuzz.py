"""The miner-side session never fails with anything but a StratumError, whatever a pool sends."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.chain import LTC
from hashwatt.stratum import BITCOIN_SHARES, ShareRules, StratumError, share_rules
from hashwatt.stratum._session import ClientSession

_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True), st.text(max_size=70)
)
# Nesting built to a fixed depth (3) rather than with st.recursive, whose draws overran
# max_leaves and were retried half of the time: the same shapes at a fraction of the cost.
_json_flat = st.one_of(
    _json_scalar,
    st.lists(_json_scalar, max_size=10),
    st.dictionaries(st.text(max_size=20), _json_scalar, max_size=4),
)
_json_value = st.one_of(
    _json_flat,
    st.lists(_json_flat, max_size=10),
    st.dictionaries(st.text(max_size=20), _json_flat, max_size=4),
)
_methods = st.sampled_from(
    [
        "mining.notify",
        "mining.set_difficulty",
        "mining.set_extranonce",
        "mining.set_version_mask",
        "client.reconnect",
        "client.show_message",
        "client.get_version",
        "mining.ping",
        "unknown.method",
    ]
)
_requests = st.builds(
    lambda i, m, p: {"id": i, "method": m, "params": p},
    st.one_of(st.none(), st.integers(0, 5)),
    _methods,
    st.lists(_json_value, max_size=10),
)
_responses = st.builds(
    lambda i, r, e: {"id": i, "result": r, "error": e},
    st.integers(1, 4),
    _json_value,
    st.one_of(st.none(), _json_value),
)


@pytest.mark.parametrize("rules", [BITCOIN_SHARES, share_rules(LTC)], ids=["sha256d", "scrypt"])
@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_requests, _responses), max_size=12))
def test_session_survives_arbitrary_pool_messages(
    rules: ShareRules, messages: list[dict[str, object]]
) -> None:
    session = ClientSession(user="u", rules=rules)
    session.start()
    session.take_outbox()
    # A valid subscription first, so notify/set_difficulty paths are reachable.
    session.receive(b'{"id":2,"result":[[["mining.notify","s"]],"00000001",4],"error":null}\n')
    for message in messages:
        with contextlib.suppress(StratumError):
            session.receive((json.dumps(message) + "\n").encode())
    session.take_outbox()

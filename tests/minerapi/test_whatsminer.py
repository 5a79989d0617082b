"""Whatsminer API 2.x key derivation and envelope, API 3.x framing; pyasic and passlib as oracles."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passlib.hash import md5_crypt
from pyasic.rpc.btminer import TokenData, create_privileged_cmd, parse_btminer_priviledge_data

from hashwatt.minerapi import (
    FrameError,
    FrameTooLarge,
    V3FrameReader,
    decrypt_v2,
    derive_v2_credentials,
    encode_v2_privileged,
    encode_v3_frame,
    encrypt_v2,
    md5crypt,
    v3_token,
)

SALT = st.text(
    alphabet="./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=0, max_size=8
)


def test_md5crypt_known_vector() -> None:
    # vectors as glibc crypt(3) and passlib give them
    assert md5crypt("password", "saltsalt") == "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"
    assert md5crypt("", "") == "$1$$qRPK7m23GJusamGpoGLby/"


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40), SALT)
def test_md5crypt_matches_passlib(password: str, salt: str) -> None:
    assert md5crypt(password, salt) == md5_crypt.using(salt=salt).hash(password)


def test_md5crypt_rejects_bad_salt() -> None:
    with pytest.raises(FrameError):
        md5crypt("x", "a$b")
    with pytest.raises(FrameError):
        md5crypt("\ud800", "abc")  # a lone surrogate cannot be sent


def _pyasic_token(password: str, salt: str, newsalt: str, time: str) -> TokenData:
    passwd_md5 = md5_crypt.using(salt=salt).hash(password).split("$")[3]
    sign = md5_crypt.using(salt=newsalt).hash(passwd_md5 + time).split("$")[3]
    import datetime

    return TokenData(host_passwd_md5=passwd_md5, host_sign=sign, timestamp=datetime.datetime.now())


def test_envelope_interoperates_with_pyasic_both_ways() -> None:
    creds = derive_v2_credentials("admin", salt="BQ5hoXV9", newsalt="zUUo1Jc8", time="4511")
    theirs = _pyasic_token("admin", "BQ5hoXV9", "zUUo1Jc8", "4511")
    assert (creds.host_passwd_md5, creds.host_sign) == (theirs.host_passwd_md5, theirs.host_sign)
    assert len(creds.aes_key) == 32
    # client request built by pyasic, opened by us
    wire = create_privileged_cmd(theirs, {"cmd": "adjust_power_limit", "power_limit": "3000"})
    outer = json.loads(wire)
    assert outer["enc"] == 1
    inner = decrypt_v2(outer["data"], creds.aes_key)
    assert inner == {"cmd": "adjust_power_limit", "power_limit": "3000", "token": creds.host_sign}
    # our request is byte-compatible with pyasic's
    ours = json.loads(encode_v2_privileged({"cmd": "adjust_power_limit", "power_limit": "3000"}, creds))
    assert decrypt_v2(ours["data"], creds.aes_key) == inner
    # a twin's encrypted reply, opened by pyasic
    reply = {"STATUS": "S", "When": 1, "Code": 131, "Msg": "API command OK", "Description": ""}
    opened = parse_btminer_priviledge_data(theirs, {"enc": encrypt_v2(reply, creds.aes_key)})
    assert opened == reply


def test_wrong_key_and_damaged_envelope_are_frame_errors() -> None:
    key = derive_v2_credentials("admin", salt="aaaa", newsalt="bbbb", time="1").aes_key
    other = derive_v2_credentials("wrong", salt="aaaa", newsalt="bbbb", time="1").aes_key
    data = encrypt_v2({"cmd": "reboot"}, key)
    with pytest.raises(FrameError):
        decrypt_v2(data, other)
    for bad in ("", "!!!!", base64.b64encode(b"short").decode()):
        with pytest.raises(FrameError):
            decrypt_v2(bad, key)


def test_v3_frame_and_reader() -> None:
    msg = {"cmd": "get.device.info", "param": "salt"}
    wire = encode_v3_frame(msg)
    assert struct.unpack("<I", wire[:4])[0] == len(wire) - 4
    reader = V3FrameReader()
    assert reader.feed(wire[:3]) == []
    assert reader.feed(wire[3:] + wire) == [msg, msg]
    with pytest.raises(FrameTooLarge):
        V3FrameReader(max_bytes=10).feed(struct.pack("<I", 11))
    with pytest.raises(FrameError):
        V3FrameReader().feed(struct.pack("<I", 3) + b"abc")


@given(st.binary(max_size=64))
def test_v3_reader_only_raises_frame_errors(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        V3FrameReader(max_bytes=1000).feed(data)


def test_v3_token_is_pyasic_formula() -> None:
    # pyasic: b64(sha256(cmd+pwd+salt+ts)), cut at byte 8
    raw = base64.b64encode(hashlib.sha256(b"set.system.rebootsuperuhCiDyVj1773869570").digest())
    assert v3_token("set.system.reboot", "super", "uhCiDyVj", 1773869570) == raw[:8].decode()
    assert len(v3_token("set.miner.service", "super", "s", 0)) == 8


def test_v3_encrypted_param_opens() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from hashwatt.minerapi import decrypt_v3_param

    pools = [{"url": "stratum+tcp://pool:3333", "account": "a.b", "pass": "x"}]
    key = hashlib.sha256(b"set.miner.poolssupersalt12345").digest()  # as asic-rs keys it
    plain = json.dumps(pools).encode()
    plain += b"\x00" * (-len(plain) % 16)
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    data = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
    assert decrypt_v3_param(data, "set.miner.pools", "super", "salt1", 2345) == pools
    with pytest.raises(FrameError):
        decrypt_v3_param(data, "set.miner.pools", "wrong", "salt1", 2345)


def test_v3_param_encryption_is_pkcs7_aes_ecb_under_the_token_digest() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from hashwatt.minerapi import decrypt_v3_param, encrypt_v3_param

    pools = [{"pool": "stratum+tcp://pool:3333", "worker": "a.b", "passwd": "pw-7"}]
    data = encrypt_v3_param(pools, "set.miner.pools", "super", "salt1", 2345)
    key = hashlib.sha256(b"set.miner.poolssupersalt12345").digest()
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    plain = dec.update(base64.b64decode(data)) + dec.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 16 and plain.endswith(bytes([pad]) * pad)  # PKCS#7, as the vendor's client
    assert json.loads(plain[:-pad]) == pools and b"pw-7" not in base64.b64decode(data)
    assert decrypt_v3_param(data, "set.miner.pools", "super", "salt1", 2345) == pools
    # the vendor's own client encodes the list as a JSON string first: the twin reads both
    twice = encrypt_v3_param(json.dumps(pools), "set.miner.pools", "super", "salt1", 2345)
    assert decrypt_v3_param(twice, "set.miner.pools", "super", "salt1", 2345) == pools

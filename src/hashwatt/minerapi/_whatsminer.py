"""Whatsminer (btminer) API wire formats: API 2.x token and AES envelope, API 3.x framing.

API 2.x (TCP 4028, cgminer-style framing): writes travel inside an AES-256-ECB envelope
keyed from the admin password. ``get_token`` returns ``time``, ``salt`` and ``newsalt``; the
client derives ``host_passwd_md5`` = the hash part of ``md5crypt(password, salt)``, the
signature ``host_sign`` = the hash part of ``md5crypt(host_passwd_md5 + time, newsalt)``,
and the AES key = ``sha256(host_passwd_md5)``. The plaintext JSON is NUL-padded to 16 bytes.

API 3.x (TCP 4433, firmware after 2024-11): every message is a 4-byte little-endian length
followed by that many bytes of JSON; ``set.*`` commands carry ``ts`` and ``token`` =
the first 8 characters of ``base64(sha256(cmd + password + salt + str(ts)))``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hashwatt.minerapi import _json
from hashwatt.minerapi.errors import FrameError, FrameTooLarge

__all__ = [
    "V2_DEFAULT_PASSWORD",
    "V3_DEFAULT_PASSWORD",
    "V3_MAX_FRAME_BYTES",
    "V2Credentials",
    "V3FrameReader",
    "decrypt_v2",
    "decrypt_v3_param",
    "derive_v2_credentials",
    "encode_v2_privileged",
    "encode_v3_frame",
    "encrypt_v2",
    "encrypt_v3_param",
    "md5crypt",
    "v3_token",
]

#: Factory admin password of API 2.x ("admin" account).
V2_DEFAULT_PASSWORD = "admin"
#: Factory password of the API 3.x "super" account.
V3_DEFAULT_PASSWORD = "super"
#: Largest API 3.x frame accepted [bytes]; real replies stay under 16 KiB.
V3_MAX_FRAME_BYTES = 256 * 1024

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SALT_CHARS = frozenset(_ITOA64)


def md5crypt(password: str, salt: str) -> str:
    """The FreeBSD/glibc ``$1$`` password hash (Poul-Henning Kamp, 1994): ``$1$<salt>$<hash>``.

    Written out because Python 3.13 dropped :mod:`crypt` and the one library that has it
    (passlib) is unmaintained; ``tests/twin`` checks it against passlib as an oracle.
    ``salt`` is at most 8 characters of ``[./0-9A-Za-z]`` (longer salts are cut, as libc does).
    """
    if not set(salt) <= _SALT_CHARS:
        raise FrameError(f"md5crypt salt {salt!r} has characters outside [./0-9A-Za-z]")
    try:
        pw = password.encode()
    except UnicodeEncodeError as exc:
        raise FrameError("password is not encodable as UTF-8") from exc
    s = salt[:8].encode()
    magic = b"$1$"
    alt = hashlib.md5(pw + s + pw).digest()
    ctx = pw + magic + s
    for remaining in range(len(pw), 0, -16):
        ctx += alt[: min(16, remaining)]
    i = len(pw)
    while i:
        ctx += b"\x00" if i & 1 else pw[:1]
        i >>= 1
    final = hashlib.md5(ctx).digest()
    for round_ in range(1000):  # the deliberate slowdown of the original scheme
        step = pw if round_ & 1 else final
        if round_ % 3:
            step += s
        if round_ % 7:
            step += pw
        step += final if round_ & 1 else pw
        final = hashlib.md5(step).digest()
    out = []
    for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)):
        v = (final[a] << 16) | (final[b] << 8) | final[c]
        for _ in range(4):
            out.append(_ITOA64[v & 0x3F])
            v >>= 6
    v = final[11]
    for _ in range(2):
        out.append(_ITOA64[v & 0x3F])
        v >>= 6
    return f"$1${salt[:8]}${''.join(out)}"


def _hash_part(crypted: str) -> str:
    return crypted.split("$")[3]


@dataclasses.dataclass(frozen=True, slots=True)
class V2Credentials:
    """What both ends derive from a ``get_token`` answer and the admin password."""

    host_passwd_md5: str
    host_sign: str

    @property
    def aes_key(self) -> bytes:
        """The AES-256 key: sha256 of ``host_passwd_md5`` [32 bytes]."""
        return hashlib.sha256(self.host_passwd_md5.encode()).digest()


def derive_v2_credentials(password: str, *, salt: str, newsalt: str, time: str) -> V2Credentials:
    """Derive the API 2.x key and token from the admin password and a ``get_token`` answer."""
    passwd_md5 = _hash_part(md5crypt(password, salt))
    return V2Credentials(passwd_md5, _hash_part(md5crypt(passwd_md5 + time, newsalt)))


def _aes(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(key), modes.ECB())


def encrypt_v2(message: Mapping[str, Any], key: bytes) -> str:
    """AES-256-ECB of the JSON ``message`` NUL-padded to 16 bytes, as base64 text."""
    plain = json.dumps(message).encode()
    plain += b"\x00" * (-len(plain) % 16)
    enc = _aes(key).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def _open_ecb(data: str, key: bytes, what: str) -> bytes:
    """base64 text -> AES-256-ECB plaintext without its NUL padding (both API generations)."""
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise FrameError(f"{what} is not base64") from exc
    if not raw or len(raw) % 16:
        raise FrameError(f"{what} length is not a positive multiple of the AES block")
    dec = _aes(key).decryptor()
    plain = dec.update(raw) + dec.finalize()
    pad = plain[-1]
    if 1 <= pad <= 16 and plain.endswith(bytes([pad]) * pad):
        return plain[:-pad]  # PKCS#7 (the vendor's API 3.x client); JSON never ends in 0x01-0x10
    return plain.rstrip(b"\x00")


def decrypt_v2(data: str, key: bytes) -> dict[str, Any]:
    """Inverse of :func:`encrypt_v2`; :class:`FrameError` for a wrong key or a damaged envelope."""
    return _json_object(_open_ecb(data, key, "envelope"), "decrypted envelope (wrong key?)")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    """``data`` as one JSON object, or a :class:`FrameError` naming ``what``."""
    try:
        body = _json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise FrameError(f"{what} is not JSON") from exc
    if not isinstance(body, dict):
        raise FrameError(f"{what} is not a JSON object")
    return body


def encode_v2_privileged(message: Mapping[str, Any], credentials: V2Credentials) -> bytes:
    """The request bytes of a privileged API 2.x command: ``{"enc":1,"data":<base64>}``.

    ``message`` is ``{"cmd": ..., <arguments>}``; the token is added here.
    """
    signed = {**message, "token": credentials.host_sign}
    return json.dumps({"enc": 1, "data": encrypt_v2(signed, credentials.aes_key)}).encode()


def encode_v3_frame(message: Mapping[str, Any]) -> bytes:
    """One API 3.x message: 4-byte little-endian length, then the JSON bytes."""
    body = _json.dumps(message)
    return struct.pack("<I", len(body)) + body


class V3FrameReader:
    """Splits an API 3.x byte stream into JSON messages, bounded by ``max_bytes`` per frame."""

    __slots__ = ("_buf", "_max")

    def __init__(self, max_bytes: int = V3_MAX_FRAME_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_bytes

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Messages completed by ``data``; :class:`FrameError` on an oversized or non-JSON frame."""
        self._buf += data
        out: list[dict[str, Any]] = []
        while len(self._buf) >= 4:
            (length,) = struct.unpack_from("<I", self._buf)
            if length > self._max:
                raise FrameTooLarge(f"frame of {length} bytes is over the {self._max}-byte bound")
            if len(self._buf) < 4 + length:
                break
            body = bytes(self._buf[4 : 4 + length])
            del self._buf[: 4 + length]
            out.append(_json_object(body, "frame"))
        return out

    @property
    def pending(self) -> int:
        """Bytes received of a frame not yet complete [bytes]."""
        return len(self._buf)


def _v3_digest(command: str, password: str, salt: str, ts: int) -> bytes:
    return hashlib.sha256(f"{command}{password}{salt}{ts}".encode()).digest()


def v3_token(command: str, password: str, salt: str, ts: int) -> str:
    """The API 3.x ``token`` of a ``set.*`` command sent at unix time ``ts`` [s]."""
    return base64.b64encode(_v3_digest(command, password, salt, ts)).decode()[:8]


def encrypt_v3_param(param: Any, command: str, password: str, salt: str, ts: int) -> str:
    """The encrypted ``param`` of ``set.miner.pools`` / ``set.user.change_passwd``: JSON,
    PKCS#7-padded, AES-256-ECB keyed by the full sha256 of the token text, in base64."""
    plain = json.dumps(param, separators=(",", ":")).encode()
    pad = 16 - len(plain) % 16
    plain += bytes([pad]) * pad
    enc = _aes(_v3_digest(command, password, salt, ts)).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt_v3_param(data: str, command: str, password: str, salt: str, ts: int) -> Any:
    """A ``param`` sent encrypted (``set.miner.pools``): AES-256-ECB keyed by the full sha256
    of the token text, PKCS#7- or NUL-padded JSON in base64. :class:`FrameError` when it does
    not open. The vendor's own client encodes the JSON twice (a JSON string of the list): the
    inner text is decoded too."""
    plain = _open_ecb(data, _v3_digest(command, password, salt, ts), "param")
    try:
        value = json.loads(plain.decode("utf-8"))
        return json.loads(value) if isinstance(value, str) else value
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError("param does not decrypt to JSON") from exc

"""Bitcoin addresses <-> scriptPubKey: base58check (P2PKH, P2SH) and bech32/bech32m (BIP 173/350).

Written from the BIPs' reference algorithms (a few dozen lines; no runtime dependency).
Networks: ``mainnet``, ``testnet`` (testnet3, testnet4 and signet share its prefixes) and
``regtest`` (base58 prefixes as testnet, bech32 HRP ``bcrt``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hashwatt.errors import AddressError

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}
#: BIP 173 / BIP 350 checksum constants.
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    p2pkh_prefix: int
    p2sh_prefix: int
    hrp: str


NETWORKS: dict[str, Network] = {
    "mainnet": Network("mainnet", 0x00, 0x05, "bc"),
    "testnet": Network("testnet", 0x6F, 0xC4, "tb"),
    "regtest": Network("regtest", 0x6F, 0xC4, "bcrt"),
}
_ALIASES = {
    "main": "mainnet",
    "test": "testnet",
    "testnet3": "testnet",
    "testnet4": "testnet",
    "signet": "testnet",
}


def network(name: str) -> Network:
    """Network by name (``main``/``test``/``signet``/``testnet4`` as Bitcoin Core's chain names)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in NETWORKS:
        raise AddressError(f"unknown network {name!r} (mainnet, testnet, testnet4, signet, regtest)")
    return NETWORKS[key]


@dataclass(frozen=True, slots=True)
class Address:
    """A decoded address: its network, kind (p2pkh, p2sh, p2wpkh, p2wsh, p2tr, witness_vN) and script."""

    text: str
    network: str
    kind: str
    script_pubkey: bytes


# -- base58check -------------------------------------------------------------------------------


def b58decode(text: str) -> bytes:
    value = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise AddressError(f"invalid base58 character {ch!r}")
        value = value * 58 + _B58_INDEX[ch]
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\x00" * pad + raw


def b58encode(data: bytes) -> str:
    value = int.from_bytes(data, "big")
    out = ""
    while value:
        value, rem = divmod(value, 58)
        out = _B58_ALPHABET[rem] + out
    pad = len(data) - len(data.lstrip(b"\x00"))
    return "1" * pad + out


def b58check_decode(text: str) -> bytes:
    """Payload (version byte included) of a base58check string; checksum verified."""
    raw = b58decode(text)
    if len(raw) < 5:
        raise AddressError("base58check string too short")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise AddressError("base58check checksum mismatch")
    return payload


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4])


# -- bech32 / bech32m --------------------------------------------------------------------------


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str) -> tuple[str, list[int], int]:
    """(hrp, data without checksum, checksum constant) of a bech32 or bech32m string."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise AddressError("bech32 string has characters outside US-ASCII 33..126")
    if text.lower() != text and text.upper() != text:
        raise AddressError("bech32 string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        raise AddressError("bech32 string has a bad separator position or length")
    hrp = text[:pos]
    try:
        data = [_BECH32_INDEX[c] for c in text[pos + 1 :]]
    except KeyError as exc:
        raise AddressError(f"invalid bech32 character {exc.args[0]!r}") from exc
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        raise AddressError("bech32 checksum mismatch")
    return hrp, data[:-6], const


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    values = _hrp_expand(hrp) + data
    polymod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


def convert_bits(data: list[int] | bytes, from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise AddressError("invalid value in bit conversion")
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        raise AddressError("invalid padding in bech32 data")
    return out


def decode_segwit(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address with the given HRP (BIP 173/350 rules)."""
    got_hrp, data, const = bech32_decode(text)
    if got_hrp != hrp:
        raise AddressError(f"address HRP {got_hrp!r} is not this network's {hrp!r}")
    if not data:
        raise AddressError("segwit address without a witness version")
    version = data[0]
    program = bytes(convert_bits(data[1:], 5, 8, pad=False))
    if version > 16:
        raise AddressError(f"witness version {version} > 16")
    if not 2 <= len(program) <= 40:
        raise AddressError(f"witness program of {len(program)} bytes (allowed 2..40)")
    if version == 0 and len(program) not in (20, 32):
        raise AddressError("a v0 witness program must be 20 or 32 bytes")
    if (version == 0) != (const == BECH32_CONST):
        raise AddressError("v0 addresses use bech32, v1+ use bech32m (BIP 350)")
    return version, program


def encode_segwit(hrp: str, version: int, program: bytes) -> str:
    const = BECH32_CONST if version == 0 else BECH32M_CONST
    return bech32_encode(hrp, [version, *convert_bits(program, 8, 5, pad=True)], const)


# -- scripts -----------------------------------------------------------------------------------


def witness_script(version: int, program: bytes) -> bytes:
    """OP_n <program>: the segwit output script."""
    return bytes((0 if version == 0 else 0x50 + version, len(program))) + program


def p2pkh_script(pubkey_hash: bytes) -> bytes:
    return b"\x76\xa9\x14" + pubkey_hash + b"\x88\xac"  # DUP HASH160 <20> EQUALVERIFY CHECKSIG


def p2sh_script(script_hash: bytes) -> bytes:
    return b"\xa9\x14" + script_hash + b"\x87"  # HASH160 <20> EQUAL


def _decode_for(text: str, net: Network) -> Address:
    if text.lower().startswith(net.hrp + "1"):
        version, program = decode_segwit(net.hrp, text)
        kind = {
            (0, 20): "p2wpkh",
            (0, 32): "p2wsh",
            (1, 32): "p2tr",
        }.get((version, len(program)), f"witness_v{version}")
        return Address(text, net.name, kind, witness_script(version, program))
    payload = b58check_decode(text)
    if len(payload) != 21:
        raise AddressError(f"base58 address payload is {len(payload) - 1} bytes, expected 20")
    if payload[0] == net.p2pkh_prefix:
        return Address(text, net.name, "p2pkh", p2pkh_script(payload[1:]))
    if payload[0] == net.p2sh_prefix:
        return Address(text, net.name, "p2sh", p2sh_script(payload[1:]))
    raise AddressError(f"address version byte 0x{payload[0]:02x} does not belong to {net.name}")


def parse_address(text: str, network_name: str | None = None) -> Address:
    """Decode ``text``; with ``network_name`` it must belong to that network, else it is inferred
    (base58 test prefixes are reported as ``testnet``; they are valid on regtest too)."""
    text = text.strip()
    if not text:
        raise AddressError("empty address")
    if network_name is not None:
        return _decode_for(text, network(network_name))
    lowered = text.lower()
    for name in ("regtest", "mainnet", "testnet"):  # bcrt before bc
        net = NETWORKS[name]
        if lowered.startswith(net.hrp + "1"):
            return _decode_for(text, net)
    errors: list[str] = []
    for name in ("mainnet", "testnet"):
        try:
            return _decode_for(text, NETWORKS[name])
        except AddressError as exc:
            errors.append(str(exc))
    if any("checksum" in e or "character" in e or "payload" in e for e in errors):
        raise AddressError(f"invalid address {text!r}: {errors[0]}")
    raise AddressError(f"address {text!r} belongs to no known network")


def address_to_script(text: str, network_name: str | None = None) -> bytes:
    """The scriptPubKey that pays ``text``."""
    return parse_address(text, network_name).script_pubkey


def script_to_address(script_pubkey: bytes, network_name: str = "mainnet") -> str | None:
    """The address a standard output script pays (P2PKH, P2SH, segwit v0..v16); None otherwise.

    Bare public keys (P2PK, early coinbases), OP_RETURN and non-standard scripts have no address.
    """
    net = network(network_name)
    s = script_pubkey
    if len(s) == 25 and s[:3] == b"\x76\xa9\x14" and s[23:] == b"\x88\xac":
        return b58check_encode(bytes((net.p2pkh_prefix,)) + s[3:23])
    if len(s) == 23 and s[:2] == b"\xa9\x14" and s[22] == 0x87:
        return b58check_encode(bytes((net.p2sh_prefix,)) + s[2:22])
    if 4 <= len(s) <= 42 and (s[0] == 0 or 0x51 <= s[0] <= 0x60) and s[1] == len(s) - 2:
        version = 0 if s[0] == 0 else s[0] - 0x50
        program = s[2:]
        if version == 0 and len(program) not in (20, 32):
            return None
        if 2 <= len(program) <= 40:
            return encode_segwit(net.hrp, version, program)
    return None

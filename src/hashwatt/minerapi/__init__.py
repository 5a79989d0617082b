"""Miner firmware wire formats shared by device twins and device clients (sans-IO, no asyncio).

- cgminer/bmminer/LuxOS JSON API on TCP 4028: :func:`encode_request`, :class:`RequestBuffer`
  (server side, bounded), :func:`encode_reply` (JSON + NUL), :func:`decode_reply` (tolerates
  the ``}{`` quirk), :func:`split_multi` / :func:`join_multi` for ``a+b`` multi-commands.
- Whatsminer API 2.x: :func:`derive_v2_credentials` (md5crypt-based token and AES key),
  :func:`encrypt_v2` / :func:`decrypt_v2` (AES-256-ECB envelope), :func:`encode_v2_privileged`.
- Whatsminer API 3.x on TCP 4433: :func:`encode_v3_frame`, :class:`V3FrameReader`,
  :func:`v3_token`, :func:`encrypt_v3_param` / :func:`decrypt_v3_param` (the encrypted
  ``set.miner.pools`` parameter).

Errors derive from :class:`MinerApiError`; malformed bytes raise :class:`FrameError`.
"""

from hashwatt.minerapi._cgminer import (
    MAX_REPLY_BYTES,
    MAX_REQUEST_BYTES,
    CgminerRequest,
    RequestBuffer,
    decode_reply,
    encode_reply,
    encode_request,
    join_multi,
    parse_request,
    split_multi,
)
from hashwatt.minerapi._whatsminer import (
    V2_DEFAULT_PASSWORD,
    V3_DEFAULT_PASSWORD,
    V3_MAX_FRAME_BYTES,
    V2Credentials,
    V3FrameReader,
    decrypt_v2,
    decrypt_v3_param,
    derive_v2_credentials,
    encode_v2_privileged,
    encode_v3_frame,
    encrypt_v2,
    encrypt_v3_param,
    md5crypt,
    v3_token,
)
from hashwatt.minerapi.errors import FrameError, FrameTooLarge, MinerApiError

__all__ = [
    "MAX_REPLY_BYTES",
    "MAX_REQUEST_BYTES",
    "V2_DEFAULT_PASSWORD",
    "V3_DEFAULT_PASSWORD",
    "V3_MAX_FRAME_BYTES",
    "CgminerRequest",
    "FrameError",
    "FrameTooLarge",
    "MinerApiError",
    "RequestBuffer",
    "V2Credentials",
    "V3FrameReader",
    "decode_reply",
    "decrypt_v2",
    "decrypt_v3_param",
    "derive_v2_credentials",
    "encode_reply",
    "encode_request",
    "encode_v2_privileged",
    "encode_v3_frame",
    "encrypt_v2",
    "encrypt_v3_param",
    "join_multi",
    "md5crypt",
    "parse_request",
    "split_multi",
    "v3_token",
]

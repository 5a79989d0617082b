"""Compact JSON for the wire: orjson on the hot path, :mod:`json` for what orjson refuses.

A fleet poll decodes one multi-command reply per device and a twin encodes one per request;
orjson does either several times faster than :mod:`json`. Firmware sends what strict JSON
forbids (``NaN``, integers past 64 bits), so a refused decode gets a second try by :mod:`json`
and the caller's own error handling; encoding falls back the same way.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "loads"]


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (key order kept, no spaces)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer past 64 bits, or a type orjson does not know
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises :class:`ValueError` (``json.JSONDecodeError`` or
    ``UnicodeDecodeError``) when neither parser accepts ``data``."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text)

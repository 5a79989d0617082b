"""Stratum errors: the room's exception base and the protocol's numeric error codes.

::

    HashwattError
    └── StratumError               anything the Stratum layer raises on purpose
        ├── ProtocolViolation      a peer sent bytes that break the protocol (bad JSON, long line)
        ├── RemoteError            the peer answered a request with a Stratum error [code, msg]
        └── ShareLogError          the durable share log could not be opened or written
"""

from __future__ import annotations

from enum import IntEnum

from hashwatt.errors import HashwattError


class ErrorCode(IntEnum):
    """Stratum V1 error codes (the de-facto set used by cgminer, cpuminer, ckpool, slush)."""

    OTHER = 20
    JOB_NOT_FOUND = 21
    DUPLICATE_SHARE = 22
    LOW_DIFFICULTY = 23
    UNAUTHORIZED = 24
    NOT_SUBSCRIBED = 25


class StratumError(HashwattError):
    """Base of every error the Stratum layer raises."""


class ProtocolViolation(StratumError):
    """The peer broke the wire protocol (malformed JSON, over-long line, wrong shapes)."""


class RemoteError(StratumError):
    """A Stratum error answer ``[code, message, traceback]`` from the peer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"stratum error {code}: {message}")
        self.code = code
        self.message = message


class ShareLogError(StratumError):
    """The share log database could not be opened or written."""

"""Stratum errors: the room's exception base and the protocol's numeric error codes.

::

    HashwattError
    └── StratumError               anything the Stratum layer raises on purpose
        ├── ProtocolViolation      a peer broke the protocol; ``.code`` is the Stratum error to answer
        ├── RemoteError            the peer answered a request with a Stratum error ``.code``, ``.message``
        ├── ShareLogError          the durable share log could not be opened or written (``.url`` redacted)
        ├── PoolUrlError           a pool URL that does not parse (also an ``InputError``; ``.text``)
        ├── PoolConfigError        a pool setting out of range (also an ``InputError``; ``.setting``)
        ├── ExtranonceExhausted    no extranonce1 left in a connection group (``.group``): the
        │                          server is full, which is no strike against the miner
        └── ListenError            the server cannot listen on ``.host``:``.port`` (in use, unassignable)
"""

from __future__ import annotations

from enum import IntEnum

from hashwatt._redact import redact_url, redact_urls_in
from hashwatt.errors import HashwattError, InputError


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
    """The peer broke the wire protocol (malformed JSON, over-long line, wrong shapes).

    ``code`` is the Stratum error code a server answers it with (h11's ``error_status_hint``).
    """

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.OTHER) -> None:
        super().__init__(message)
        self.code = code


class RemoteError(StratumError):
    """A Stratum error answer ``[code, message, traceback]`` from the peer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"stratum error {code}: {message}")
        self.code = code
        self.message = message


class ShareLogError(StratumError):
    """The share log database could not be opened or written; ``url`` has no password."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class PoolUrlError(StratumError, InputError):
    """A pool URL (``stratum+tcp://HOST:PORT``) that does not parse; ``text`` is what was given,
    with any password masked (miners' configs carry ``stratum+tcp://user:pass@host``)."""

    def __init__(self, message: str, *, text: str) -> None:
        raw = text if "://" in text else "stratum+tcp://" + text
        shown = text if redact_url(raw) == raw else redact_url(raw)
        super().__init__(redact_urls_in(message.replace(text, shown)), field="url", value=shown)
        self.text = shown


class ExtranonceExhausted(StratumError):
    """Every extranonce1 of a connection group is in use: the pool is full, not the miner at fault."""

    def __init__(self, group: str) -> None:
        super().__init__(f"extranonce1 space of group {group or 'default'!r} exhausted (server full)")
        self.group = group


class ListenError(StratumError):
    """The pool cannot listen on ``host:port`` (address in use, not assignable, no permission)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


class PoolConfigError(StratumError, InputError):
    """A pool setting out of range (a difficulty that is not a finite positive number, a floor
    above the start); ``setting`` names it (also as ``field``, with ``value`` what was given)."""

    def __init__(self, setting: str, message: str, *, value: object = None) -> None:
        super().__init__(f"{setting}: {message}", field=setting, value=value)
        self.setting = setting

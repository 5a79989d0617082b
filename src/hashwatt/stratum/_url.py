"""Pool URLs: ``stratum+tcp://host:port`` (the form every miner's ``-o`` takes)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from hashwatt.stratum.errors import PoolUrlError


@dataclass(frozen=True, slots=True)
class PoolUrl:
    """``stratum+tcp://host:port`` (``stratum://`` and a bare ``host:port`` also accepted).

    An IPv6 host goes in brackets: ``stratum+tcp://[::1]:3333``.
    """

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PoolUrl:
        """Parse ``text``; :class:`PoolUrlError` (one line a user can act on) if it is not a pool URL."""
        raw = text.strip()
        if "://" not in raw:
            raw = "stratum+tcp://" + raw
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError as exc:  # urllib: "Invalid IPv6 URL", "Port out of range 0-65535", ...
            raise PoolUrlError(
                f"pool URL {text!r} does not parse ({exc}); write stratum+tcp://HOST:PORT, "
                "an IPv6 host in brackets: stratum+tcp://[::1]:3333",
                text=text,
            ) from exc
        if parts.scheme not in {"stratum+tcp", "stratum", "tcp"}:
            raise PoolUrlError(f"pool URL must be stratum+tcp://HOST:PORT, got {text!r}", text=text)
        if not parts.hostname or port is None:
            raise PoolUrlError(f"pool URL needs a host and a port: {text!r}", text=text)
        if port == 0:
            raise PoolUrlError(f"pool URL port must be 1..65535: {text!r}", text=text)
        return cls(parts.hostname, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"stratum+tcp://{host}:{self.port}"

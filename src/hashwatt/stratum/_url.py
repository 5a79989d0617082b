"""Pool URLs: ``stratum+tcp://host:port`` (the form every miner's ``-o`` takes)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from hashwatt.errors import InputError


@dataclass(frozen=True, slots=True)
class PoolUrl:
    """``stratum+tcp://host:port`` (``stratum://`` and a bare ``host:port`` also accepted)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PoolUrl:
        raw = text.strip()
        if "://" not in raw:
            raw = "stratum+tcp://" + raw
        parts = urlsplit(raw)
        if parts.scheme not in {"stratum+tcp", "stratum", "tcp"}:
            raise InputError(f"pool URL must be stratum+tcp://HOST:PORT, got {text!r}")
        try:
            port = parts.port
        except ValueError as exc:
            raise InputError(f"bad port in pool URL {text!r}") from exc
        if not parts.hostname or port is None:
            raise InputError(f"pool URL needs a host and a port: {text!r}")
        return cls(parts.hostname, port)

    def __str__(self) -> str:
        return f"stratum+tcp://{self.host}:{self.port}"

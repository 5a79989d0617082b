"""Device credentials: per device, per site or per model, with the firmware's factory default.

A :class:`Credentials` never shows its password: its ``repr`` and ``str`` redact it, so it can
travel through logs, errors and tracebacks safely. The store keeps a reference or ciphertext,
never this value in plain text.

Operators keep them in a credentials TOML file (:func:`load_credentials_file`), one table per
device address, site or model::

    [device."10.0.0.5"]            # a host, or HOST:PORT
    user = "root"
    password_env = "MINER_5_PW"    # read from the environment, or: password = "..."

    [site.north]
    user = "root"
    password = "..."

    [model."Antminer S19 Pro"]    # the model string the firmware reports (any case)
    user = "root"
    password = "..."

Precedence: device, then site, then model, then the firmware's factory default (and the device
is then flagged as still on factory credentials).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from hashwatt._toml import read_toml
from hashwatt.fleet._types import Firmware
from hashwatt.fleet.errors import CredentialsFileError

__all__ = [
    "FACTORY_CREDENTIALS",
    "CredentialStore",
    "Credentials",
    "ResolvedCredentials",
    "load_credentials_file",
]


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password for a device's privileged API (or web interface)."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password='***')"

    __str__ = __repr__


# The defaults each firmware ships with (what pyasic and the vendors' manuals name).
FACTORY_CREDENTIALS: Mapping[Firmware, Credentials] = {
    Firmware.STOCK: Credentials("root", "root"),  # Digest on the web CGI, realm "antMiner Configuration"
    Firmware.LUXOS: Credentials("root", "root"),  # LuxOS sessions need none on the API; its web uses root
    Firmware.WHATSMINER: Credentials("admin", "admin"),  # API 2.x token password
    Firmware.WHATSMINER_V3: Credentials("super", "super"),  # API 3.x account "super"
}


@dataclass(frozen=True, slots=True)
class ResolvedCredentials:
    credentials: Credentials
    factory: bool  # True when no credential was configured and the factory default is in use


@dataclass(slots=True)
class CredentialStore:
    """Where credentials are looked up: the device's own, then its site's, then its model's.

    ``by_device`` is keyed by host (or ``host:port``), ``by_model`` by the model name as the
    firmware reports it, case-insensitively.
    """

    by_device: dict[str, Credentials] = field(default_factory=dict)
    by_site: dict[str, Credentials] = field(default_factory=dict)
    by_model: dict[str, Credentials] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"CredentialStore({len(self.by_device)} devices, {len(self.by_site)} sites, {len(self.by_model)} models)"

    def resolve(
        self,
        firmware: Firmware,
        *,
        host: str = "",
        address: str = "",
        site: str | None = None,
        model: str | None = None,
    ) -> ResolvedCredentials:
        """The most specific configured credentials, else the firmware's factory default."""
        for key in (address, host):
            if key and key in self.by_device:
                return ResolvedCredentials(self.by_device[key], factory=False)
        if site is not None and site in self.by_site:
            return ResolvedCredentials(self.by_site[site], factory=False)
        if model is not None:
            wanted = model.strip().lower()
            for name, creds in self.by_model.items():
                if name.strip().lower() == wanted:
                    return ResolvedCredentials(creds, factory=False)
        return ResolvedCredentials(FACTORY_CREDENTIALS[firmware], factory=True)


_Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _Entry(BaseModel):
    """One table of the file: a user and either a password or the variable that holds it."""

    model_config = ConfigDict(extra="forbid")
    user: _Name
    password: Annotated[str, StringConstraints(max_length=256)] | None = None
    password_env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Entry:
        if (self.password is None) == (self.password_env is None):
            raise ValueError("give exactly one of password or password_env")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device: dict[_Name, _Entry] = Field(default_factory=dict)
    site: dict[_Name, _Entry] = Field(default_factory=dict)
    model: dict[_Name, _Entry] = Field(default_factory=dict)


def _credentials(path: Path, table: str, name: str, entry: _Entry) -> Credentials:
    if entry.password_env is None:
        assert entry.password is not None  # checked by _Entry
        return Credentials(entry.user, entry.password)
    value = os.environ.get(entry.password_env)
    if value is None:
        raise CredentialsFileError(
            f"{path}: {table} {name!r}: the environment has no {entry.password_env} (password_env)",
            field=f"{table}.{name}.password_env",
            value=entry.password_env,
            path=str(path),
        )
    return Credentials(entry.user, value)


def load_credentials_file(path: str | Path) -> CredentialStore:
    """A :class:`CredentialStore` from a credentials TOML file; any mistake is one
    :class:`~hashwatt.fleet.errors.CredentialsFileError` that names the table, never a secret."""
    path = Path(path)
    doc = read_toml(path, what="credentials file", error=CredentialsFileError)
    try:
        parsed = _File(**doc)
    except ValidationError as exc:
        first = exc.errors()[0]  # its "input" may be a password: only the location and the rule
        where = ".".join(str(p) for p in first["loc"])
        raise CredentialsFileError(
            f"{path}: {where}: {first['msg']}", field=where, value=None, path=str(path)
        ) from None
    tables = {
        table: {name: _credentials(path, table, name, e) for name, e in getattr(parsed, table).items()}
        for table in ("device", "site", "model")
    }
    return CredentialStore(by_device=tables["device"], by_site=tables["site"], by_model=tables["model"])

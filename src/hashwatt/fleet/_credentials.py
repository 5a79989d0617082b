"""Device credentials: per device, per site or per model, with the firmware's factory default.

A :class:`Credentials` never shows its password: its ``repr`` and ``str`` redact it, so it can
travel through logs, errors and tracebacks safely. The store keeps a reference or ciphertext,
never this value in plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hashwatt.fleet._types import Firmware

__all__ = ["FACTORY_CREDENTIALS", "CredentialStore", "Credentials", "ResolvedCredentials"]


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

"""Errors of the fleet service. A failed poll is one of these, never an empty reading: an
offline miner must not look like an idle one."""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError

__all__ = [
    "AlertConfigError",
    "CommandError",
    "ControlUnsupported",
    "CredentialsFileError",
    "DeviceAuthFailed",
    "DeviceError",
    "DeviceReplyInvalid",
    "DeviceTimeout",
    "DeviceUnreachable",
    "FleetError",
    "FleetInputError",
    "PriceFeedError",
    "StoreError",
]


class FleetError(HashwattError):
    """Base of every error raised by :mod:`hashwatt.fleet`."""


class DeviceError(FleetError):
    """A device could not be read or controlled; ``address`` is ``host:port`` (never credentials)
    and ``command`` the API command or CGI page being run (``""`` when not known)."""

    def __init__(self, message: str, *, address: str = "", command: str = "") -> None:
        super().__init__(f"{address}: {message}" if address else message)
        self.address = address
        self.command = command


class DeviceUnreachable(DeviceError):
    """Connection refused, no route, or the connection dropped before a reply."""


class DeviceTimeout(DeviceUnreachable):
    """The device accepted the connection (or not) but did not answer within its deadline."""


class DeviceReplyInvalid(DeviceError):
    """The device answered, but not with a reply of its firmware's shape (garbage, truncated JSON)."""


class DeviceAuthFailed(DeviceError):
    """The credentials tried were refused."""


class ControlUnsupported(DeviceError):
    """The firmware has no such control (e.g. a power target on stock Antminer firmware)."""


class FleetInputError(FleetError, InputError):
    """Bad operator input to the fleet service (an address range with a typo, an unknown action)."""


class StoreError(FleetError):
    """The fleet database could not be opened, migrated or written (URL shown without password)."""


class AlertConfigError(FleetInputError):
    """The alert-rules TOML file is missing, malformed or names an unknown threshold."""


class CommandError(FleetInputError):
    """A command cannot be queued or acknowledged (unknown site, action or state)."""


class CredentialsFileError(FleetInputError):
    """The credentials TOML file is missing, malformed or names an unset variable (no secret shown)."""


class PriceFeedError(FleetInputError):
    """A live price feed could not be fetched or did not parse as hourly USD/MWh prices."""

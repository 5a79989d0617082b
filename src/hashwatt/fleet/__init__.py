"""The fleet operations service: devices, discovery, telemetry store, alerts, control, curtailment.

It sees miners (real ones and hashwatt's twins alike) only through the network.
"""

from hashwatt.fleet._types import (
    BoardReading,
    DeviceIdentity,
    DeviceState,
    Endpoint,
    Firmware,
    PollOutcome,
    PollResult,
    PoolReading,
    Telemetry,
)
from hashwatt.fleet.errors import (
    ControlUnsupported,
    DeviceAuthFailed,
    DeviceError,
    DeviceReplyInvalid,
    DeviceTimeout,
    DeviceUnreachable,
    FleetError,
)

__all__ = [
    "BoardReading",
    "ControlUnsupported",
    "DeviceAuthFailed",
    "DeviceError",
    "DeviceIdentity",
    "DeviceReplyInvalid",
    "DeviceState",
    "DeviceTimeout",
    "DeviceUnreachable",
    "Endpoint",
    "Firmware",
    "FleetError",
    "PollOutcome",
    "PollResult",
    "PoolReading",
    "Telemetry",
]

"""Datasets shipped with hashwatt (with attribution in ``files/SOURCES.md``) and live adapters.

Everything else in hashwatt reads data only through this package.
"""

from hashwatt.data._embedded import embedded_path, load_retarget_history
from hashwatt.data.hardware import (
    MinerModel,
    UnknownMinerError,
    find_miner,
    hardware_catalog,
    load_catalog_file,
)
from hashwatt.data.history import (
    DateOutOfRangeError,
    NetworkSnapshot,
    daily_history,
    history_range,
    network_snapshot,
)
from hashwatt.data.live import LiveDataError, LiveSource, MempoolSpaceSource, live_snapshot

__all__ = [
    "DateOutOfRangeError",
    "LiveDataError",
    "LiveSource",
    "MempoolSpaceSource",
    "MinerModel",
    "NetworkSnapshot",
    "UnknownMinerError",
    "daily_history",
    "embedded_path",
    "find_miner",
    "hardware_catalog",
    "history_range",
    "live_snapshot",
    "load_catalog_file",
    "load_retarget_history",
    "network_snapshot",
]

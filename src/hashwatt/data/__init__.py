"""Datasets shipped with hashwatt (with attribution in ``files/SOURCES.md``) and live adapters.

Everything else in hashwatt reads data only through this package.
"""

from hashwatt.data._embedded import embedded_path, load_retarget_history
from hashwatt.data.asof import STALE_AFTER_DAYS, AsOf, DatedInput, utc_today
from hashwatt.data.coins import (
    AlgoMachine,
    AlgoRate,
    MiningAlgorithm,
    alt_hardware_rows,
    coin_daily_history,
    lookup_algo_machine,
    parse_hashrate_hs,
)
from hashwatt.data.hardware import (
    AmbiguousMinerError,
    MinerLookup,
    MinerModel,
    UnknownMinerError,
    find_miner,
    hardware_catalog,
    load_catalog_file,
    lookup_miner,
)
from hashwatt.data.history import (
    DateOutOfRangeError,
    NetworkSnapshot,
    current_snapshot,
    daily_history,
    history_range,
    network_snapshot,
    recent_prices,
)
from hashwatt.data.live import LiveDataError, LiveSource, MempoolSpaceSource, live_snapshot

__all__ = [
    "STALE_AFTER_DAYS",
    "AlgoMachine",
    "AlgoRate",
    "AmbiguousMinerError",
    "AsOf",
    "DateOutOfRangeError",
    "DatedInput",
    "LiveDataError",
    "LiveSource",
    "MempoolSpaceSource",
    "MinerLookup",
    "MinerModel",
    "MiningAlgorithm",
    "NetworkSnapshot",
    "UnknownMinerError",
    "alt_hardware_rows",
    "coin_daily_history",
    "current_snapshot",
    "daily_history",
    "embedded_path",
    "find_miner",
    "hardware_catalog",
    "history_range",
    "live_snapshot",
    "load_catalog_file",
    "load_retarget_history",
    "lookup_algo_machine",
    "lookup_miner",
    "network_snapshot",
    "parse_hashrate_hs",
    "recent_prices",
    "utc_today",
]

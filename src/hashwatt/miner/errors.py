"""Errors of the mining loop (``hashwatt.miner``).

::

    HashwattError
    └── MinerError                 the search engine, the pool client, the solo and demo sources
        ├── MinerInputError        a setting out of range (also an InputError)
        │   └── EngineInputError   an engine setting (threads, batch size, target; also a PowInputError)
        └── EngineError            the engine is busy, timed out, or a worker failed (also a PowError)

The engine errors also derive from :mod:`hashwatt.pow`'s, which the engine drives, so code
that catches ``PowError`` around a search keeps working.
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError
from hashwatt.pow.errors import PowError, PowInputError

__all__ = ["EngineError", "EngineInputError", "MinerError", "MinerInputError"]


class MinerError(HashwattError):
    """Base of the mining loop's errors."""


class MinerInputError(MinerError, InputError):
    """A miner setting (pool list, worker, duration) that cannot be used."""


class EngineInputError(MinerInputError, PowInputError):
    """An engine setting or search argument out of its range."""


class EngineError(MinerError, PowError):
    """The engine cannot do what was asked now (already running), or a search failed or timed out."""

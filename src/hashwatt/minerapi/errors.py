"""Errors of the miner-firmware wire codecs.

::

    HashwattError
    └── MinerApiError              a firmware wire format could not be read or written
        └── FrameError             bytes that are not a valid frame (garbage, bad JSON, bad envelope)
            └── FrameTooLarge      a frame larger than the caller's bound
"""

from __future__ import annotations

from hashwatt.errors import HashwattError


class MinerApiError(HashwattError):
    """Base of every error the miner-API codecs raise."""


class FrameError(MinerApiError, ValueError):
    """Bytes that do not form a valid request, reply or envelope."""


class FrameTooLarge(FrameError):
    """A frame over the size bound the reader was given."""

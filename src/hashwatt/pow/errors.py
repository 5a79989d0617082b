"""Errors of the proof-of-work room.

::

    HashwattError
    └── PowError                     hashwatt.pow and the search engine
        ├── BackendUnavailable       the asked backend cannot run here (no compiler, no CUDA device)
        └── KernelError              a kernel returned a hit that hashlib does not confirm

Bad user input (a header that is not 76 bytes, a negative count, a target outside
``[0, 2**256)``) raises :class:`PowInputError`, which is both a ``PowError`` and the
project-wide :class:`~hashwatt.errors.InputError`.
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError


class PowError(HashwattError):
    """Base of every error raised by :mod:`hashwatt.pow` and the search engine."""


class PowInputError(PowError, InputError):
    """A header, nonce range, target or engine setting given by the caller is malformed."""


class BackendUnavailable(PowError):
    """The requested hash backend cannot run on this machine; the message says why."""


class KernelError(PowError):
    """A backend reported a nonce whose hash, recomputed with hashlib, misses the target."""

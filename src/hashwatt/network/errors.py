"""Errors of the network-analytics room.

::

    HashwattError
    └── NetworkError               network analytics (hashwatt.network)
        └── NetworkInputError      an argument out of its domain (also an InputError) (.field, .value)
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError


class NetworkError(HashwattError):
    """Base of the network-analytics errors."""


class NetworkInputError(NetworkError, InputError):
    """An argument outside its domain (an attacker share outside (0, 1), a negative depth...).

    ``field`` and ``value`` (from :class:`~hashwatt.errors.InputError`) name the parameter and
    hold what was given.
    """


__all__ = ["NetworkError", "NetworkInputError"]

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

    ``field`` names the parameter (``pool_fee``, ``confidence``) and ``value`` holds what was
    given; both are ``None`` when the message is about several parameters or none in particular.
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


__all__ = ["NetworkError", "NetworkInputError"]

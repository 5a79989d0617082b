"""Errors of the economics layer.

::

    HashwattError
    └── EconomicsError
        └── EconomicsInputError (also an InputError): a parameter out of its range (.field, .value)
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError

__all__ = ["EconomicsError", "EconomicsInputError"]


class EconomicsError(HashwattError):
    """Base of the economics layer's errors."""


class EconomicsInputError(EconomicsError, InputError):
    """A model parameter is out of its physical or financial range.

    ``field`` names the parameter (``pool_fee``, ``confidence``) and ``value`` holds what was
    given; both are ``None`` when the message is about several parameters or none in particular.
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

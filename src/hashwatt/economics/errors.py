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

    ``field`` and ``value`` (from :class:`~hashwatt.errors.InputError`) name the parameter and
    hold what was given.
    """

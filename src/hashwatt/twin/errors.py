"""Errors of the device twins.

::

    HashwattError
    └── TwinError                  a twin, site or scenario that cannot be built or served
        └── SiteFileError          a site or scenario file that does not validate
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError


class TwinError(HashwattError):
    """Base of every error the twin room raises."""


class SiteFileError(TwinError, InputError):
    """A site or scenario file (or the equivalent flags) that does not validate."""

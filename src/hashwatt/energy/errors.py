"""Errors of the energy room (``hashwatt.energy``).

::

    HashwattError
    └── EnergyError                 dispatch, tariffs, sites
        ├── TariffError             a tariff file or object that cannot be used
        ├── SiteConfigError         a sites file that cannot be used
        └── SolverError             the LP/MILP failed or hit its time limit without a schedule

Price-file problems are :class:`hashwatt.data.prices.PriceDataError` (a ``DataError``),
raised where the file is read.
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError

__all__ = ["EnergyError", "SiteConfigError", "SolverError", "TariffError"]


class EnergyError(HashwattError):
    """Base of the energy room's errors."""


class TariffError(EnergyError, InputError):
    """A tariff that is malformed or cannot be used the way it was asked."""


class SiteConfigError(EnergyError, InputError):
    """A sites file that is malformed or names data that is not available."""


class SolverError(EnergyError):
    """HiGHS did not return a usable schedule (infeasible, time limit, numerical trouble)."""

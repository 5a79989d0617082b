"""Climate-driven overheads: PUE and hashrate derating from hourly ambient temperature.

Both models are simple, **assumed** piecewise-linear curves for air-cooled sites, stated
here so they can be checked and overridden (every parameter is a keyword):

- PUE = ``pue_base`` + ``pue_slope_per_c`` x max(0, T - ``pue_ref_c``), capped at ``pue_max``
  (fans and evaporative cooling work harder above the reference temperature);
- hashrate multiplier = 1 - ``derate_per_c`` x max(0, T - ``derate_start_c``), floored at
  ``derate_floor`` (firmware throttles chips when intake air is too hot).

Defaults (1.04 + 0.006/degC above 20 degC, max 1.25; 2 %/degC above 35 degC) are
illustrative, not fitted to a published dataset.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["ClimateModel"]


@dataclasses.dataclass(frozen=True, slots=True)
class ClimateModel:
    """Parameters of the PUE and derating curves [-, degC, 1/degC]."""

    pue_base: float = 1.04
    pue_ref_c: float = 20.0
    pue_slope_per_c: float = 0.006
    pue_max: float = 1.25
    derate_start_c: float = 35.0
    derate_per_c: float = 0.02
    derate_floor: float = 0.5

    def pue(self, temp_c: np.ndarray | float) -> np.ndarray:
        """PUE for each ambient temperature [degC] (NaN stays NaN)."""
        t = np.asarray(temp_c, dtype=float)
        return np.asarray(
            np.minimum(
                self.pue_base + self.pue_slope_per_c * np.maximum(t - self.pue_ref_c, 0.0), self.pue_max
            ),
            dtype=float,
        )

    def hashrate_derate(self, temp_c: np.ndarray | float) -> np.ndarray:
        """Hashrate multiplier for each ambient temperature [degC], in [derate_floor, 1]."""
        t = np.asarray(temp_c, dtype=float)
        return np.asarray(
            np.maximum(1.0 - self.derate_per_c * np.maximum(t - self.derate_start_c, 0.0), self.derate_floor),
            dtype=float,
        )

"""Machines as a flexible load: classes of identical miners and their power-target curves.

A *class* is a group of identical machines dispatched together (a fleet of 1,000 S21 is one
class). Power is the class total in watts; hashrate follows from the efficiency.

Power-target curve (underclock / overclock): each machine can run at a fraction of its
nominal power; hashrate follows ``h/h_nom = (p/p_nom) ** beta``. With beta < 1 an underclocked
machine is more efficient (J/TH falls as power falls), as autotuning firmware reports. The
default ``beta = 0.5`` between 50 % and 120 % of nominal power is an **assumed, illustrative
model**, not fitted to published data; pass your own points (``PowerCurve(points=...)``)
measured on your fleet. A fleet of many machines can mix off and on machines, so the
fleet's curve is the concave hull of (0, 0) and the machine points; that is what the LP uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from hashwatt.energy.errors import EnergyError

__all__ = ["MachineClass", "MinerSpec", "PowerCurve", "assumed_power_curve"]


class MinerSpec(Protocol):
    """Anything with a model name, a nominal hashrate [TH/s] and power [W] (e.g. ``MinerModel``)."""

    @property
    def model(self) -> str: ...

    @property
    def hashrate_ths(self) -> float: ...

    @property
    def power_w(self) -> float: ...


@dataclasses.dataclass(frozen=True, slots=True)
class PowerCurve:
    """Hashrate as a function of power, both as fractions of nominal.

    ``points`` are (power_fraction, hashrate_fraction) pairs, e.g. ``((0.6, 0.78), (1.0, 1.0),
    (1.2, 1.1))``. J/TH at a point = nominal J/TH x power_fraction / hashrate_fraction.
    """

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise EnergyError("a power curve needs at least one (power_fraction, hashrate_fraction) point")
        for p, h in self.points:
            if not (p > 0 and h > 0):
                raise EnergyError(f"power-curve points must be positive, got ({p}, {h})")
        ps = [p for p, _ in self.points]
        if sorted(ps) != ps or len(set(ps)) != len(ps):
            raise EnergyError("power-curve points must have strictly increasing power fractions")

    @property
    def max_power_fraction(self) -> float:
        return self.points[-1][0]

    def hashrate_fraction(self, power_fraction: np.ndarray | float) -> np.ndarray:
        """Hashrate fraction of one machine at ``power_fraction`` (linear between points, 0 at 0)."""
        ps = np.array([0.0] + [p for p, _ in self.points])
        hs = np.array([0.0] + [h for _, h in self.points])
        return np.asarray(
            np.interp(np.asarray(power_fraction, dtype=float), ps, hs, right=np.nan), dtype=float
        )

    def efficiency_factor(self, power_fraction: np.ndarray | float) -> np.ndarray:
        """J/TH relative to nominal at ``power_fraction`` (power fraction / hashrate fraction)."""
        p = np.asarray(power_fraction, dtype=float)
        return np.asarray(p / self.hashrate_fraction(p), dtype=float)

    def fleet_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """Concave hull of (0,0) and the points: (segment widths, segment slopes), in fractions.

        A fleet fills segments in order of falling slope (hashrate per watt), so maximizing
        hashrate minus cost over these segments is a linear program.
        """
        pts = [(0.0, 0.0), *self.points]
        hull: list[tuple[float, float]] = []
        for p in pts:
            while len(hull) >= 2:
                (x1, y1), (x2, y2) = hull[-2], hull[-1]
                # Drop the middle point if it lies on or below the chord (keeps the upper hull).
                if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                    hull.pop()
                else:
                    break
            hull.append(p)
        xs = np.array([x for x, _ in hull])
        ys = np.array([y for _, y in hull])
        widths = np.diff(xs)
        slopes = np.diff(ys) / widths
        keep = slopes > 0
        return widths[keep], slopes[keep]


def assumed_power_curve(
    *, beta: float = 0.5, min_power_fraction: float = 0.5, max_power_fraction: float = 1.2, points: int = 8
) -> PowerCurve:
    """The assumed curve ``h = p ** beta`` sampled between the given power fractions.

    Notes: beta = 0.5 means 64 % of nominal power gives 80 % of nominal hashrate (J/TH x 0.8).
    An assumption for illustration; override with measured points.
    """
    if not 0 < beta <= 1:
        raise EnergyError(f"beta must be in (0, 1], got {beta}")
    if not 0 < min_power_fraction <= 1 <= max_power_fraction:
        raise EnergyError("need 0 < min_power_fraction <= 1 <= max_power_fraction")
    ps = np.unique(np.r_[np.linspace(min_power_fraction, max_power_fraction, points), 1.0])
    return PowerCurve(tuple((float(p), float(p**beta)) for p in ps))


@dataclasses.dataclass(frozen=True, slots=True)
class MachineClass:
    """A group of identical machines dispatched together.

    ``power_w`` is the class total at nominal settings [W]; ``efficiency_j_per_th`` the
    nominal efficiency [J/TH]. ``curve=None`` means on/off only (power in [0, nominal]).
    ``min_up_h`` / ``min_down_h`` [h] and ``restart_cost_usd`` (per start of the whole class)
    make the LP a MILP; ``ramp_w_per_h`` limits the hour-to-hour change [W/h].
    """

    name: str
    efficiency_j_per_th: float
    power_w: float
    count: int = 1
    curve: PowerCurve | None = None
    min_up_h: int = 0
    min_down_h: int = 0
    restart_cost_usd: float = 0.0
    ramp_w_per_h: float | None = None

    def __post_init__(self) -> None:
        if not self.efficiency_j_per_th > 0:
            raise EnergyError(f"{self.name}: efficiency_j_per_th must be > 0, got {self.efficiency_j_per_th}")
        if not self.power_w > 0:
            raise EnergyError(f"{self.name}: power_w must be > 0, got {self.power_w}")
        if self.min_up_h < 0 or self.min_down_h < 0 or self.restart_cost_usd < 0:
            raise EnergyError(f"{self.name}: min_up_h, min_down_h and restart_cost_usd must be >= 0")
        if self.ramp_w_per_h is not None and self.ramp_w_per_h <= 0:
            raise EnergyError(f"{self.name}: ramp_w_per_h must be > 0")

    @property
    def hashrate_ths(self) -> float:
        """Nominal class hashrate [TH/s]."""
        return self.power_w / self.efficiency_j_per_th

    def efficiency_at(self, power_fraction: float) -> float:
        """Efficiency [J/TH] when run at ``power_fraction`` of nominal power (nominal without a curve)."""
        if self.curve is None:
            return self.efficiency_j_per_th
        return float(self.efficiency_j_per_th * self.curve.efficiency_factor(power_fraction))

    @property
    def needs_binaries(self) -> bool:
        return self.min_up_h > 1 or self.min_down_h > 1 or self.restart_cost_usd > 0

    @classmethod
    def from_miner(cls, miner: MinerSpec, count: int, **kwargs: object) -> MachineClass:
        """``count`` machines of a catalogued model (hashrate [TH/s], power [W] each)."""
        if count <= 0:
            raise EnergyError(f"count must be > 0, got {count}")
        eff = float(miner.power_w) / float(miner.hashrate_ths)
        return cls(
            name=str(miner.model),
            efficiency_j_per_th=eff,
            power_w=float(miner.power_w) * count,
            count=count,
            **kwargs,  # type: ignore[arg-type]
        )

    @classmethod
    def from_efficiency(
        cls, efficiency_j_per_th: float, power_mw: float, *, name: str | None = None
    ) -> MachineClass:
        """A class given by efficiency [J/TH] and total power [MW]."""
        return cls(
            name=name or f"{efficiency_j_per_th:g} J/TH",
            efficiency_j_per_th=efficiency_j_per_th,
            power_w=power_mw * 1e6,
        )


def machine_arrays(machines: Sequence[MachineClass]) -> tuple[np.ndarray, np.ndarray]:
    """(efficiency [J/TH], power [W]) arrays of the classes."""
    if not machines:
        raise EnergyError("no machine classes given")
    eff = np.array([m.efficiency_j_per_th for m in machines], dtype=float)
    power = np.array([m.power_w for m in machines], dtype=float)
    return eff, power

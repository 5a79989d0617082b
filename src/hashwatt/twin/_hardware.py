"""Hardware layout of a twin: the catalog model plus what firmware reports about its boards.

The catalog (``hashwatt.data.hardware``) holds nameplate hashrate and power. Board, chip and
fan counts are published per family; the table below holds the families the twins know,
with a default for the rest.
"""

from __future__ import annotations

import dataclasses
import re

from hashwatt.data.hardware import MinerModel, find_miner

__all__ = ["Hardware", "hardware_for"]


@dataclasses.dataclass(frozen=True, slots=True)
class Hardware:
    """What does not change while a twin runs: nameplate, layout and protection limits."""

    model: MinerModel
    type_name: str  # as the firmware spells it ("Antminer S19 Pro", "M30S+_VE40")
    vendor: str  # "antminer" | "whatsminer"
    boards: int
    chips_per_board: int
    fans: int  # case fans the firmware reports
    max_fan_rpm: int
    nominal_freq_mhz: int
    target_chip_c: float = 75.0  # [degC] fan controller set point
    hot_chip_c: float = 90.0  # [degC] throttling starts
    danger_chip_c: float = 105.0  # [degC] protective shutdown

    @property
    def total_chips(self) -> int:
        return self.boards * self.chips_per_board


# family prefix (normalised, longest first) -> (chips per board, nominal MHz, Whatsminer variant)
_FAMILIES: tuple[tuple[str, int, int], ...] = (
    ("S21XP", 91, 490),
    ("S21PRO", 65, 490),
    ("S21", 108, 490),
    ("T21", 108, 490),
    ("S19XP", 110, 490),
    ("S19KPRO", 77, 525),
    ("S19JPRO", 126, 525),
    ("S19J", 126, 525),
    ("S19PRO", 114, 525),
    ("S19", 76, 525),
    ("M60S", 111, 500),
    ("M60", 111, 500),
    ("M50S", 156, 500),
    ("M50", 156, 500),
    ("M30S++", 117, 500),
    ("M30S+", 111, 500),
    ("M30S", 148, 500),
)

_WHATSMINER_VARIANT = {
    "M60S": "VK40",
    "M60": "VK10",
    "M50S": "VH50",
    "M50": "VH20",
    "M30S++": "VG40",
    "M30S+": "VE40",
}


def _family(name: str) -> tuple[str, int, int] | None:
    key = re.sub(r"[\s_\-]", "", re.sub(r"\(.*?\)", "", name)).upper()
    key = key.removeprefix("ANTMINER").removeprefix("WHATSMINER")
    for fam in _FAMILIES:  # longest prefixes come first
        if key.startswith(fam[0]):
            return fam
    return None


def hardware_for(name: str) -> Hardware:
    """The hardware of a catalog model (``find_miner`` names: "S19 Pro", "M30S+ (100T)")."""
    model = find_miner(name)
    fam = _family(model.model)
    chips, freq = (fam[1], fam[2]) if fam else (100, 500)
    base = re.sub(r"\s*\(.*?\)\s*$", "", model.model)
    if model.maker.lower() == "microbt" or base.lower().startswith("whatsminer"):
        short = base.split()[-1] if base.lower().startswith("whatsminer") else base
        variant = _WHATSMINER_VARIANT.get(fam[0] if fam else "", "VE10")
        return Hardware(model, f"{short}_{variant}", "whatsminer", 3, chips, 2, 7000, freq)
    type_name = base if base.lower().startswith("antminer") else f"Antminer {base}"
    return Hardware(model, type_name, "antminer", 3, chips, 4, 6000, freq)

"""Device twins: emulated ASIC miners that answer on the network as real firmware does.

A :class:`Twin` is one miner (a catalog model, a firmware personality, a physical model);
a :class:`SiteServer` serves thousands of them from one asyncio process with one listener
per firmware port. Site and scenario files are TOML (see ``examples/``); faults are injected
with :func:`apply_fault`. The twins know nothing of ``hashwatt.fleet``: a fleet service sees
them only through the network, as it sees real miners.
"""

from hashwatt.twin._control import ControlApi, run_site, twin_state
from hashwatt.twin._hardware import Hardware, hardware_for
from hashwatt.twin._physics import Faults, Mode, Physics, StopReason
from hashwatt.twin._server import FIRMWARE_PORTS, Clock, Ports, SiteServer
from hashwatt.twin._site import (
    EXAMPLE_SCENARIO,
    EXAMPLE_SITE,
    Fault,
    GroupSpec,
    ScenarioEvent,
    SiteSpec,
    apply_fault,
    build_twins,
    expand_range,
    load_scenario,
    load_site,
)
from hashwatt.twin._twin import Firmware, NetFault, PoolConf, Twin
from hashwatt.twin.errors import SiteFileError, TwinError

__all__ = [
    "EXAMPLE_SCENARIO",
    "EXAMPLE_SITE",
    "FIRMWARE_PORTS",
    "Clock",
    "ControlApi",
    "Fault",
    "Faults",
    "Firmware",
    "GroupSpec",
    "Hardware",
    "Mode",
    "NetFault",
    "Physics",
    "PoolConf",
    "Ports",
    "ScenarioEvent",
    "SiteFileError",
    "SiteServer",
    "SiteSpec",
    "StopReason",
    "Twin",
    "TwinError",
    "apply_fault",
    "build_twins",
    "expand_range",
    "hardware_for",
    "load_scenario",
    "load_site",
    "run_site",
    "twin_state",
]

"""numba's CUDA simulator for the GPU backend's tests, wherever they live.

The variable must be set before ``numba.cuda`` is first imported; ``auto`` never picks the
simulator, so this does not change what the other tests run.
"""

from __future__ import annotations

import os
import sys


def enable_cuda_simulator() -> None:
    """Turn the simulator on for this process (idempotent)."""
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba" in sys.modules and "numba.cuda" not in sys.modules:  # numba imported earlier by another test
        from numba.core import config as numba_config

        numba_config.reload_config()

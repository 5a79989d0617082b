"""The GPU backend runs here on numba's CUDA simulator.

The variable must be set before ``numba.cuda`` is first imported; ``auto`` never picks the
simulator, so this does not change what the other tests run.
"""

from __future__ import annotations

import os
import sys

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
if "numba" in sys.modules and "numba.cuda" not in sys.modules:  # numba imported earlier by another test
    from numba.core import config as _numba_config

    _numba_config.reload_config()

"""The GPU backend runs here on numba's CUDA simulator (see tests/_support/cudasim.py)."""

from __future__ import annotations

from tests._support.cudasim import enable_cuda_simulator

enable_cuda_simulator()

"""Datasets shipped with hashwatt (with attribution in ``files/SOURCES.md``) and live adapters.

Everything else in hashwatt reads data only through this package.
"""

from hashwatt.data._embedded import embedded_path, load_retarget_history

__all__ = ["embedded_path", "load_retarget_history"]

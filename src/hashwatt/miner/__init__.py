"""The mining loop: turns a :class:`~hashwatt.work.Job` (from Stratum, getblocktemplate or the
demo source) into work for :mod:`hashwatt.pow` and hits back into submissions."""

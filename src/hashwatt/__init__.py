"""hashwatt: an industrial Bitcoin mining toolkit.

Mine (SHA-256d proof-of-work, Stratum, solo mining), model (mining economics),
manage (fleet) and understand the network (decentralization, security, energy).
"""

from hashwatt.errors import HashwattError

__version__ = "0.1.0"

__all__ = ["HashwattError", "__version__"]

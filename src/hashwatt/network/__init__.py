"""Network analytics: status, decentralization, security and energy of Bitcoin's proof of work."""

from hashwatt.network.status import NetworkStatus, network_status

__all__ = ["NetworkStatus", "network_status"]

"""Node errors.

::

    HashwattError
    └── NodeError                  talking to Bitcoin Core or reading what it returned
        ├── RpcError               the node answered a JSON-RPC call with an error object
        └── TemplateError          a getblocktemplate result that cannot be mined as given

Addresses are decoded by :mod:`hashwatt.chain` (``hashwatt.errors.AddressError``).
"""

from __future__ import annotations

from hashwatt.errors import HashwattError


class NodeError(HashwattError):
    """Base of every error in :mod:`hashwatt.node`."""


class RpcError(NodeError):
    """A JSON-RPC error object ``{"code": .., "message": ..}`` from the node."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message


class TemplateError(NodeError, ValueError):
    """A block template is malformed or inconsistent."""

"""Node errors.

::

    HashwattError
    └── NodeError                  talking to Bitcoin Core or reading what it returned
        ├── NodeUrlError           a node URL that does not parse (.url redacted, .problem) (also an InputError)
        ├── NodeUnreachable        no connection, or no reply within the timeout (.method, .url)
        ├── NodeAuthFailed         the node refused the RPC credentials (HTTP 401) (.method, .url)
        ├── NodeReplyInvalid       a reply that is not a JSON-RPC object, or an HTTP error (.method, .status)
        │   └── ResponseTooLarge   a body over the client's bound (.limit_bytes)
        ├── RpcError               the node answered a JSON-RPC call with an error object (.method, .code)
        └── TemplateError          a getblocktemplate result that cannot be mined as given

``url`` attributes are redacted (no password); no message carries a credential.
Addresses are decoded by :mod:`hashwatt.chain` (``hashwatt.errors.AddressError``).
"""

from __future__ import annotations

from hashwatt.errors import HashwattError, InputError

__all__ = [
    "NodeAuthFailed",
    "NodeError",
    "NodeReplyInvalid",
    "NodeUnreachable",
    "NodeUrlError",
    "ResponseTooLarge",
    "RpcError",
    "TemplateError",
]


class NodeError(HashwattError):
    """Base of every error in :mod:`hashwatt.node`."""


class NodeUrlError(NodeError, InputError):
    """A node RPC URL that cannot be used as given; ``url`` is redacted, ``problem`` says what is wrong."""

    def __init__(self, url: str, problem: str, *, hint: str = "") -> None:
        super().__init__(f"node URL {url!r}: {problem}" + (f"; {hint}" if hint else ""))
        self.url = url
        self.problem = problem


class NodeUnreachable(NodeError):
    """The node could not be reached, or did not answer ``method`` in time; ``url`` is redacted."""

    def __init__(self, method: str, url: str, reason: str) -> None:
        super().__init__(f"{method}: cannot reach the node at {url}: {reason}")
        self.method = method
        self.url = url


class NodeAuthFailed(NodeError):
    """HTTP 401: the user and password (or cookie) were refused."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"{method}: the node at {url} refused the RPC credentials (HTTP 401)")
        self.method = method
        self.url = url


class NodeReplyInvalid(NodeError):
    """The node answered ``method`` with something other than a JSON-RPC reply."""

    def __init__(self, method: str, problem: str, *, status: int | None = None) -> None:
        super().__init__(f"{method}: {problem}")
        self.method = method
        self.status = status


class ResponseTooLarge(NodeReplyInvalid):
    """The reply body passed ``limit_bytes``; reading stopped there."""

    def __init__(self, method: str, limit_bytes: int, *, status: int | None = None) -> None:
        super().__init__(method, f"response larger than {limit_bytes} bytes", status=status)
        self.limit_bytes = limit_bytes


class RpcError(NodeError):
    """A JSON-RPC error object ``{"code": .., "message": ..}`` from the node."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message


class TemplateError(NodeError, ValueError):
    """A block template is malformed or inconsistent."""

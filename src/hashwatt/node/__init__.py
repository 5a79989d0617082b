"""Bitcoin Core as a job source: JSON-RPC client, getblocktemplate -> Job, submitblock.

Payout addresses are decoded by :mod:`hashwatt.chain` (``parse_address``, ``address_to_script``).
"""

from hashwatt.node._rpc import DEFAULT_RPC_PORT, MAX_RESPONSE_BYTES, NodeUrl, RpcClient
from hashwatt.node._template import (
    COINBASE_TAG,
    BlockTemplate,
    GbtJobSource,
    fetch_template,
    job_from_template,
    parse_template,
    submit_block,
    template_coinbase,
    template_commitment,
)
from hashwatt.node.errors import (
    NodeAuthFailed,
    NodeError,
    NodeReplyInvalid,
    NodeUnreachable,
    NodeUrlError,
    ResponseTooLarge,
    RpcError,
    TemplateError,
)

__all__ = [
    "COINBASE_TAG",
    "DEFAULT_RPC_PORT",
    "MAX_RESPONSE_BYTES",
    "BlockTemplate",
    "GbtJobSource",
    "NodeAuthFailed",
    "NodeError",
    "NodeReplyInvalid",
    "NodeUnreachable",
    "NodeUrl",
    "NodeUrlError",
    "ResponseTooLarge",
    "RpcClient",
    "RpcError",
    "TemplateError",
    "fetch_template",
    "job_from_template",
    "parse_template",
    "submit_block",
    "template_coinbase",
    "template_commitment",
]

"""Bitcoin Core as a job source: JSON-RPC client, getblocktemplate -> Job, submitblock, addresses."""

from hashwatt.node._address import (
    NETWORKS,
    Address,
    address_to_script,
    b58check_decode,
    b58check_encode,
    bech32_decode,
    decode_segwit,
    encode_segwit,
    network,
    parse_address,
)
from hashwatt.node._rpc import MAX_RESPONSE_BYTES, RpcClient
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
from hashwatt.node.errors import AddressError, NodeError, RpcError, TemplateError

__all__ = [
    "COINBASE_TAG",
    "MAX_RESPONSE_BYTES",
    "NETWORKS",
    "Address",
    "AddressError",
    "BlockTemplate",
    "GbtJobSource",
    "NodeError",
    "RpcClient",
    "RpcError",
    "TemplateError",
    "address_to_script",
    "b58check_decode",
    "b58check_encode",
    "bech32_decode",
    "decode_segwit",
    "encode_segwit",
    "fetch_template",
    "job_from_template",
    "network",
    "parse_address",
    "parse_template",
    "submit_block",
    "template_coinbase",
    "template_commitment",
]

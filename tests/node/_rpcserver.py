"""A real HTTP JSON-RPC server on loopback that speaks the parts of Bitcoin Core's API a miner
uses: getblocktemplate (serving a given template) and submitblock (checking what it gets)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hashwatt.chain import Block, Transaction, hash_to_hex, txid, validate_block, wtxid

DATA = Path(__file__).resolve().parent.parent / "data" / "node"


class FakeCoreState:
    def __init__(self, template: dict[str, Any], user: str, password: str) -> None:
        self.template = template
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.calls: list[str] = []
        self.submitted: list[Block] = []
        self.lock = threading.Lock()
        #: BIP 22 longpoll: a request whose longpollid is the current one is held until
        #: :meth:`set_template` (or ``longpoll_hold_s``); ``longpoll_error`` answers it with an error.
        self.changed = threading.Condition(self.lock)
        self.longpoll_hold_s = 30.0
        self.longpoll_error = False
        self.longpoll_paths: list[str] = []
        self.closing = False
        #: coinbasevalue of every template served, by its transactions' txids: what the node
        #: lets a block built on that template pay (Core sums the same fees from its UTXO set).
        self.served_values: dict[tuple[str, ...], int] = {}
        self.remember(template)

    def remember(self, template: dict[str, Any]) -> None:
        txids = tuple(str(tx["txid"]) for tx in template.get("transactions", []))
        self.served_values[txids] = int(template["coinbasevalue"])

    def set_template(self, template: dict[str, Any]) -> None:
        """A new tip or mempool: serve ``template`` and release every held longpoll."""
        with self.changed:
            self.template = template
            self.remember(template)
            self.changed.notify_all()


def _handler(state: FakeCoreState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, obj: Any) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if self.headers.get("Authorization") != state.auth:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(length))
            method, params, rid = req["method"], req.get("params", []), req.get("id")
            with state.lock:
                state.calls.append(method)
            if (
                method == "getblocktemplate"
                and params
                and isinstance(params[0], dict)
                and "longpollid" in params[0]
            ):
                with state.changed:
                    state.longpoll_paths.append(self.path)
                    if state.longpoll_error:
                        error = {"code": -9, "message": "Bitcoin Core is in initial sync"}
                        self._reply(500, {"result": None, "error": error, "id": rid})
                        return
                    state.changed.wait_for(
                        lambda: state.closing or state.template.get("longpollid") != params[0]["longpollid"],
                        state.longpoll_hold_s,
                    )
                    template = state.template
                self._reply(200, {"result": template, "error": None, "id": rid})
            elif method == "getblocktemplate":
                if not params or "segwit" not in params[0].get("rules", []):
                    self._reply(
                        500,
                        {
                            "result": None,
                            "error": {
                                "code": -8,
                                "message": "getblocktemplate must be called with the segwit rule set",
                            },
                            "id": rid,
                        },
                    )
                    return
                self._reply(200, {"result": state.template, "error": None, "id": rid})
            elif method == "submitblock":
                try:
                    block = Block.from_hex(params[0])
                except Exception:
                    self._reply(
                        500,
                        {"result": None, "error": {"code": -22, "message": "Block decode failed"}, "id": rid},
                    )
                    return
                errors: list[Any] = validate_block(block, height=state.template["height"], bip34_height=0)
                with state.lock:
                    allowed = state.served_values.get(
                        tuple(hash_to_hex(txid(tx)) for tx in block.transactions[1:])
                    )
                paid = sum(o.value_sat for o in block.transactions[0].outputs)
                if allowed is None:
                    errors.append("no template had these transactions")
                elif paid > allowed:
                    errors.append(f"bad-cb-amount: pays {paid} > {allowed}")
                if errors or hash_to_hex(block.header.prev_hash) != state.template["previousblockhash"]:
                    self._reply(
                        200,
                        {
                            "result": "rejected: " + "; ".join(map(str, errors)) or "bad-prevblk",
                            "error": None,
                            "id": rid,
                        },
                    )
                    return
                with state.lock:
                    state.submitted.append(block)
                self._reply(200, {"result": None, "error": None, "id": rid})
            else:
                self._reply(
                    404, {"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": rid}
                )

    return Handler


@contextmanager
def fake_core(
    template: dict[str, Any], user: str = "rpcuser", password: str = "s3cret"
) -> Iterator[tuple[str, FakeCoreState]]:
    state = FakeCoreState(template, user, password)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://{user}:{password}@127.0.0.1:{server.server_address[1]}", state
    finally:
        with state.changed:
            state.closing = True
            state.changed.notify_all()
        server.shutdown()
        server.server_close()
        thread.join(5)


def recorded_template() -> dict[str, Any]:
    return dict(json.loads((DATA / "getblocktemplate_testnet3_1038222.json").read_text())["result"])


def real_blocks() -> dict[str, tuple[Block, int]]:
    vectors = json.loads((DATA / "btc_block_test_vectors.json").read_text())["blocks"]
    out = {
        str(v["height"]): (Block.from_hex(v["block_hex"]), int(v["height"]))
        for v in vectors
        if v["height"] in (169, 170)
    }
    out["testnet3_924634"] = (Block.from_hex((DATA / "block_testnet3_924634.hex").read_text()), 924634)
    return out


def template_from_block(block: Block, height: int, *, bits: int | None = None) -> dict[str, Any]:
    """What getblocktemplate would have said just before ``block``: its transactions, the real
    coinbase's output total as coinbasevalue, the real previous hash, bits, height and time."""
    txs: list[Transaction] = list(block.transactions[1:])
    segwit = any(tx.has_witness for tx in block.transactions)
    b = block.header.bits if bits is None else bits
    return {
        "version": block.header.version,
        "rules": ["csv", "!segwit"] if segwit else ["csv"],
        "previousblockhash": hash_to_hex(block.header.prev_hash),
        "transactions": [
            {
                "data": tx.to_bytes().hex(),
                "txid": hash_to_hex(txid(tx)),
                "hash": hash_to_hex(wtxid(tx)),
                "fee": 0,
            }
            for tx in txs
        ],
        "coinbaseaux": {"flags": ""},
        "coinbasevalue": sum(o.value_sat for o in block.transactions[0].outputs),
        "longpollid": hash_to_hex(block.header.prev_hash) + "1",
        "curtime": block.header.time,
        "mintime": block.header.time - 600,
        "bits": f"{b:08x}",
        "height": height,
    }

"""``MiningClient(coin=LTC)`` against a scrypt pool that is not hashwatt's: a bare Stratum V1
server written here from the wire format alone. It checks every submitted share on its own
(coinbase from coinb1|en1|en2|coinb2, merkle root, header, ``hashlib.scrypt``) against the
target cpuminer derives from the difficulty it sent (``diff / 65536``, Bitcoin's difficulty 1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import time
from typing import Any

from hashwatt.chain import LTC, PowAlgorithm
from hashwatt.miner.client import MiningClient
from hashwatt.miner.engine import SearchEngine
from hashwatt.stratum import PoolUrl

DIFFICULTY = 2.0**-10  # scrypt Stratum difficulty: ~64 hashes a share
EN1 = bytes.fromhex("0badcafe")
COINB1 = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1003a0860108"
)
COINB2 = bytes.fromhex("ffffffff0100f2052a010000000151" + "00000000")
PREV_INTERNAL = bytes(range(32))
VERSION, BITS, NTIME = 0x20000000, 0x1E0FFFFF, 1_700_000_000


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _cpuminer_scrypt_target(stratum_difficulty: float) -> int:
    """Bitcoin's difficulty-1 target 0xffff * 2**208 over ``stratum_difficulty / 65536``."""
    return int((0xFFFF << 208) * 65536 / stratum_difficulty)


def _share_value(extranonce2: str, ntime: str, nonce: str) -> int:
    coinbase = COINB1 + EN1 + bytes.fromhex(extranonce2) + COINB2
    header = (
        struct.pack("<I", VERSION)
        + PREV_INTERNAL
        + _sha256d(coinbase)  # no other transactions: the coinbase txid is the merkle root
        + struct.pack("<III", int(ntime, 16), BITS, int(nonce, 16))
    )
    return int.from_bytes(hashlib.scrypt(header, salt=header, n=1024, r=1, p=1, dklen=32), "little")


class BareScryptPool:
    """Just enough Stratum V1: subscribe, authorize, one difficulty, one job, judged submits."""

    def __init__(self) -> None:
        self.accepted: list[int] = []
        self.rejected = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(obj: dict[str, Any]) -> None:
            writer.write((json.dumps(obj) + "\n").encode())

        while line := await reader.readline():
            msg = json.loads(line)
            method, msg_id, params = msg.get("method"), msg.get("id"), msg.get("params", [])
            if method == "mining.subscribe":
                send({"id": msg_id, "result": [[["mining.notify", "s1"]], EN1.hex(), 4], "error": None})
            elif method == "mining.authorize":
                send({"id": msg_id, "result": True, "error": None})
                send({"id": None, "method": "mining.set_difficulty", "params": [DIFFICULTY]})
                words = b"".join(PREV_INTERNAL[i : i + 4][::-1] for i in range(0, 32, 4))
                notify = [
                    "j1",
                    words.hex(),
                    COINB1.hex(),
                    COINB2.hex(),
                    [],
                    f"{VERSION:08x}",
                    f"{BITS:08x}",
                    f"{NTIME:08x}",
                    True,
                ]
                send({"id": None, "method": "mining.notify", "params": notify})
            elif method == "mining.submit":
                _, job_id, en2, ntime, nonce = params[:5]
                value = _share_value(en2, ntime, nonce)
                ok = job_id == "j1" and value <= _cpuminer_scrypt_target(DIFFICULTY)
                if ok:
                    self.accepted.append(value)
                else:
                    self.rejected += 1
                send(
                    {"id": msg_id, "result": ok, "error": None if ok else [23, "Low difficulty share", None]}
                )
            elif msg_id is not None:
                send({"id": msg_id, "result": None, "error": [20, "unsupported", None]})
            await writer.drain()


def test_scrypt_client_mines_a_bare_third_party_pool() -> None:
    async def main() -> tuple[BareScryptPool, MiningClient]:
        pool = BareScryptPool()
        server = await asyncio.start_server(pool.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        engine = SearchEngine(threads=1, pow_algorithm=PowAlgorithm.SCRYPT)
        client = MiningClient(
            [PoolUrl("127.0.0.1", port)], user="w", engine=engine, version_rolling=False, coin=LTC
        )
        task = asyncio.create_task(client.run())
        deadline = time.monotonic() + 60
        try:
            while len(pool.accepted) < 3:
                assert time.monotonic() < deadline and not task.done(), (client.stats, pool.rejected)
                await asyncio.sleep(0.05)
        finally:
            client.stop()
            await task
            server.close()
            await server.wait_closed()
        return pool, client

    pool, client = asyncio.run(main())
    assert pool.rejected == 0 and client.stats.rejected == 0
    assert client.stats.accepted >= 3 and client.stats.difficulty == DIFFICULTY
    # The convention matters: a miner reading the difficulty as Bitcoin's (65,536 x harder) would
    # send only shares below that target; these are above it (each is, but with odds 1/65,536).
    assert any(v > int((0xFFFF << 208) / DIFFICULTY) for v in pool.accepted)

"""Abuse on real loopback sockets: the server answers, drops the abuser, keeps serving others."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
from pathlib import Path

from tests.stratum._helpers import RawClient, demo_pool, find_nonce, handshake, job_of, until


async def _good_client_still_works(port: int) -> None:
    client = await RawClient.connect(port)
    en1, size, diff, notify = await handshake(client, "carol.ok")
    job = job_of(notify, en1, size, diff)
    nonce = find_nonce(job, b"\x00\x00\x00\x09", target=job.share_target)
    ack = await client.call(
        "mining.submit", ["carol.ok", job.job_id, "00000009", f"{job.ntime:08x}", f"{nonce:08x}"]
    )
    assert ack["result"] is True
    await client.close()


def test_malformed_json_unknown_methods_and_bad_params_get_code_20(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_violations=5) as server:
            client = await RawClient.connect(server.port)
            await client.send_raw(b"{this is not json\n")
            reply = await client.read_one()
            assert reply["id"] is None and reply["error"][0] == 20
            unknown = await client.call("mining.frobnicate", [1])
            assert unknown["error"][0] == 20 and "Unknown method" in unknown["error"][1]
            bad = await client.call("mining.authorize", [12345])
            assert bad["error"][0] == 20
            bad_conf = await client.call("mining.configure", ["version-rolling"])
            assert bad_conf["error"][0] == 20
            # The fifth strike closes the connection.
            await client.send_raw(b"[1,2]\n")
            assert await client.is_closed()
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_overlong_line_disconnects(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_line_bytes=1024) as server:
            client = await RawClient.connect(server.port)
            await client.send_raw(b'{"id":1,"method":"mining.subscribe","params":["' + b"A" * 5000)
            assert await client.is_closed()
            assert server.counters["dropped"] >= 1
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_connection_flood_is_capped_per_ip(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_connections_per_ip=20) as server:
            flood = [await RawClient.connect(server.port) for _ in range(60)]
            await until(lambda: len(server.connections) + server.counters["refused"] == 60)
            assert len(server.connections) == 20
            assert server.counters.get("refused", 0) == 40
            for c in flood:
                await c.close()
            await until(lambda: len(server.connections) == 0)
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_handshake_timeout_and_vanishing_mid_line(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, handshake_timeout_s=0.3, sweep_interval_s=0.05) as server:
            silent = await RawClient.connect(server.port)
            half = await RawClient.connect(server.port)
            await half.send_raw(b'{"id": 1, "method": "mining.subscr')
            await half.close()  # vanishes mid-line
            assert await silent.is_closed(timeout=3.0)
            await until(lambda: len(server.connections) == 0)
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_slow_reader_that_never_drains_is_dropped(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_write_buffer_bytes=64 * 1024) as server:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", server.port))
            sock.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=sock)
            lazy = RawClient(reader, writer)
            await handshake(lazy, "lazy")
            # From now on the lazy miner never reads; the pool keeps sending new work.
            template = server.book.latest
            assert template is not None
            for i in range(60_000):  # up to ~85 MB: more than any kernel socket buffering
                server._on_job(dataclasses.replace(template, job_id=f"j{i}", clean_jobs=False))
                if i % 500 == 0:
                    await asyncio.sleep(0)
                if server.counters["slow_readers"]:
                    break
            await until(lambda: len(server.connections) == 0)
            assert server.counters["slow_readers"] == 1
            writer.close()
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_submit_flood_of_rejects_disconnects(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_rejects_in_row=50) as server:
            client = await RawClient.connect(server.port)
            await handshake(client)
            bad = b'{"id": 2, "method": "mining.submit", "params": ["alice.rig1", "zz", "00000000", "00000000", "00000000"]}\n'
            await client.send_raw(bad * 200)
            assert await client.is_closed()
            assert server.stats().rejected_by_code.get(21, 0) >= 50
            await _good_client_still_works(server.port)

    asyncio.run(main())


def test_fuzz_random_byte_streams(tmp_path: Path) -> None:
    rng = random.Random(0xC0FFEE)
    fragments = [
        b'{"id":1,"method":"mining.subscribe","params":[]}\n',
        b'{"id":2,"method":"mining.authorize","params":["a","b"]}\n',
        b'{"id":3,"method":"mining.submit","params":["a","1","00000000","ffffffff","00000000"]}\n',
        b'{"id":4,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"zz"}]}\n',
        b'{"id":{},"method":[]}\n',
        b"\n\n\r\n",
        b"\x00\xff{{{[[[",
        b'{"id":5,"method":"mining.suggest_difficulty","params":[-1]}\n',
        b'{"id":6,"method":"mining.suggest_difficulty","params":["nan"]}\n',
        b'{"params":' + b"[" * 200 + b"\n",
    ]

    async def one_stream(port: int) -> None:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            for _ in range(rng.randint(1, 30)):
                if rng.random() < 0.5:
                    chunk = rng.randbytes(rng.randint(1, 400))
                else:
                    chunk = rng.choice(fragments)
                    if rng.random() < 0.3:
                        cut = rng.randint(0, len(chunk))
                        chunk = chunk[:cut] + rng.randbytes(3) + chunk[cut:]
                writer.write(chunk)
                await writer.drain()
                if rng.random() < 0.2:
                    await asyncio.sleep(0)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        async with demo_pool(tmp_path, max_line_bytes=2048) as server:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 3.0
            streams = 0
            while loop.time() < deadline and streams < 300:
                await asyncio.gather(*(one_stream(server.port) for _ in range(10)))
                streams += 10
            assert streams >= 50
            await _good_client_still_works(server.port)
            await until(lambda: len(server.connections) == 0)

    asyncio.run(main())

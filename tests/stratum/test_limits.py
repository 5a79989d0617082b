"""Bounds on real loopback sockets: worker table, descriptors, idle peers, the proxy without upstream, secrets."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import (
    PoolConfig,
    PoolServer,
    PoolUrl,
    PoolUrlError,
    ShareLog,
    ShareLogError,
    StratumError,
    Upstream,
    UpstreamSource,
    WorkerTable,
    redact_url,
    sqlite_url,
)
from tests.stratum._helpers import RawClient, demo_pool, find_nonce, handshake, job_of, until

ROOT = Path(__file__).resolve().parents[2]


def test_worker_table_is_bounded_and_aged() -> None:
    table = WorkerTable(max_workers=100, ttl_s=60.0)
    for i in range(1000):
        table.touch("u", f"u.{i}", now_s=float(i) / 100)
    assert len(table) == 100 and table.evicted == 900
    assert {s.worker for s in table.values()} == {f"u.{i}" for i in range(900, 1000)}
    table.touch("u", "u.950", now_s=100.0)  # active again
    assert table.prune(now_s=100.0) == 99
    assert [s.worker for s in table.values()] == ["u.950"]


def test_stats_summarise_top_workers_and_totals(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, stats_top_workers=5, max_workers=30) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client, "u.w0")
            job = job_of(notify, en1, size, diff)
            names = [f"u.w{i}" for i in range(1, 20)]
            for name in names:
                assert (await client.call("mining.authorize", [name, "x"]))["result"] is True
            for i, name in enumerate(["u.w0", *names]):
                en2 = i.to_bytes(4, "big")
                nonce = find_nonce(job, en2, target=job.share_target)
                reply = await client.call(
                    "mining.submit", [name, job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
                )
                assert reply["result"] is True
            stats = server.stats()
            assert stats.workers_total == 20 and len(stats.workers) == 5
            assert all(row.accepted == 1 and row.user == "u" for row in stats.workers)
            await client.close()

    asyncio.run(main())


def test_idle_timeout_counts_messages_and_sockets_keep_alive(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, idle_timeout_s=1.0, sweep_interval_s=0.1) as server:
            client = await RawClient.connect(server.port)
            await handshake(client)
            (conn,) = server.connections
            assert conn.transport is not None
            sock = conn.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            loop = asyncio.get_running_loop()
            started = loop.time()
            while server.connections and loop.time() - started < 10:
                client.writer.write(b" ")  # slowloris: a byte at a time, never a whole message
                await asyncio.sleep(0.1)
            assert not server.connections
            assert loop.time() - started < 5

    asyncio.run(main())


_EMFILE_SERVER = textwrap.dedent(
    """
    import asyncio, json, logging, os, resource, sys
    from hashwatt.miner.demo import DemoJobSource
    from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))

    async def main():
        cfg = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
        server = PoolServer(DemoJobSource(), ShareLog(sqlite_url(sys.argv[1])), cfg)
        await server.start("127.0.0.1", 0)
        hog = []
        while True:
            try:
                hog.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        print(json.dumps({"port": server.port, "max": server.max_connections}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # clients queued: free the descriptors
        for fd in hog:
            os.close(fd)
        print(json.dumps({"backoffs": server.counters["accept_backoffs"]}), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        await server.close()

    asyncio.run(main())
    """
)


def test_accept_backs_off_on_emfile_with_one_log_line_then_recovers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _EMFILE_SERVER, str(tmp_path / "s.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        info = json.loads(proc.stdout.readline())
        assert info["max"] == 160 - 64  # max_connections kept under the descriptor limit

        async def clients() -> int:
            waiting = [await RawClient.connect(info["port"]) for _ in range(20)]
            await asyncio.sleep(0.5)  # the server is out of descriptors for this long
            proc.stdin.write("free\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            served = 0
            for client in waiting:
                reply = await client.call("mining.subscribe", ["t"])
                served += reply["error"] is None
                await client.close()
            return served

        assert asyncio.run(clients()) == 20
        assert json.loads(proc.stdout.readline())["backoffs"] >= 1
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err
    assert err.count("out of descriptors") == 1, err


def test_proxy_without_a_live_upstream_refuses_shares_and_recovers(tmp_path: Path) -> None:
    async def main() -> None:
        cfg = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
        pool = PoolServer(DemoJobSource(), ShareLog(sqlite_url(tmp_path / "up.db")), cfg)
        await pool.start()
        port = pool.port
        source = UpstreamSource([Upstream("127.0.0.1", port)], user="farm.proxy", backoff_initial_s=0.05)
        proxy = PoolServer(source, ShareLog(sqlite_url(tmp_path / "proxy.db")), cfg, share_sink=source)
        await proxy.start()
        try:
            await until(lambda: source.links[0].live)
            miner = await RawClient.connect(proxy.port)
            await miner.call("mining.extranonce.subscribe", [])
            en1, size, diff, notify = await handshake(miner, "m0")
            job = job_of(notify, en1, size, diff)

            def share(i: int) -> list[str]:
                en2 = i.to_bytes(size, "big")
                nonce = find_nonce(job, en2, target=job.share_target)
                return ["m0", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]

            assert (await miner.call("mining.submit", share(1)))["result"] is True
            # The only upstream dies.
            for conn in list(pool.connections):
                assert conn.transport is not None
                conn.transport.abort()
            await pool.close()
            pool.share_log.close()
            await until(lambda: not source.links[0].live)
            for i in range(2, 6):
                reply = await miner.call("mining.submit", share(i))
                assert reply["result"] is None and reply["error"][0] == 20
                assert "upstream" in reply["error"][1]
            assert proxy.share_log.count() == 1  # nothing acknowledged, nothing logged
            assert proxy.counters["unforwardable"] == 4
            # The upstream comes back on the same port: the proxy finds it within its backoff.
            pool2 = PoolServer(DemoJobSource(), ShareLog(sqlite_url(tmp_path / "up2.db")), cfg)
            await pool2.start("127.0.0.1", port)
            try:
                await until(lambda: source.links[0].live, timeout=10)
                moved = await miner.wait_note("mining.set_extranonce")
                en1 = bytes.fromhex(moved["params"][0])
                notify = await miner.wait_note("mining.notify")
                job = job_of(notify, en1, int(moved["params"][1]), diff)
                assert (await miner.call("mining.submit", share(9)))["result"] is True
            finally:
                await miner.close()
                await pool2.close()
                pool2.share_log.close()
        finally:
            await proxy.close()
            proxy.share_log.close()

    asyncio.run(main())


def test_proxy_backoff_is_prompt() -> None:
    source = UpstreamSource(["stratum+tcp://127.0.0.1:1"], user="u")
    assert [source.backoff_s(n) for n in (1, 2, 3, 10, 100)] == [0.5, 1.0, 2.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "text",
    ["stratum+tcp://[::1:3333", "stratum+tcp://[::1", "stratum+tcp://host:99999", "http://h:1", "h", "h:0"],
)
def test_pool_url_errors_are_typed_one_liners(text: str) -> None:
    with pytest.raises(PoolUrlError) as info:
        PoolUrl.parse(text)
    assert isinstance(info.value, StratumError) and info.value.text == text
    assert "\n" not in str(info.value)


def test_pool_url_ipv6_round_trip() -> None:
    url = PoolUrl.parse("stratum+tcp://[::1]:3333")
    assert (url.host, url.port) == ("::1", 3333)
    assert PoolUrl.parse(str(url)) == url


@pytest.mark.parametrize("weight", ["inf", "nan", "0", "-1", "x"])
def test_upstream_weight_must_be_finite_positive(weight: str) -> None:
    with pytest.raises(PoolUrlError, match="weight"):
        Upstream.parse(f"stratum+tcp://127.0.0.1:3333#{weight}")


SECRET = "s3cr3tPW"


def test_redact_url_hides_the_password_even_when_unparseable() -> None:
    assert SECRET not in redact_url(f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/db")
    assert redact_url(f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/db").startswith(
        "postgresql+psycopg://user:"
    )
    assert SECRET not in redact_url(f"::not a url://u:{SECRET}@[::1/")
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"
    assert SECRET not in redact_url(f"not a url {SECRET}")


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/db",  # connection refused
        f"postgresql+nosuchdriver://user:{SECRET}@127.0.0.1:1/db",  # no such driver
        f"mysql://user:{SECRET}@127.0.0.1:1/db",  # driver not installed
        f"sqlite://user:{SECRET}@/nonexistent/dir/x.db",  # odd but parseable
    ],
)
def test_share_log_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(ShareLogError) as info:
        ShareLog(url)
    assert SECRET not in str(info.value) and SECRET not in info.value.url
    assert "\n" not in str(info.value) and "sqlalche.me" not in str(info.value)


def test_running_out_of_extranonce_space_is_no_strike_against_the_miner(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, extranonce1_size=1) as server:
            group = server.groups[""]
            group.in_use.update(bytes([i]) for i in range(256))  # every extranonce1 taken
            client = await RawClient.connect(server.port)
            reply = await client.call("mining.subscribe", ["t"])
            assert reply["error"][0] == 20 and "full" in reply["error"][1]
            assert await client.is_closed()
            assert server.counters["dropped"] == 1
            group.in_use.discard(b"\x07")  # one miner left: the next one gets its slot
            again = await RawClient.connect(server.port)
            assert (await again.call("mining.subscribe", ["t"]))["result"][1] == "07"
            await again.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    "text",
    [f"stratum+tcp://user:{SECRET}@[::1:3333", f"user:{SECRET}@[::1", f"stratum+tcp://u:{SECRET}@h:0#2"],
)
def test_pool_url_errors_mask_a_password(text: str) -> None:
    with pytest.raises(PoolUrlError) as info:
        Upstream.parse(text)
    assert SECRET not in str(info.value) + info.value.text and "***" in info.value.text

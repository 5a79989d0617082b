"""The durable share log: every accepted share is committed here before it is acknowledged.

SQLite in WAL mode by default (``sqlite:///path``), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``). Writes are group-committed: the asyncio side queues
shares and one worker thread writes each batch in a single transaction, then the server
answers the miners whose shares are in it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    false,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from hashwatt._redact import redact_url
from hashwatt.stratum._shares import ShareRecord
from hashwatt.stratum.errors import ShareLogError

metadata = MetaData()

shares_table = Table(
    "shares",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_unix_s", Float, nullable=False, index=True),
    Column("user", String(128), nullable=False, index=True),
    Column("worker", String(128), nullable=False),
    Column("job_id", String(64), nullable=False),
    Column("extranonce1", LargeBinary(32), nullable=False),
    Column("extranonce2", LargeBinary(32), nullable=False),
    Column("ntime", BigInteger, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("difficulty", Float, nullable=False),
    Column("share_hash_hex", String(64), nullable=False),
    Column("is_block", Boolean, nullable=False, default=False),
    Column("height", Integer, nullable=True),
    # Since merged mining: the coin credited, and the merged-mined child credited too.
    Column("chain", String(8), nullable=False, server_default="BTC"),
    Column("aux_chain", String(8), nullable=True),
    Column("aux_is_block", Boolean, nullable=False, server_default=false()),
    Column("aux_height", Integer, nullable=True),
    Column("coinbase_value_sat", BigInteger, nullable=True),
)

#: Columns added after the first share-log schema, in order: an older table gets them (with
#: their server defaults, so old rows read as Bitcoin shares without a merged chain) on open.
_ADDED_COLUMNS = ("chain", "aux_chain", "aux_is_block", "aux_height", "coinbase_value_sat")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError, TypeError):
        return None


def _reason(exc: BaseException, url: str) -> str:
    """One line from a driver error: no SQL, no "Background on this error" link, no password."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    secret = _password(url)
    if secret:
        line = line.replace(secret, "***")
    return line


#: Column order of :func:`_row` (every column but the autoincrement id).
_COLUMNS = tuple(c.name for c in shares_table.columns if c.name != "id")


def _row(record: ShareRecord) -> tuple[Any, ...]:
    return (
        record.time_unix_s,
        record.user[:128],
        record.worker[:128],
        record.job_id[:64],
        record.extranonce1,
        record.extranonce2,
        record.ntime,
        record.nonce,
        record.version,
        record.difficulty,
        record.share_hash_hex,
        record.is_block,
        record.height,
        record.chain[:8],
        None if record.aux_chain is None else record.aux_chain[:8],
        record.aux_is_block,
        record.aux_height,
        record.coinbase_value_sat,
    )


def _add_missing_columns(engine: Engine) -> list[str]:
    """Bring an older share table up to this schema (``ALTER TABLE ... ADD COLUMN``); the added names."""
    present = {c["name"] for c in inspect(engine).get_columns(shares_table.name)}
    missing = [name for name in _ADDED_COLUMNS if name not in present]
    if not missing:
        return []
    table = engine.dialect.identifier_preparer.quote(shares_table.name)
    with engine.begin() as conn:
        for name in missing:
            # The column's own DDL (type, server default, NOT NULL) as this dialect writes it.
            column_ddl = CreateColumn(shares_table.c[name]).compile(dialect=engine.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column_ddl}")
    return missing


class ShareLog:
    """Synchronous share store (one engine, one table); thread-safe for one writer thread.

    ``synchronous`` is SQLite's PRAGMA (``FULL`` survives power loss, ``NORMAL`` in WAL mode
    survives a process crash); it has no effect on PostgreSQL. ``busy_timeout_ms`` is how long
    a SQLite write waits for another writer's lock before the batch fails [ms].
    """

    def __init__(self, url: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> None:
        self.url = url
        #: The URL as it may be shown (password masked).
        self.shown_url = shown = redact_url(url)
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ShareLogError(f"cannot open share log {shown}: {_reason(exc, url)}", url=shown) from exc
        if self.engine.dialect.name == "sqlite":
            if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
                raise ShareLogError(f"unknown SQLite synchronous mode {synchronous!r}", url=shown)
            mode = synchronous.upper()
            busy_ms = max(int(busy_timeout_ms), 0)

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={mode}")
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.close()

        try:
            metadata.create_all(self.engine)
            #: Columns this open added to an older share table (the schema's only migration so far).
            self.upgraded_columns = _add_missing_columns(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise ShareLogError(
                f"cannot create the share table in {shown}: {_reason(exc, url)}", url=shown
            ) from exc
        # One driver-level executemany per batch: ~4x less CPU than a Core insert of dicts,
        # which matters because the writer thread shares the GIL with the event loop.
        quote = self.engine.dialect.identifier_preparer.quote
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_sql = (
            f"INSERT INTO {quote(shares_table.name)} ({', '.join(quote(c) for c in _COLUMNS)}) "
            f"VALUES ({', '.join(mark for _ in _COLUMNS)})"
        )

    @property
    def journal_mode(self) -> str | None:
        """SQLite's journal mode (``wal``), ``None`` for other databases."""
        if self.engine.dialect.name != "sqlite":
            return None
        with self.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())

    def write(self, records: Sequence[ShareRecord]) -> None:
        """Commit ``records`` in one transaction; returns only once they are durable."""
        if not records:
            return
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(self._insert_sql, [_row(r) for r in records])
        except SQLAlchemyError as exc:
            raise ShareLogError(
                f"share log write to {self.shown_url} failed: {_reason(exc, self.url)}", url=self.shown_url
            ) from exc

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(shares_table)).scalar_one())

    def records(self, *, limit: int | None = None) -> list[ShareRecord]:
        """Stored shares, oldest first."""
        query = select(shares_table).order_by(shares_table.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ShareRecord(
                time_unix_s=float(r["time_unix_s"]),
                user=str(r["user"]),
                worker=str(r["worker"]),
                job_id=str(r["job_id"]),
                extranonce1=bytes(r["extranonce1"]),
                extranonce2=bytes(r["extranonce2"]),
                ntime=int(r["ntime"]),
                nonce=int(r["nonce"]),
                version=int(r["version"]),
                difficulty=float(r["difficulty"]),
                share_hash_hex=str(r["share_hash_hex"]),
                is_block=bool(r["is_block"]),
                height=None if r["height"] is None else int(r["height"]),
                chain=str(r["chain"]),
                aux_chain=None if r["aux_chain"] is None else str(r["aux_chain"]),
                aux_is_block=bool(r["aux_is_block"]),
                aux_height=None if r["aux_height"] is None else int(r["aux_height"]),
                coinbase_value_sat=None if r["coinbase_value_sat"] is None else int(r["coinbase_value_sat"]),
            )
            for r in rows
        ]

    def work_by_user(self) -> dict[str, float]:
        """Sum of accepted share difficulty per user (the PPLNS/PPS input) [difficulty-1 shares]."""
        query = select(shares_table.c.user, func.sum(shares_table.c.difficulty)).group_by(shares_table.c.user)
        with self.engine.connect() as conn:
            return {str(u): float(s) for u, s in conn.execute(query).all()}

    def credit_by_chain(self) -> dict[str, dict[str, float]]:
        """Accepted share difficulty per coin and user: a merged-mined share credits its own
        chain and its ``aux_chain`` with the same work [shares of difficulty 1]."""
        t = shares_table.c
        credit: dict[str, dict[str, float]] = {}
        with self.engine.connect() as conn:
            for chain_col in (t.chain, t.aux_chain):
                query = (
                    select(chain_col, t.user, func.sum(t.difficulty))
                    .where(chain_col.is_not(None))
                    .group_by(chain_col, t.user)
                )
                for chain, user, work in conn.execute(query).all():
                    per_user = credit.setdefault(str(chain), {})
                    per_user[str(user)] = per_user.get(str(user), 0.0) + float(work)
        return credit

    def close(self) -> None:
        self.engine.dispose()


class AsyncShareWriter:
    """Group commit for an asyncio server: ``submit(record, done)`` queues a share; a
    worker thread commits everything queued in one transaction, then ``done(error)`` runs on
    the event loop (``error`` is ``None`` on success). Bounded by ``max_batch`` per commit.
    """

    def __init__(self, log: ShareLog, *, max_batch: int = 2048) -> None:
        self.log = log
        self.max_batch = max_batch
        self._queue: list[tuple[ShareRecord, Callable[[BaseException | None], None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = threading.Lock()
        self.committed = 0
        self.batches = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def submit(self, record: ShareRecord, done: Callable[[BaseException | None], None]) -> None:
        self._queue.append((record, done))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                error: BaseException | None = None
                try:
                    await asyncio.to_thread(self._write, [r for r, _ in batch])
                except Exception as exc:  # the callbacks turn it into an error reply per share
                    error = exc
                else:
                    self.committed += len(batch)
                    self.batches += 1
                for _, done in batch:
                    done(error)
            if self._closing:
                return

    def _write(self, records: list[ShareRecord]) -> None:
        with self._lock:
            self.log.write(records)

    async def close(self) -> None:
        """Flush what is queued, then stop the worker."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

"""The two database backends behind the store: SQLite (a file, the default) and PostgreSQL.

Both speak the same small async interface, and the store writes each statement once:

- `Database.connection()`: statements that each stand alone (autocommit).
- `Database.reading()`: reads that decide no write; they never wait for a writer.
- `Database.transaction(lock=key)`: statements that commit together. On SQLite it is
  `BEGIN IMMEDIATE` (the file's write lock, taken before the first read); on PostgreSQL a
  plain transaction, plus `pg_advisory_xact_lock(hashtext(key))` when a key is given, so
  reservations serialise per team, not per database.
- `Tx.execute(sql, params) -> rowcount`, `Tx.fetchall(...) -> list[dict]`, `Tx.fetchone(...)`.

SQL is written in one dialect: `?` placeholders (PostgreSQL's backend turns them into
`%s`), `"user"` quoted (a reserved word in PostgreSQL), sums cast to BIGINT (PostgreSQL sums
integers as numeric), `INSERT ... ON CONFLICT` for upserts and unique keys (both have it).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[Any]


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def redacted(target: str | Path) -> str:
    """A database target fit for logs and messages: a URL's password becomes ***."""
    text = str(target)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Tx(Protocol):
    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...
    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None: ...


class Database(Protocol):
    #: "sqlite" or "postgresql": which DDL types migrations use (storage/migrations.py).
    dialect: str

    def connection(self, durable: bool = False) -> contextlib.AbstractAsyncContextManager[Tx]: ...
    def transaction(self, lock: str | None = None,
                    durable: bool = False) -> contextlib.AbstractAsyncContextManager[Tx]: ...
    def reading(self) -> contextlib.AbstractAsyncContextManager[Tx]: ...
    async def schema_version(self, tx: Tx) -> int: ...
    async def set_schema_version(self, tx: Tx, version: int) -> None: ...
    async def aclose(self) -> None: ...


# -- SQLite ----------------------------------------------------------------------------------

#: Runs work on a connection in its thread, at a `PRAGMA synchronous` level (None: any).
_Call = Callable[[Callable[[sqlite3.Connection], T], "str | None"], Awaitable[T]]


class _SqliteTx:
    """Statements on the connection, each one hop to its thread. `prelude` (a transaction's
    BEGIN) rides with the first statement: one hop fewer per transaction."""

    def __init__(self, call: _Call, level: str | None, prelude: str | None = None) -> None:
        self._call = call
        self._level = level
        self._prelude = prelude

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        prelude, self._prelude = self._prelude, None
        if prelude is None:
            return self._call(work, self._level)

        def begun(conn: sqlite3.Connection) -> T:
            conn.execute(prelude)
            return work(conn)
        return self._call(begun, self._level)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._run(lambda c: c.execute(sql, params).rowcount)

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return await self._run(lambda c: [dict(r) for r in c.execute(sql, params).fetchall()])

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def commit(self) -> None:
        """COMMIT; nothing when no statement ran (BEGIN was never sent)."""
        if self._prelude is None:
            await self._call(lambda c: c.execute("COMMIT"), self._level)
        self._prelude = None


#: SQLite's `PRAGMA synchronous` levels: most commits, and those that must survive a power loss.
RELAXED, DURABLE = "NORMAL", "FULL"


class SqliteDatabase:
    """One sqlite3 connection owned by one worker thread (sqlite3 refuses other threads), so
    no call blocks the event loop, not even a 10 s busy wait. One connection means one
    transaction at a time in this process: an asyncio lock keeps coroutines' statements from
    interleaving; other processes wait on the file's lock (WAL, busy timeout).

    Reads that decide no write (`reading()`: a budget shown, an interaction's pre-check) go
    through a second, query-only connection in a thread of its own: in WAL mode a reader
    never waits for a writer, so a slash command's first answer does not queue behind other
    jobs' commits and their fsyncs. It sees every commit this process has made."""

    dialect = "sqlite"

    def __init__(self, path: Path | str, busy_timeout: float = 10.0) -> None:
        self.path = str(path)
        self._busy_timeout = busy_timeout
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._level = RELAXED  # the connection's PRAGMA synchronous (see _connect)
        self._lock = asyncio.Lock()
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-read")
        self._read_conn: sqlite3.Connection | None = None

    async def open(self) -> SqliteDatabase:
        await self.call(lambda _: None)
        return self

    def _connect(self, query_only: bool = False) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit at the driver level: transactions are ours, explicit, and IMMEDIATE
        # where a read decides a write.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL: a commit is not fsynced until the next checkpoint, so a power
            # loss may drop the last commits (never corrupt the file). Harmless for progress,
            # message references and leases; the commits that must survive ask for FULL
            # (`durable`): money reserved, moved or settled, and the mark that a submit may be
            # in flight (lost, the job would be sent twice).
            conn.execute(f"PRAGMA synchronous = {RELAXED}")
        if query_only:
            conn.execute("PRAGMA query_only = 1")
        return conn

    async def call(self, work: Callable[[sqlite3.Connection], T], level: str | None = None) -> T:
        """Run `work` on the connection, in its thread; at `level` (`PRAGMA synchronous`)
        when given. The level is switched in the hop that needs it, never in a hop of its
        own, and only by a section's first statement: outside any transaction."""
        def run() -> T:
            if self._conn is None:
                self._conn = self._connect()
                self._level = RELAXED
            if level is not None and level != self._level and self.path != ":memory:":
                self._conn.execute(f"PRAGMA synchronous = {level}")
                self._level = level
            return work(self._conn)
        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    async def _read(self, work: Callable[[sqlite3.Connection], T], _: str | None = None) -> T:
        def run() -> T:
            if self._read_conn is None:
                self._read_conn = self._connect(query_only=True)
            return work(self._read_conn)
        return await asyncio.get_running_loop().run_in_executor(self._reader, run)

    @contextlib.asynccontextmanager
    async def connection(self, durable: bool = False) -> AsyncIterator[Tx]:
        async with self._lock:
            yield _SqliteTx(self.call, DURABLE if durable else RELAXED)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        if self.path == ":memory:":  # a second connection would open another, empty database
            async with self.connection() as tx:
                yield tx
            return
        yield _SqliteTx(self._read, None)

    @contextlib.asynccontextmanager
    async def transaction(self, lock: str | None = None, durable: bool = False) -> AsyncIterator[Tx]:
        # `lock` is PostgreSQL's finer grain; here the file's write lock covers every team.
        async with self._lock:
            tx = _SqliteTx(self.call, DURABLE if durable else RELAXED, prelude="BEGIN IMMEDIATE")
            try:
                yield tx
                await asyncio.shield(tx.commit())
            except BaseException:
                # Shielded, and only if a transaction is open (BEGIN may have failed or been
                # cancelled either side of running): the connection must be left clean.
                await asyncio.shield(self.call(_rollback))
                raise

    async def schema_version(self, tx: Tx) -> int:
        row = await tx.fetchone("PRAGMA user_version")
        return int(next(iter(row.values()))) if row else 0

    async def set_schema_version(self, tx: Tx, version: int) -> None:
        await tx.execute(f"PRAGMA user_version = {int(version)}")

    async def aclose(self) -> None:
        if self._read_conn is not None:
            await self._read(lambda c: c.close())
            self._read_conn = None
        self._reader.shutdown(wait=True)
        if self._conn is not None:
            await self.call(lambda c: c.close())
            self._conn = None
        self._thread.shutdown(wait=True)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


# -- PostgreSQL --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """Our `?` placeholders as psycopg's `%s` (a literal % doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(_pg_sql(sql), list(params))
        return int(cursor.rowcount)

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        cursor = await self._conn.execute(_pg_sql(sql), list(params))
        return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        cursor = await self._conn.execute(_pg_sql(sql), list(params))
        row = await cursor.fetchone()
        return dict(row) if row is not None else None


class PostgresDatabase:
    """A psycopg 3 async connection pool: every process (and host) holds its own pool on the
    one server, and the server's locks make the guarantees hold between them."""

    dialect = "postgresql"

    def __init__(self, url: str, max_size: int = 10) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        self.url = url
        self._pool = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, open=False, name="sora-bot",
            kwargs={"autocommit": True, "row_factory": dict_row})

    async def open(self) -> PostgresDatabase:
        import psycopg

        try:
            # One plain connection first: when it fails, its error says why (refused, no such
            # database, authentication), where the pool would only time out.
            first = await psycopg.AsyncConnection.connect(self.url, connect_timeout=10)
            await first.close()
            await self._pool.open(wait=True, timeout=15)
        except Exception as exc:
            await self._pool.close()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            password = urlsplit(self.url).password
            if password:  # libpq does not quote it; be sure anyway
                reason = reason.replace(password, "***")
            raise ConnectionError(f"Cannot connect to {redacted(self.url)}: {reason}") from None
        return self

    @contextlib.asynccontextmanager
    async def connection(self, durable: bool = False) -> AsyncIterator[Tx]:
        # Every PostgreSQL commit is durable (synchronous_commit on): `durable` is SQLite's.
        async with self._pool.connection() as conn:
            yield _PgTx(conn)

    def reading(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        # A pooled connection: readers never wait for writers here either.
        return self.connection()

    @contextlib.asynccontextmanager
    async def transaction(self, lock: str | None = None, durable: bool = False) -> AsyncIterator[Tx]:
        async with self._pool.connection() as conn, conn.transaction():
            tx = _PgTx(conn)
            if lock is not None:
                # Held until commit or rollback; other teams' reservations do not wait.
                await tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [lock])
            yield tx

    async def schema_version(self, tx: Tx) -> int:
        await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = await tx.fetchone("SELECT MAX(version) AS version FROM schema_version")
        return int(row["version"]) if row and row["version"] is not None else 0

    async def set_schema_version(self, tx: Tx, version: int) -> None:
        await tx.execute("DELETE FROM schema_version")
        await tx.execute("INSERT INTO schema_version (version) VALUES (?)", [version])

    async def aclose(self) -> None:
        await self._pool.close()


async def open_database(target: str | Path, busy_timeout: float = 10.0) -> Database:
    """SQLite for a path, PostgreSQL for a postgresql:// URL (SORA_DB)."""
    if is_postgres(target):
        return await PostgresDatabase(str(target)).open()
    return await SqliteDatabase(target, busy_timeout).open()

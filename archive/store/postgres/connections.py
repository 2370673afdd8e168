"""Connections to a PostgreSQL primary and its read replicas: pools, rotation and fail-over.

:class:`Connections` keeps one small ``psycopg_pool.ConnectionPool`` per server, opened
on first use (so a forked web worker opens its own). Writes always go to the primary.
Reads go round-robin to the replicas that answer; a server that fails to connect or
drops a connection mid-query is taken out of rotation for ``retry_after`` seconds (then
tried again), and the read is retried on the next replica or on the primary, so a reader
never sees a failed request while one server answers. While the primary is down (a
restart, a fail-over), the replicas keep answering reads.

Retrying needs to run the read again, so the retrying form is :meth:`Connections.run_read`
(``conns.run_read(lambda conn: ...)``); :meth:`Connections.read` hands out one connection
to a server that answers right now, for reads that cannot be repeated (a streamed export).
Inside a ``run_read``, :meth:`Connections.beside` runs a second query at the same time on
another idle connection to the same server, when one is idle (two of the server's cores on
one search).

Passwords never reach a log line or message: servers are shown by :func:`display_url`.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from archive.errors import StoreUnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a server that stopped answering stays out of the read rotation before it is tried again.
RETRY_AFTER = 5.0
#: Seconds to wait for a connection from a pool (a busy server) before trying the next server.
POOL_TIMEOUT = 5.0
#: Seconds libpq waits for a server to accept a new connection.
CONNECT_TIMEOUT = 3
#: Seconds after its check that a pooled connection is handed out again without one (a round trip
#: per read saved on a busy server).
FRESH = 1.0
#: How long :meth:`Connections.beside` waits for an idle connection (the pool's getconn takes 0 as
#: "already too late", and a wait of 0.1 ms is one only when a connection is idle).
_IDLE_NOW = 0.0001


def display_url(url: str) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter), safe to print."""
    if "://" not in url:  # a key=value conninfo string
        return " ".join(part for part in url.split() if not part.lower().startswith("password="))
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hosts = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{hosts}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _is_server_failure(error: BaseException, conn: psycopg.Connection | None) -> bool:
    """Whether ``error`` says the server (not the query) failed: retry elsewhere and rotate it out."""
    if isinstance(error, PoolTimeout | PoolClosed):
        return True
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        # A lost connection is broken or closed; a canceled statement (QueryCanceled) is not.
        return conn is None or conn.broken or conn.closed or isinstance(error, psycopg.errors.AdminShutdown)
    return False


def _is_retryable(error: BaseException) -> bool:
    """Errors another server may not give: lost connections, and a standby's recovery conflicts."""
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError | psycopg.errors.SerializationFailure)


class _Server:
    """One server's pool and its place in the rotation."""

    def __init__(self, url: str, role: str, max_size: int, configure: Callable | None):
        self.url, self.role = url, role
        self.shown = display_url(url)
        self.max_size, self.configure = max_size, configure
        self.down_until = 0.0
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        #: When each pooled connection last answered checkout's check (it is not checked again within FRESH).
        self._checked_at: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()

    def pool(self) -> ConnectionPool:
        """The server's pool, created on first use and again after the server was out of rotation.

        A new pool is preceded by one plain connection attempt, so a server that is down fails
        within CONNECT_TIMEOUT (at once, when the port is closed) rather than after POOL_TIMEOUT.
        """
        with self._lock:
            if self._pool is None:
                self.probe()
                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=self.max_size, open=False, name=self.shown,
                    timeout=POOL_TIMEOUT, kwargs={"connect_timeout": CONNECT_TIMEOUT, "autocommit": True},
                    configure=self.configure,
                )
                self._pool.open(wait=False)
            return self._pool

    def probe(self) -> None:
        """Connect once, outside the pool; raises OperationalError when the server does not answer."""
        psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()

    def checkout(self) -> tuple[ConnectionPool, psycopg.Connection]:
        """A live connection from the pool (give it back with ``pool.putconn``).

        An idle connection may have died with its server. The pool's own check would then wait
        for a new connection until POOL_TIMEOUT; here a dead one is followed by one probe, so a
        stopped server fails over at once while a server that dropped one old connection serves.
        """
        pool, conn, _checked = self.checkout_recent(recent=False)
        return pool, conn

    def checkout_recent(self, recent: bool = True) -> tuple[ConnectionPool, psycopg.Connection, bool]:
        """(pool, connection, whether it was checked now): like :meth:`checkout`, but with ``recent`` a
        connection checked less than FRESH seconds ago is handed out unchecked (a busy server's
        are: a round trip saved per read). Should it have died since, the caller checks out again
        with ``recent=False`` (run_read does)."""
        pool = self.pool()
        for _ in range(2):
            conn = pool.getconn()
            now = time.monotonic()
            if recent and now - self._checked_at.get(conn, -FRESH) < FRESH:
                return pool, conn, False
            try:
                conn.execute("")
                self._checked_at[conn] = now
                return pool, conn, True
            except psycopg.Error:
                pool.putconn(conn)  # broken: the pool discards it
                self.probe()
        raise psycopg.OperationalError(f"{self.shown} hands out dead connections")

    def healthy(self, now: float) -> bool:
        return self.down_until <= now

    def mark_down(self, error: BaseException, retry_after: float) -> None:
        """Take the server out of rotation; threads waiting on its pool fail over at once."""
        with self._lock:
            already = self.down_until > time.monotonic()
            self.down_until = time.monotonic() + retry_after
            pool, self._pool = self._pool, None
        if not already:
            log.warning("%s %s stopped answering (%s); out of the read rotation for %.0f s",
                        self.role, self.shown, type(error).__name__, retry_after)
        if pool is not None:
            # Closing fails the threads waiting for one of its connections (PoolClosed), so they
            # retry elsewhere now instead of after POOL_TIMEOUT; in a thread, since it waits for
            # the pool's workers.
            threading.Thread(target=pool.close, kwargs={"timeout": CONNECT_TIMEOUT + 1},
                             name=f"close {self.shown}", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class Connections:
    """Pools for one primary (reads and writes) and any number of read replicas (reads).

    :param configure: called on each new connection (e.g. to set a session parameter).
    :param max_size: connections per server at most; one per serving thread is enough.
    """

    def __init__(self, primary_url: str, replica_urls: Sequence[str] = (), *, max_size: int = 8,
                 retry_after: float = RETRY_AFTER, configure: Callable[[psycopg.Connection], None] | None = None):
        self.primary = _Server(primary_url, "primary", max_size, configure)
        self.replicas = [_Server(url, "read replica", max_size, configure) for url in replica_urls]
        self.retry_after = retry_after
        self.max_size = max_size
        self._turn = itertools.count()
        self._local = threading.local()  # the server of the thread's current run_read
        self._beside: tuple[int, ThreadPoolExecutor] | None = None
        self._beside_lock = threading.Lock()
        self._reading = 0  # run_reads in progress in this process

    def __repr__(self) -> str:
        return f"Connections({self.primary.shown!r}, replicas={[r.shown for r in self.replicas]!r})"

    # -- reads ----------------------------------------------------------------
    def _read_order(self) -> list[_Server]:
        """Healthy replicas round-robin, then the primary, then servers out of rotation (a last resort)."""
        now = time.monotonic()
        replicas = self.replicas
        if replicas:
            start = next(self._turn) % len(replicas)
            replicas = replicas[start:] + replicas[:start]
        servers = [*replicas, self.primary]
        return [s for s in servers if s.healthy(now)] + [s for s in servers if not s.healthy(now)]

    def run_read(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """``fn(conn)`` on a connection for reading, run again on the next server if one fails.

        ``fn`` must only read (it may run more than once). Raises StoreUnavailableError when no
        server answers; errors of the query itself (syntax, bad data) are raised as they are.
        """
        last: BaseException | None = None
        for server in self._read_order():
            for recent in (True, False):
                conn = pool = None
                checked = True
                try:
                    pool, conn, checked = server.checkout_recent(recent)
                    self._local.server = server
                    with self._beside_lock:
                        self._reading += 1
                    try:
                        return fn(conn)
                    finally:
                        with self._beside_lock:
                            self._reading -= 1
                except Exception as e:
                    if not _is_retryable(e):
                        raise
                    if not checked and _is_server_failure(e, conn):
                        continue  # it may have died since its check: once more, on a checked connection
                    if _is_server_failure(e, conn):
                        server.mark_down(e, self.retry_after)
                    else:
                        log.info("read on %s failed (%s); retrying on the next server", server.shown,
                                 type(e).__name__)
                    last = e
                    break
                finally:
                    self._local.server = None
                    if pool is not None and conn is not None:
                        pool.putconn(conn)
        raise StoreUnavailableError(self._unavailable("No database server answered the read")) from last

    def beside(self, fn: Callable[[psycopg.Connection], T]) -> Future[T] | None:
        """``fn(conn)`` in a worker thread on another connection to the server of this thread's
        :meth:`run_read`, so that its query runs while the caller's does; None (run it yourself)
        outside a ``run_read``, while other reads are in progress in this process, or when the
        server has no idle connection right now: a busy server gains nothing from a second
        backend (the same work, split, costs a little more CPU), and waiting for a connection
        could hold up every reader.

        The result is the future's; an error (including a lost connection: the server is not
        taken out of rotation for it) is raised by ``result()``, and the caller runs ``fn`` on its
        own connection instead, where run_read's retrying applies.
        """
        server = getattr(self._local, "server", None)
        pool = server._pool if server is not None else None
        if pool is None or self._reading > 1:  # other reads in progress: the cores have work already
            return None
        try:
            conn = pool.getconn(timeout=_IDLE_NOW)
        except (PoolTimeout, PoolClosed):
            return None

        def run() -> T:
            try:
                return fn(conn)
            finally:
                pool.putconn(conn)

        try:
            return self._executor().submit(run)
        except RuntimeError:  # shutting down
            pool.putconn(conn)
            return None

    def _executor(self) -> ThreadPoolExecutor:
        """The threads of :meth:`beside`, made anew in a forked process (threads do not survive a fork)."""
        with self._beside_lock:
            if self._beside is None or self._beside[0] != os.getpid():
                self._beside = (os.getpid(), ThreadPoolExecutor(self.max_size, thread_name_prefix="geoarchive-beside"))
            return self._beside[1]

    @contextmanager
    def read(self, *, primary: bool = False) -> Iterator[psycopg.Connection]:
        """A connection (autocommit) to a server that answers now: a replica, else the primary.

        ``primary=True`` reads from the primary (to see one's own writes at once). A failure
        inside the block is not retried; use :meth:`run_read` for reads that may run again.
        """
        servers = [self.primary] if primary else self._read_order()
        last: BaseException | None = None
        for server in servers:
            try:
                pool, conn = server.checkout()
                break
            except (PoolTimeout, PoolClosed, psycopg.OperationalError) as e:
                server.mark_down(e, self.retry_after)
                last = e
        else:
            raise StoreUnavailableError(self._unavailable("No database server answered")) from last
        try:
            yield conn
        except Exception as e:
            if _is_server_failure(e, conn):
                server.mark_down(e, self.retry_after)
            raise
        finally:
            pool.putconn(conn)

    # -- writes ---------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[psycopg.Connection]:
        """A connection to the primary inside one transaction: committed when the block ends, rolled
        back when it raises (so one ``with conns.write()`` block is one batch, all or nothing).

        Raises StoreUnavailableError when the primary does not answer.
        """
        pool, conn = self._primary_checkout()
        try:
            with conn.transaction():
                yield conn
        except Exception as e:
            if _is_server_failure(e, conn):
                self.primary.mark_down(e, self.retry_after)
            raise
        finally:
            pool.putconn(conn)

    @contextmanager
    def maintenance(self) -> Iterator[psycopg.Connection]:
        """A connection to the primary outside any transaction (autocommit), for statements that
        cannot run inside one (CREATE INDEX CONCURRENTLY)."""
        pool, conn = self._primary_checkout()
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def _primary_checkout(self) -> tuple[ConnectionPool, psycopg.Connection]:
        """(pool, connection) of the primary; StoreUnavailableError when it does not answer."""
        try:
            return self.primary.checkout()
        except (PoolTimeout, PoolClosed, psycopg.OperationalError) as e:
            self.primary.mark_down(e, self.retry_after)
            raise StoreUnavailableError(
                f"The primary database server {self.primary.shown} does not answer ({type(e).__name__}); "
                "writes need it. Is it running?"
            ) from e

    def _unavailable(self, what: str) -> str:
        servers = ", ".join(s.shown for s in [self.primary, *self.replicas])
        return f"{what}: tried {servers}. Are they running?"

    def close(self) -> None:
        """Close every pool (they reopen on the next use) and stop beside's threads."""
        for server in [self.primary, *self.replicas]:
            server.close()
            server.down_until = 0.0
        with self._beside_lock:
            beside, self._beside = self._beside, None
        if beside is not None:
            beside[1].shutdown(wait=False)

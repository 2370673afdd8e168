"""A throw-away PostgreSQL cluster for the tests, and the fixtures that hand out its databases.

The session starts one cluster of its own (``initdb`` in a temporary folder, 127.0.0.1 on
a free port, password authentication) the first time a test asks for it, and stops it at
the end, failed tests or not. No test talks to a server it did not start.

* ``pg_server`` (session): the running :class:`PgServer`. Its superuser's password is
  not in any URL: it is in a ``.pgpass`` file named by ``PGPASSFILE`` for the session, so
  every connection exercises "password from the environment or ~/.pgpass".
* ``pg_url`` (function): the URL of a new, empty database (a copy of a template that
  already has the extensions the store uses, which saves a second per test), dropped after.

PostgreSQL refuses to run as root: as root, the server runs as Debian's ``postgres`` user
(created if missing). Binaries: ``$PG_BIN``, else the newest ``/usr/lib/postgresql/*/bin``,
else ``PATH``. Without them the tests skip with a message, except under ``CI=true``
where they fail: `make test` installs Debian's packages.

Test infrastructure only: this module talks to the server with psycopg directly, which
the archive itself does only inside ``archive/store/postgres/``.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SUPERUSER = "geoarchive"
TEMPLATE_DB = "geoarchive_template"
#: Extensions the PostgreSQL store uses; created in the template when the server has them.
EXTENSIONS = ("postgis", "pg_trgm", "rum")
#: Speed over durability: a test cluster is thrown away (a SIGKILLed *client* still tests
#: that committed batches stay, since the server keeps running).
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
    "listen_addresses": "127.0.0.1",
}
RUN_AS = "postgres"
_db_numbers = itertools.count()


class PgUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed here."""


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and pg_basebackup, or PgUnavailable."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "pg_basebackup")):
            return folder
    raise PgUnavailable(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found in $PG_BIN, /usr/lib/postgresql/*/bin "
        "or PATH: run `make test`, which installs Debian's postgresql, postgresql-15-postgis-3 and postgresql-15-rum."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> str | None:
    """The unprivileged user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_AS],
                       check=True, capture_output=True)
    return RUN_AS


class PgServer:
    """One PostgreSQL server process over one data folder, controlled with pg_ctl."""

    def __init__(self, bindir: Path, base: Path, name: str, port: int, password: str, user: str | None):
        self.bindir, self.base, self.name = bindir, base, name
        self.datadir = base / name
        self.port, self.password, self.user = port, password, user
        self.logfile = base / f"{name}.log"

    # -- processes ------------------------------------------------------------
    def run(self, *args: str | Path, check: bool = True, **kw) -> subprocess.CompletedProcess:
        """Run a PostgreSQL tool (as the service user when we are root); output captured."""
        tool, *rest = args
        cmd = [str(self.bindir / tool), *map(str, rest)]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, cwd=self.base, capture_output=True, text=True, **kw)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log_tail()}")
        return done

    def start(self, **settings: str) -> None:
        """Start the server on :attr:`port` and wait until it accepts connections."""
        opts = {**FAST_SETTINGS, "port": str(self.port), "unix_socket_directories": str(self.base), **settings}
        options = " ".join(f"-c {k}={v}" for k, v in opts.items())
        self.run("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate); a stopped server is left alone."""
        if self.running():
            self.run("pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def running(self) -> bool:
        return self.datadir.exists() and self.run("pg_ctl", "-D", self.datadir, "status", check=False).returncode == 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- URLs and SQL ---------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """A URL without the password (libpq finds it through PGPASSFILE)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, params: tuple = (), dbname: str = "postgres") -> list[tuple]:
        """Run one statement in autocommit mode (CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    # -- replicas -------------------------------------------------------------
    def make_replica(self, name: str) -> PgServer:
        """A streaming replica of this (running) server: ``pg_basebackup -R``, not yet started."""
        replica = PgServer(self.bindir, self.base, name, free_port(), self.password, self.user)
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
                 "-D", replica.datadir, "-R", "-X", "stream", "-c", "fast", "--no-sync", "-w")
        return replica


class PgCluster:
    """The session's primary server, its scratch folder and its password file."""

    def __init__(self, base: Path | None = None) -> None:
        """A cluster in a new temporary folder, or in ``base`` (kept, and reused when it holds one)."""
        self.bindir = find_bindir()
        self.user = _service_user()
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="geoarchive-pg-"))
        self.base.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.base, self.user, self.user)
        self.passfile = self.base / "pgpass"
        if self.passfile.exists():
            self.password = self.passfile.read_text().strip().rsplit(":", 1)[1]
        else:
            self.password = secrets.token_hex(16)
            self.passfile.write_text(f"127.0.0.1:*:*:{SUPERUSER}:{self.password}\n")
            self.passfile.chmod(0o600)
        if self.user:
            shutil.chown(self.passfile, self.user, self.user)  # the replicas' walreceivers read it too
        self.servers: list[PgServer] = []
        self._names = itertools.count()

    def init_primary(self, name: str = "primary") -> PgServer:
        """A new cluster (initdb) in ``name``, started, with the template database; stopped with the session."""
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.user:
            shutil.chown(pwfile, self.user, self.user)
        server = PgServer(self.bindir, self.base, name, free_port(), self.password, self.user)
        server.run("initdb", "-D", server.datadir, "-U", SUPERUSER, "--pwfile", pwfile, "--auth=scram-sha-256",
                   "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        self.servers.append(server)
        for attempt in range(3):  # the free port may be taken between free_port() and start()
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = free_port()
        available = {n for (n,) in server.execute("SELECT name FROM pg_available_extensions")}
        self.extensions = available & set(EXTENSIONS)
        server.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        for ext in EXTENSIONS:
            if ext in self.extensions:
                server.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}", dbname=TEMPLATE_DB)
        server.execute(f"ALTER DATABASE {TEMPLATE_DB} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
        return server

    def create_database(self, server: PgServer, name: str | None = None) -> str:
        """A new database copied from the template on ``server``; returns its URL (no password)."""
        name = name or f"t{os.getpid()}_{next(_db_numbers)}"
        server.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
        return server.url(name)

    def replica(self, primary: PgServer) -> PgServer:
        """A streaming replica of ``primary``, started; stopped with the session."""
        replica = primary.make_replica(f"replica{next(self._names)}")
        self.servers.append(replica)
        replica.start()
        return replica

    def existing(self, name: str) -> PgServer:
        """The server whose data folder ``name`` a previous run left in :attr:`base` (not started)."""
        server = PgServer(self.bindir, self.base, name, free_port(), self.password, self.user)
        self.servers.append(server)
        return server

    def close(self, remove: bool = True) -> None:
        for server in reversed(self.servers):
            server.stop("fast" if not remove else "immediate")
        self.servers.clear()
        if remove:
            shutil.rmtree(self.base, ignore_errors=True)


def wait_until(check, timeout: float = 30.0, interval: float = 0.1):
    """Call ``check()`` until it returns a true value (returned) or ``timeout`` s pass (its last error raised)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
            error = None
        except Exception as e:  # noqa: BLE001 - e.g. a replica still starting: retried until the deadline
            error = e
        if time.monotonic() > deadline:
            if error is not None:
                raise error
            raise TimeoutError(f"still not true after {timeout} s: {check}")
        time.sleep(interval)


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the test PostgreSQL server did not start: {message}", pytrace=False)
    pytest.skip(f"no test PostgreSQL server: {message}")


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's PgCluster, its primary started, PGPASSFILE set; stopped and removed at the end."""
    try:
        cluster = PgCluster()
    except PgUnavailable as e:
        _unavailable(str(e))
    atexit.register(cluster.close)  # also when the session ends without running teardowns
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("PGPASSFILE", str(cluster.passfile))
        for var in ("PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE"):
            mp.delenv(var, raising=False)
        try:
            primary = cluster.init_primary()
        except RuntimeError as e:
            _unavailable(str(e))
        cluster.primary = primary
        yield cluster
    finally:
        mp.undo()
        cluster.close()
        atexit.unregister(cluster.close)


@pytest.fixture(scope="session")
def pg_server(pg_cluster) -> PgServer:
    """The session's running primary server."""
    return pg_cluster.primary


@pytest.fixture(scope="session")
def _pg_replicated_servers(pg_cluster):
    primary = pg_cluster.init_primary("rprimary")
    return primary, [pg_cluster.replica(primary), pg_cluster.replica(primary)]


@pytest.fixture
def pg_replicated(_pg_replicated_servers):
    """A primary (not pg_server) and two streaming replicas of it, all running; tests may stop them.

    Servers a test stopped are started again for the next test.
    """
    primary, replicas = _pg_replicated_servers
    for server in (primary, *replicas):
        if not server.running():
            server.start()
    return primary, replicas


def wait_replayed(primary: PgServer, replica: PgServer, timeout: float = 30.0) -> None:
    """Wait until ``replica`` has replayed everything ``primary`` has written so far."""
    (lsn,) = primary.execute("SELECT pg_current_wal_lsn()::text")[0]
    wait_until(lambda: replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0],
               timeout=timeout)


@pytest.fixture
def pg_url(pg_cluster):
    """The URL (no password in it) of a new, empty database on the session's server; dropped after."""
    url = pg_cluster.create_database(pg_cluster.primary)
    yield url
    if pg_cluster.primary.running():
        pg_cluster.primary.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

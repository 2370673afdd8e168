"""Several waitress processes on one listening socket (``geoarchive serve --workers N``).

A Python process runs Python code on one core at a time, and a search is mostly Python
(Whoosh), so one process leaves the other cores idle. The parent binds the socket and
forks the workers before any index is opened (searchers and their files are per process);
the kernel hands each new connection to whichever worker accepts it first. The parent
only waits: SIGINT or SIGTERM, or the death of any worker, stops them all.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys

from flask import Flask

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (best effort elsewhere)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket for ``host``:``port``."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(info[4])
    sock.listen(1024)
    return sock


def _worker(app: Flask, sock: socket.socket, threads: int) -> None:
    from waitress.server import create_server

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    create_server(app, sockets=[sock], threads=threads, ident="geoarchive").run()


def serve_forked(app: Flask, host: str, port: int, threads: int, workers: int) -> None:
    """Serve ``app`` from ``workers`` forked waitress processes until interrupted or one of them dies."""
    if not hasattr(os, "fork"):
        raise RuntimeError("Several workers need os.fork (Linux or macOS); serve with one worker here.")
    sock = listening_socket(host, port)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            status = 0
            try:
                _worker(app, sock, threads)
            except Exception:
                log.exception("worker %d stopped", os.getpid())
                status = 1
            finally:
                os._exit(status)
        children.append(pid)
    sock.close()
    actual = f"http://{host}:{port}/" if ":" not in host else f"http://[{host}]:{port}/"
    log.info("GeoArchive listening on %s (%d worker processes of %d threads)", actual, workers, threads)

    stopping = False

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        pid, status = os.wait()
        if status and not stopping:
            log.error("worker %d exited (status %d); stopping the others", pid, status)
    finally:
        stop()
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

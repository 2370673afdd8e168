"""`geoarchive serve --workers N`: forked waitress processes on one socket, on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import webfixtures as wf

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads worker pids from /proc")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def server(tmp_path):
    index_dir = wf.build_index(tmp_path / "index")
    port = free_port()
    cmd = [sys.executable, "-m", "archive", "serve", "--index", str(index_dir), "--port", str(port),
           "--workers", "2", "--threads", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"server did not start: {proc.communicate()[1]}")
            time.sleep(0.1)
    try:
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_two_workers_answer_and_stop_together(server):
    proc, base = server
    workers = children(proc.pid)
    assert len(workers) == 2
    for _ in range(6):
        with urllib.request.urlopen(base + "/api/search?q=jarabulus", timeout=10) as r:
            assert json.load(r)["total"] >= 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)


def test_a_dead_worker_stops_the_server(server):
    proc, _base = server
    workers = children(proc.pid)
    os.kill(min(workers), signal.SIGKILL)
    proc.wait(15)
    time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
    assert "exited" in proc.stderr.read()

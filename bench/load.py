"""Load test: 32 concurrent clients on the search page, the JSON API and the map, for 60 s,
with the server's caches on and then off, reported side by side.

    .venv/bin/python bench/load.py                          # build bench/out/corpus-index once, then one run
    .venv/bin/python bench/load.py --index DIR              # reuse an index built by `geoarchive ingest`
    .venv/bin/python bench/load.py --runs 3 --check         # median of 3 runs; exit 1 when a target is missed
    .venv/bin/python bench/load.py --caches off             # only the uncached measurement
    .venv/bin/python bench/load.py --profile                # py-spy samples the server during run 1

The app is served by waitress (``geoarchive serve --workers N``, one worker process per core
by default) in a subprocess on 127.0.0.1 and a free port; locust (``bench/locustfile.py``)
runs headless in another subprocess on the same machine, so the two share its cores.
Queries come from ../shared/corpus/queries.txt. Before the measured runs every query is
sent once to each endpoint, four at a time so that every worker process gets some (warm-up:
each process's per-index tables and the OS page cache are filled, as on a server that has
been up for a while).

What the two measurements mean. The users send only the queries of queries.txt, which the
warm-up has already sent, and the app keeps result pages (SEARCH_CACHE_SIZE, 512 entries per
worker) and maps (MAP_CACHE_SIZE, 256) until the index changes. With the caches **on** most
requests are therefore answered from a cache (about 80% in issue 13's count): that figure is
what a server sees for a small set of popular queries, not what a search costs. With the
caches **off** (GEOARCHIVE_SEARCH_CACHE_SIZE=0, GEOARCHIVE_MAP_CACHE=false) every request
runs the search, counts the places and renders the map: that is the figure the targets apply
to and the one to quote.

Reported per run and as the median over runs, for each of the two servers: requests,
failures, throughput and the 50th/95th/99th percentile latency, overall and per endpoint
(locust's numbers, which round latencies above 100 ms to two significant digits).

Targets (issue 7), on the uncached server: >= 60 requests/s, p99 <= 800 ms, zero failures.
Exits 2 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "bench" / "out"
DEFAULT_INDEX = OUT / "corpus-index"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
ENDPOINTS = ("/", "/api/search", "/map")
TARGET_RPS, TARGET_P99_MS = 60.0, 800.0
#: The two servers measured: the app's defaults, and the same app with both caches off.
MODES = {
    "cached": {},
    "uncached": {"GEOARCHIVE_SEARCH_CACHE_SIZE": "0", "GEOARCHIVE_MAP_CACHE": "false"},
}
DESCRIBE = {
    "cached": "caches on: the users repeat the warm-up's queries, so most answers come from a cache",
    "uncached": "caches off: every request runs the search, counts the places, renders the page",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_index(index: Path | None) -> Path:
    """The index to serve: ``index`` as given, or bench/out/corpus-index (built or completed when needed)."""
    if index is not None:
        if not any(index.glob("*.toc")):
            sys.exit(f"error: no index in {index}/; build one with: geoarchive ingest ../shared/corpus/*.jsonl.gz "
                     f"--index {index}")
        return index
    done = DEFAULT_INDEX.with_name(DEFAULT_INDEX.name + ".built")
    if not done.exists():
        files = sorted(str(p) for p in CORPUS.glob("*.jsonl.gz"))
        log(f"Building {DEFAULT_INDEX.relative_to(ROOT)} from {len(files)} corpus files (several minutes; "
            "an interrupted build is completed by the next run)...")
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "archive", "ingest", *files, "--index", str(DEFAULT_INDEX), "-q"]
        status = subprocess.run(cmd, cwd=ROOT).returncode
        if status not in (0, 1):  # 1: some records were skipped, which the corpus may have
            sys.exit(f"error: ingest failed with exit status {status}")
        done.write_text(f"built in {time.perf_counter() - started:.0f} s\n")
    return DEFAULT_INDEX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 120.0) -> tuple[int, float]:
    """(status, seconds) of one GET."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


class Server:
    """``geoarchive serve`` in a subprocess, logging to bench/out/load-server-<mode>.log."""

    def __init__(self, index: Path, threads: int, workers: int, mode: str = "cached"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = OUT / f"load-server-{mode}.log"
        self.log_file = self.log_path.open("w")
        cmd = [sys.executable, "-m", "archive", "serve", "--index", str(index), "--host", "127.0.0.1",
               "--port", str(self.port), "--threads", str(threads), "--workers", str(workers)]
        # the caches' settings come from the environment (create_app's from_prefixed_env)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GEOARCHIVE_SEARCH_CACHE", "GEOARCHIVE_MAP_CACHE"))}
        env.update(MODES[mode])
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"error: the server exited with status {self.proc.returncode}; see {self.log_path}")
            try:
                if get(self.url + "/healthz", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                sys.exit(f"error: the server did not answer /healthz within 60 s; see {self.log_path}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def warm_up(base: str, queries: list[str], clients: int = 4) -> None:
    """Every query once on each endpoint; a non-200 here stops the benchmark early.

    Sent by ``clients`` connections at once, so that every server worker process (each takes
    the connections it accepts first) gets a share and builds its own per-index tables now,
    not during the measured run.
    """
    from concurrent.futures import ThreadPoolExecutor

    started = time.perf_counter()
    paths = ["/map"] + [f"{p}?{urllib.parse.urlencode({'q': q})}" for q in queries for p in ENDPOINTS]
    with ThreadPoolExecutor(max_workers=max(1, clients)) as pool:
        for path, (status, _seconds) in zip(paths, pool.map(lambda p: get(base + p), paths), strict=True):
            if status != 200:
                sys.exit(f"error: warm-up request {path} answered {status}")
    log(f"warm-up: {len(paths)} requests in {time.perf_counter() - started:.1f} s ({clients} at a time)")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process and its worker processes, from /proc (0 without /proc)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(k)) for k in kids)


def run_locust(base: str, users: int, duration: int, wait: float, seed: int, prefix: Path) -> dict:
    """One headless locust run; returns its stats per endpoint and overall, and the load generator's CPU."""
    env = {**os.environ, "GEOARCHIVE_LOAD_QUERIES": str(CORPUS / "queries.txt"),
           "GEOARCHIVE_LOAD_WAIT": str(wait), "GEOARCHIVE_LOAD_SEED": str(seed)}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
           "--spawn-rate", str(users), "--run-time", f"{duration}s", "--host", base, "--csv", str(prefix),
           "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (prefix.parent / f"{prefix.name}.log").open("w") as out:
        status = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if status != 0:
        sys.exit(f"error: locust exited with status {status}; see {prefix}.log")
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            name = "all" if row["Name"] == "Aggregated" else row["Name"]
            rows[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "max": float(row["Max Response Time"]),
            }
    rows["all"]["locust_cpu_s"] = round(locust_cpu, 1)
    return rows


def start_profiler(pid: int, duration: int, mode: str = "cached") -> list[subprocess.Popen]:
    """py-spy on the server for the run: a flame graph, and raw samples summarised by finish_profiler."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        sys.exit("error: --profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
    common = [str(spy), "record", "--pid", str(pid), "--subprocesses", "--duration", str(duration), "--rate", "50",
              "--nonblocking"]
    return [
        subprocess.Popen([*common, "--format", "flamegraph", "--output", str(OUT / f"load-profile-{mode}.svg")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([*common, "--format", "raw", "--output", str(OUT / f"load-profile-{mode}.raw")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]


def finish_profiler(spies: list[subprocess.Popen], mode: str = "cached") -> None:
    """Wait for py-spy and write the functions holding the most samples (own and inclusive) to a text file."""
    for spy in spies:
        spy.wait(60)
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in (OUT / f"load-profile-{mode}.raw").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if any("waitress/channel.py" in f or "waitress/server.py" in f for f in frames[-1:]):
            continue  # idle I/O threads waiting in select
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    lines = [f"{total} samples (idle waits left out)", "", "inclusive:"]
    lines += [f"{100 * n / total:6.1f}%  {f}" for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:40]]
    lines += ["", "own:"]
    lines += [f"{100 * n / total:6.1f}%  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:25]]
    (OUT / f"load-profile-{mode}.txt").write_text("\n".join(lines) + "\n")
    log(f"profile: {OUT / f'load-profile-{mode}.txt'} and {OUT / f'load-profile-{mode}.svg'}")


def median_of(runs: list[dict]) -> dict:
    names = [n for n in ("all", *ENDPOINTS) if all(n in r for r in runs)]
    return {n: {k: statistics.median(r[n][k] for r in runs) for k in runs[0][n]} for n in names}


def table(stats: dict) -> str:
    lines = [f"{'endpoint':<12} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
             f"{'p99 ms':>8} {'max ms':>8}"]
    for name in (*ENDPOINTS, "all"):
        if name in stats:
            s = stats[name]
            lines.append(f"{name:<12} {s['requests']:>9.0f} {s['failures']:>9.0f} {s['rps']:>8.1f} {s['p50']:>8.0f} "
                         f"{s['p95']:>8.0f} {s['p99']:>8.0f} {s['max']:>8.0f}")
    return "\n".join(lines)


def side_by_side(summaries: dict[str, dict]) -> str:
    """One row per endpoint: req/s and p50/p99 ms for each mode, in the order given."""
    modes = list(summaries)
    head = f"{'endpoint':<12}" + "".join(
        f" | {m + ' req/s':>15} {'p50 ms':>7} {'p99 ms':>7} {'fails':>5}" for m in modes)
    lines = [head, "-" * len(head)]
    for name in (*ENDPOINTS, "all"):
        if all(name in summaries[m] for m in modes):
            row = f"{name:<12}"
            for m in modes:
                s = summaries[m][name]
                row += f" | {s['rps']:>15.1f} {s['p50']:>7.0f} {s['p99']:>7.0f} {s['failures']:>5.0f}"
            lines.append(row)
    return "\n".join(lines)


def measure(mode: str, index: Path, queries: list[str], args: argparse.Namespace) -> list[dict] | None:
    """Start a server in ``mode``, warm it up and run locust ``args.runs`` times; None when the server died."""
    server = Server(index, args.threads, args.workers, mode)
    runs = []
    try:
        log(f"[{mode}] serving {index} at {server.url} (waitress, {args.workers} workers of {args.threads} "
            f"threads; caches {'off' if MODES[mode] else 'on'}); {len(queries)} queries")
        if not args.no_warm_up:
            warm_up(server.url, queries)
        for i in range(args.runs):
            log(f"[{mode}] run {i + 1}/{args.runs}: {args.users} users for {args.duration} s, wait {args.wait:g} s...")
            spy = start_profiler(server.proc.pid, args.duration, mode) if args.profile and i == 0 else None
            server_cpu = cpu_seconds(server.proc.pid)
            load_before = os.getloadavg()[0]
            stats = run_locust(server.url, args.users, args.duration, args.wait, args.seed + i,
                               OUT / f"load-{mode}-run{i + 1}")
            stats["all"]["server_cpu_s"] = round(cpu_seconds(server.proc.pid) - server_cpu, 1)
            stats["all"]["loadavg_1m"] = round(max(load_before, os.getloadavg()[0]), 2)
            if spy is not None:
                finish_profiler(spy, mode)
            if not server.alive():
                log(f"error: the {mode} server died during run {i + 1}; see {server.log_path}")
                return None
            runs.append(stats)
            a = stats["all"]
            print(f"\n[{mode}] run {i + 1}: server CPU {a['server_cpu_s']:.0f} s, locust CPU {a['locust_cpu_s']:.0f} s "
                  f"in {args.duration} s; 1-min load average up to {a['loadavg_1m']:.1f} on {os.cpu_count()} cores"
                  f"\n{table(stats)}", flush=True)
    finally:
        server.stop()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="serve this index (default: build bench/out/corpus-index)")
    parser.add_argument("--users", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    parser.add_argument("--runs", type=int, default=1, help="runs per mode; the report is their median (default 1)")
    parser.add_argument("--wait", type=float, default=0.0,
                        help="seconds each client pauses between requests (default 0: back to back)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per worker (default 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes, geoarchive serve --workers (default: one per core)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the request mix (run i uses seed + i)")
    parser.add_argument("--caches", choices=("both", "on", "off"), default="both",
                        help="measure with the caches on, off, or both side by side (default; the target "
                             "applies to 'off')")
    parser.add_argument("--no-warm-up", action="store_true", help="measure from a cold server")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed (uncached)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during run 1: bench/out/load-profile-<mode>.txt and .svg")
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.users <= 256 or not 1 <= args.runs <= 10:
        parser.error("--duration must be 1..600, --users 1..256, --runs 1..10")

    if not (CORPUS / "queries.txt").exists() or not any(CORPUS.glob("*.jsonl.gz")):
        log(f"error: {CORPUS} with the corpus (*.jsonl.gz and queries.txt) is absent; this benchmark needs it.")
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    index = ensure_index(args.index)
    queries = [q.strip() for q in (CORPUS / "queries.txt").read_text().splitlines() if q.strip()]
    modes = {"both": ["uncached", "cached"], "on": ["cached"], "off": ["uncached"]}[args.caches]

    all_runs: dict[str, list[dict]] = {}
    for mode in modes:
        runs = measure(mode, index, queries, args)
        if runs is None:
            return 1
        all_runs[mode] = runs
    summaries = {m: median_of(all_runs[m]) for m in ("cached", "uncached") if m in all_runs}

    what = f"median of {args.runs} runs" if args.runs > 1 else "result"
    print(f"\n{what} per server ({args.users} users, {args.duration} s, wait {args.wait:g} s; {args.workers} "
          f"server workers of {args.threads} threads; {os.cpu_count()} cores)")
    for mode, summary in summaries.items():
        print(f"\n{mode} ({DESCRIBE[mode]})")
        print(table(summary))
    if len(summaries) > 1:
        print("\nside by side (the target applies to uncached):")
        print(side_by_side(summaries))

    met = None
    if "uncached" in summaries:
        overall = summaries["uncached"]["all"]
        failures = sum(r["all"]["failures"] for r in all_runs["uncached"])
        met = overall["rps"] >= TARGET_RPS and overall["p99"] <= TARGET_P99_MS and failures == 0
        print(f"\ntarget (uncached) >= {TARGET_RPS:g} req/s, p99 <= {TARGET_P99_MS:g} ms, 0 failures: "
              f"{overall['rps']:.1f} req/s, p99 {overall['p99']:.0f} ms, {failures} failures -> "
              f"{'met' if met else 'MISSED'}")
    else:
        print("\ntarget not checked: it applies to the uncached server (--caches off or both)")
    for mode in summaries:
        per_cpu = [r["all"]["requests"] / r["all"]["server_cpu_s"] for r in all_runs[mode]
                   if r["all"].get("server_cpu_s")]
        if per_cpu:
            # On a shared machine the server gets what other processes leave; this is what it does per core-second.
            rate = statistics.median(per_cpu)
            print(f"server efficiency ({mode}): {rate:.1f} requests per CPU-second (median over runs); "
                  f"{os.cpu_count()} idle cores would bound throughput near {rate * (os.cpu_count() or 1):.0f} req/s, "
                  "less the load generator")
    (OUT / "load.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                               "runs": all_runs, "median": summaries, "met": met}, indent=2))
    if args.check and met is None:
        log("error: --check needs the uncached measurement (--caches off or both)")
        return 1
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())

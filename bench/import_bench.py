"""How fast `hearth import` reads a big ChatGPT export, and how much memory it needs.

    .venv/bin/python bench/import_bench.py [--size-mb 500] [--small-mb N] [--layout zip|dir]
                                           [--json]

Generates a synthetic ChatGPT export of realistic shape (bench/synthetic_chatgpt.py; cached in
`$HEARTH_BENCH_CACHE`, default the system temp dir), then runs `hearth import` in a subprocess
with a fresh HEARTH_HOME, three times:
  1. `--dry-run` on the full export: parse-only throughput,
  2. a real import of the full export: throughput (export JSON bytes / wall seconds), peak RSS,
  3. a real import of the small export (default a fifth of the size): peak RSS again,
and prints a table and the ratios. Peak RSS is the import's whole process tree (the command and
its parser worker, polled every 10 ms from /proc, each process's high-water mark, summed); CPU
seconds are user + system time, for the command and its parser worker separately: on two free
cores they run side by side, so the wall time approaches the larger of the two. Goal on a
2-core machine: ≥ 50 MB/s and ≤ 400 MB peak RSS, and RSS must not grow with the size. The load
average is printed with the figures: on a shared machine the wall time depends on it.
With --json the last line is one JSON object: {"size_mb", "throughput_mb_s", "dry_run_mb_s",
"peak_rss_mb", "peak_rss_small_mb", "rss_growth_ratio", "cpu_s", …}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthetic_chatgpt import export_for

REPO = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.01


@dataclass
class Run:
    """One `hearth import` run: wall and CPU seconds, peak RSS of its process tree, report."""

    wall: float
    cpu: float
    peak_rss_mb: float
    report: dict[str, Any]
    main_cpu: float
    """CPU seconds of the `hearth` process itself (parsing when in-process, else writing)."""
    worker_cpu: float
    """CPU seconds of its parser worker (0 when it parsed in-process)."""


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
            todo += [int(c) for c in children.split()]
    return pids


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process (clock ticks), from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _watch(pid: int, peaks: dict[int, int], ticks: dict[int, int], done: threading.Event) -> None:
    """Keep every process's high-water mark and CPU time until `done`."""
    while not done.is_set():
        for member in _tree(pid):
            peaks[member] = max(peaks.get(member, 0), _hwm_kb(member))
            ticks[member] = max(ticks.get(member, 0), _cpu_ticks(member))
        time.sleep(POLL_SECONDS)


def run_hearth(export: Path, *extra: str) -> Run:
    """Run `hearth import EXPORT --json` in a child with a fresh home."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-home-") as home:
        env = {**os.environ, "HEARTH_HOME": home}
        command = [
            sys.executable, "-c", "from runtime.cli import main; main()", "import", str(export),
            "--json", "--companion", "Bench", "--no-index", *extra,
        ]  # fmt: skip
        # --no-index: the import alone is measured; indexing is bench/memory_bench.py's figure.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            child = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
            peaks: dict[int, int] = {}
            ticks: dict[int, int] = {}
            done = threading.Event()
            watcher = threading.Thread(
                target=_watch, args=(child.pid, peaks, ticks, done), daemon=True
            )
            watcher.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            done.set()
            watcher.join()
            code = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            if code != 0:
                raise SystemExit(f"hearth import failed ({code}): {err.read().decode()}")
            report = json.loads(out.read())
    cpu = usage.ru_utime + usage.ru_stime  # includes the reaped parser worker
    hz = os.sysconf("SC_CLK_TCK")
    worker = sum(t for p, t in ticks.items() if p != child.pid) / hz
    return Run(wall, cpu, sum(peaks.values()) / 1024, report, cpu - worker, worker)


def main() -> None:
    """Generate (or reuse) the exports, run the three imports, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--small-mb", type=int, default=None, help="default: size / 5")
    parser.add_argument("--layout", choices=("zip", "dir"), default="zip")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    small_mb = args.small_mb or max(1, args.size_mb // 5)

    export, info = export_for(args.size_mb, args.layout)
    small_export, small_info = export_for(small_mb, args.layout)
    mb, small = info["bytes"] / 1e6, small_info["bytes"] / 1e6
    load_before = os.getloadavg()[0]
    dry = run_hearth(export, "--dry-run")
    full = run_hearth(export)
    little = run_hearth(small_export)
    load_after = os.getloadavg()[0]

    def line(run: Run, size: float) -> str:
        return (
            f"{run.wall:6.1f} s  {size / run.wall:6.1f} MB/s  peak RSS {run.peak_rss_mb:4.0f} MB  "
            f"CPU {run.main_cpu:5.1f} s hearth + {run.worker_cpu:5.1f} s parser worker"
        )

    rows = [
        ("export", f"{mb:,.0f} MB of JSON ({args.layout}), {info['conversations']:,} "
                   f"conversations, {info['messages']:,} nodes"),
        ("parse only (--dry-run)", line(dry, mb)),
        ("import", line(full, mb)),
        (f"import of {small:,.0f} MB", line(little, small)),
        ("ratios", f"peak RSS {full.peak_rss_mb / little.peak_rss_mb:.2f}x for {mb / small:.1f}x "
                   f"the data; import / parse-only time {full.wall / dry.wall:.2f}x"),
        ("stored", f"{full.report['sessions_added']:,} sessions, "
                   f"{full.report['messages_added']:,} messages"),
        ("load average (1 min)", f"{load_before:.2f} before, {load_after:.2f} after, "
                                 f"{os.cpu_count()} CPUs"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.json:
        print(
            json.dumps(
                {
                    "size_mb": round(mb, 1),
                    "throughput_mb_s": round(mb / full.wall, 1),
                    "dry_run_mb_s": round(mb / dry.wall, 1),
                    "peak_rss_mb": round(full.peak_rss_mb, 1),
                    "peak_rss_small_mb": round(little.peak_rss_mb, 1),
                    "rss_growth_ratio": round(full.peak_rss_mb / little.peak_rss_mb, 2),
                    "cpu_s": round(full.cpu, 1),
                    "main_cpu_s": round(full.main_cpu, 1),
                    "worker_cpu_s": round(full.worker_cpu, 1),
                    "dry_run_cpu_s": round(dry.cpu, 1),
                    "small_mb": round(small, 1),
                    "small_throughput_mb_s": round(small / little.wall, 1),
                    "conversations": info["conversations"],
                    "messages": info["messages"],
                    "sessions_added": full.report["sessions_added"],
                    "messages_added": full.report["messages_added"],
                    "layout": args.layout,
                    "load_avg": [round(load_before, 2), round(load_after, 2)],
                    "cpus": os.cpu_count(),
                }
            )
        )


if __name__ == "__main__":
    main()

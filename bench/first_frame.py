"""Time from `hearth` starting to the TUI's first frame.

    python bench/first_frame.py [--runs 5] [--json]

Each run starts `hearth` in a pseudo-terminal (80×24) with HEARTH_TUI_EXIT_AFTER_FIRST_FRAME set
to the launch time; the app exits right after its first frame and prints the elapsed seconds.
The data home is a fresh empty one (first-run screen), so no model is loaded. The last line is
JSON: {"first_frame_s_median", "runs"}.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEARTH = Path(sys.executable).with_name("hearth")
PATTERN = re.compile(rb"first_frame_s (\d+\.\d+)")


def one_run(home: Path) -> float:
    """Seconds from launch to the first frame, as the app measured it."""
    main, child = pty.openpty()
    os.set_blocking(main, False)
    env = {
        **os.environ,
        "HEARTH_HOME": str(home),
        "COLUMNS": "80",
        "LINES": "24",
        "TERM": "xterm-256color",
    }
    env["HEARTH_TUI_EXIT_AFTER_FIRST_FRAME"] = repr(time.time())
    process = subprocess.Popen([str(HEARTH)], stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    output = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.1)
        if ready:
            try:
                output += os.read(main, 65536)
            except OSError:
                break
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(main)
    found = PATTERN.search(output)
    if found is None:
        raise SystemExit(f"no first-frame figure in the output: {output[-400:]!r}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            runs.append(round(one_run(Path(tmp) / "home"), 4))
            if not args.json:
                print(f"first frame: {runs[-1]:.3f} s")
    median = statistics.median(runs)
    if not args.json:
        print(f"median of {len(runs)}: {median:.3f} s (target ≤ 1.0 s)")
    print(json.dumps({"first_frame_s_median": median, "runs": runs}))


if __name__ == "__main__":
    main()

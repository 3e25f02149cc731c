"""Killing `hearth import` with SIGKILL: the store opens, no session is half-written, and
running the import again completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.companions import CompanionRegistry
from runtime.importers.target import STAGING_PREFIX
from runtime.paths import DataHome
from runtime.store import TranscriptStore
from tests.fixtures.exports.chatgpt import bulk_conversations, linear, write_export

REPO_ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS, TURNS = 120, 60  # ~15,000 messages, ~15 MB of JSON: seconds to import


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    return write_export(folder / "big.zip", bulk_conversations(CONVERSATIONS, TURNS), shards=3)


def _start_import(home: Path, export: Path, worker: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HEARTH_HOME": str(home), "HEARTH_IMPORT_WORKER": worker}
    code = "from runtime.cli import main; main()"
    return subprocess.Popen(
        # --no-index: this is about the import's atomicity; indexing would add minutes.
        [sys.executable, "-c", code, "import", str(export), "--companion", "Mira", "--no-index"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _kill_while_writing(process: subprocess.Popen[bytes], growing: Path) -> None:
    """SIGKILL once the import has written a MB into `growing` (the WAL, or a staging file)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if growing.exists() and growing.stat().st_size > 1_000_000:
            break
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        time.sleep(0.005)
    else:
        pytest.fail("the import never started writing")
    children = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    for child in children:  # the worker notices its parent is gone and exits
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{child}").exists() or _is_zombie(child)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def _complete_sessions(path: Path) -> dict[str, int]:
    """Every session's message count; each must be a whole conversation of the export."""
    with TranscriptStore.open(path) as store:
        counts = {}
        for summary in store.list_sessions():
            counts[summary.source_id] = summary.message_count
            assert store.active_path(summary.id), summary.source_id
    return counts


PER_CONVERSATION = TURNS * 2 + TURNS // 10


@pytest.mark.parametrize("worker", ["0", "1"])
def test_kill_9_into_an_existing_companion_then_rerun(
    tmp_path: Path, big_export: Path, worker: str
) -> None:
    home = tmp_path / "home"
    first = write_export(tmp_path / "small.zip", [linear("before", 4)])
    env = {**os.environ, "HEARTH_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-c", "from runtime.cli import main; main()", "import", str(first),
         "--companion", "Mira"], cwd=REPO_ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    transcript = home / "companions" / "mira" / "transcript.sqlite"

    _kill_while_writing(_start_import(home, big_export, worker), Path(f"{transcript}-wal"))

    counts = _complete_sessions(transcript)
    assert counts == {"before": 4}  # the killed run left nothing half-written (nor whole)
    rerun = _start_import(home, big_export, worker)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()  # type: ignore[union-attr]
    counts = _complete_sessions(transcript)
    assert len(counts) == CONVERSATIONS + 1
    assert all(n == PER_CONVERSATION for key, n in counts.items() if key != "before")


def test_kill_9_of_a_new_companion_leaves_nothing_visible(tmp_path: Path, big_export: Path) -> None:
    home = tmp_path / "home"
    process = _start_import(home, big_export, "0")
    # A new companion is built in a staging directory (its store written without a journal on
    # disk) and published when the import has committed.
    deadline = time.monotonic() + 120
    transcript = None
    while transcript is None and time.monotonic() < deadline:
        staging = list((home / "companions").glob(f"{STAGING_PREFIX}*")) if home.exists() else []
        if staging:
            transcript = staging[0] / "transcript.sqlite"
        time.sleep(0.005)
    assert transcript is not None
    _kill_while_writing(process, transcript)
    registry = CompanionRegistry(DataHome.resolve(home))
    assert registry.slugs() == []
    rerun = _start_import(home, big_export, "0")
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()  # type: ignore[union-attr]
    assert registry.slugs() == ["mira"]
    assert not list((home / "companions").glob(f"{STAGING_PREFIX}*"))
    counts = _complete_sessions(registry.find("Mira").paths.transcript)
    assert list(counts.values()) == [PER_CONVERSATION] * CONVERSATIONS

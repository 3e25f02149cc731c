"""Parsing a big export in a second process, so parsing and writing run on two cores at once.

Parsing (JSON, building sessions) and writing (preparing rows, SQLite inserts and indexes)
each take about half of an import's CPU time. Threads cannot overlap them (the parser holds the
GIL, and SQLite re-takes it for every row), so for a big export (`WORKER_MIN_BYTES`) the
importer runs in a child process (`python -m runtime.importers.worker`) that sends its items
back in pickled batches (sessions packed as plain tuples); the parent prepares the rows,
de-duplicates and inserts. Small exports are
read in-process: starting an interpreter costs more than it saves.

The child is a plain subprocess, not `multiprocessing`: spawn would re-run the caller's main
script, and fork would copy the progress bar's thread and its locks. It reads its job from
stdin, re-opens the export by path (a zip is checked again, which is cheap), loads the same
importer by name, and writes length-prefixed pickles to stdout. A `HearthError` in the child is
re-raised in the parent with its message and hint; anything else becomes a RuntimeError with
the child's traceback. A thread in the parent empties the pipe as fast as the child fills it
(up to `FRAMES_AHEAD` batches), so the child never waits while the parent writes. If the
parent dies (even by kill -9) the child's next write fails and it exits.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from runtime import errors
from runtime.importers.base import ImportedSession, ImportItem, ImportOptions, Progress
from runtime.importers.rows import PackedSession, pack

WORKER_MIN_BYTES = 32 * 1024 * 1024
"""Exports at least this big (all files together) are parsed in a worker process."""
WORKER_ENV = "HEARTH_IMPORT_WORKER"
"""Set to "0" to always parse in-process, "1" to always use the worker (tests)."""
BATCH_CHARS = 1 << 21
"""Send a batch once its sessions hold this many characters of text (or BATCH_ITEMS items)."""
BATCH_ITEMS = 256

Item = ImportItem | PackedSession


def use_worker(total_bytes: int) -> bool:
    """Whether an export of this size is parsed in a worker process."""
    setting = os.environ.get(WORKER_ENV, "")
    if setting in ("0", "1"):
        return setting == "1"
    return total_bytes >= WORKER_MIN_BYTES


def _snapshot(progress: Progress) -> tuple[int, int, int]:
    return progress.bytes_done, progress.bytes_total, progress.sessions


_HEADER = struct.Struct("<Q")


def _send(out: IO[bytes], kind: str, payload: Any, progress: Progress) -> None:
    data = pickle.dumps((kind, payload, _snapshot(progress)), protocol=5)
    out.write(_HEADER.pack(len(data)))
    out.write(data)
    out.flush()


def _child_main() -> None:
    """The worker's main: read the job, parse, prepare, send batches; then "done" or the error."""
    from runtime.importers import registry
    from runtime.importers.archive import ExportSource
    from runtime.importers.detect import Chosen

    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the channel
    fmt, options, path, root = pickle.load(sys.stdin.buffer)
    progress = Progress()
    gc.disable()  # see pipeline._collector_paused
    try:
        with ExportSource.open(path) as source:
            chosen = Chosen(registry.load_importer(fmt, options), source, root)
            batch: list[Item] = []
            chars = 0
            for item in chosen.read(progress):
                if isinstance(item, ImportedSession):
                    chars += sum(len(message.text) for message in item.messages)
                    item = pack(item)
                batch.append(item)
                if chars >= BATCH_CHARS or len(batch) >= BATCH_ITEMS:
                    _send(out, "items", batch, progress)
                    batch, chars = [], 0
            _send(out, "items", batch, progress)
        _send(out, "done", None, progress)
    except errors.HearthError as exc:
        _send(out, "error", (type(exc).__name__, exc.message, exc.hint), progress)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone
    except BaseException:
        _send(out, "crash", traceback.format_exc(), progress)


def _raise_from_child(kind: str, payload: Any) -> None:
    if kind == "error":
        name, message, hint = payload
        cls = getattr(errors, name, errors.HearthError)
        if not (isinstance(cls, type) and issubclass(cls, errors.HearthError)):
            cls = errors.HearthError
        raise cls(message, hint)
    raise RuntimeError(f"the import worker failed:\n{payload}")


FRAMES_AHEAD = 8
"""Batches read from the child and not yet written, at most (a few MB each)."""


def _read_frames(
    stream: IO[bytes], frames: queue.Queue[bytes | None], stop: threading.Event
) -> None:
    """Move the child's pickles from the pipe into `frames` as soon as they are written, so the
    child never waits for the writer; None last (end of the stream)."""
    try:
        while not stop.is_set():
            header = stream.read(_HEADER.size)
            if len(header) != _HEADER.size:
                break
            data = stream.read(_HEADER.unpack(header)[0])
            if not _put(frames, data, stop):
                return
    except (OSError, ValueError):
        pass  # the parent closed the pipe
    _put(frames, None, stop)


def _put(frames: queue.Queue[bytes | None], item: bytes | None, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            frames.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def read_in_worker(
    fmt: str, options: ImportOptions, path: Path, root: Path | None, progress: Progress
) -> Iterator[Item]:
    """Run importer `fmt` on the export at `path` in a child process; yield its items."""
    child = subprocess.Popen(
        [sys.executable, "-m", "runtime.importers.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    frames: queue.Queue[bytes | None] = queue.Queue(FRAMES_AHEAD)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_frames, args=(child.stdout, frames, stop), name="import-worker-pipe"
    )
    try:
        pickle.dump((fmt, options, path, root), child.stdin)
        child.stdin.close()
        reader.start()
        while True:
            data = frames.get()
            if data is None:
                raise RuntimeError(
                    f"the import worker exited unexpectedly (exit code {child.wait()})"
                )
            kind, payload, snapshot = pickle.loads(data)
            del data
            progress.bytes_done, progress.bytes_total, progress.sessions = snapshot
            if kind == "items":
                yield from payload
            elif kind == "done":
                return
            else:
                _raise_from_child(kind, payload)
    finally:
        stop.set()
        if child.poll() is None:
            child.kill()
        child.wait()
        if reader.ident is not None:  # started
            reader.join()
        child.stdout.close()


if __name__ == "__main__":
    _child_main()

"""Memory across an import and across processes: indexing after an import (with the language
warning), and one process at a time per companion memory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runtime.companions import CompanionRegistry
from runtime.importers.pipeline import ImportRequest, run_import
from runtime.memory import index_companion, lock, open_memory
from runtime.memory.errors import MemoryIndexError


def test_index_after_an_import_warns_about_the_language(home, tmp_path) -> None:
    export = tmp_path / "chat.jsonl"
    turns = [("user", "我今天去公园散步了。"), ("assistant", "听起来很舒服！")] * 5
    lines = [
        json.dumps({"session": "s", "id": str(n), "role": role, "text": text}, ensure_ascii=False)
        for n, (role, text) in enumerate(turns)
    ]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_import(home, ImportRequest(export, format="jsonl", companion="Mei"))
    entry = CompanionRegistry(home).find(report.companion)
    indexed, warning = index_companion(entry)
    assert (indexed.messages, indexed.items) == (10, 5)
    assert warning is not None and "Chinese 100%" in warning[0]
    assert "multilingual-e5-small" in warning[1]


def test_one_process_at_a_time(entry, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from pathlib import Path\n"
         "from runtime.companions import CompanionRegistry\n"
         "from runtime.memory import open_memory\n"
         "from runtime.paths import DataHome\n"
         f"home = DataHome.resolve(Path({str(entry.paths.root.parent.parent)!r}))\n"
         "entry = CompanionRegistry(home)"
         ".find('Mira')\n"
         "memory = open_memory(entry)\n"
         "print('open', flush=True)\n"
         "sys.stdin.read()\n"
         "memory.close()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
        with pytest.raises(MemoryIndexError, match="in use by another Hearth process"):
            open_memory(entry)
    finally:
        holder.communicate("")
    with open_memory(entry) as first, open_memory(entry) as second:  # one process: shared
        assert first.items.count() == second.items.count() == 0

"""Which importer reads which format: a name → "module:Class" table, imported only when used.

`hearth --help` must stay fast, so this module imports no parser; `load_importer` imports the
one that is needed. Auto-detection asks the registered importers in the order of `IMPORTERS`,
so the most specific formats come first (a ChatGPT export is also "some JSON", a card PNG is also
"a file", plain text accepts almost anything: it comes last).

Adding a format (the exact steps):

1. Write `runtime/importers/<name>.py` with a class, created without arguments, that has
   - `name = "<name>"` (the `--format` value and the stored session source),
   - `detect(self, root: Path) -> bool` and `read(self, root: Path, progress: Progress)
     -> Iterator[ImportItem]` (see `runtime.importers.base`): `root` is the path the user gave
     (a folder, a single file, or a zip such as a `.charx`); for a zip the importer did not
     recognise, it is asked again with the zip's members (already checked for unsafe entries)
     extracted into a temporary directory, and reads from there;
   - or, instead, `detect_source(source)` / `read_source(source, progress)` taking an
     `ExportSource` (runtime.importers.archive): members are then streamed from the zip without
     extracting it — worth it for files of hundreds of MB (`jsonstream.iter_items` streams the
     items of a big JSON array, with one-line errors for truncated or invalid files);
   - optionally read `self.options` (an `ImportOptions`: `companion_speaker`,
     `companion_name`), which the pipeline sets before calling detect/read.
   `detect` must be cheap and must never raise for input of another format (return False).
   `read` yields `ImportedSession`, `ImportedMemory`, `PersonaUpdate` and `ImportWarning`
   items as it goes (never the whole export at once), updates `progress.bytes_done`/
   `bytes_total`/`sessions`, and raises `ImportFormatError` for input it cannot read; it
   writes nothing — the pipeline de-duplicates, writes, and commits atomically. For a big
   export (`worker.WORKER_MIN_BYTES`) `read` runs in a worker process, which loads the class
   by this table's entry: keep items to the `base` dataclasses (they are pickled back).
2. Add one line to `IMPORTERS` below, at the place where it should be tried in detection:
   `"<name>": "runtime.importers.<name>:<Class>",`.
3. If `<name>` is new to `FORMATS`, add it there too (the `--format` choices).
4. Tests: `tests/importers/test_<name>_*.py`; the shared CLI contract tests run the pipeline.

A format listed in `FORMATS` but not (yet) in `IMPORTERS` gives a clear "not available" error.
"""

from __future__ import annotations

import importlib

from runtime.errors import ImportFormatError
from runtime.importers.base import Importer, ImportOptions

FORMATS: tuple[str, ...] = ("chatgpt", "claude", "sillytavern", "card", "gemini", "text", "jsonl")
"""Every `--format` choice (besides "auto"), whether or not its importer is installed yet."""

IMPORTERS: dict[str, str] = {
    # name: "module:Class" — tried in this order by `--format auto`.
    "chatgpt": "runtime.importers.chatgpt:ChatGPTImporter",
    "claude": "runtime.importers.claude:ClaudeImporter",
    "gemini": "runtime.importers.gemini:GeminiImporter",
    "card": "runtime.importers.card:CardImporter",
    "sillytavern": "runtime.importers.sillytavern:SillyTavernImporter",
    "jsonl": "runtime.importers.jsonl:HearthJsonlImporter",
    "text": "runtime.importers.text:TextImporter",
}


def available() -> list[str]:
    """Registered format names, in detection order."""
    return list(IMPORTERS)


def load_importer(name: str, options: ImportOptions | None = None) -> Importer:
    """A fresh importer for format `name`, with `options` set; ImportFormatError if unknown."""
    target = IMPORTERS.get(name)
    if target is None:
        if name in FORMATS:
            raise ImportFormatError(
                f"importing {name} exports is not available in this version of Hearth yet",
                hint=f"formats available now: {', '.join(IMPORTERS)}",
            )
        raise ImportFormatError(
            f"unknown import format {name!r}", hint=f"choose one of: {', '.join(FORMATS)}"
        )
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    importer = cls()
    importer.options = options or ImportOptions()
    return importer

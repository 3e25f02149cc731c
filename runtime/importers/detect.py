"""Finding the importer for an export: `--format NAME`, or asking each registered importer.

Importers that read an `ExportSource` (`detect_source`/`read_source`) see the zip itself and
stream from it. Path-based importers (`detect`/`read`) first get the path the user gave (a card
`.charx` or `.png`, a chat `.jsonl`, a folder); for a zip they do not recognise, they get the
zip's checked members extracted into a temporary directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import ImportFormatError
from runtime.importers import registry
from runtime.importers.archive import ExportSource
from runtime.importers.base import Importer, ImportItem, ImportOptions, Progress, SourceImporter

log = logging.getLogger(__name__)


@dataclass
class Chosen:
    """The importer for an export and how it reads it (from the source, or from a path)."""

    importer: Importer | SourceImporter
    source: ExportSource
    root: Path | None
    """The path a path-based importer reads; None for an importer that reads the source."""

    @property
    def name(self) -> str:
        """The format name (stored as every session's source)."""
        return self.importer.name

    def read(self, progress: Progress) -> Iterator[ImportItem]:
        """The importer's items."""
        if self.root is None:
            return self.importer.read_source(self.source, progress)  # type: ignore[union-attr]
        return self.importer.read(self.root, progress)  # type: ignore[union-attr]


def _reads_sources(importer: object) -> bool:
    return callable(getattr(importer, "detect_source", None)) and callable(
        getattr(importer, "read_source", None)
    )


def _detect(importer: Importer | SourceImporter, source: ExportSource) -> Chosen | None:
    """A `Chosen` when the importer recognises the source; detection errors mean "no"."""
    try:
        if _reads_sources(importer):
            found = importer.detect_source(source)  # type: ignore[union-attr]
            return Chosen(importer, source, None) if found else None
        if importer.detect(source.path):  # type: ignore[union-attr]
            return Chosen(importer, source, source.path)
        if source.kind == "zip":
            extracted = source.as_path()
            if importer.detect(extracted):  # type: ignore[union-attr]
                return Chosen(importer, source, extracted)
    except ImportFormatError:
        raise  # an unsafe archive found while extracting: the user must hear about it
    except Exception as exc:  # a detector's bug must not hide the other formats
        # The type only: an exception's text may quote the user's data.
        log.warning("detection by the %s importer failed (%s)", importer.name, type(exc).__name__)
    return None


def choose_importer(source: ExportSource, fmt: str, options: ImportOptions) -> Chosen:
    """The importer for `source`: the one named by `fmt`, or the first that recognises it."""
    if fmt != "auto":
        importer = registry.load_importer(fmt, options)
        found = _detect(importer, source)
        if found is not None:
            return found
        if _reads_sources(importer):
            return Chosen(importer, source, None)
        # Forced: let the importer read it and report what is wrong.
        root = source.as_path() if source.kind == "zip" else source.path
        return Chosen(importer, source, root)
    for name in registry.available():
        found = _detect(registry.load_importer(name, options), source)
        if found is not None:
            log.info("detected format %s", name)
            return found
    raise ImportFormatError(
        f"{source.path}: not an export Hearth recognises",
        hint=(
            f"Hearth reads: {', '.join(registry.available())}; if you know the format, "
            "say it with --format NAME"
        ),
    )

"""Find (or, on explicit request, fetch) llama.cpp's conversion scripts for the installed llama.cpp.

The GGUF converter must match the llama.cpp that will read its output, so Hearth uses the
scripts shipped inside the llama-cpp-python source archive of the *installed* version
(`vendor/llama.cpp/`: `convert_hf_to_gguf.py`, `convert_lora_to_gguf.py`, `conversion/`,
`gguf-py/`). They are never copied into this repository. Where they are looked for, in order:

1. a directory passed explicitly (`hearth convert --llama-cpp DIR`);
2. `$HEARTH_LLAMA_CPP_SRC` (e.g. a llama.cpp checkout);
3. the cache `<cache>/llama-cpp-python-<version>/`, filled by `fetch_sources`.

`fetch_sources` without a local archive runs `pip download`, i.e. it uses the network. It is only
ever called by an explicit user command (`hearth convert --fetch-sources`, or
`python -m training.llama_sources`) or by a CI/Makefile setup step — never implicitly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from runtime.errors import ConversionError

logger = logging.getLogger(__name__)

SOURCES_ENV = "HEARTH_LLAMA_CPP_SRC"
PACKAGE = "llama-cpp-python"
CONVERTER = "convert_hf_to_gguf.py"
LORA_CONVERTER = "convert_lora_to_gguf.py"
FETCH_COMMAND = "hearth convert --fetch-sources"
MANIFEST = "hearth-sources.json"

# What the converters need from `vendor/llama.cpp/`: the scripts, the `conversion` package,
# `gguf-py`, the chat templates some converters read (`models/templates/`), and the two
# vocabularies `_set_vocab_builtin` loads. Everything else in the archive (C++ sources, tests,
# the other ~75 MB of test vocabularies) is left out.
_WANTED_FILES = (
    CONVERTER,
    LORA_CONVERTER,
    "LICENSE",
    "models/ggml-vocab-gpt-neox.gguf",
    "models/ggml-vocab-llama-spm.gguf",
)
_WANTED_DIRS = ("conversion/", "gguf-py/gguf/", "models/templates/")
_VENDOR_PREFIX = "vendor/llama.cpp/"


@dataclass(frozen=True)
class LlamaSources:
    """A directory holding llama.cpp's conversion scripts."""

    root: Path

    @property
    def converter(self) -> Path:
        return self.root / CONVERTER

    @property
    def lora_converter(self) -> Path:
        return self.root / LORA_CONVERTER

    @property
    def gguf_py(self) -> Path:
        """The `gguf-py` directory: put it first on `sys.path` so its `gguf` package wins."""
        return self.root / "gguf-py"


def installed_llama_cpp_version() -> str:
    """The installed llama-cpp-python version, read from package metadata (no import)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise ConversionError(
            f"{PACKAGE} is not installed",
            hint="install Hearth with its dependencies: pip install -e .",
        ) from exc


def default_cache_dir() -> Path:
    """Hearth's cache: `$XDG_CACHE_HOME/hearth`, else `~/.cache/hearth`."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hearth"


def cached_sources_dir(version: str) -> Path:
    """Where `fetch_sources` puts the scripts of llama-cpp-python `version` by default."""
    return default_cache_dir() / f"{PACKAGE}-{version}"


def _missing(where: str, version: str) -> ConversionError:
    return ConversionError(
        f"llama.cpp conversion scripts ({CONVERTER}) not found in {where}",
        hint=f"fetch them for llama-cpp-python {version} with `{FETCH_COMMAND}` (downloads its "
        f"source archive from PyPI once), or set {SOURCES_ENV} to a llama.cpp checkout",
    )


def find_sources(explicit: Path | None = None, *, version: str | None = None) -> LlamaSources:
    """The conversion scripts to use: `explicit`, else `$HEARTH_LLAMA_CPP_SRC`, else the cache."""
    version = version or installed_llama_cpp_version()
    if explicit is not None:
        directory = Path(explicit).expanduser()
        label = f"{directory} (given)"
    elif os.environ.get(SOURCES_ENV):
        directory = Path(os.environ[SOURCES_ENV]).expanduser()
        label = f"{directory} (from {SOURCES_ENV})"
    else:
        directory = cached_sources_dir(version)
        label = str(directory)
    sources = LlamaSources(directory.absolute())
    if not (sources.converter.is_file() and (sources.gguf_py / "gguf").is_dir()):
        raise _missing(label, version)
    return sources


def _wanted(relative: str) -> bool:
    return relative in _WANTED_FILES or relative.startswith(_WANTED_DIRS)


def _safe_relative(member_name: str) -> str | None:
    """The member's path below `vendor/llama.cpp/`, or None if elsewhere or unsafe."""
    parts = PurePosixPath(member_name).parts
    # Archives hold "<name>-<version>/vendor/llama.cpp/..."; drop the top directory.
    if len(parts) < 2 or member_name.startswith("/") or ".." in parts:
        return None
    inner = "/".join(parts[1:])
    if not inner.startswith(_VENDOR_PREFIX):
        return None
    relative = inner[len(_VENDOR_PREFIX) :]
    return relative or None


def extract_sources(sdist: Path, dest: Path) -> LlamaSources:
    """Extract the conversion scripts from a llama-cpp-python sdist into `dest` (atomically).

    Only regular files under the wanted paths are written; links, devices and any member whose
    name is absolute or contains `..` are skipped, so a hostile archive cannot write elsewhere.
    """
    sdist = Path(sdist).expanduser()
    if not sdist.is_file():
        raise ConversionError(f"source archive not found: {sdist}", hint="check the path")
    dest = Path(dest).expanduser().absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        count = 0
        with tarfile.open(sdist) as archive:
            for member in archive:
                relative = _safe_relative(member.name)
                if relative is None or not member.isfile() or not _wanted(relative):
                    continue
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    continue
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                count += 1
        sources = LlamaSources(staging)
        if not sources.converter.is_file():
            raise ConversionError(
                f"{sdist.name} has no vendor/llama.cpp/{CONVERTER}",
                hint="use the llama-cpp-python source archive (sdist) of the installed version",
            )
        with sdist.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        manifest = {"sdist": sdist.name, "sha256": digest, "files": count}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except (tarfile.TarError, OSError) as exc:
        raise ConversionError(
            f"cannot extract {sdist}: {exc}", hint="delete the file and fetch it again"
        ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return LlamaSources(dest)


def download_sdist(version: str, into: Path) -> Path:
    """Download the llama-cpp-python `version` sdist with pip. USES THE NETWORK."""
    into.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
        "--disable-pip-version-check", "--quiet", f"{PACKAGE}=={version}", "-d", str(into),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    archives = sorted(into.glob("llama_cpp_python-*.tar.gz"))
    if result.returncode != 0 or not archives:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise ConversionError(
            f"pip could not download {PACKAGE}=={version}: {tail or 'no archive'}",
            hint="check the network/proxy, or download the sdist elsewhere and pass it with "
            "--sdist FILE",
        )
    return archives[-1]


def fetch_sources(
    version: str, dest: Path | None = None, *, sdist: Path | None = None
) -> LlamaSources:
    """Put the conversion scripts of llama-cpp-python `version` into `dest` (default: the cache).

    Does nothing when `dest` already holds a complete extraction (delete it to fetch again).

    With `sdist`, extracts from that local archive. Without it, downloads the sdist with
    `pip download` — a network access, so only call this from an explicit user command or setup.
    """
    dest = dest or cached_sources_dir(version)
    if sdist is not None:
        return extract_sources(sdist, dest)
    if (dest / MANIFEST).is_file():
        # Extraction renames a finished folder into place, so a manifest means it is complete;
        # `make test` calls this every run and must not download again.
        logger.info("llama.cpp sources already in %s", dest)
        return LlamaSources(dest.absolute())
    with tempfile.TemporaryDirectory(prefix="hearth-sdist-") as tmp:
        return extract_sources(download_sdist(version, Path(tmp)), dest)


def main(argv: list[str] | None = None) -> None:
    """`python -m training.llama_sources [--sdist FILE] [--dest DIR]`: fetch the scripts."""
    parser = argparse.ArgumentParser(description=fetch_sources.__doc__)
    parser.add_argument("--sdist", type=Path, help="local llama-cpp-python sdist (no download)")
    parser.add_argument("--dest", type=Path, help="target directory (default: the cache)")
    parser.add_argument("--version", help="llama-cpp-python version (default: installed)")
    args = parser.parse_args(argv)
    version = args.version or installed_llama_cpp_version()
    try:
        sources = fetch_sources(version, args.dest, sdist=args.sdist)
    except ConversionError as exc:
        sys.exit(f"error: {exc.message}\nhint: {exc.hint}")
    sys.stdout.write(f"{sources.root}\n")


if __name__ == "__main__":
    main()

"""`hearth convert`: a Hugging Face model folder → GGUF (+ quantized GGUFs), with llama.cpp's tools.

Reached through the `hearth.commands` entry point group, so the runtime never imports training:

    [project.entry-points."hearth.commands"]
    convert = "training.cli:convert"
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import click

from runtime.engine.llamacpp import QUANT_FTYPES
from runtime.errors import UsageError
from training.gguf_convert import OUTTYPES, PRETOKENIZERS
from training.llama_sources import (
    MANIFEST,
    SOURCES_ENV,
    cached_sources_dir,
    fetch_sources,
    find_sources,
    installed_llama_cpp_version,
)


def _status(message: str) -> AbstractContextManager[object]:
    """A spinner on stderr while a long step runs (nothing when stderr is not a terminal)."""
    from rich.console import Console

    return Console(stderr=True).status(message)


def quantized_path(out: Path, outtype: str, kind: str) -> Path:
    """`model-f16.gguf` → `model-Q4_K_M.gguf`; `model.gguf` → `model-Q4_K_M.gguf`."""
    stem = out.stem
    suffix = f"-{outtype}"
    if stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)]
    return out.with_name(f"{stem}-{kind}.gguf")


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:,.1f} MB"


@click.command("convert")
@click.argument("hf_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="GGUF file to write (quantized files go next to it).",
)
@click.option("--outtype", type=click.Choice(OUTTYPES), default="f16", show_default=True)
@click.option(
    "--quantize",
    "quantizations",
    multiple=True,
    type=click.Choice(list(QUANT_FTYPES), case_sensitive=False),
    metavar="[" + "|".join(QUANT_FTYPES) + "]",
    help="Also write a quantized copy (repeatable), e.g. --quantize Q4_K_M.",
)
@click.option(
    "--pretokenizer",
    type=click.Choice(PRETOKENIZERS),
    help="Pre-tokenizer for BPE tokenizers llama.cpp does not recognize (locally trained ones).",
)
@click.option(
    "--llama-cpp",
    "llama_cpp_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory with llama.cpp's convert_hf_to_gguf.py (default: ${SOURCES_ENV}, then "
    "the cache filled by --fetch-sources). With --fetch-sources: where to put them.",
)
@click.option(
    "--fetch-sources",
    "fetch",
    is_flag=True,
    help="Download the installed llama-cpp-python's source archive from PyPI (network) and "
    "keep its conversion scripts in the cache.",
)
@click.option(
    "--sdist",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="With --fetch-sources: extract from this local sdist instead of downloading.",
)
def convert(
    hf_dir: Path | None,
    out: Path | None,
    outtype: str,
    quantizations: tuple[str, ...],
    pretokenizer: str | None,
    llama_cpp_dir: Path | None,
    fetch: bool,
    sdist: Path | None,
) -> None:
    """Convert the Hugging Face model in HF_DIR to GGUF with the installed llama.cpp's converter.

    \b
    hearth convert ./my-model --out my-model-f16.gguf --quantize Q4_K_M
    hearth convert --fetch-sources      # once: get the converter (downloads from PyPI)
    """
    if sdist is not None and not fetch:
        raise UsageError("--sdist only applies with --fetch-sources")
    if fetch:
        _fetch(llama_cpp_dir, sdist)
        if hf_dir is None:
            return
    if hf_dir is None:
        raise UsageError(
            "missing HF_DIR: the Hugging Face model folder to convert",
            hint="hearth convert path/to/model --out model-f16.gguf",
        )
    if out is None:
        raise UsageError(
            "missing --out: the GGUF file to write",
            hint=f"hearth convert {hf_dir} --out {hf_dir.name}-{outtype}.gguf",
        )
    from runtime.engine.llamacpp import quant_ftype, quantize
    from training.gguf_convert import convert_hf_to_gguf

    for kind in quantizations:
        quant_ftype(kind)
    sources = find_sources(llama_cpp_dir)
    with _status(f"Converting {hf_dir} to GGUF ({outtype})…"):
        base = convert_hf_to_gguf(
            hf_dir, out, outtype=outtype, pretokenizer=pretokenizer, sources=sources
        )
    click.echo(f"wrote {base} ({_size(base)})")
    for kind in (kind.upper() for kind in quantizations):
        target = quantized_path(base, outtype, kind)
        with _status(f"Quantizing to {kind}…"):
            quantize(base, target, kind)
        click.echo(f"wrote {target} ({_size(target)})")


def _fetch(llama_cpp_dir: Path | None, sdist: Path | None) -> None:
    version = installed_llama_cpp_version()
    dest = llama_cpp_dir or cached_sources_dir(version)
    if sdist is None and not (dest / MANIFEST).is_file():
        click.echo(
            f"Downloading the llama-cpp-python {version} source archive from PyPI "
            "(network access; conversion scripts only, kept once)…",
            err=True,
        )
    with _status("Fetching llama.cpp conversion scripts…"):
        sources = fetch_sources(version, dest, sdist=sdist)
    click.echo(f"llama.cpp conversion scripts for llama-cpp-python {version} in {sources.root}")

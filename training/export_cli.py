"""`hearth train export`: the latest run's adapter → GGUF LoRA, registered with the companion.

    hearth train export --companion Mira                      # adapters/<run>.gguf, chat uses it
    hearth train export --companion Mira --merge --quantize Q4_K_M   # one merged model instead
    hearth train export --companion Mira --ollama             # also adapters/ollama/Modelfile

The base GGUF is the companion's chat model (or the configured default model); the run's base
must be the same model (checked by base identity, see `training.export`). Nothing is registered
unless every file was written.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.memory_common import companion_option
from runtime.cli.output import json_option, print_json
from training.cli_options import run_option
from training.llama_sources import SOURCES_ENV

MERGE_QUANTS = ("Q4_K_M", "Q5_K_M", "Q8_0")


def _status(message: str) -> AbstractContextManager[object]:
    """A spinner on stderr while a long step runs (nothing when stderr is not a terminal)."""
    from rich.console import Console

    return Console(stderr=True).status(message)


@click.command("export")
@companion_option
@run_option
@click.option(
    "--base-gguf",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Base model GGUF (default: the companion's chat model).",
)
@click.option("--name", help="Adapter name (default: the run's name).")
@click.option("--merge", is_flag=True, help="Also merge into the full-precision base → one GGUF.")
@click.option(
    "--quantize",
    type=click.Choice(MERGE_QUANTS, case_sensitive=False),
    help="With --merge: quantize the merged model.",
)
@click.option("--ollama", is_flag=True, help="Also write an Ollama Modelfile.")
@click.option(
    "--scale", type=click.FloatRange(0.0, 4.0), default=1.0, show_default=True,
    help="Adapter strength to register.",
)  # fmt: skip
@click.option(
    "--llama-cpp",
    "llama_cpp_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"llama.cpp conversion scripts (default: ${SOURCES_ENV}, then the cache).",
)
@json_option
@pass_context
def export(
    ctx: CliContext,
    companion_name: str | None,
    run_dir: Path | None,
    base_gguf: Path | None,
    name: str | None,
    merge: bool,
    quantize: str | None,
    ollama: bool,
    scale: float,
    llama_cpp_dir: Path | None,
    as_json: bool,
) -> None:
    """Convert a training run's adapter to GGUF and make the companion use it."""
    from runtime.chat.setup import chat_model
    from runtime.companion import AdapterChoice
    from runtime.companions import CompanionRegistry
    from runtime.engine.llamacpp import check_gguf_file
    from runtime.errors import UsageError
    from runtime.models.gguf_header import read_gguf_header
    from training.export import export_adapter
    from training.layout import TrainingPaths
    from training.llama_sources import find_sources
    from training.ollama import template_family, write_modelfile
    from training.runs import load_run

    if quantize and not merge:
        raise UsageError("--quantize only applies with --merge", hint="add --merge")
    registry = CompanionRegistry(ctx.ensured_home())
    entry = registry.resolve(companion_name)
    paths = TrainingPaths(entry.paths)
    run = load_run(paths, run_dir)
    base = check_gguf_file(base_gguf or chat_model(entry, ctx.config))
    header = read_gguf_header(base)
    if ollama:  # refuse an unsupported template before the slow steps
        template_family(header.chat_template, model=base)
    sources = find_sources(llama_cpp_dir)
    name = name or run.name
    with _status(f"Converting the adapter of run {run.name} to GGUF…"):
        exported = export_adapter(run, base, paths.adapters_dir / f"{name}.gguf", sources=sources)
    report: dict[str, object] = {
        "adapter": str(exported.adapter),
        "manifest": str(exported.manifest),
        "base_gguf": str(base),
    }
    if not as_json:
        click.echo(f"wrote {exported.adapter} (for {base.name})")
    merged: Path | None = None
    if merge:
        from training.merge import merge_to_gguf

        pre = header.metadata.get("tokenizer.ggml.pre")
        kind = quantize.upper() if quantize else None
        with _status("Merging the adapter into the base and converting…"):
            outputs = merge_to_gguf(
                run, ctx.home.models_dir, f"{entry.slug}-{name}", kind,
                pretokenizer="gpt-2" if pre == "gpt-2" else None, sources=sources,
            )  # fmt: skip
        merged = outputs["merged"]
        report["merged"] = str(merged)
        if kind:
            report["quantized"] = kind
        if not as_json:
            click.echo(f"wrote {merged}")
    if ollama:
        modelfile = write_modelfile(
            paths.adapters_dir / "ollama",
            entry.companion,
            model=merged or base,
            adapter=None if merged else exported.adapter,
            chat_template=header.chat_template,
            context_size=ctx.config.llama.context_size,
        )
        report["modelfile"] = str(modelfile)
        if not as_json:
            click.echo(f"wrote {modelfile} (ollama create {entry.slug} -f {modelfile})")
    companion = entry.companion
    if merged:
        model = companion.model.model_copy(update={"chat": merged})
        companion = companion.model_copy(update={"model": model, "adapter": AdapterChoice()})
    else:
        adapter = AdapterChoice(path=exported.adapter, scale=scale)
        companion = companion.model_copy(update={"adapter": adapter})
    registry.save(entry, companion)
    report["registered"] = True
    if as_json:
        print_json(report)
    elif merged:
        click.echo(f"{entry.name} now chats with {merged.name} (no adapter)")
    else:
        click.echo(f"{entry.name} now chats with {base.name} + {exported.adapter.name}")

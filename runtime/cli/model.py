"""`hearth model …`: list the models Hearth can see, register one, download one.

`hearth model pull` is the only command of Hearth that goes online.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json, print_table
from runtime.config import load_config, save_config
from runtime.errors import ModelError, UsageError
from runtime.models import discovery
from runtime.models.catalog import CATALOG
from runtime.models.download import DownloadResult, download, sidecar_path
from runtime.models.gguf_header import read_gguf_header
from runtime.models.pull import PullItem, plan_pull


@click.group()
def model() -> None:
    """Find, inspect and download models."""


@model.command("list")
@json_option
@pass_context
def list_models(obj: CliContext, as_json: bool) -> None:
    """List the GGUF models found on this machine."""
    models = discovery.discover_models(obj.home, obj.config)
    if as_json:
        print_json([m.to_json() for m in models])
        return
    if not models:
        searched = ", ".join(
            str(folder) for folder, _ in discovery.search_dirs(obj.home, obj.config)
        )
        click.echo("No models found (searched " + searched + ").")
        click.echo(
            "Download one with `hearth model pull qwen2.5-3b` (all choices: "
            "`hearth model pull --list`),"
        )
        click.echo("or register a GGUF file you already have with `hearth model add PATH`.")
        return
    rows = [
        [
            m.name,
            m.kind if m.error is None else f"unknown ({m.error})",
            m.architecture or "-",
            m.quantization or "-",
            decimal(m.size_bytes),
            str(m.path),
        ]
        for m in models
    ]
    print_table(None, ["name", "kind", "arch", "quant", "size", "path"], rows)


@model.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@pass_context
def add(obj: CliContext, path: Path) -> None:
    """Register a GGUF file that lives outside the model folders."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ModelError(f"{path}: no such file", hint="check the path to the .gguf file")
    header = read_gguf_header(path)  # ModelError for anything that is not a readable GGUF
    home = obj.ensured_home()
    # Only the file's own settings are rewritten: environment overrides stay out of it.
    stored = load_config(home.config_file, environ={})
    known = {Path(p).expanduser().resolve() for p in stored.models}
    what = ", ".join(x for x in (header.architecture, header.quantization) if x) or "GGUF"
    if path in known:
        click.echo(f"already added: {path} ({what})")
        return
    save_config(stored.model_copy(update={"models": [*stored.models, path]}), home.config_file)
    click.echo(f"added {path} ({what}) to {home.config_file}")


def _print_catalog(as_json: bool) -> None:
    if as_json:
        print_json([entry.to_json() for entry in CATALOG])
        return
    # A block per model rather than a table: notes and language lists are too long for 80 columns.
    click.echo("Recommended models:")
    for entry in CATALOG:
        size = "included" if entry.builtin else f"~{decimal(entry.size_bytes)}"
        click.echo(f"\n  {entry.id:<24} {entry.kind:<10} {size:<10} {entry.license}")
        click.echo(f"      {entry.description}")
        click.echo(f"      languages: {entry.languages}")
    click.echo()
    click.echo("Download one with `hearth model pull ID`.")


def _verification(result: DownloadResult) -> str:
    if "server" in result.verified_by and "user" in result.verified_by:
        return "matches the server's and --sha256"
    if "server" in result.verified_by:
        return "matches the server's"
    if "user" in result.verified_by:
        return "matches --sha256"
    return f"no published checksum; recorded in {sidecar_path(result.path).name}"


def _fetch(items: tuple[PullItem, ...]) -> Iterator[DownloadResult]:
    """Download each item with a progress bar on stderr, yielding each finished file;
    files that are already there are skipped (no network for them)."""
    todo = []
    for item in items:
        if item.dest.exists():
            click.echo(f"already downloaded: {item.dest}")
        else:
            todo.append(item)
    if not todo:
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    # No bar when stderr is a pipe or a log file: it would only add noise there.
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        for item in todo:
            tasks: list[TaskID] = []

            def advance(
                done: int,
                total: int | None,
                name: str = item.dest.name,
                tasks: list[TaskID] = tasks,
            ) -> None:
                # The bar appears once the server answered, so a failed connection shows none.
                if not tasks:
                    tasks.append(progress.add_task(name, total=total))
                progress.update(tasks[0], completed=done, total=total)

            yield download(
                item.url, item.dest, expected_sha256=item.expected_sha256, progress=advance
            )


@model.command("pull")
@click.argument("spec", required=False)
@click.argument("file", required=False)
@click.option("--sha256", metavar="HEX", help="Expected sha256 of the file.")
@click.option(
    "--to",
    "to_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to save into (default: $HEARTH_HOME/models).",
)
@click.option("--revision", default="main", show_default=True, help="Branch, tag or commit.")
@click.option("--list", "show_list", is_flag=True, help="Show the recommended models.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON for scripts.")
@pass_context
def pull(
    obj: CliContext,
    spec: str | None,
    file: str | None,
    sha256: str | None,
    to_dir: Path | None,
    revision: str,
    show_list: bool,
    as_json: bool,
) -> None:
    """Download a model: a catalog id, a Hugging Face repo and FILE, or a URL.

    The only Hearth command that uses the network. Interrupted downloads resume.

    \b
      hearth model pull --list
      hearth model pull qwen2.5-3b
      hearth model pull Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q4_k_m.gguf
      hearth model pull https://example.org/model.gguf --sha256 HEX
    """
    if show_list:
        _print_catalog(as_json)
        return
    if as_json:
        raise UsageError("--json only works with --list", hint="hearth model pull --list --json")
    if spec is None:
        raise UsageError("name a model to download", hint="see `hearth model pull --list`")
    dest_dir = to_dir.expanduser().absolute() if to_dir else obj.ensured_home().models_dir
    plan = plan_pull(
        spec,
        file,
        endpoint=obj.config.hf_endpoint,
        dest_dir=dest_dir,
        revision=revision,
        sha256=sha256,
    )
    if plan.note:
        click.echo(plan.note)
        return
    for result in _fetch(plan.items):
        resumed = f", resumed at {decimal(result.resumed_from)}" if result.resumed_from else ""
        click.echo(f"saved {result.path} ({decimal(result.size_bytes)}{resumed})")
        click.echo(f"  sha256 {result.sha256} ({_verification(result)})")
        if result.path.suffix == ".gguf" and not _is_readable_gguf(result.path):
            click.echo(f"  warning: {result.path.name} is not a readable GGUF file", err=True)
    if any(item.dest.suffix == ".gguf" for item in plan.items):
        click.echo("`hearth model list` shows it.")
    elif plan.entry is not None and plan.entry.needs_folder:
        click.echo(f"files are in {plan.items[0].dest.parent}")


def _is_readable_gguf(path: Path) -> bool:
    try:
        read_gguf_header(path)
    except ModelError:
        return False
    return True

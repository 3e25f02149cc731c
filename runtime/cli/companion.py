"""`hearth companion new|list|show|edit|delete|card`: manage companions without the TUI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import click

from runtime.cards import load_card, write_card
from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json, print_table
from runtime.companion import Companion, Persona, parse_companion
from runtime.companions import CompanionEntry, CompanionRegistry, check_model_path
from runtime.errors import ConfigError, UsageError

SECTIONS = ("persona", "model", "adapter", "generation")


def companion_json(entry: CompanionEntry) -> dict[str, Any]:
    """The `companion show --json` contract: name, persona, core_memories, model, adapter."""
    companion = entry.companion
    return {
        "name": companion.name,
        "persona": companion.persona.model_dump(mode="json"),
        "core_memories": [
            {"label": block.label, "text": block.text, "limit": block.limit}
            for block in companion.core_memories
        ],
        "model": str(companion.model.chat) if companion.model.chat else None,
        "adapter": str(companion.adapter.path) if companion.adapter.path else None,
        "adapter_scale": companion.adapter.scale,
        "embedding_model": companion.model.embedding,
        "generation": companion.generation.model_dump(mode="json"),
        "slug": entry.slug,
        "path": str(entry.paths.root),
    }


def _set_value(data: dict[str, Any], assignment: str) -> None:
    """Apply one `key=value` to the companion mapping (validated afterwards as a whole)."""
    key, sep, value = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--set needs key=value, got {assignment!r}", hint="e.g. --set scenario=…")
    if key.startswith("core."):
        label = key.removeprefix("core.")
        blocks = data.setdefault("core_memories", [])
        for block in blocks:
            if block["label"] == label:
                block["text"] = value
                break
        else:
            blocks.append({"label": label, "text": value})
        return
    parts = key.split(".")
    if parts[0] not in SECTIONS:
        parts.insert(0, "persona")
    section, field = parts[0], ".".join(parts[1:])
    known = _known_fields(section)
    if field not in known:
        raise UsageError(
            f"unknown companion setting '{key}'",
            hint=f"{section} settings: {', '.join(sorted(known))}; core memories: core.LABEL",
        )
    parsed: Any = value
    if value.startswith(("[", "{")):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--set {key}: value is not valid JSON ({exc})") from exc
    elif value == "" and section != "persona":
        parsed = None
    data.setdefault(section, {})[field] = parsed


def _known_fields(section: str) -> set[str]:
    annotation = Companion.model_fields[section].annotation
    assert isinstance(annotation, type)
    return set(annotation.model_fields)  # type: ignore[attr-defined]


@click.group()
def companion() -> None:
    """Create, inspect, change and delete companions."""


@companion.command("new")
@click.argument("name")
@click.option("--model", "model_path", type=click.Path(path_type=Path), help="Chat model (GGUF).")
@click.option("--card", "card_path", type=click.Path(path_type=Path), help="Character card.")
@json_option
@pass_context
def new_companion(
    ctx: CliContext, name: str, model_path: Path | None, card_path: Path | None, as_json: bool
) -> None:
    """Create companion NAME, optionally from a character card (.json or .png)."""
    persona = load_card(card_path) if card_path else Persona(name=name)
    persona = persona.model_copy(update={"name": name})
    data: dict[str, Any] = {"persona": persona.model_dump(mode="json")}
    if model_path:
        data["model"] = {"chat": str(check_model_path(model_path))}
    entry = CompanionRegistry(ctx.ensured_home()).create(parse_companion(data, "companion"))
    if as_json:
        print_json(companion_json(entry))
    else:
        click.echo(f"created companion '{entry.name}' in {entry.paths.root}")


@companion.command("list")
@json_option
@pass_context
def list_companions(ctx: CliContext, as_json: bool) -> None:
    """List companions."""
    entries = CompanionRegistry(ctx.home).all()
    if as_json:
        print_json(
            [
                {
                    "name": e.name,
                    "slug": e.slug,
                    "model": str(e.companion.model.chat) if e.companion.model.chat else None,
                    "adapter": str(e.companion.adapter.path) if e.companion.adapter.path else None,
                }
                for e in entries
            ]
        )
        return
    if not entries:
        click.echo("No companions yet. Create one with `hearth companion new NAME`.")
        return
    rows = [
        [e.name, e.slug, str(e.companion.model.chat or "-"), str(e.companion.adapter.path or "-")]
        for e in entries
    ]
    print_table(None, ["name", "slug", "model", "adapter"], rows)


@companion.command("show")
@click.argument("name", required=False)
@json_option
@pass_context
def show_companion(ctx: CliContext, name: str | None, as_json: bool) -> None:
    """Show a companion's persona, core memories and models."""
    entry = CompanionRegistry(ctx.home).resolve(name)
    if as_json:
        print_json(companion_json(entry))
        return
    click.echo(entry.companion.to_toml().rstrip())


@companion.command("edit")
@click.argument("name", required=False)
@click.option("--model", "model_path", type=click.Path(path_type=Path), help="Chat model (GGUF).")
@click.option("--adapter", "adapter_path", type=click.Path(path_type=Path), help="LoRA GGUF.")
@click.option("--adapter-scale", type=float, help="Adapter strength (1.0 = as trained).")
@click.option("--no-adapter", is_flag=True, help="Stop using the adapter.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Change a field.")
@pass_context
def edit_companion(
    ctx: CliContext,
    name: str | None,
    model_path: Path | None,
    adapter_path: Path | None,
    adapter_scale: float | None,
    no_adapter: bool,
    assignments: tuple[str, ...],
) -> None:
    """Change a companion. Without options, opens companion.toml in $EDITOR.

    KEY is a persona field (description, scenario, …), a dotted setting (generation.temperature,
    model.embedding, adapter.scale) or core.LABEL for a core memory block.
    """
    registry = CompanionRegistry(ctx.home)
    entry = registry.resolve(name)
    source = str(entry.paths.card_file)
    if not (model_path or adapter_path or adapter_scale is not None or no_adapter or assignments):
        updated = _edit_in_editor(entry)
    else:
        data = entry.companion.model_dump(mode="json", exclude_none=True)
        if model_path:
            data.setdefault("model", {})["chat"] = str(check_model_path(model_path))
        if adapter_path:
            data.setdefault("adapter", {})["path"] = str(check_model_path(adapter_path))
        if no_adapter:
            data.setdefault("adapter", {}).pop("path", None)
        if adapter_scale is not None:
            data.setdefault("adapter", {})["scale"] = adapter_scale
        for assignment in assignments:
            _set_value(data, assignment)
        updated = parse_companion(data, f"{source} (after edit)")
    registry.save(entry, updated)
    click.echo(f"updated companion '{updated.name}'")


def _edit_in_editor(entry: CompanionEntry) -> Companion:
    text = click.edit(entry.companion.to_toml(), extension=".toml", require_save=True)
    if text is None:
        raise UsageError("no changes saved", hint="save the file in your editor to apply edits")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"edited companion is not valid TOML ({exc}); nothing saved") from exc
    return parse_companion(data, f"{entry.paths.card_file} (edited)")


@companion.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def delete_companion(ctx: CliContext, name: str, yes: bool) -> None:
    """Delete a companion and everything it holds (transcript, memory, adapters)."""
    registry = CompanionRegistry(ctx.home)
    entry = registry.find(name)
    if not yes:
        click.confirm(f"Delete '{entry.name}' with all its conversations and memories?", abort=True)
    registry.delete(entry)
    click.echo(f"deleted companion '{entry.name}'")


@companion.command("card")
@click.argument("name", required=False)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The card file to write: NAME.png or NAME.json.",
)
@click.option(
    "--image",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A PNG picture to put the card in (default: a generated gradient).",
)
@pass_context
def export_card(ctx: CliContext, name: str | None, out: Path, image: Path | None) -> None:
    """Write the companion's persona as a Character Card V3 (with a V2 copy for older apps)."""
    entry = CompanionRegistry(ctx.home).resolve(name)
    fmt = write_card(entry.companion.persona, out, image=image)
    what = "PNG with ccv3 + chara chunks" if fmt == "png" else "JSON"
    click.echo(f"wrote {entry.name}'s card to {out} (Character Card V3, {what})")

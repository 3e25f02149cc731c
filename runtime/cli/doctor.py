"""`hearth doctor`: what Hearth sees here — versions, data home, models, llama.cpp, offline.

Read-only: it never creates the data home and never touches the network.
"""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from runtime import __version__
from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json
from runtime.companions import CompanionRegistry
from runtime.errors import HearthError
from runtime.offline import offline_status

PACKAGES = (
    "llama-cpp-python",
    "chromadb",
    "textual",
    "pydantic",
    "torch",
    "transformers",
    "peft",
    "trl",
)


def _package_versions() -> dict[str, str | None]:
    # importlib.metadata reads installed metadata without importing (torch would take seconds).
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _data_home_report(ctx: CliContext) -> dict[str, Any]:
    mode = ctx.home.mode()
    report: dict[str, Any] = {
        "path": str(ctx.home.root),
        "exists": mode is not None,
        "mode": f"{mode:04o}" if mode is not None else None,
        "private": mode is not None and mode & 0o077 == 0,
    }
    try:
        report["companions"] = CompanionRegistry(ctx.home).slugs()
    except OSError as exc:
        report["error"] = str(exc)
    return report


def _models_report(ctx: CliContext) -> list[dict[str, Any]]:
    from runtime.models.discovery import discover_models

    return [found.to_json() for found in discover_models(ctx.home, ctx.config)]


def _llama_report() -> dict[str, Any]:
    from runtime.engine.llamacpp import system_info

    try:
        return system_info()
    except (ImportError, OSError) as exc:  # a broken llama.cpp build is exactly what doctor is for
        return {"error": f"llama.cpp could not be loaded: {exc}"}


def collect_report(ctx: CliContext) -> dict[str, Any]:
    """Everything doctor shows, as one JSON-ready mapping."""
    report: dict[str, Any] = {
        "hearth": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": _package_versions(),
        "data_home": _data_home_report(ctx),
        "offline": offline_status(),
    }
    try:
        report["models"] = _models_report(ctx)
    except HearthError as exc:
        report["models"] = []
        report["models_error"] = exc.message
    report["llama_cpp"] = _llama_report()
    return report


def _print_human(report: dict[str, Any]) -> None:
    home = report["data_home"]
    click.echo(f"Hearth {report['hearth']} on Python {report['python']} ({report['platform']})")
    for name, found in report["packages"].items():
        click.echo(f"  {name:<18} {found or 'not installed'}")
    state = f"mode {home['mode']}" if home["exists"] else "not created yet"
    warn = "" if home["private"] or not home["exists"] else "  (WARNING: readable by others)"
    click.echo(f"Data home: {home['path']} ({state}){warn}")
    click.echo(f"Companions: {', '.join(home.get('companions') or []) or 'none'}")
    models = report["models"]
    click.echo(f"Models found: {len(models)}")
    for found in models:
        click.echo(f"  {found['name']}  {found['path']}")
    offline = report["offline"]
    click.echo(f"Offline: {'yes' if offline['offline'] else 'NO'} (telemetry off, hubs offline)")
    llama = report["llama_cpp"]
    if "error" in llama:
        click.echo(f"llama.cpp: {llama['error']}")
    else:
        gpu = "yes" if llama.get("gpu_offload") else "no"
        click.echo(f"llama.cpp: {llama.get('llama_cpp_python')} (GPU offload: {gpu})")
        click.echo(f"  {llama.get('system_info', '').strip()}")


@click.command()
@json_option
@pass_context
def doctor(ctx: CliContext, as_json: bool) -> None:
    """Report versions, data home, models found, llama.cpp and offline status."""
    report = collect_report(ctx)
    if as_json:
        print_json(report)
    else:
        _print_human(report)

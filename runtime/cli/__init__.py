"""The `hearth` command: bare `hearth` opens the TUI; subcommands do the rest.

Commands are grouped by topic in sibling modules. Optional packages (training) add commands
through the `hearth.commands` entry point group, so this package never imports them.
"""

from __future__ import annotations

import contextlib
import logging
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click

from runtime import __version__
from runtime.cli.chat import chat
from runtime.cli.companion import companion
from runtime.cli.context import CliContext
from runtime.cli.doctor import doctor
from runtime.cli.imports import import_command
from runtime.cli.memory import memory
from runtime.cli.model import model
from runtime.cli.sessions import sessions
from runtime.errors import HearthError
from runtime.paths import DataHome

PLUGIN_GROUP = "hearth.commands"


class HearthGroup(click.Group):
    """A click group that also lists commands contributed by installed extras."""

    def _plugins(self) -> dict[str, EntryPoint]:
        # Entry points are loaded only when their command runs, so `hearth --help` stays fast.
        return {entry.name: entry for entry in entry_points(group=PLUGIN_GROUP)}

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a HearthError becomes one line + hint and its exit code."""
        try:
            return super().invoke(ctx)
        except HearthError as error:
            report_error(error)
            ctx.exit(error.exit_code)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry = self._plugins().get(cmd_name)
        if entry is None:
            return None
        try:
            return entry.load()
        except ImportError as exc:
            raise HearthError(
                f"'hearth {cmd_name}' needs packages that are not installed ({exc.name})",
                hint="install the training extra: pip install -e '.[train]'",
            ) from exc


@click.group(cls=HearthGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="hearth")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=str),
    envvar="HEARTH_HOME",
    help="Data directory (default: $HEARTH_HOME or ~/.local/share/hearth).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Hearth: your companion, on your own machine, for good."""
    ctx.obj = CliContext(home=DataHome.resolve(Path(home) if home else None))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A broken config.toml is reported by the first command that needs it, not here.
    with contextlib.suppress(HearthError):
        logging.getLogger().setLevel(ctx.obj.config.log_level)
    if ctx.invoked_subcommand is None:
        from runtime.tui import run_tui

        run_tui(ctx.obj)


for _command in (companion, sessions, model, doctor, import_command, chat, memory):
    cli.add_command(_command)


def report_error(error: HearthError) -> None:
    """One line for the error, one for the hint, on stderr."""
    click.secho(f"error: {error.message}", fg="red", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


def main() -> None:
    """Console entry point (`hearth`)."""
    cli(prog_name="hearth")

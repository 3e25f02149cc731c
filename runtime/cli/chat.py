"""`hearth chat`: talk with a companion — the TUI, or `--plain`, a line-based chat on stdin/stdout.

The plain chat works the same in a terminal, through a pipe (scripts) and with a screen reader:
one line in is one message; replies stream out as plain text after "<Name>: ". Without a
terminal there is no input prompt and no colour, and status lines go to stderr, so stdout holds
only the conversation. Ctrl+C stops a reply (what was said so far is kept, marked partial);
at the prompt it leaves, as do /quit and end of input.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

import click

from runtime.cli.context import CliContext, pass_context
from runtime.cli.output import json_option, print_json
from runtime.errors import HearthError, UsageError

if TYPE_CHECKING:
    # Imported when the command runs: `hearth --help` should not pay for the chat machinery.
    from runtime.chat import ChatSession, OpenChat, Turn


@click.command("chat")
@click.option("--plain", is_flag=True, help="Line-based chat on stdin/stdout instead of the TUI.")
@click.option("--companion", "companion_name", metavar="NAME", help="Which companion.")
@click.option("--session", "session_id", type=int, help="Continue this session (an id).")
@click.option("--new", is_flag=True, help="Start a new session (default: continue the latest).")
@click.option(
    "--context", "show_context", is_flag=True, help="Print what the model saw last, then exit."
)
@json_option
@pass_context
def chat(
    ctx: CliContext,
    plain: bool,
    companion_name: str | None,
    session_id: int | None,
    new: bool,
    show_context: bool,
    as_json: bool,
) -> None:
    """Talk with your companion.

    \b
    hearth chat                       # the full-screen app
    hearth chat --plain --new         # a plain line-based chat (pipes, screen readers)
    echo "hi" | hearth chat --plain   # one message from a script
    hearth chat --context --json      # what the model saw for the last reply
    """
    if session_id is not None and new:
        raise UsageError("--session and --new cannot be used together", hint="choose one")
    if as_json and not show_context:
        raise UsageError("--json only applies with --context", hint="hearth chat --context --json")
    if not plain and not show_context:
        from runtime.tui import run_tui

        run_tui(ctx)
        return
    from runtime.chat import open_chat

    ctx.ensured_home()
    opened = open_chat(
        ctx.home, ctx.config, companion_name, session_id=session_id, new=new, inspect=show_context
    )
    try:
        if show_context:
            report = opened.chat.context_report()
            if as_json:
                print_json(report.to_dict())
            else:
                click.echo(report.format())
            return
        PlainChat(opened, sys.stdin, sys.stdout).run()
    finally:
        opened.close()


class PlainChat:
    """The read-reply loop of `hearth chat --plain` over any text streams."""

    def __init__(self, opened: OpenChat, stdin: TextIO, stdout: TextIO) -> None:
        self.opened = opened
        self.chat: ChatSession = opened.chat
        self.stdin, self.stdout = stdin, stdout
        self.interactive = stdin.isatty() and stdout.isatty()

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        """A line on stdout, flushed at once (a reader on a pipe sees it immediately)."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def status(self, text: str) -> None:
        """A line about the chat (not part of it) on stderr."""
        click.echo(text, err=True)

    def speaker(self, name: str) -> str:
        label = f"{name}:"
        return click.style(label, bold=True) if self.interactive else label

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Read lines until /quit, end of input or Ctrl+C at the prompt."""
        opened = self.opened
        how = "continuing" if opened.resumed else "new"
        self.status(
            f"{self.chat.name}, session {opened.session.id} ({how}). "
            "/help lists commands, /quit leaves."
        )
        if opened.memory_warning is not None:
            message, hint = opened.memory_warning
            self.status(f"warning: {message}")
            self.status(f"hint: {hint}")
        if opened.greeting is not None:
            self.say(f"{self.speaker(self.chat.name)} {opened.greeting.text}")
        elif opened.resumed and self.interactive:
            for step in self.chat.path()[-2:]:
                self.show(step.message.role, step.message.text)
        while True:
            try:
                line = self.read()
            except KeyboardInterrupt:
                self.say()
                return
            if line is None:
                return
            if not line.strip():
                continue
            try:
                if not self.handle(line):
                    return
            except HearthError as error:
                self.status(f"error: {error.message}")
                if error.hint:
                    self.status(f"hint: {error.hint}")

    def read(self) -> str | None:
        """The next line (None at end of input), with a prompt only in a terminal."""
        if self.interactive:
            try:
                return input(click.style("You: ", bold=True))
            except EOFError:
                return None
        line = self.stdin.readline()
        return line if line else None

    def handle(self, line: str) -> bool:
        """Run one line; False means leave."""
        from runtime.chat import help_text, parse

        command = parse(line)
        chat = self.chat
        if command.name == "quit":
            return False
        if command.name == "help":
            self.say(help_text())
        elif command.name == "say":
            self.turn(lambda **kw: chat.send(command.text, **kw))
        elif command.name == "regen":
            self.turn(lambda **kw: chat.regenerate(**kw))
        elif command.name == "edit":
            self.turn(lambda **kw: chat.edit(command.text, **kw))
        elif command.name == "alt":
            self.alternatives(command.number)
        elif command.name == "undo":
            count = chat.undo()
            self.say(f"(removed your last message and what followed: {count} messages)")
        elif command.name == "context":
            report = chat.context_report()
            if command.text == "json":
                self.say(json.dumps(report.to_dict(), ensure_ascii=False))
            else:
                self.say(report.format())
        return True

    def show(self, role: str, text: str) -> None:
        who = self.chat.name if role == "assistant" else self.chat.user_name
        self.say(f"{self.speaker(who)} {text.strip()}")

    def alternatives(self, number: int | None) -> None:
        point = self.chat.branch_point()
        if number is None:
            if point is None:
                self.say("(no alternatives yet: /regen or /edit make some)")
                return
            for index, sibling in enumerate(point.siblings, start=1):
                mark = "*" if sibling.id == point.step.message.id else " "
                first = " ".join(sibling.text.split())[:70]
                self.say(f"{mark}{index}) {first}")
            return
        path = self.chat.switch_alternative(number)
        branched = [i for i, step in enumerate(path) if step.alternatives > 1]
        for step in path[branched[-1] if branched else -1 :]:
            self.show(step.message.role, step.message.text)

    # --- one reply ------------------------------------------------------------------------

    def turn(self, action: Callable[..., Turn]) -> None:
        """Stream a reply; generation runs in a thread so Ctrl+C here can cancel it."""
        self.stdout.write(f"{self.speaker(self.chat.name)} ")
        self.stdout.flush()
        started = False

        def write(piece: str) -> None:
            nonlocal started
            if not started:
                piece = piece.lstrip()
                started = bool(piece)
            if piece:
                self.stdout.write(piece)
                self.stdout.flush()

        cancel = threading.Event()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["turn"] = action(on_text=write, cancel=cancel)
            except BaseException as exc:  # handed to the main thread below
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="hearth-generate", daemon=True)
        worker.start()
        while worker.is_alive():
            try:
                worker.join(0.1)
            except KeyboardInterrupt:
                cancel.set()
        turn = outcome.get("turn")
        stopped = turn is not None and turn.stats.finish_reason == "cancelled"
        self.say(" [stopped]" if stopped else "")
        error = outcome.get("error")
        if isinstance(error, BaseException):
            raise error

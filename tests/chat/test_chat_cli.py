"""`hearth chat`: clear errors without a model; `--plain` through a pipe, with every command
persisted; a turn killed with SIGKILL leaves the user's message and the partial reply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.store import TranscriptStore

REPO_ROOT = Path(__file__).resolve().parents[2]
HEARTH = [sys.executable, "-c", "from runtime.cli import main; main()"]


def hearth(*args: str, input: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `hearth ARGS` in a subprocess with `input` on a pipe (the test's HEARTH_HOME)."""
    return subprocess.run(
        [*HEARTH, *args], input=input, capture_output=True, text=True, cwd=REPO_ROOT,
        env=dict(os.environ), timeout=timeout, check=False,
    )  # fmt: skip


def transcript(home: Path, slug: str = "mira") -> Path:
    return home / "companions" / slug / "transcript.sqlite"


@pytest.fixture
def mira(run_cli, tiny_models):
    """A companion on the tiny model, greedy, with a greeting."""
    created = run_cli("companion", "new", "Mira", "--model", str(tiny_models.gguf_q4_k_m))
    assert created.exit_code == 0, created.output
    edited = run_cli(
        "companion", "edit", "Mira",
        "--set", "first_mes=Hi {{user}}! I'm {{char}}.",
        "--set", "generation.temperature=0",
        "--set", "generation.context_size=1024",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output


# --- errors ---------------------------------------------------------------------------------


def test_without_a_companion_chat_says_how_to_make_one(run_cli):
    result = run_cli("chat", "--plain")
    assert result.exit_code == 1
    assert "error: there is no companion yet" in result.stderr
    assert "hearth companion new" in result.stderr


def test_without_a_model_chat_names_the_commands_that_fix_it(run_cli):
    assert run_cli("companion", "new", "Mira").exit_code == 0
    result = run_cli("chat", "--plain")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: Mira has no chat model"
    assert lines[1].startswith("hint: choose one with `hearth companion edit mira --model")
    assert "`hearth model list`" in lines[1] and "`hearth model pull --list`" in lines[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--session", "3", "--new"), "--session and --new cannot be used together"),
        (("--plain", "--json"), "--json only applies with --context"),
    ],
)
def test_contradictory_options_are_usage_errors(run_cli, args, message):
    result = run_cli("chat", *args)
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr


@pytest.mark.slow
def test_the_default_model_serves_a_companion_without_one(run_cli, tiny_models, monkeypatch):
    monkeypatch.setenv("HEARTH_DEFAULT_MODEL", str(tiny_models.gguf_q4_k_m))
    assert run_cli("companion", "new", "Mira").exit_code == 0
    result = run_cli("chat", "--plain", input="Hello there!\n/context\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Mira: ") and len(lines[0]) > len("Mira: ")
    assert lines[1].startswith("Context: ") and " of 1024 tokens" in lines[1]  # model's limit
    assert "  history " in result.stdout and "  user " in result.stdout
    assert result.stderr.startswith("Mira, session 1 (new).")


@pytest.mark.slow
def test_context_of_a_companion_without_conversations_writes_nothing(run_cli, mira, isolated_home):
    result = run_cli("chat", "--context")
    assert result.exit_code == 1
    assert "error: there is no conversation yet" in result.stderr
    with TranscriptStore.open(transcript(isolated_home)) as store:
        assert store.list_sessions() == []


def test_without_plain_chat_opens_the_tui(run_cli, monkeypatch):
    opened = []
    monkeypatch.setattr("runtime.tui.run_tui", opened.append)
    result = run_cli("chat")
    assert result.exit_code == 0
    assert len(opened) == 1


# --- the plain chat through a pipe ----------------------------------------------------------

SCRIPT = """Hello there!
/regen
/alt
/alt 1
/edit Good night.
/undo
Apa kabar?
/context json
/frobnicate
/quit
never sent
"""


@pytest.mark.slow
def test_plain_chat_through_a_pipe_persists_every_command(mira, isolated_home):
    result = hearth("chat", "--plain", "--new", input=SCRIPT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\x1b" not in result.stderr  # no colours or cursor codes
    lines = out.splitlines()
    assert lines[0] == "Mira: Hi User! I'm Mira."
    assert "Mira, session 1 (new)" in result.stderr
    assert "error: unknown command /frobnicate" in result.stderr
    assert "(removed your last message and what followed: 2 messages)" in lines
    report = json.loads(next(line for line in lines if line.startswith("{")))
    assert report["history_messages"] == 3 and report["total_tokens"] > 0
    assert sum(part["tokens"] for part in report["parts"]) == report["total_tokens"]

    with TranscriptStore.open(transcript(isolated_home)) as store:
        path = store.active_path_with_alternatives(1)
        roles_texts = [(s.message.role, s.message.text) for s in path]
        roles = [role for role, _ in roles_texts]
        assert roles == ["assistant", "user", "assistant", "user", "assistant"]
        assert roles_texts[0][1] == "Hi User! I'm Mira."
        assert roles_texts[1][1] == "Hello there!" and roles_texts[3][1] == "Apa kabar?"
        hello, reply = path[1].message, path[2]
        assert (reply.position, reply.alternatives) == (2, 2)  # /regen made a second reply
        assert store.alternatives_count(hello.id) == 1  # the edited version was undone
        assert all(not s.message.partial for s in path)
        assert len(store.messages(1)) == 6  # greeting, hello, 2 replies, apa kabar, reply
        assert "never sent" not in [m.text for m in store.messages(1)]


@pytest.mark.slow
def test_plain_chat_continues_the_latest_session(mira, isolated_home):
    assert hearth("chat", "--plain", input="Hello there!\n").returncode == 0
    second = hearth("chat", "--plain", input="Good night.\n")
    assert second.returncode == 0, second.stderr
    assert "session 1 (continuing)" in second.stderr
    assert "Hi User" not in second.stdout  # no second greeting
    with TranscriptStore.open(transcript(isolated_home)) as store:
        assert [m.text for m in store.active_path(1) if m.role == "user"] == [
            "Hello there!",
            "Good night.",
        ]
    context = hearth("chat", "--context", "--json", input="")
    assert context.returncode == 0, context.stderr
    assert json.loads(context.stdout)["history_messages"] == 3


@pytest.mark.slow
def _kill_mid_reply(run_cli, model: str, home: Path, name: str):  # type: ignore[no-untyped-def]
    """Start `hearth chat` for a new companion `name`, SIGKILL it while its reply streams in;
    the reply as stored just before the kill, or None when the reply ended on its own first."""
    assert run_cli("companion", "new", name, "--model", model).exit_code == 0
    # Greedy: the untrained model then rarely samples its end-of-turn token in 4000 tokens.
    settings = ["generation.max_tokens=4000", "generation.context_size=4096"]
    settings.append("generation.temperature=0")
    edit = [arg for setting in settings for arg in ("--set", setting)]
    assert run_cli("companion", "edit", name, *edit).exit_code == 0
    child = subprocess.Popen(
        [*HEARTH, "chat", "--plain", "--companion", name], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT,
        env=dict(os.environ),
    )  # fmt: skip
    path = transcript(home, name.lower())
    reply = turn = None
    try:
        child.stdin.write("Tell me everything.\n")
        child.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not turn:
            time.sleep(0.05)
            if path.exists():
                with TranscriptStore.open(path) as store:
                    found = store.active_path(1) if store.list_sessions() else []
                if found and found[-1].role == "assistant" and found[-1].text:
                    turn = found
        assert turn, "no streamed text reached the store"
        # The prompt holds the time, so on some minutes greedy decoding ends early.
        if turn[-1].partial and child.poll() is None:
            reply = turn[-1]
    finally:
        child.kill()  # SIGKILL: no cleanup code runs
        child.wait(10)
    assert reply is None or child.returncode == -9
    return reply


def test_a_turn_killed_mid_reply_leaves_the_message_and_the_partial_reply(
    run_cli, tiny_babbler, isolated_home
):
    model = str(tiny_babbler.gguf_q4_k_m)
    for attempt in range(3):
        name = f"Babbler{attempt}"
        reply = _kill_mid_reply(run_cli, model, isolated_home, name)
        if reply is not None:
            break
    assert reply is not None, "every reply finished before it could be interrupted"
    with TranscriptStore.open(transcript(isolated_home, name.lower())) as store:
        user, answer = store.active_path(1)
        assert (user.role, user.text) == ("user", "Tell me everything.")
        assert answer.role == "assistant" and answer.partial
        assert answer.text.startswith(reply.text)

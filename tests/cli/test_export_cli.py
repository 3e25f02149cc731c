"""`hearth sessions export` and `hearth companion card`: exact output, files, errors."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runtime import png
from runtime.cards import load_card
from runtime.companion import Companion, Persona
from runtime.companions import CompanionRegistry
from runtime.paths import DataHome
from runtime.store import TranscriptStore
from tests.fixtures.other_exports import KO, ZH, card_v3

T0 = datetime(2025, 2, 14, 20, 30, tzinfo=UTC)


@pytest.fixture
def mira_session(isolated_home: Path) -> int:
    """Companion Mira with one session: a regenerated reply (two branches)."""
    entry = CompanionRegistry(DataHome.resolve()).create(Companion(persona=Persona(name="Mira")))
    with TranscriptStore.open(entry.paths.transcript) as store:
        session = store.create_session("Stars", created_at=T0)
        store.append(session.id, "user", ZH, created_at=T0)
        reply = store.append(session.id, "assistant", "first", created_at=T0, model="m")
        store.regenerate(reply.id, KO, model="m")
        return session.id


def test_export_jsonl_to_stdout(run_cli, mira_session: int) -> None:
    result = run_cli("sessions", "export", str(mira_session))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["parent"], r["role"], r["text"]) for r in records] == [
        ("1", None, "user", ZH),
        ("2", "1", "assistant", "first"),
        ("3", "1", "assistant", KO),
    ]
    assert records[0] == {
        "session": f"hearth-{mira_session}",
        "id": "1",
        "parent": None,
        "role": "user",
        "text": ZH,
        "time": "2025-02-14T20:30:00.000000+00:00",
        "title": "Stars",
    }
    assert records[2]["active"] is True and "active" not in records[1]
    assert ZH in result.stdout  # UTF-8, not \\u escapes


def test_export_markdown_to_file_and_back(run_cli, mira_session: int, tmp_path: Path) -> None:
    out = tmp_path / "out" / "stars.md"
    result = run_cli("sessions", "export", str(mira_session), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"exported 1 conversation(s) to {out}\n"
    assert out.read_text(encoding="utf-8") == (
        f"# Stars\n\n_Session {mira_session} · hearth · 2025-02-14 20:30 UTC_\n\n"
        f"**User:** {ZH}\n\n**Mira:** {KO}\n"
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_export_format_flag_wins_over_extension(run_cli, mira_session: int, tmp_path: Path) -> None:
    out = tmp_path / "x.md"
    assert (
        run_cli(
            "sessions", "export", str(mira_session), "--format", "jsonl", "--out", str(out)
        ).exit_code
        == 0
    )
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["id"] == "1"


def test_export_all(run_cli, mira_session: int) -> None:
    result = run_cli("sessions", "export", "--all", "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Stars\n")


def test_export_errors(run_cli, mira_session: int, tmp_path: Path) -> None:
    missing = run_cli("sessions", "export", "99", "--out", str(tmp_path / "x.jsonl"))
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: session 99 not found\nhint: list sessions with `hearth sessions list`\n"
    )
    assert not (tmp_path / "x.jsonl").exists()
    neither = run_cli("sessions", "export")
    assert neither.exit_code == 2
    assert neither.stderr.startswith("error: give one or more session IDs, or --all\n")
    bad = run_cli("sessions", "export", str(mira_session), "--format", "html")
    assert bad.exit_code == 2


def test_companion_card_png_and_json_round_trip(
    run_cli, isolated_home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "sera.json"
    source.write_text(json.dumps(card_v3(), ensure_ascii=False), encoding="utf-8")
    assert run_cli("companion", "new", "Sera", "--card", str(source)).exit_code == 0
    shown = json.loads(run_cli("companion", "show", "Sera", "--json").stdout)["persona"]
    for suffix in ("png", "json"):
        out = tmp_path / f"card.{suffix}"
        result = run_cli("companion", "card", "Sera", "--out", str(out))
        assert result.exit_code == 0, result.output
        kind = "PNG with ccv3 + chara chunks" if suffix == "png" else "JSON"
        assert result.stdout == f"wrote Sera's card to {out} (Character Card V3, {kind})\n"
        assert load_card(out).model_dump(mode="json") == shown
        # And a companion made from the written card is the same persona again.
        name = f"Sera-{suffix}"
        assert run_cli("companion", "new", name, "--card", str(out)).exit_code == 0
        again = json.loads(run_cli("companion", "show", name, "--json").stdout)["persona"]
        assert again == {**shown, "name": name}


def test_companion_card_into_a_picture(run_cli, isolated_home: Path, tmp_path: Path) -> None:
    run_cli("companion", "new", "Mira")
    picture = tmp_path / "face.png"
    run_cli("companion", "card", "Mira", "--out", str(picture))  # any PNG will do as a picture
    out = tmp_path / "mira.png"
    result = run_cli("companion", "card", "--out", str(out), "--image", str(picture))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    # The old card chunks of the picture are replaced, not duplicated.
    assert data.count(b"tEXtchara\0") == 1 and data.count(b"tEXtccv3\0") == 1
    chunks = png.text_chunks(data, frozenset({"chara", "ccv3"}))
    assert json.loads(base64.b64decode(chunks["chara"]))["data"]["name"] == "Mira"
    assert dict(png.chunks(data))[b"IHDR"] == dict(png.chunks(picture.read_bytes()))[b"IHDR"]


def test_companion_card_errors(run_cli, isolated_home: Path, tmp_path: Path) -> None:
    run_cli("companion", "new", "Mira")
    wrong = run_cli("companion", "card", "Mira", "--out", str(tmp_path / "x.txt"))
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        "error: cannot write a card as '.txt'\nhint: use --out NAME.png or --out NAME.json\n"
    )
    (tmp_path / "not.png").write_text("hello", encoding="utf-8")
    bad = run_cli(
        "companion",
        "card",
        "Mira",
        "--out",
        str(tmp_path / "y.png"),
        "--image",
        str(tmp_path / "not.png"),
    )
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: the picture is not a usable PNG (not a PNG file)")
    assert not (tmp_path / "y.png").exists()
    unknown = run_cli("companion", "card", "Nobody", "--out", str(tmp_path / "z.png"))
    assert unknown.exit_code == 1
    assert "no companion named 'Nobody'" in unknown.stderr

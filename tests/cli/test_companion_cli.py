"""`hearth companion …` through the real CLI: exact output, JSON contract, errors and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from runtime.companion import load_companion


def test_new_then_show_json_contract(run_cli, isolated_home: Path) -> None:
    model = isolated_home.parent / "m.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 16)
    created = run_cli("companion", "new", "Mira", "--model", str(model))
    assert created.exit_code == 0, created.output
    assert (
        created.stdout == f"created companion 'Mira' in {isolated_home / 'companions' / 'mira'}\n"
    )
    assert stat.S_IMODE(isolated_home.stat().st_mode) == 0o700

    shown = run_cli("companion", "show", "Mira", "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert list(data)[:5] == ["name", "persona", "core_memories", "model", "adapter"]
    assert data["name"] == "Mira"
    assert data["model"] == str(model)
    assert data["adapter"] is None
    assert data["core_memories"] == []
    assert data["persona"]["name"] == "Mira"
    assert {
        "description",
        "personality",
        "scenario",
        "first_mes",
        "mes_example",
        "system_prompt",
        "post_history_instructions",
        "alternate_greetings",
        "extensions",
    } <= set(data["persona"])


def test_show_without_name_uses_the_only_companion(run_cli) -> None:
    run_cli("companion", "new", "Mira")
    assert json.loads(run_cli("companion", "show", "--json").stdout)["name"] == "Mira"


def test_edit_set_values_and_core_memory(run_cli, isolated_home: Path) -> None:
    run_cli("companion", "new", "Mira")
    result = run_cli(
        "companion",
        "edit",
        "Mira",
        "--set",
        "scenario=a quiet café",
        "--set",
        "generation.temperature=0.6",
        "--set",
        "core.user=喜欢喝茶 🍵",
        "--set",
        'alternate_greetings=["안녕", "Halo"]',
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "updated companion 'Mira'\n"
    companion = load_companion(isolated_home / "companions" / "mira" / "companion.toml")
    assert companion.persona.scenario == "a quiet café"
    assert companion.generation.temperature == 0.6
    assert companion.core_memories[0].text == "喜欢喝茶 🍵"
    assert companion.persona.alternate_greetings == ["안녕", "Halo"]
    data = json.loads(run_cli("companion", "show", "--json").stdout)
    assert data["core_memories"] == [{"label": "user", "text": "喜欢喝茶 🍵", "limit": 2000}]


def test_edit_bad_value_is_one_line_exit_2_and_nothing_written(run_cli, isolated_home) -> None:
    run_cli("companion", "new", "Mira")
    card = isolated_home / "companions" / "mira" / "companion.toml"
    before = card.read_bytes()
    result = run_cli("companion", "edit", "Mira", "--set", "generation.temperature=hot")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {card} (after edit): invalid 'generation.temperature' = 'hot': "
        "Input should be a valid number, unable to parse string as a number"
    )
    assert result.stderr.splitlines()[1].startswith("hint: ")
    assert "Traceback" not in result.output
    assert card.read_bytes() == before


def test_edit_unknown_key(run_cli) -> None:
    run_cli("companion", "new", "Mira")
    result = run_cli("companion", "edit", "--set", "colour=red")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: unknown companion setting 'colour'\nhint: persona settings:"
    )


def test_edit_adapter_and_model_need_existing_files(run_cli, isolated_home: Path) -> None:
    run_cli("companion", "new", "Mira")
    result = run_cli("companion", "edit", "--adapter", "/nope/lora.gguf")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: model file not found: /nope/lora.gguf\n")
    adapter = isolated_home.parent / "lora.gguf"
    adapter.write_bytes(b"GGUF")
    assert (
        run_cli("companion", "edit", "--adapter", str(adapter), "--adapter-scale", "0.5").exit_code
        == 0
    )
    data = json.loads(run_cli("companion", "show", "--json").stdout)
    assert (data["adapter"], data["adapter_scale"]) == (str(adapter), 0.5)
    assert run_cli("companion", "edit", "--no-adapter").exit_code == 0
    assert json.loads(run_cli("companion", "show", "--json").stdout)["adapter"] is None


def test_unknown_companion_lists_known_ones(run_cli) -> None:
    run_cli("companion", "new", "Mira")
    run_cli("companion", "new", "Ari")
    result = run_cli("companion", "show", "Bob")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no companion named 'Bob' (known: ari, mira)\n"
        "hint: see `hearth companion list`, or create one with `hearth companion new NAME`\n"
    )
    several = run_cli("companion", "show")
    assert several.exit_code == 2
    assert several.stderr.startswith("error: several companions exist (ari, mira): say which one")


def test_corrupt_companion_file_names_file_and_key(run_cli, isolated_home: Path) -> None:
    run_cli("companion", "new", "Mira")
    card = isolated_home / "companions" / "mira" / "companion.toml"
    card.write_text('[persona]\nname = "Mira"\n[adapter]\nscale = -3\n', encoding="utf-8")
    result = run_cli("companion", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {card}: invalid 'adapter.scale' = -3:")


def test_list_json_and_delete(run_cli) -> None:
    assert run_cli("companion", "list", "--json").stdout == "[]\n"
    run_cli("companion", "new", "Mira")
    listed = json.loads(run_cli("companion", "list", "--json").stdout)
    assert listed == [{"name": "Mira", "slug": "mira", "model": None, "adapter": None}]
    refused = run_cli("companion", "delete", "Mira", input="n\n")
    assert refused.exit_code == 1
    assert run_cli("companion", "delete", "Mira", "--yes").stdout == "deleted companion 'Mira'\n"
    assert run_cli("companion", "list", "--json").stdout == "[]\n"


def test_new_from_json_card_keeps_extensions(run_cli, isolated_home: Path) -> None:
    card = isolated_home.parent / "card.json"
    card.write_text(
        json.dumps(
            {
                "spec": "chara_card_v2",
                "spec_version": "2.0",
                "data": {
                    "name": "Seraphina",
                    "description": "a guardian",
                    "first_mes": "*smiles*",
                    "extensions": {"talkativeness": "0.5", "custom": {"k": [1, 2]}},
                    "character_book": {"entries": []},
                },
            }
        ),
        encoding="utf-8",
    )
    result = run_cli("companion", "new", "Sera", "--card", str(card), "--json")
    assert result.exit_code == 0, result.output
    persona = json.loads(result.stdout)["persona"]
    assert persona["name"] == "Sera"
    assert persona["first_mes"] == "*smiles*"
    assert persona["extensions"]["custom"] == {"k": [1, 2]}
    assert persona["extensions"]["hearth_card_extra"] == {"character_book": {"entries": []}}


def test_png_without_card_chunk_is_a_clear_error(run_cli, isolated_home: Path) -> None:
    png = isolated_home.parent / "plain.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    result = run_cli("companion", "new", "X", "--card", str(png))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {png}: PNG has no character card inside")
    assert not (isolated_home / "companions" / "x").exists()


def test_unwritable_data_home_is_one_line(run_cli, isolated_home: Path, monkeypatch) -> None:
    blocker = isolated_home.parent / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("HEARTH_HOME", str(blocker / "home"))
    result = run_cli("companion", "new", "Mira")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot create data directory {blocker / 'home'}")
    assert "Traceback" not in result.output

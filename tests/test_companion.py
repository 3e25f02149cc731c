"""Companion files: validation errors name the file, the key and the value; writes are atomic."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runtime.companion import Companion, Persona, load_companion, save_companion
from runtime.companions import CompanionRegistry, slugify
from runtime.errors import ConfigError, NotFoundError, UsageError
from runtime.paths import DataHome


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_keeps_every_field_and_unknown_extensions(tmp_path: Path) -> None:
    companion = Companion(
        persona=Persona(
            name="Mira",
            description="warm, curious",
            alternate_greetings=["hi", "你好"],
            extensions={"depth_prompt": {"prompt": "x", "depth": 4}, "talkativeness": "0.5"},
        ),
        core_memories=[{"label": "user", "text": "likes tea ☕", "limit": 100}],
    )
    path = tmp_path / "companion.toml"
    save_companion(companion, path)
    assert load_companion(path) == companion
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_corrupt_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "companion.toml", "[persona\nname = 'x'")
    with pytest.raises(ConfigError) as caught:
        load_companion(path)
    assert str(path) in caught.value.message
    assert "not valid TOML" in caught.value.message


def test_invalid_value_names_file_key_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path / "companion.toml",
        '[persona]\nname = "Mira"\n[generation]\ntemperature = "hot"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_companion(path)
    message = caught.value.message
    assert str(path) in message
    assert "generation.temperature" in message
    assert "'hot'" in message


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "companion.toml", '[persona]\nname = "Mira"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match=r"persona\.colour"):
        load_companion(path)


def test_core_memory_over_budget_names_the_block(tmp_path: Path) -> None:
    path = write(
        tmp_path / "companion.toml",
        '[persona]\nname = "Mira"\n[[core_memories]]\nlabel = "user"\ntext = "abcdef"\nlimit = 3\n',
    )
    with pytest.raises(ConfigError, match=r"core_memories\['user'\].*over its limit of 3"):
        load_companion(path)


def test_duplicate_core_labels_rejected(tmp_path: Path) -> None:
    text = '[persona]\nname = "M"\n' + '[[core_memories]]\nlabel = "a"\ntext = ""\n' * 2
    with pytest.raises(ConfigError, match="duplicate core memory labels: a"):
        load_companion(write(tmp_path / "companion.toml", text))


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Mira", "mira"), ("Sir Lancelot!", "sir-lancelot"), ("小明", "小明"), ("../..", "companion")],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_registry_find_by_name_and_unknown_lists_known(isolated_home: Path) -> None:
    registry = CompanionRegistry(DataHome.resolve())
    registry.create(Companion(persona=Persona(name="Mira")))
    registry.create(Companion(persona=Persona(name="지수")))
    assert registry.find("MIRA").slug == "mira"
    assert registry.find("지수").name == "지수"
    with pytest.raises(NotFoundError) as caught:
        registry.find("Nobody")
    assert caught.value.message == "no companion named 'Nobody' (known: mira, 지수)"
    with pytest.raises(UsageError, match="several companions exist"):
        registry.resolve(None)
    with pytest.raises(UsageError, match="already exists"):
        registry.create(Companion(persona=Persona(name="mira")))


def test_nulls_inside_extensions_do_not_break_saving(tmp_path: Path) -> None:
    companion = Companion(
        persona=Persona(name="Mira", extensions={"a": None, "b": {"c": None, "d": [1, None]}})
    )
    path = tmp_path / "companion.toml"
    save_companion(companion, path)
    assert load_companion(path).persona.extensions == {"b": {"d": [1]}}

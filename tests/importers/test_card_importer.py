"""Character cards: V2/V3 in PNG, JSON and CHARX; placeholders; lorebook; writing; round trips."""

from __future__ import annotations

import base64
import json
import tomllib
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runtime import png
from runtime.cards import (
    EXTRA_KEY,
    CardError,
    card_bytes,
    card_to_persona,
    load_card,
    normalize_placeholders,
    persona_to_card,
    write_card,
)
from runtime.companion import Companion, Persona
from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedMemory, PersonaUpdate, Progress
from runtime.importers.card import CardImporter
from tests.fixtures.other_exports import (
    EMOJI,
    ID,
    KO,
    ZH,
    card_v2,
    card_v3,
    png_chunk,
    text_chunk,
    tiny_png,
    write_charx,
    write_png_card,
)


def _read(path: Path) -> list:
    return list(CardImporter().read(path, Progress()))


def _chunks(data: bytes) -> dict[str, dict]:
    """Every card chunk of a PNG, decoded, checked independently of runtime.png."""
    found, offset = {}, 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        crc = int.from_bytes(data[offset + 8 + length : offset + 12 + length], "big")
        assert crc == zlib.crc32(kind + body)
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            found[key.decode()] = json.loads(base64.b64decode(text))
        offset += 12 + length
    return found


# --- reading --------------------------------------------------------------------------------


def test_png_v2_card_to_persona_and_lorebook(tmp_path: Path) -> None:
    path = write_png_card(tmp_path / "sera.png", chara=card_v2())
    assert CardImporter().detect(path)
    items = _read(path)
    update = items[0]
    assert isinstance(update, PersonaUpdate)
    fields = update.fields
    assert fields["name"] == "Seraphina"
    # Placeholders in any spelling become {{char}} / {{user}}; the prompt fills them in.
    assert fields["description"] == "{{char}} guards the glade. {{user}} is a traveller. " + ZH
    assert fields["personality"] == "kind, {{char}} is protective"
    assert fields["scenario"] == "{{user}} wakes up in {{char}}'s cottage."
    assert fields["first_mes"] == "*{{char}} smiles at {{user}}* " + KO
    assert fields["mes_example"] == "<START>\n{{user}}: hi\n{{char}}: hello " + EMOJI
    assert fields["alternate_greetings"] == ["Hello {{user}}!", ID]
    assert fields["tags"] == ["fantasy", "guardian"]
    # Unknown extensions are kept exactly; the lorebook is kept too (nulls dropped: TOML).
    extensions = fields["extensions"]
    assert extensions["some_tool/unknown"] == {"nested": [1, 2, {"deep": "value"}]}
    assert extensions["depth_prompt"] == {"prompt": "stay in character", "depth": 4}
    book = extensions[EXTRA_KEY]["character_book"]
    assert "scan_depth" not in book and len(book["entries"]) == 3
    memories = [i for i in items if isinstance(i, ImportedMemory)]
    assert [(m.kind, m.text) for m in memories] == [
        ("lorebook", "[glade, forest] The glade is enchanted."),
        ("lorebook", "[星星] {{char}} loves " + ZH),
    ]  # the disabled entry is not a memory
    assert len({m.source_id for m in memories}) == 2
    assert [m.source_id for m in _read(path) if isinstance(m, ImportedMemory)] == [
        m.source_id for m in memories
    ]  # stable, so a re-import adds nothing


def test_ccv3_chunk_wins_over_chara(tmp_path: Path) -> None:
    path = write_png_card(tmp_path / "both.png", chara=card_v2(), ccv3=card_v3())
    persona = load_card(path)
    assert persona.name == "Seraphina V3"
    extra = persona.extensions[EXTRA_KEY]
    assert extra["nickname"] == "Sera"
    assert extra["group_only_greetings"] == ["Hello, everyone."]
    assert extra["assets"][0]["uri"] == "ccdefault:"


def test_json_and_charx_and_unpacked_charx(tmp_path: Path) -> None:
    json_path = tmp_path / "card.json"
    json_path.write_text(json.dumps(card_v3(), ensure_ascii=False), encoding="utf-8")
    charx = write_charx(tmp_path / "sera.charx", card_v3())
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "card.json").write_text(json.dumps(card_v3()), encoding="utf-8")
    personas = []
    for path in (json_path, charx, unpacked):
        assert CardImporter().detect(path), path
        personas.append(_read(path)[0].fields)
    assert personas[0] == personas[1] == personas[2]
    assert personas[0]["name"] == "Seraphina V3"


def test_v1_flat_card(tmp_path: Path) -> None:
    path = tmp_path / "v1.json"
    path.write_text(
        json.dumps(
            {
                "name": "Old",
                "description": "<bot> is old",
                "first_mes": "hi <user>",
                "personality": "",
                "scenario": "",
                "mes_example": "",
                "chat": "x",
            }
        ),
        encoding="utf-8",
    )
    assert CardImporter().detect(path)
    persona = load_card(path)
    assert (persona.name, persona.description, persona.first_mes) == (
        "Old",
        "{{char}} is old",
        "hi {{user}}",
    )
    assert persona.extensions == {EXTRA_KEY: {"chat": "x"}}


def test_placeholders_case_insensitive() -> None:
    text = "<Bot> <BOT> {{CHAR}} {{ Char }} <user> <USER> {{User}} {{user}} <START>"
    assert normalize_placeholders(text) == (
        "{{char}} {{char}} {{char}} {{char}} {{user}} {{user}} {{user}} {{user}} <START>"
    )


def test_png_without_card_chunk_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    path.write_bytes(tiny_png([png_chunk(b"tEXt", b"Comment\0hello")]))
    assert CardImporter().detect(path)  # so that reading it can say what is missing
    with pytest.raises(ImportFormatError) as caught:
        _read(path)
    assert caught.value.message == (
        f"{path}: PNG has no character card inside (no 'chara' or 'ccv3' text chunk)"
    )
    assert caught.value.hint


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"chara\0" + base64.b64encode(b"[1, 2]"), "top level is not an object"),
        (b"chara\0" + base64.b64encode(b'{"data": {"name": ""}}'), "no name"),
        (b"chara\0" + base64.b64encode(b'{"name": "' + b"x" * 300 + b'"}'), "invalid card field"),
        (b"chara\0!!!!", "not a JSON or PNG character card"),
    ],
)
def test_bad_card_chunks(tmp_path: Path, payload: bytes, message: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(tiny_png([png_chunk(b"tEXt", payload)]))
    with pytest.raises(ImportFormatError, match=message) as caught:
        _read(path)
    assert "\n" not in caught.value.message


def test_compressed_text_chunks_are_read(tmp_path: Path) -> None:
    raw = json.dumps(card_v2()).encode()
    ztxt = png_chunk(b"zTXt", b"chara\0\0" + zlib.compress(base64.b64encode(raw)))
    itxt = png_chunk(b"iTXt", b"ccv3\0\x01\0en\0\0" + zlib.compress(base64.b64encode(raw)))
    (tmp_path / "z.png").write_bytes(tiny_png([ztxt]))
    (tmp_path / "i.png").write_bytes(tiny_png([itxt]))
    assert load_card(tmp_path / "z.png").name == "Seraphina"
    assert load_card(tmp_path / "i.png").name == "Seraphina"


def test_truncated_png_after_the_card_still_reads(tmp_path: Path) -> None:
    data = tiny_png([text_chunk("chara", card_v2())])
    (tmp_path / "cut.png").write_bytes(data[:-6])
    assert load_card(tmp_path / "cut.png").name == "Seraphina"


def test_other_files_are_not_cards(tmp_path: Path) -> None:
    (tmp_path / "conv.json").write_text('[{"mapping": {}}]', encoding="utf-8")
    (tmp_path / "text.json").write_text("{broken", encoding="utf-8")
    (tmp_path / "a.zip").write_bytes(b"PK\x03\x04 broken")
    for name in ("conv.json", "text.json", "a.zip", "missing.png"):
        assert not CardImporter().detect(tmp_path / name)


# --- writing and round trips --------------------------------------------------------------


@pytest.mark.parametrize("source", ["v2", "v3"])
@pytest.mark.parametrize("suffix", [".png", ".json"])
def test_round_trip_keeps_the_persona(tmp_path: Path, source: str, suffix: str) -> None:
    card = card_v2() if source == "v2" else card_v3()
    first = card_to_persona(card, "test")
    # Through companion.toml too, as `companion new --card` then `companion card` would go.
    saved = Companion.model_validate(tomllib.loads(Companion(persona=first).to_toml())).persona
    assert saved == first
    out = tmp_path / f"out{suffix}"
    write_card(saved, out)
    again = load_card(out)
    assert again == first
    assert again.extensions["some_tool/unknown"] == {"nested": [1, 2, {"deep": "value"}]}


def test_png_has_v3_and_v2_chunks(tmp_path: Path) -> None:
    persona = card_to_persona(card_v3(), "test")
    out = tmp_path / "sera.png"
    write_card(persona, out)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = _chunks(data)
    v3, v2 = chunks["ccv3"], chunks["chara"]
    assert (v3["spec"], v3["spec_version"]) == ("chara_card_v3", "3.0")
    assert (v2["spec"], v2["spec_version"]) == ("chara_card_v2", "2.0")
    assert v3["data"]["nickname"] == "Sera" and "nickname" not in v2["data"]
    assert v2["data"]["character_book"] == v3["data"]["character_book"]
    assert v2["data"]["extensions"] == v3["data"]["extensions"]
    assert EXTRA_KEY not in v3["data"]["extensions"]
    for key in ("name", "description", "first_mes", "mes_example", "alternate_greetings"):
        assert v2["data"][key] == v3["data"][key]


def test_generated_png_is_a_valid_image(tmp_path: Path) -> None:
    data = png.gradient_png(256)
    kinds = [kind for kind, _ in png.chunks(data)]
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    header = dict(png.chunks(data))[b"IHDR"]
    assert int.from_bytes(header[:4], "big") == 256 == int.from_bytes(header[4:8], "big")
    pixels = zlib.decompress(dict(png.chunks(data))[b"IDAT"])
    assert len(pixels) == 256 * (1 + 256 * 3)


def test_json_output_is_v3_with_v2_fields(tmp_path: Path) -> None:
    persona = card_to_persona(card_v2(), "test")
    out = tmp_path / "sera.json"
    write_card(persona, out)
    card = json.loads(out.read_text(encoding="utf-8"))
    assert card["spec"] == "chara_card_v3"
    assert card["data"]["group_only_greetings"] == []
    v2_fields = set(persona_to_card(persona, "v2")["data"])
    assert v2_fields <= set(card["data"])


def test_write_into_a_given_picture_replaces_old_card(tmp_path: Path) -> None:
    picture = tiny_png([text_chunk("chara", card_v2()), png_chunk(b"tEXt", b"Comment\0keep")])
    persona = Persona(name="Mira", description="new")
    data = card_bytes(persona, "png", picture)
    kinds = [kind for kind, _ in png.chunks(data)]
    assert kinds.count(b"IDAT") == 1 and kinds[-1] == b"IEND"
    texts = png.text_chunks(data, frozenset({"chara", "ccv3", "comment"}))
    assert texts["comment"] == b"keep"
    assert json.loads(base64.b64decode(texts["chara"]))["data"]["name"] == "Mira"


def test_write_errors(tmp_path: Path) -> None:
    persona = Persona(name="Mira")
    with pytest.raises(CardError, match=r"cannot write a card as '\.txt'"):
        write_card(persona, tmp_path / "x.txt")
    (tmp_path / "bad.png").write_bytes(b"not png")
    with pytest.raises(CardError, match="not a usable PNG"):
        write_card(persona, tmp_path / "x.png", image=tmp_path / "bad.png")
    assert not (tmp_path / "x.png").exists()


# --- fuzzing ------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
_card = st.fixed_dictionaries(
    {},
    optional={
        "spec": st.sampled_from(["chara_card_v2", "chara_card_v3"]) | _json,
        "data": st.fixed_dictionaries(
            {},
            optional={
                "name": st.text(max_size=10) | _json,
                "description": _json,
                "tags": _json,
                "alternate_greetings": _json,
                "extensions": _json,
                "character_book": _json
                | st.fixed_dictionaries({"entries": st.lists(_json, max_size=3)}),
            },
        )
        | _json,
        "name": _json,
    },
)
_chunk_body = st.one_of(
    _card.map(lambda c: b"chara\0" + base64.b64encode(json.dumps(c).encode())),
    _card.map(lambda c: b"ccv3\0" + json.dumps(c).encode()),
    st.binary(max_size=60),
    st.binary(max_size=40).map(lambda b: b"chara\0" + b),
    st.binary(max_size=40).map(lambda b: b"ccv3\0\x01\0" + b),
)
_chunk = st.tuples(st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"IDAT", b"abcd"]), _chunk_body)


def _must_be_clean(path: Path) -> None:
    CardImporter().detect(path)
    try:
        items = _read(path)
    except ImportFormatError as exc:
        assert "\n" not in exc.message
        event("rejected")
        return
    event("read as a card")
    persona = Persona(**items[0].fields)
    # What `companion new --card` and the import write must serialize and read back the same.
    saved = tomllib.loads(Companion(persona=persona).to_toml())
    assert Companion.model_validate(saved).persona == persona


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_chunk, max_size=4), st.integers(0, 40))
def test_fuzz_png_chunks(tmp_path_factory, chunks: list, cut: int) -> None:
    data = tiny_png([png_chunk(kind, body) for kind, body in chunks])
    path = tmp_path_factory.mktemp("fuzz") / "card.png"
    path.write_bytes(data[: len(data) - cut])
    _must_be_clean(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_card | _json)
def test_fuzz_json_cards(tmp_path_factory, card: object) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "card.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    _must_be_clean(path)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "card.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    _must_be_clean(path)


# --- through `hearth import` --------------------------------------------------------------


def test_hearth_import_card_creates_the_companion_with_lorebook(run_cli, tmp_path: Path) -> None:
    path = write_png_card(tmp_path / "sera.png", chara=card_v2())
    result = run_cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["persona_updated"], report["memories_added"]) == (
        "card",
        True,
        2,
    )
    persona = json.loads(run_cli("companion", "show", "Seraphina", "--json").stdout)["persona"]
    assert persona["first_mes"] == "*{{char}} smiles at {{user}}* " + KO
    assert persona["extensions"]["some_tool/unknown"] == {"nested": [1, 2, {"deep": "value"}]}
    again = json.loads(run_cli("import", str(path), "--json").stdout)
    assert (again["memories_added"], again["persona_updated"]) == (0, False)


def test_hearth_import_png_without_card_is_one_line(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    path.write_bytes(tiny_png())
    result = run_cli("import", str(path), "--companion", "X")
    assert result.exit_code != 0
    assert result.stderr.startswith(f"error: {path}: PNG has no character card inside")
    assert "Traceback" not in result.output
    assert run_cli("companion", "list", "--json").stdout == "[]\n"

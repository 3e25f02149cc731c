"""Gemini Takeout activity: sessions split on 30-minute gaps, regenerations, HTML → text."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.errors import ImportFormatError
from runtime.importers.base import ImportedSession, Progress
from runtime.importers.gemini import GeminiImporter
from runtime.importers.html_text import html_to_text
from tests.fixtures.other_exports import (
    EMOJI,
    ID,
    KO,
    ZH,
    gemini_activity,
    gemini_entry,
    write_gemini_takeout,
)


def _sessions(root: Path, **options: object) -> list[ImportedSession]:
    items = list(GeminiImporter(**options).read(root, Progress()))
    return [item for item in items if isinstance(item, ImportedSession)]


def _by_start(sessions: list[ImportedSession]) -> list[ImportedSession]:
    return sorted(sessions, key=lambda s: s.created_at)


def test_detects_gemini_among_other_takeout_products(tmp_path: Path) -> None:
    root = write_gemini_takeout(tmp_path)
    assert GeminiImporter().detect(root)
    search_only = root / "My Activity" / "Search"
    assert not GeminiImporter().detect(search_only)
    assert not GeminiImporter().detect(tmp_path / "missing")


def test_gap_over_30_minutes_starts_a_new_session(tmp_path: Path) -> None:
    first, second = _by_start(_sessions(write_gemini_takeout(tmp_path)))
    # 20:30 and 20:40 belong together; 10:00 the next day starts again; 10:20 joins it.
    assert first.created_at == datetime(2025, 3, 1, 20, 30, tzinfo=UTC)
    assert [m.text for m in first.messages if m.role == "user"] == [
        ID,
        f"Tell me about stars {ZH}\n\n[attachment: sky.png]",
    ]
    assert [m.text for m in second.messages if m.role == "user"] == ["second session", KO]
    assert first.source == second.source == "gemini"
    assert first.source_id == "gemini:2025-03-01T20:30:00.000000+00:00"
    assert first.title == ID


def test_regenerations_are_sibling_replies(tmp_path: Path) -> None:
    first = _by_start(_sessions(write_gemini_takeout(tmp_path)))[0]
    prompt = next(m for m in first.messages if m.text.startswith("Tell me"))
    replies = [m for m in first.messages if m.parent_source_id == prompt.source_id]
    assert [m.text for m in replies] == [
        "Stars are **suns**.\n\n- hot\n- far",
        "A regenerated answer " + EMOJI,
    ]
    assert first.active_leaf_source_id == replies[0].source_id
    # Chronological thread: the second prompt follows the first prompt's reply.
    assert first.messages[1].text == "Baik!\nTerima kasih."
    assert prompt.parent_source_id == first.messages[1].source_id


def test_exactly_30_minutes_stays_in_the_session(tmp_path: Path) -> None:
    entries = [
        gemini_entry("2025-01-01T10:30:00Z", "b", "<p>2</p>"),
        gemini_entry("2025-01-01T10:00:00Z", "a", "<p>1</p>"),
    ]
    assert len(_sessions(write_gemini_takeout(tmp_path / "a", entries))) == 1
    assert (
        len(
            _sessions(
                write_gemini_takeout(tmp_path / "b", entries), session_gap=timedelta(minutes=10)
            )
        )
        == 2
    )


def test_out_of_order_entries_and_same_times(tmp_path: Path) -> None:
    entries = [
        gemini_entry("2025-01-01T10:00:00Z", "first", "<p>1</p>"),
        gemini_entry("2025-01-01T10:05:00Z", "second", "<p>2</p>"),
        gemini_entry("2025-01-01T10:05:00Z", "third"),
        {"title": "Prompted no time"},
        "not an entry",
    ]
    items = list(GeminiImporter().read(write_gemini_takeout(tmp_path, entries), Progress()))
    (session,) = [i for i in items if isinstance(i, ImportedSession)]
    assert [m.text for m in session.messages if m.role == "user"] == ["first", "third", "second"]
    ids = [m.source_id for m in session.messages]
    assert len(ids) == len(set(ids))
    assert items[-1].message == "skipped 1 prompt(s) without a time"


def test_single_file_and_zip(tmp_path: Path) -> None:
    path = tmp_path / "My Activity.json"
    path.write_text(json.dumps(gemini_activity(), ensure_ascii=False), encoding="utf-8")
    assert GeminiImporter().detect(path)
    assert len(_sessions(path)) == 2
    archive = tmp_path / "takeout-20250301.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "Takeout/My Activity/Gemini Apps/My Activity.json")
    assert GeminiImporter().detect(archive)
    assert len(_sessions(archive)) == 2


def test_no_gemini_activity_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "My Activity.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="no Gemini Apps activity"):
        list(GeminiImporter().read(tmp_path, Progress()))


def test_progress(tmp_path: Path) -> None:
    root = write_gemini_takeout(tmp_path)
    progress = Progress()
    list(GeminiImporter().read(root, progress))
    size = (root / "My Activity" / "Gemini Apps" / "My Activity.json").stat().st_size
    assert (progress.bytes_total, progress.bytes_done, progress.sessions) == (size, size, 2)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<ul><li>x</li><li>y<ul><li>z</li></ul></li></ul>", "- x\n- y\n  - z"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("Tom &amp; Jerry &lt;3 &#128512; &eacute;", "Tom & Jerry <3 😀 é"),
        ("<pre><code>def f():\n    return 1</code></pre>", "```\ndef f():\n    return 1\n```"),
        ("<p>use <code>x</code> and <em>y</em></p>", "use `x` and *y*"),
        ("<h2>Title</h2><p>text</p>", "## Title\n\ntext"),
        ("<script>alert(1)</script><style>p{}</style>ok", "ok"),
        ("<p>  lots   of\n  space </p>", "lots of space"),
        (f"<p>{ZH}</p><p>{KO}</p>", f"{ZH}\n\n{KO}"),
        (
            "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>",
            "a | b\n1 | 2",
        ),
        ("", ""),
        ("<p>a <unclosed", "a <unclosed"),  # broken markup is kept as text, not lost
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


# --- through `hearth import` --------------------------------------------------------------


def test_hearth_import_gemini_takeout_zip(run_cli, tmp_path: Path) -> None:
    root = write_gemini_takeout(tmp_path / "t")
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in root.rglob("*.json"):
            zf.write(file, file.relative_to(root.parent).as_posix())
    result = run_cli("import", str(archive), "--companion", "Gem", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["sessions_added"], report["messages_added"]) == (
        "gemini",
        2,
        9,
    )
    again = json.loads(run_cli("import", str(archive), "--companion", "Gem", "--json").stdout)
    assert again["sessions_skipped_duplicate"] == 2


def test_localized_takeout_file_name(tmp_path: Path) -> None:
    path = tmp_path / "Takeout" / "Meine Aktivitäten" / "Gemini-Apps" / "MeineAktivitäten.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(gemini_activity(), ensure_ascii=False), encoding="utf-8")
    assert GeminiImporter().detect(tmp_path)
    assert len(_sessions(tmp_path)) == 2


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["title", "time", "safeHtmlItem", "html", "header", "products", "attachedFiles"]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        _json
        | st.builds(
            gemini_entry,
            st.sampled_from(["2025-01-01T10:00:00Z", "x"]),
            st.text(max_size=8),
            st.text(max_size=30),
        ),
        max_size=5,
    )
)
def test_fuzz_entries_never_crash(tmp_path_factory, entries: list) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "My Activity.json"
    path.write_text(
        json.dumps([gemini_entry("2025-01-01T09:00:00Z", "seed", "<p>x</p>"), *entries]),
        encoding="utf-8",
    )
    assert GeminiImporter().detect(path)
    items = list(GeminiImporter().read(path, Progress()))
    assert any(isinstance(i, ImportedSession) for i in items)

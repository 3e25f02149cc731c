"""Planning `hearth model pull` (pure, no network) and the catalog it draws on."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.errors import UsageError
from runtime.models.catalog import CATALOG, find_entry
from runtime.models.pull import PullItem, plan_pull

HF = "https://huggingface.co"
DEST = Path("/data/models")


def test_catalog_id_single_file_goes_straight_into_the_folder() -> None:
    plan = plan_pull("Qwen2.5-3B", None, endpoint=HF, dest_dir=DEST)
    assert plan.items == (
        PullItem(
            "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct-GGUF/resolve/main/"
            "qwen2.5-3b-instruct-q4_k_m.gguf",
            DEST / "qwen2.5-3b-instruct-q4_k_m.gguf",
        ),
    )


def test_multi_file_entry_gets_its_own_folder() -> None:
    plan = plan_pull("multilingual-e5-small", None, endpoint="http://mirror/", dest_dir=DEST,
                     revision="v1")
    assert [item.dest for item in plan.items] == [
        DEST / "multilingual-e5-small" / name
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "model.safetensors")
    ]
    assert plan.items[0].url == "http://mirror/intfloat/multilingual-e5-small/resolve/v1/config.json"


def test_repo_and_file_keeps_subfolders_and_sha() -> None:
    plan = plan_pull("owner/repo", "sub/model.gguf", endpoint=HF, dest_dir=DEST,
                     sha256="AB" * 32)
    assert plan.items == (
        PullItem(f"{HF}/owner/repo/resolve/main/sub/model.gguf", DEST / "sub" / "model.gguf",
                 "ab" * 32),
    )


def test_url_file_name_is_unquoted() -> None:
    plan = plan_pull("https://example.org/dl/My%20Model.gguf?download=1", None, endpoint=HF,
                     dest_dir=DEST)
    assert plan.items[0].dest == DEST / "My Model.gguf"


@pytest.mark.parametrize(
    ("spec", "file", "message"),
    [
        ("owner/repo", "../../etc/passwd", "FILE: '../../etc/passwd' is not a file name inside "
         "the repository"),
        ("owner/repo", "/abs.gguf", "FILE: '/abs.gguf' is not a file name inside the repository"),
        ("https://example.org/", None, "cannot tell a file name from the URL https://example.org/"),
        ("ftp://example.org/x.gguf", None, "unsupported URL scheme 'ftp': ftp://example.org/x.gguf"),
        ("https://example.org/x.gguf", "y.gguf",
         "a URL names its file already; drop the extra argument 'y.gguf'"),
        ("qwen2.5-3b", "other.gguf", "qwen2.5-3b is a catalog id; it takes no FILE argument "
         "('other.gguf')"),
        ("a/b/c", "x.gguf", "unknown model 'a/b/c': not a catalog id, a Hugging Face repo "
         "(owner/name) or a URL"),
    ],
)
def test_impossible_requests(spec: str, file: str | None, message: str) -> None:
    with pytest.raises(UsageError) as err:
        plan_pull(spec, file, endpoint=HF, dest_dir=DEST)
    assert err.value.message == message


def test_catalog_is_consistent() -> None:
    ids = [entry.id for entry in CATALOG]
    assert len(ids) == len(set(ids))
    for entry in CATALOG:
        assert entry.kind in ("chat", "embedding")
        assert entry.builtin or (entry.files and entry.size_bytes > 0)
        if entry.kind == "chat":
            assert all(name.endswith(".gguf") for name in entry.files)
            assert "Q4_K_M" in entry.files[0].upper()
    chat_sizes = [entry.size_bytes for entry in CATALOG if entry.kind == "chat"]
    assert chat_sizes == sorted(chat_sizes)  # smallest first, as `--list` promises
    # DESIGN.md: the recommended embedder is multilingual; the English one is only a fallback.
    assert "Korean" in (find_entry("multilingual-e5-small") or CATALOG[0]).languages
    assert find_entry("ALL-MINILM-L6-V2") is not None and find_entry("nope") is None

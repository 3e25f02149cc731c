"""Calibration for the int8 embedder: the range of each int8 layer's input, measured once.

Static quantization needs, per layer, the lowest and highest value its input takes. They are
measured when a model loads (~0.8 s for all-MiniLM-L6-v2) by running the float32 graph, with
every layer input exposed as an output, over the fixed texts below: chat lines in the languages
Hearth's users write, short and long, with emoji, numbers and names. Fixed texts make the
ranges, and so every vector, the same on every load; dynamic quantization instead scaled each
batch by its own extremes, so a text's vector changed with its batch mates (cosine 0.97-0.996
alone vs in a batch), and a rebuilt index would not have equalled the one it replaced.

The block output layers' inputs (GELU outputs) also have their outlier channels measured: the
OUTLIER_CHANNELS with the largest values stay float32 (`onnx_graph._Graph.linear`) and the range
is that of the other channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from runtime.memory.onnx_graph import (
    BertShape,
    InputRanges,
    OutlierChannels,
    build_bert_graph,
    int8_layers,
    outlier_layers,
)

MARGIN = 1.1
"""Ranges are widened by this factor: a text more extreme than the calibration texts is cut a
little later (values beyond the range are clipped to it)."""
OUTLIER_CHANNELS = 4
"""Input channels per block output layer kept float32. all-MiniLM-L6-v2 has one or two outliers
per block (largest values 24, 20, 17 and 15, 13, 7, 5 against 5.5 at most for the others).
Measured on 3,000 chat lines (2-core AMD EPYC): 4 channels, 605 texts/s, cosine to float32 0.9947
mean, 0.9892 lowest; those layers in float32 (as before) 398/s, 0.9952 / 0.9906; 1 channel
629/s, 0.9940 / 0.9882; 16 channels 519/s, 0.9948 / 0.9890."""

CALIBRATION_TEXTS = (
    "Nora: I adopted a grey kitten from the shelter last week and named her Mochi!",
    "Mira: That's wonderful. How is she settling in?",
    "ok",
    "lol 😂😂",
    "Good night, talk tomorrow ❤️",
    "Sam: My sister's wedding is on June 14th in Lisbon, I'm so nervous about the speech.",
    "Remember when we talked about the book club? I finally finished 'The Remains of the Day'.",
    "I worked 12 hours today, 3 meetings, and my boss moved the deadline to 9:30 am Friday.",
    "Can you help me plan a 5-day trip to Kyoto in April? Budget around $2,000.",
    "I feel anxious lately. I can't sleep and I keep thinking about the layoffs at work.",
    "Here's the code: def add(a, b): return a + b  # why does it print None?",
    "我周末去爬山了，风景很好，但是腿现在还很酸。",
    "去年六月我们一起去了杭州，你还记得西湖吗？",
    "今天下班以后想吃火锅，你有什么推荐吗？",
    "작년 여름에 제주도에 갔어. 바다가 정말 예뻤어.",
    "오늘 회사에서 발표했는데 너무 긴장했어 ㅠㅠ",
    "우리 강아지 이름은 보리야. 벌써 세 살이 됐어.",
    "Aku baru pindah ke Bandung bulan lalu, cuacanya sejuk sekali.",
    "Kemarin aku masak rendang untuk pertama kali, rasanya lumayan enak!",
    "Besok aku ada wawancara kerja jam sembilan pagi, doakan ya.",
    "先週、友達と京都に行って紅葉を見ました。とてもきれいでした。",
    "最近ピアノを習い始めたんだけど、指が全然動かない。",
    "明日は雨らしいから、傘を忘れないでね。",
    "Hey!!! Guess what... I GOT THE JOB!!! Starting Monday 🎉",
    '"I don\'t know," she said. "Maybe next year." — that\'s all she told me.',
    "Dad's birthday is 1962-03-08; Mom's is 8 March too, funny coincidence.",
    "Mira: I'm always here for you. Whatever happens tomorrow, you don't have to face it alone.",
    "We talked about moving to Berlin, Amsterdam or Copenhagen, then chose none of them. "
    "Instead we stayed, renovated the kitchen, planted tomatoes and basil on the balcony, "
    "and I started running in the mornings before work, three times a week, slowly at first. "
    "By autumn I could run ten kilometres without stopping, which I never thought possible.",
    "A long message about hiking in the mountains with my sister. " * 20,
)


@dataclass(frozen=True)
class Calibration:
    """What the int8 graph needs (`build_bert_graph`'s `ranges` and `outliers`)."""

    ranges: InputRanges
    outliers: OutlierChannels


def calibrate(
    weights: Mapping[str, np.ndarray],
    shape: BertShape,
    pooling: str,
    tokenizer: Any,
    prefixes: tuple[str, ...] = ("",),
) -> Calibration:
    """Ranges of each int8 layer's input over the calibration texts (each with each of
    `prefixes`, e.g. e5's "query: " and "passage: "), widened by MARGIN, and the outlier
    channels of the block output layers, whose range leaves them out."""
    import onnxruntime

    graph = build_bert_graph(weights, shape, pooling=pooling, probe=True)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    layers = int8_layers(shape.layers)
    names = [f"{layer}_in" for layer in layers]
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    # One text at a time: no padding to leave out, and the long text does not pad the rest.
    for text in (prefix + text for prefix in prefixes for text in CALIBRATION_TEXTS):
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        for layer, value in zip(layers, session.run(names, feed), strict=True):
            rows = value.reshape(-1, value.shape[-1])  # per channel: [tokens, channels]
            low[layer] = np.minimum(low.get(layer, 0.0), rows.min(axis=0))
            high[layer] = np.maximum(high.get(layer, 0.0), rows.max(axis=0))
    outliers: dict[str, list[int]] = {}
    for layer in outlier_layers(shape.layers):
        extremes = np.maximum(high[layer], -low[layer])
        count = min(OUTLIER_CHANNELS, extremes.size - 1)
        channels = sorted(int(c) for c in np.argsort(-extremes, kind="stable")[:count])
        outliers[layer] = channels
        high[layer] = np.delete(high[layer], channels)
        low[layer] = np.delete(low[layer], channels)
    ranges = {
        layer: (float(low[layer].min()) * MARGIN, float(high[layer].max()) * MARGIN)
        for layer in layers
    }
    return Calibration(ranges, outliers)

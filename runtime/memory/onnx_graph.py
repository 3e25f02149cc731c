"""A BERT sentence encoder as an ONNX graph, written from safetensors weights without torch.

Why: onnxruntime (already installed with chromadb) runs BERT 5-6x faster than a numpy forward
pass on this kind of CPU, but an ONNX file is normally exported with torch. The graph of a BERT
encoder is small and fixed, so it is written here directly: standard ONNX ops plus
onnxruntime's fused CPU kernels (`com.microsoft` Attention, SkipLayerNormalization, BiasGelu).
Pooling (mean or CLS over the attention mask) and L2 normalisation are part of the graph, so
one `run` gives sentence embeddings exactly as sentence-transformers computes them (in float32;
the int8 variant, the default, approximates them: see `embedder`).

The ONNX file format is protobuf; the few messages needed are encoded by `onnx_proto` rather
than the `onnx` package. onnxruntime parses the result; tests compare its output with a
reference computed by transformers+torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.memory.onnx_proto import (
    FLOAT,
    INT32,
    INT64,
    field_bytes,
    model,
    node,
    tensor,
    value_info,
)

# --- the BERT graph ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BertShape:
    """What the graph needs from config.json."""

    hidden: int
    heads: int
    layers: int
    eps: float
    position_offset: int
    """XLM-RoBERTa numbers positions from padding_idx + 1; BERT from 0."""

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> BertShape:
        """Read a Hugging Face BERT or XLM-RoBERTa config.json mapping."""
        roberta = str(config.get("model_type", "bert")) in ("roberta", "xlm-roberta")
        pad = int(config.get("pad_token_id", 1)) if roberta else 0  # type: ignore[call-overload]
        return cls(
            hidden=int(config["hidden_size"]),  # type: ignore[call-overload]
            heads=int(config["num_attention_heads"]),  # type: ignore[call-overload]
            layers=int(config["num_hidden_layers"]),  # type: ignore[call-overload]
            eps=float(config.get("layer_norm_eps", 1e-12)),  # type: ignore[arg-type]
            position_offset=pad + 1 if roberta else 0,
        )


InputRanges = Mapping[str, tuple[float, float]]
"""(lowest, highest) value of each int8 layer's input, by layer name (`qkv0`, `out0`, `up0`, …)."""
OutlierChannels = Mapping[str, Sequence[int]]
"""Input channels of an int8 layer that stay float32, by layer name (see `_Graph.linear`)."""


class _Graph:
    """Collects nodes and initializers; names are unique because callers make them so.

    A linear layer runs in int8 when `ranges` has its input's range (static quantization: the
    input's scale is fixed, so a text's vector does not depend on the batch it is in); the
    input channels named in `outliers` then stay float32. With `probe`, every linear layer's
    float32 input is also a graph output (`NAME_in`), to measure those ranges.
    """

    def __init__(
        self,
        ranges: InputRanges | None = None,
        probe: bool = False,
        outliers: OutlierChannels | None = None,
    ) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.ranges = dict(ranges or {})
        self.outliers = {name: list(channels) for name, channels in (outliers or {}).items()}
        self.probe = probe
        self.probes: list[str] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(tensor(name, array))
        return name

    def op(
        self, op: str, inputs: Iterable[str], output: str, domain: str = "", **attrs: float | int
    ) -> str:
        self.nodes.append(node(op, inputs, [output], domain, **attrs))
        return output

    def _int8_weight(self, name: str, weight: np.ndarray) -> list[str]:
        """A [in, out] weight as int8 with one scale per output column (symmetric, zero point
        0): the initializer names of (weight, scale, zero point)."""
        scale = np.maximum(np.abs(weight).max(axis=0), 1e-12).astype(np.float32) / 127.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        self.const(name, quantized)
        self.const(name + "_scale", scale)
        self.const(name + "_zero", np.zeros(scale.shape, np.int8))
        return [name, name + "_scale", name + "_zero"]

    def _quantized_input(self, x: str, name: str) -> list[str]:
        """x as uint8 with the fixed scale of its measured range: names of (x, scale, zero)."""
        low, high = self.ranges[name]
        low, high = min(low, 0.0), max(high, 0.0)  # zero must be exact (padding, ReLU-like 0s)
        scale = max(high - low, 1e-6) / 255.0
        zero = int(np.clip(round(-low / scale), 0, 255))
        self.const(name + "_x_scale", np.array(scale, np.float32))
        self.const(name + "_x_zero", np.array(zero, np.uint8))
        inputs = [x, name + "_x_scale", name + "_x_zero"]
        return [self.op("QuantizeLinear", inputs, name + "_xq"), *inputs[1:]]

    def _watch(self, x: str, name: str) -> None:
        if self.probe:
            self.probes.append(self.op("Identity", [x], name + "_in"))

    def linear(self, x: str, name: str, weight: np.ndarray) -> str:
        """x @ weight: float32, or int8 when the input's range is known.

        A few input channels can take values far beyond the rest (GELU outputs of 13-24 where
        the others stay under 5.5): one uint8 scale for all would leave the rest a quarter of
        its levels. Those `outliers` channels are multiplied in float32 (a [tokens, 4] by
        [4, out] MatMul beside the int8 one, whose weight rows for them are zero, so their
        clipped int8 values add nothing)."""
        self._watch(x, name)
        if name not in self.ranges:
            return self.op("MatMul", [x, self.const(name, weight)], name + "_out")
        channels = self.outliers.get(name, [])
        int8_weight = weight
        if channels:
            int8_weight = weight.copy()
            int8_weight[channels, :] = 0.0
        x_q, x_scale, x_zero = self._quantized_input(x, name)
        w_q, w_scale, w_zero = self._int8_weight(name, int8_weight)
        inputs = [x_q, w_q, x_scale, w_scale, x_zero, w_zero]
        if not channels:
            return self.op("MatMulIntegerToFloat", inputs, name + "_out", "com.microsoft")
        product = self.op("MatMulIntegerToFloat", inputs, name + "_int8", "com.microsoft")
        self.const(name + "_channels", np.array(channels, np.int64))
        x_float = self.op("Gather", [x, name + "_channels"], name + "_x_float", axis=-1)
        float_weight = self.const(name + "_float", np.ascontiguousarray(weight[channels, :]))
        rest = self.op("MatMul", [x_float, float_weight], name + "_float_out")
        return self.op("Add", [product, rest], name + "_out")

    def attention(self, x: str, qkv: np.ndarray, bias: np.ndarray, name: str, heads: int) -> str:
        """Self-attention (query, key and value in one [hidden, 3*hidden] weight) over x."""
        self._watch(x, name)
        self.const(name + "_bias", bias)
        if name not in self.ranges:
            inputs = [x, self.const(name, qkv), name + "_bias", "mask_i32"]
            return self.op("Attention", inputs, name + "_out", "com.microsoft", num_heads=heads)
        x_q, x_scale, x_zero = self._quantized_input(x, name)
        w_q, w_scale, w_zero = self._int8_weight(name, qkv)
        inputs = [x_q, w_q, name + "_bias", x_scale, w_scale, "mask_i32", x_zero, w_zero]
        return self.op("QAttention", inputs, name + "_out", "com.microsoft", num_heads=heads)


def int8_layers(layers: int) -> list[str]:
    """The layers that run in int8: all of each block's (query/key/value, attention output,
    intermediate and output layers)."""
    return [f"{kind}{i}" for i in range(layers) for kind in ("qkv", "out", "up", "down")]


def outlier_layers(layers: int) -> list[str]:
    """The int8 layers whose outlier input channels stay float32: each block's output layer,
    whose input comes from GELU with one or two channels of outliers per block (quantized
    with them, cosine to float32 fell from 0.997 to 0.991)."""
    return [f"down{i}" for i in range(layers)]


def _weight(weights: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    return np.asarray(weights[key], dtype=np.float32)


def build_bert_graph(
    weights: Mapping[str, np.ndarray], shape: BertShape, *, pooling: str = "mean",
    ranges: InputRanges | None = None, probe: bool = False,
    outliers: OutlierChannels | None = None,
) -> bytes:  # fmt: skip
    """A serialized ONNX model: (input_ids, attention_mask) int64 [batch, tokens] → embedding
    float32 [batch, hidden], pooled (`mean` or `cls`) and L2-normalised.

    `weights` are the encoder's tensors named as in Hugging Face's BertModel without a prefix
    (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …).
    Layers named in `ranges` run in int8 (`int8_layers`; onnxruntime's QAttention and
    MatMulIntegerToFloat), but for the input channels named in `outliers`; `probe` adds their
    float32 inputs as outputs (see `_Graph`). Raises KeyError naming a missing tensor.
    """
    g = _Graph(ranges, probe, outliers)
    w = lambda key: _weight(weights, key)  # noqa: E731 - short alias keeps the graph readable
    g.const("word", w("embeddings.word_embeddings.weight"))
    positions = w("embeddings.position_embeddings.weight")[shape.position_offset :]
    g.const("position", positions)
    g.const("token_type", w("embeddings.token_type_embeddings.weight")[0])
    g.const("emb_gamma", w("embeddings.LayerNorm.weight"))
    g.const("emb_beta", w("embeddings.LayerNorm.bias"))
    g.const("zero", np.array([0], np.int64))
    g.op("Gather", ["word", "input_ids"], "tokens")
    g.op("Shape", ["input_ids"], "length", start=1, end=2)
    g.op("Slice", ["position", "zero", "length", "zero"], "positions")
    g.op("Add", ["tokens", "positions"], "embedded_pos")
    g.op("Add", ["embedded_pos", "token_type"], "embedded")
    x = g.op(
        "LayerNormalization", ["embedded", "emb_gamma", "emb_beta"], "x_emb", axis=-1,
        epsilon=shape.eps,
    )  # fmt: skip
    g.op("Cast", ["attention_mask"], "mask_i32", to=INT32)
    ms = "com.microsoft"
    for i in range(shape.layers):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate(
            [w(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]
        )
        qkv_bias = np.concatenate(
            [w(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]
        )
        g.const(f"out_b{i}", w(p + "attention.output.dense.bias"))
        g.const(f"ln1_g{i}", w(p + "attention.output.LayerNorm.weight"))
        g.const(f"ln1_b{i}", w(p + "attention.output.LayerNorm.bias"))
        g.const(f"up_b{i}", w(p + "intermediate.dense.bias"))
        g.const(f"down_b{i}", w(p + "output.dense.bias"))
        g.const(f"ln2_g{i}", w(p + "output.LayerNorm.weight"))
        g.const(f"ln2_b{i}", w(p + "output.LayerNorm.bias"))
        a = g.attention(x, qkv.T, qkv_bias, f"qkv{i}", shape.heads)
        a = g.linear(a, f"out{i}", w(p + "attention.output.dense.weight").T)
        # SkipLayerNormalization = LayerNorm(input + skip + bias): residual, bias and norm in one.
        x1 = g.op(
            "SkipLayerNormalization",
            [a, x, f"ln1_g{i}", f"ln1_b{i}", f"out_b{i}"],
            f"x_mid{i}",
            ms,
            epsilon=shape.eps,
        )
        h = g.linear(x1, f"up{i}", w(p + "intermediate.dense.weight").T)
        h = g.op("BiasGelu", [h, f"up_b{i}"], f"gelu{i}", ms)  # exact (erf) GELU, as BERT's
        h = g.linear(h, f"down{i}", w(p + "output.dense.weight").T)
        x = g.op(
            "SkipLayerNormalization",
            [h, x1, f"ln2_g{i}", f"ln2_b{i}", f"down_b{i}"],
            f"x{i}",
            ms,
            epsilon=shape.eps,
        )
    pooled = _pool(g, x, pooling)
    g.op("LpNormalization", [pooled], "embedding", axis=1, p=2)
    return _model(g, shape.hidden)


def _pool(g: _Graph, x: str, pooling: str) -> str:
    if pooling == "cls":
        g.const("first", np.array(0, np.int64))
        return g.op("Gather", [x, "first"], "pooled", axis=1)
    g.const("axis1", np.array([1], np.int64))
    g.const("axis2", np.array([2], np.int64))
    g.const("tiny", np.array(1e-9, np.float32))
    g.op("Cast", ["attention_mask"], "mask_f", to=FLOAT)
    g.op("Unsqueeze", ["mask_f", "axis2"], "mask_3d")
    g.op("Mul", [x, "mask_3d"], "masked")
    g.op("ReduceSum", ["masked", "axis1"], "summed", keepdims=0)
    g.op("ReduceSum", ["mask_3d", "axis1"], "counts", keepdims=0)
    g.op("Max", ["counts", "tiny"], "counts_safe")
    return g.op("Div", ["summed", "counts_safe"], "pooled")


def _model(g: _Graph, hidden: int) -> bytes:
    outputs = [value_info("embedding", FLOAT, ["batch", hidden])]
    outputs += [value_info(name, FLOAT, ["batch", "tokens", "width"]) for name in g.probes]
    graph = b"".join(field_bytes(1, encoded) for encoded in g.nodes)
    graph += field_bytes(2, "hearth_bert")
    graph += b"".join(field_bytes(5, encoded) for encoded in g.initializers)
    graph += field_bytes(11, value_info("input_ids", INT64, ["batch", "tokens"]))
    graph += field_bytes(11, value_info("attention_mask", INT64, ["batch", "tokens"]))
    graph += b"".join(field_bytes(12, output) for output in outputs)
    return model(graph, {"": 17, "com.microsoft": 1})


# --- safetensors -------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file, memory-mapped (bf16 widened to float32).

    The format is an 8-byte little-endian header length, a JSON header of name → dtype, shape,
    byte offsets, then the raw data. Raises ValueError when the file does not follow it.
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    if data.size < 8:
        raise ValueError("shorter than a safetensors header")
    length = int(np.frombuffer(data[:8].tobytes(), "<u8")[0])
    if length <= 0 or 8 + length > data.size:
        raise ValueError("header length is out of range")
    try:
        header = json.loads(data[8 : 8 + length].tobytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"header is not JSON ({exc})") from exc
    body = data[8 + length :]
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info.get("dtype"))
        start, end = info["data_offsets"]
        if dtype is None or not 0 <= start <= end <= body.size:
            raise ValueError(f"tensor {name} has an unsupported dtype or bad offsets")
        array = body[start:end].view(dtype).reshape(info["shape"])
        if info["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array
    return tensors


def encoder_weights(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encoder's tensors with any model prefix ("bert.", "roberta.", "model.") removed."""
    for prefix in ("bert.", "roberta.", "model.", ""):
        if f"{prefix}embeddings.word_embeddings.weight" in tensors:
            return {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)}
    raise KeyError("embeddings.word_embeddings.weight")

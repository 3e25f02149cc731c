"""The benchmarks' own model: a random-weight Llama of about 100M parameters, built once and cached.

    .venv/bin/python bench/bench_model.py          # build it (≈1 min), print its path

Large enough that llama.cpp's work, not Python, sets the pace (hidden 768, 12 layers, 12 heads,
4 KV heads, MLP 3072: ≈105M parameters, 70 MB as Q4_K_M), built with the same helpers and
conversion path as the test models (`training.tiny_model`, llama.cpp's converter and quantizer).
Its weights are random, so it says nothing sensible, and its tokenizer is trained on ASCII text
only: every token is whole characters, so any sequence of sampled tokens is valid UTF-8. (With a
byte-level vocabulary a random model emits stray UTF-8 continuation bytes, which is not what
real models do and would make the streaming comparison measure a decoding corner case.)

Cached under `.cache/bench-models/<version>/` (or `$HEARTH_BENCH_MODELS`). Needs the training
extra and llama.cpp's conversion scripts (`hearth convert --fetch-sources`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

VERSION = "bench-105m-v1"
SIZE = {"hidden": 768, "layers": 12, "heads": 12, "kv_heads": 4, "intermediate": 3072}

_WORDS = """the a and to of in is you that it for on with as was I be at this have from or one had
by word but not what all were we when your can said there use an each which she do how their if
will up other about out many then them these so some her would make like him into time has look
two more write go see number no way could people my than first water been call who oil its now
find long down day did get come made may part sea light house keeper tea green morning night
sister brother music book walk garden rain sun cat dog friend remember today tomorrow yesterday
happy tired work home city train letter story song coffee bread soup winter summer spring autumn
"""
WORDS = _WORDS.split()


def cache_dir() -> Path:
    """Where built bench models are kept."""
    explicit = os.environ.get("HEARTH_BENCH_MODELS")
    return Path(explicit).expanduser() if explicit else REPO_ROOT / ".cache" / "bench-models"


def corpus() -> list[str]:
    """ASCII training text for the tokenizer: the tiny chats' English lines and word salad."""
    from training.tiny_model import load_tiny_chats

    lines = [text for pair in load_tiny_chats() for text in pair.values() if text.isascii()]
    for start in range(0, len(WORDS), 7):
        chunk = WORDS[start : start + 12]
        lines.append(" ".join(chunk).capitalize() + ".")
        lines.append(", ".join(reversed(chunk)) + "?")
    return lines


def ascii_tokenizer():
    """A byte-level BPE tokenizer whose alphabet is only what the ASCII corpus contains.

    (`training.tiny_model.train_tokenizer` seeds the alphabet with all 256 bytes, on purpose
    for the tests; here no token may be a fragment of a multi-byte character.)
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from training.tiny_model import SPECIAL_TOKENS

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=list(SPECIAL_TOKENS), show_progress=False
    )
    tokenizer.train_from_iterator(corpus(), trainer)
    return tokenizer


def build(out_dir: Path) -> Path:
    """Build the model into `out_dir`; returns the Q4_K_M GGUF."""
    from training.gguf_convert import convert_and_quantize
    from training.tiny_model import build_tiny_llama, chat_tokenizer

    hf_dir = out_dir / "hf"
    tokenizer = chat_tokenizer(ascii_tokenizer())
    build_tiny_llama(hf_dir, tokenizer, max_positions=8192, teach_steps=0, **SIZE)
    outputs = convert_and_quantize(
        hf_dir, out_dir, name="bench", quantizations=("Q4_K_M",), pretokenizer="gpt-2"
    )
    for weights in hf_dir.glob("*.safetensors"):
        weights.unlink()  # 400 MB of float32 nobody needs once converted
    return outputs["Q4_K_M"]


def bench_model() -> Path:
    """The cached bench model (Q4_K_M GGUF), built on first use (atomically)."""
    target = cache_dir() / VERSION / "bench-Q4_K_M.gguf"
    if target.is_file():
        return target
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{VERSION}.", dir=target.parent.parent))
    try:
        print(f"building the benchmark model in {target.parent} (once)…", file=sys.stderr)
        build(staging)
        if target.parent.exists():
            shutil.rmtree(target.parent)
        os.replace(staging, target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(bench_model())

"""Tiny *real* models for tests and benchmarks: a BPE tokenizer and a 2-layer Llama, trained on CPU.

    python -m training.tiny_model --out /tmp/tiny      # HF folder + f16 and Q4_K_M GGUFs

The model is a few million parameters, trained for a few seconds on short ChatML conversations
(English, Chinese, Korean, Indonesian, emoji; `training/data/tiny_chats.jsonl`) until it answers
briefly and then emits `<|im_end|>` — so tests can prove that generation stops on the
end-of-turn token, through the same chat template and conversion path real models take.
Everything is seeded; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tokenizers
    import torch
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

IM_START = "<|im_start|>"
END_OF_TURN = "<|im_end|>"
END_OF_TEXT = "<|endoftext|>"
SPECIAL_TOKENS = (END_OF_TEXT, IM_START, END_OF_TURN)

# ChatML. `{% generation %}` marks what the assistant says (its text and `<|im_end|>`), so trl's
# `assistant_only_loss` trains on exactly that; the markers render nothing.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- generation -%}"
    "{{- message['content'] + '<|im_end|>' -}}"
    "{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- endif -%}"
)

CHATS_FILE = Path(__file__).parent / "data" / "tiny_chats.jsonl"
SYSTEM_PROMPTS = ("You are Hearth, a kind companion.", "你是一个温柔的朋友。", "")


def load_tiny_chats(path: Path = CHATS_FILE) -> list[dict[str, str]]:
    """The user/assistant pairs the tiny models learn from."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def train_tokenizer(texts: Sequence[str], vocab_size: int = 4096) -> tokenizers.Tokenizer:
    """A byte-level BPE tokenizer trained on `texts`, with the ChatML special tokens.

    GPT-2 style pre-tokenization, so llama.cpp reproduces it exactly when the GGUF says `gpt-2`.
    A small corpus yields fewer than `vocab_size` tokens: BPE stops when no pair is left.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def chat_tokenizer(tokenizer: tokenizers.Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a trained tokenizer for transformers: ChatML template, eos `<|im_end|>`, no BOS."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TURN,
        pad_token=END_OF_TEXT,
        chat_template=CHAT_TEMPLATE,
    )


def save_chat_tokenizer(tokenizer: PreTrainedTokenizerFast, out_dir: Path) -> None:
    """Save for transformers and for llama.cpp's converter, which reads `add_bos_token` here."""
    tokenizer.save_pretrained(out_dir)
    config_file = out_dir / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config.update(add_bos_token=False, add_eos_token=False)
    config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")


def synthetic_conversations(
    chats: Sequence[dict[str, str]], count: int, seed: int = 0
) -> list[list[dict[str, str]]]:
    """`count` short ChatML conversations (1-2 exchanges, sometimes a system prompt)."""
    rng = random.Random(seed)
    conversations = []
    for _ in range(count):
        messages = []
        system = rng.choice(SYSTEM_PROMPTS)
        if system:
            messages.append({"role": "system", "content": system})
        for pair in rng.sample(list(chats), rng.choice((1, 1, 2))):
            messages.append({"role": "user", "content": pair["user"]})
            messages.append({"role": "assistant", "content": pair["assistant"]})
        conversations.append(messages)
    return conversations


def _encode(
    tokenizer: PreTrainedTokenizerFast, conversations: list[list[dict[str, str]]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded input ids, attention mask and labels (assistant tokens only, via the markers)."""
    import torch

    rows = []
    for messages in conversations:
        encoded = tokenizer.apply_chat_template(
            messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        rows.append((encoded["input_ids"], encoded["assistant_masks"]))
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (ids, mask) in enumerate(rows):
        ids_tensor = torch.tensor(ids, dtype=torch.long)
        input_ids[row, : len(ids)] = ids_tensor
        attention[row, : len(ids)] = 1
        keep = torch.tensor(mask, dtype=torch.bool)
        labels[row, : len(ids)] = torch.where(keep, ids_tensor, torch.tensor(-100))
    return input_ids, attention, labels


def teach_end_of_turn(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    *,
    steps: int = 120,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Train briefly (plain torch, CPU) on assistant turns so the model replies, then `<|im_end|>`.

    Returns the loss per step.
    """
    import torch

    torch.manual_seed(seed)
    conversations = synthetic_conversations(load_tiny_chats(), count=512, seed=seed)
    input_ids, attention, labels = _encode(tokenizer, conversations)
    order = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=learning_rate, total_steps=steps, pct_start=0.1
    )
    model.train()
    losses = []
    for _ in range(steps):
        batch = torch.randint(0, len(conversations), (batch_size,), generator=order)
        width = int(attention[batch].sum(dim=1).max())
        out = model(
            input_ids=input_ids[batch, :width],
            attention_mask=attention[batch, :width],
            labels=labels[batch, :width],
        )
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
    model.eval()
    return losses


def build_tiny_llama(
    out_dir: Path,
    tokenizer: PreTrainedTokenizerFast,
    *,
    hidden: int = 256,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate: int = 512,
    max_positions: int = 1024,
    teach_steps: int = 120,
    seed: int = 0,
) -> Path:
    """A Llama of the given size, taught to end its turns, saved with `tokenizer` to `out_dir`.

    Keep `hidden` and `intermediate` multiples of 256: K-quants (Q4_K_M …) quantize rows in
    blocks of 256. Embeddings are untied, which keeps the GGUF conversion straightforward.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    if teach_steps:
        teach_end_of_turn(model, tokenizer, steps=teach_steps, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir)
    save_chat_tokenizer(tokenizer, out_dir)
    return out_dir


@dataclass(frozen=True)
class TinyModels:
    """One built set of tiny models: the HF folder (with tokenizer) and its GGUF conversions."""

    root: Path

    @property
    def hf_dir(self) -> Path:
        return self.root / "hf"

    @property
    def tokenizer_json(self) -> Path:
        return self.hf_dir / "tokenizer.json"

    @property
    def gguf_f16(self) -> Path:
        return self.root / "tiny-f16.gguf"

    @property
    def gguf_q4_k_m(self) -> Path:
        return self.root / "tiny-Q4_K_M.gguf"


def build_tiny_models(
    out_dir: Path, *, sources: Path | None = None, seed: int = 0, **llama_options: int
) -> TinyModels:
    """Build everything into `out_dir`: tokenizer, taught model, f16 GGUF, Q4_K_M GGUF.

    `llama_options` go to `build_tiny_llama` (hidden, layers, heads, …) for larger variants.
    """
    from training.gguf_convert import convert_and_quantize

    models = TinyModels(Path(out_dir))
    chats = load_tiny_chats()
    texts = [pair["user"] for pair in chats] + [pair["assistant"] for pair in chats]
    texts += [prompt for prompt in SYSTEM_PROMPTS if prompt]
    tokenizer = chat_tokenizer(train_tokenizer(texts))
    build_tiny_llama(models.hf_dir, tokenizer, seed=seed, **llama_options)
    # Our tokenizer is new to llama.cpp, so its pre-tokenizer hash is unknown: say it is gpt-2.
    convert_and_quantize(
        models.hf_dir,
        models.root,
        name="tiny",
        quantizations=("Q4_K_M",),
        pretokenizer="gpt-2",
        sources=sources,
    )
    return models


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (POSIX); elsewhere the atomic rename suffices."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: two builders may both build; the rename picks one.
        yield
        return
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_test_models(
    cache_root: Path, version: str, *, sources: Path | None = None, **llama_options: int
) -> TinyModels:
    """The tiny models in `cache_root/<version>/`, built there once (atomically) if missing.

    `llama_options` go to `build_tiny_llama` (e.g. `teach_steps=0` for an untrained model).

    Built in a temporary sibling directory and renamed when complete, under a lock, so
    concurrent test processes neither corrupt nor duplicate the build.
    """
    cache_root = Path(cache_root).absolute()
    models = TinyModels(cache_root / version)
    if models.gguf_q4_k_m.is_file():
        return models
    with _locked(cache_root / f".{version}.lock"):
        if models.gguf_q4_k_m.is_file():  # another process built it while we waited
            return models
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=cache_root))
        try:
            build_tiny_models(staging, sources=sources, **llama_options)
            if models.root.exists() and not models.gguf_q4_k_m.is_file():
                shutil.rmtree(models.root)  # damaged by hand: complete builds arrive by rename
            try:
                os.replace(staging, models.root)
            except OSError:
                if not models.gguf_q4_k_m.is_file():
                    raise
                # Without a lock (no fcntl), another builder finished first: keep its build.
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return models


def main(argv: list[str] | None = None) -> None:
    """`python -m training.tiny_model --out DIR [--llama-cpp DIR]`."""
    parser = argparse.ArgumentParser(description="Build the tiny test models into a directory.")
    parser.add_argument("--out", type=Path, required=True, help="directory to create")
    parser.add_argument("--llama-cpp", type=Path, help="llama.cpp conversion scripts directory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    models = build_tiny_models(args.out, sources=args.llama_cpp, seed=args.seed)
    for path in (models.hf_dir, models.gguf_f16, models.gguf_q4_k_m):
        print(path)


if __name__ == "__main__":
    main()

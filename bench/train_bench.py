"""T1 — training cost: tokens/s and peak memory per base + method, side by side; an 8B estimate.

    .venv/bin/python bench/train_bench.py [--steps 6] [--seq-len 256] [--batch 2] [--json]
    .venv/bin/python bench/train_bench.py --gpu-8b [--json]   # CUDA machine with bitsandbytes

CPU (default): random-weight Llamas — the tiny test model's shape (hidden 256, 2 layers) and a
≈100M one (hidden 768, 12 layers, vocab 8192) — each trained with LoRA (the cpu-tiny preset's
r=8, all linear layers), with QLoRA (the same LoRA over the base loaded in 4-bit NF4 by Hearth's
loader, bitsandbytes' CPU kernels) and with a full fine-tune, same batch and length, AdamW. Each
case loads the same saved random model as `hearth train` loads a base and runs in its own
process, so its peak RSS (`ru_maxrss`) is its own; the table shows tokens/s, peak RSS, and what
training added over the loaded model (the weights file is memory-mapped: float32 weights count
once touched). Ratios: LoRA / full, QLoRA / LoRA. On the CPU, 4-bit is for fitting a model that
does not fit in float32, not for speed: bitsandbytes dequantizes each layer on the fly.

`--gpu-8b`: a random-weight model of Llama-3-8B's exact architecture, saved once (bf16) and
loaded in 4-bit NF4 (the 12gb preset: QLoRA r=16, bf16, gradient checkpointing, 8-bit paged
AdamW, 2048 tokens), trained a few steps; prints tokens/s and `torch.cuda.max_memory_allocated`
/ `max_memory_reserved`. Goal: peak ≤ 12 GB.

Always printed, and labelled **estimate** (not a measurement): the 12gb preset's peak VRAM for
an 8B QLoRA at 2048 tokens, from exact parameter counts of Llama-3-8B's config built on the
`meta` device (no weights) and the memory model in `estimate_qlora()`.

With --json the last line is one JSON object: {"cases": [...], "ratios": {...}, "estimate_8b":
{...}, "gpu_8b": {...} | null, "load_avg"}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

GB = 1024**3
SHAPES = {
    "tiny": {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "intermediate_size": 512, "vocab_size": 4096},
    "llama-100m": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                   "num_key_value_heads": 4, "intermediate_size": 3072, "vocab_size": 8192},
}  # fmt: skip
LLAMA3_8B = {
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 8192, "rope_theta": 500000.0, "rms_norm_eps": 1e-5,
    "tie_word_embeddings": False,
}  # fmt: skip


def rss_bytes() -> int:
    """This process's resident memory now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def build_model(shape: dict[str, Any], dtype: str = "float32"):
    """A random-weight Llama of `shape`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**shape, max_position_embeddings=4096, tie_word_embeddings=False)
    return LlamaForCausalLM(config).to(getattr(torch, dtype))


def train_steps(model, preset: str, method: str, batch: int, seq_len: int, steps: int):
    """Time `steps` optimizer steps after one warm-up step; returns tokens/s."""
    import torch

    from training.presets import resolve_config
    from training.trainer_model import lora_config

    config = resolve_config(preset)
    if method in ("lora", "qlora"):
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(config))
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.config.use_cache = False
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optim == "paged_adamw_8bit":
        import bitsandbytes

        optimizer = bitsandbytes.optim.PagedAdamW8bit(params, lr=1e-4)
    else:
        optimizer = torch.optim.AdamW(params, lr=1e-4)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    model.train()
    timed = 0.0
    for step in range(steps + 1):
        ids = torch.randint(0, vocab, (batch, seq_len), generator=generator).to(device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:  # the first step warms up allocators and kernels
            timed += time.perf_counter() - started
    trainable = sum(p.numel() for p in params)
    return batch * seq_len * steps / timed, trainable


def load_base(path: str, method: str):
    """The saved random model at `path`, loaded as `hearth train` loads a base: float32, or NF4
    for QLoRA."""
    from peft import prepare_model_for_kbit_training

    from training.presets import resolve_config
    from training.trainer_model import load_model

    if method != "qlora":
        return load_model(Path(path), resolve_config("cpu-tiny"))
    config = resolve_config("cpu-tiny").model_copy(update={"quantization": "nf4"})
    return prepare_model_for_kbit_training(load_model(Path(path), config), False)


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One CPU case in this process: build, train, report."""
    import torch

    torch.set_num_threads(spec["threads"])
    model = load_base(spec["path"], spec["method"])
    loaded = rss_bytes()
    total = sum(p.numel() for p in model.parameters())
    tokens_per_second, trainable = train_steps(
        model, "cpu-tiny", spec["method"], spec["batch"], spec["seq_len"], spec["steps"]
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        **spec, "params": total, "trainable": trainable,
        "tokens_per_second": round(tokens_per_second, 1),
        "peak_rss_mb": round(peak / 2**20), "loaded_rss_mb": round(loaded / 2**20),
        "training_added_mb": round((peak - loaded) / 2**20),
    }  # fmt: skip


def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    """`worker(spec)` in a fresh interpreter, so peak RSS belongs to this case alone."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def llama3_8b_counts() -> dict[str, int]:
    """Exact parameter counts of Llama-3-8B by kind, from its config on the `meta` device."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    with torch.device("meta"):
        model = LlamaForCausalLM(LlamaConfig(**LLAMA3_8B))
    counts = {"linear": 0, "embed_and_head": 0, "norm": 0, "lora_r16": 0}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            if name == "lm_head":
                counts["embed_and_head"] += module.weight.numel()
            else:
                counts["linear"] += module.weight.numel()
                counts["lora_r16"] += 16 * (module.in_features + module.out_features)
        elif isinstance(module, torch.nn.Embedding):
            counts["embed_and_head"] += module.weight.numel()
    counts["total"] = sum(p.numel() for p in model.parameters())
    counts["norm"] = counts["total"] - counts["linear"] - counts["embed_and_head"]
    return counts


def estimate_qlora(seq_len: int = 2048, batch: int = 1) -> dict[str, Any]:
    """Peak VRAM of the 12gb preset on Llama-3-8B — an ESTIMATE from parameter counts.

    - linear weights in NF4: 4 bits + double-quantized absmax (8 bits per 64 weights, plus
      32 bits per 256 blocks) ≈ 4.127 bits per weight; embeddings, lm_head and norms in bf16
      (bitsandbytes quantizes only the decoder's Linear layers);
    - LoRA r=16 on all 7 linear kinds: weights and gradients in bf16 (trl casts QLoRA adapters
      to bf16), 8-bit AdamW: two 1-byte states per weight;
    - activations with gradient checkpointing: each layer's input kept (bf16), plus one layer
      recomputed in the backward pass (q, k, v, attention output, o, gate, up, act, product,
      LoRA inputs; ×2 for their gradients), plus the largest weight dequantized to bf16;
    - the loss: trl's fused LM head scores in [tokens, 32768] tiles, never the full logits
      (one fp32 tile and its gradient);
    - CUDA context and allocator slack: 0.6 GB + 10 % of the rest (not in max_memory_allocated).
    """
    c = llama3_8b_counts()
    h, inter, layers = LLAMA3_8B["hidden_size"], LLAMA3_8B["intermediate_size"], 32
    kv = h * LLAMA3_8B["num_key_value_heads"] // LLAMA3_8B["num_attention_heads"]
    tokens = seq_len * batch
    parts = {
        "base_nf4_linear": c["linear"] * 4.127 / 8,
        "base_bf16_embed_head_norm": (c["embed_and_head"] + c["norm"]) * 2,
        "lora_weights_bf16": c["lora_r16"] * 2,
        "lora_grads_bf16": c["lora_r16"] * 2,
        "adam_8bit_states": c["lora_r16"] * 2,
        "checkpointed_layer_inputs": tokens * h * 2 * layers,
        "one_layer_recomputed": tokens * (5 * h + 2 * kv + 4 * inter + 7 * h) * 2 * 2,
        "dequantized_weight": h * inter * 2,
        "fused_lm_head_tile": min(tokens, 4096) * 32768 * 4 * 2,
    }
    subtotal = sum(parts.values())
    parts["cuda_context_and_slack"] = 0.6 * GB + 0.1 * subtotal
    total = sum(parts.values())
    return {
        "label": "estimate (not measured)",
        "model": "Llama-3-8B architecture", "preset": "12gb", "seq_len": seq_len, "batch": batch,
        "params": c["total"], "lora_params": c["lora_r16"],
        "parts_gb": {key: round(value / GB, 3) for key, value in parts.items()},
        "peak_gb": round(total / GB, 2), "goal_gb": 12, "fits": total <= 12 * GB,
    }  # fmt: skip


def measure_gpu_8b(steps: int = 3, seq_len: int = 2048) -> dict[str, Any]:
    """The 12gb preset on a random-weight Llama-3-8B, on this machine's GPU (measured)."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig

    cache = Path(os.environ.get("HEARTH_BENCH_MODELS", REPO_ROOT / ".cache" / "bench-models"))
    folder = cache / "llama3-8b-random-bf16"
    if not (folder / "config.json").is_file():
        with torch.device("meta"):
            from transformers import LlamaForCausalLM

            model = LlamaForCausalLM(LlamaConfig(**LLAMA3_8B))
        model = model.to_empty(device="cpu").to(torch.bfloat16)
        with torch.no_grad():
            for param in model.parameters():
                param.normal_(0.0, 0.02)
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache))
        model.save_pretrained(staging)
        staging.rename(folder)
        del model
    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(
        folder, quantization_config=quantization, dtype=torch.bfloat16, device_map={"": 0}
    )
    torch.cuda.reset_peak_memory_stats()
    loaded = torch.cuda.memory_allocated()
    tokens_per_second, trainable = train_steps(model, "12gb", "lora", 1, seq_len, steps)
    return {
        "label": "measured", "model": "random Llama-3-8B", "preset": "12gb", "seq_len": seq_len,
        "tokens_per_second": round(tokens_per_second, 1), "trainable": trainable,
        "loaded_gb": round(loaded / GB, 2),
        "peak_allocated_gb": round(torch.cuda.max_memory_allocated() / GB, 2),
        "peak_reserved_gb": round(torch.cuda.max_memory_reserved() / GB, 2),
        "device": torch.cuda.get_device_name(0), "note": "plain loop, not SFTTrainer's fused head",
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="T1: training tokens/s and peak memory.")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per case")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per case")
    parser.add_argument("--models", default="tiny,llama-100m")
    parser.add_argument("--gpu-8b", action="store_true", help="measure the 8B QLoRA on CUDA")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    cases = []
    with tempfile.TemporaryDirectory(prefix="hearth-train-bench-") as saved:
        for name in args.models.split(","):
            path = Path(saved) / name  # every case loads this random model as training does
            build_model(SHAPES[name]).save_pretrained(path)
            for method in ("lora", "qlora", "full"):
                spec = {"model": name, "method": method, "batch": args.batch}
                spec |= {"seq_len": args.seq_len, "steps": args.steps, "threads": args.threads}
                cases.append(run_case(spec | {"path": str(path)}))
    print(f"T1 training cost — CPU, batch {args.batch} × {args.seq_len} tokens, "
          f"{args.steps} timed steps, {args.threads} thread(s), fp32 AdamW")  # fmt: skip
    print(f"{'model':<11} {'method':<5} {'params':>9} {'trainable':>10} {'tok/s':>8} "
          f"{'peak RSS':>9} {'added':>8}")  # fmt: skip
    for case in cases:
        print(f"{case['model']:<11} {case['method']:<5} {case['params'] / 1e6:>8.1f}M "
              f"{case['trainable'] / 1e6:>9.2f}M {case['tokens_per_second']:>8.0f} "
              f"{case['peak_rss_mb']:>7} MB {case['training_added_mb']:>5} MB")  # fmt: skip
    ratios = {}
    for name in args.models.split(","):
        lora, qlora, full = (next(c for c in cases if c["model"] == name and c["method"] == m)
                             for m in ("lora", "qlora", "full"))  # fmt: skip
        ratios[name] = {
            "tokens_per_second_lora_over_full": round(
                lora["tokens_per_second"] / full["tokens_per_second"], 2),
            "added_memory_lora_over_full": round(
                lora["training_added_mb"] / max(full["training_added_mb"], 1), 2),
            "tokens_per_second_qlora_over_lora": round(
                qlora["tokens_per_second"] / lora["tokens_per_second"], 2),
            "peak_memory_qlora_over_lora": round(
                qlora["peak_rss_mb"] / max(lora["peak_rss_mb"], 1), 2),
        }  # fmt: skip
        ratio = ratios[name]
        print(f"{name}: LoRA / full tokens/s {ratio['tokens_per_second_lora_over_full']}, "
              f"memory added by training {ratio['added_memory_lora_over_full']}; QLoRA / LoRA "
              f"tokens/s {ratio['tokens_per_second_qlora_over_lora']}, peak RSS "
              f"{ratio['peak_memory_qlora_over_lora']}")  # fmt: skip
    estimate = estimate_qlora()
    print(f"ESTIMATE (not measured): 8B QLoRA, 12gb preset, 2048 tokens → "
          f"{estimate['peak_gb']} GB peak VRAM (goal ≤ 12 GB)")  # fmt: skip
    for key, value in estimate["parts_gb"].items():
        print(f"  {key:<27} {value:>7.3f} GB")
    gpu = None
    if args.gpu_8b:
        gpu = measure_gpu_8b()
        print(f"MEASURED on {gpu['device']}: 8B QLoRA 2048 tokens: {gpu['tokens_per_second']} "
              f"tok/s, peak allocated {gpu['peak_allocated_gb']} GB, reserved "
              f"{gpu['peak_reserved_gb']} GB")  # fmt: skip
    load = [round(value, 2) for value in os.getloadavg()]
    print(f"load average: {load}")
    if args.json:
        print(json.dumps({"cases": cases, "ratios": ratios, "estimate_8b": estimate,
                          "gpu_8b": gpu, "load_avg": load}))  # fmt: skip


if __name__ == "__main__":
    main()

"""Hugging Face model folder → GGUF, with llama.cpp's own converter, then optional quantization.

The converter (`convert_hf_to_gguf.py` + `conversion/` + `gguf-py/`, see `training.llama_sources`)
runs in a subprocess — `python -m training.gguf_convert SOURCES -- ARGS…` — so its imports,
globals and `sys.path` changes never leak into the caller. Before it runs, the subprocess can
patch one thing in it:

* `pretokenizer`: the converter identifies a BPE tokenizer's pre-tokenizer by hashing how it
  splits a test string, and refuses tokenizers whose hash it does not know — which is every
  tokenizer trained locally. `pretokenizer="gpt-2"` tells it to use that llama.cpp
  pre-tokenizer *only when the hash is unknown*; a known tokenizer keeps its own.

`convert_lora_to_gguf` runs the sibling `convert_lora_to_gguf.py` the same way, for a PEFT LoRA
adapter folder; it needs only the base model's config (`--base`), never its weights.

The chat template, with its `{% generation %}` markers, goes into the GGUF unchanged: the
llama-cpp-python this project pins (0.3.36) compiles templates with a jinja2 extension that
accepts those markers (checked by tests/llama/test_tiny_gguf.py), so training and chat share
one template byte for byte.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from runtime.errors import ConversionError
from runtime.offline import OFFLINE_ENVIRONMENT
from training.llama_sources import LlamaSources, find_sources

OUTTYPES = ("f32", "f16", "bf16", "q8_0")
PRETOKENIZERS = ("gpt-2",)
_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_STDERR_TAIL = 12


def _check_hf_dir(hf_dir: Path) -> Path:
    hf_dir = Path(hf_dir).expanduser()
    if not (hf_dir / "config.json").is_file():
        raise ConversionError(
            f"not a Hugging Face model folder (no config.json): {hf_dir}",
            hint="pass the folder that holds config.json, the *.safetensors files and the "
            "tokenizer",
        )
    return hf_dir.absolute()


def convert_hf_to_gguf(
    hf_dir: Path,
    out_path: Path,
    *,
    outtype: str = "f16",
    pretokenizer: str | None = None,
    sources: Path | LlamaSources | None = None,
) -> Path:
    """Convert the model in `hf_dir` to the GGUF file `out_path` (written only when complete).

    `outtype` is one of f32, f16, bf16, q8_0. `pretokenizer="gpt-2"` lets locally trained BPE
    tokenizers through (see the module docstring). `sources` is the llama.cpp scripts directory;
    by default it is found with `training.llama_sources.find_sources`.
    """
    hf_dir = _check_hf_dir(hf_dir)
    if outtype not in OUTTYPES:
        raise ConversionError(f"unknown output type {outtype!r}", hint="use " + ", ".join(OUTTYPES))
    if pretokenizer is not None and pretokenizer not in PRETOKENIZERS:
        raise ConversionError(
            f"unsupported pre-tokenizer override {pretokenizer!r}",
            hint="use " + ", ".join(PRETOKENIZERS),
        )
    if not isinstance(sources, LlamaSources):
        sources = find_sources(sources)
    out_path = Path(out_path).expanduser().absolute()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # A private directory next to the target: the rename is atomic, and the converter (which
    # formats `{ftype}`-style names) never sees the user's file name.
    options = ["--pretokenizer", pretokenizer] if pretokenizer else []
    arguments = [str(hf_dir), "--outtype", outtype]
    failed = f"converter failed on {hf_dir}"
    return _convert_in_subprocess(sources, options, arguments, out_path, failed)


def convert_hf_vocab_to_gguf(
    hf_dir: Path, out_path: Path, *, sources: Path | LlamaSources | None = None
) -> Path:
    """A vocabulary-only GGUF of the model in `hf_dir`: hyperparameters and tokens, no weights.

    Enough for `runtime.engine.adapters.base_identity`. The `gpt-2` pre-tokenizer fallback only
    matters for tokenizers llama.cpp does not know, and the identity uses token texts, not how
    text is split, so it is safe here.
    """
    hf_dir = _check_hf_dir(hf_dir)
    if not isinstance(sources, LlamaSources):
        sources = find_sources(sources)
    out_path = Path(out_path).expanduser().absolute()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    arguments = [str(hf_dir), "--vocab-only", "--outtype", "f16"]
    failed = f"converter could not read the base model {hf_dir}"
    return _convert_in_subprocess(sources, ["--pretokenizer", "gpt-2"], arguments, out_path, failed)


def _convert_in_subprocess(
    sources: LlamaSources, options: list[str], arguments: list[str], out_path: Path, failed: str
) -> Path:
    """Run our converter wrapper in a subprocess; `out_path` appears only when complete."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.", dir=out_path.parent))
    try:
        partial = staging / "model.gguf"
        command = [sys.executable, "-m", "training.gguf_convert", str(sources.root), *options]
        command += ["--", *arguments, "--outfile", str(partial)]
        result = subprocess.run(
            command, capture_output=True, text=True, env=_converter_env(sources), check=False
        )
        if result.returncode != 0 or not partial.is_file():
            raise ConversionError(
                f"llama.cpp's {failed}:\n{_tail(result.stderr)}",
                hint=_failure_hint(result.stderr),
            )
        os.replace(partial, out_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_path


def convert_lora_to_gguf(
    adapter_dir: Path,
    out_path: Path,
    *,
    base_dir: Path,
    outtype: str = "f16",
    sources: Path | LlamaSources | None = None,
) -> Path:
    """Convert the PEFT LoRA adapter in `adapter_dir` to the GGUF adapter `out_path`.

    `base_dir` is the Hugging Face folder of the base model (only its config.json is read).
    The file appears only when complete. Record the base model beside it with
    `runtime.engine.write_adapter_manifest`, so the runtime can refuse a wrong base.
    """
    adapter_dir = Path(adapter_dir).expanduser()
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ConversionError(
            f"not a PEFT adapter folder (no adapter_config.json): {adapter_dir}",
            hint="pass the folder a LoRA training run saved with save_pretrained()",
        )
    base_dir = _check_hf_dir(base_dir)
    if outtype not in OUTTYPES:
        raise ConversionError(f"unknown output type {outtype!r}", hint="use " + ", ".join(OUTTYPES))
    if not isinstance(sources, LlamaSources):
        sources = find_sources(sources)
    out_path = Path(out_path).expanduser().absolute()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    arguments = [str(adapter_dir.absolute()), "--base", str(base_dir), "--outtype", outtype]
    failed = f"LoRA converter failed on {adapter_dir}"
    return _convert_in_subprocess(sources, ["--lora"], arguments, out_path, failed)


def convert_and_quantize(
    hf_dir: Path,
    out_dir: Path,
    quantizations: Sequence[str] = ("Q4_K_M",),
    *,
    name: str | None = None,
    outtype: str = "f16",
    pretokenizer: str | None = None,
    sources: Path | LlamaSources | None = None,
    threads: int | None = None,
) -> dict[str, Path]:
    """Convert to `<out_dir>/<name>-<outtype>.gguf`, then quantize to `<name>-<KIND>.gguf` each.

    Returns {"f16": path, "Q4_K_M": path, …}. `name` defaults to the model folder's name.
    """
    from runtime.engine.llamacpp import quant_ftype, quantize

    for kind in quantizations:
        quant_ftype(kind)  # reject a bad name before the slow conversion
    hf_dir = _check_hf_dir(hf_dir)
    name = name or hf_dir.name
    out_dir = Path(out_dir)
    base = convert_hf_to_gguf(
        hf_dir,
        out_dir / f"{name}-{outtype}.gguf",
        outtype=outtype,
        pretokenizer=pretokenizer,
        sources=sources,
    )
    outputs = {outtype: base}
    for kind in quantizations:
        kind = kind.upper()
        outputs[kind] = quantize(base, out_dir / f"{name}-{kind}.gguf", kind, threads=threads)
    return outputs


def _converter_env(sources: LlamaSources) -> dict[str, str]:
    """gguf-py first (the pip `gguf` may be older), then this project; offline flags on."""
    env = dict(os.environ)
    env.update(OFFLINE_ENVIRONMENT)
    env.pop("NO_LOCAL_GGUF", None)
    paths = [str(sources.gguf_py), str(_PROJECT_ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _tail(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return "\n".join(lines[-_STDERR_TAIL:]) or "(no output)"


def _failure_hint(stderr: str) -> str:
    if "pre-tokenizer was not recognized" in stderr:
        return (
            "the tokenizer's pre-tokenizer is unknown to llama.cpp; if it is a byte-level BPE "
            "with GPT-2 style splitting (e.g. trained locally), pass --pretokenizer gpt-2"
        )
    if "is not supported" in stderr or "not supported!" in stderr:
        return "this llama.cpp version cannot convert that architecture"
    return "see the converter's messages above"


# --- inside the subprocess -------------------------------------------------------------------


def _patch_pretokenizer(override: str) -> None:
    """Make the converter fall back to `override` for pre-tokenizer hashes it does not know."""
    from conversion.base import TextModel, logger

    recognize = TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self: TextModel, tokenizer: object) -> str:
        try:
            return recognize(self, tokenizer)
        except NotImplementedError:
            logger.warning("unknown BPE pre-tokenizer: using %r as requested", override)
            return override

    TextModel.get_vocab_base_pre = get_vocab_base_pre


def _run_converter(argv: list[str]) -> None:
    """`python -m training.gguf_convert SOURCES [--pretokenizer NAME] [--lora] -- ARGS…`.

    `--lora` runs llama.cpp's LoRA converter instead of the model converter.
    """
    if "--" not in argv:
        raise SystemExit(
            "usage: python -m training.gguf_convert SOURCES [--pretokenizer P] [--lora] -- …"
        )
    split = argv.index("--")
    ours, theirs = argv[:split], argv[split + 1 :]
    sources = LlamaSources(Path(ours[0]))
    # `sys.path[0]` must be the scripts' directory: the converter finds `conversion` there and
    # resolves its bundled vocabularies relative to it.
    sys.path[:0] = [str(sources.root), str(sources.gguf_py)]
    if "--pretokenizer" in ours:
        _patch_pretokenizer(ours[ours.index("--pretokenizer") + 1])
    script = sources.lora_converter if "--lora" in ours else sources.converter
    sys.argv = [str(script), *theirs]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    _run_converter(sys.argv[1:])

"""Low-level llama.cpp access (through llama-cpp-python): loading, quantizing, logging, build info.

Together with its siblings in `runtime.engine`, this is the only code that imports `llama_cpp`.
It is imported inside the functions, so importing this module costs nothing and `hearth --help`
stays fast. The chat engine, doctor and the training export go through here:
- `load_model` checks the file before llama.cpp sees it and turns failures into `ModelError`s;
- `quantize` runs llama.cpp's own quantizer (`llama_model_quantize`), all-or-nothing;
- `silence_llama_logs` routes llama.cpp's C-level logging into `logging`, since llama.cpp
  otherwise writes to file descriptor 2 (and so over the TUI) even with `verbose=False`.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.engine.errors import AdapterMismatchError
from runtime.errors import ConversionError, ModelError

if TYPE_CHECKING:
    import llama_cpp

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"

# Quantization names users type → llama.cpp's `LLAMA_FTYPE_*` constant names.
QUANT_FTYPES: dict[str, str] = {
    "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "Q5_K_M": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "Q6_K": "LLAMA_FTYPE_MOSTLY_Q6_K",
    "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "F16": "LLAMA_FTYPE_MOSTLY_F16",
}

DEFAULT_CONTEXT = 4096

# ggml_log_level values in ggml.h of the pinned llama.cpp: NONE=0, DEBUG=1, INFO=2, WARN=3,
# ERROR=4, CONT=5 (continues the previous line). llama-cpp-python's own callback still uses an
# older numbering in which 3 meant ERROR, which is why warnings reach stderr with verbose=False.
_GGML_LOG_WARN = 3
_GGML_LOG_ERROR = 4
_GGML_LOG_CONT = 5

_log_lock = threading.Lock()
# The installed ctypes callback. llama.cpp keeps only a C pointer to it, so this reference is
# what stops Python from garbage-collecting it (which would crash at llama.cpp's next log line).
_log_callback: Any = None
_last_level = 0
# The last few ERROR lines, so a failed quantize/load can say what llama.cpp complained about.
_recent_errors: collections.deque[str] = collections.deque(maxlen=8)


def silence_llama_logs() -> None:
    """Route llama.cpp's logging into `logging`: ERROR lines at ERROR, warnings at DEBUG, the rest
    dropped. Idempotent; also applies to everything llama.cpp logs later (loads, quantizing)."""
    global _log_callback
    with _log_lock:
        if _log_callback is not None:
            return
        import llama_cpp

        @llama_cpp.llama_log_callback
        def _forward(level: int, text: bytes | None, _user_data: ctypes.c_void_p) -> None:
            global _last_level
            if level != _GGML_LOG_CONT:
                _last_level = level
            if _last_level not in (_GGML_LOG_WARN, _GGML_LOG_ERROR) or not text:
                return
            line = text.decode("utf-8", errors="replace").rstrip()
            if not line:
                return
            if _last_level == _GGML_LOG_ERROR:
                _recent_errors.append(line)
                logger.error("llama.cpp: %s", line)
            else:
                logger.debug("llama.cpp: %s", line)

        llama_cpp.llama_log_set(_forward, ctypes.c_void_p(0))
        _log_callback = _forward


def _first_llama_error() -> str | None:
    """The first ERROR line since the last clear: llama.cpp logs the cause first, then summaries."""
    return _recent_errors[0] if _recent_errors else None


def check_gguf_file(path: Path, *, what: str = "model") -> Path:
    """Return `path` resolved if it is a readable GGUF file, else raise `ModelError` naming it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(
            f"{what} file not found: {path}",
            hint="check the path, or list the models Hearth knows with `hearth model list`",
        )
    if path.is_dir():
        raise ModelError(
            f"{what} path is a directory, not a GGUF file: {path}",
            hint="point to the .gguf file itself; convert a Hugging Face folder with "
            "`hearth convert`",
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(
            f"cannot read {what} file {path}: {exc.strerror or exc}",
            hint="check the file's permissions",
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{what} file is not a GGUF file: {path}",
            hint="llama.cpp needs .gguf files; convert a Hugging Face model with `hearth convert`",
        )
    return path.absolute()


def load_model(
    path: Path,
    *,
    n_ctx: int = DEFAULT_CONTEXT,
    n_threads: int | None = None,
    n_gpu_layers: int = -1,
    lora_path: Path | None = None,
    lora_scale: float = 1.0,
    seed: int | None = None,
) -> llama_cpp.Llama:
    """Load a GGUF model (and optionally a GGUF LoRA adapter) into llama.cpp, quietly.

    `n_gpu_layers=-1` offloads every layer when the build supports a GPU and is ignored otherwise;
    `seed=None` means a random seed per load.
    """
    model_file = check_gguf_file(path)
    adapter_file = check_gguf_file(lora_path, what="LoRA adapter") if lora_path else None
    silence_llama_logs()
    import llama_cpp

    _recent_errors.clear()
    try:
        with _model_defaults(use_extra_bufts=not _cpu_has_amx()):
            llm = llama_cpp.Llama(
                model_path=str(model_file),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                seed=llama_cpp.LLAMA_DEFAULT_SEED if seed is None else seed,
                verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        detail = _first_llama_error() or str(exc)
        raise ModelError(
            f"llama.cpp could not load {model_file}: {detail}",
            hint=f"the file may be damaged, or its architecture may be unsupported by this "
            f"llama.cpp version (llama-cpp-python {llama_cpp.__version__}); try upgrading Hearth",
        ) from exc
    if adapter_file is not None:
        try:
            apply_lora(llm, adapter_file, lora_scale)
        except ModelError:
            llm.close()
            raise
    return llm


_defaults_lock = threading.Lock()


@contextlib.contextmanager
def _model_defaults(*, use_extra_bufts: bool) -> Iterator[None]:
    """Load models with llama.cpp's `use_extra_bufts` as given: llama-cpp-python 0.3.36 has no
    argument for it, and `Llama()` starts from `llama_model_default_params()`, so that function
    is wrapped while a model loads."""
    import llama_cpp.llama_cpp as bindings

    if use_extra_bufts:
        yield
        return
    with _defaults_lock:
        original = bindings.llama_model_default_params

        def defaults() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        bindings.llama_model_default_params = defaults
        try:
            yield
        finally:
            bindings.llama_model_default_params = original


@functools.cache
def _cpu_has_amx() -> bool:
    """True when llama.cpp runs with its AMX int8 kernels (Intel Xeon since Sapphire Rapids).

    With them on, llama.cpp's extra buffer types (weights repacked for AMX) crashed decoding of
    Q4_K_M models here: a segmentation fault in `llama_decode` on the first token, for the
    tests' tiny Llama and the 105M benchmark Llama alike (llama-cpp-python 0.3.36 built from
    source on a Xeon with AMX, 2026-12-03), while F16 and every model with `use_extra_bufts`
    off ran, and the same build without AMX (AMD EPYC) had run them all. So on such a CPU the
    weights stay as the file has them: slower prompt processing, no crash."""
    import llama_cpp

    llama_cpp.llama_backend_init()
    return "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode(errors="replace")


def apply_lora(llm: llama_cpp.Llama, adapter: Path, scale: float) -> None:
    """Load the GGUF LoRA `adapter` for `llm`'s model and use it at `scale`.

    Done here rather than through `Llama(lora_path=…)`: llama-cpp-python 0.3.36 compares the
    returned pointer with None, misses llama.cpp's NULL for a failed load (e.g. tensor shapes
    of another base model) and crashes later. Loading the base without `lora_path` also keeps
    its weights memory-mapped (llama-cpp-python turns mmap off when given an adapter).
    """
    import llama_cpp

    _recent_errors.clear()
    handle = llama_cpp.llama_adapter_lora_init(llm._model.model, os.fsencode(adapter))
    if not handle:  # a NULL pointer object, which is falsy but not None
        detail = _first_llama_error() or "no details"
        raise AdapterMismatchError(
            f"llama.cpp could not apply the LoRA adapter {adapter} to {llm.model_path}: {detail}",
            hint="the adapter must be a GGUF LoRA made for this base model; remove it with "
            "`hearth companion edit --no-adapter`",
        )
    # Freed before the context and model (ExitStack unwinds in reverse order of registration).
    llm._stack.callback(llama_cpp.llama_adapter_lora_free, handle)
    adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
    scales = (ctypes.c_float * 1)(scale)
    if llama_cpp.llama_set_adapters_lora(llm._ctx.ctx, adapters, 1, scales):
        raise AdapterMismatchError(
            f"llama.cpp could not use the LoRA adapter {adapter} with {llm.model_path}",
            hint="the adapter must be a GGUF LoRA made for this base model",
        )
    llm.lora_path, llm.lora_scale = str(adapter), scale


def system_info() -> dict[str, object]:
    """What llama.cpp was built with: version, CPU/GPU feature line, and GPU offload support."""
    silence_llama_logs()
    import llama_cpp

    features = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return {
        "llama_cpp_python": llama_cpp.__version__,
        "system_info": features.strip(),
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
    }


def quant_ftype(kind: str) -> int:
    """The `LLAMA_FTYPE_*` value for a quantization name such as "Q4_K_M" (case-insensitive)."""
    name = QUANT_FTYPES.get(kind.strip().upper())
    if name is None:
        raise ConversionError(
            f"unknown quantization {kind!r}",
            hint="choose one of " + ", ".join(QUANT_FTYPES),
        )
    import llama_cpp

    return int(getattr(llama_cpp, name))


def quantize(src: Path, dst: Path, kind: str = "Q4_K_M", threads: int | None = None) -> Path:
    """Quantize GGUF `src` into `dst` with llama.cpp. `dst` appears only when complete.

    K-quants (Q4_K_M, Q5_K_M, Q6_K) work on blocks of 256 values, so tensor rows should be
    multiples of 256; llama.cpp falls back to other types for tensors where they are not.
    """
    ftype = quant_ftype(kind)
    try:
        src = check_gguf_file(src)
    except ModelError as exc:
        raise ConversionError(exc.message, hint=exc.hint) from exc
    dst = Path(dst).expanduser().absolute()
    dst.parent.mkdir(parents=True, exist_ok=True)
    silence_llama_logs()
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads or 0  # 0: llama.cpp uses every hardware thread
    # llama.cpp creates the file itself (so it gets the usual permissions); a unique name.
    tmp_name = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    _recent_errors.clear()
    try:
        status = llama_cpp.llama_model_quantize(
            os.fsencode(src), os.fsencode(tmp_name), ctypes.byref(params)
        )
        if status != 0:
            detail = _first_llama_error() or f"status {status}"
            raise ConversionError(
                f"llama.cpp could not quantize {src} to {kind.upper()}: {detail}",
                hint="check that the source is an unquantized (f16/bf16/f32) GGUF and that the "
                "disk has room",
            )
        os.replace(tmp_name, dst)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return dst


def load_vocab(path: Path) -> llama_cpp.Llama:
    """Load only a GGUF's vocabulary and metadata (no weights): enough to tokenize and to read
    the chat template, in well under a second even for a large model."""
    model_file = check_gguf_file(path)
    silence_llama_logs()
    import llama_cpp

    _recent_errors.clear()
    try:
        return llama_cpp.Llama(model_path=str(model_file), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        detail = _first_llama_error() or str(exc)
        raise ModelError(
            f"llama.cpp could not read the vocabulary of {model_file}: {detail}",
            hint="the file may be damaged; try another model file",
        ) from exc

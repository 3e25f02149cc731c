"""The llama.cpp engine: the only package that imports `llama_cpp` (lazily, inside functions).

- `engine`      Engine: load a GGUF (+ LoRA adapter), tokenize, render the chat template, stream
- `generation`  one streamed reply, its cancel event and what it cost (llama.cpp perf counters)
- `template`    the model's chat template (GGUF metadata) and what it accepts
- `adapters`    base identity of a model, adapter manifests, the adapter-to-base check
- `llamacpp`    low level: quiet logging, checked loading, quantizing, build info

An adapter is checked against the base model before llama.cpp applies it, by the base
identity its manifest records (architecture, layer count, widths, vocabulary size and a hash
of the vocabulary; defined in `adapters`, which whoever exports an adapter must use too).

Importing this package does not import llama_cpp, so `hearth --help` stays fast.
"""

from runtime.engine.adapters import (
    BaseIdentity,
    base_identity,
    check_adapter,
    manifest_path,
    read_adapter_manifest,
    write_adapter_manifest,
)
from runtime.engine.engine import Engine, EngineConfig, sampling_arguments
from runtime.engine.errors import AdapterMismatchError, TemplateError
from runtime.engine.generation import FinishReason, Generation, GenerationStats
from runtime.engine.template import ChatMessage, ChatTemplate, TemplateTraits

__all__ = [
    "AdapterMismatchError",
    "BaseIdentity",
    "ChatMessage",
    "ChatTemplate",
    "Engine",
    "EngineConfig",
    "FinishReason",
    "Generation",
    "GenerationStats",
    "TemplateError",
    "TemplateTraits",
    "base_identity",
    "check_adapter",
    "manifest_path",
    "read_adapter_manifest",
    "sampling_arguments",
    "write_adapter_manifest",
]

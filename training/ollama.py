"""An Ollama Modelfile for the tuned companion, so it runs in Ollama too.

    hearth train export --companion Mira --ollama
    ollama create mira -f <companion>/adapters/ollama/Modelfile

Ollama does not run the model's Jinja chat template; it needs the same format written as a Go
template. Hearth writes one for the template families it recognizes in the base GGUF's
`tokenizer.chat_template` — ChatML (`<|im_start|>`: Qwen, many fine-tunes, Hearth's tiny test
model) and Llama 3 (`<|start_header_id|>`) — and refuses others with a clear error rather than
guess (Gemma, Mistral, Phi and the rest: write the TEMPLATE by hand from Ollama's library).

The SYSTEM prompt is the persona and core memories as Hearth renders them now (a snapshot:
later edits to core memories do not reach Ollama); the PARAMETERs are the companion's stop
token and generation settings. The template ignores system messages inside the conversation,
so the SYSTEM prompt appears once whether or not Ollama also passes it as a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runtime.companion import Companion
from runtime.errors import HearthError
from runtime.files import atomic_write_text


class UnsupportedTemplateError(HearthError):
    """The base model's chat template is of a family Hearth cannot write for Ollama."""


@dataclass(frozen=True)
class TemplateFamily:
    """A chat format as an Ollama Go template, with its end-of-turn stop tokens."""

    name: str
    marker: str
    """Text whose presence in the Jinja template identifies the family."""
    template: str
    stops: tuple[str, ...]


CHATML = TemplateFamily(
    "ChatML",
    "<|im_start|>",
    "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    '{{ range .Messages }}{{ if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n'
    "<|im_start|>assistant\n"
    '{{ else if eq .Role "assistant" }}{{ .Content }}<|im_end|>\n{{ end }}{{ end }}',
    ("<|im_end|>", "<|im_start|>"),
)

LLAMA3 = TemplateFamily(
    "Llama 3",
    "<|start_header_id|>",
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{ end }}"
    '{{ range .Messages }}{{ if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>\n\n'
    "{{ .Content }}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    '{{ else if eq .Role "assistant" }}{{ .Content }}<|eot_id|>{{ end }}{{ end }}',
    ("<|eot_id|>", "<|start_header_id|>"),
)

FAMILIES = (CHATML, LLAMA3)


def template_family(chat_template: str | None, *, model: Path) -> TemplateFamily:
    """The family of the Jinja `chat_template` of `model`, or an error saying what is supported."""
    for family in FAMILIES:
        if chat_template and family.marker in chat_template:
            return family
    supported = ", ".join(family.name for family in FAMILIES)
    what = "has no chat template" if not chat_template else "uses a chat template family"
    raise UnsupportedTemplateError(
        f"{model.name} {what} that Hearth cannot write for Ollama (supported: {supported})",
        hint="export without --ollama, and write the Modelfile's TEMPLATE by hand from the "
        "model's page in the Ollama library",
    )


def _quoted(text: str) -> str:
    # A Modelfile's triple-quoted value ends at the first `"""`.
    return '"""' + text.replace('"""', '" " "') + '"""'


def modelfile_text(
    family: TemplateFamily,
    companion: Companion,
    *,
    model: Path,
    adapter: Path | None,
    system: str,
    context_size: int | None = None,
) -> str:
    """The Modelfile: FROM the model, ADAPTER, TEMPLATE, SYSTEM, PARAMETERs."""
    settings = companion.generation
    lines = [
        f"# {companion.name}, exported by Hearth for Ollama: ollama create NAME -f Modelfile",
        f"FROM {model.absolute()}",
    ]
    if adapter is not None:
        lines.append(f"ADAPTER {adapter.absolute()}")
    lines += [f"TEMPLATE {_quoted(family.template)}", f"SYSTEM {_quoted(system)}"]
    lines += [f'PARAMETER stop "{stop}"' for stop in family.stops]
    parameters = {
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "min_p": settings.min_p,
        "repeat_penalty": settings.repeat_penalty,
        "num_predict": settings.max_tokens,
        "num_ctx": settings.context_size or context_size,
        "seed": settings.seed,
    }
    lines += [f"PARAMETER {key} {value}" for key, value in parameters.items() if value is not None]
    return "\n".join(lines) + "\n"


def write_modelfile(
    out_dir: Path,
    companion: Companion,
    *,
    model: Path,
    adapter: Path | None,
    chat_template: str | None,
    context_size: int | None = None,
) -> Path:
    """Write `out_dir/Modelfile` (atomically) for `model` (+ `adapter`) and the companion."""
    from runtime.chat.setup import USER_NAME
    from runtime.prompt.persona import system_sections, system_text

    family = template_family(chat_template, model=model)
    system = system_text(system_sections(companion, user=USER_NAME))
    text = modelfile_text(
        family, companion, model=model, adapter=adapter, system=system, context_size=context_size
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "Modelfile"
    atomic_write_text(target, text)
    return target

"""Prompt assembly: what the model reads each turn, laid out so llama.cpp's KV cache pays off.

- `assemble`  PromptBuilder: persona + core memories, history, per-turn parts, newest turn
- `persona`   the persona card and core memories as text; {{char}}/{{user}} placeholders
- `layout`    where each part goes in the model's chat template
- `window`    which history fits, dropped in blocks so the prompt's prefix stays stable
- `report`    the context report: every part with its tokens, and the memories used
"""

from runtime.prompt.assemble import (
    ContextTooSmallError,
    PerTurn,
    Prompt,
    PromptBuilder,
    PromptModel,
)
from runtime.prompt.layout import Layout
from runtime.prompt.persona import greeting, substitute
from runtime.prompt.report import ContextReport, MemoryUse, ReportPart

__all__ = [
    "ContextReport",
    "ContextTooSmallError",
    "Layout",
    "MemoryUse",
    "PerTurn",
    "Prompt",
    "PromptBuilder",
    "PromptModel",
    "ReportPart",
    "greeting",
    "substitute",
]

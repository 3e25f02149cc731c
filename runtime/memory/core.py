"""Core memories: labelled blocks, each within its character budget, always in the prompt.

They live in companion.toml (`[[core_memories]]`: label, text, limit), so a person can also
edit them by hand. Every change made through Hearth is logged in the transcript file with the
text before and after and the time (`hearth memory history`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from runtime.companion import CoreMemory
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.errors import NotFoundError, UsageError
from runtime.store import TranscriptStore

DEFAULT_LIMIT = 2000
LIST_HINT = "see the blocks with `hearth memory list`"


@dataclass
class CoreMemories:
    """Edits one companion's core memory blocks and logs each change."""

    registry: CompanionRegistry
    entry: CompanionEntry
    store: TranscriptStore

    @property
    def blocks(self) -> list[CoreMemory]:
        """The blocks, in prompt order."""
        return list(self.entry.companion.core_memories)

    def get(self, label: str) -> CoreMemory:
        """The block with this label (NotFoundError when there is none)."""
        for block in self.blocks:
            if block.label == label:
                return block
        known = ", ".join(b.label for b in self.blocks) or "none yet"
        raise NotFoundError(f"no core memory '{label}' (known: {known})", hint=LIST_HINT)

    def has(self, label: str) -> bool:
        """True when a block with this label exists."""
        return any(block.label == label for block in self.blocks)

    def add(
        self, label: str, text: str, limit: int | None = None, action: str = "core.add"
    ) -> CoreMemory:
        """Append `text` as a new line of block `label`, creating the block when needed."""
        text = text.strip()
        if not text:
            raise UsageError("the memory text is empty", hint="say what to remember")
        if self.has(label):
            old = self.get(label)
            joined = f"{old.text}\n{text}" if old.text else text
            return self._replace(label, joined, limit or old.limit, action)
        return self._replace(label, text, limit or DEFAULT_LIMIT, action)

    def edit(self, label: str, text: str | None = None, limit: int | None = None) -> CoreMemory:
        """Replace block `label`'s text and/or limit."""
        old = self.get(label)
        if text is None and limit is None:
            raise UsageError("nothing to change", hint="give the new text, or --limit N")
        return self._replace(label, old.text if text is None else text.strip(),
                             limit or old.limit, "core.edit")  # fmt: skip

    def forget(self, label: str) -> CoreMemory:
        """Remove block `label`; returns what it was."""
        old = self.get(label)
        companion = self.entry.companion
        blocks = [b for b in companion.core_memories if b.label != label]
        self.entry = self.registry.save(
            self.entry, companion.model_copy(update={"core_memories": blocks})
        )
        self.store.log_memory_event("core.forget", label, old.text, None)
        return old

    def set_blocks(self, blocks: list[CoreMemory], action: str) -> None:
        """Replace every block at once (a memory letter), logging each one that changed."""
        before = {b.label: b.text for b in self.blocks}
        companion = self.entry.companion
        self.entry = self.registry.save(
            self.entry, companion.model_copy(update={"core_memories": blocks})
        )
        for block in blocks:
            if before.get(block.label) != block.text:
                self.store.log_memory_event(
                    action, block.label, before.get(block.label), block.text
                )

    def _replace(self, label: str, text: str, limit: int, action: str) -> CoreMemory:
        try:
            block = CoreMemory(label=label, text=text, limit=limit)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise UsageError(
                f"core memory '{label}': {problem}",
                hint=f"shorten it, or raise the budget: hearth memory edit {label} --limit N",
            ) from exc
        companion = self.entry.companion
        before = next((b.text for b in companion.core_memories if b.label == label), None)
        blocks = [block if b.label == label else b for b in companion.core_memories]
        if before is None:
            blocks.append(block)
        self.entry = self.registry.save(
            self.entry, companion.model_copy(update={"core_memories": blocks})
        )
        self.store.log_memory_event(action, label, before, text)
        return block

"""Persona updates from an import (custom instructions, cards) applied to a companion.

A new companion takes every field the export gives. An existing companion is never overwritten:
a field or core memory block is filled only where it is empty, so what the user wrote or edited
in Hearth wins; a different value in the export is reported as a warning instead. Re-importing
the same export therefore changes nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from runtime.companion import Companion, CoreMemory, Persona
from runtime.importers.base import ImportWarning, PersonaUpdate

CORE_LIMIT_DEFAULT = 2000
CORE_LIMIT_MAX = 100_000
_PERSONA_FIELDS = frozenset(Persona.model_fields)


class PersonaPlan:
    """Every PersonaUpdate of a run, merged (a later non-empty value wins)."""

    def __init__(self) -> None:
        """Nothing learned yet."""
        self.fields: dict[str, Any] = {}
        self.core: dict[str, str] = {}
        self.warnings: list[ImportWarning] = []

    def add(self, update: PersonaUpdate) -> None:
        """Merge one update; unknown field names are ignored with a warning."""
        for key, value in update.fields.items():
            if key not in _PERSONA_FIELDS:
                self.warnings.append(ImportWarning(None, f"persona field {key!r} is unknown"))
            elif value not in (None, "", [], {}):
                self.fields[key] = value
        for label, text in update.core_memories.items():
            if isinstance(text, str) and text.strip():
                self.core[label] = text.strip()

    @property
    def name(self) -> str | None:
        """The companion's name, when the export gives one."""
        name = self.fields.get("name")
        return name.strip() if isinstance(name, str) and name.strip() else None

    def new_companion(self, name: str) -> tuple[Companion, bool]:
        """A companion named `name` with everything learned; True when anything was learned."""
        fields = {k: v for k, v in self.fields.items() if k != "name"}
        companion = Companion(persona=Persona(name=name))
        updated, changed = self.apply(companion, fields=fields)
        return updated, changed

    def apply(
        self, companion: Companion, fields: dict[str, Any] | None = None
    ) -> tuple[Companion, bool]:
        """Fill the companion's empty fields and core memories; returns (companion, changed)."""
        fields = dict(self.fields if fields is None else fields)
        fields.pop("name", None)  # an existing companion keeps its name
        persona = companion.persona.model_dump()
        changed = False
        for key, value in fields.items():
            current = persona.get(key)
            if key == "extensions" and isinstance(value, dict):
                merged = {**value, **(current or {})}
                changed |= merged != current
                persona[key] = merged
            elif current in (None, "", [], {}):
                persona[key], changed = value, True
            elif current != value:
                self.warnings.append(
                    ImportWarning(None, f"kept the companion's own {key}; the export has another")
                )
        blocks = [block.model_copy() for block in companion.core_memories]
        for label, text in self.core.items():
            block = next((b for b in blocks if b.label == label), None)
            if block is not None and block.text.strip():
                if block.text.strip() != text:
                    self.warnings.append(
                        ImportWarning(
                            None, f"kept core memory {label!r}; the export has another version"
                        )
                    )
                continue
            limit = min(max(CORE_LIMIT_DEFAULT, len(text)), CORE_LIMIT_MAX)
            if len(text) > limit:
                self.warnings.append(ImportWarning(None, f"core memory {label!r} is too long"))
                continue
            if block is not None:
                blocks.remove(block)
            blocks.append(CoreMemory(label=_label(label), text=text, limit=limit))
            changed = True
        if not changed:
            return companion, False
        try:
            updated = Companion.model_validate(
                {**companion.model_dump(), "persona": persona, "core_memories": blocks}
            )
        except ValidationError as exc:
            self.warnings.append(
                ImportWarning(None, f"persona not updated: {exc.errors()[0]['msg']}")
            )
            return companion, False
        return updated, True


def _label(label: str) -> str:
    """A core memory label that passes validation (word characters, space, dot, dash)."""
    cleaned = "".join(ch if ch.isalnum() or ch in " ._-" else "-" for ch in label).strip()
    return cleaned[:64] or "imported"

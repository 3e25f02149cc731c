"""Engine errors a user can fix: an adapter for another base, a template that cannot be used."""

from __future__ import annotations

from runtime.errors import ModelError


class AdapterMismatchError(ModelError):
    """A LoRA adapter was made for another base model than the one it is applied to."""


class TemplateError(ModelError):
    """The model's chat template cannot render the conversation."""


class ModelClosedError(ModelError):
    """The model was used after it was closed (Hearth quitting, or a model change)."""

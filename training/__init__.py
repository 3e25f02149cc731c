"""Hearth training: datasets from transcripts, LoRA fine-tuning, GGUF conversion and export."""

import warnings

# peft 0.21 and trl 1.16 still read transformers' deprecated `is_gradient_checkpointing`
# (peft on every model it wraps); the FutureWarning says nothing a Hearth user can act on.
warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*", category=FutureWarning)

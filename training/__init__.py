"""Hearth training: datasets from transcripts, LoRA fine-tuning, GGUF conversion and export."""

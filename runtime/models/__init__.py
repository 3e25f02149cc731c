"""Models on disk and how they get there: GGUF header reading, discovery, the download catalog
and resumable, verified downloads (`hearth model …`).

Nothing here imports llama_cpp; the engine loads what discovery finds.
"""

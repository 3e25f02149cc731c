"""Long-term memory: turns of the transcript, stored memories and core memories, searchable by
meaning and by words, offline.

    from runtime.memory import open_memory
    memory = open_memory(entry)        # the companion's memory (runtime.companions.CompanionEntry)
    memory.index_new()                 # after each live turn (cheap: only what is new)
    memory.retriever()                 # a runtime.retrieval.Retriever for prompt assembly
    index_companion(entry)             # after an import: index, and a language warning

Modules: `embedder` (offline sentence embeddings via onnxruntime, graph from `onnx_graph`,
written by `onnx_proto`, int8 scales from `calibration`), `vectors` (Chroma; `exact` search in 8
bits (`quantized`) up to 250,000 vectors, discounting crowded vectors by their `density`),
`items` (SQLite: items, FTS5 keyword index, state; `episodes`, stretches of sessions searched by
keyword as one; `fts`, the queries they share), `directory` (the two together, format and model
checked), `lock` (one process at a time), `turns` (what is remembered), `indexer` (incremental
indexing), `rank` (hybrid ranking; `timeq` and `timewords` read time in queries, `keywords` the
words), `service` (the `CompanionMemory` API), `retriever` (prompt assembly's view), `core`
(core memory blocks and their history), `letter` (memory letters), `language` (language mix vs
embedding model). Nothing heavy is imported until memory is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.memory.rank import RankSettings
    from runtime.memory.service import (
        CompanionMemory,
        IndexReport,
        index_companion,
        open_memory,
        rebuild_memory,
    )

__all__ = [
    "CompanionMemory",
    "IndexReport",
    "RankSettings",
    "index_companion",
    "open_memory",
    "rebuild_memory",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import runtime.memory` must stay cheap for the CLI's --help.
    if name == "RankSettings":
        from runtime.memory.rank import RankSettings

        return RankSettings
    if name in __all__:
        from runtime.memory import service

        return getattr(service, name)
    raise AttributeError(name)

"""Importers: vendor exports (ChatGPT, Claude, SillyTavern, cards, Gemini, text, Hearth JSONL) →
normalized sessions, memories and persona updates (see `runtime.importers.base`), which
`runtime.importers.pipeline` writes into the transcript store."""

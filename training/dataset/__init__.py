"""Transcript → SFT dataset: `hearth train dataset` (JSONL in OpenAI `messages` format).

    sessions ─ conversations ─ clean ─ dedup ─ windows ─ (cap) ─ split ─ writer + stats
                    └──────────────────────── pairs (regenerated replies) ─┘

- `options`        DatasetOptions: every choice, with the CLI's defaults
- `conversations`  the active path of each session; the replies the user regenerated away
- `clean`          model filter, boilerplate, personal data, speaker merge → exchanges; counts
- `boilerplate`    default patterns, `--patterns FILE`; `pii` e-mail and phone scrub
- `dedup`          an exchange is trained on once across the whole transcript
- `tokens`         counting tokens with the model's tokenizer and chat template
- `windows`        exchanges → windows of at most `--max-length` tokens, with overlap; the cap
- `pairs`          kept-vs-regenerated preference pairs
- `split`          eval split by time, whole conversations
- `stats` `writer` the report; files written whole or not at all
- `build`          all of the above in order
"""

from training.dataset.build import build_dataset, system_prompt
from training.dataset.options import DatasetOptions

__all__ = ["DatasetOptions", "build_dataset", "system_prompt"]

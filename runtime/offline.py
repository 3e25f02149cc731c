"""Offline by default: environment flags that stop libraries from phoning home.

Hearth never touches the network except in `hearth model pull` (and fetching converter
sources), which the user runs explicitly. Libraries we depend on would otherwise:
- Hugging Face hub / transformers / datasets: look up models online;
- chromadb: send anonymized telemetry (also switched off per client in the memory code);
- onnxruntime (a chromadb dependency): write a device id under ~/.cache/Microsoft and queue
  a telemetry event unless ORT_DISABLE_TELEMETRY is set *before* it is imported.
So these are set when `runtime` is imported, which happens before any of those libraries.
"""

from __future__ import annotations

import os

# Forced, not defaulted: a stray variable in the user's shell must not turn telemetry back on.
OFFLINE_ENVIRONMENT: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
}


def apply_offline_environment() -> None:
    """Set every offline/telemetry flag in this process (and so in its children)."""
    os.environ.update(OFFLINE_ENVIRONMENT)


def offline_status() -> dict[str, object]:
    """What `hearth doctor` reports: each flag, whether it holds, and the overall verdict."""
    flags = {name: os.environ.get(name) for name in OFFLINE_ENVIRONMENT}
    ok = all(os.environ.get(name) == value for name, value in OFFLINE_ENVIRONMENT.items())
    return {"offline": ok, "flags": flags}

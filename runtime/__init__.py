"""Hearth runtime: importers, transcript store, memory, engine, prompt, TUI and the `hearth` CLI.

Importing this package switches every library Hearth uses to offline, telemetry-free behaviour
before any of them is imported (see `runtime.offline`).
"""

from runtime.offline import apply_offline_environment

__version__ = "0.1.0"

apply_offline_environment()

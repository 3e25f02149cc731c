"""What every CLI command receives: the data home and the settings, built once per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import click

from runtime.config import Config, load_config
from runtime.paths import DataHome


@dataclass
class CliContext:
    """Shared state of one `hearth` invocation. The data home is created on first use."""

    home: DataHome
    _config: Config | None = field(default=None, repr=False)

    @cached_property
    def config(self) -> Config:
        return self._config or load_config(self.home.config_file)

    def ensured_home(self) -> DataHome:
        """The data home, created (mode 0700) if needed. Call before writing anything."""
        return self.home.ensure()


pass_context = click.make_pass_decorator(CliContext)

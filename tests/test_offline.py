"""Offline by default: the socket guard really blocks, and importing runtime sets every flag."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from pytest_socket import SocketBlockedError

from runtime.offline import OFFLINE_ENVIRONMENT, offline_status


def test_outbound_socket_is_blocked() -> None:
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("93.184.215.14", 80), timeout=1)


def test_loopback_is_blocked_too_unless_a_test_asks() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_offline_flags_are_set_in_process() -> None:
    assert offline_status()["offline"] is True
    for name, value in OFFLINE_ENVIRONMENT.items():
        assert os.environ[name] == value


def test_importing_runtime_forces_flags_even_if_the_shell_disagrees() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "ANONYMIZED_TELEMETRY": "True"}
    code = (
        "import os, runtime\n"
        "print(os.environ['HF_HUB_OFFLINE'], os.environ['ANONYMIZED_TELEMETRY'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["1", "False"]


def test_cli_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from runtime.cli import cli\n"
        "heavy = [m for m in ('llama_cpp', 'chromadb', 'torch', 'transformers', 'textual.app',"
        " 'onnxruntime') if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"

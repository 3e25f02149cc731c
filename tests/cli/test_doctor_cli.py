"""`hearth doctor`: reports versions, the data home and its mode, models, llama.cpp, offline."""

from __future__ import annotations

import json
from pathlib import Path


def test_doctor_json_before_the_home_exists(run_cli, isolated_home: Path) -> None:
    result = run_cli("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["data_home"] == {
        "path": str(isolated_home),
        "exists": False,
        "mode": None,
        "private": False,
        "companions": [],
    }
    assert not isolated_home.exists(), "doctor must not create the data home"
    assert report["offline"]["offline"] is True
    assert report["packages"]["llama-cpp-python"] == "0.3.36"
    assert report["models"] == []
    assert "error" not in report["llama_cpp"]
    assert isinstance(report["llama_cpp"]["gpu_offload"], bool)


def test_doctor_reports_mode_companions_and_models(run_cli, isolated_home: Path) -> None:
    run_cli("companion", "new", "Mira")
    isolated_home.chmod(0o755)
    (isolated_home / "models").mkdir()
    (isolated_home / "models" / "broken.gguf").write_bytes(b"nope")
    report = json.loads(run_cli("doctor", "--json").stdout)
    assert report["data_home"]["mode"] == "0755"
    assert report["data_home"]["private"] is False
    assert report["data_home"]["companions"] == ["mira"]
    assert [m["name"] for m in report["models"]] == ["broken"]
    human = run_cli("doctor").stdout
    assert f"Data home: {isolated_home} (mode 0755)  (WARNING: readable by others)" in human
    assert "Offline: yes" in human
    gpu = "yes" if report["llama_cpp"]["gpu_offload"] else "no"
    assert f"llama.cpp: 0.3.36 (GPU offload: {gpu})" in human

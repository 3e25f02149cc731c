"""runtime.engine.llamacpp without a model: clear errors for bad paths and names, cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runtime.engine.llamacpp import QUANT_FTYPES, load_model, quant_ftype, quantize, system_info
from runtime.errors import ConversionError, ModelError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_module_does_not_import_llama_cpp():
    code = "import sys, runtime.engine.llamacpp; sys.exit('llama_cpp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False)
    assert result.returncode == 0


def test_missing_model_file_names_it(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError) as caught:
        load_model(missing)
    assert caught.value.message == f"model file not found: {missing}"
    assert caught.value.hint


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="is a directory"):
        load_model(tmp_path)


def test_non_gguf_file_is_rejected_before_llama_cpp(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelError) as caught:
        load_model(fake)
    assert caught.value.message == f"model file is not a GGUF file: {fake}"
    assert "hearth convert" in caught.value.hint


def test_truncated_gguf_is_a_model_error_naming_the_file(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    with pytest.raises(ModelError) as caught:
        load_model(broken)
    assert str(broken) in caught.value.message
    assert "architecture" in caught.value.hint


def test_missing_lora_adapter_is_named(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(ModelError, match="LoRA adapter file not found"):
        load_model(model, lora_path=tmp_path / "adapter.gguf")


@pytest.mark.parametrize("kind", ["q4_k_m", "Q5_K_M", "Q6_K", "Q8_0", "f16"])
def test_quant_names_map_to_llama_cpp_ftypes(kind):
    import llama_cpp

    assert quant_ftype(kind) == getattr(llama_cpp, QUANT_FTYPES[kind.upper()])


def test_unknown_quantization_is_rejected(tmp_path):
    with pytest.raises(ConversionError, match="unknown quantization 'Q3_XL'") as caught:
        quantize(tmp_path / "in.gguf", tmp_path / "out.gguf", "Q3_XL")
    assert "Q4_K_M" in caught.value.hint


def test_quantize_missing_source_is_a_conversion_error(tmp_path):
    with pytest.raises(ConversionError, match="not found"):
        quantize(tmp_path / "in.gguf", tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_system_info_reports_version_and_features():
    import llama_cpp

    info = system_info()
    assert info["llama_cpp_python"] == llama_cpp.__version__
    assert "CPU" in info["system_info"]
    assert isinstance(info["gpu_offload"], bool)

"""HF folder → GGUF with llama.cpp's converter, the pre-tokenizer override, and `hearth convert`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from runtime.errors import ConversionError, UsageError
from training.cli import convert, quantized_path
from training.gguf_convert import convert_and_quantize, convert_hf_to_gguf


def invoke(*args: str):
    return CliRunner().invoke(convert, list(args), prog_name="hearth convert")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ConversionError, match=r"no config\.json"):
        convert_hf_to_gguf(tmp_path, tmp_path / "out.gguf")


def test_bad_outtype_and_pretokenizer_are_rejected(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConversionError, match="unknown output type 'q4'"):
        convert_hf_to_gguf(tmp_path, tmp_path / "out.gguf", outtype="q4")
    with pytest.raises(ConversionError, match="pre-tokenizer override 'llama3'"):
        convert_hf_to_gguf(tmp_path, tmp_path / "out.gguf", pretokenizer="llama3")


def test_bad_quantization_is_rejected_before_converting(tmp_path):
    with pytest.raises(ConversionError, match="unknown quantization"):
        convert_and_quantize(tmp_path, tmp_path, quantizations=("Q9",))


@pytest.mark.parametrize(
    ("name", "outtype", "kind", "expected"),
    [
        ("model-f16.gguf", "f16", "Q4_K_M", "model-Q4_K_M.gguf"),
        ("model.gguf", "f16", "Q8_0", "model-Q8_0.gguf"),
        ("Model-BF16.gguf", "bf16", "Q6_K", "Model-Q6_K.gguf"),
    ],
)
def test_quantized_file_names(tmp_path, name, outtype, kind, expected):
    assert quantized_path(tmp_path / name, outtype, kind) == tmp_path / expected


def test_cli_needs_a_folder_or_fetch():
    result = invoke()
    assert isinstance(result.exception, UsageError)
    assert result.exception.message == "missing HF_DIR: the Hugging Face model folder to convert"


def test_cli_needs_out(tmp_path):
    result = invoke(str(tmp_path))
    assert isinstance(result.exception, UsageError)
    assert result.exception.message == "missing --out: the GGUF file to write"


def test_cli_sdist_only_with_fetch(tmp_path):
    sdist = tmp_path / "x.tar.gz"
    sdist.write_bytes(b"")
    result = invoke("--sdist", str(sdist))
    assert isinstance(result.exception, UsageError)


@pytest.mark.slow
def test_unknown_pretokenizer_fails_with_the_override_as_hint(tiny_models, llama_sources, tmp_path):
    out = tmp_path / "plain.gguf"
    with pytest.raises(ConversionError) as caught:
        convert_hf_to_gguf(tiny_models.hf_dir, out, sources=llama_sources)
    assert "pre-tokenizer was not recognized" in caught.value.message
    assert "--pretokenizer gpt-2" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_converts_and_quantizes(tiny_models, llama_sources, tmp_path):
    out = tmp_path / "tiny-f16.gguf"
    result = invoke(
        str(tiny_models.hf_dir), "--out", str(out), "--pretokenizer", "gpt-2",
        "--quantize", "q8_0", "--llama-cpp", str(llama_sources.root),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(rf"wrote {re.escape(str(out))} \([\d.,]+ MB\)", lines[0])
    quantized = tmp_path / "tiny-Q8_0.gguf"
    assert re.fullmatch(rf"wrote {re.escape(str(quantized))} \([\d.,]+ MB\)", lines[1])
    assert out.read_bytes() == tiny_models.gguf_f16.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-Q8_0.gguf", "tiny-f16.gguf"]

"""`hearth train export` on the tiny model: the real converter, real llama.cpp, real peft.

The run is a random LoRA (`training.tiny_adapter.save_random_lora`, the `tiny_adapters`
fixture's PEFT folder) in a run folder as `hearth train run` writes it. The exported GGUF,
applied by llama.cpp to the base GGUF, must answer exactly like the HF model with the adapter
merged in (greedy), and unlike the base.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.companion import Companion, GenerationSettings, ModelChoice, Persona
from runtime.companions import CompanionEntry, CompanionRegistry
from runtime.engine import Engine, EngineConfig, read_adapter_manifest
from runtime.models.gguf_header import read_gguf_header
from runtime.paths import DataHome
from training.layout import TrainingPaths

pytestmark = pytest.mark.slow

RUN = "20260101-120000"
PROMPTS = ["Hello there!", "Good night.", "Apa kabar?"]
GREEDY = {
    "temperature": 0.0, "top_k": 1, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0,
    "max_tokens": 12, "seed": 0,
}  # fmt: skip


# --- helpers shared by the eval and A/B tests -------------------------------------------------


def make_companion(model: Path, name: str = "Mira") -> CompanionEntry:
    """A companion chatting with `model`, greedy and short."""
    companion = Companion(
        persona=Persona(name=name, description="A warm friend."),
        model=ModelChoice(chat=model),
        generation=GenerationSettings(temperature=0.0, max_tokens=12, context_size=512),
    )
    return CompanionRegistry(DataHome.resolve()).create(companion)


def make_run(
    entry: CompanionEntry, base_hf: Path, peft_dir: Path, *, name: str = RUN, **config: object
) -> Path:
    """A run folder as `hearth train run` leaves it; `config` overrides adapter_config keys."""
    root = TrainingPaths(entry.paths).runs_dir / name
    shutil.copytree(peft_dir, root / "adapter")
    if config:
        config_file = root / "adapter" / "adapter_config.json"
        data = json.loads(config_file.read_text())
        config_file.write_text(json.dumps({**data, **config}))
    info = {
        "base": str(base_hf),
        "preset": "cpu-tiny",
        "steps": 1,
        "adapter": str(root / "adapter"),
    }
    (root / "run.json").write_text(json.dumps(info))
    (root / "config.json").write_text(json.dumps({"max_length": 256}))
    return root


def write_eval(entry: CompanionEntry, examples: list[dict]) -> Path:
    """`dataset/eval.jsonl` with `examples`."""
    path = TrainingPaths(entry.paths).dataset_dir / "eval.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples))
    return path


# --- greedy replies: llama.cpp vs the merged HF model -----------------------------------------


def llama_replies(model: Path, adapter: Path | None = None) -> tuple[list[str], list[list[int]]]:
    engine = Engine.load(EngineConfig(model=model, adapter=adapter, context_size=256))
    try:
        prompts = [
            engine.tokenize(engine.render([{"role": "user", "content": p}])) for p in PROMPTS
        ]
        return ["".join(engine.generate(t, sampling=GREEDY)) for t in prompts], prompts
    finally:
        engine.close()


def hf_replies(base_hf: Path, adapter_dir: Path, prompts: list[list[int]]) -> list[str]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_hf)
    model = AutoModelForCausalLM.from_pretrained(base_hf, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload().eval()
    out = []
    for ids in prompts:
        generated = merged.generate(
            torch.tensor([ids]), max_new_tokens=GREEDY["max_tokens"], do_sample=False
        )[0, len(ids) :].tolist()
        if tokenizer.eos_token_id in generated:
            generated = generated[: generated.index(tokenizer.eos_token_id)]
        out.append(tokenizer.decode(generated))
    return out


@pytest.fixture(scope="module")
def base_replies(tiny_models):
    return llama_replies(tiny_models.gguf_f16)


def test_export_registers_an_adapter_that_answers_like_the_merged_model(
    tiny_models, tiny_adapters, base_replies, run_cli
):
    entry = make_companion(tiny_models.gguf_f16)
    run = make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    result = run_cli("train", "export", "--companion", "Mira", "--ollama", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    adapter = entry.paths.adapters_dir / f"{RUN}.gguf"
    modelfile = entry.paths.adapters_dir / "ollama" / "Modelfile"
    assert report == {
        "adapter": str(adapter),
        "manifest": str(adapter) + ".json",
        "base_gguf": str(tiny_models.gguf_f16),
        "modelfile": str(modelfile),
        "registered": True,
    }
    manifest = json.loads(Path(report["manifest"]).read_text())
    assert manifest["run"] == RUN and manifest["base_hf"] == str(tiny_models.hf_dir)
    assert manifest["base"]["digest"] == manifest["base_digest"]
    assert read_adapter_manifest(adapter) is not None
    assert sorted(p.name for p in entry.paths.adapters_dir.iterdir()) == [
        f"{RUN}.gguf",
        f"{RUN}.gguf.json",
        "ollama",
    ]  # no staging left behind
    companion = CompanionRegistry(DataHome.resolve()).load(entry.slug).companion
    assert companion.adapter.path == adapter and companion.adapter.scale == 1.0

    tuned, prompts = llama_replies(tiny_models.gguf_f16, adapter)
    assert tuned == hf_replies(tiny_models.hf_dir, run / "adapter", prompts)
    assert tuned != base_replies[0] and any(tuned)
    check_modelfile(modelfile.read_text(), tiny_models.gguf_f16, adapter)


def check_modelfile(text: str, base: Path, adapter: Path) -> None:
    assert f"FROM {base}\n" in text
    assert f"ADAPTER {adapter}\n" in text
    assert 'TEMPLATE """{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>' in text
    assert 'SYSTEM """You are Mira, talking with User.' in text and "A warm friend." in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    assert "PARAMETER temperature 0.0\n" in text and "PARAMETER num_ctx 512\n" in text


def test_rslora_is_exported_with_its_own_scale(tiny_models, tiny_adapters, base_replies, run_cli):
    entry = make_companion(tiny_models.gguf_f16)
    # alpha 8, r 8: scale 1 as plain LoRA, 8 / sqrt(8) ≈ 2.83 as rsLoRA.
    run = make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir, use_rslora=True, lora_alpha=8)
    result = run_cli("train", "export", "--companion", "Mira", "--name", "rs")
    assert result.exit_code == 0, result.output
    assert "Mira now chats with tiny-f16.gguf + rs.gguf" in result.stdout
    tuned, prompts = llama_replies(tiny_models.gguf_f16, entry.paths.adapters_dir / "rs.gguf")
    assert tuned == hf_replies(tiny_models.hf_dir, run / "adapter", prompts)
    assert tuned != base_replies[0]


def test_dora_is_refused_and_nothing_is_written(tiny_models, tiny_adapters, run_cli):
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir, use_dora=True)
    before = entry.paths.card_file.read_text()
    result = run_cli("train", "export", "--companion", "Mira")
    assert result.exit_code == 1
    assert "uses DoRA" in result.stderr and "hint:" in result.stderr
    assert not entry.paths.adapters_dir.exists() or not any(entry.paths.adapters_dir.iterdir())
    assert entry.paths.card_file.read_text() == before


def test_a_run_on_another_base_is_a_clear_error(tiny_models, tiny_adapters, run_cli, tmp_path):
    from training.tiny_adapter import save_other_base

    other = save_other_base(tiny_models.hf_dir, tmp_path / "other-hf")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(tiny_models.hf_dir / name, other / name)
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, other, tiny_adapters.peft_dir)
    result = run_cli("train", "export", "--companion", "Mira")
    assert result.exit_code == 1
    assert "which is another model than" in result.stderr
    assert "n_embd 128 vs 256" in result.stderr
    assert "--base-gguf" in result.stderr
    assert not any(entry.paths.adapters_dir.iterdir())
    assert CompanionRegistry(DataHome.resolve()).load(entry.slug).companion.adapter.path is None


def test_no_run_yet(tiny_models, run_cli):
    make_companion(tiny_models.gguf_f16)
    result = run_cli("train", "export", "--companion", "Mira")
    assert result.exit_code == 1
    assert "error: no training run in" in result.stderr
    assert "hearth train run" in result.stderr


def test_missing_llama_cpp_sources(tiny_models, tiny_adapters, run_cli, monkeypatch, tmp_path):
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    monkeypatch.setenv("HEARTH_LLAMA_CPP_SRC", str(tmp_path / "nowhere"))
    result = run_cli("train", "export", "--companion", "Mira")
    assert result.exit_code == 1
    assert "llama.cpp conversion scripts" in result.stderr
    assert "hearth convert --fetch-sources" in result.stderr


def test_quantize_needs_merge(run_cli):
    result = run_cli("train", "export", "--quantize", "Q8_0")
    assert result.exit_code == 2
    assert "--quantize only applies with --merge" in result.stderr


def test_unsupported_template_family_for_ollama(tmp_path):
    from training.ollama import UnsupportedTemplateError, template_family

    gemma = "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}{% endfor %}"
    with pytest.raises(UnsupportedTemplateError, match=r"supported: ChatML, Llama 3") as caught:
        template_family(gemma, model=tmp_path / "gemma.gguf")
    assert "gemma.gguf uses a chat template family" in caught.value.message
    assert "without --ollama" in caught.value.hint
    llama3 = "<|start_header_id|>{{ m.role }}<|end_header_id|>"
    assert template_family(llama3, model=tmp_path / "l.gguf").stops[0] == "<|eot_id|>"


def test_merge_and_quantize(tiny_models, tiny_adapters, run_cli):
    entry = make_companion(tiny_models.gguf_f16)
    make_run(entry, tiny_models.hf_dir, tiny_adapters.peft_dir)
    result = run_cli("train", "export", "--companion", "Mira", "--merge", "--quantize", "q8_0")
    assert result.exit_code == 0, result.output
    merged = DataHome.resolve().models_dir / f"mira-{RUN}-Q8_0.gguf"
    assert f"wrote {merged}" in result.stdout
    assert read_gguf_header(merged).quantization == "Q8_0"
    assert not (merged.parent / f"mira-{RUN}-f16.gguf").exists()
    assert [p.name for p in merged.parent.iterdir()] == [merged.name]  # no temporaries
    companion = CompanionRegistry(DataHome.resolve()).load(entry.slug).companion
    assert companion.model.chat == merged and companion.adapter.path is None

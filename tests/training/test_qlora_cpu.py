"""QLoRA's 4-bit path, run for real on the CPU (bitsandbytes' CPU kernels): the base loads as
NF4 through Hearth's loader, and LoRA gradients through it are those of the same model with its
weights dequantized to float32: 4-bit training is the training it claims to be."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
bnb = pytest.importorskip("bitsandbytes")


def test_qlora_gradients_equal_the_dequantized_models(tiny_models, monkeypatch):
    import bitsandbytes.functional as bnb_functional
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM

    from training import trainer_model
    from training.presets import resolve_config

    monkeypatch.setattr(trainer_model, "has_cuda", lambda: False)
    config = trainer_model.check_hardware(resolve_config("12gb"), allow_cpu_fallback=True)
    assert config.quantization == "nf4"
    config = config.model_copy(update={"target_modules": ["q_proj", "v_proj", "up_proj"]})
    quantized = trainer_model.load_model(tiny_models.hf_dir, config)
    linear4 = [m for m in quantized.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert linear4 and all(m.weight.dtype == torch.uint8 for m in linear4)  # packed 4-bit

    reference = AutoModelForCausalLM.from_pretrained(tiny_models.hf_dir, dtype=torch.float32)
    for name, module in quantized.named_modules():
        if isinstance(module, bnb.nn.Linear4bit):
            weight = bnb_functional.dequantize_4bit(module.weight.data, module.weight.quant_state)
            reference.get_submodule(name).weight.data.copy_(weight.float())
    lora = trainer_model.lora_config(config)
    lora.init_lora_weights = False  # random B: gradients reach every LoRA matrix
    lora.lora_dropout = 0.0  # the same computation in both models
    torch.manual_seed(0)
    quantized = get_peft_model(prepare_model_for_kbit_training(quantized), lora)
    reference = get_peft_model(reference, lora)
    adapters = {k: v for k, v in quantized.state_dict().items() if "lora_" in k}
    assert not reference.load_state_dict(adapters, strict=False).unexpected_keys

    tokens = torch.randint(0, 200, (2, 48))
    for model in (quantized, reference):
        model.train()
        model(input_ids=tokens, labels=tokens).loss.backward()
    grads = {n: p.grad for n, p in quantized.named_parameters() if p.requires_grad}
    expected = {n: p.grad for n, p in reference.named_parameters() if p.requires_grad}
    assert grads.keys() == expected.keys() and len(grads) == 2 * 3 * 2  # A, B × 3 × 2 layers
    for name, grad in grads.items():
        assert grad is not None and grad.abs().sum() > 0, name
        assert torch.allclose(grad, expected[name], rtol=1e-4, atol=1e-6), name

"""examples/vocoder.py (issue #24): a HiFi-GAN-style generator loads PyTorch-trained weights.

- the PyTorch twin's ``state_dict`` (``weight_g`` / ``weight_v`` keys, as HiFi-GAN's checkpoints),
  handed over as NumPy arrays, gives the lucid model the twin's output (float64 and float32);
- the same from a ``.safetensors`` file, written and read with safetensors' NumPy API (no
  torch needed for that part);
- after ``remove_weight_norm`` the output is unchanged and the keys are plain ``weight``;
- the transposed convolutions of a training step are planned under their own name.
Training and gradients are covered by tests/test_examples.py (the ``vocoder`` entries).
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid
from lucid import algos
from lucid.bench.model_step import load_example

SIZES = dict(mel_channels=6, channels=16, upsample_rates=(4, 2), upsample_kernels=(8, 4), resblock_kernels=(3, 7, 11),
             resblock_dilations=((1, 3, 5),) * 3, batch=2, frames=5)


@pytest.fixture(scope="module")
def vocoder():
    return load_example("vocoder")


def _twin(dtype_name: str):
    torch = pytest.importorskip("torch")
    twins = load_example("torch_twins")
    torch.manual_seed(0)
    twin = twins.make("vocoder", dtype=getattr(torch, dtype_name), **SIZES)
    with torch.no_grad():                     # a "trained" state: magnitudes and biases away from their init
        for name, p in twin.named_parameters():
            p.add_(0.05 * torch.randn_like(p) * (p.abs().mean() if name.endswith("_g") else 1))
    return torch, twin


def test_generator_shapes_names_and_hop(vocoder):
    model, (mel, wave) = vocoder.build(**SIZES)
    assert model(mel).shape == wave.shape == (2, 1, 5 * 8)
    names = [n for n, _ in model.named_parameters()]
    assert names[:6] == ["conv_pre.bias", "conv_pre.weight_g", "conv_pre.weight_v", "ups.0.bias", "ups.0.weight_g",
                         "ups.0.weight_v"]
    assert "resblocks.5.convs1.2.weight_v" in names and names[-1] == "conv_post.weight_v"
    assert np.abs(model(mel).numpy()).max() < 1


@pytest.mark.parametrize("dtype_name, tolerance", [("float64", 1e-10), ("float32", 2e-5)])
def test_the_twins_state_dict_as_numpy_arrays_gives_the_twins_output(vocoder, dtype_name, tolerance):
    torch, twin = _twin(dtype_name)
    state = {name: value.detach().numpy() for name, value in twin.state_dict().items()}
    assert any(name.endswith("weight_g") for name in state)
    model, (mel, _) = vocoder.build(seed=1, dtype=getattr(lucid, dtype_name), **SIZES)
    vocoder.load_weights(model, state)
    with torch.no_grad():
        want = twin(torch.from_numpy(mel.numpy())).numpy()
    got = model(mel).numpy()
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    model.remove_weight_norm()
    assert not any(n.endswith(("_g", "_v")) for n, _ in model.named_parameters())
    np.testing.assert_allclose(model(mel).numpy(), want, rtol=tolerance, atol=tolerance)


def test_the_twins_state_dict_from_a_safetensors_file(vocoder, tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    torch, twin = _twin("float32")
    path = tmp_path / "generator.safetensors"
    numpy_api.save_file({name: value.detach().numpy().copy() for name, value in twin.state_dict().items()}, str(path))
    model, (mel, _) = vocoder.build(seed=2, **SIZES)
    vocoder.load_weights(model, path)
    with torch.no_grad():
        want = twin(torch.from_numpy(mel.numpy())).numpy()
    np.testing.assert_allclose(model(mel).numpy(), want, rtol=2e-5, atol=2e-5)


def test_a_safetensors_round_trip_needs_no_torch(vocoder, tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    model, (mel, _) = vocoder.build(seed=3, **SIZES)
    path = tmp_path / "lucid.safetensors"
    numpy_api.save_file({name: value.numpy().copy() for name, value in model.state_dict().items()}, str(path))
    fresh, _ = vocoder.build(seed=4, **SIZES)
    assert not np.allclose(fresh(mel).numpy(), model(mel).numpy())
    vocoder.load_weights(fresh, str(path))
    with lucid.algos.use(deterministic=True):            # no race: both calls run the same algorithms
        np.testing.assert_array_equal(fresh(mel).numpy(), model(mel).numpy())


def test_a_checkpoint_with_missing_or_extra_keys_is_refused_by_name(vocoder):
    model, _ = vocoder.build(**SIZES)
    state = {name: value.numpy() for name, value in model.state_dict().items()}
    state["ups.0.weight"] = state.pop("ups.0.weight_v")
    with pytest.raises(ValueError, match=r"missing: \['ups.0.weight_v'\], unexpected: \['ups.0.weight'\]"):
        vocoder.load_weights(model, state)


def test_a_training_step_plans_the_transposed_convolutions_under_their_name(vocoder):
    algos.clear_plans()
    algos.clear_records()
    model, data = vocoder.build(**SIZES)
    vocoder.loss_fn(model, data).backward()
    called = {r["called_as"] for r in algos.records()}
    assert {"conv_transpose1d", "conv_transpose1d.grad_input", "conv_transpose1d.grad_weight"} <= called
    assert all(r["algorithm"] == "col2im" for r in algos.records() if r["called_as"] == "conv_transpose1d")

"""The example models (examples/): they train, their gradients are right, and they match PyTorch.

- each example's ``train`` at small sizes lowers its loss;
- a float64 central-difference check of a tiny version of each architecture:
  the directional derivative along a random direction of every parameter
  tensor against the gradient from ``backward`` (always run, no torch);
- the same architecture written independently in PyTorch
  (``examples/torch_twins.py``), holding the same weights, gives the same loss
  curve over several Adam steps in float64 (skipped without torch).
"""
from __future__ import annotations

import numpy as np
import pytest

import lucid
from lucid.bench.model_step import MODELS, load_example

#: Tiny sizes per model (``lucid-bench --model`` names): a few hundred parameters.
TINY = {
    "wavenet": dict(channels=4, skip_channels=3, dilations=(1, 2, 4, 8), batch=2, length=40),
    "tcn": dict(channels=4, blocks=2, classes=3, batch=6, length=24),
    "conformer": dict(channels=4, kernel_size=31, batch=2, length=36),
    "vocoder": dict(mel_channels=4, channels=8, upsample_rates=(2, 2), upsample_kernels=(4, 4), resblock_kernels=(3, 5),
                    resblock_dilations=((1, 2), (1, 2)), batch=2, frames=6),
}
#: Small sizes, steps and learning rate for the training test: the loss must fall by ``factor``.
TRAINING = {
    "wavenet": (dict(channels=8, skip_channels=8, dilations=(1, 2, 4, 8, 16), batch=2, length=256), 15, 1e-2, 0.7),
    "tcn": (dict(channels=8, blocks=3, classes=3, batch=32, length=64), 15, 1e-2, 0.9),
    "conformer": (dict(channels=8, kernel_size=31, batch=4, length=128), 25, 1e-2, 0.9),
    "vocoder": (dict(mel_channels=16, channels=32, upsample_rates=(4, 4), upsample_kernels=(8, 8),
                     resblock_kernels=(3, 7), resblock_dilations=((1, 3), (1, 3)), batch=2, frames=16), 20, 5e-3, 0.9),
}
NAMES = tuple(MODELS)


def example(name):
    return load_example(MODELS[name][0])


@pytest.mark.parametrize("name", NAMES)
def test_training_lowers_the_loss(name):
    sizes, steps, lr, factor = TRAINING[name]
    losses = example(name).train(steps=steps, seed=0, lr=lr, **sizes)
    assert len(losses) == steps and all(np.isfinite(losses))
    assert losses[-1] < factor * losses[0], losses


def _loss_at(model, loss_fn, data, param, values):
    keep = param.data.copy()
    param.data[...] = values
    with lucid.no_grad():
        value = loss_fn(model, data).item()
    param.data[...] = keep
    return value


@pytest.mark.parametrize("name", NAMES)
def test_float64_gradients_match_central_differences(name):
    ex = example(name)
    model, data = ex.build(seed=3, dtype=lucid.float64, **TINY[name])
    model.eval()                                             # no dropout: the loss is a fixed function
    loss = ex.loss_fn(model, data)
    loss.backward()
    rng = np.random.default_rng(4)
    eps = 1e-6
    params = list(model.named_parameters())
    assert len(params) >= 8
    for pname, p in params:
        direction = rng.standard_normal(p.shape)
        base = p.data.copy()
        numeric = (_loss_at(model, ex.loss_fn, data, p, base + eps * direction)
                   - _loss_at(model, ex.loss_fn, data, p, base - eps * direction)) / (2 * eps)
        # WaveNet's last residual convolution feeds nothing (only its skip is used): no gradient, as in PyTorch
        analytic = 0.0 if p.grad is None else float(np.sum(p.grad.numpy() * direction))
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-9), pname


@pytest.mark.parametrize("name", NAMES)
def test_loss_curve_equals_pytorch_in_float64(name):
    torch = pytest.importorskip("torch")
    twins = load_example("torch_twins")
    ex = example(name)
    model, data = ex.build(seed=5, dtype=lucid.float64, **TINY[name])
    twin = twins.copy_weights(model, twins.make(name, dtype=torch.float64, **TINY[name]))
    model.eval()
    twin.eval()
    tdata = twins.to_torch(data)
    opt = lucid.optim.Adam(model.parameters(), lr=1e-2)
    peer_opt = torch.optim.Adam(twin.parameters(), lr=1e-2)
    mine, theirs = [], []
    for _ in range(6):
        opt.zero_grad()
        loss = ex.loss_fn(model, data)
        loss.backward()
        opt.step()
        mine.append(loss.item())
        peer_opt.zero_grad()
        peer_loss = twins.loss_fn(name, twin, tdata)
        peer_loss.backward()
        peer_opt.step()
        theirs.append(peer_loss.item())
    np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    assert mine[-1] < mine[0]
    for (pname, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=pname)


def test_copy_weights_refuses_a_different_architecture():
    torch = pytest.importorskip("torch")
    twins = load_example("torch_twins")
    model, _ = example("tcn").build(dtype=lucid.float64, **TINY["tcn"])
    with pytest.raises(ValueError, match="names differ"):
        twins.copy_weights(model, twins.make("tcn", dtype=torch.float64, **{**TINY["tcn"], "blocks": 3}))


def test_readme_training_example_runs(capsys):
    """The README's "Training real models" snippet, as printed there."""
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = readme.split("## Training real models", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    assert "planner's picks, one line per convolution shape" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_main_ends_with_one_line_per_layer_shape_and_the_report_on_request(name, monkeypatch, capsys):
    ex = example(name)
    monkeypatch.setattr(ex, "SIZES", {**ex.SIZES, **TRAINING[name][0]})      # small: seconds, not a minute
    lucid.algos.clear_plans()                 # a fresh plan cache: every shape is planned, and recorded
    lucid.algos.clear_records()
    ex.main([])
    tail = capsys.readouterr().out.split("planner's picks, one line per convolution shape", 1)[1].splitlines()[1:]
    assert tail[-1] == "(--report: every candidate and why)"
    shapes = {r["key"] for r in lucid.algos.records()}
    assert len(tail) - 1 == len(shapes) and all(line.count(" / ") == 2 for line in tail[:-1])
    assert len(tail) < 40                     # one line per shape, not the full report
    lucid.algos.clear_plans()
    lucid.algos.clear_records()
    ex.main(["--report"])
    out = capsys.readouterr().out
    assert "planner decision(s)" in out and "candidate" in out and "planner's picks" not in out


def test_torch_twins_says_what_it_is_when_run():
    import subprocess
    import sys
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "torch_twins.py"
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("Not an example:") and "tests/test_examples.py" in run.stdout


def test_summary_groups_the_ops_of_a_shape_on_one_line():
    rows = [dict(op="forward", key="A", algorithm="fft"), dict(op="backward_filter", key="A", algorithm="wgrad"),
            dict(op="forward", key="B", algorithm="direct"), dict(op="forward", key="A", algorithm="fft"),
            dict(op="forward", key="A", algorithm="im2col")]
    assert lucid.algos.summary(rows).splitlines()[1:] == ["  A  fft,im2col / - / wgrad", "  B  direct / - / -"]
    assert "no convolution planned" in lucid.algos.summary([])

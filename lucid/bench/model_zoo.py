"""The example models of ``lucid-bench --model``: their sizes, and one training step / inference
call of each, in lucid and in its PyTorch twin (``examples/torch_twins.py``) on the same weights.

The examples live in the repository's ``examples/`` folder, next to the
``lucid`` package (a source checkout).
"""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import lucid

from .. import _profile
from . import model_memory

#: ``--model`` name -> (example file stem, realistic sizes, tiny sizes for ``--quick``).
MODELS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "wavenet": ("wavenet",
                dict(channels=64, skip_channels=64, dilations=tuple(2 ** i for i in range(10)), batch=4,
                     length=4096),
                dict(channels=4, skip_channels=4, dilations=(1, 2, 4), batch=2, length=64)),
    "tcn": ("tcn_classifier",
            dict(channels=64, blocks=8, classes=10, batch=8, length=2048),
            dict(channels=4, blocks=2, classes=3, batch=4, length=32)),
    "conformer": ("conformer_conv",
                  dict(channels=144, kernel_size=31, batch=8, length=1024),
                  dict(channels=4, kernel_size=31, batch=2, length=48)),
    "vocoder": ("vocoder",     # HiFi-GAN V2's generator on 32 frames of an 80-band mel (8192 samples)
                dict(mel_channels=80, channels=128, upsample_rates=(8, 8, 2, 2), upsample_kernels=(16, 16, 4, 4),
                     resblock_kernels=(3, 7, 11), resblock_dilations=((1, 3, 5),) * 3, batch=4, frames=32),
                dict(mel_channels=8, channels=16, upsample_rates=(4, 4), upsample_kernels=(8, 8),
                     resblock_kernels=(3, 7), resblock_dilations=((1, 3), (1, 3)), batch=2, frames=8)),
}
#: Adam's learning rate in the timed step (the value does not change the work).
LR = 1e-3


def examples_dir() -> Path:
    """The repository's ``examples/`` folder, next to the ``lucid`` package (a source checkout)."""
    return Path(lucid.__file__).resolve().parents[1] / "examples"


def load_example(stem: str) -> ModuleType:
    """Import ``examples/<stem>.py`` (once per process) as module ``lucid_examples.<stem>``."""
    name = f"lucid_examples.{stem}"
    if name in sys.modules:
        return sys.modules[name]
    path = examples_dir() / f"{stem}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: lucid-bench --model needs the examples/ folder of a lucid source "
                                f"checkout next to the lucid package ({Path(lucid.__file__).resolve().parent})")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def threads() -> int:
    """Threads of lucid's pool (:func:`lucid.get_num_threads`)."""
    from ..algos._parallel import get_num_threads
    return get_num_threads()


def lucid_step(name: str, sizes: dict[str, Any], seed: int = 0) -> tuple[Callable[[], float], Any, tuple]:
    """``(step, model, data)``: ``step()`` runs one Adam training step of the lucid example, returns the loss."""
    example = load_example(MODELS[name][0])
    model, data = example.build(seed, **sizes)
    opt = lucid.optim.Adam(model.parameters(), lr=LR)

    def step() -> float:
        opt.zero_grad()
        loss = example.loss_fn(model, data)
        loss.backward()
        opt.step()
        return loss.item()
    return step, model, data


def _in_eval_mode(model: Any, no_grad: Callable[[], Any], x: Any) -> Callable[[], Any]:
    """``model(x)`` in eval mode (no dropout) under ``no_grad()``, then back to training mode."""
    def infer() -> Any:
        model.eval()
        try:
            with no_grad():
                return model(x)
        finally:
            model.train()
    return infer


def lucid_infer(name: str, model: Any, data: tuple) -> Callable[[], Any]:
    """The no-grad forward (inference) of the lucid example on its batch."""
    return _in_eval_mode(model, lucid.no_grad, data[0])


def profiled_step(name: str, sizes: dict[str, Any], seed: int = 0) -> tuple[Callable[[_profile.OpProfile], Any],
                                                                           Callable[[], Any]]:
    """``(train, infer)`` for :func:`lucid.bench.model_profile.profile`: one step with its sections timed."""
    example = load_example(MODELS[name][0])
    model, data = example.build(seed, **sizes)
    opt = lucid.optim.Adam(model.parameters(), lr=LR)

    def train(p: _profile.OpProfile) -> None:
        model.train()
        with p.section("zero_grad"):
            opt.zero_grad()
        p.mark()
        with p.section("forward"):
            loss = example.loss_fn(model, data)
        with p.section("backward"):
            loss.backward()
        with p.section("optimizer"):
            opt.step()
    for _ in range(2):                       # plans, FFTW wisdom and caches first
        train(_profile.OpProfile())
    return train, lucid_infer(name, model, data)


def rss_child(name: str, side: str, quick: bool) -> dict[str, Any]:
    """Peak RSS of one training step of ``side`` (``"lucid"`` or ``"torch"``), in this (fresh) process."""
    stem, sizes, tiny = MODELS[name]
    sizes = tiny if quick else sizes
    step, model, data = lucid_step(name, sizes)
    if side == "torch":
        peer = torch_step(name, sizes, model, data)
        if not callable(peer):
            return {"skipped": peer}
        del step, model
        step = peer
    return model_memory.measure(step)


def _twin(name: str, sizes: dict[str, Any], model: Any, data: tuple) -> tuple[Any, Any, Any, Any] | str:
    """``(torch, twins module, twin, its data)`` on ``model``'s weights and ``data``, or why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    torch.set_num_threads(threads())
    twins = load_example("torch_twins")
    dtype = getattr(torch, data[0].dtype.name)
    return torch, twins, twins.copy_weights(model, twins.make(name, dtype=dtype, **sizes)), twins.to_torch(data)


def torch_infer(name: str, sizes: dict[str, Any], model: Any, data: tuple) -> Callable[[], Any] | str:
    """The PyTorch twin's no-grad forward on the same weights and batch, or why it cannot run."""
    made = _twin(name, sizes, model, data)
    if isinstance(made, str):
        return made
    torch, _, twin, tdata = made
    return _in_eval_mode(twin, torch.no_grad, tdata[0])


def torch_step(name: str, sizes: dict[str, Any], model: Any, data: tuple) -> Callable[[], float] | str:
    """The same step of the PyTorch twin, from ``model``'s weights, or why it cannot run."""
    made = _twin(name, sizes, model, data)
    if isinstance(made, str):
        return made
    torch, twins, twin, tdata = made
    opt = torch.optim.Adam(twin.parameters(), lr=LR)

    def step() -> float:
        opt.zero_grad()
        loss = twins.loss_fn(name, twin, tdata)
        loss.backward()
        opt.step()
        return float(loss.item())
    return step

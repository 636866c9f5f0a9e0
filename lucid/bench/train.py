"""``lucid-bench --train``: the training step of each workload's convolution, lucid vs PyTorch.

A training step of a layer is its forward and both backward passes.  lucid's
step is what a user's training loop runs: ``y = lucid.nn.functional.conv1d(x,
w, ...)`` on leaves that require grad, then ``y.backward(dy)`` with a fixed,
seeded upstream gradient ``dy`` — autograd runs backward_data (``dx``) and
backward_filter (``dw``), each op planned by ``auto``.  PyTorch's step is the
same with ``requires_grad`` and ``y.backward(dy)``
(:func:`lucid.bench.peers.torch_train_step`).  Grads are reset to ``None``
before every step on both sides, so no step accumulates.

In the same block-timed rounds (:func:`lucid.bench.timing.block_timing`, after
:func:`~lucid.bench.timing.raise_mmap_threshold`) lucid's three ops are also
timed alone (``auto`` through the planner, as :mod:`lucid.bench.cases` does),
so the row shows where the step's time goes and ``backward_filter ÷ forward``
(median of per-round ratios).  The error is the largest normwise error of
``y``, ``dx`` and ``dw`` against the ``direct`` algorithm in float64.
"""
from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import lucid
import lucid.nn.functional as F

from .. import algos
from ..algos.lowering import OPS
from ..algos.planner.config import AUTO
from . import peers
from .cases import Case, lucid_call, normwise_error, reference
from .timing import block_timing, clock, raise_mmap_threshold, round_ratios

#: Columns of :func:`format_table` (times in ms; ratios are medians of per-round ratios).
HEADER = ("workload", "picks fwd/bwd_data/bwd_filter", "step ms", "torch ms", "x torch", "fwd ms", "bwd_data ms",
          "bwd_filter ms", "filter/fwd", "error", "n")


@dataclass
class TrainRow:
    """The training step of one case: lucid ``auto`` vs torch, and lucid's ops alone (ms).

    ``vs_torch`` and ``filter_vs_forward`` are medians of per-round ratios;
    ``per_call_ms`` holds every method's per-round per-call times
    (``step``, ``torch``, and the three ops by name).
    """

    case: str
    shape: str
    picks: dict[str, str]
    step_ms: float
    forward_ms: float
    backward_data_ms: float
    backward_filter_ms: float
    filter_vs_forward: float
    error: float
    rounds: int
    torch_ms: float | None = None
    vs_torch: float | None = None
    torch_error: float | None = None
    torch_skipped: str = ""
    calls_per_block: dict[str, int] = field(default_factory=dict)
    capped: list[str] = field(default_factory=list)
    per_call_ms: dict[str, list[float]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The row as a plain dict (JSON export)."""
        return dataclasses.asdict(self)


def lucid_train_step(case: Case, x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> Callable[[], tuple]:
    """lucid's training step of ``case`` (see the module doc); returns ``(y, dx, dw)`` as ndarrays."""
    tx, tw = lucid.from_numpy(x).requires_grad_(), lucid.from_numpy(w).requires_grad_()
    kwargs = case.conv_kwargs()

    def step() -> tuple:
        tx.grad = tw.grad = None
        y = F.conv1d(tx, tw, **kwargs)
        y.backward(dy)
        assert tx.grad is not None and tw.grad is not None
        return y.numpy(), tx.grad.numpy(), tw.grad.numpy()
    return step


def _error(found: Any, refs: Sequence[np.ndarray]) -> float:
    return max(normwise_error(np.asarray(value), ref) for value, ref in zip(found, refs))


def measure_train(case: Case, *, torch: bool = True, repeats: int = 5, cap_s: float = 2.0,
                  min_block_s: float = 0.05, seed: int = 0,
                  progress: Callable[[str], None] | None = None) -> TrainRow:
    """Time the training step of ``case`` (lucid auto, torch when ``torch`` and installed) and its three ops.

    Cost: two calls of each of the (up to) five methods, then ``repeats``
    blocks of at least ``min_block_s`` of each, plus float64 references of
    the three ops.  ``progress`` is called with ``"training step"`` first.
    """
    if progress is not None:
        progress("training step")
    spec = case.spec
    rng = np.random.default_rng(seed)
    x, w, dy = (rng.standard_normal(shape).astype(spec.np_dtype)
                for shape in (spec.input_shape, spec.weight_shape, spec.output_shape))
    operands = {"forward": (x, w), "backward_data": (dy, w), "backward_filter": (dy, x)}
    refs = [reference(op, spec, *operands[op]) for op in OPS]
    methods: dict[str, Callable[[], object]] = {"step": lucid_train_step(case, x, w, dy)}
    peer = peers.torch_train_step(spec, x, w, dy) if torch else "peers disabled (--peers without torch)"
    if not isinstance(peer, str):
        methods["torch"] = peer
    for op in OPS:
        methods[op] = lucid_call(case, op, *operands[op], AUTO)
    raise_mmap_threshold()
    warm = {name: clock(call) for name, call in methods.items()}
    errors = {name: _error(warm[name][1], refs) for name in ("step", "torch") if name in warm}
    timed = block_timing(methods, repeats, min_block_s=min_block_s, cap_s=cap_s,
                         warmup_s={name: seconds for name, (seconds, _) in warm.items()})
    per_call = {name: found["per_call_s"] for name, found in timed.items()}

    def ms(name: str) -> float:
        return statistics.median(per_call[name]) * 1e3

    row = TrainRow(case.name, spec.describe(), {op: algos.choose(spec, op=op) for op in OPS}, ms("step"),
                   ms("forward"), ms("backward_data"), ms("backward_filter"),
                   round_ratios(per_call["backward_filter"], per_call["forward"]), errors["step"],
                   len(per_call["step"]), calls_per_block={n: t["calls_per_block"] for n, t in timed.items()},
                   capped=[n for n, t in timed.items() if t["capped"]],
                   per_call_ms={n: [t * 1e3 for t in v] for n, v in per_call.items()})
    if isinstance(peer, str):
        row.torch_skipped = peer
    else:
        row.torch_ms, row.torch_error = ms("torch"), errors["torch"]
        row.vs_torch = round_ratios(per_call["step"], per_call["torch"])
    return row


def _cells(row: TrainRow) -> tuple[str, ...]:
    picks = "/".join(row.picks[op] for op in OPS)
    torch = ("-", "-") if row.torch_ms is None else (f"{row.torch_ms:.2f}", f"{row.vs_torch:.2f}")
    return (row.case, picks, f"{row.step_ms:.2f}", *torch, f"{row.forward_ms:.2f}", f"{row.backward_data_ms:.2f}",
            f"{row.backward_filter_ms:.2f}", f"{row.filter_vs_forward:.2f}", f"{row.error:.1e}", str(row.rounds))


def format_table(rows: Sequence[TrainRow]) -> str:
    """The training-step table: one line per workload (see :data:`HEADER`)."""
    body = [HEADER] + [_cells(row) for row in rows]
    widths = [max(len(cells[i]) for cells in body) for i in range(len(HEADER))]
    lines = ["== training step (forward + backward_data + backward_filter through autograd), lucid auto vs torch; "
             "x torch and filter/fwd: medians of per-round ratios"]
    for i, cells in enumerate(body):
        lines.append("  ".join(f"{c:<{w}}" if j < 2 else f"{c:>{w}}" for j, (c, w) in enumerate(zip(cells, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    skipped = {row.torch_skipped for row in rows if row.torch_skipped}
    return "\n".join(lines + [f"torch not timed: {reason}" for reason in sorted(skipped)])

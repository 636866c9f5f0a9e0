"""Measure one convolution shape: every algorithm forced, ``auto`` and the peers.

For a :class:`Case` and an op this builds seeded random operands, a float64
reference (the ``direct`` algorithm run in float64), one call per method, and
times them all with :func:`lucid.bench.timing.block_timing` after warming the
allocator (:func:`~lucid.bench.timing.raise_mmap_threshold`) and every method
(one checked call each).  Each method becomes a :class:`Row`: median per-call
time, GFLOP/s, ratio to the fastest, the median of per-round ratios to torch,
normwise error, workspace and whether it is the planner's pick.  Forward calls go through the
user-facing ``lucid.nn.functional.conv1d``; the backward passes through the
planner's ``execute`` (what ``conv1d``'s backward runs).
"""
from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import lucid
import lucid.nn.functional as F

from .. import algos
from ..algos import planner, registry
from ..algos.lowering import route
from ..algos.planner import config
from ..algos.planner.config import AUTO
from ..algos.spec import ConvSpec
from ..suite import SUITE, Workload, workload
from . import peers as peer_calls
from .timing import block_timing, clock, raise_mmap_threshold, round_ratios


@dataclass(frozen=True)
class Case:
    """One shape to benchmark: a name, its spec, the padding as a user writes it, and a goal."""

    name: str
    spec: ConvSpec
    padding: int | str
    target: str = ""

    def conv_kwargs(self) -> dict:
        """``stride``, ``padding``, ``dilation``, ``groups`` for ``conv1d`` (lucid's or torch's)."""
        return dict(stride=self.spec.stride, padding=self.padding, dilation=self.spec.dilation,
                    groups=self.spec.groups)

    @classmethod
    def from_workload(cls, workload: Workload, dtype: str = "float32") -> Case:
        """The case of a suite workload."""
        return cls(workload.name, workload.spec(dtype), workload.padding, workload.target)


def suite_cases(quick: bool = False, names: Sequence[str] | None = None, dtype: str = "float32") -> list[Case]:
    """Cases of :data:`lucid.suite.SUITE`: all, the ``quick`` subset, or the workloads in ``names``."""
    if names is not None:
        chosen = [workload(name) for name in names]
    else:
        chosen = [w for w in SUITE if w.quick or not quick]
    return [Case.from_workload(w, dtype) for w in chosen]


@dataclass
class Row:
    """One method on one case and op; times in ms, ``status`` is "ok" or "skipped".

    ``per_call_ms`` holds one per-call time per round (a block's time / its
    ``calls_per_block``); ``median_ms``/``min_ms`` summarise it and ``repeats``
    counts it (1 when ``capped``).  ``vs_torch`` is the median of per-round
    ratios (this method's block ÷ the same round's torch block), ``None``
    without a timed torch row.
    """

    case: str
    shape: str
    op: str
    method: str
    kind: str            # "algorithm", "auto" or "peer"
    ran: str             # algorithm that actually ran ("" for peers and skipped rows)
    status: str
    reason: str = ""
    median_ms: float | None = None
    min_ms: float | None = None
    warmup_ms: float | None = None
    repeats: int = 0
    calls_per_block: int = 0
    capped: bool = False
    per_call_ms: list[float] = dataclasses.field(default_factory=list)
    vs_torch: float | None = None
    gflops: float | None = None
    vs_fastest: float | None = None
    error: float | None = None
    workspace_bytes: int | None = None
    planner_pick: bool = False

    def as_dict(self) -> dict:
        """The row as a plain dict (JSON/CSV export)."""
        return dataclasses.asdict(self)


def operands(op: str, spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded standard-normal operands of ``op``: ``(x, w)``, ``(dy, w)`` or ``(dy, x)``."""
    rng = np.random.default_rng(seed)
    x, w, dy = (rng.standard_normal(shape).astype(spec.np_dtype)
                for shape in (spec.input_shape, spec.weight_shape, spec.output_shape))
    return {"forward": (x, w), "backward_data": (dy, w), "backward_filter": (dy, x)}[op]


def reference(op: str, spec: ConvSpec, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``op`` computed in float64 by the ``direct`` algorithm (the accuracy yardstick)."""
    wide = dataclasses.replace(spec, dtype="float64")
    return planner.execute(op, wide, a.astype(np.float64), b.astype(np.float64), algorithm="direct")


def normwise_error(y: np.ndarray, ref: np.ndarray) -> float:
    """``||y - ref|| / ||ref||`` in the Frobenius norm (0 when both are zero)."""
    scale = float(np.linalg.norm(ref))
    diff = float(np.linalg.norm(np.asarray(y, dtype=np.float64) - ref))
    return diff / scale if scale else diff


def lucid_call(case: Case, op: str, a: np.ndarray, b: np.ndarray, algorithm: str) -> Callable[[], np.ndarray]:
    """A zero-argument call running ``op`` of ``case`` through lucid with ``algorithm`` forced (or "auto").

    Forward is ``lucid.nn.functional.conv1d`` on Tensors sharing ``a, b``
    (what a user calls); the backward ops are ``planner.execute`` with the
    same operands ``conv1d``'s backward passes to it.
    """
    if op != "forward":
        return lambda: planner.execute(op, case.spec, a, b, algorithm=algorithm)
    x, w, kwargs = lucid.from_numpy(a), lucid.from_numpy(b), case.conv_kwargs()
    return lambda: F.conv1d(x, w, algorithm=algorithm, **kwargs).numpy()


def _posed_layout(algo: algos.Algorithm, op: str, spec: ConvSpec, limit: int) -> algos.Layout | str:
    """``algo``'s layout of ``op`` on ``spec`` as the planner poses it (natively, or the lowered
    forward problem), or the reason it cannot serve it."""
    lowering = route(op, spec, algo.ops)
    if lowering is None:
        return f"{algo.name}: cannot serve {op}"
    return algo.checked_layout(lowering.spec, limit)


def measure(case: Case, op: str = "forward", *, algorithms: Sequence[str] | None = None,
            peers: Sequence[str] = (), repeats: int = 5, cap_s: float = 2.0, min_block_s: float = 0.05,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Time every method on ``case``'s ``op`` and return one :class:`Row` per method.

    Parameters
    ----------
    case : Case
    op : {"forward", "backward_data", "backward_filter"}
    algorithms : sequence of str, optional
        Registered algorithms to force (default: all).  ``auto`` is always timed.
    peers : sequence of {"torch", "scipy"}
        Other libraries to time beside lucid; unavailable ones become skipped rows.
    repeats, cap_s, min_block_s : int, float, float
        Timed rounds, the call time above which a method is timed once only,
        and the least duration of a block (see :func:`~lucid.bench.timing.block_timing`).
    progress : callable, optional
        Called with each method's name after its warm-up call.

    Returns
    -------
    list of Row
        Forced algorithms first (registry order), then ``auto``, then peers.

    Notes
    -----
    GFLOP/s counts the definition's ``spec.direct_flops`` for every op and
    method, so it compares speed, not work done.  Cost: three calls of every
    method (warm-up, two sizing calls), ``repeats`` blocks of at least
    ``min_block_s`` each, 0.15 s after every peer block, plus one float64
    direct reference.  A method two of whose calls (warm-up included) took
    longer than ``cap_s`` gets no blocks: its faster sizing call is its figure
    (``capped``, ``repeats`` 1).
    """
    spec = case.spec
    a, b = operands(op, spec)
    limit = config.resolve("workspace_limit", None)
    choice = algos.choose(spec, op=op, algorithm=AUTO)
    rows: dict[str, Row] = {}
    calls: dict[str, Callable[[], np.ndarray]] = {}

    def row(method: str, kind: str, ran: str, status: str = "ok", reason: str = "") -> Row:
        rows[method] = Row(case.name, spec.describe(), op, method, kind, ran, status, reason)
        return rows[method]

    wanted = registry.names() if algorithms is None else tuple(algorithms)
    for algo in registry.algorithms():
        if algo.name not in wanted:
            continue
        layout = _posed_layout(algo, op, spec, limit)
        reason = layout if isinstance(layout, str) else None
        item = row(algo.name, "algorithm", "" if reason else algo.name, "skipped" if reason else "ok", reason or "")
        item.planner_pick = algo.name == choice
        if not isinstance(layout, str):
            item.workspace_bytes = layout.workspace_bytes
            calls[algo.name] = lucid_call(case, op, a, b, algo.name)
    chosen = _posed_layout(registry.get(choice), op, spec, limit)
    assert not isinstance(chosen, str), chosen      # the planner chose it, so it applies
    row(AUTO, "auto", choice).workspace_bytes = chosen.workspace_bytes
    calls[AUTO] = lucid_call(case, op, a, b, AUTO)
    for peer in peers:
        call = peer_calls.make(peer, op, spec, a, b)
        if isinstance(call, str):
            row(peer, "peer", "", "skipped", call)
        else:
            row(peer, "peer", "")
            calls[peer] = call

    ref = reference(op, spec, a, b)
    raise_mmap_threshold()
    warm: dict[str, float] = {}
    for method, call in calls.items():
        warm[method], value = clock(call)
        rows[method].warmup_ms, rows[method].error = warm[method] * 1e3, normwise_error(np.asarray(value), ref)
        if progress is not None:
            progress(method)
    timed = block_timing(calls, repeats, min_block_s=min_block_s, cap_s=cap_s,
                         spinning=[p for p in peers if p in calls], warmup_s=warm)
    for method, found in timed.items():
        item = rows[method]
        item.per_call_ms = [t * 1e3 for t in found["per_call_s"]]
        item.calls_per_block, item.capped = found["calls_per_block"], found["capped"]
        item.repeats = len(item.per_call_ms)
        item.median_ms, item.min_ms = statistics.median(item.per_call_ms), min(item.per_call_ms)
        item.gflops = spec.direct_flops / item.median_ms / 1e6
        if "torch" in timed and item.kind != "peer":
            item.vs_torch = round_ratios(found["per_call_s"], timed["torch"]["per_call_s"])
    fastest = min(rows[method].median_ms or 0.0 for method in timed)
    for method in timed:
        rows[method].vs_fastest = (rows[method].median_ms or 0.0) / fastest
    settled = algos.choose(spec, op=op, algorithm=AUTO)      # online mode may have raced the first calls
    if settled != choice and AUTO in rows:
        rows[AUTO].ran = settled
        layout = _posed_layout(registry.get(settled), op, spec, limit)
        if not isinstance(layout, str):
            rows[AUTO].workspace_bytes = layout.workspace_bytes
        for method, item in rows.items():
            if item.kind == "algorithm":
                item.planner_pick = method == settled
    return list(rows.values())


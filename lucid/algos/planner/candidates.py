"""The planner's typed values: a candidate's assessment, a decision, a bucket key.

:class:`Candidate` and :class:`Decision` are what the planner builds and
fills; :meth:`Decision.as_record` turns one into the plain JSON-ready dict that
:func:`lucid.algos.records` hands out (see :mod:`lucid.algos.planner.history`).
:class:`BucketKey` is the tuple under which a measured decision is kept in
wisdom; :meth:`BucketKey.text` is its form in a wisdom file.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..base import Layout, Plan
from ..lowering import Lowering
from ..spec import ConvSpec

#: Measured decisions are shared by lengths with equal ``round(BUCKETS_PER_OCTAVE * log2(L))``.
BUCKETS_PER_OCTAVE = 4


@dataclass
class Candidate:
    """One algorithm as the planner assessed it for one decision.

    ``supported`` is None when it was not assessed (a measured bucket decision
    was reused); ``reason`` is None when it was eligible, else why it was
    skipped; ``measured_s`` is None unless it was timed (``inf``: it failed).
    ``layout`` is what a plan is built from and ``lowering`` how the op reaches
    it (natively or through a forward problem); they are not part of the record.
    """

    name: str
    deterministic: bool
    supported: bool | None = False
    reason: str | None = None
    predicted_s: float | None = None
    measured_s: float | None = None
    workspace_bytes: int | None = None
    error_bound: float | None = None
    note: str | None = None
    layout: Layout | None = field(default=None, repr=False, compare=False)
    lowering: Lowering | None = field(default=None, repr=False, compare=False)

    @property
    def eligible(self) -> bool:
        """Assessed, supported and within every constraint."""
        return self.reason is None and self.layout is not None

    def skip_note(self) -> str:
        """Why it was skipped, prefixed by its name."""
        reason = self.reason or ""
        return reason if reason.startswith(self.name) else f"{self.name} skipped: {reason}"

    def as_record(self) -> dict[str, Any]:
        """The candidate's fields as a JSON-ready dict (``layout`` and ``lowering`` left out,
        non-finite times as None)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("layout", "lowering")}
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in fields.items()}


@dataclass(frozen=True)
class Decision:
    """What the planner chose for one problem under one set of settings, and why.

    ``called_as`` is what the user called when ``op`` is how it is computed
    (``"conv_transpose1d"``, whose forward is a backward_data), else None.
    """

    op: str
    key: str
    spec: str
    mode: str
    algorithm: str
    reason: str
    candidates: tuple[Candidate, ...]
    cache_hit: bool
    duration_s: float
    settings: dict[str, Any]
    called_as: str | None = None
    time: float = field(default_factory=time.time)
    #: An online race's outcome (:meth:`lucid.algos.planner.race.Race.record`), else None.
    race: dict[str, Any] | None = None

    def as_record(self) -> dict[str, Any]:
        """The plain, JSON-ready dict of :func:`lucid.algos.records`."""
        record = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        record["candidates"] = [c.as_record() for c in self.candidates]
        record["not_applicable"] = not_applicable(self.candidates)
        record["settings"] = dict(self.settings)
        record["race"] = None if self.race is None else dict(self.race)
        return record


def not_applicable(cands: tuple[Candidate, ...] | list[Candidate]) -> str | None:
    """The candidates that do not apply to the op, once and compactly: names sharing a reason
    are listed together (``"winograd, winograd4, winograd6: needs kernel_size in 2..5, got 7;
    col2im: solves backward_data only, not forward"``); None when every candidate applies."""
    groups: dict[str, list[str]] = {}
    for cand in cands:
        if cand.supported is False:
            reason = cand.reason or ""
            reason = reason[len(cand.name) + 2:] if reason.startswith(cand.name + ": ") else reason
            groups.setdefault(reason, []).append(cand.name)
    return "; ".join(f"{', '.join(names)}: {reason}" for reason, names in groups.items()) or None


class Entry:
    """A cached plan with the lowering around it (what a plan-cache key maps to)."""

    __slots__ = ("plan", "lowering", "algorithm", "local_nonfinite", "nbytes", "runs")

    #: A plain entry; :class:`lucid.algos.planner.race.RacingEntry` says True.
    racing = False

    def __init__(self, plan: Plan, lowering: Lowering) -> None:
        self.plan, self.lowering = plan, lowering
        self.algorithm = plan.algorithm.name
        self.local_nonfinite = plan.algorithm.local_nonfinite and lowering.local_nonfinite
        self.nbytes = plan.held_bytes()
        self.runs = 0

    def run(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The derived problem's raw output (before ``lowering.result``).

        NumPy's floating-point warnings are silenced: NaN/Inf operands are
        handled by :func:`lucid.algos.execute`, as in PyTorch, without RuntimeWarnings.
        """
        with np.errstate(all="ignore"):
            return self.plan.run(*self.lowering.operands(a, b))


class BucketKey(NamedTuple):
    """Key of a measured decision: the problem with its length replaced by its length bucket."""

    op: str
    shape: str
    workspace_limit: int
    tolerance: float
    deterministic: bool
    nonfinite_operands: bool
    threads: int

    @classmethod
    def of(cls, op: str, spec: ConvSpec, workspace_limit: int, tolerance: float, deterministic: bool,
           nonfinite_operands: bool, threads: int) -> BucketKey:
        """The bucket of ``op`` on ``spec`` (lengths within a factor ``2**(1/4)`` share one)."""
        bucket = round(BUCKETS_PER_OCTAVE * math.log2(spec.length))
        shape = spec.describe().replace(f" L{spec.length} ", f" Lb{bucket} ")
        return cls(op, shape, workspace_limit, tolerance, deterministic, nonfinite_operands, threads)

    def text(self) -> str:
        """The key as written in wisdom files (format 1)."""
        tolerance = "inf" if math.isinf(self.tolerance) else f"{self.tolerance:.3g}"
        return (f"{self.op} {self.shape} ws{self.workspace_limit} tol{tolerance} "
                f"det{int(self.deterministic)} nonfinite{int(self.nonfinite_operands)} t{self.threads}")

"""The decision: which algorithm serves one problem under one set of settings.

:func:`decide` is what a plan-cache miss runs (under the planning lock).  It
lays out every registered algorithm at the call's workspace limit
(:meth:`~lucid.algos.base.Algorithm.layout`), predicts each one's time from
its layout's cost features (:mod:`lucid.algos.planner.cost_model`), and

* **forced** (``algorithm="fft"``, ``use("fft")``, ``LUCID_CONV_ALGO``): takes
  that algorithm.  For the forward op a forced forward algorithm that cannot
  serve the call raises ValueError with its reason; any other op (or the forward
  op forced on an algorithm that solves only backward ops) runs on it when it
  can, otherwise on the best one that can (recorded).
* **heuristic** (runs nothing, like FFTW_ESTIMATE): takes the eligible
  candidate with the least predicted time.
* **online** (default): the heuristic's pick, unless the runner-up is predicted
  within :data:`RACE_RATIO` of it; then the top :data:`RACERS` are raced on
  the key's next real calls (:mod:`lucid.algos.planner.race`) and the winner
  is kept in wisdom.  ``deterministic=True`` never races.
* **measure** (like FFTW_MEASURE): times the eligible candidates on the real
  operands within ``time_limit`` (:mod:`lucid.algos.planner.stopwatch`):
  block-timed medians over interleaved rounds, until the two fastest are told
  apart or shown to be within noise of each other, which the record calls a
  tie ("fft tie with im2col: 1.01x +-2.0 % over 9 rounds").  The
  decision is kept in wisdom (:mod:`lucid.algos.planner.wisdom`) under a
  :class:`~lucid.algos.planner.candidates.BucketKey` (lengths within a factor
  2**(1/4)), so a new length in a measured bucket only builds its plan.

Each algorithm is posed the op natively when it lists it in its ``ops``, else
the forward problem the op lowers to (:func:`lucid.algos.lowering.route`); the
candidate keeps the :class:`~lucid.algos.lowering.Lowering` it was priced
through, and measure mode times every candidate on the op's own operands, its
re-layouts included; the heuristic prices those re-layouts as moved bytes
(:attr:`~lucid.algos.lowering.Lowering.relayout_bytes`).

A decision of the length bucket in wisdom (measured, raced or loaded) is
used in every mode but a forced algorithm: only its winner is assessed and
built for a new length, which keeps variable-length loops cheap.

Eligible means: the layout is not a reason, it fits ``workspace_limit``, its
``error_bound <= tolerance`` and, when asked, the algorithm is
``deterministic`` (and ``local_nonfinite`` for a re-run on NaN/Inf operands).
The winner's plan is built from the very layout that was priced.  Every
decision is returned with its record (:class:`~lucid.algos.planner.candidates.Decision`).
"""
from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from .. import registry
from ..base import Algorithm, Plan, fitting
from ..lowering import Lowering, route
from ..spec import ConvSpec
from . import cost_model, units
from .candidates import BucketKey, Candidate, Decision
from .config import AUTO, Settings
from .stopwatch import MIN_BLOCK_S, PLANNING_LOCK, random_operands, time_plans
from .wisdom import Wisdom

#: Measure mode races the candidates predicted within this factor of the best prediction
#: first and tries the rest with the time left; online mode races the top :data:`RACERS` of
#: them on real calls (docs/tuning.md: leaders).
LEADER_RATIO = 2.0
#: Most candidates an online race serves.
RACERS = 3
#: Online mode races when the runner-up is predicted within this factor of the leader: the
#: worst heuristic regret on the hidden 32-problem grid was 2.49 (issue #23), so a wider
#: gap is not worth the calls (docs/tuning.md: race ratio).
RACE_RATIO = 2.5
#: A challenger whose workspace exceeds both this and twice the leader's is not raced: its plan
#: would sit beside the leader's for the race (a 32 MiB dask chunk: fft's 134 MB next to im2col's 32 MB).
RACE_WORKSPACE_BYTES = 16 << 20

Operands = tuple[np.ndarray, np.ndarray]


def assess(algorithm: Algorithm, op: str, source: ConvSpec, settings: Settings,
           costs: cost_model.CostModel = cost_model.DEFAULT) -> Candidate:
    """One candidate for ``op`` on ``source``: its layout at the call's workspace limit,
    predicted time (by ``costs``) and why it is skipped."""
    cand = Candidate(algorithm.name, bool(algorithm.deterministic))
    lowering = route(op, source, algorithm.ops)
    if lowering is None:
        cand.reason = f"{algorithm.name}: solves {' and '.join(algorithm.ops)} only, not {op}"
        return cand
    layout = algorithm.checked_layout(lowering.spec, settings.workspace_limit)
    if isinstance(layout, str):
        # the reason speaks of the lowered problem (backward_filter's "kernel" is the output length): say so
        native = op == "forward" or op in algorithm.ops
        cand.reason = layout if native else \
            f"{algorithm.name}: cannot run the forward problem {op} lowers to ({lowering.spec.describe()})"
        return cand
    cand.supported, cand.layout, cand.lowering = True, layout, lowering
    features = layout.features
    if lowering.relayout_bytes:     # the lowering's copies move bytes too
        features = {**features, "moved_bytes": features.get("moved_bytes", 0.0) + lowering.relayout_bytes}
    cand.predicted_s = costs.predict(algorithm.name, features)
    cand.workspace_bytes, cand.error_bound = int(layout.workspace_bytes), float(layout.error_bound)
    if not layout.fits:
        cand.reason = f"workspace {units.size(layout.workspace_bytes)} > workspace_limit " \
                      f"{units.size(settings.workspace_limit)}"
    elif layout.error_bound > settings.tolerance:
        cand.reason = f"error bound {layout.error_bound:.1e} > tolerance {settings.tolerance:.1e}"
    elif settings.deterministic and not algorithm.deterministic:
        cand.reason = "not deterministic (deterministic=True)"
    elif settings.nonfinite_operands and not (algorithm.local_nonfinite and lowering.local_nonfinite):
        cand.reason = "spreads NaN/Inf beyond the outputs the definition puts them in"
    return cand


def build_plan(cand: Candidate) -> Plan:
    """The plan of an eligible candidate, from the layout it was priced with."""
    assert cand.layout is not None and cand.lowering is not None
    algorithm = registry.get(cand.name)
    return algorithm.build(fitting(algorithm, cand.layout, cand.lowering.weight_varies))


class OnOperands(Plan):
    """A candidate's plan run on the op's own operands (its lowering's re-layouts included), for timing."""

    def __init__(self, plan: Plan, lowering: Lowering) -> None:
        super().__init__(plan.algorithm, lowering.source)
        self.plan, self.lowering = plan, lowering

    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return self.lowering.result(self.plan.run(*self.lowering.operands(x, w)))


def _explain(chosen: str, eligible: list[Candidate], skipped: list[Candidate], measured: bool) -> str:
    """The one-line human reason: winner vs runner-up on time, then the ones a constraint
    skipped (those that do not apply are listed once, in the record's ``not_applicable``)."""
    verb, attr = ("measured", "measured_s") if measured else ("predicted", "predicted_s")
    ranked = sorted((c for c in eligible if getattr(c, attr) is not None), key=lambda c: getattr(c, attr))
    parts = []
    winner = next((c for c in ranked if c.name == chosen), None)
    if winner is not None:
        rivals = [c for c in ranked if c.name != chosen][:2]
        vs = " vs " + ", ".join(f"{c.name} {units.seconds(getattr(c, attr))}" for c in rivals) if rivals \
            else " (only candidate)"
        parts.append(f"{chosen}: {verb} {units.seconds(getattr(winner, attr))}{vs}")
    return "; ".join(parts + [c.skip_note() for c in skipped if c.supported])


def _bucket(op: str, source: ConvSpec, settings: Settings, threads: int) -> BucketKey:
    return BucketKey.of(op, source, settings.workspace_limit, settings.tolerance,
                        settings.deterministic, settings.nonfinite_operands, threads)


def _no_candidate(op: str, source: ConvSpec, cands: list[Candidate]) -> ValueError:
    notes = "; ".join(c.skip_note() for c in cands)
    hint = " (raise workspace_limit)" if any("workspace_limit" in (c.reason or "") for c in cands) else ""
    return ValueError(f"no algorithm can run {op} of {source.describe()} under the current "
                      f"settings{hint}: {notes}")


class _Choice:
    """The outcome of the automatic choice: candidates, winner, its plan if already built, reason,
    and the candidates to race (online mode, when the model is unsure)."""

    def __init__(self, cands: list[Candidate], name: str, plan: Plan | None, reason: str, reused: bool,
                 race: list[Candidate] | None = None) -> None:
        self.cands, self.name, self.plan, self.reason, self.reused = cands, name, plan, reason, reused
        self.race = race


class Context(NamedTuple):
    """What a decision reads from its planner: wisdom, the cost model, and the length buckets
    the planner decided without timing (online mode: a clear heuristic pick), bucket text -> name."""

    wisdom: Wisdom
    costs: cost_model.CostModel
    picks: dict[str, str]


def _reused(op: str, source: ConvSpec, settings: Settings, threads: int, ctx: Context) -> _Choice | None:
    """The length bucket's decision (wisdom's, else online mode's clear pick), when its winner
    can run the spec; else None.

    Only the winner is assessed for the new length (support and workspace
    change with it); the other candidates are listed with the bucket's
    measured times and ``supported=None``: not assessed, because nothing is
    decided here.  This is what keeps a new length in a decided bucket cheap.
    """
    bucket = _bucket(op, source, settings, threads)
    text = bucket.text()
    known = ctx.wisdom.lookup(text)
    source_note = "measured"
    if known is None and settings.mode == "online" and text in ctx.picks:
        known, source_note = {"algorithm": ctx.picks[text], "measured": {}}, "predicted"
    if known is None or known["algorithm"] not in registry.names():
        return None
    winner = assess(registry.get(known["algorithm"]), op, source, settings, ctx.costs)
    if not winner.eligible:
        return None
    cands = []
    for algorithm in registry.algorithms():
        cand = winner if algorithm.name == winner.name else Candidate(
            algorithm.name, bool(algorithm.deterministic), supported=None,
            note=f"not assessed: the bucket's {source_note} decision was reused")
        cand.measured_s = known["measured"].get(algorithm.name)
        cands.append(cand)
    reason = f"{winner.name}: {source_note} decision of bucket {bucket.shape} reused"
    return _Choice(cands, winner.name, None, reason, True)


def _measure(op: str, source: ConvSpec, eligible: list[Candidate], settings: Settings, threads: int,
             operands: Operands | None, wisdom: Wisdom) -> tuple[str, Plan, str]:
    """Measure-mode decision: ``(name, plan, reason)``; fills ``measured_s`` and stores it in wisdom.

    Candidates are timed best-predicted first; those predicted within
    :data:`LEADER_RATIO` of the best prediction are raced first, the rest
    only with the time left (:func:`lucid.algos.planner.stopwatch.time_plans`).
    """
    by_name = {c.name: c for c in eligible}
    x, w = operands if operands is not None else random_operands(source, op=op)
    ranked = sorted(eligible, key=lambda c: c.predicted_s or 0.0)
    built: dict[str, OnOperands] = {}
    for cand in ranked:
        assert cand.lowering is not None
        try:
            built[cand.name] = OnOperands(build_plan(cand), cand.lowering)
        except Exception as exc:     # a plan that cannot be built loses, with the reason recorded
            cand.measured_s, cand.reason = math.inf, f"prepare failed: {type(exc).__name__}: {exc}"
    best = ranked[0].predicted_s or 0.0
    leaders = sum((c.predicted_s or 0.0) <= LEADER_RATIO * best for c in ranked if c.name in built)
    times, notes = time_plans(dict[str, Plan](built), x, w, settings.time_limit, leaders=leaders,
                              min_block_s=MIN_BLOCK_S, resolve=True)
    for name, seconds in times.items():
        by_name[name].measured_s = seconds
        if name in notes:
            by_name[name].note = notes[name]
    finite = {n: t for n, t in times.items() if t is not None and math.isfinite(t)}
    if not finite:
        raise RuntimeError(f"every candidate failed while measuring {op} of {source.describe()}: {notes}")
    name = min(finite, key=lambda n: finite[n])
    wisdom.store(_bucket(op, source, settings, threads).text(), name, times)
    ties = "".join(f"; {other} {note}" for other, note in notes.items() if note.startswith("tie"))
    return name, built[name].plan, _explain(name, eligible, [], measured=True) + ties


def _auto(op: str, source: ConvSpec, settings: Settings, threads: int, operands: Operands | None, ctx: Context,
          cands: list[Candidate] | None = None) -> _Choice:
    """The best eligible candidate in the current mode (``cands``: the assessment, if already made).

    A decision of the length bucket (wisdom's in every mode) is reused first.
    """
    reused = _reused(op, source, settings, threads, ctx)
    if reused is not None:
        return reused
    if cands is None:
        cands = [assess(algorithm, op, source, settings, ctx.costs) for algorithm in registry.algorithms()]
    eligible = [c for c in cands if c.eligible]
    if not eligible:
        raise _no_candidate(op, source, cands)
    skipped = [c for c in cands if not c.eligible]
    if settings.mode == "measure":
        name, plan, reason = _measure(op, source, eligible, settings, threads, operands, ctx.wisdom)
        notes = [c.skip_note() for c in skipped if c.supported]
        return _Choice(cands, name, plan, "; ".join([reason, *notes]), False)
    ranked = sorted(eligible, key=lambda c: c.predicted_s or 0.0)
    name = ranked[0].name
    reason = _explain(name, eligible, skipped, measured=False)
    if settings.mode != "online" or settings.deterministic or settings.nonfinite_operands:
        return _Choice(cands, name, None, reason, False)
    lead = ranked[0]
    roomy = max(RACE_WORKSPACE_BYTES, 2 * (lead.workspace_bytes or 0))
    field = [c for c in ranked if (c.predicted_s or 0.0) <= RACE_RATIO * (lead.predicted_s or 0.0)
             and (c is lead or (c.workspace_bytes or 0) <= roomy)][:RACERS]
    if len(field) < 2:
        ctx.picks[_bucket(op, source, settings, threads).text()] = name
        return _Choice(cands, name, None, reason, False)
    racing = f"racing {', '.join(c.name for c in field)} on the next calls (predicted within {RACE_RATIO:g}x); "
    return _Choice(cands, name, None, racing + reason, False, race=field)


class Decided(NamedTuple):
    """What :func:`decide` returns: the plan to run, its lowering, the record, and the
    candidates to race (eligible, leader first) or None."""

    plan: Plan
    lowering: Lowering
    decision: Decision
    race: list[Candidate] | None


def decide(op: str, source: ConvSpec, settings: Settings, threads: int,
           operands: Operands | None, ctx: Context) -> Decided:
    """Decide and build the plan of ``op`` on ``source`` under ``settings`` (planning lock held).

    ``operands`` are the call's (measure mode times on them), or None for random ones;
    ``ctx`` is the planner's wisdom, cost model and clear picks.
    """
    started = time.perf_counter()
    with PLANNING_LOCK:
        ctx.wisdom.auto_load()
        forced = settings.algorithm
        if forced == AUTO:
            choice = _auto(op, source, settings, threads, operands, ctx)
        else:
            cands = [assess(algorithm, op, source, settings, ctx.costs) for algorithm in registry.algorithms()]
            mine = next(c for c in cands if c.name == forced)
            if mine.eligible:
                choice = _Choice(cands, forced, None, f"{forced}: forced", False)
            elif op == "forward" and "forward" in registry.get(forced).ops and not settings.nonfinite_operands:
                raise ValueError(f"algorithm={forced!r} cannot run forward of {source.describe()}: {mine.reason}")
            else:
                fallback = settings._replace(mode="heuristic") if settings.mode == "online" else settings
                choice = _auto(op, source, fallback, threads, operands, ctx, cands)
                choice.reason = f"forced {forced} cannot serve {op} ({mine.skip_note()}); fell back to {choice.reason}"
        winner = next(c for c in choice.cands if c.name == choice.name)
        assert winner.lowering is not None
        plan = choice.plan or build_plan(winner)
        reason = choice.reason
        if settings.nonfinite_operands:
            reason = f"operands hold NaN/Inf (check_finite=True): {reason}"
    decision = Decision(
        op=op, key=f"{source.describe()} t{threads}", spec=winner.lowering.spec.describe(),
        mode="forced" if forced != AUTO else settings.mode, algorithm=choice.name, reason=reason,
        candidates=tuple(choice.cands), cache_hit=choice.reused, duration_s=time.perf_counter() - started,
        settings=settings_record(settings))
    return Decided(plan, winner.lowering, decision, choice.race)


def settings_record(settings: Settings) -> dict:
    """The settings a record shows."""
    return {"workspace_limit": settings.workspace_limit,
            "tolerance": None if math.isinf(settings.tolerance) else settings.tolerance,
            "deterministic": settings.deterministic, "time_limit": settings.time_limit}

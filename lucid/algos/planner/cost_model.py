"""The heuristic planner's cost model: predicted seconds from an algorithm's cost features.

For an algorithm ``a`` and a spec ``s`` with features ``f_i = a.layout(s, limit).features``
(see :func:`lucid.algos.base.cost_features`: ``float32_flops``,
``moved_bytes``, ``tap_read_bytes``, ``python_steps``, ``gemm_calls``) the
prediction is linear::

    t(a, s) = c[a]["overhead"] + sum_i c[a][i] * f_i

``overhead`` is the fixed cost of one call (dispatch, allocation, pool hand-off),
``float32_flops`` the inverse sustained compute rate, ``moved_bytes`` /
``tap_read_bytes`` the inverse bandwidth of operand and per-tap traffic,
``python_steps`` / ``gemm_calls`` the cost of a Python iteration / of one
small batched matrix product.  The coefficients
of all algorithms are fitted together (:func:`fit_problems`) by a robust fit of
the *log* ratio predicted/measured on problems timed side by side, because the
planner compares ratios of predictions.  The shipped direct fit reads as
~100 GFLOP/s sustained (both cores) and 7.5 µs per Python step; fft pays
~3.5 µs per mixing GEMM and 6 µs per window copy.  Algorithms may report
features of their own (direct's ``gathered_bytes``, direct's and im2col's
``blas_threaded_flops``); they are fitted like the standard ones.

The shipped :data:`CALIBRATED` constants live in ``constants.json`` beside
this module, with their :data:`PROVENANCE` (machine, date, grid seed, number
of problems, each algorithm's fit error and the held-out regret); one command
re-creates them: ``python benchmarks/fit_cost_model.py``.  An algorithm
without calibrated constants (a newly added one) and any feature missing
from its constants get :data:`GENERIC`, a deliberately middle-of-the-road
machine model, so a new algorithm competes on its flops and bytes from day one.

Notes
-----
A linear model cannot see cache effects, BLAS efficiency on skinny matrices
or thread-pool hand-offs except through the features an algorithm reports;
its weak regions are small problems (overheads dominate, choices differ by
tens of microseconds).  Measure mode (``lucid.algos.use(mode="measure")``)
is the remedy when it matters.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping

import numpy as np
from scipy.optimize import least_squares, nnls

from .files import atomic_write_json

#: Coefficient names; ``overhead`` multiplies the constant feature 1.
OVERHEAD = "overhead"

#: Generic machine: 30 GFLOP/s, 5 GB/s, 5 µs per Python step, 1 µs per small GEMM, 50 µs per call.
GENERIC: dict[str, float] = {OVERHEAD: 50e-6, "float32_flops": 1 / 30e9, "moved_bytes": 1 / 5e9, "tap_read_bytes": 0.0,
                             "python_steps": 5e-6, "gemm_calls": 1e-6}

#: The shipped constants and their provenance, written by ``python benchmarks/fit_cost_model.py``.
CONSTANTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "constants.json")


def shipped() -> tuple[dict[str, dict[str, float]], dict]:
    """``(constants, provenance)`` as read from :data:`CONSTANTS_FILE`."""
    with open(CONSTANTS_FILE, encoding="utf-8") as handle:
        payload = json.load(handle)
    return ({name: {k: float(v) for k, v in c.items()} for name, c in payload["constants"].items()},
            payload["provenance"])


def write_shipped(table: dict[str, dict[str, float]], provenance: dict) -> None:
    """Replace :data:`CONSTANTS_FILE` with ``table`` and its ``provenance`` (the fitting script's job)."""
    atomic_write_json(CONSTANTS_FILE, {"constants": table, "provenance": provenance})


#: Fitted on this machine (see PROVENANCE, and ``fit_error`` in it for each algorithm's error).
CALIBRATED, PROVENANCE = shipped()

#: Iteration cap of the joint fit (it converges in tens; the cap bounds a pathological case).
MAX_EVALUATIONS = 300

class CostModel:
    """The coefficients one planner predicts with (the shipped :data:`CALIBRATED` ones until
    calibrated constants are installed); see :class:`lucid.algos.planner.cache.Planner`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, dict[str, float]] = {name: dict(c) for name, c in CALIBRATED.items()}

    def constants(self) -> dict[str, dict[str, float]]:
        """A copy of the coefficients in use, per algorithm name."""
        with self._lock:
            return {name: dict(c) for name, c in self._active.items()}

    def set_constants(self, table: dict[str, dict[str, float]] | None) -> None:
        """Use ``table`` (algorithm name -> coefficient name -> seconds per unit).

        ``None`` restores the shipped :data:`CALIBRATED` defaults.  Entries for
        algorithms not in ``table`` keep their current values.
        """
        with self._lock:
            if table is None:
                self._active = {name: dict(c) for name, c in CALIBRATED.items()}
                return
            merged = {name: dict(c) for name, c in self._active.items()}
            for name, coefficients in table.items():
                merged[name] = {key: float(value) for key, value in coefficients.items()}
            self._active = merged

    def predict(self, algorithm: str, features: Mapping[str, float]) -> float:
        """Predicted seconds for the algorithm named ``algorithm`` with cost ``features``
        (a layout's, see the module docstring).  Cost: a handful of multiplications."""
        return predict_with(self._active.get(algorithm, GENERIC), features)


#: The default planner's cost model (the module functions below act on it).
DEFAULT = CostModel()


def constants() -> dict[str, dict[str, float]]:
    """A copy of the default planner's coefficients (:meth:`CostModel.constants`)."""
    return DEFAULT.constants()


def set_constants(table: dict[str, dict[str, float]] | None) -> None:
    """:meth:`CostModel.set_constants` of the default planner."""
    DEFAULT.set_constants(table)


def predict(algorithm: str, features: Mapping[str, float]) -> float:
    """:meth:`CostModel.predict` of the default planner."""
    return DEFAULT.predict(algorithm, features)


def predict_with(coefficients: Mapping[str, float], features: Mapping[str, float]) -> float:
    """``overhead + sum(coefficient * feature)``; features without a coefficient use :data:`GENERIC`."""
    total = coefficients.get(OVERHEAD, GENERIC[OVERHEAD])
    for feature, value in features.items():
        total += coefficients.get(feature, GENERIC.get(feature, 0.0)) * value
    return total


def fit(samples: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    """Fit one algorithm's coefficients to ``(features, measured seconds)`` samples.

    Minimises a robust (soft-L1) loss of the log ratio ``log(F c / t)`` over
    ``c >= 0`` (``c = exp(theta)``, scipy ``least_squares``), where row ``j`` of
    ``F`` is ``[1, f_1, ..., f_m]`` of sample ``j``; the start is the
    non-negative least-squares fit of ``F c / t = 1``.  Log ratios treat over-
    and under-prediction alike, and the robust loss keeps a few timings
    inflated by a busy machine from dragging every coefficient.

    Returns
    -------
    dict
        ``{"overhead": c_0, feature: c_i, ...}``.  With fewer samples than
        coefficients, the generic constants are returned unchanged.
    """
    if not samples:
        return dict(GENERIC)
    names = sorted({key for features, _ in samples for key in features})
    if len(samples) < len(names) + 1:
        return dict(GENERIC)
    times = np.array([t for _, t in samples], dtype=float)
    matrix = _design(samples, names)
    scale = np.linalg.norm(matrix / times[:, None], axis=0)
    scale[scale == 0] = 1.0
    scaled = matrix / scale
    start, _ = nnls(scaled / times[:, None], np.ones_like(times), maxiter=50 * matrix.shape[1])
    floor = 1e-6 * max(start.max(), 1e-12)     # keep exp(theta) representable for unused features
    log_times = np.log(times)

    def residual(theta: np.ndarray) -> np.ndarray:
        return np.log(scaled @ np.exp(theta)) - log_times

    def jacobian(theta: np.ndarray) -> np.ndarray:
        weighted = scaled * np.exp(theta)
        return weighted / weighted.sum(axis=1, keepdims=True)

    solution = least_squares(residual, np.log(np.maximum(start, floor)), jac=jacobian, loss="soft_l1",
                             f_scale=0.2, max_nfev=MAX_EVALUATIONS).x
    coefficients = np.exp(solution) / scale
    return {OVERHEAD: float(coefficients[0]), **{n: float(c) for n, c in zip(names, coefficients[1:])}}


def _design(samples: list[tuple[dict[str, float], float]], names: list[str]) -> np.ndarray:
    return np.array([[1.0] + [features.get(n, 0.0) for n in names] for features, _ in samples])


def fit_problems(problems: list[dict[str, tuple[dict[str, float], float]]],
                 offset_weight: float = 1.0) -> dict[str, dict[str, float]]:
    """Fit every algorithm's coefficients jointly from problems timed side by side.

    ``problems[p][name] = (features, seconds)`` for each algorithm timed on
    problem ``p``.  On a shared, busy machine a whole problem's timings are
    often inflated together (another process ran meanwhile), so each problem
    gets a free log offset ``delta_p`` and the fit minimises a soft-L1 loss of

        log(F_a c_a) - log t_{a,p} - delta_p      and      offset_weight * delta_p

    over ``c_a = exp(theta_a) >= 0``: what is left is each algorithm's cost
    *relative to the others* on the same problem, which is what ranking
    needs; the penalty keeps offsets at zero unless several algorithms agree
    on them.  Starts from :func:`fit` of each algorithm alone.  Algorithms
    with fewer samples than coefficients are left out (they use
    :data:`GENERIC`).
    """
    rows: dict[str, list] = {}
    for p, timed in enumerate(problems):
        for name, (features, seconds) in timed.items():
            rows.setdefault(name, []).append((p, features, seconds))
    blocks = []     # (name, feature names, column scale, scaled design, problem index, log t, start)
    for name, items in sorted(rows.items()):
        samples = [(f, t) for _, f, t in items]
        names = sorted({key for f, _ in samples for key in f})
        if len(samples) < len(names) + 1:
            continue
        alone = fit(samples)
        times = np.array([t for _, t in samples])
        matrix = _design(samples, names)
        scale = np.linalg.norm(matrix / times[:, None], axis=0)
        scale[scale == 0] = 1.0
        theta = np.array([alone[OVERHEAD]] + [alone[n] for n in names]) * scale
        theta = np.log(np.maximum(theta, 1e-6 * max(theta.max(), 1e-12)))
        blocks.append((name, names, scale, matrix / scale, np.array([p for p, _, _ in items]), np.log(times), theta))
    if not blocks:
        return {}
    sizes = np.cumsum([0] + [len(b[6]) for b in blocks])

    spans = list(zip(blocks, sizes[:-1], sizes[1:]))
    n_rows = sum(len(b[5]) for b in blocks)

    def residual(params: np.ndarray) -> np.ndarray:
        offsets = params[sizes[-1]:]
        parts = [np.log(design @ np.exp(params[lo:hi])) - log_t - offsets[index]
                 for (_, _, _, design, index, log_t, _), lo, hi in spans]
        return np.concatenate(parts + [offset_weight * offsets])

    def jacobian(params: np.ndarray) -> np.ndarray:
        # d log(F e^theta) / d theta_k = F_k e^theta_k / (F e^theta);  d / d delta_p = -1
        jac = np.zeros((n_rows + len(problems), len(params)))
        row = 0
        for (_, _, _, design, index, _, _), lo, hi in spans:
            weighted = design * np.exp(params[lo:hi])
            jac[row:row + len(design), lo:hi] = weighted / weighted.sum(axis=1, keepdims=True)
            jac[np.arange(row, row + len(design)), sizes[-1] + index] = -1.0
            row += len(design)
        jac[n_rows:, sizes[-1]:] = offset_weight * np.eye(len(problems))
        return jac

    start = np.concatenate([b[6] for b in blocks] + [np.zeros(len(problems))])
    # Scaled coefficients are O(1) for a feature that explains the times; bounding their logs
    # keeps a feature that is nearly collinear with another from running off to 1e40 and back.
    lower = np.concatenate([np.full(sizes[-1], -40.0), np.full(len(problems), -np.inf)])
    upper = np.concatenate([np.full(sizes[-1], 3.0), np.full(len(problems), np.inf)])
    clipped = np.clip(start, lower, upper)
    solution = least_squares(residual, clipped, jac=jacobian, bounds=(lower, upper),
                             loss="soft_l1", f_scale=0.2, max_nfev=MAX_EVALUATIONS, tr_solver="lsmr").x
    result = {}
    for (name, names, scale, *_), lo, hi in zip(blocks, sizes[:-1], sizes[1:]):
        coefficients = np.exp(solution[lo:hi]) / scale
        result[name] = {OVERHEAD: float(coefficients[0]), **{n: float(c) for n, c in zip(names, coefficients[1:])}}
    return result


def relative_errors(coefficients: dict[str, float], samples: list[tuple[dict[str, float], float]]) -> np.ndarray:
    """``predicted / measured`` for each sample under ``coefficients`` (1.0 is perfect)."""
    return np.array([predict_with(coefficients, features) / seconds for features, seconds in samples])

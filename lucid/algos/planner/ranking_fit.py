"""Refine fitted cost-model constants for what the planner does with them: ranking.

:func:`lucid.algos.planner.cost_model.fit_problems` fits each algorithm's
predicted seconds to its measured seconds; the heuristic only needs the
*order* of the predictions on each problem to be right where it matters.
:func:`refine` starts from such a fit and minimises, over the log
coefficients ``theta``,

    mean_p  sum_a softmin_a(log pred_{a,p} / tau) * log(t_{a,p} / min_b t_{b,p})
    + weight * mean_{a,p} soft_l1(log pred_{a,p} - log t_{a,p})

the expected regret of a soft pick (temperature ``tau``, annealed towards a
hard pick) plus a small share of the original log-ratio fit, so predictions
stay near seconds and a
coefficient the ranking does not constrain does not drift.  L-BFGS-B with
bounds on ``theta`` (numerical gradients: a few dozen parameters).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .cost_model import OVERHEAD

#: Softmin temperatures, in log-time units, annealed in order.
TEMPERATURES = (0.2, 0.08, 0.03)
#: Weight of the log-ratio fit term.
FIT_WEIGHT = 0.05
#: Largest change of a log coefficient from the start (a factor e**4 ~ 55).
BOUND = 4.0

Problems = list[dict[str, tuple[dict[str, float], float]]]


class _Data:
    """The samples of all algorithms flattened: design rows, owner algorithm, problem, log time."""

    def __init__(self, constants: dict[str, dict[str, float]], problems: Problems) -> None:
        self.names = sorted({n for timed in problems for n in timed if n in constants})
        self.keys = {n: [OVERHEAD] + sorted(k for k in constants[n] if k != OVERHEAD) for n in self.names}
        rows, owner, problem, log_t = [], [], [], []
        for p, timed in enumerate(problems):
            for name, (features, seconds) in timed.items():
                if name in constants:
                    rows.append((name, [1.0] + [features.get(k, 0.0) for k in self.keys[name][1:]]))
                    owner.append(self.names.index(name))
                    problem.append(p)
                    log_t.append(np.log(seconds))
        self.owner, self.problem, self.log_t = np.array(owner), np.array(problem), np.array(log_t)
        self.count = len(problems)
        best = np.full(self.count, np.inf)
        np.minimum.at(best, self.problem, self.log_t)
        self.regret = self.log_t - best[self.problem]
        self.blocks = []     # per algorithm: sample indices, design, scale, parameter slice
        start = 0
        for i, name in enumerate(self.names):
            index = np.flatnonzero(self.owner == i)
            design = np.array([rows[j][1] for j in index])
            scale = np.maximum(np.abs(design).max(axis=0), 1e-30)
            size = len(self.keys[name])
            self.blocks.append((index, design / scale, scale, slice(start, start + size)))
            start += size
        self.size = start

    def theta(self, constants: dict[str, dict[str, float]]) -> np.ndarray:
        theta = np.zeros(self.size)
        for name, (_, _, scale, part) in zip(self.names, self.blocks):
            values = np.array([constants[name].get(k, 0.0) for k in self.keys[name]]) * scale
            theta[part] = np.log(np.maximum(values, 1e-9 * max(values.max(), 1e-30)))
        return theta

    def log_predictions(self, theta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.log_t))
        for index, design, _, part in self.blocks:
            out[index] = np.log(design @ np.exp(theta[part]))
        return out

    def constants(self, theta: np.ndarray) -> dict[str, dict[str, float]]:
        return {name: {k: float(v) for k, v in zip(self.keys[name], np.exp(theta[part]) / scale)}
                for name, (_, _, scale, part) in zip(self.names, self.blocks)}


def _loss(theta: np.ndarray, data: _Data, tau: float, weight: float) -> float:
    log_pred = data.log_predictions(theta)
    score = -log_pred / tau
    top = np.full(data.count, -np.inf)
    np.maximum.at(top, data.problem, score)
    e = np.exp(score - top[data.problem])
    total = np.zeros(data.count)
    np.add.at(total, data.problem, e)
    expected = np.zeros(data.count)
    np.add.at(expected, data.problem, e / total[data.problem] * data.regret)
    residual = log_pred - data.log_t
    fit = 2 * (np.sqrt(1 + (residual / 0.2) ** 2) - 1) * 0.04       # soft-L1 with f_scale 0.2
    return float(expected.mean() + weight * fit.mean())


def refine(constants: dict[str, dict[str, float]], problems: Problems, temperatures: tuple[float, ...] = TEMPERATURES,
           weight: float = FIT_WEIGHT, bound: float = BOUND) -> dict[str, dict[str, float]]:
    """``constants`` refined for ranking on ``problems`` (``problems[p][name] = (features, seconds)``).

    Only algorithms in ``constants`` are refined (others are left out of the
    result); problems timed with a single one of them constrain only the fit
    term.  Each log coefficient stays within ``bound`` of its start.
    Cost: a few thousand evaluations of ``O(samples * features)``.
    """
    data = _Data(constants, problems)
    if not data.names:
        return {}
    start = theta = data.theta(constants)
    bounds = list(zip(start - bound, start + bound))
    for tau in temperatures:
        theta = minimize(_loss, theta, args=(data, tau, weight), method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": 200}).x
    return data.constants(theta)

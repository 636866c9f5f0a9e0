"""Winograd F(m, r) transforms generated from Toom-Cook interpolation points.

With ``alpha = m + r - 1`` and the points ``p_0 .. p_{alpha-2}`` of
:data:`POINTS` plus the point at infinity, the correlation
``y_j = sum_k g_k d_{j+k}`` (``j < m``) of an ``alpha``-sample tile ``d`` is
``y = A^T [(G g) * (B^T d)]`` with (Toom & Cook; Lavin & Gray 2016;
Barabasz et al. 2018)::

    A^T = E_m^T,   G = E_r,   B^T = V_alpha^{-T}

where ``E_n`` (``alpha x n``) evaluates a polynomial of ``n`` coefficients at
the points (row ``i``: ``p_i^0 .. p_i^{n-1}``; the infinity row picks the
leading coefficient) and ``V_alpha = E_alpha``.  (Linear convolution is
``c = V^{-1} [(E_r g) * (E_m h)]``; correlation is its transpose in ``h``.)
Row ``i`` of ``B^T`` and of ``G`` may be scaled by ``s`` and ``1/s``: each
``B^T`` row is scaled to coprime integers, so the fractions sit in ``G``,
which is applied to the kernel once, in float64.

Everything is exact (:class:`fractions.Fraction`) and cached per ``(m, r)``;
:func:`transform_arrays` gives the float arrays per ``(m, r, dtype)``.

Accuracy: :func:`amplification` is the factor by which the transforms enlarge
the rounding errors of a direct dot product of length ``r``;
it grows quickly with ``alpha`` (points further from the unit circle), which is
why large tiles are only eligible under loose tolerances.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

#: Finite interpolation points in the order they are taken (Barabasz et al. 2018: 0, +-1, +-2, +-1/2, ...).
POINTS: tuple[Fraction, ...] = tuple(Fraction(p) for p in (
    0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, -3, Fraction(1, 3), Fraction(-1, 3),
    4, -4, Fraction(1, 4), Fraction(-1, 4)))

Matrix = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class Transforms:
    """Exact ``A^T`` (``m x alpha``), ``G`` (``alpha x r``) and ``B^T`` (``alpha x alpha``) of F(m, r)."""

    m: int
    r: int
    at: Matrix
    g: Matrix
    bt: Matrix

    @property
    def alpha(self) -> int:
        """Tile length ``m + r - 1`` (multiplications per tile per channel pair)."""
        return self.m + self.r - 1


def _evaluation(points: tuple[Fraction, ...], n: int) -> list[list[Fraction]]:
    """Rows ``p^0 .. p^{n-1}`` per finite point, then ``e_{n-1}`` for the point at infinity."""
    rows = [[p ** k for k in range(n)] for p in points]
    return rows + [[Fraction(int(k == n - 1)) for k in range(n)]]


def _inverse(a: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact inverse by Gauss-Jordan elimination (``a`` is a small nonsingular Vandermonde matrix)."""
    n = len(a)
    work = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(a)]
    for col in range(n):
        pivot = next(i for i in range(col, n) if work[i][col] != 0)
        work[col], work[pivot] = work[pivot], work[col]
        lead = work[col][col]
        work[col] = [v / lead for v in work[col]]
        for i in range(n):
            if i != col and work[i][col] != 0:
                factor = work[i][col]
                work[i] = [v - factor * c for v, c in zip(work[i], work[col])]
    return [row[n:] for row in work]


def _integer_scale(row: list[Fraction]) -> Fraction:
    """The ``s`` that makes ``s * row`` coprime integers with a positive first nonzero entry."""
    lcm = math.lcm(*(v.denominator for v in row))
    gcd = math.gcd(*(int(v * lcm) for v in row))
    first = next(v for v in row if v != 0)
    return Fraction(lcm, gcd) * (1 if first > 0 else -1)


@cache
def transforms(m: int, r: int) -> Transforms:
    """The exact transforms of F(m, r) on the first ``m + r - 2`` :data:`POINTS` and infinity.

    ValueError when ``m < 1``, ``r < 1`` or the tile needs more points than :data:`POINTS`.
    """
    if m < 1 or r < 1 or m + r - 2 > len(POINTS):
        raise ValueError(f"F(m, r) needs m >= 1, r >= 1 and m + r - 2 <= {len(POINTS)}, got m={m}, r={r}")
    alpha = m + r - 1
    points = POINTS[:alpha - 1]
    inverse = _inverse(_evaluation(points, alpha))
    bt = [[inverse[k][i] for k in range(alpha)] for i in range(alpha)]      # (V^{-1})^T
    g = _evaluation(points, r)
    for i, row in enumerate(bt):
        s = _integer_scale(row)
        bt[i] = [v * s for v in row]
        g[i] = [v / s for v in g[i]]
    at = [[row[j] for row in _evaluation(points, m)] for j in range(m)]
    return Transforms(m, r, tuple(map(tuple, at)), tuple(map(tuple, g)), tuple(map(tuple, bt)))


@cache
def transform_arrays(m: int, r: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A^T, G, B^T)`` of F(m, r) as read-only arrays of ``dtype`` (rounded once from the exact values)."""
    t = transforms(m, r)
    arrays = tuple(np.array([[float(v) for v in row] for row in mat], dtype=dtype) for mat in (t.at, t.g, t.bt))
    for a in arrays:
        a.flags.writeable = False
    return arrays     # type: ignore[return-value]


@cache
def amplification(m: int, r: int) -> float:
    """Error growth of F(m, r) relative to a direct dot product of length ``r``.

    ``max_j sqrt(sum_i (A^T_ji * ||G_i||_2 * ||B^T_i||_2)^2) / sqrt(r)``.  Output
    ``j`` sums ``A^T_ji (G g)_i (B^T d)_i`` over the ``alpha`` points; the
    transforms' rounding errors are about ``u * ||G_i|| ||g|| * ||B^T_i|| ||d||``
    per point, independent across points, so they add in quadrature -- the
    square-root model of direct's bound, where the ``r`` products give
    ``sqrt(r)``.  Invariant under the row scaling of ``G`` and ``B^T``.  Per tile
    of :data:`~lucid.algos.winograd.TILES` (pinned by tests/algos/test_winograd_family.py)::

        F(m, r)   r=2    r=3    r=4    r=5
        m=2       1.41   1.29   3.02   4.45
        m=4       3.97   5.61   5.80   5.45
        m=6       7.83   6.80   33.3   66.5

    Measured float32 errors are 1/9 to 1/32 of the resulting bound on
    ``N2 C64->16 L300`` (tests/algos/test_winograd_family.py).

    Like direct's, the bound is relative to the scale of the summed products,
    ``sqrt(sum of their squares)``: ``||y||`` when they do not cancel (random
    data, on average).  Where they cancel, the plain relative error grows by
    that scale over ``||y||``, whatever the algorithm: a 4-output float32 weight
    gradient cancelling 4x (winograd4, F(4,5)) is 2.9e-6 relative to ``||dw||``
    against a bound of 2.1e-6, and 7.2e-7 on the products' scale
    (tests/algos/test_algorithms.py measures on that scale).
    """
    at, g, bt = (np.array([[float(v) for v in row] for row in mat]) for mat in (transforms(m, r).at,
                                                                                 transforms(m, r).g,
                                                                                 transforms(m, r).bt))
    scale = np.linalg.norm(g, axis=1) * np.linalg.norm(bt, axis=1)
    return float(np.max(np.linalg.norm(at * scale, axis=1)) / np.sqrt(r))

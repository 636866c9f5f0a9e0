"""The tile-level steps of :mod:`lucid.algos.winograd`: box cutting, the chunked
GEMMs and the transforms as generated programs of ufunc passes.

A transform ``out = T @ src`` (``T`` a small matrix with entries like
``+-1, +-2, 4, -5``, applied to rows of many tiles) is compiled once per plan
into a :class:`Program`: a list of in-place ufunc calls (``add``, ``subtract``,
``multiply`` by a scalar) over *slots*, the views of one box.  Its only
cleverness is the symmetry of the points ``+-p``: two rows of ``B^T`` that
differ in the sign of their odd terms share their even and odd partial sums
(``E + O`` and ``E - O``), and two columns of ``A^T`` are first combined into
``M_p + M_-p`` and ``M_p - M_-p``, which about halves the passes of the large tiles.
"""
from __future__ import annotations

import itertools

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._gemm import matmul

#: One pass: ``ufunc(slot a, slot b or a scalar, out=slot o)``.
Op = tuple[Callable, int, "int | float", int]


def boxes(n: int, rows: int, dil: int, tile: int) -> list[tuple[int, int, int, int, int, int]]:
    """Cut the tile grid ``(n, rows, dil)`` into boxes ``(n0, n1, b0, b1, q0, q1)`` of ``<= tile`` tiles."""
    if dil >= tile:
        return [(i, i + 1, b, b + 1, q, min(q + tile, dil))
                for i in range(n) for b in range(rows) for q in range(0, dil, tile)]
    if rows * dil >= tile:
        step = tile // dil
        return [(i, i + 1, b, min(b + step, rows), 0, dil) for i in range(n) for b in range(0, rows, step)]
    step = tile // (rows * dil)
    return [(i, min(i + step, n), 0, rows, 0, dil) for i in range(0, n, step)]


def gemm_in_chunks(u: np.ndarray, v: np.ndarray, m: np.ndarray, chunk: int) -> None:
    """``m = u @ v`` (batched over points and groups) as GEMMs of ``<= chunk`` columns.

    Splitting the columns (one batched ``matmul`` over column chunks, through
    strided views, plus one for the remainder) keeps every BLAS call under
    OpenBLAS's threading threshold, so it runs on the calling pool thread.
    """
    t = v.shape[-1]
    body = t - t % chunk
    if body:
        shape = v.shape[:2] + (v.shape[2], body // chunk, chunk)
        vv = np.reshape(v[..., :body], shape, copy=False).transpose(0, 1, 3, 2, 4)
        mm = np.reshape(m[..., :body], m.shape[:3] + shape[3:], copy=False).transpose(0, 1, 3, 2, 4)
        matmul(u[:, :, None], vv, out=mm)
    if body < t:
        matmul(u, v[..., body:], out=m[..., body:])


@dataclass(frozen=True)
class Program:
    """Ufunc passes computing ``outputs = T @ inputs`` over slots, in stages.

    Slots ``0 .. n_in-1`` are the inputs, then the ``n_out`` outputs, then the
    spare scratch slots of an output's shape.  Inputs may be overwritten.
    ``stages[0]`` prepares (may be empty); stage ``1 + j`` completes output ``j``
    alone, writing it once, in its last pass: the outputs may be strided views
    of the result, or share one buffer when each is consumed by ``done(j)``.
    """

    stages: tuple[tuple[Op, ...], ...]

    def run(self, inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], spare: Sequence[np.ndarray],
            done: Callable[[int], None] | None = None) -> None:
        """Run the passes, calling ``done(j)`` once output ``j`` is complete.  Cost: one ufunc call per pass."""
        slots = list(inputs) + list(outputs) + list(spare)
        for stage, ops in enumerate(self.stages):
            for ufunc, a, b, o in ops:
                ufunc(slots[a], b if isinstance(b, float) else slots[b], out=slots[o])
            if stage and done is not None:
                done(stage - 1)

    @property
    def passes(self) -> int:
        """Number of ufunc passes."""
        return sum(map(len, self.stages))


def _signed(members: list[tuple[float, int]], out: int) -> tuple[list[Op], float]:
    """Passes for ``slot out = s * sum(sign * slot k)``; returns them and ``s`` (+-1, chosen
    so a positive term comes first)."""
    members = sorted(members, key=lambda t: t[0] < 0)
    sign = 1.0 if members[0][0] > 0 else -1.0
    (_, k0), rest = members[0], [(sign * c, k) for c, k in members[1:]]
    if not rest:
        return [(np.multiply, k0, 1.0, out)], sign
    ops: list[Op] = [(np.add if rest[0][0] > 0 else np.subtract, k0, rest[0][1], out)]
    return ops + [(np.add if c > 0 else np.subtract, out, k, out) for c, k in rest[1:]], sign


def _sum(terms: list[tuple[float, int]], out: int, scratch: int) -> list[Op]:
    """Passes for ``slot out = sum c * slot k`` (``scratch``: a free slot).

    Terms are grouped by ``|c|``: each group is summed with ``+-1`` passes and
    scaled once (``2*d1 - 2*d3`` costs two passes, not three); the group order
    with the fewest passes is taken.
    """
    groups: dict[float, list[tuple[float, int]]] = {}
    for c, k in terms:
        groups.setdefault(abs(c), []).append((1.0 if c > 0 else -1.0, k))
    return min((_grouped(list(order), out, scratch) for order in itertools.permutations(groups.items())), key=len)


def _grouped(order: list[tuple[float, list[tuple[float, int]]]], out: int, scratch: int) -> list[Op]:
    """:func:`_sum`'s passes for one order of the groups ``(|c|, [(sign, slot), ...])``."""
    ops: list[Op] = []
    for c, members in order:
        if not ops:
            if len(members) == 1:
                ops.append((np.multiply, members[0][1], members[0][0] * c, out))
                continue
            part, sign = _signed(members, out)
            ops += part + ([(np.multiply, out, sign * c, out)] if sign * c != 1.0 else [])
            continue
        if len(members) == 1 and c == 1.0:
            ops.append((np.add if members[0][0] > 0 else np.subtract, out, members[0][1], out))
            continue
        if len(members) == 1:
            ops.append((np.multiply, members[0][1], c, scratch))
            sign = members[0][0]
        else:
            part, sign = _signed(members, scratch)
            ops += part + ([(np.multiply, scratch, c, scratch)] if c != 1.0 else [])
        ops.append((np.add if sign > 0 else np.subtract, out, scratch, out))
    return ops


def _mirror(a: np.ndarray, b: np.ndarray) -> float:
    """``s`` with ``b = s * (-1)^k * a`` (entries ``k``), 0.0 when there is none or it saves nothing."""
    sign = a * (-1.0) ** np.arange(a.size)
    odd, even = np.any(a[1::2] != 0), np.any(a[0::2] != 0)
    if not (odd and even):
        return 0.0
    for s in (1.0, -1.0):
        if np.array_equal(b, s * sign):
            return s
    return 0.0


def input_program(bt: np.ndarray) -> Program:
    """``out_i = sum_k B^T_ik src_k`` with mirrored row pairs sharing even/odd partial sums (1 spare)."""
    n = bt.shape[0]
    spare, done = 2 * n, set()
    ops: list[Op] = []
    for i in range(n):
        if i in done:
            continue
        partner = next(((j, s) for j in range(i + 1, n) if j not in done and (s := _mirror(bt[i], bt[j]))), None)
        row = [(float(c), k) for k, c in enumerate(bt[i]) if c != 0]
        if partner is None:
            ops += _sum(row, n + i, spare)
            done.add(i)
            continue
        j, s = partner
        paired = _sum([t for t in row if t[1] % 2 == 0], spare, n + i)       # E, products in out_i
        paired += _sum([t for t in row if t[1] % 2 == 1], n + j, n + i)      # O
        paired += [(np.add, spare, n + j, n + i),
                   (np.subtract, spare, n + j, n + j) if s > 0 else (np.subtract, n + j, spare, n + j)]
        apart = _sum(row, n + i, spare) + _sum([(float(c), k) for k, c in enumerate(bt[j]) if c != 0], n + j, spare)
        ops += min(paired, apart, key=len)
        done |= {i, j}
    return Program((tuple(ops),))


def output_program(at: np.ndarray) -> Program:
    """``out_j = sum_i A^T_ji m_i``: mirrored columns ``(p, -p)`` are first replaced by
    ``m_p + m_-p`` (into a spare slot, whose role passes to ``m_p``'s) and
    ``m_p - m_-p`` (in place), then each row is summed in the second spare slot
    and written to ``out_j`` by its last pass (2 spares; inputs are overwritten)."""
    n_out, n_in = at.shape
    cols, done = at.T.astype(float).copy(), set()
    ops: list[Op] = []
    slot, spare, acc = list(range(n_in)), n_in + n_out, n_in + n_out + 1
    even = np.arange(n_out) % 2 == 0
    for p in range(n_in):
        q = next((q for q in range(p + 1, n_in) if q not in done and _mirror(cols[p], cols[q]) == 1.0), None)
        if p in done or q is None:
            continue
        ops += [(np.add, slot[p], slot[q], spare), (np.subtract, slot[p], slot[q], slot[q])]
        slot[p], spare = spare, slot[p]
        cols[q] = np.where(even, 0.0, cols[p])
        cols[p] = np.where(even, cols[p], 0.0)
        done |= {p, q}
    rows = []
    for j in range(n_out):
        row = _sum([(float(c), slot[i]) for i, c in enumerate(cols[:, j]) if c != 0], acc, spare)
        ufunc, a, b, _ = row[-1]
        rows.append(tuple(row[:-1]) + ((ufunc, a, b, n_in + j),))
    return Program((tuple(ops),) + tuple(rows))

"""The tile-level steps of :mod:`lucid.algos.winograd`: box cutting, edge filling, the chunked GEMMs."""
from __future__ import annotations

import numpy as np

from ._gemm import even_block, matmul


def boxes(n: int, rows: int, dil: int, tile: int) -> list[tuple[int, int, int, int, int, int]]:
    """Cut the tile grid ``(n, rows, dil)`` into boxes ``(n0, n1, b0, b1, q0, q1)`` of ``<= tile`` tiles,
    of even sizes along the axis that is cut (no small remainder box)."""
    if dil >= tile:
        step = even_block(dil, tile)
        return [(i, i + 1, b, b + 1, q, min(q + step, dil))
                for i in range(n) for b in range(rows) for q in range(0, dil, step)]
    if rows * dil >= tile:
        step = even_block(rows, tile // dil)
        return [(i, i + 1, b, min(b + step, rows), 0, dil) for i in range(n) for b in range(0, rows, step)]
    step = even_block(n, tile // (rows * dil))
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


def edge(out: np.ndarray, xg: np.ndarray, start: int, step: int) -> None:
    """``out[..., r] = xg[..., start + step*r]`` where that index is inside ``xg``, else 0."""
    count, length = out.shape[-1], xg.shape[-1]
    lo = min(count, max(0, -(start // step)))
    hi = max(lo, min(count, -(-(length - start) // step)))
    out[..., :lo] = 0
    out[..., hi:] = 0
    if hi > lo:
        first = start + step * lo
        out[..., lo:hi] = xg[..., first:first + step * (hi - lo - 1) + 1:step]

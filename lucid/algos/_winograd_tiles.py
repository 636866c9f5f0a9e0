"""The tile-level steps of :mod:`lucid.algos.winograd` F(2,3): box cutting, the
input and output transforms and the chunked GEMMs between them."""
from __future__ import annotations

import numpy as np

from ._gemm import matmul


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


def input_transform(a: list[np.ndarray], out: np.ndarray) -> None:
    """``out[i] = (B^T v)_i`` from the views ``a[i]`` of chunks ``2b + i`` of every tile."""
    np.subtract(a[0], a[2], out=out[0])
    np.add(a[1], a[2], out=out[1])
    np.subtract(a[2], a[1], out=out[2])
    np.subtract(a[1], a[3], out=out[3])


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


def tile_rows(a: np.ndarray, axis: int, lo: int, hi: int) -> np.ndarray:
    """``a`` restricted to tile rows ``lo:hi`` along ``axis``."""
    return a[(slice(None),) * axis + (slice(lo, hi),)]


def output_transform(m: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> None:
    """``(y0, y1) = A^T m``: ``y0 = m0 + m1 + m2``, ``y1 = m1 - m2 - m3``, summed in place
    in the contiguous ``m`` (overwritten), then copied out to the strided views."""
    m0, m1, m2, m3 = m
    m0 += m1
    m0 += m2
    m1 -= m2
    m1 -= m3
    np.copyto(y0, m0)
    np.copyto(y1, m1)

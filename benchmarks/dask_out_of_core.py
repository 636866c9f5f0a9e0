"""Filter and reduce a float32 signal larger than one wants in memory with ``lucid.dask.conv1d``.

Run as ``PYTHONPATH=. python benchmarks/dask_out_of_core.py GIB`` (``tests/test_dask_out_of_core.py``
runs it in a subprocess; ``benchmarks/dask_filterbank.py`` runs the 4 GiB acceptance size).
Prints one JSON object: the signal's bytes, the seconds, the peak resident memory of this
process (``VmHWM``, which unlike ``ru_maxrss`` is not inherited across ``fork``) and the checks.

The signal is generated lazily, chunk by chunk: channel ``c`` is the exact-phase sinusoid
``x[t] = cos(2*pi*(p_c*t mod q)/q + theta_c)``, whose period ``q`` divides the length.  A
depthwise filter with ``'same'`` circular padding (which reads the far end of the signal at
both edges) then maps it to ``Re(H_c exp(i(omega_c (t - left) + theta_c)))`` with
``H_c = sum_k w[c, k] exp(i omega_c k d)``, for every ``t``.  Two reductions are checked
against that closed form, computed independently of any convolution code:

- the mean of squares per channel, which over whole periods is exactly ``|H_c|**2 / 2``;
- the largest pointwise deviation from the closed form, over every output sample.
"""
from __future__ import annotations

import json
import sys
import time

import dask
import dask.array as da
import numpy as np

PERIOD = 1000                      # q: the length is a multiple of it
FREQUENCIES = (37, 211)            # p_c / q cycles per sample, one channel each
PHASES = (0.3, -1.1)
KERNEL, DILATION = 9, 3
CHUNK = 1 << 22                    # samples per channel per chunk (16 MiB per chunk and channel)


def vm_hwm_bytes() -> int:
    """The peak resident memory of this process, from ``/proc/self/status``."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _tables(responses: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the sinusoid at ``t = 0 .. q-1`` (``responses``: times ``H_c``, the filtered one).

    The phase ``2*pi*(p*t mod q)/q`` is reduced in integers, so it is exact for every ``t``.
    """
    phase = 2 * np.pi * ((np.array(FREQUENCIES)[:, None] * np.arange(PERIOD)) % PERIOD) / PERIOD
    phase += np.array(PHASES)[:, None]
    if responses is None:
        return np.cos(phase)
    return responses.real[:, None] * np.cos(phase) - responses.imag[:, None] * np.sin(phase)


def _periodic(table: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of the ``q``-periodic signals whose first period is ``table``."""
    rolled = np.roll(table, -(start % PERIOD), axis=-1)
    return np.tile(rolled, (1, -(-(stop - start) // PERIOD)))[:, :stop - start]


def _signal_block(block_info=None) -> np.ndarray:
    (_, _), (_, _), (start, stop) = block_info[None]["array-location"]
    return _periodic(_tables().astype(np.float32), start, stop)[None]


def _responses(weight: np.ndarray) -> np.ndarray:
    """``H_c = sum_k w[c, 0, k] exp(i omega_c k d)``."""
    omega = 2 * np.pi * np.array(FREQUENCIES) / PERIOD
    taps = np.arange(KERNEL) * DILATION
    return (weight[:, 0, :] * np.exp(1j * omega[:, None] * taps)).sum(1)


def _deviation_block(y: np.ndarray, expected: np.ndarray, left: int, block_info=None) -> np.ndarray:
    """The largest ``|y[c, t] - Re(H_c exp(i(omega_c (t - left) + theta_c)))|`` in this block."""
    (_, _), (_, _), (start, stop) = block_info[0]["array-location"]
    return np.full((1, 1, 1), np.abs(y[0] - _periodic(expected, start - left, stop - left)).max())


def run(gib: float) -> dict:
    """Filter and reduce a ``gib`` GiB signal; the checks and the peak memory as a dict."""
    import lucid.dask

    channels = len(FREQUENCIES)
    length = int(gib * 2**30) // (4 * channels) // PERIOD * PERIOD
    x = da.map_blocks(_signal_block, dtype=np.float32, chunks=((1,), (channels,), da.core.normalize_chunks(
        CHUNK, (length,))[0]), meta=np.empty((0, 0, 0), np.float32))
    weight = np.random.default_rng(0).standard_normal((channels, 1, KERNEL)) / KERNEL
    y = lucid.dask.conv1d(x, weight, padding="same", dilation=DILATION, groups=channels, padding_mode="circular")
    left = DILATION * (KERNEL - 1) // 2
    blocks = tuple((1,) * len(c) for c in y.chunks)
    responses = _responses(weight.astype(np.float32).astype(np.float64))
    expected = _tables(responses).astype(np.float32)         # float32 rounding: 6e-8, far under the tolerance
    deviation = da.map_blocks(_deviation_block, y, expected, left, chunks=blocks, dtype=np.float32).max()
    mean_square = (y.astype(np.float64) ** 2).mean(axis=(0, 2))
    started = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        got_mean_square, got_deviation = da.compute(mean_square, deviation)
    seconds = time.perf_counter() - started
    want = np.abs(responses) ** 2 / 2
    return {"signal_bytes": 4 * channels * length, "shape": [1, channels, length], "chunk_bytes": 4 * channels * CHUNK,
            "seconds": seconds, "gb_per_s": 4 * channels * length / seconds / 1e9, "peak_rss_bytes": vm_hwm_bytes(),
            "mean_square": got_mean_square.tolist(), "mean_square_closed_form": want.tolist(),
            "mean_square_rel_error": float(np.max(np.abs(got_mean_square - want) / want)),
            "max_deviation": float(got_deviation), "response_l1": float(np.abs(weight).sum())}


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)))

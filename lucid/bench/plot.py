"""Draw the kernel-size sweep: time against K, one line per method, the planner's pick marked.

matplotlib is optional (``pip install matplotlib``, or lucid's extra ``plot``);
:func:`require` says so in one sentence when it is missing.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._errors import install_hint
from .cases import Row

INSTALL_HINT = "--plot needs matplotlib: " + install_hint("plot", "matplotlib>=3.5")


def require() -> None:
    """Raise ``RuntimeError`` with the install hint when matplotlib is not importable."""
    if importlib.util.find_spec("matplotlib") is None:
        raise RuntimeError(INSTALL_HINT)


def plot_sweep(rows: Mapping[int, Sequence[Row]], path: str | Path, title: str) -> None:
    """Save a log-log plot of median ms against kernel size for the sweep ``rows`` (K -> rows).

    Each timed method (algorithms and peers; not ``auto``) is one line; a ring
    marks the algorithm the planner picks at each K, so a pick off the lowest
    line is visible at a glance.
    """
    require()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [(k, r) for k, found in rows.items() for r in found
          if r.status == "ok" and r.kind != "auto" and r.median_ms is not None]
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for method in dict.fromkeys(r.method for _, r in ok):
        mine = [(k, r) for k, r in ok if r.method == method]
        ax.plot([k for k, _ in mine], [float(r.median_ms or 0.0) for _, r in mine], marker="o", markersize=4,
                linestyle="--" if mine[0][1].kind == "peer" else "-", label=method)
    picks = [(k, r) for k, r in ok if r.planner_pick]
    ax.scatter([k for k, _ in picks], [float(r.median_ms or 0.0) for _, r in picks], s=120,
               facecolors="none", edgecolors="black", linewidths=1.5, zorder=3, label="planner's pick")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("kernel size K")
    ax.set_ylabel("median time per forward call (ms)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

"""``lucid-bench --model NAME --profile``: where one step's time goes, per op kind, with cheap timers.

The step runs under a :class:`lucid._profile.OpProfile` (no cProfile: one
``perf_counter`` per op).  Each op's forward is charged the time since the
previous op was recorded (its NumPy work and the model's Python in between);
each node's backward rule is timed by the engine; ``zero_grad``, the forward
pass, ``backward()`` and the optimizer step are timed as sections, so the
engine's own bookkeeping is ``backward()`` minus the rules it ran.
Convolutions are the ``Conv1d`` op kind (:func:`lucid.algos.planner.execute`
plus the bias), everything else is "the rest".
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lucid

from .. import _profile

#: The op kinds that are convolutions (their time is ``planner.execute``'s).
CONVOLUTIONS = ("Conv1d", "ConvTranspose1d")


def profile(train: Callable[[_profile.OpProfile], object], infer: Callable[[], object] | None,
            steps: int = 3) -> dict[str, Any]:
    """Profile ``steps`` calls of ``train(profile)`` (which times its own sections) and of ``infer()``.

    Returns ``{"train": table, "infer": table}``; a table has per op kind the
    calls, forward and backward milliseconds per step, and the sections.
    """
    doc: dict[str, Any] = {}
    train_profile = _profile.OpProfile()
    with _profile.profiling(train_profile):
        for _ in range(steps):
            train(train_profile)
    doc["train"] = _table(train_profile, steps)
    if infer is not None:
        infer_profile = _profile.OpProfile()
        with _profile.profiling(infer_profile), lucid.no_grad():
            for _ in range(steps):
                with infer_profile.section("forward"):
                    infer()
        doc["infer"] = _table(infer_profile, steps)
    return doc


def _table(p: _profile.OpProfile, steps: int) -> dict[str, Any]:
    ms = 1e3 / steps
    ops = {op: {"calls": p.calls[op] // steps, "forward_ms": p.forward_s[op] * ms,
                "backward_ms": p.backward_s.get(op, 0.0) * ms}
           for op in sorted(set(p.forward_s) | set(p.backward_s))}
    sections = {name: seconds * ms for name, seconds in p.sections_s.items()}
    rules_ms = sum(row["backward_ms"] for row in ops.values())
    conv_ms = sum(row["forward_ms"] + row["backward_ms"] for op, row in ops.items() if op in CONVOLUTIONS)
    total_ms = sum(sections.values())
    return {"ops": ops, "sections_ms": sections, "total_ms": total_ms, "convolutions_ms": conv_ms,
            "engine_ms": max(sections.get("backward", 0.0) - rules_ms, 0.0),
            "rest_ms": total_ms - conv_ms}


def format_profile(doc: dict[str, Any]) -> str:
    """The profile tables as text, heaviest op kinds first."""
    lines = []
    for phase, table in doc.items():
        total = table["total_ms"]
        lines.append(f"-- where a {phase} step's {total:.1f} ms go: convolutions {table['convolutions_ms']:.1f} ms "
                     f"({100 * table['convolutions_ms'] / max(total, 1e-9):.0f} %), the rest "
                     f"{table['rest_ms']:.1f} ms")
        lines.append("   sections: " + ", ".join(f"{k} {v:.1f}" for k, v in table["sections_ms"].items())
                     + (f"; engine bookkeeping in backward {table['engine_ms']:.1f}" if phase == "train" else ""))
        lines.append(f"   {'op':<18}{'calls':>6}{'forward ms':>12}{'backward ms':>13}{'total':>9}")
        rows = sorted(table["ops"].items(), key=lambda kv: -(kv[1]["forward_ms"] + kv[1]["backward_ms"]))
        for op, row in rows:
            lines.append(f"   {op:<18}{row['calls']:>6}{row['forward_ms']:>12.2f}{row['backward_ms']:>13.2f}"
                         f"{row['forward_ms'] + row['backward_ms']:>9.2f}")
    return "\n".join(lines)

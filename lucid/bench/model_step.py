"""``lucid-bench --model wavenet|tcn|conformer|vocoder``: time one whole training step of an example model.

One step is what a training loop does: ``zero_grad``, forward, loss,
``backward``, ``Adam.step``, on the model and data of ``examples/<name>.py``
(the repository's ``examples/`` folder, found next to the ``lucid`` package).
When PyTorch is installed, the same step of the PyTorch twin from
``examples/torch_twins.py``, holding the same initial weights, is timed in the
same process and the result is the ratio lucid / torch.

Method (block timing):

1. **Warm allocator state for both sides.**  One 64 MiB NumPy array is
   allocated, touched and freed before anything else: glibc serves it with
   mmap, and freeing it raises the dynamic mmap threshold to its maximum
   (32 MiB), so neither side afterwards pays page faults for fresh mmaps of
   its mid-sized temporaries while the other does not.  Then each side runs
   ``warmup`` steps (plans, FFTW wisdom, caches, PyTorch's allocator), in turn.
2. **Blocks.**  A block is ``calls`` back-to-back steps of one side, with
   ``calls`` sized by one more untimed step so that a block lasts at least
   ``min_block_s`` (50 ms); its per-step time is the block's time / ``calls``.
3. **Rounds.**  Each round times one block of every side, the order rotated
   from round to round (by default as many rounds as fit in about 40 s,
   judged from the last warm-up step: at least 5, at most 25, and no new
   round after 80 s).  After every PyTorch block the process sleeps 0.15 s,
   because PyTorch's OpenMP workers keep spinning after a call and would
   take a core from whatever runs next.
4. **Figure.**  The ratio lucid / torch of each round, and the **median of the
   per-round ratios** (adjacent blocks see similar machine load, so a ratio is
   steadier than either time on the shared machine).  Also reported: the
   ratio of the fastest blocks of each side.  Measured on the shared 2-core
   VM (2026-12-03, load average 3-5 from other users): PyTorch's step
   slows far more than lucid's -- the Conformer step of PyTorch alone took
   either ~0.3 s or ~9.6 s for stretches of tens of steps with 2 threads, but
   a steady 0.12-0.22 s with 1 thread (its two OpenMP threads wait for each
   other at every parallel region when one is descheduled); lucid's took
   0.2 s, rarely 0.9 s.  Under such load the per-round ratios scatter and
   the ratio of minima is the steadier figure.

PyTorch gets as many threads as lucid's pool (:func:`lucid.get_num_threads`,
the cores this process may run on).  Because its threads can stall (above:
on the tiny ``--quick`` sizes its 2-thread step took 56 ms against 0.28 ms
with 1 thread), PyTorch's step is then also timed with 1 thread, for
:data:`ONE_THREAD_ROUNDS` blocks after the rounds; the report shows both,
and a CAUTION line when the many-thread step is over :data:`STALL_RATIO`
times the 1-thread one.  The planner's picks are those of a
fresh plan cache: plans and records are cleared before lucid's first warm-up
step, so every convolution of the step is planned and recorded once.

Nothing is written unless ``--json PATH`` is given.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import algos
from . import model_memory, model_profile
from .model_zoo import (
    LR,
    MODELS,
    load_example,
    lucid_infer,
    lucid_step,
    profiled_step,
    threads,
    torch_infer,
    torch_step,
)
from .timing import IDLE_S, block_timing, raise_mmap_threshold

#: Seconds of timed rounds aimed at when ``rounds`` is not given: 5 to 25 rounds, as many as fit.
BUDGET_S = 40.0
#: Rounds of PyTorch's step at 1 thread, timed after the others when it ran on more (the stall check).
ONE_THREAD_ROUNDS = 3
#: PyTorch's step at its threads taking more than this times its step at 1 thread is flagged as a stall.
STALL_RATIO = 1.5


def picks(records: list[dict]) -> list[dict[str, Any]]:
    """The planner's decision per (op, shape), in first-call order."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        seen.setdefault((record["op"], record["key"]), {"op": record["op"], "shape": record["key"],
                                                         "algorithm": record["algorithm"],
                                                         "reason": record["reason"],
                                                         "called_as": record.get("called_as")})
    return list(seen.values())


def pick_summary(decided: list[dict[str, str]]) -> str:
    """``"forward: im2col 11, direct 2; backward_data: ..."``: how often each algorithm was picked per op."""
    parts = []
    for op in ("forward", "backward_data", "backward_filter"):
        counts = collections.Counter(p["algorithm"] for p in decided if p["op"] == op)
        if counts:
            parts.append(f"{op}: " + ", ".join(f"{algo} {n}" for algo, n in counts.most_common()))
    return "; ".join(parts)


def torch_one_thread(step: Callable[[], float], rounds: int = ONE_THREAD_ROUNDS) -> dict[str, Any]:
    """PyTorch's ``step`` timed with 1 thread (one warm-up step, then ``rounds`` blocks); threads restored after."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        step()
        return _summary(block_timing({"torch_1thread": step}, rounds, spinning=())["torch_1thread"])
    finally:
        torch.set_num_threads(before)


def run(name: str, *, quick: bool = False, rounds: int | None = None, warmup: int | None = None,
        peers: bool = True, seed: int = 0, progress: Callable[[str], None] | None = None,
        infer: bool = False, memory: bool = False) -> dict[str, Any]:
    """Benchmark the training step of model ``name`` (and with ``infer`` its no-grad forward, with
    ``memory`` each side's peak RSS per step); returns the JSON document (see :func:`main`)."""
    say = progress or (lambda message: None)
    stem, sizes, tiny = MODELS[name]
    sizes = tiny if quick else sizes
    warmup = warmup or (1 if quick else 2)
    time_limit = math.inf if rounds else 2 * BUDGET_S
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    raise_mmap_threshold()
    step, model, data = lucid_step(name, sizes, seed)
    methods: dict[str, Callable[[], Any]] = {"lucid": step}
    peer = torch_step(name, sizes, model, data) if peers else "peers disabled (--peers none)"
    if callable(peer):
        methods["torch"] = peer
    if infer:
        methods["lucid_infer"] = lucid_infer(name, model, data)
        torch_forward = torch_infer(name, sizes, model, data) if callable(peer) else None
        if callable(torch_forward):
            methods["torch_infer"] = torch_forward
    algos.clear_plans()
    algos.clear_records()
    last: dict[str, float] = {}
    for i in range(warmup):
        for method, fn in methods.items():
            start = time.perf_counter()
            loss = fn()
            last[method] = time.perf_counter() - start
            say(f"warm-up {i + 1}/{warmup} {method}: {last[method]:.3f} s"
                + (f", loss {loss:.5g}" if isinstance(loss, float) else ""))
            if method.startswith("torch"):
                time.sleep(IDLE_S)
        if i == 0:
            decided = picks(algos.records())
    if not rounds:
        per_round = sum(max(t, 0.05) for t in last.values()) + IDLE_S
        rounds = 2 if quick else min(25, max(5, int(BUDGET_S / per_round)))
    say(f"timing {rounds} rounds of blocks >= 50 ms")
    timed = block_timing(methods, rounds, time_limit_s=time_limit, spinning=("torch", "torch_infer"))
    rounds = len(timed["lucid"]["per_call_s"])
    doc: dict[str, Any] = {
        "model": name, "example": f"examples/{stem}.py", "quick": quick,
        "sizes": {key: list(value) if isinstance(value, tuple) else value for key, value in sizes.items()},
        "dtype": data[0].dtype.name, "parameters": sum(p.numel() for p in model.parameters()),
        "optimizer": f"Adam(lr={LR})", "threads": threads(), "rounds": rounds, "warmup_steps": warmup,
        "method": "block timing: blocks of back-to-back steps >= 50 ms, order rotated per round, 0.15 s pause "
                  "after each torch block, median of per-round ratios; 64 MiB array freed first (mmap threshold)",
        "lucid": _summary(timed["lucid"]),
        "torch": _summary(timed["torch"]) if "torch" in timed else None,
        "torch_skipped": None if callable(peer) else peer,
        "ratio_per_round": None, "ratio": None, "ratio_of_minima": None,
        "torch_1thread": None, "torch_thread_stall": None, "ratio_vs_torch_1thread": None,
        "picks": decided, "pick_summary": pick_summary(decided),
    }
    if "torch" in timed:
        ratios = [a / b for a, b in zip(timed["lucid"]["per_call_s"], timed["torch"]["per_call_s"])]
        doc["ratio_per_round"] = ratios
        doc["ratio"] = statistics.median(ratios)
        doc["ratio_of_minima"] = doc["lucid"]["min_s"] / doc["torch"]["min_s"]
        if threads() > 1:
            say(f"timing torch at 1 thread ({ONE_THREAD_ROUNDS} rounds): do its {threads()} threads stall?")
            single = torch_one_thread(methods["torch"])
            doc["torch_1thread"] = single
            doc["torch_thread_stall"] = doc["torch"]["median_s"] > STALL_RATIO * single["median_s"]
            doc["ratio_vs_torch_1thread"] = doc["lucid"]["median_s"] / single["median_s"]
    if infer:
        doc["infer"] = {"lucid": _summary(timed["lucid_infer"]), "torch": None, "ratio": None, "ratio_per_round": None}
        if "torch_infer" in timed:
            ratios = [a / b for a, b in zip(timed["lucid_infer"]["per_call_s"], timed["torch_infer"]["per_call_s"])]
            doc["infer"].update(torch=_summary(timed["torch_infer"]), ratio=statistics.median(ratios),
                                ratio_per_round=ratios)
    if memory:
        say("peak RSS of one step, each side in a fresh process")
        doc["peak_rss"] = {side: model_memory.in_child(name, side, quick)
                           for side in (("lucid", "torch") if callable(peer) else ("lucid",))}
    doc.update({"fingerprint": algos.fingerprint(),
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "load_average_before": load_before,
                "load_average_after": list(os.getloadavg()) if hasattr(os, "getloadavg") else None})
    return doc


def _summary(timing: dict[str, Any]) -> dict[str, Any]:
    return {**timing, "median_s": statistics.median(timing["per_call_s"]), "min_s": min(timing["per_call_s"])}


def format_report(doc: dict[str, Any]) -> str:
    """The human-readable summary of :func:`run`'s document."""
    lines = [f"== {doc['model']} training step ({doc['example']}), {doc['dtype']}, {doc['parameters']} parameters, "
             f"sizes {doc['sizes']}"]
    lines.append(f"lucid  median {doc['lucid']['median_s'] * 1e3:9.1f} ms/step  (per round: "
                 + ", ".join(f"{t * 1e3:.1f}" for t in doc["lucid"]["per_call_s"]) + ")")
    if doc["torch"] is not None:
        lines.append(f"torch  median {doc['torch']['median_s'] * 1e3:9.1f} ms/step  (per round: "
                     + ", ".join(f"{t * 1e3:.1f}" for t in doc["torch"]["per_call_s"]) + ")")
        lines.append(f"lucid / torch = {doc['ratio']:.2f}  (median of per-round ratios "
                     + ", ".join(f"{r:.2f}" for r in doc["ratio_per_round"]) + f"; {doc['threads']} threads each)")
        lines.append(f"fastest lucid / fastest torch = {doc['ratio_of_minima']:.2f}  (the least disturbed rounds; "
                     "trust it more when the per-round ratios scatter)")
        single = doc.get("torch_1thread")
        if single is not None:
            lines.append(f"torch at 1 thread  median {single['median_s'] * 1e3:9.1f} ms/step  (timed after the "
                         f"rounds above); lucid / torch at 1 thread = {doc['ratio_vs_torch_1thread']:.2f}")
            if doc["torch_thread_stall"]:
                lines.append(f"CAUTION: torch's step at {doc['threads']} threads ({doc['torch']['median_s'] * 1e3:.1f} "
                             f"ms) is {doc['torch']['median_s'] / single['median_s']:.1f}x its step at 1 thread "
                             f"({single['median_s'] * 1e3:.1f} ms): its threads stall here (tiny work per call or a "
                             "busy machine), so 'lucid / torch' flatters lucid; compare with the 1-thread line")
    else:
        lines.append(f"torch  not timed: {doc['torch_skipped']}")
    if doc.get("infer"):
        inf = doc["infer"]
        line = f"inference (no_grad forward): lucid median {inf['lucid']['median_s'] * 1e3:.1f} ms"
        if inf["torch"] is not None:
            line += (f", torch {inf['torch']['median_s'] * 1e3:.1f} ms, lucid / torch = {inf['ratio']:.2f} (per round: "
                     + ", ".join(f"{r:.2f}" for r in inf["ratio_per_round"]) + ")")
        lines.append(line)
    for side, rss in (doc.get("peak_rss") or {}).items():
        lines.append(f"peak RSS of training steps, {side}: " + (rss["skipped"] if "skipped" in rss else
                     f"{rss['step_mb']:.0f} MB above the {rss['rss_before_mb']:.0f} MB of libraries, model and "
                     f"data (peak {rss['peak_mb']:.0f} MB)"))
    lines.append(f"{len(doc['picks'])} decisions; " + algos.summary(
        [{"op": p["op"], "key": p["shape"], "algorithm": p["algorithm"]} for p in doc["picks"]]))
    load = doc["load_average_after"]
    if load is not None:
        lines.append(f"load average (1/5/15 min) at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # raise, so main prints one line and returns 2
        raise ValueError(message)


def build_parser() -> argparse.ArgumentParser:
    """The arguments of ``lucid-bench --model``."""
    p = _Parser(prog="lucid-bench --model", description="Time one whole training step (forward, loss, backward, "
                "Adam) of an example model in lucid and, when installed, in PyTorch, by block timing; print the "
                "ratio lucid / torch and the planner's picks.  Needs the examples/ folder of a source checkout.")
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="the example model")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds (a smoke test, not a benchmark)")
    p.add_argument("--rounds", type=int, help="timed rounds (default: as many as fit in 40 s, 5 to 25; --quick 2)")
    p.add_argument("--warmup", type=int, help="warm-up steps per side (default 2, --quick 1)")
    p.add_argument("--peers", choices=("torch", "none"), default="torch", help="time PyTorch when installed "
                   "(default) or not")
    p.add_argument("--infer", action="store_true", help="also time inference (the no_grad forward) of both sides")
    p.add_argument("--profile", action="store_true", help="print where lucid's step goes, per op kind (cheap "
                   "timers), and put it in the JSON")
    p.add_argument("--memory", action="store_true", help="measure each side's peak RSS of one step (a fresh "
                   "process each)")
    p.add_argument("--json", metavar="PATH", help="write the JSON document there (default: write nothing)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``lucid-bench --model NAME [--quick] [--rounds R] [--json PATH]``; returns the exit status.

    Prints the report; writes a file only when ``--json PATH`` says where.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        for option in ("rounds", "warmup"):
            if getattr(args, option) is not None and getattr(args, option) < 1:
                raise ValueError(f"--{option} must be a positive int, got {getattr(args, option)}")
        load_example(MODELS[args.model][0])
    except (ValueError, FileNotFoundError) as exc:
        print(f"lucid-bench: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    start = time.perf_counter()

    def progress(message: str) -> None:
        print(f"{time.perf_counter() - start:6.1f} s  {args.model}: {message}", file=sys.stderr, flush=True)
    doc = run(args.model, quick=args.quick, rounds=args.rounds, warmup=args.warmup, peers=args.peers == "torch",
              progress=progress, infer=args.infer, memory=args.memory)
    if args.profile:
        stem, sizes, tiny = MODELS[args.model]
        train, infer = profiled_step(args.model, tiny if args.quick else sizes)
        doc["profile"] = model_profile.profile(train, infer)
    doc["command"] = " ".join(["lucid-bench", *argv])
    print(format_report(doc), flush=True)
    if args.profile:
        print(model_profile.format_profile(doc["profile"]), flush=True)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"written to {path}", file=sys.stderr)
    return 0

"""``lucid-bench``: time every convolution algorithm on the suite or on any shape.

Run ``lucid-bench --help`` for the options; ``python -m lucid.bench`` is the
same command.  Tables go to stdout, progress to stderr; bad arguments print one
line and exit with status 2.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from .. import algos
from ..algos import registry
from ..algos.lowering import OPS
from ..algos.spec import ConvSpec
from ..nn.functional import padding_amounts
from ..suite import SUITE
from . import export, peers, pinning, plans, plot, scaling, sweep, train
from .cases import Case, Row, measure, suite_cases
from .model_step import MODELS
from .tables import format_report, format_summary

DESCRIPTION = """\
Time every convolution algorithm (forced), the planner's `auto` and optional
peers (PyTorch, SciPy) on the built-in suite or one custom shape, and print one
table per workload: median and min ms, GFLOP/s (definition FLOPs), x vs the
fastest, normwise error vs a float64 reference, workspace, and `*` on the
planner's pick.  Algorithms that cannot run a shape are listed with the reason.

Timing (block timing, lucid.bench.timing): a 64 MiB array is allocated and
freed first, so glibc's mmap threshold is at its maximum and no method pays
page faults for fresh outputs (lucid and torch alike); one checked warm-up call
per method; then rounds, each timing one block of back-to-back calls (>= --block
seconds) of every method, the order rotated each round, with a 0.15 s pause
after each peer block (PyTorch's threads spin after returning).  `median ms` is
the median per-call time over the rounds; `x torch` the median of per-round
ratios (lucid's block / the same round's torch block).  A method two of whose
calls (warm-up included) take longer than --cap seconds gets no blocks (n = 1,
its sizing call), so the huge-kernel workloads (direct, im2col and torch at
K=1025) stay within budget.  In the
--plot sweep such a method is also dropped for larger K.

--train adds a table of the training step per workload: forward and both
backward passes through lucid's autograd (auto) vs torch's, and lucid's three
ops alone in the same rounds (backward_filter / forward).  --threads N runs it
all in a process pinned to N cores (like taskset): lucid's pool, BLAS and torch
get N threads.

Subcommands:
  lucid-bench plans [WISDOM.json]   planner decisions: from a wisdom or records
                                    file, else the suite planned now
  lucid-bench scaling [--threads 1,2] [--workload ...] [--passes P] [--json PATH]
                                    forward and training step of auto and
                                    torch at each thread count (pinned runs)
  lucid-bench calibrate [--wisdom PATH] [--budget SECONDS]
                                    refit the planner's cost model on this
                                    machine, state its held-out regret before
                                    and after, and write the wisdom file there
  lucid-bench --model wavenet|tcn|conformer [--quick] [--json PATH]
                                    one training step of an example model vs
                                    PyTorch (lucid-bench --model NAME --help)

Files: lucid-bench writes only where it is told to (--json, --csv, --plot,
calibrate --wisdom); without them it prints and writes nothing.
"""

EPILOG = """\
examples:
  lucid-bench --quick                       the quick suite (< 30 s on 2 cores)
  lucid-bench --train --json suite.json     forward and training-step tables of the whole suite, kept as JSON
  lucid-bench --threads 1 --workload dense_k3_L4096 --train   the same on one core
  lucid-bench --shape 8,64,64,4096,3 --padding same --backward
  lucid-bench --json suite.json --csv suite.csv --plot kernel-sweep.png
  lucid-bench --model wavenet|tcn|conformer|vocoder [--infer] [--profile] [--memory] [--quick]
                                            one training step (and inference) of an example model vs PyTorch
"""


class UsageError(Exception):
    """A bad command line; :func:`main` prints it on one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's hook; raise instead of printing usage
        raise UsageError(message)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints N,C_in,C_out,L,K, got {text!r}") from None
    if len(values) != 5:
        raise argparse.ArgumentTypeError(f"expected 5 ints N,C_in,C_out,L,K, got {len(values)} in {text!r}")
    return values


def _padding(text: str) -> int | str:
    if text in ("same", "valid"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int, 'same' or 'valid', got {text!r}") from None


def _names(allowed: Sequence[str], what: str):
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(v for v in text.split(",") if v)
        bad = [v for v in items if v not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"{what} must be among {list(allowed)}, got {bad}")
        return items
    return parse


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    return parse


def _none_or(allowed: Sequence[str], what: str):
    def parse(text: str) -> tuple[str, ...]:
        return () if text == "none" else _names(allowed, what)(text)
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the benchmark run (subcommands are parsed separately)."""
    p = _Parser(prog="lucid-bench", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the quick workloads, 3 repeats, 0.5 s cap")
    p.add_argument("--workload", type=_names([w.name for w in SUITE], "--workload"), metavar="NAME[,NAME]",
                   help="only these suite workloads: " + ", ".join(w.name for w in SUITE))
    p.add_argument("--shape", type=_ints, metavar="N,C_in,C_out,L,K", help="one custom shape instead of the suite")
    p.add_argument("--stride", type=int, default=1, help="with --shape (default 1)")
    p.add_argument("--padding", type=_padding, default=0, help="with --shape: int, same or valid (default 0)")
    p.add_argument("--dilation", type=int, default=1, help="with --shape (default 1)")
    p.add_argument("--groups", type=int, default=1, help="with --shape (default 1)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--backward", action="store_true", help="also time backward_data and backward_filter")
    p.add_argument("--algorithms", type=_none_or(registry.names(), "--algorithms"), metavar="A[,B]|none",
                   help="force only these algorithms (default all: " + ", ".join(registry.names())
                   + "; 'none' for auto only)")
    p.add_argument("--peers", type=_none_or(peers.PEERS, "--peers"), default="torch,scipy", metavar="torch,scipy|none",
                   help="peers to time when installed (default torch,scipy; 'none' for none)")
    p.add_argument("--repeats", type=_positive(int), help="timed rounds per method (default 5, --quick 3)")
    p.add_argument("--cap", type=_positive(float), help="seconds per call above which (twice) a method gets no blocks "
                   "(default 2, --quick 0.5)")
    p.add_argument("--block", type=_positive(float), default=0.05, metavar="SECONDS",
                   help="least duration of a timed block of back-to-back calls (default 0.05)")
    p.add_argument("--train", action="store_true", help="also time the training step (forward + both backward "
                   "passes through autograd) of each workload, lucid auto vs torch")
    p.add_argument("--threads", type=_positive(int), metavar="N", help="run in a process pinned to the first N "
                   "cores (lucid's pool, BLAS and torch get N threads)")
    p.add_argument("--json", metavar="PATH", help="write all rows and the machine fingerprint as JSON")
    p.add_argument("--csv", metavar="PATH", help="write all rows with the machine fingerprint as CSV")
    p.add_argument("--model", choices=sorted(MODELS), help="instead of the suite, time one whole training step "
                   "(forward, loss, backward, Adam) of an example model against PyTorch; its own options: "
                   "--quick, --rounds, --warmup, --peers, --json (lucid-bench --model NAME --help)")
    p.add_argument("--plot", metavar="PATH.png", help="also time a dense N=1 C=32->32 L=8192 layer at K = 1..2049 "
                   "(algorithms, auto, torch; 3 rounds; 0.5 s cap) and plot time against K (needs matplotlib)")
    return p


def _custom_case(args: argparse.Namespace) -> Case:
    n, c_in, c_out, length, k = args.shape
    if n < 1:
        raise UsageError(f"--shape: N must be >= 1 (an empty batch has nothing to time), got {n}")
    if args.padding == "same" and args.stride != 1:
        raise UsageError(f"--padding same needs --stride 1, got --stride {args.stride}")
    try:
        spec = ConvSpec(n, c_in, c_out, length, k, args.stride, padding_amounts(args.padding, k, args.dilation),
                        args.dilation, args.groups, args.dtype)
    except ValueError as exc:
        raise UsageError(f"--shape: {exc}") from None
    return Case("custom", spec, args.padding)


def _cases(args: argparse.Namespace) -> list[Case]:
    if args.shape is None:
        shaped = [f"--{a}" for a in ("stride", "padding", "dilation", "groups")
                  if getattr(args, a) != build_parser().get_default(a)]
        if shaped:
            raise UsageError(f"{', '.join(shaped)} need --shape (suite workloads have fixed shapes)")
        return suite_cases(args.quick, args.workload, args.dtype)
    if args.workload:
        raise UsageError("--shape and --workload are exclusive: give one of them")
    return [_custom_case(args)]


def _progress(prefix: str, start: float):
    def report(method: str) -> None:
        print(f"{time.perf_counter() - start:6.1f} s  {prefix}: {method}", file=sys.stderr, flush=True)
    return report


def run(args: argparse.Namespace, command: str) -> int:
    """Run the benchmark described by parsed ``args``; print tables, write files.

    With ``--threads N`` on other than N cores, the run happens in a child
    process pinned to N cores (:mod:`lucid.bench.pinning`).
    """
    cases = _cases(args)
    if args.threads is not None and not pinning.runs_on(args.threads):
        try:
            return pinning.run_pinned(args.threads, shlex.split(command)[1:])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    load_before = export.load_average()
    repeats = args.repeats or (3 if args.quick else 5)
    cap = args.cap or (0.5 if args.quick else 2.0)
    if args.plot:
        try:
            plot.require()
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None
    ops = OPS if args.backward else ("forward",)
    start = time.perf_counter()
    rows: list[Row] = []
    for i, case in enumerate(cases, 1):
        for op in ops:
            found = measure(case, op, algorithms=args.algorithms, peers=args.peers, repeats=repeats, cap_s=cap,
                            min_block_s=args.block, progress=_progress(f"[{i}/{len(cases)}] {case.name} {op}", start))
            print(format_report(found, {case.name: case.target}) + "\n", flush=True)
            rows.extend(found)
    print(format_summary(rows), flush=True)
    trained = [train.measure_train(case, torch="torch" in args.peers, repeats=repeats, cap_s=cap,
                                   min_block_s=args.block, progress=_progress(f"[{i}/{len(cases)}] {case.name}", start))
               for i, case in enumerate(cases, 1)] if args.train else []
    if trained:
        print("\n" + train.format_table(trained), flush=True)
    if args.plot:
        swept = sweep.run_sweep(args.algorithms or registry.names(), args.peers, repeats=min(repeats, 3),
                                dtype=args.dtype, progress=_progress("[sweep]", start))
        n, c_in, c_out, length = sweep.SHAPE
        plot.plot_sweep(swept, args.plot, f"lucid conv1d forward, N={n} C={c_in}->{c_out} L={length} "
                        f"{args.dtype}, median of {min(repeats, 3)}")
        rows.extend(row for found in swept.values() for row in found)
        print(f"kernel sweep plotted to {args.plot}", file=sys.stderr)
    if args.json or args.csv:
        method = export.METHOD.format(block_ms=args.block * 1e3, repeats=repeats, cap_s=cap)
        doc = export.document(rows, command, train=trained, method=method, threads=pinning.describe(),
                              load_before=load_before)
        if args.json:
            export.write_json(args.json, doc)
        if args.csv:
            export.write_csv(args.csv, doc)
    return 0


def plans_command(argv: Sequence[str]) -> int:
    """``lucid-bench plans [WISDOM.json]``: planner decisions as a table."""
    p = _Parser(prog="lucid-bench plans", description="Print planner decisions: those in WISDOM.json (a wisdom "
                "file or exported records) if given, else the suite's workloads planned now with the current "
                "settings (LUCID_PLANNER, LUCID_WISDOM, ...).")
    p.add_argument("wisdom", nargs="?", metavar="WISDOM.json", help="wisdom file or lucid.algos.export_records file")
    args = p.parse_args(argv)
    try:
        print(plans.file_report(args.wisdom) if args.wisdom else plans.suite_report())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def scaling_command(argv: Sequence[str], command: str) -> int:
    """``lucid-bench scaling``: speed-ups from thread counts (see :mod:`lucid.bench.scaling`)."""
    try:
        args = scaling.parse(argv, _Parser)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    doc = scaling.run(args.threads, args.workload, repeats=args.repeats, block_s=args.block, passes=args.passes,
                      command=command)
    print(scaling.format_table(doc["rows"], args.threads))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        export.write_json(args.json, doc)
        print(f"written to {args.json}", file=sys.stderr)
    return 0


def calibrate_command(argv: Sequence[str]) -> int:
    """``lucid-bench calibrate``: refit the planner's cost model on this machine, judge it out of
    sample and write wisdom."""
    p = _Parser(prog="lucid-bench calibrate", description="Time the algorithms on part of the planner's fitting "
                "grid, refit its cost model, compare the heuristic's regret before and after on part of the "
                "held-out grid, keep the new constants only if they are not worse, and, with --wisdom PATH, "
                "write the wisdom file (load it with LUCID_WISDOM=PATH).")
    p.add_argument("--wisdom", metavar="PATH", help="wisdom file to write (default: none; the result is only "
                   "printed)")
    p.add_argument("--budget", type=_positive(float), default=50.0, help="seconds to spend (default 50)")
    p.add_argument("--fit-problems", type=_positive(int), default=60, help="fitting-grid problems (default 60)")
    p.add_argument("--test-problems", type=_positive(int), default=40, help="held-out problems (default 40)")
    args = p.parse_args(argv)
    result = algos.calibrate(args.wisdom, budget_s=args.budget, fit_count=args.fit_problems,
                             test_count=args.test_problems)
    for name, fit in sorted(result["fit"].items()):
        print(f"{name:<10} {fit['samples']:>4} samples  predicted/measured median {fit['median_ratio']:.2f}, "
              f"typical error x{fit['spread']:.2f}, worst x{fit['worst_ratio']:.2f}")
    for label in ("before", "after"):
        s = result[label]["all"]
        print(f"held-out regret {label:<6} ({s['count']} problems): geomean {s['geomean']}, worst {s['worst']}, "
              f"over 1.15: {s['over_1.15']}")
    print("new constants installed" if result["installed"] else "new constants not better out of sample: kept")
    print(f"wisdom written to {args.wisdom}" if args.wisdom else "wisdom not written (give --wisdom PATH to keep it)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lucid-bench``; returns the exit status (2 for bad arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["plans"]:
            return plans_command(argv[1:])
        if argv[:1] == ["scaling"]:
            return scaling_command(argv[1:], shlex.join(["lucid-bench", *argv]))
        if argv[:1] == ["calibrate"]:
            return calibrate_command(argv[1:])
        if any(a == "--model" or a.startswith("--model=") for a in argv):
            from . import model_step
            return model_step.main(argv)
        return run(build_parser().parse_args(argv), shlex.join(["lucid-bench", *argv]))
    except UsageError as exc:
        print(f"lucid-bench: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)

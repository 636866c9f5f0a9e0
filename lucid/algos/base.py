"""The contract every convolution algorithm implements: two stages, layout then build.

An algorithm is an object with a ``name``, three class-level facts
(``ops``, ``deterministic``, ``local_nonfinite``) and two methods; the planner knows
algorithms only through them (see :mod:`lucid.algos`):

``layout(spec, workspace_limit)``
    The algorithm's arrangement of the :class:`~lucid.algos.spec.ConvSpec`
    under that many bytes of workspace, as a :class:`Layout` that answers every
    question the planner asks -- ``workspace_bytes``, ``flops``,
    ``error_bound`` and the cost ``features`` -- priced at that limit.  It
    allocates nothing.  A ``str`` instead is the reason the algorithm does not
    apply ("winograd: F(2,3) needs kernel_size=3, got 5").  A layout whose
    ``workspace_bytes`` exceed the limit is the algorithm's smallest (its
    floor): it does not fit.
``build(layout)``
    The :class:`Plan` of a fitting layout: everything that depends only on
    the shape, allocated once.

The base class owns the path between them, :meth:`Algorithm.prepare`:
supports -> fits -> build, with the one error message for each refusal.
Adding an algorithm is one module that subclasses :class:`Algorithm` and
calls :func:`lucid.algos.registry.register`; the planner needs no change.

Backward passes are convolutions too: :mod:`lucid.algos.lowering` rewrites
backward-data and backward-filter as forward problems, so any algorithm that
supports the derived spec can serve them.  An algorithm that solves a backward
op natively lists it in ``ops``: the planner then also poses it that op on the
source spec (``spec.op``), and its plan's ``run`` takes that op's operands.
"""
from __future__ import annotations

import abc
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from .scratch import thread_scratch as thread_scratch  # algorithms borrow per-thread scratch here
from .spec import ConvSpec


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


#: Default workspace limit: the smaller of 1 GiB and an eighth of the RAM.  Layouts are
#: priced at it when no limit is given (the planner passes its ``workspace_limit`` setting).
DEFAULT_WORKSPACE_LIMIT = min(1 << 30, _physical_memory() // 8)


@dataclass(frozen=True)
class Layout:
    """One algorithm's arrangement of one spec under one workspace limit, priced.

    Attributes
    ----------
    spec : ConvSpec
        The problem.
    workspace_limit : int
        The limit it was laid out under.
    workspace_bytes : int
        Bytes the plan built from it allocates beyond input, weight and output
        (per-thread scratch it borrows included).  Above ``workspace_limit``:
        the algorithm's smallest layout, which does not fit.
    flops : float
        Floating-point operations the plan really executes per run.
    error_bound : float
        Normwise relative error bound ``||y - y_exact|| / ||y_exact||`` it keeps.
    features : Mapping[str, float]
        What the cost model (:mod:`lucid.algos.planner.cost_model`) weighs;
        :func:`cost_features` gives the standard ones.
    detail : Any
        The algorithm's own choice (fft's geometry, im2col's chunking, direct's
        strategy and blocks), read back by :meth:`Algorithm.build`.
    weight_varies : bool
        The weight is new every run (the backward-filter problem, whose "weight"
        is ``dy``): plans then skip caching weight transforms (a hit is impossible).
    """

    spec: ConvSpec
    workspace_limit: int
    workspace_bytes: int
    flops: float
    error_bound: float
    features: Mapping[str, float]
    detail: Any = field(default=None, repr=False, compare=False)
    weight_varies: bool = False

    @property
    def fits(self) -> bool:
        """``workspace_bytes <= workspace_limit``."""
        return self.workspace_bytes <= self.workspace_limit


class Plan(abc.ABC):
    """A per-shape executable: owns buffers and caches, runs one spec many times.

    Subclasses implement :meth:`run`.  A plan may keep a transform of the last
    weight it saw (see :class:`WeightCache`); it is never shared across shapes.
    """

    def __init__(self, algorithm: Algorithm, spec: ConvSpec) -> None:
        self.algorithm = algorithm
        self.spec = spec

    @abc.abstractmethod
    def run(self, x: np.ndarray, w: np.ndarray, /) -> np.ndarray:
        """Compute the forward problem of :attr:`spec` (or, natively, its ``spec.op``:
        ``(dy, x) -> dw`` for backward_filter, ``(dy, w) -> dx`` for backward_data).

        Parameters
        ----------
        x : ndarray, shape ``spec.input_shape``, dtype ``spec.dtype``
            Unpadded input; the plan applies ``spec.padding`` zeros itself.
        w : ndarray, shape ``spec.weight_shape``
            Weight.  Plans may cache a transform of it; the cache is checked
            against the values every call, so in-place updates are always seen.

        Returns
        -------
        ndarray, shape ``spec.output_shape``
            A fresh array the caller owns (never a view of plan buffers).
        """

    def held_bytes(self) -> int:
        """Bytes of the arrays this plan keeps between calls (its own buffers,
        cached weight transforms): every ndarray reachable from its attributes
        through lists, tuples, dicts and lucid objects, each allocation counted
        once however many views of it there are.  Scratch borrowed per thread
        (:func:`thread_scratch`) is not the plan's.  The planner bounds its
        plan cache by the sum.  Cost: a walk over the plan's attributes.
        """
        seen: set[int] = set()
        allocations: dict[int, int] = {}
        stack: list = [vars(self)]
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, np.ndarray):
                while isinstance(item.base, np.ndarray):
                    item = item.base
                allocations[id(item)] = item.nbytes
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)):
                stack.extend(item)
            elif type(item).__module__.startswith("lucid.") and hasattr(item, "__dict__"):
                stack.append(vars(item))
        return sum(allocations.values())


class Algorithm(abc.ABC):
    """Base class of the algorithms; see the module docstring for the contract."""

    name: ClassVar[str]
    #: The ops (:data:`~lucid.algos.spec.OPS`) whose specs its layouts solve.  ``"forward"``
    #: serves every op through the lowering; a backward op listed here is solved natively
    #: on the source spec (``spec.op`` says which).  :meth:`supports` and :meth:`prepare`
    #: refuse a spec whose op is not listed, and ``layout`` should too.
    ops: ClassVar[tuple[str, ...]] = ("forward",)
    #: The method it belongs to, for reports that group variants (Winograd's tile sizes); None: its name.
    family: ClassVar[str | None] = None
    #: True when results are bitwise reproducible run to run (fixed reduction order).
    deterministic: ClassVar[bool] = True
    #: True when a NaN/Inf in one operand reaches exactly the outputs whose defining
    #: dot products contain it (each output computed on its own).  Transform methods
    #: (FFT, Winograd) mix whole rows or tiles and set it False; the planner then
    #: re-runs calls with non-finite operands on an algorithm that keeps it True.
    local_nonfinite: ClassVar[bool] = True

    @abc.abstractmethod
    def layout(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT) -> Layout | str:
        """This algorithm's :class:`Layout` of ``spec`` within ``workspace_limit`` bytes,
        or the reason it does not apply.  Allocates nothing."""

    @abc.abstractmethod
    def build(self, layout: Layout) -> Plan:
        """The :class:`Plan` of a fitting ``layout`` (one this algorithm returned)."""

    def supports(self, spec: ConvSpec) -> str | None:
        """``None`` if this algorithm can run ``spec`` (given workspace), else the reason."""
        layout = self.checked_layout(spec, DEFAULT_WORKSPACE_LIMIT)
        return layout if isinstance(layout, str) else None

    def checked_layout(self, spec: ConvSpec, workspace_limit: int) -> Layout | str:
        """:meth:`layout`, or the reason when ``spec.op`` is not one of :attr:`ops`."""
        if spec.op not in self.ops:
            return f"{self.name}: solves {' and '.join(self.ops)} only, not {spec.op}"
        return self.layout(spec, workspace_limit)

    def prepare(self, spec: ConvSpec, workspace_limit: int = DEFAULT_WORKSPACE_LIMIT, *,
                weight_varies: bool = False) -> Plan:
        """Lay out and build: the per-shape :class:`Plan` within ``workspace_limit`` bytes.

        Raises
        ------
        ValueError
            With the algorithm's reason when it does not apply, or naming the
            bytes it needs when its smallest layout exceeds ``workspace_limit``.
        """
        layout = self.checked_layout(spec, workspace_limit)
        if isinstance(layout, str):
            raise ValueError(layout)
        return self.build(fitting(self, layout, weight_varies))

    def __repr__(self) -> str:
        return f"<lucid algorithm {self.name!r}>"


def fitting(algorithm: Algorithm, layout: Layout, weight_varies: bool = False) -> Layout:
    """``layout`` (marked ``weight_varies``) if it fits its limit, else the ValueError naming the need."""
    if not layout.fits:
        raise ValueError(f"{algorithm.name}: workspace_limit must be at least {layout.workspace_bytes} bytes "
                         f"for {layout.spec.describe()}, got {layout.workspace_limit}")
    return replace(layout, weight_varies=weight_varies) if weight_varies != layout.weight_varies else layout


def cost_features(spec: ConvSpec, flops: float, workspace_bytes: int, python_steps: float | None = None,
                  gemm_calls: float | None = None, tap_read_bytes: float | None = None) -> dict[str, float]:
    """The cost features of a layout, named for what they count.

    ``float32_flops``
        ``flops`` scaled by ``itemsize / 4`` (float64 runs at about half the rate).
    ``moved_bytes``
        Operands (input, weight, output) plus the layout's workspace.
    ``tap_read_bytes``
        ``N*C_in*K*L_out`` elements: the traffic of a method that reads the input
        once per tap (default), 0 for one that reads it once.
    ``python_steps``
        Python-level loop iterations per run (default ``min(K, L_out)``, one per tap).
    ``gemm_calls``
        Matrix products dispatched per run (default ``python_steps * N * groups``).

    Keys missing from an algorithm's calibrated constants get the cost model's
    generic coefficients, so a new algorithm can report just these.
    """
    steps = float(min(spec.kernel_size, spec.l_out)) if python_steps is None else float(python_steps)
    operands = spec.n * spec.c_in * spec.length + spec.c_out * spec.cig * spec.kernel_size \
        + spec.n * spec.c_out * spec.l_out
    return {
        "float32_flops": flops * spec.itemsize / 4.0,
        "moved_bytes": float(operands * spec.itemsize + workspace_bytes),
        "tap_read_bytes": float(spec.n * spec.c_in * spec.kernel_size * spec.l_out * spec.itemsize
                                if tap_read_bytes is None else tap_read_bytes),
        "python_steps": steps,
        "gemm_calls": steps * spec.n * spec.groups if gemm_calls is None else float(gemm_calls),
    }


def unit_roundoff(spec: ConvSpec) -> float:
    """Unit roundoff ``u`` of the spec's dtype (2**-24 or 2**-53)."""
    return float(np.finfo(spec.np_dtype).eps) / 2.0


class WeightCache:
    """Caches ``transform(w)`` and recomputes it whenever ``w``'s values change.

    Validity is decided by value (a stored copy compared with ``np.array_equal``),
    so optimizer steps, in-place edits, ``load_state_dict`` and raw NumPy writes
    all invalidate it.  Cost of a hit: one pass over the weight, ``O(C_out*Cig*K)``,
    negligible beside the convolution itself.  The transform is passed to
    :meth:`get`, not stored: a plan that stored its own bound method here would
    sit in a reference cycle and outlive its eviction until the cyclic GC ran.

    Safe for concurrent runs without a lock: the weight copy and its transform
    are published together as one tuple, and ``transform`` must return a fresh
    array, so a run keeps the value it read while another run replaces it.
    """

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled
        self._entry: tuple[np.ndarray, np.ndarray] | None = None     # (weight copy, transform)

    def get(self, w: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Return ``transform(w)``, from the cache when ``w`` is unchanged (always
        recomputed, with no compare or copy, when the cache is not ``enabled``)."""
        if not self._enabled:
            return transform(w)
        entry = self._entry
        if entry is None or entry[0].shape != w.shape or not np.array_equal(entry[0], w):
            entry = self._entry = (np.array(w, copy=True), transform(w))
        return entry[1]


def ufunc_buffer_bytes(spec: ConvSpec) -> int:
    """Transient bytes of one elementwise NumPy operation on strided operands.

    NumPy 2.x's ufunc iterator allocates a ``np.getbufsize()``-element buffer
    per non-contiguous input (two for a binary operation), even when it ends
    up not using them; they live only during the call.  A plan counts this
    once per thread that runs such operations (64 KiB per buffer in float64).
    """
    return 2 * np.getbufsize() * spec.itemsize


def padded_input(spec: ConvSpec, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` with ``spec.padding`` zeros on each side, written into ``out`` if given.

    ``out`` (shape ``(N, C_in, L_pad)``) lets a plan reuse one buffer; its pad
    regions are rewritten with zeros on every call, so it may be shared.
    """
    left, right = spec.padding
    if left == 0 and right == 0:
        return x
    if out is None:
        out = np.empty((spec.n, spec.c_in, spec.l_padded), dtype=x.dtype)
    out[:, :, :left] = 0
    out[:, :, left + spec.length:] = 0
    out[:, :, left:left + spec.length] = x
    return out

"""The contract every convolution algorithm implements.

An algorithm is an object with a ``name`` and five methods; the planner knows
algorithms only through them (see :mod:`lucid.algos`):

``supports(spec)``
    ``None`` when it can solve the :class:`~lucid.algos.spec.ConvSpec`, else a
    sentence saying why not ("winograd: F(2,3) needs kernel_size=3, got 5").
``flops(spec)``
    Floating-point operations it really executes (not the definition's count).
``workspace_bytes(spec, workspace_limit)``
    Bytes the plan ``prepare(spec, workspace_limit)`` would allocate beyond
    input, weight and output.  A value above ``workspace_limit`` is the
    algorithm's floor: it cannot fit, and ``prepare`` raises ValueError.
``error_bound(spec)``
    A normwise relative error bound ``||y - y_exact|| / ||y_exact||`` it keeps.
``prepare(spec, workspace_limit)``
    A :class:`Plan`: everything that depends only on the shape, built once.

Backward passes are convolutions too: :mod:`lucid.algos.lowering` rewrites
backward-data and backward-filter as forward problems, so any algorithm that
supports the derived spec can serve them.
"""
from __future__ import annotations

import abc
import threading
from typing import ClassVar

import numpy as np

from .config import DEFAULT_WORKSPACE_LIMIT
from .spec import ConvSpec


class Plan(abc.ABC):
    """A per-shape executable: owns buffers and caches, runs one spec many times.

    Subclasses implement :meth:`run`.  A plan may keep a transform of the last
    weight it saw (see :class:`WeightCache`); it is never shared across shapes.
    """

    def __init__(self, algorithm: "Algorithm", spec: ConvSpec) -> None:
        self.algorithm = algorithm
        self.spec = spec

    @abc.abstractmethod
    def run(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Compute the forward problem of :attr:`spec`.

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
    #: True when results are bitwise reproducible run to run (fixed reduction order).
    deterministic: ClassVar[bool] = True
    #: True when a NaN/Inf in one operand reaches exactly the outputs whose defining
    #: dot products contain it (each output computed on its own).  Transform methods
    #: (FFT, Winograd) mix whole rows or tiles and set it False; the planner then
    #: re-runs calls with non-finite operands on an algorithm that keeps it True.
    local_nonfinite: ClassVar[bool] = True

    @abc.abstractmethod
    def supports(self, spec: ConvSpec) -> str | None:
        """``None`` if this algorithm can run ``spec``, else the reason in words."""

    @abc.abstractmethod
    def flops(self, spec: ConvSpec) -> float:
        """Floating-point operations executed for ``spec``."""

    @abc.abstractmethod
    def workspace_bytes(self, spec: ConvSpec, workspace_limit: int) -> int:
        """Bytes of workspace the plan ``prepare(spec, workspace_limit)`` allocates.

        Algorithms that chunk report the chunked layout's bytes (at most
        ``workspace_limit``); a value greater than ``workspace_limit`` is the
        smallest layout they have (their floor), and then :meth:`prepare`
        raises ValueError naming ``workspace_limit``.
        """

    @abc.abstractmethod
    def error_bound(self, spec: ConvSpec) -> float:
        """Normwise relative error bound of the result for ``spec``'s dtype."""

    @abc.abstractmethod
    def prepare(self, spec: ConvSpec, workspace_limit: int) -> Plan:
        """Build the per-shape :class:`Plan` within ``workspace_limit`` bytes.

        Raises ValueError naming ``workspace_limit`` when
        ``workspace_bytes(spec, workspace_limit) > workspace_limit``.
        """

    def cost_features(self, spec: ConvSpec) -> dict[str, float]:
        """Quantities the planner's cost model weighs to predict this algorithm's time.

        The default serves any algorithm: ``flops`` (float32-equivalent, i.e.
        scaled by ``itemsize / 4``), ``bytes`` (operands + default-limit workspace),
        ``column_bytes`` (``N*C_in*K*Lout`` elements: the traffic of a method
        that reads the input once per tap), ``taps`` (``min(K, Lout)``, the
        Python loop count of a tap-wise method) and ``gemms`` (``taps * N *
        groups``, small matrix products dispatched).
        Override to report an algorithm's real loop counts; keys missing from
        the calibrated constants get the cost model's generic coefficients.
        """
        taps = float(min(spec.kernel_size, spec.l_out))
        operands = spec.n * spec.c_in * spec.length + spec.c_out * spec.cig * spec.kernel_size \
            + spec.n * spec.c_out * spec.l_out
        return {
            "flops": self.flops(spec) * spec.itemsize / 4.0,
            "bytes": float(operands * spec.itemsize + self.workspace_bytes(spec, DEFAULT_WORKSPACE_LIMIT)),
            "column_bytes": float(spec.n * spec.c_in * spec.kernel_size * spec.l_out * spec.itemsize),
            "taps": taps,
            "gemms": taps * spec.n * spec.groups,
        }

    def __repr__(self) -> str:
        return f"<lucid algorithm {self.name!r}>"


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
    """

    def __init__(self) -> None:
        self._key: np.ndarray | None = None
        self._value = None

    def get(self, w: np.ndarray, transform):
        """Return ``transform(w)``, from the cache when ``w`` is unchanged."""
        if self._key is None or self._key.shape != w.shape or not np.array_equal(self._key, w):
            self._value = transform(w)
            self._key = np.array(w, copy=True)
        return self._value


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


_thread_scratch = threading.local()


def thread_scratch(name: str, count: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D buffer of ``count`` items of ``dtype``, private to the calling thread.

    Per-call scratch is borrowed from here instead of being owned by a plan:
    each thread keeps one buffer per ``name``, grown to the largest request
    and reused by every plan, so a new shape's plan neither allocates nor
    page-faults its scratch (a measure-mode loop over many lengths otherwise
    paid ~1.5 us per fresh 4 KiB page on each new plan's first run, up to
    1.5 ms per call for im2col, 2026-11-26) and the plan cache does not hold
    one copy per shape.  The contents are valid until the calling thread's
    next request of the same ``name``.  Workspace accounting is unchanged:
    plans still report this scratch, and no run borrows more than its plan
    reports.  Caveat: a thread keeps, per name, the largest buffer it was ever
    asked for, until it exits (the pool's threads live as long as the process).
    """
    nbytes = count * np.dtype(dtype).itemsize
    buffers = getattr(_thread_scratch, "buffers", None)
    if buffers is None:
        buffers = _thread_scratch.buffers = {}
    buffer = buffers.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[name] = np.empty(nbytes, np.uint8)
    return buffer[:nbytes].view(dtype)

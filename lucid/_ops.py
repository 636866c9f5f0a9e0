"""Former home of the arithmetic rules, now :mod:`lucid.ops`; ``unbroadcast`` is kept here for old imports."""
from .ops.arith import unbroadcast

__all__ = ["unbroadcast"]

"""The planner: which algorithm runs each convolution, planned once per shape and cached.

Its own package, beside the algorithms it chooses from, which never import it:

=================  ==========================================================
module             job
=================  ==========================================================
``cache``          the hot path (:func:`execute`) and the LRU plan cache
``decision``       a cache miss: assess every algorithm's layout, choose, build
``candidates``     typed values: ``Candidate``, ``Decision``, ``BucketKey``
``config``         settings: argument -> ``use()`` scope -> environment -> default
``cost_model``     predicted seconds from a layout's cost features
``stopwatch``      measure mode's race of candidate plans within a time limit
``history``        the decisions, as JSON-ready records and a printable report
``wisdom``         measured decisions and fitted constants, saved across runs
``calibration``    refits the cost model on this machine
``machine``        the fingerprint a timing depends on
``units``          seconds and bytes as people read them
``files``          atomic JSON writes
=================  ==========================================================
"""
from .cache import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SIZE, cache_info, choose, clear_plans, execute, set_cache_size
from .candidates import BUCKETS_PER_OCTAVE
from .decision import LEADER_RATIO

__all__ = ["execute", "choose", "clear_plans", "set_cache_size", "cache_info", "DEFAULT_CACHE_SIZE",
           "DEFAULT_CACHE_BYTES", "BUCKETS_PER_OCTAVE", "LEADER_RATIO"]

"""The planner: which algorithm runs each convolution, planned once per shape and cached.

Its own package, beside the algorithms it chooses from, which never import it:

=================  ==========================================================
module             job
=================  ==========================================================
``cache``          the ``Planner`` object (all the state), the hot path (:func:`execute`)
``race``           online mode's races of the top candidates on real calls
``plan_cache``     the two-queue, byte-bounded cache of plans; memory back to the OS
``decision``       a cache miss: assess every algorithm's layout, choose, build
``candidates``     typed values: ``Candidate``, ``Decision``, ``BucketKey``
``config``         settings: argument -> ``use()`` scope -> environment -> default
``cost_model``     predicted seconds from a layout's cost features
``stopwatch``      measure mode's timing of candidate plans within a time limit; the noise rules
``history``        the decisions, as JSON-ready records and a printable report
``wisdom``         measured decisions and fitted constants, saved across runs
``calibration``    times problems block-timed, fits constants, recalibrates this machine
``grids``          the seeded problem grids constants are fitted on and judged on
``regret``         the heuristic's regret per op and algorithm family
``machine``        the fingerprint a timing depends on
``units``          seconds and bytes as people read them
``files``          atomic JSON writes
=================  ==========================================================
"""
from .cache import Planner, cache_info, choose, clear_plans, default_planner, execute, set_cache_size
from .candidates import BUCKETS_PER_OCTAVE
from .decision import LEADER_RATIO
from .plan_cache import DEFAULT_CACHE_SIZE, default_cache_bytes

__all__ = ["Planner", "default_planner", "execute", "choose", "clear_plans", "set_cache_size", "cache_info",
           "DEFAULT_CACHE_SIZE", "default_cache_bytes", "BUCKETS_PER_OCTAVE", "LEADER_RATIO"]

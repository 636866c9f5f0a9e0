"""The planner's choice for an op with one native algorithm taken out (for the native-vs-lowered scripts)."""
from __future__ import annotations

from lucid import algos
from lucid.algos import registry
from lucid.algos.spec import ConvSpec


def choice_without(native: str, spec: ConvSpec, op: str) -> str:
    """The algorithm the heuristic picks for ``op`` on ``spec`` when ``native`` is not registered;
    ``native`` is registered again and the plans it left cleared, whatever happens."""
    algorithm = registry.unregister(native)
    try:
        return algos.choose(spec, op)
    finally:
        registry.register(algorithm)
        algos.clear_plans()

"""The layers of lucid, checked on the source: no import circles anywhere in the package,
algorithms never import the planner, and no file over 400 lines.

The import graph is read from the AST of every module (``import a.b`` and
``from .x import y``, resolving ``y`` to a submodule when it is one), imports
inside functions included, so a circle cannot hide behind a late import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lucid"
ALGORITHMS = ("direct", "im2col", "fft", "winograd", "_fft_blocks", "_winograd_tiles", "_winograd_transforms",
              "_gemm", "_parallel", "_blas_threads", "wgrad", "col2im")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """Modules of lucid that module ``name`` imports (anywhere in its body)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):      # a name defined by the module itself
                found.add(target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle_through(start: str) -> list[str] | None:
    """A shortest import circle from ``start`` back to itself, if any."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(GRAPH[path[-1]]):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                paths.append(path + [nxt])
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_circle(name):
    cycle = _cycle_through(name)
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_algorithms_never_import_the_planner(name):
    module = f"lucid.algos.{name}"
    seen, stack = set(), [module]
    while stack:                       # everything it imports, transitively
        for nxt in GRAPH[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    planner = sorted(m for m in seen if m.startswith("lucid.algos.planner"))
    assert not planner, f"{module} imports {planner}"


@pytest.mark.parametrize("path", sorted(MODULES.values()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400

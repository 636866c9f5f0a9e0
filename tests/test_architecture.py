"""The layers of lucid, checked on the source: no import circles anywhere in the package,
algorithms never import the planner, and no file over 400 lines; and, on the tests' source,
every random seed is stable (no ``hash()``, clock or OS entropy).

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


#: Calls that seed a random generator (NumPy, ``random``, lucid).
SEEDERS = {"default_rng", "seed", "manual_seed", "Random", "RandomState", "SeedSequence", "PCG64", "PCG64DXSM",
           "MT19937", "Philox", "SFC64"}
#: Calls whose value differs from process to process: ``hash`` (of a str: ``PYTHONHASHSEED``),
#: clocks, the process id, object ids, OS entropy.
UNSTABLE = {"hash", "id", "time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns",
            "process_time", "now", "utcnow", "today", "getpid", "urandom", "token_bytes", "randbits", "uuid1", "uuid4"}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _unstable(node: ast.AST, tainted: set[str]) -> bool:
    """Whether ``node`` calls an :data:`UNSTABLE` function or reads a name assigned from one."""
    return any((isinstance(n, ast.Call) and _callee(n) in UNSTABLE) or (isinstance(n, ast.Name) and n.id in tainted)
               for n in ast.walk(node))


def unstable_seeds(source: str) -> list[str]:
    """``line: call`` of every generator seeded from an unstable value (directly, through a
    ``seed=`` keyword, or through a name assigned from one) or not seeded at all (OS entropy)."""
    tree = ast.parse(source)
    tainted: set[str] = set()
    assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))]
    while True:         # names assigned from unstable values, and from those names, to a fixed point
        grown = {t.id for a in assignments if a.value is not None and _unstable(a.value, tainted)
                 for target in (a.targets if isinstance(a, ast.Assign) else [a.target])
                 for t in ast.walk(target) if isinstance(t, ast.Name)}
        if grown <= tainted:
            break
        tainted |= grown
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        seeder = _callee(node) in SEEDERS
        unseeded = seeder and not node.args and not node.keywords
        values = [*node.args, *(k.value for k in node.keywords)] if seeder else \
            [k.value for k in node.keywords if k.arg in ("seed", "seeds", "random_state")]
        if unseeded or any(_unstable(v, tainted) for v in values):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("bad", [
    "rng = np.random.default_rng(abs(hash(spec)) % 2**32)",
    "np.random.seed(hash((n, 'x')))",
    "lucid.manual_seed(int(time.time()))",
    "s = hash(spec.describe())\nrng = default_rng([s, 1])",
    "t = time.perf_counter_ns()\nseed = t % 97\nr = random.Random(seed)",
    "x, w = operands(spec, seed=hash(spec) % 7)",
    "rng = np.random.default_rng()",
    "state = np.random.RandomState(os.getpid())",
])
def test_the_seed_scan_flags_unstable_seeds(bad):
    assert unstable_seeds(bad), bad


def test_the_seed_scan_accepts_stable_seeds():
    good = ("rng = np.random.default_rng([m, r])\nrng = default_rng(zlib.crc32(spec.describe().encode()))\n"
            "random.Random(tid)\nlucid.manual_seed(3)\nx, w = operands(spec, seed=i)\n"
            "assert hash(a) == hash(b)\nstart = time.perf_counter()")
    assert unstable_seeds(good) == []


@pytest.mark.parametrize("path", sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_random_seed_of_the_tests_is_stable(path):
    """Tests (and the benchmarks CI runs) draw their randomness from fixed seeds: never ``hash()``
    (a str's hash changes with ``PYTHONHASHSEED``), never a clock, never OS entropy, so a failure
    reproduces in every process."""
    assert unstable_seeds(path.read_text()) == []

"""``lucid.dask.conv1d`` on the threaded scheduler: exact against the float64 loop oracle and
against lucid's in-memory ``nn.Conv1d`` for every padding mode, stride, dilation, groups and
chunking (chunks shorter than the halo, uneven chunks, N chunked); graph locality; bad input;
and that ``import lucid`` never imports dask."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from reference import conv1d_ref

da = pytest.importorskip("dask.array")

import lucid  # noqa: E402
import lucid.dask  # noqa: E402
from lucid.nn.conv import PADDING_MODES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def random_case(rng: np.random.Generator, mode: str, stride: int) -> dict:
    """A random small problem for ``mode`` and ``stride``: shapes, padding and a random chunking."""
    groups = int(rng.choice([1, 2, 3]))
    cig, cog, n = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    kernel, dilation = int(rng.integers(1, 7)), int(rng.integers(1, 6))
    span = dilation * (kernel - 1) + 1
    length = int(rng.integers(max(span, 2), span + 40))
    choice = rng.integers(4) if stride == 1 else rng.integers(3)
    padding = ("valid", int(rng.integers(0, min(length - 1, span) + 1)), "causal", "same")[choice]
    cuts = rng.choice(np.arange(1, length), size=int(rng.integers(0, min(length - 1, 10) + 1)), replace=False)
    chunks = tuple(np.diff(np.r_[0, np.sort(cuts), length]).tolist())
    return dict(x=rng.standard_normal((n, groups * cig, length)), w=rng.standard_normal((groups * cog, cig, kernel)),
                b=rng.standard_normal(groups * cog), stride=stride, padding=padding, dilation=dilation,
                groups=groups, mode=mode, chunks=(int(rng.integers(1, n + 1)), -1, chunks))


def lazy(case: dict, dtype=np.float64):
    """``lucid.dask.conv1d`` of ``case`` (not computed)."""
    x = da.from_array(case["x"].astype(dtype), chunks=case["chunks"])
    return lucid.dask.conv1d(x, case["w"], case["b"], case["stride"], case["padding"], case["dilation"],
                             case["groups"], case["mode"])


def in_memory(case: dict, dtype=lucid.float64) -> np.ndarray:
    """``lucid.nn.Conv1d`` with the case's weights on the whole signal."""
    c_out, cig, kernel = case["w"].shape
    conv = lucid.nn.Conv1d(cig * case["groups"], c_out, kernel, case["stride"], case["padding"], case["dilation"],
                           case["groups"], padding_mode=case["mode"], dtype=dtype)
    conv.weight.data, conv.bias.data = case["w"], case["b"]
    return conv(lucid.tensor(case["x"], dtype=dtype)).data


def oracle(case: dict) -> np.ndarray:
    return conv1d_ref(case["x"], case["w"], case["b"], case["stride"], case["padding"], case["dilation"],
                      case["groups"], case["mode"])


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_matches_the_loop_oracle_and_lucid_in_memory(mode, stride):
    rng = np.random.default_rng([PADDING_MODES.index(mode), stride])
    for _ in range(12):
        case = random_case(rng, mode, stride)
        y = lazy(case)
        got = y.compute(scheduler="threads")
        want = oracle(case)
        assert got.shape == want.shape == y.shape, case
        assert relative_error(got, want) < 1e-12, case
        assert relative_error(got, in_memory(case)) < 1e-12, case


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_float32_chunks_of_one_sample_far_shorter_than_the_halo(mode):
    rng = np.random.default_rng(7)
    case = dict(x=rng.standard_normal((2, 2, 40)), w=rng.standard_normal((4, 1, 5)), b=rng.standard_normal(4),
                stride=1, padding="same", dilation=4, groups=2, mode=mode, chunks=(1, 1, 1))
    y = lazy(case, np.float32)
    assert y.chunks[2] == (1,) * 40 and y.dtype == np.float32
    got = y.compute(scheduler="threads")
    assert relative_error(got, oracle(case)) < 1e-5
    assert relative_error(got, in_memory(case, lucid.float32)) < 1e-5


def test_output_chunks_follow_the_input_chunks_with_stride_alignment():
    x = da.zeros((3, 4, 100), chunks=(2, 2, (30, 30, 40)))
    y = lucid.dask.conv1d(x, np.ones((6, 4, 5)), stride=3, padding=2)
    # L_out = (100 + 4 - 5) // 3 + 1 = 34; the chunk of t holds sample 3t: [0, 30), [30, 60), [60, 100)
    assert y.chunks == ((2, 1), (6,), (10, 10, 14))
    # edges 31 and 64 are not multiples of 3: samples 3t from 31 start at t = 11, from 64 at t = 22
    y = lucid.dask.conv1d(da.zeros((3, 4, 100), chunks=(2, 2, (31, 33, 36))), np.ones((6, 4, 5)), stride=3, padding=2)
    assert y.chunks[2] == (11, 11, 12)


def expected_output_chunks(chunks: tuple[int, ...], stride: int, l_out: int) -> tuple[int, ...]:
    """The documented output chunking, by brute force: output ``t`` belongs to the input chunk that
    holds sample ``t*stride`` (the last chunk for samples beyond the signal), empty chunks dropped."""
    owner = np.minimum(np.searchsorted(np.cumsum(chunks), np.arange(l_out) * stride, side="right"), len(chunks) - 1)
    return tuple(int(c) for c in np.bincount(owner, minlength=len(chunks)) if c)


@pytest.mark.parametrize("stride", [2, 3, 4, 5])
def test_output_chunk_edges_for_strides_that_do_not_divide_the_input_edges(stride):
    """The first output of a chunk is the first ``t`` whose sample ``t*s`` lies in it: edges are
    ceiled to the stride, also when ``s`` does not divide them (a floor moves each such edge one
    output left: the values stay right, the chunking does not)."""
    rng = np.random.default_rng([stride, 21])
    x0 = rng.standard_normal((2, 3, 100))
    w, b = rng.standard_normal((6, 3, 5)), rng.standard_normal(6)
    undivided = 0
    for trial in range(8):
        cuts = np.sort(rng.choice(np.arange(1, 100), size=int(rng.integers(2, 9)), replace=False))
        chunks = tuple(np.diff(np.r_[0, cuts, 100]).tolist())
        undivided += int(np.any(cuts % stride))
        padding = int(rng.integers(0, 5))
        y = lucid.dask.conv1d(da.from_array(x0, chunks=(1, 3, chunks)), w, b, stride, padding)
        l_out = (100 + 2 * padding - 5) // stride + 1
        assert y.chunks[2] == expected_output_chunks(chunks, stride, l_out), (chunks, padding)
        if trial < 2:
            assert relative_error(y.compute(scheduler="threads"), conv1d_ref(x0, w, b, stride, padding)) < 1e-12
    assert undivided >= 6


def test_each_task_reads_only_its_chunk_and_halo():
    """Locality: output block j depends on input blocks j-1..j+1 (halo < chunk), plus the far end for circular."""
    x = da.zeros((1, 1, 1000), chunks=(1, 1, 100))
    graph = {}
    for mode in ("zeros", "circular"):
        y = lucid.dask.conv1d(x, np.ones((1, 1, 9)), padding="same", padding_mode=mode)
        deps = y.__dask_graph__().get_all_dependencies()
        graph[mode] = [sorted(k[3] for k in deps[(y.name, 0, 0, j)] if k[0] == x.name) for j in range(10)]
    inner = [[j - 1, j, j + 1] for j in range(1, 9)]
    assert graph["zeros"] == [[0, 1]] + inner + [[8, 9]]
    assert graph["circular"] == [[0, 1, 9]] + inner + [[0, 8, 9]]


def test_weight_and_bias_may_be_lucid_tensors_and_channels_are_rechunked():
    rng = np.random.default_rng(3)
    case = dict(x=rng.standard_normal((2, 4, 30)), w=rng.standard_normal((3, 4, 3)), b=rng.standard_normal(3),
                stride=1, padding=1, dilation=1, groups=1, mode="reflect", chunks=(1, 1, 7))
    x = da.from_array(case["x"], chunks=case["chunks"])
    y = lucid.dask.conv1d(x, lucid.tensor(case["w"]), lucid.tensor(case["b"]), padding=1, padding_mode="reflect")
    assert relative_error(y.compute(scheduler="threads"), oracle(case)) < 1e-6       # float32 tensors, cast


def test_forced_algorithm_runs_in_every_task():
    lucid.algos.clear_records()
    x = da.from_array(np.random.default_rng(0).standard_normal((1, 1, 64)), chunks=(1, 1, 16))
    lucid.dask.conv1d(x, np.ones((1, 1, 3)), algorithm="im2col").compute(scheduler="threads")
    assert {r["algorithm"] for r in lucid.algos.records() if r["op"] == "forward"} == {"im2col"}


def test_wisdom_is_loaded_once_per_process(tmp_path, monkeypatch):
    from lucid.dask import _tasks
    calls = []
    monkeypatch.setattr(_tasks, "load_wisdom", calls.append)
    monkeypatch.setattr(_tasks, "_wisdom_loaded", set())
    x = da.zeros((1, 1, 64), chunks=(1, 1, 8))
    path = tmp_path / "wisdom.json"
    for _ in range(2):
        lucid.dask.conv1d(x, np.ones((1, 1, 3)), wisdom=path).compute(scheduler="threads")
    assert calls == [str(path)]


def _bad(**changes):
    arguments = dict(x=da.zeros((2, 4, 50), chunks=(1, 4, 10)), weight=np.ones((6, 2, 3)), groups=2)
    arguments.update(changes)
    return lucid.dask.conv1d(**arguments)


@pytest.mark.parametrize("changes, error, words", [
    (dict(x=np.zeros((2, 4, 50))), TypeError, "x must be a dask.array.Array"),
    (dict(x=da.zeros((4, 50))), ValueError, "x must be a 3-D dask array"),
    (dict(x=da.zeros((2, 4, 50), dtype=np.int32)), TypeError, "x must be a float32 or float64"),
    (dict(x=da.zeros((2, 3, 50))), ValueError, "input must be a tensor with 4 channels"),
    (dict(weight=[[[1.0]]]), TypeError, "weight must be a NumPy array or lucid.Tensor"),
    (dict(weight=np.ones((6, 3))), ValueError, "weight must be a 3-D"),
    (dict(bias=np.ones(5)), ValueError, "bias must be None or a tensor of shape (6,)"),
    (dict(groups=4), ValueError, "groups must be a divisor"),
    (dict(stride=0), ValueError, "stride must be a positive int"),
    (dict(padding="same", stride=2), ValueError, "padding must be an int or 'valid'"),
    (dict(padding=50, padding_mode="reflect"), ValueError, "padding must be at most 49"),
    (dict(padding=51, padding_mode="circular"), ValueError, "padding must be at most 50"),
    (dict(padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (dict(weight=np.ones((6, 2, 60))), ValueError, "input must be at least 60 samples long"),
    (dict(algorithm="magic"), ValueError, "algorithm must be one of"),
    (dict(wisdom=3), TypeError, "wisdom must be a str or os.PathLike"),
])
def test_bad_input_names_the_argument(changes, error, words):
    with pytest.raises(error, match=None) as raised:
        _bad(**changes)
    assert words in str(raised.value)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_import_lucid_never_imports_dask():
    done = _python("import lucid, lucid.nn, lucid.algos, sys; assert 'dask' not in sys.modules, 'dask imported'")
    assert done.returncode == 0, done.stderr


def test_without_dask_the_import_error_says_what_to_install():
    blocker = ("import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
               "        if name == 'dask' or name.startswith('dask.'):\n            raise ImportError('no dask')\n"
               "sys.meta_path.insert(0, Block())\nimport lucid\ntry:\n    import lucid.dask\nexcept ImportError as e:\n"
               "    print(e)\n")
    done = _python(blocker)
    assert done.returncode == 0, done.stderr
    assert "pip install 'dask[array,distributed]>=2024.1'" in done.stdout           # works anywhere
    assert "pip install -e '.[dask]' in a lucid checkout" in done.stdout and "'lucid-conv[dask]'" in done.stdout


@pytest.mark.parametrize("module", ["lucid.dask", "lucid.dask._conv"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed

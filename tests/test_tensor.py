"""Tensor, autograd, dtypes, devices and factories behave as their PyTorch spellings promise."""
from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest
from reference import finite_difference

import lucid
import lucid.nn as nn


# ----------------------------------------------------------------- dtypes
@pytest.mark.parametrize("data,dtype", [
    (1.5, lucid.float32), ([1.0, 2.0], lucid.float32), ([1, 2], lucid.int64), (True, lucid.bool),
    (np.array([1.0]), lucid.float64), (np.array([1.0], np.float32), lucid.float32),
    (np.array([1], np.int32), lucid.int64)
])
def test_dtype_inference(data, dtype):
    t = lucid.tensor(data)
    assert t.dtype is dtype
    assert t.data.dtype == np.dtype(dtype)


@pytest.mark.parametrize("spelling", [lucid.float64, "float64", np.float64, np.dtype("float64")])
def test_dtype_spellings(spelling):
    assert lucid.tensor([1, 2], dtype=spelling).dtype is lucid.float64
    assert lucid.zeros(2, dtype=spelling).dtype is lucid.float64


def test_default_float_dtype_of_factories():
    for t in (lucid.zeros(2), lucid.ones(2), lucid.empty(2), lucid.randn(2), lucid.rand(2), lucid.arange(0.0, 1.0)):
        assert t.dtype is lucid.float32
    assert lucid.arange(5).dtype is lucid.int64
    assert lucid.arange(5).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("device", [None, "cpu", lucid.device("cpu")])
def test_cpu_devices(device):
    t = lucid.zeros(2, device=device)
    assert t.device == lucid.device("cpu") and str(t.device) == "cpu"


@pytest.mark.parametrize("device", ["cuda", "mps", "cuda:0"])
def test_other_devices_are_a_clear_error(device):
    with pytest.raises(ValueError, match="device.*only the CPU|CPU only"):
        lucid.zeros(2, device=device)
    with pytest.raises(ValueError, match="CPU only"):
        lucid.device(device)


def test_sizes_as_ints_or_one_sequence():
    assert lucid.zeros(4, 1, 16).shape == lucid.zeros((4, 1, 16)).shape == lucid.zeros([4, 1, 16]).shape \
        == (4, 1, 16)
    assert lucid.ones(()).shape == ()
    with pytest.raises(TypeError, match="size"):
        lucid.zeros(2.0, 3)
    with pytest.raises(ValueError, match="size"):
        lucid.zeros(-1)


def test_like_factories_and_from_numpy_shares_memory():
    base = lucid.ones(2, 3, dtype="float64")
    assert lucid.zeros_like(base).dtype is lucid.float64 and lucid.zeros_like(base).shape == (2, 3)
    assert lucid.ones_like(base).numpy().sum() == 6
    array = np.zeros(3)
    t = lucid.from_numpy(array)
    array[0] = 5.0
    assert t.dtype is lucid.float64 and t[0].item() == 5.0
    assert np.shares_memory(t.numpy(), array)


def test_manual_seed_reproduces_random_factories():
    lucid.manual_seed(3)
    a, b = lucid.randn(5), lucid.rand(5)
    lucid.manual_seed(3)
    assert np.array_equal(a.numpy(), lucid.randn(5).numpy()) and np.array_equal(b.numpy(), lucid.rand(5).numpy())
    assert (b.numpy() >= 0).all() and (b.numpy() < 1).all()


# ----------------------------------------------------------------- basics
def test_attributes_and_conversions():
    t = lucid.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and isinstance(t.shape, tuple) and t.ndim == 2 and t.numel() == 6
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert t.sum().item() == 21.0 and isinstance(t.sum().item(), float)
    assert np.asarray(t).dtype == np.float32 and np.asarray(t, dtype=np.float64).dtype == np.float64
    assert t.is_leaf and t.grad is None and not t.requires_grad
    assert t.reshape(3, 2).shape == (3, 2) and t.reshape((6,)).shape == (6,) and t.reshape(-1, 2).shape == (3, 2)
    assert t[1, 2].item() == 6.0 and t[:, 1].tolist() == [2.0, 5.0] and t[..., None].shape == (2, 3, 1)
    assert len(t) == 2
    assert t.data is t.numpy()
    assert f"{t.sum():.1f}" == "21.0"


def test_repr_like_pytorch():
    assert repr(lucid.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(lucid.tensor([0.1234567, 2.0])) == "tensor([0.1235, 2.0000])"
    assert repr(lucid.tensor(3.0)) == "tensor(3.)"
    assert repr(lucid.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(lucid.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(lucid.tensor([1.0], dtype="float64")) == "tensor([1.], dtype=lucid.float64)"
    assert repr(lucid.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert "grad_fn=<MulBackward>" in repr(lucid.ones(2, requires_grad=True) * 2)


def test_repr_matches_torch_on_common_values():
    torch = pytest.importorskip("torch")
    for values in ([1.0, 2.0], [0.5, -1.25], [[1.0, 2.5], [3.0, 4.0]], 7.0):
        assert repr(lucid.tensor(values)) == repr(torch.tensor(values))


# --------------------------------------------------------------- autograd
def test_arithmetic_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    a0, b0, m0 = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, (4,)), rng.standard_normal((4, 2))

    def f(a, b, m, lib):
        return ((-a * b + a / b - 2.0 ** a + a ** 2 - 3.0 / b + 1.0 - b) @ m).sum() if lib else \
            float(((-a * b + a / b - 2.0 ** a + a ** 2 - 3.0 / b + 1.0 - b) @ m).sum())
    a = lucid.tensor(a0, requires_grad=True)
    b = lucid.tensor(b0, requires_grad=True)
    m = lucid.tensor(m0, requires_grad=True)
    f(a, b, m, True).backward()
    np.testing.assert_allclose(a.grad.numpy(), finite_difference(lambda v: f(v, b0, m0, False), a0), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), finite_difference(lambda v: f(a0, v, m0, False), b0), rtol=1e-6)
    np.testing.assert_allclose(m.grad.numpy(), finite_difference(lambda v: f(a0, b0, v, False), m0), rtol=1e-6)


def test_tensor_exponent_gradient():
    base = lucid.tensor([2.0, 3.0], dtype="float64")
    e = lucid.tensor([1.5, 2.0], dtype="float64", requires_grad=True)
    (base ** e).sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), np.array([2.0, 3.0]) ** [1.5, 2.0] * np.log([2.0, 3.0]))


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((2, 3, 4), (4, 5)),
                                   ((2, 3, 4), (1, 4, 5))])
def test_matmul_gradients_for_every_rank(sa, sb):
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal(sa), rng.standard_normal(sb)
    a, b = lucid.tensor(a0, requires_grad=True), lucid.tensor(b0, requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), finite_difference(lambda v: (v @ b0).sum(), a0), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), finite_difference(lambda v: (a0 @ v).sum(), b0), rtol=1e-6)


def test_broadcast_gradients_are_reduced_to_each_shape():
    a = lucid.ones(2, 3, requires_grad=True)
    b = lucid.ones(1, 3, requires_grad=True)
    c = lucid.ones(3, requires_grad=True)
    (a * b + c * 2).sum().backward()
    assert b.grad.shape == (1, 3) and b.grad.tolist() == [[2.0, 2.0, 2.0]]
    assert c.grad.shape == (3,) and c.grad.tolist() == [4.0, 4.0, 4.0]
    assert a.grad.shape == (2, 3)


def test_sum_mean_dims_and_keepdim():
    x0 = np.arange(24.0).reshape(2, 3, 4)
    x = lucid.tensor(x0, requires_grad=True)
    assert x.sum(dim=1).shape == (2, 4) and x.sum(dim=(0, 2), keepdim=True).shape == (1, 3, 1)
    np.testing.assert_allclose(x.mean(dim=-1).numpy(), x0.mean(-1))
    (x.mean(dim=(0, 2)) * lucid.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(np.array([1, 2, 3.0])[None, :, None] / 8, x0.shape))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(dim=3)


def test_indexing_and_reshape_gradients():
    x = lucid.zeros(3, 4, requires_grad=True)
    (x[1:, ::2].sum() * 2 + x.reshape(12)[0]).backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] = 2
    expected[0, 0] = 1
    assert np.array_equal(x.grad.numpy(), expected)


def test_gradients_accumulate_and_shared_subexpressions_add():
    x = lucid.tensor([3.0], requires_grad=True)
    y = x * x
    (y + y).sum().backward()
    assert x.grad.tolist() == [12.0]
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [13.0]


def test_backward_needs_gradient_for_non_scalars():
    x = lucid.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(lucid.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(ValueError, match="gradient"):
        (x * 2).backward(np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        lucid.ones(2).sum().backward()


def test_requires_grad_only_for_floats():
    with pytest.raises(TypeError, match="requires_grad"):
        lucid.tensor([1, 2], requires_grad=True)


def test_detach_leaves_the_graph():
    x = lucid.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf and d.tolist() == [2.0, 2.0]
    assert not (x * 2).is_leaf


# ---------------------------------------------------------- grad mode
def test_no_grad_as_context_manager_and_decorator():
    w = lucid.ones(2, requires_grad=True)
    with lucid.no_grad():
        assert not (w * 2).requires_grad
        assert not lucid.is_grad_enabled()
    assert lucid.is_grad_enabled() and (w * 2).requires_grad

    @lucid.no_grad()
    def f(t):
        return t * 3
    assert not f(w).requires_grad and lucid.is_grad_enabled()

    @lucid.no_grad
    def g(t):
        return t * 3
    assert not g(w).requires_grad and lucid.is_grad_enabled()


def test_in_place_updates_keep_the_object_and_array():
    w = lucid.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    array = w.data
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 0.1 * w.grad
    with lucid.no_grad():
        w -= 0.5 * w.grad
        w *= 2
        w += 1
        w /= 2
    assert w.data is array and np.allclose(w.numpy(), 0.5)
    with lucid.no_grad():
        w.copy_(lucid.tensor([1.0, 2.0, 3.0]))
        w[0] = 7.0
    assert w.tolist() == [7.0, 2.0, 3.0]
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    plain = lucid.ones(2)
    plain -= 1
    assert plain.tolist() == [0.0, 0.0]


def test_reflected_operators_with_numpy_and_scalars():
    t = lucid.tensor([1.0, 2.0])
    for result in (np.ones(2) + t, 1 + t, 2 * t, 3 - t, 4 / t, 2 ** t):
        assert isinstance(result, lucid.Tensor)
    assert (np.ones(2) - t).tolist() == [0.0, -1.0]
    assert (t * 2.5).dtype is lucid.float32                      # Python floats keep float32
    assert (lucid.tensor([1, 2]) / 2).dtype is lucid.float32     # int / int gives the default float


# ------------------------------------------------------------ structure (issue 12): no import circle
LUCID = pathlib.Path(lucid.__file__).parent


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative imports resolved inside lucid."""
    found = []
    package = ".".join(path.relative_to(LUCID.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def test_operator_rules_import_no_tensor_and_tensor_needs_no_late_import():
    for path in sorted((LUCID / "ops").glob("*.py")) + [LUCID / "_tensor_ops.py"]:
        for line, module in _imports(path):
            assert not module.startswith(("lucid.tensor", "lucid.nn", "lucid.functions")), (path.name, line, module)
    tree = ast.parse((LUCID / "tensor.py").read_text())
    first_definition = next(n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    late = [n.lineno for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno > first_definition]
    assert late == [], f"imports after the first definition in tensor.py, lines {late}"


def test_tensor_and_op_files_stay_under_400_lines():
    files = [LUCID / "tensor.py", LUCID / "_tensor_ops.py", LUCID / "functions.py",
             *sorted((LUCID / "ops").glob("*.py")),
             *(LUCID / "nn" / name for name in ("_activation_functional.py", "_pooling_functional.py", "activation.py",
                                                 "pooling.py"))]
    for path in files:
        assert len(path.read_text().splitlines()) < 400, path


def test_public_names_of_the_old_layout_still_work():
    from lucid.nn.modules import ReLU
    assert ReLU is nn.ReLU
    assert lucid.tensor([1.0]).max().item() == 1.0

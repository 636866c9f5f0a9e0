"""The API reference (docs/, Sphinx) covers the public API, and the public API is declared.

- every public module declares ``__all__``, and it names only lucid's own
  objects (no ``np``, ``Any``, ``bad_type``, ``track``, ``planner``, ...);
- the reference builds with warnings as errors, and every name of every
  ``__all__`` is in it (its inventory) with a docstring whose first line
  appears in the name's entry.

The build needs the doc tools of the ``docs`` extra (in ``test``); without
them the reference tests skip.
"""
from __future__ import annotations

import html
import importlib
import inspect
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import lucid

ROOT = Path(__file__).resolve().parents[1]
#: The public modules: the reference has one page per module (docs/api/).
PUBLIC = ("lucid", "lucid.nn", "lucid.nn.functional", "lucid.nn.init", "lucid.nn.utils", "lucid.optim",
          "lucid.optim.lr_scheduler", "lucid.algos", "lucid.dask", "lucid.allocator")


def _module(name: str) -> types.ModuleType:
    if name == "lucid.dask":
        pytest.importorskip("dask")
    return importlib.import_module(name)


def _names(module: types.ModuleType) -> list[tuple[str, object]]:
    """The public names of ``module`` that are not themselves public modules (those have their own page)."""
    return [(n, getattr(module, n)) for n in module.__all__ if not isinstance(getattr(module, n), types.ModuleType)]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_modules_declare_all_without_internals(name):
    module = _module(name)
    assert isinstance(module.__all__, list) and len(set(module.__all__)) == len(module.__all__)
    for entry in module.__all__:
        assert not entry.startswith("_"), entry
        value = getattr(module, entry)
        if isinstance(value, types.ModuleType):
            assert value.__name__ in PUBLIC, f"{name}.__all__ names the internal module {value.__name__}"
            continue
        owner = getattr(value, "__module__", None) or type(value).__module__
        assert owner.split(".")[0] == "lucid", f"{name}.__all__ names {entry}, which is {owner}'s"
        assert inspect.getdoc(value), f"{name}.{entry} has no docstring"


def test_nn_functional_exports_only_functions():
    import lucid.nn.functional as F
    assert {"conv1d", "pad", "relu", "cross_entropy"} <= set(F.__all__)
    assert not {"np", "Any", "bad_type", "track", "planner", "Tensor", "ConvSpec"} & set(F.__all__)
    assert all(inspect.isfunction(getattr(F, n)) for n in F.__all__)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The reference, built from docs/ as CI builds it (warnings are errors); its output folder."""
    for tool in ("sphinx", "numpydoc", "furo"):
        pytest.importorskip(tool, reason="the doc tools are in the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("dask")                       # lucid.dask's page imports it
    out = tmp_path_factory.mktemp("docs")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return out / "html"


def _inventory(html_dir: Path) -> dict[str, str]:
    from sphinx.util.inventory import InventoryFile
    with open(html_dir / "objects.inv", "rb") as handle:
        inventory = InventoryFile.load(handle, "", lambda base, uri: uri)
    found: dict[str, str] = {}
    for role, entries in (inventory.data if hasattr(inventory, "data") else inventory).items():
        if role.startswith("py:"):
            for name, item in entries.items():
                found[name] = item.uri if hasattr(item, "uri") else item[2]
    return found


def _entry_text(page: str, anchor: str) -> str:
    """The text of the ``<dd>`` that documents ``anchor`` on ``page`` (its docstring, rendered)."""
    start = page.index(f'id="{anchor}"')
    begin = page.index("<dd>", start)
    depth, i = 0, begin
    for match in re.finditer(r"<dd>|</dd>", page[begin:]):
        depth += 1 if match.group() == "<dd>" else -1
        if depth == 0:
            i = begin + match.end()
            break
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[begin:i])).split())


def _plain(rst: str) -> str:
    """reST as rendered: roles by their target (``:class:`~a.b.C``` as ``C``), without markup."""
    rst = re.sub(r":[\w:]+:`~([^`<]*)`", lambda m: m.group(1).rsplit(".", 1)[-1], rst)
    return re.sub(r":[\w:]+:`([^`<]*)`", r"\1", rst)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", _plain(text))}


def test_the_reference_documents_every_public_name_with_its_docstring(reference):
    objects = _inventory(reference)
    pages: dict[str, str] = {}
    missing, undocumented = [], []
    for module_name in PUBLIC:
        module = _module(module_name)
        assert module_name in objects, f"no page documents the module {module_name}"
        for name, value in _names(module):
            full = f"{module_name}.{name}"
            if full not in objects:
                missing.append(full)
                continue
            path, _, anchor = objects[full].partition("#")
            page = pages.setdefault(path, (reference / path).read_text())
            text = _entry_text(page, anchor or full)
            if inspect.isclass(value) or callable(value):
                first = inspect.getdoc(value).split("\n\n")[0]
                wanted = _words(first)
                if not wanted or len(wanted & _words(text)) < 0.8 * len(wanted):
                    undocumented.append(f"{full}: {first[:60]!r} not in its entry {text[:80]!r}")
            elif not text:                             # data (float32, ...): described in the page itself
                undocumented.append(f"{full}: empty entry")
    assert not missing, f"public names not in the reference: {missing}"
    assert not undocumented, "\n".join(undocumented)


def test_the_reference_shows_the_tensor_methods_and_each_module_docstring(reference):
    page = (reference / "api" / "lucid.html").read_text()
    for method in ("backward", "unsqueeze", "reshape", "numpy"):
        assert f'id="lucid.Tensor.{method}"' in page
    for module_name in PUBLIC:
        module = _module(module_name)
        first = inspect.getdoc(module).split("\n\n")[0]
        path = _inventory(reference)[module_name].partition("#")[0]
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", (reference / path).read_text())).split())
        assert len(_words(first) & _words(text)) >= 0.8 * len(_words(first)), module_name


def test_the_version_in_the_reference_is_the_package_version(reference):
    assert f"lucid {lucid.__version__}" in (reference / "index.html").read_text()


@pytest.mark.parametrize("module", ["lucid.algos.planner.history", "lucid._errors"])
def test_docstring_examples_of_the_new_helpers_run(module):
    import doctest
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


README = ROOT / "README.md"


def _readme_python_blocks() -> list[str]:
    """The README's Python blocks, but the lucid.dask one: it streams 32 GiB (tests/test_dask.py runs
    the same calls from lucid.dask's docstring at a small size)."""
    return [code for code in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "lucid.dask" not in code]


@pytest.mark.parametrize("index", range(len(_readme_python_blocks())))
def test_every_readme_snippet_runs_as_written(index, tmp_path, monkeypatch, capsys):
    code = _readme_python_blocks()[index]
    monkeypatch.chdir(tmp_path)                 # the wisdom file the algorithm snippet saves lands here
    lucid.algos.clear_plans()
    exec(compile(code, f"README.md python block {index}", "exec"), {})
    assert "planner's picks" in capsys.readouterr().out
    lucid.algos.clear_plans()
    lucid.algos.clear_records()


def test_readme_links_are_absolute_so_they_work_on_a_package_index():
    links = re.findall(r"\]\(([^)]+)\)", README.read_text())
    assert links
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert not relative, f"relative links break on a package index: {relative}"
    anchors = {"#" + re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", README.read_text(), re.M)}
    assert {link for link in links if link.startswith("#")} <= anchors


def test_readme_first_screen_says_what_lucid_is_for_when_it_wins_and_how_to_install():
    text = README.read_text()
    first_screen = "\n".join(text.splitlines()[:60])
    assert "lucid is for" in first_screen and "When it beats PyTorch" in first_screen
    assert "When it does not" in first_screen and "pip install -e ." in first_screen
    for heading in ("## Set up and run", "## Example", "## Coming from PyTorch", "## Limitations",
                    "## What is in lucid", "## Training real models", "## The name: `lucid-conv`, imported as `lucid`"):
        assert heading in text
    assert "lucid-conv[" not in text.replace("pip install 'lucid-conv[dask]'` from a package index", "")


def test_the_urls_in_the_metadata_and_the_readme_agree():
    tomllib = pytest.importorskip("tomllib")                # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    home = project["urls"]["Source"]
    assert home.startswith("https://github.com/") and f"{home}/blob/main/" in README.read_text()
    assert (ROOT / project["license-files"][0]).read_text().startswith("MIT License")
    assert project["classifiers"] and project["name"] == "lucid-conv"

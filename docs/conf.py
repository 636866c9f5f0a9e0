"""Sphinx configuration of lucid's API reference (``docs/``).

Built with warnings as errors by ``.ci/run``::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages in ``docs/api/`` document each public module with ``automodule``,
whose ``:members:`` follow the module's ``__all__``; ``tests/test_docs.py``
checks that every name of every ``__all__`` is in the built reference, with its
docstring.  The Markdown files next to this one (``tuning.md``, ``internals.md``,
...) are contributor notes, read on the repository; Sphinx ignores them.
"""
from __future__ import annotations

import os
import re
import sys

sys.path.insert(0, os.path.abspath(".."))          # document this checkout's lucid, installed or not

import lucid  # noqa: E402

project = "lucid"
author = "lucid contributors"
copyright = "2026, lucid contributors"  # noqa: A001  (Sphinx's name)
release = lucid.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx.ext.viewcode", "numpydoc"]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_mock_imports: list[str] = []

numpydoc_show_class_members = False          # autodoc lists members itself (no autosummary tables)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

html_theme = "furo"
html_title = f"lucid {release}"
html_static_path: list[str] = []


# Docstrings write array shapes in numpydoc type lines as ``input : Tensor, shape (N, C, *)`` or
# ``(*, *normalized_shape)`` (and ``Tensor, shape (*, out_features)`` under Returns), readable as
# plain text (help(), IDEs); reST would read those stars as the start of an emphasis.  They are
# escaped on those lines only, before numpydoc sees them.
_TYPE_LINE = re.compile(r"^\s*\*{0,2}[A-Za-z_][\w, ]*\s:\s")
_SHAPE_STAR = re.compile(r"(?<=[(,\s])\*(?=[\w,)])")


def _escape_shape_stars(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if _TYPE_LINE.match(line) or "shape (" in line:
            lines[i] = _SHAPE_STAR.sub(r"\\*", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shape_stars, priority=400)   # numpydoc's hook runs at 500

"""Benchmarks of lucid's convolution algorithms: the ``lucid-bench`` command.

- :mod:`.timing` — interleaved median timing with warm-up and idle pauses;
- :mod:`.peers` — PyTorch and SciPy as optional peers;
- :mod:`.measure` — one shape: every algorithm forced, ``auto`` and peers, as rows;
- :mod:`.tables`, :mod:`.export`, :mod:`.plot` — text tables, JSON/CSV, the plot;
- :mod:`.sweep` — the kernel-size sweep behind ``--plot``;
- :mod:`.cli` — the command line (``lucid-bench``, ``python -m lucid.bench``).

The workloads are :data:`lucid.suite.SUITE`.
"""

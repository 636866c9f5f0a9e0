"""Benchmarks of lucid's convolution algorithms: the ``lucid-bench`` command.

- :mod:`.timing` — block timing (rotated rounds, idle pauses, warm allocator) and interleaved calls;
- :mod:`.peers` — PyTorch and SciPy as optional peers;
- :mod:`.cases` — one shape: every algorithm forced, ``auto`` and peers, as rows;
- :mod:`.train` — the training step per workload (``--train``);
- :mod:`.pinning`, :mod:`.scaling` — ``--threads N`` and ``lucid-bench scaling``;
- :mod:`.tables`, :mod:`.export`, :mod:`.plot` — text tables, JSON/CSV, the plot;
- :mod:`.sweep` — the kernel-size sweep behind ``--plot``;
- :mod:`.cli` — the command line (``lucid-bench``, ``python -m lucid.bench``).

The workloads are :data:`lucid.suite.SUITE`.
"""

"""Import pyFFTW without the optional dask interface it loads whenever dask is installed.

``import pyfftw`` runs ``from dask.array.fft import fft_wrap`` (for
``pyfftw.interfaces.dask_fft``), which would make ``import lucid`` import
dask and its dependencies (~0.3 s, and the promise that only ``import
lucid.dask`` does so).  lucid never uses that interface, so pyFFTW is
imported first with dask hidden; if dask was already imported, nothing is
hidden and pyFFTW sees it as usual.  Importing this module does it.

Caveat: while pyFFTW is first imported (once, inside ``import lucid``), a
thread of the same process importing dask at that moment gets ImportError.
"""
from __future__ import annotations

import sys


def import_pyfftw() -> None:
    """Import ``pyfftw`` once, with ``dask`` unimportable during that import unless already loaded."""
    if "pyfftw" in sys.modules:
        return
    hide = "dask" not in sys.modules
    if hide:
        sys.modules["dask"] = None  # type: ignore[assignment]   # makes `import dask` raise ImportError
    try:
        import pyfftw  # noqa: F401
    finally:
        if hide and sys.modules.get("dask", 0) is None:
            del sys.modules["dask"]


import_pyfftw()

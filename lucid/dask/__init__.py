"""``lucid.dask``: convolve signals larger than memory, chunk by chunk, with Dask.

Imported explicitly (``import lucid.dask``); ``import lucid`` never imports
dask.  Needs dask: ``pip install 'dask[array,distributed]>=2024.1'``, or lucid's
extra (``pip install -e '.[dask]'`` in a checkout, ``pip install 'lucid-conv[dask]'``
from a package index).

>>> import dask.array as da, numpy as np, lucid.dask
>>> x = da.random.default_rng(0).standard_normal((2, 4, 100_000), chunks=(1, 4, 25_000)).astype(np.float32)
>>> y = lucid.dask.conv1d(x, np.ones((8, 4, 129)), padding="same")   # lazy (2, 8, 100_000)
>>> y.chunks[2]
(25000, 25000, 25000, 25000)
"""
try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the subprocess test without dask
    from .._errors import install_hint
    raise ImportError("lucid.dask needs dask: " + install_hint("dask", "dask[array,distributed]>=2024.1")) from exc

from ._conv import conv1d

__all__ = ["conv1d"]

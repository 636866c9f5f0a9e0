"""The version of lucid, stated once (``lucid.__version__``; pyproject.toml reads it from here)."""
__version__ = "0.1.0"

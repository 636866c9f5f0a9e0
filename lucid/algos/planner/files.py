"""Whole-file JSON writes for wisdom and exported records."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def atomic_write_json(path: str | os.PathLike, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` via a temporary file and ``os.replace``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".lucid-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1, sort_keys=True, allow_nan=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

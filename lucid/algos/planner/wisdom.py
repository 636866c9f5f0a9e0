"""Wisdom: measured decisions and calibrated constants, kept across runs as JSON.

Like FFTW wisdom, a file remembers what measuring learnt so a later process
need not time again.  The file is one JSON object::

    {"format": "lucid-wisdom", "version": 2,
     "fingerprint": {...},                      # lucid.algos.fingerprint()
     "decisions": {key: {"algorithm": name, "measured": {name: seconds or null}}},   # key: candidates.BucketKey.text()
     "calibration": {"constants": {name: {coefficient: value}}, "provenance": {...}} or null}

Guarantees: loading parses JSON only (no pickle, no eval); a file from another
fingerprint is ignored with one warning; a malformed, truncated, unreadable
file or a directory gives a warning and loads nothing (nothing is applied until
the whole file has been validated).  Saving merges with what is on disk and
replaces the file atomically (temporary file in the same directory, then
``os.replace``), so a reader never sees half a file.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator

from ..._errors import check_path
from .. import registry
from . import cost_model
from .files import atomic_write_json
from .machine import fingerprint

#: Version 2: cost features renamed for what they count (version 1 calibrations do not apply).
FORMAT, VERSION = "lucid-wisdom", 2

_lock = threading.RLock()
_decisions: dict[str, dict] = {}
_calibration: dict | None = None
_listeners: list[Callable[[], None]] = []
_warned_fingerprints: set[str] = set()
_autoloaded: set[str] = set()


def on_change(callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever loaded or calibrated constants change."""
    _listeners.append(callback)


def lookup(key: str) -> dict | None:
    """The measured decision stored under ``key`` (a :meth:`BucketKey.text`), if any."""
    return _decisions.get(key)


def store(key: str, algorithm: str, measured: dict[str, float | None]) -> None:
    """Remember that measuring under ``key`` (a :meth:`BucketKey.text`) chose ``algorithm`` with these timings."""
    clean = {name: (None if t is None or not math.isfinite(t) else float(t)) for name, t in measured.items()}
    with _lock:
        _decisions[key] = {"algorithm": algorithm, "measured": clean}


def set_calibration(constants: dict[str, dict[str, float]], provenance: dict) -> None:
    """Install fitted constants (into the cost model) and keep them for :func:`save_wisdom`."""
    global _calibration
    with _lock:
        _calibration = {"constants": constants, "provenance": provenance}
        cost_model.set_constants(constants)
    for callback in _listeners:
        callback()


def forget() -> None:
    """Drop all in-memory wisdom and restore the shipped cost-model constants."""
    global _calibration
    with _lock:
        _decisions.clear()
        _calibration = None
        cost_model.set_constants(None)
    for callback in _listeners:
        callback()


#: Largest believable time in a file, in seconds; larger values mark a corrupt or hostile entry.
MAX_SECONDS = 1e4


def _number(value, limit: float = math.inf) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= limit)


def _validate(payload) -> tuple[dict, dict, dict | None]:
    """(fingerprint, decisions, calibration) of a parsed file; ValueError says what is wrong."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if payload.get("version") != VERSION:
        raise ValueError(f"version {payload.get('version')!r} is not {VERSION}")
    print_, decisions = payload.get("fingerprint"), payload.get("decisions", {})
    calibration = payload.get("calibration")
    if not isinstance(print_, dict) or not isinstance(decisions, dict):
        raise ValueError("fingerprint and decisions must be objects")
    known = set(registry.names())
    for key, entry in decisions.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("algorithm"), str)
                and isinstance(entry.get("measured"), dict)
                and all(isinstance(n, str) and (t is None or _number(t, MAX_SECONDS))
                        for n, t in entry["measured"].items())):
            raise ValueError(f"decision {key!r} is malformed")
        unknown = ({entry["algorithm"]} | set(entry["measured"])) - known
        if unknown:
            raise ValueError(f"decision {key!r} names unknown algorithm(s) {sorted(unknown)}")
    if calibration is not None:
        constants = calibration.get("constants") if isinstance(calibration, dict) else None
        if not isinstance(constants, dict) or not all(
                isinstance(c, dict) and all(isinstance(k, str) and _number(v) for k, v in c.items())
                for c in constants.values()):
            raise ValueError("calibration constants are malformed")
    return print_, decisions, calibration


def _read(path: str) -> tuple[dict, dict, dict | None] | None:
    """The validated contents of ``path``; None (with a warning) when unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return _validate(json.load(handle))
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError, RecursionError) as exc:
        warnings.warn(f"ignoring wisdom file {path!r}: {exc}", RuntimeWarning, stacklevel=3)
        return None


def _same_machine(path: str, print_: dict) -> bool:
    if print_ == fingerprint():
        return True
    if path not in _warned_fingerprints:
        _warned_fingerprints.add(path)
        warnings.warn(f"ignoring wisdom file {path!r}: written on another machine or software stack "
                      f"({print_} != {fingerprint()})", RuntimeWarning, stacklevel=3)
    return False


def load_wisdom(path: str | os.PathLike) -> int:
    """Merge the decisions and calibration in ``path`` into this process.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_wisdom`.

    Returns
    -------
    int
        Number of measured decisions applied (0 when the file was ignored).

    Notes
    -----
    Never raises for a bad file: malformed JSON, a wrong structure, an
    unreadable path or a directory warn (``RuntimeWarning``) and apply nothing;
    a file from another fingerprint warns once and applies nothing.
    A ``path`` that is not a str / os.PathLike raises TypeError.
    """
    path = check_path("load_wisdom", "path", path)
    contents = _read(path)
    if contents is None or not _same_machine(path, contents[0]):
        return 0
    _, decisions, calibration = contents
    with _lock:
        _decisions.update(decisions)
    if calibration is not None:
        set_calibration(calibration["constants"], calibration.get("provenance", {}))
    return len(decisions)


@contextlib.contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path + ".lock"`` so concurrent savers merge, not overwrite."""
    try:
        import fcntl
    except ImportError:        # not POSIX: the atomic replace still keeps the file whole
        yield
        return
    with open(path + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_wisdom(path: str | os.PathLike) -> None:
    """Write this process's wisdom to ``path``, merged with the file already there.

    Entries of this process win over those on disk with the same key; a file
    on disk from another fingerprint or unreadable is replaced.  The write is
    atomic (temporary file + ``os.replace``) and the read-merge-write holds an
    exclusive lock on ``path + ".lock"``, so processes saving at once keep
    each other's entries.
    """
    path = check_path("save_wisdom", "path", path)
    with _lock, _file_lock(path):
        decisions, calibration = {}, None
        if os.path.isfile(path):
            contents = _read(path)
            if contents is not None and contents[0] == fingerprint():
                decisions, calibration = dict(contents[1]), contents[2]
        decisions.update(_decisions)
        atomic_write_json(path, {"format": FORMAT, "version": VERSION, "fingerprint": fingerprint(),
                                 "decisions": decisions, "calibration": _calibration or calibration})


def auto_load() -> None:
    """Load ``$LUCID_WISDOM`` once per distinct path, if the variable is set and the file exists."""
    path = os.environ.get("LUCID_WISDOM")
    if not path or path in _autoloaded:
        return
    _autoloaded.add(path)
    if os.path.exists(path):
        load_wisdom(path)

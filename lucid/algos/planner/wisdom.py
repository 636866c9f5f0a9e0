"""Wisdom: measured decisions and calibrated constants, kept across runs as JSON.

Like FFTW wisdom, a file remembers what measuring learnt so a later process
need not time again.  The file is one JSON object::

    {"format": "lucid-wisdom", "version": 2,
     "fingerprint": {...},                      # lucid.algos.fingerprint()
     "decisions": {key: {"algorithm": name, "measured": {name: seconds or null}}},   # key: candidates.BucketKey.text()
     "calibration": {"constants": {name: {coefficient: value}}, "provenance": {...}} or null}

The state lives in a :class:`Wisdom` object, one per planner; the module
functions act on the default planner's (:data:`DEFAULT`).

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
from .._parallel import num_threads
from . import cost_model
from .files import atomic_write_json
from .machine import fingerprint

#: Version 2: cost features renamed for what they count (version 1 calibrations do not apply).
FORMAT, VERSION = "lucid-wisdom", 2

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
        warnings.warn(f"ignoring wisdom file {path!r}: {exc}", RuntimeWarning, stacklevel=4)
        return None


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


class Wisdom:
    """One planner's decisions by length bucket and its calibration, with the cost model they feed.

    Thread-safe.  ``on_change`` callbacks (the planner's ``clear_plans``) run
    after a calibration is installed or everything is forgotten.
    """

    def __init__(self, costs: cost_model.CostModel) -> None:
        self.costs = costs
        self._lock = threading.RLock()
        self._decisions: dict[str, dict] = {}
        self._calibration: dict | None = None
        self._listeners: list[Callable[[], None]] = []
        self._warned_fingerprints: set[str] = set()
        self._autoloaded: set[str] = set()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever loaded or calibrated constants change."""
        self._listeners.append(callback)

    def lookup(self, key: str) -> dict | None:
        """The decision stored under ``key`` (a :meth:`BucketKey.text`), if any."""
        return self._decisions.get(key)

    def store(self, key: str, algorithm: str, measured: dict[str, float | None]) -> None:
        """Remember that timing under ``key`` (a :meth:`BucketKey.text`) chose ``algorithm`` with these times."""
        clean = {name: (None if t is None or not math.isfinite(t) else float(t)) for name, t in measured.items()}
        with self._lock:
            self._decisions[key] = {"algorithm": algorithm, "measured": clean}

    def decisions(self) -> dict[str, dict]:
        """A copy of every stored decision, by key."""
        with self._lock:
            return {key: dict(entry) for key, entry in self._decisions.items()}

    def calibration(self) -> dict | None:
        """A copy of the installed calibration (``{"constants", "provenance"}``), or None."""
        with self._lock:
            return None if self._calibration is None else json.loads(json.dumps(self._calibration))

    def set_calibration(self, constants: dict[str, dict[str, float]], provenance: dict) -> None:
        """Install fitted constants (into the cost model) and keep them for :meth:`save`."""
        with self._lock:
            self._calibration = {"constants": constants, "provenance": provenance}
            self.costs.set_constants(constants)
        self._changed()

    def forget(self) -> None:
        """Drop all in-memory wisdom and restore the shipped cost-model constants; files
        ignored or auto-loaded before may warn or load again."""
        with self._lock:
            self._decisions.clear()
            self._calibration = None
            self._warned_fingerprints.clear()
            self._autoloaded.clear()
            self.costs.set_constants(None)
        self._changed()

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()

    def _same_machine(self, path: str, print_: dict) -> bool:
        if print_ == fingerprint():
            return True
        if path not in self._warned_fingerprints:
            self._warned_fingerprints.add(path)
            warnings.warn(f"ignoring wisdom file {path!r}: written on another machine or software stack "
                          f"({print_} != {fingerprint()})", RuntimeWarning, stacklevel=4)
        return False

    def load(self, path: str | os.PathLike) -> int:
        """:func:`load_wisdom` into this planner."""
        path = check_path("load_wisdom", "path", path)
        contents = _read(path)
        if contents is None or not self._same_machine(path, contents[0]):
            return 0
        _, decisions, calibration = contents
        with self._lock:
            self._decisions.update(decisions)
        if calibration is not None:
            self.set_calibration(calibration["constants"], calibration.get("provenance", {}))
        return usable(decisions)

    def save(self, path: str | os.PathLike) -> None:
        """:func:`save_wisdom` of this planner."""
        path = check_path("save_wisdom", "path", path)
        with self._lock, _file_lock(path):
            decisions, calibration = {}, None
            if os.path.isfile(path):
                contents = _read(path)
                if contents is not None and contents[0] == fingerprint():
                    decisions, calibration = dict(contents[1]), contents[2]
            decisions.update(self._decisions)
            atomic_write_json(path, {"format": FORMAT, "version": VERSION, "fingerprint": fingerprint(),
                                     "decisions": decisions, "calibration": self._calibration or calibration})

    def auto_load(self) -> None:
        """Load ``$LUCID_WISDOM`` once per distinct path, if the variable is set and the file exists."""
        path = os.environ.get("LUCID_WISDOM")
        if not path or path in self._autoloaded:
            return
        self._autoloaded.add(path)
        if os.path.exists(path):
            self.load(path)


#: The default planner's wisdom (what :func:`load_wisdom` and :func:`save_wisdom` act on).
DEFAULT = Wisdom(cost_model.DEFAULT)


def lookup(key: str) -> dict | None:
    """:meth:`Wisdom.lookup` of the default planner."""
    return DEFAULT.lookup(key)


def store(key: str, algorithm: str, measured: dict[str, float | None]) -> None:
    """:meth:`Wisdom.store` of the default planner."""
    DEFAULT.store(key, algorithm, measured)


def set_calibration(constants: dict[str, dict[str, float]], provenance: dict) -> None:
    """:meth:`Wisdom.set_calibration` of the default planner."""
    DEFAULT.set_calibration(constants, provenance)


def forget() -> None:
    """:meth:`Wisdom.forget` of the default planner."""
    DEFAULT.forget()


def load_wisdom(path: str | os.PathLike) -> int:
    """Merge the decisions and calibration in ``path`` into this process.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_wisdom`.

    Returns
    -------
    int
        Number of decisions this process will use: those for its thread count
        (:func:`lucid.get_num_threads`; a decision is kept per thread count).  They are
        used in every mode except a forced algorithm; 0 when the file was ignored.

    Notes
    -----
    Never raises for a bad file: malformed JSON, a wrong structure, an
    unreadable path or a directory warn (``RuntimeWarning``) and apply nothing;
    a file from another fingerprint warns once and applies nothing.
    A ``path`` that is not a str / os.PathLike raises TypeError.
    """
    return DEFAULT.load(path)


def usable(decisions: dict[str, dict]) -> int:
    """How many of ``decisions`` (keyed by :meth:`BucketKey.text`) this process's thread count can use."""
    suffix = f" t{num_threads()}"
    return sum(key.endswith(suffix) for key in decisions)


def save_wisdom(path: str | os.PathLike) -> None:
    """Write this process's wisdom to ``path``, merged with the file already there.

    Entries of this process win over those on disk with the same key; a file
    on disk from another fingerprint or unreadable is replaced.  The write is
    atomic (temporary file + ``os.replace``) and the read-merge-write holds an
    exclusive lock on ``path + ".lock"``, so processes saving at once keep
    each other's entries.
    """
    DEFAULT.save(path)


def auto_load() -> None:
    """:meth:`Wisdom.auto_load` of the default planner."""
    DEFAULT.auto_load()

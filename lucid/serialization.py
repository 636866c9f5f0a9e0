"""``lucid.save`` and ``lucid.load``: checkpoints stored as data, never as pickled code.

What ``torch.save`` is used for — state dicts, tensors, and dicts, lists and
tuples of them mixed with numbers, strings, booleans and ``None`` — is written
as a NumPy ``.npz`` archive (a zip of ``.npy`` arrays): every tensor or array
is one entry ``a0``, ``a1``, ..., and the structure around them is a JSON
document in the entry ``lucid.json``.  With a path ending in ``.safetensors``
(and the optional package ``safetensors`` installed: ``pip install
'lucid-conv[safetensors]'``) the arrays go to a safetensors file instead and
the JSON into its metadata.

Loading parses JSON and reads arrays with ``numpy.load(allow_pickle=False)``
(or safetensors), so a file written elsewhere cannot run code: no pickle, no
object arrays, no import of anything it names.  Anything else is refused
with an error naming where in the object it sits.

The JSON tree: ``{"format": "lucid", "version": 1, "root": node}`` where a
node is a JSON string, number, boolean or null (itself), or an object with a
tag ``"$"``: ``tensor`` / ``parameter`` (``"array"``: entry name,
``"requires_grad"``), ``ndarray``, ``dict`` / ``odict`` (``"items"``: list of
``[key node, value node]``, so int keys survive), ``list`` / ``tuple``
(``"items"``), ``float`` (``"value"``: ``"nan"``, ``"inf"``, ``"-inf"``) and
``dtype`` (``"name"``).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from ._errors import bad_type, bad_value
from .dtypes import dtype, to_device, to_dtype
from .nn.parameter import Parameter
from .tensor import Tensor

MANIFEST = "lucid.json"
VERSION = 1
_KINDS = "biuf"                 # the array kinds a checkpoint may hold: bool, integers, floats
FileLike = str | os.PathLike | BinaryIO


class _Encoder:
    """Walks an object, collecting arrays and returning its JSON node."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind not in _KINDS or array.dtype.byteorder == ">":
            raise bad_type("save", where, "a tensor or array of booleans, integers or floats", array)
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array if array.flags.c_contiguous else np.ascontiguousarray(array)  # keeps 0-d
        return name

    def node(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return float(value) if math.isfinite(value) else {"$": "float", "value": repr(float(value))}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, Tensor):
            kind = "parameter" if isinstance(value, Parameter) else "tensor"
            return {"$": kind, "array": self._array(value.data, where), "requires_grad": value.requires_grad}
        if isinstance(value, np.ndarray):
            return {"$": "ndarray", "array": self._array(value, where)}
        if isinstance(value, dtype):
            return {"$": "dtype", "name": value.name}
        if isinstance(value, dict):
            items = [[self.node(k, f"{where} key {k!r}"), self.node(v, f"{where}[{k!r}]")] for k, v in value.items()]
            return {"$": "odict" if isinstance(value, OrderedDict) else "dict", "items": items}
        if isinstance(value, (list, tuple)):
            return {"$": type(value).__name__ if type(value) in (list, tuple) else "list",
                    "items": [self.node(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        hint = " (save its .state_dict() instead)" if callable(getattr(value, "state_dict", None)) else ""
        raise bad_type("save", where, "a tensor, an array, a number, a string, a bool, None, a lucid.dtype or a "
                       f"dict, list or tuple of them (lucid stores data, not pickled objects){hint}", value)


class _Decoder:
    """Rebuilds the object of a JSON node, reading arrays through ``fetch``; trusts nothing in the file."""

    def __init__(self, fetch: Any, names: set[str]) -> None:
        self.fetch, self.names = fetch, names

    def _array(self, node: dict, where: str) -> np.ndarray:
        name = node.get("array")
        if not isinstance(name, str) or name not in self.names:
            raise bad_value("load", "f", f"a lucid checkpoint whose {where} names an array it holds", name)
        array = np.asarray(self.fetch(name))
        if array.dtype.kind not in _KINDS:
            raise bad_value("load", "f", f"a lucid checkpoint holding numeric arrays only ({where})", array)
        return array

    def node(self, node: Any, where: str = "root") -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list) or not isinstance(node, dict) or not isinstance(node.get("$"), str):
            raise bad_value("load", "f", f"a lucid checkpoint (unexpected entry at {where})", node)
        tag = node["$"]
        if tag in ("tensor", "parameter"):
            array = self._array(node, where)
            kind = to_dtype(array.dtype, "load", where)
            data = np.array(array, dtype=kind.dtype if kind is not None else None)
            grad = bool(node.get("requires_grad", False)) and data.dtype.kind == "f"
            return Parameter(Tensor._wrap(data), requires_grad=grad) if tag == "parameter" \
                else Tensor._wrap(data, grad)
        if tag == "ndarray":
            return np.array(self._array(node, where))
        if tag == "float" and node.get("value") in ("nan", "inf", "-inf"):
            return float(node["value"])
        if tag == "dtype":
            return to_dtype(node.get("name"), "load", where)
        items = node.get("items")
        if tag in ("dict", "odict", "list", "tuple") and isinstance(items, list):
            if tag in ("list", "tuple"):
                values = [self.node(v, f"{where}[{i}]") for i, v in enumerate(items)]
                return values if tag == "list" else tuple(values)
            out: dict = OrderedDict() if tag == "odict" else {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise bad_value("load", "f", f"a lucid checkpoint (bad dict item at {where})", pair)
                key = self.node(pair[0], f"{where} key")
                if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                    raise bad_value("load", "f", f"a lucid checkpoint (unhashable key at {where})", key)
                out[key] = self.node(pair[1], f"{where}[{key!r}]")
            return out
        raise bad_value("load", "f", f"a lucid checkpoint (unknown entry {tag!r} at {where})", node)


def _safetensors_path(f: Any) -> str | None:
    """``f`` as a path string if it is a path ending in ``.safetensors``, else None."""
    path = os.fspath(f) if isinstance(f, (str, os.PathLike)) else None
    return path if isinstance(path, str) and path.endswith(".safetensors") else None


def _safetensors():
    try:
        from safetensors import numpy as st
    except ImportError:                                          # pragma: no cover - depends on the install
        raise ImportError("a .safetensors path needs the optional package safetensors "
                          "(pip install 'lucid-conv[safetensors]'); any other path writes .npz") from None
    return st


def _check_file(where: str, f: Any, mode: str) -> None:
    if isinstance(f, (str, os.PathLike)) and not isinstance(f, bool):
        return
    if not hasattr(f, mode):
        raise bad_type(where, "f", "a path (str or os.PathLike) or a binary file object", f)


def save(obj: Any, f: FileLike) -> None:
    """Write ``obj`` to ``f`` as data, like ``torch.save`` for checkpoints (see the module docstring).

    Parameters
    ----------
    obj : tensor, array, number, string, bool, None, lucid.dtype, or a dict / list / tuple nesting them
        Typically ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.
        Dict keys may be strings, ints, floats, bools or None (optimizer state is keyed by int).
    f : str, os.PathLike or binary file object
        A path is written as given (``np.savez`` does not add ``.npz`` here); a path ending in
        ``.safetensors`` writes safetensors (optional package).

    Raises
    ------
    TypeError
        Naming the place in ``obj`` of anything else (a function, a module, an object array).

    Examples
    --------
    >>> import io, lucid
    >>> buffer = io.BytesIO()
    >>> lucid.save({"w": lucid.ones(2), "step": 3}, buffer); _ = buffer.seek(0)
    >>> lucid.load(buffer)
    {'w': tensor([1., 1.]), 'step': 3}
    """
    _check_file("save", f, "write")
    encoder = _Encoder()
    manifest = json.dumps({"format": "lucid", "version": VERSION, "root": encoder.node(obj, "obj")})
    path = _safetensors_path(f)
    if path is not None:
        _safetensors().save_file(encoder.arrays, path, metadata={MANIFEST: manifest})
        return
    arrays = {**encoder.arrays, MANIFEST: np.array(manifest)}
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:              # np.savez would append ".npz" to a path
            np.savez(handle, allow_pickle=False, **arrays)
    else:
        np.savez(f, allow_pickle=False, **arrays)


def _read_manifest(text: Any) -> Any:
    if not isinstance(text, str):
        raise bad_value("load", "f", "a lucid checkpoint (its manifest is not text)", text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad_value("load", "f", f"a lucid checkpoint (manifest is not JSON: {error})", text[:80]) from None
    if not isinstance(document, dict) or document.get("format") != "lucid" or "root" not in document:
        raise bad_value("load", "f", "a lucid checkpoint (written by lucid.save)", type(document).__name__)
    if not isinstance(document.get("version"), int) or document["version"] > VERSION:
        raise bad_value("load", "f", f"a lucid checkpoint of format version <= {VERSION} (upgrade lucid)",
                        document.get("version"))
    return document["root"]


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read an object written by :func:`save`, as ``torch.load`` reads ``torch.save``'s files.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        An ``.npz`` (or ``.safetensors``) file written by :func:`lucid.save`.
    map_location : None, 'cpu' or lucid.device('cpu')
        Accepted for PyTorch compatibility; tensors load onto the CPU.
    weights_only : bool, default True
        Accepted for PyTorch compatibility: lucid loads data only, whatever its value.

    Returns
    -------
    The object, with new tensors (no memory shared with the file): ``Parameter``
    entries come back as Parameters, ``requires_grad`` as saved, dict key types
    and order, tuples and lists as saved.

    Raises
    ------
    ValueError
        For a file that is not a lucid checkpoint (a pickle, an archive with
        object arrays, a manifest with unknown entries); nothing in it is executed.
    """
    _check_file("load", f, "read")
    if map_location is not None:
        to_device(map_location, "load")
    if not isinstance(weights_only, bool):
        raise bad_type("load", "weights_only", "a bool", weights_only)
    path = _safetensors_path(f)
    if path is not None:
        st = _safetensors()
        with open(path, "rb") as handle:
            raw = handle.read()
        size = int.from_bytes(raw[:8], "little")
        try:
            header = json.loads(raw[8:8 + size])
            arrays = st.load(raw)
        except Exception as error:
            raise bad_value("load", "f", f"a safetensors file written by lucid.save ({error})", path) from None
        metadata = header.get("__metadata__") if isinstance(header, dict) else None
        root = _read_manifest(metadata.get(MANIFEST) if isinstance(metadata, dict) else None)
        return _Decoder(arrays.__getitem__, set(arrays)).node(root)
    source: Any = f if isinstance(f, (str, os.PathLike)) else io.BytesIO(f.read())
    if not zipfile.is_zipfile(source):
        raise bad_value("load", "f", "a lucid checkpoint (an .npz archive written by lucid.save; torch.save's "
                        "pickles are not read: convert them with torch and save the tensors as NumPy arrays)",
                        f if isinstance(f, (str, os.PathLike)) else type(f).__name__)
    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)
    try:
        with np.load(source, allow_pickle=False) as archive:
            if MANIFEST not in archive.files:
                raise bad_value("load", "f", "a lucid checkpoint (the archive has no lucid.json manifest)",
                                archive.files[:5])
            text = archive[MANIFEST]
            root = _read_manifest(text.item() if text.dtype.kind == "U" and text.ndim == 0 else None)
            return _Decoder(archive.__getitem__, set(archive.files) - {MANIFEST}).node(root)
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise bad_value("load", "f", "a lucid checkpoint without object arrays (refusing to unpickle)",
                            "an archive holding an object array") from None
        raise

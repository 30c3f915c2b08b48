"""A restricted unpickler for data files (CIFAR python batches).

`pickle.load` runs whatever callable a pickle names, so loading a pickle from
the internet can execute arbitrary code. `RestrictedUnpickler` refuses every
global a pickle asks for except a short allow-list, and even the admitted
names never reach real code during unpickling:

- Plain containers and scalars (dict, list, tuple, set, frozenset, str,
  bytes, bytearray, int, float, bool, None) are built by pickle opcodes
  themselves (protocols 0-5), without `find_class`, so they always load.
- `_codecs.encode(text, "latin1")` and `builtins.bytes()`, which is how
  Python 3 writes non-empty and empty `bytes` at protocols 0-2, are admitted
  for exactly those uses; `builtins.set(list)` and `builtins.frozenset(list)`,
  how sets are written at protocols 0-3, likewise.
- numpy arrays. The official CIFAR python batches store `data` as a uint8
  array, pickled by `numpy.ndarray.__reduce__` as
  `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b"b")` followed
  by a BUILD with `(version, shape, numpy.dtype("u1", 0, 1), is_fortran,
  raw_bytes)`; protocol 5 uses `numpy.core.numeric._frombuffer(buffer,
  dtype, shape, order)` instead (numpy >= 2 writes `numpy._core.*`). Those
  five names (in both spellings) are admitted, but what `find_class`
  returns for them are inert stand-ins that only record their arguments;
  numpy's own `__setstate__` never sees untrusted state. After loading,
  each recorded array is validated — a plain numeric dtype (bool, int,
  uint, float of 1-8 bytes, no fields, no sub-arrays, no objects), a shape
  of non-negative ints and exactly `prod(shape) * itemsize` bytes — and
  built with `numpy.frombuffer`. Object arrays, record dtypes, numpy
  scalars and every other global are refused.

So a malicious pickle can at worst make the loader spend memory on a large
container; it cannot run code, and it cannot construct any object other
than the plain ones above.

Example:

```python
from keras_xai.datasets.safe_pickle import load_file

batch = load_file("cifar-10-batches-py/data_batch_1")
batch[b"data"].shape  # (10000, 3072)
```
"""

import io
import math
import os
import pickle
import re

import numpy as np


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for something the restricted unpickler refuses.

    Raised when a pickle names a global outside the allow-list (the message
    names it as `module.name`) or holds a numpy array that is not plain
    numeric data. It is both a `pickle.UnpicklingError` and a `ValueError`.
    """


# Spellings numpy 1.x (`numpy.core`) and 2.x (`numpy._core`) write.
_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_FROMBUFFER = {
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}
_NDARRAY = ("numpy", "ndarray")
_DTYPE = ("numpy", "dtype")
_CODECS_ENCODE = ("_codecs", "encode")
# Python 3 pickles these by calling them at protocols below 3 or 4 (the
# module is spelled `__builtin__` at protocols 0-2).
_BUILTINS = ("builtins", "__builtin__")

# Plain numeric dtypes: bool, (u)int 1-8 bytes, float 2-8 bytes.
_DTYPE_CODE = re.compile(r"^(b1|[iu][1248]|f[248])$")
_BYTE_ORDERS = ("|", "<", ">", "=")


def _refuse_build(what, state):
    raise UnsafePickleError(
        f"The pickle applies BUILD (set state) to {what}, which the restricted "
        f"unpickler refuses. Received state: {_short_repr(state)}"
    )


class _Admitted:
    """An admitted global: calls its function, and nothing else.

    What `find_class` returns for the allow-list. BUILD on it is refused
    (`__setstate__`), so a pickle cannot rewrite the loader's own functions
    (their `__defaults__`, say) by setting state on the object it got back
    for a global; it has no `__dict__` and its one slot is read-only from a
    pickle's point of view (BUILD always goes through `__setstate__`).
    """

    __slots__ = ("_function",)

    def __init__(self, function):
        self._function = function

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)

    def __setstate__(self, state):
        _refuse_build(f"the admitted global {self._function.__name__}", state)

    def __reduce__(self):
        raise TypeError("_Admitted cannot be pickled")


class _NdarrayMarker:
    """Stands for `numpy.ndarray`: accepted only as `_reconstruct`'s subtype."""

    __slots__ = ()

    def __setstate__(self, state):
        _refuse_build("numpy.ndarray", state)

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError(
            "The pickle calls numpy.ndarray directly, which the restricted "
            "unpickler refuses; numpy.ndarray is admitted only as the subtype "
            "argument of numpy.core.multiarray._reconstruct"
        )

    def __reduce__(self):
        raise TypeError("_NdarrayMarker cannot be pickled")


_NDARRAY_MARKER = _NdarrayMarker()


class _DtypeStub:
    """Records `numpy.dtype(code, align, copy)` and its BUILD state."""

    __slots__ = ("code", "byte_order")
    __hash__ = None

    def __init__(self, code):
        self.code = _text(code, "numpy.dtype type code")
        self.byte_order = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) < 8 or state[0] not in (3, 4):
            raise UnsafePickleError(
                "numpy.dtype state must be a version 3 or 4 tuple of at least "
                f"8 items. Received: {_short_repr(state)}"
            )
        _, order, subarray, names, fields = state[:5]
        if subarray is not None or names is not None or fields is not None:
            raise UnsafePickleError(
                "numpy.dtype with fields or a sub-array is refused; only plain "
                "numeric dtypes load"
            )
        order = _text(order, "numpy.dtype byte order")
        if order not in _BYTE_ORDERS:
            raise UnsafePickleError(
                f"numpy.dtype byte order must be one of {_BYTE_ORDERS}. "
                f"Received: {order!r}"
            )
        self.byte_order = order

    def to_dtype(self):
        if not _DTYPE_CODE.match(self.code):
            raise UnsafePickleError(
                "Only plain numeric numpy dtypes (b1, i1-i8, u1-u8, f2-f8) load; "
                f"object, string and record dtypes are refused. Received dtype "
                f"code {self.code!r}"
            )
        order = self.byte_order or "="
        if order == "|":
            order = "="
        return np.dtype(order + self.code)


class _ArrayStub:
    """Records a numpy array's shape, dtype, memory order and raw bytes."""

    __slots__ = ("state",)
    __hash__ = None

    def __init__(self, state=None):
        self.state = state

    def __setstate__(self, state):
        if self.state is not None:
            raise UnsafePickleError("numpy.ndarray state was set twice")
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise UnsafePickleError(
                "numpy.ndarray state must be a tuple (version, shape, dtype, "
                f"is_fortran, data). Received: {_short_repr(state)}"
            )
        if len(state) == 5:
            state = state[1:]
        shape, dtype, is_fortran, data = state
        self.state = (shape, dtype, "F" if is_fortran else "C", data)

    def to_array(self):
        if self.state is None:
            raise UnsafePickleError("numpy.ndarray was reconstructed without state")
        shape, dtype, order, data = self.state
        if not isinstance(dtype, _DtypeStub):
            raise UnsafePickleError(
                f"numpy.ndarray dtype must be a numpy.dtype. Received: "
                f"{_short_repr(dtype)}"
            )
        dtype = dtype.to_dtype()
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise UnsafePickleError(
                "numpy.ndarray shape must be a tuple of non-negative ints. "
                f"Received: {_short_repr(shape)}"
            )
        if isinstance(data, str):
            # Python 2 pickles read with encoding="latin1" give `str` data.
            data = data.encode("latin1")
        if not isinstance(data, (bytes, bytearray)):
            raise UnsafePickleError(
                f"numpy.ndarray data must be bytes. Received: {type(data).__name__}"
            )
        expected = math.prod(shape) * dtype.itemsize
        if len(data) != expected:
            raise UnsafePickleError(
                f"numpy.ndarray of shape {shape} and dtype {dtype} needs "
                f"{expected} data bytes. Received {len(data)}"
            )
        array = np.frombuffer(bytes(data), dtype=dtype).reshape(shape, order=order)
        # A native-order writable copy, like numpy's own unpickling gives.
        return array.astype(dtype.newbyteorder("="), order="K")


def _reconstruct(subtype, shape, typecode):
    if subtype is not _NDARRAY_MARKER:
        raise UnsafePickleError(
            "numpy.core.multiarray._reconstruct is admitted only for "
            f"numpy.ndarray. Received subtype {_short_repr(subtype)}"
        )
    return _ArrayStub()


def _frombuffer(buffer, dtype, shape, order):
    if order not in ("C", "F"):
        raise UnsafePickleError(
            f"numpy _frombuffer order must be 'C' or 'F'. Received: {order!r}"
        )
    return _ArrayStub((shape, dtype, order, buffer))


def _codecs_encode(text, encoding="utf-8", errors="strict"):
    if encoding != "latin1" or errors != "strict" or not isinstance(text, str):
        raise UnsafePickleError(
            "_codecs.encode is admitted only as encode(str, 'latin1'), the way "
            "Python 3 pickles bytes at protocols 0-2. Received encoding="
            f"{encoding!r}, errors={errors!r}, text of type {type(text).__name__}"
        )
    return text.encode("latin1")


def _empty_bytes(*args):
    if args:
        raise UnsafePickleError(
            "builtins.bytes is admitted only without arguments, the way Python 3 "
            f"pickles b'' at protocols 0-2. Received: {_short_repr(args)}"
        )
    return b""


def _plain_set(items=()):
    return set(_plain_items(items, "set"))


def _plain_frozenset(items=()):
    return frozenset(_plain_items(items, "frozenset"))


def _plain_items(items, what):
    if not isinstance(items, list):
        raise UnsafePickleError(
            f"builtins.{what} is admitted only with a list argument. "
            f"Received: {_short_repr(items)}"
        )
    return items


_BUILTIN_FUNCTIONS = {
    "bytes": _empty_bytes,
    "set": _plain_set,
    "frozenset": _plain_frozenset,
}


def _dtype(code, align=False, copy=False):
    return _DtypeStub(code)


_ADMITTED = {
    "reconstruct": _Admitted(_reconstruct),
    "frombuffer": _Admitted(_frombuffer),
    "dtype": _Admitted(_dtype),
    "codecs_encode": _Admitted(_codecs_encode),
    **{name: _Admitted(function) for name, function in _BUILTIN_FUNCTIONS.items()},
}
# What a loaded pickle may hold besides containers and numpy arrays.
_PLAIN_SCALARS = (str, bytes, bytearray, int, float, type(None))


def _text(value, what):
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            pass
    if not isinstance(value, str):
        raise UnsafePickleError(
            f"{what} must be a string. Received: {_short_repr(value)}"
        )
    return value


def _short_repr(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RestrictedUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` that refuses every global outside an allow-list.

    See the module docstring for what loads. `load()` returns the unpickled
    object with numpy arrays built from their validated raw bytes.

    Args:
        file: binary file object. The pickle stream.
        encoding: str. How Python 2 `str` objects are decoded; `"bytes"`
            keeps them as bytes (what the CIFAR python batches need, their
            keys being Python 2 strings). Defaults to `"bytes"`.

    Raises (from `load`):
        UnsafePickleError: for a refused global or array.
        pickle.UnpicklingError: for a malformed stream.

    Example:

    ```python
    with open("cifar-10-batches-py/test_batch", "rb") as file:
        batch = RestrictedUnpickler(file).load()
    ```
    """

    def __init__(self, file, encoding="bytes"):
        super().__init__(file, encoding=encoding)

    def find_class(self, module, name):
        key = (module, name)
        if key in _RECONSTRUCT:
            return _ADMITTED["reconstruct"]
        if key in _FROMBUFFER:
            return _ADMITTED["frombuffer"]
        if key == _NDARRAY:
            return _NDARRAY_MARKER
        if key == _DTYPE:
            return _ADMITTED["dtype"]
        if key == _CODECS_ENCODE:
            return _ADMITTED["codecs_encode"]
        if module in _BUILTINS and name in _BUILTIN_FUNCTIONS:
            return _ADMITTED[name]
        raise UnsafePickleError(
            f"The pickle asks for the global {module}.{name}, which the "
            "restricted unpickler refuses: only plain containers, strings, "
            "bytes, numbers and numeric numpy arrays load. Never unpickle "
            "this file with plain `pickle.load`"
        )

    def persistent_load(self, pid):
        raise UnsafePickleError(
            f"The pickle holds a persistent id ({_short_repr(pid)}), which the "
            "restricted unpickler refuses"
        )

    def load(self):
        try:
            result = super().load()
            return _finalize(result, {})
        except UnsafePickleError:
            raise
        except pickle.UnpicklingError:
            raise
        except RecursionError as error:
            raise pickle.UnpicklingError(
                "The pickle is nested too deeply to load"
            ) from error
        except (
            EOFError,
            TypeError,
            ValueError,
            AttributeError,
            IndexError,
            KeyError,
            OverflowError,
            UnicodeError,
        ) as error:
            raise pickle.UnpicklingError(
                f"The pickle is malformed: {type(error).__name__}: {error}"
            ) from error


def _finalize(value, done):
    """Replaces the array stand-ins in `value` with numpy arrays, in place.

    `done` maps `id()` of visited containers to their final value, so shared
    and self-referencing containers (which pickle memo opcodes can build)
    are visited once.
    """
    if isinstance(value, _ArrayStub):
        key = id(value)
        if key not in done:
            done[key] = value.to_array()
        return done[key]
    if isinstance(value, (_DtypeStub, _NdarrayMarker, _Admitted)):
        raise UnsafePickleError(
            "The pickle holds a bare numpy dtype, numpy.ndarray class or an "
            "admitted global as data; only containers, strings, bytes, "
            "numbers and numpy arrays are admitted"
        )
    key = id(value)
    if key in done:
        return done[key]
    if isinstance(value, list):
        done[key] = value
        for index, item in enumerate(value):
            value[index] = _finalize(item, done)
        return value
    if isinstance(value, dict):
        done[key] = value
        for item_key in list(value):
            _check_hashable(item_key)
            value[item_key] = _finalize(value[item_key], done)
        return value
    if isinstance(value, (set, frozenset)):
        for item in value:
            _check_hashable(item)
        return value
    if isinstance(value, tuple):
        done[key] = value
        items = tuple(_finalize(item, done) for item in value)
        if any(new is not old for new, old in zip(items, value)):
            value = items
            done[key] = value
        return value
    if not isinstance(value, _PLAIN_SCALARS):
        raise UnsafePickleError(
            f"The pickle holds a {type(value).__name__} as data; only "
            "containers, strings, bytes, numbers and numpy arrays are admitted"
        )
    return value


def _check_hashable(value):
    """Dict keys and set items: plain scalars or tuples of them."""
    if isinstance(value, tuple):
        for item in value:
            _check_hashable(item)
    elif isinstance(value, (_Admitted, _NdarrayMarker)) or not isinstance(
        value, _PLAIN_SCALARS
    ):
        raise UnsafePickleError(
            f"The pickle holds a {type(value).__name__} as a key or set item; "
            "only strings, bytes, numbers and tuples of them are admitted"
        )


def loads(data, encoding="bytes"):
    """Unpickles `data` with `RestrictedUnpickler`.

    Args:
        data: bytes-like. The pickle.
        encoding: str. See `RestrictedUnpickler`. Defaults to `"bytes"`.

    Returns:
        The unpickled object.

    Raises:
        UnsafePickleError: if the pickle names a refused global or holds a
            non-numeric array.
        pickle.UnpicklingError: if the pickle is malformed.

    Example:

    ```python
    loads(pickle.dumps({b"labels": [1, 2]}))  # {b'labels': [1, 2]}
    ```
    """
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def load_file(path, encoding="bytes"):
    """Unpickles the file at `path` with `RestrictedUnpickler`.

    Args:
        path: str or path-like. The pickle file.
        encoding: str. See `RestrictedUnpickler`. Defaults to `"bytes"`.

    Returns:
        The unpickled object.

    Raises:
        FileNotFoundError: if `path` is not a file.
        UnsafePickleError: if the pickle names a refused global or holds a
            non-numeric array; the message names the file and the global.
        ValueError: if the file is not a valid pickle; the message names it.

    Example:

    ```python
    meta = load_file("cifar-100-python/meta")
    meta[b"fine_label_names"][:2]  # [b'apple', b'aquarium_fish']
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Pickle file not found: {path}")
    with open(path, "rb") as file:
        try:
            return RestrictedUnpickler(file, encoding=encoding).load()
        except UnsafePickleError as error:
            raise UnsafePickleError(f"Refused to load {path}: {error}") from error
        except pickle.UnpicklingError as error:
            raise ValueError(f"File {path} is not a valid pickle: {error}") from error

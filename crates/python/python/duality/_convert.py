"""Input checks shared by the public modules.

Each public function turns what the user passed into a C-contiguous NumPy
array of the dtype the Rust side reads, with at most one conversion (none
when the array already is one), and refuses what cannot be numbers with an
exception that names the argument.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

_NUMERIC_KINDS = "biuf"


def any_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a NumPy array of whatever dtype it has (no copy of an
    array); ragged nesting raises ``ValueError`` naming ``name``."""
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name}: not a rectangular array (ragged nesting?): {e}") from None


def named(names: str, call: Any, *args: Any) -> Any:
    """``call(*args)``, with a ``ValueError`` from the Rust side prefixed
    by the Python argument ``names`` it concerns."""
    try:
        return call(*args)
    except ValueError as e:
        raise ValueError(f"{names}: {e}") from None


def as_array(x: Any, name: str, ndim: Optional[int] = None, dtype: Any = np.float64) -> np.ndarray:
    """``x`` as a C-contiguous ``dtype`` array with ``ndim`` dimensions.

    Raises ``TypeError`` for object, string, complex or other non-numeric
    data and ``ValueError`` for ragged nesting or a wrong number of
    dimensions (including 0-d arrays where 1-D or 2-D is needed); each
    message names ``name``.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"{name}: not a rectangular array of numbers (ragged nesting?): {e}"
            ) from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{name}: expected an array of numbers, got dtype {arr.dtype} "
            f"(kind {arr.dtype.kind!r})"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name}: expected a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}"
        )
    if dtype is np.int64 and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: expected integers, got non-integral values")
    return np.ascontiguousarray(arr, dtype=dtype)


def as_int(x: Any, name: str) -> int:
    """A Python int from an integer-like scalar, naming ``name`` otherwise."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {x!r} ({type(x).__name__})")
    v = int(x)
    if not -(2**64) < v < 2**64:
        raise ValueError(f"invalid {name} = {v}: too large (expected a 64-bit integer)")
    return v


def as_float(x: Any, name: str) -> float:
    """A Python float from a real scalar, naming ``name`` otherwise."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {x!r} ({type(x).__name__})")
    return float(x)

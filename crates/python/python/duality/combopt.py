"""Combinatorial optimisation shaped like scipy and moocore.

scipy users switch with::

    from duality.combopt import linear_sum_assignment
    row_ind, col_ind = linear_sum_assignment(cost, maximize=False)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _native
from ._convert import as_array, as_float, as_int, named

__all__ = ["linear_sum_assignment", "solve_tsp", "tsp_methods", "hypervolume"]


def linear_sum_assignment(cost_matrix: Any, maximize: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Minimum-cost (or, with ``maximize``, maximum-profit) assignment of the
    rows of a rectangular cost matrix to distinct columns, by shortest
    augmenting paths (Crouse 2016, the method of scipy's function of the same
    name). Returns ``(row_ind, col_ind)`` as int64 arrays sorted by row, so
    ``cost_matrix[row_ind, col_ind].sum()`` is the optimum. ``inf`` (``-inf``
    when maximising) marks a forbidden pair; NaN and infeasible matrices
    raise ``ValueError``."""
    cost = as_array(cost_matrix, "cost_matrix", ndim=2)
    return _native.combopt_linear_sum_assignment(cost, bool(maximize))


def tsp_methods() -> List[Dict[str, Any]]:
    """The built-in TSP methods: ``name``, ``description`` and ``seeded``."""
    return [
        {"name": n, "description": d, "seeded": s} for n, d, s in _native.combopt_tsp_methods()
    ]


def solve_tsp(
    points: Any = None,
    *,
    distances: Any = None,
    method: str = "or2opt",
    seed: int = 0,
    k: int = 10,
    time_limit: Optional[float] = None,
    kicks: Optional[int] = None,
    lower_bound: bool = True,
) -> Dict[str, Any]:
    """Solves a symmetric TSP.

    Args:
        points: ``(n, 2)`` city coordinates (exact Euclidean distances), or
        distances: an ``(n, n)`` symmetric distance matrix (give one of them;
            ``n >= 3``).
        method: one of :func:`tsp_methods` (``nn``, ``greedy``, ``2opt``,
            ``or2opt``, ``or2opt-ils``, ``dcr``, ...).
        seed: seed of the seeded methods (same seed, same tour).
        k: nearest-neighbour candidates per city.
        time_limit: seconds for the improving phase of the search methods.
        kicks: iterated-local-search kicks (default: the method's own).
        lower_bound: also compute the Held-Karp 1-tree lower bound (a
            certificate: ``length / lower_bound - 1`` bounds the gap to optimal).

    Returns:
        ``{"tour": int64 array of the cities in order, "length": float,
        "lower_bound": float or None}``.
    """
    if (points is None) == (distances is None):
        raise ValueError("solve_tsp: give exactly one of points (n, 2) or distances (n, n)")
    is_matrix = distances is not None
    data = as_array(distances if is_matrix else points, "distances" if is_matrix else "points", ndim=2)
    tour, length, bound = named(
        "distances" if is_matrix else "points (coords)",
        _native.combopt_solve_tsp,
        data,
        is_matrix,
        str(method),
        as_int(seed, "seed"),
        as_int(k, "k"),
        None if time_limit is None else as_float(time_limit, "time_limit"),
        None if kicks is None else as_int(kicks, "kicks"),
        bool(lower_bound),
    )
    return {"tour": tour, "length": length, "lower_bound": bound}


def hypervolume(data: Any, ref: Any) -> float:
    """Hypervolume dominated by the points of ``data`` (rows, minimisation)
    and bounded by the reference point ``ref`` (moocore's ``hypervolume``);
    points not strictly better than ``ref`` in every objective add nothing."""
    pts = as_array(data, "data", ndim=2)
    r = as_array(ref, "ref", ndim=1)
    return named("data (points), ref", _native.combopt_hypervolume, pts, r)

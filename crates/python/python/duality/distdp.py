"""Optimal stopping from duality-distdp: Bermudan put prices."""

from __future__ import annotations

from typing import Any, Dict

from . import _native
from ._convert import as_float, as_int

__all__ = ["price_bermudan_put"]


def price_bermudan_put(
    s0: float = 36.0,
    strike: float = 40.0,
    rate: float = 0.06,
    sigma: float = 0.2,
    maturity: float = 1.0,
    *,
    exercise_dates: int = 50,
    method: str = "lsmc",
    paths: int = 100_000,
    basis: str = "laguerre:2",
    antithetic: bool = True,
    seed: int = 0,
    steps: int = 2_000,
    lower_paths: int = 100_000,
    outer_paths: int = 1_000,
    inner_paths: int = 500,
    dual_seed: int = 1,
) -> Dict[str, Any]:
    """Price of a Bermudan put under geometric Brownian motion, exercisable on
    ``exercise_dates`` equally spaced dates (the last at maturity); defaults
    are the Longstaff-Schwartz (2001) reference put.

    Methods:
        ``lsmc``: Longstaff-Schwartz least-squares Monte Carlo on ``paths``
        antithetic paths with the regression ``basis`` (``laguerre:D`` or
        ``poly:D``): ``price``, ``std_error``, ``ci`` (95%).
        ``interval``: the LSMC rule's out-of-sample value on ``lower_paths``
        fresh paths (``lower``) and the Andersen-Broadie dual upper bound on
        ``outer_paths`` x ``inner_paths`` nested paths (``upper``), with the
        95% interval ``ci`` that covers the true price.
        ``binomial``: the CRR lattice with ``steps`` steps (rounded up to a
        multiple of the dates).
        ``european``: Black-Scholes (no early exercise), for reference.

    Returns a dict with ``method``, ``price`` and the method's extras.
    """
    return _native.distdp_price_bermudan_put(
        as_float(s0, "s0"),
        as_float(strike, "strike"),
        as_float(rate, "rate"),
        as_float(sigma, "sigma"),
        as_float(maturity, "maturity"),
        as_int(exercise_dates, "exercise_dates"),
        as_int(paths, "paths"),
        str(basis),
        bool(antithetic),
        as_int(seed, "seed"),
        str(method),
        as_int(steps, "steps"),
        (as_int(lower_paths, "lower_paths"), as_int(outer_paths, "outer_paths"), as_int(inner_paths, "inner_paths")),
        as_int(dual_seed, "dual_seed"),
    )

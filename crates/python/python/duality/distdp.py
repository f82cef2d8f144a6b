"""Dynamic programming from duality-distdp: Bermudan put prices and
discounted finite MDPs."""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from . import _native
from ._convert import any_array, as_array, as_float, as_int, named

__all__ = ["price_bermudan_put", "solve_mdp"]


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


def solve_mdp(
    transitions: Any,
    reward: Any,
    discount: float,
    method: str = "value_iteration",
    *,
    epsilon: float = 1e-10,
    max_iter: int = 100_000,
    mu: Optional[Any] = None,
) -> Dict[str, Any]:
    """Optimal values and a deterministic policy of a discounted finite MDP,
    in pymdptoolbox's layout: ``transitions[a, s, s']`` of shape ``(A, S, S)``
    (rows sum to 1), ``reward`` of shape ``(S, A)`` (per state and action) or
    ``(A, S, S)`` (per transition), ``discount`` in ``[0, 1)``.

    Methods: ``value_iteration`` (until the sup-norm change is below
    ``epsilon``), ``policy_iteration``, ``lp`` (the primal-dual linear
    program, with initial distribution ``mu``, uniform by default; also
    returns the ``occupancy`` measure, ``(S, A)``).

    Returns ``{"values": (S,), "policy": int64 (S,), "iterations": int}``.
    """
    p = as_array(transitions, "transitions", ndim=3)
    r = any_array(reward, "reward")
    if r.ndim == 2:
        r2 = as_array(r, "reward", ndim=2)
        if r2.shape != (p.shape[1], p.shape[0]):
            raise ValueError(
                f"reward: shape {r2.shape} does not match transitions {p.shape}: expected (S, A) = ({p.shape[1]}, {p.shape[0]})"
            )
        r3 = np.ascontiguousarray(np.broadcast_to(r2.T[:, :, None], p.shape))
    else:
        r3 = as_array(r, "reward", ndim=3)
    m = np.zeros(0) if mu is None else as_array(mu, "mu", ndim=1)
    return named(
        "transitions, reward",
        _native.distdp_solve_mdp,
        p,
        r3,
        as_float(discount, "discount"),
        str(method),
        as_float(epsilon, "epsilon"),
        as_int(max_iter, "max_iter"),
        m,
    )

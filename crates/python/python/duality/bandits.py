"""Off-policy evaluation shaped like Open Bandit Pipeline (obp 0.4.1).

obp users switch with::

    from duality.bandits import InverseProbabilityWeighting as IPW
    IPW().estimate_policy_value(reward=reward, action=action, pscore=pscore, action_dist=action_dist)

Arguments keep obp's names and shapes: ``reward``, ``action``, ``pscore``
of shape ``(n_rounds,)``; ``action_dist`` and
``estimated_rewards_by_reg_model`` of shape ``(n_rounds, n_actions,
len_list)`` (a 2-D ``(n_rounds, n_actions)`` array is taken as one
position); ``position`` selects the slot of each round (default 0).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

from . import _native
from ._convert import any_array, as_array, as_float

__all__ = [
    "InverseProbabilityWeighting",
    "SelfNormalizedInverseProbabilityWeighting",
    "DirectMethod",
    "DoublyRobust",
    "SwitchDoublyRobust",
    "ips",
    "snips",
    "dm",
    "dr",
    "switch_dr",
    "simulate",
]


def _three_d(x: Any, name: str) -> np.ndarray:
    """obp's ``(n_rounds, n_actions, len_list)`` array as C-contiguous float64
    (a 2-D ``(n_rounds, n_actions)`` array is one slot); the slot of each
    round is picked on the Rust side: a one-slot array is read in place, several
    slots are gathered once."""
    arr = any_array(x, name)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return as_array(arr, name, ndim=3)


def _estimate(
    kind: str,
    reward: Any,
    action: Any,
    pscore: Any,
    action_dist: Any,
    estimated_rewards_by_reg_model: Any = None,
    position: Any = None,
    tau: Optional[float] = None,
    round_rewards: bool = False,
) -> Any:
    dist = _three_d(action_dist, "action_dist")
    n = dist.shape[0]
    r = as_array(reward, "reward", ndim=1) if reward is not None else np.zeros(n)
    a = as_array(action, "action", ndim=1, dtype=np.int64) if action is not None else np.zeros(n, np.int64)
    p = as_array(pscore, "pscore", ndim=1) if pscore is not None else np.ones(n)
    pos = np.zeros(0, np.int64) if position is None else as_array(position, "position", ndim=1, dtype=np.int64)
    q = (
        None
        if estimated_rewards_by_reg_model is None
        else _three_d(estimated_rewards_by_reg_model, "estimated_rewards_by_reg_model")
    )
    return _native.bandits_ope(kind, r, a, p, dist, pos, q, tau, round_rewards)


class _Estimator:
    _kind = ""
    estimator_name = ""

    def estimate_round_rewards(self, **kwargs: Any) -> np.ndarray:
        """The per-round values whose mean is the estimate."""
        return self._call(round_rewards=True, **kwargs)

    def _call(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class InverseProbabilityWeighting(_Estimator):
    """IPW: ``mean(w_i r_i)`` with ``w_i = pi_e(a_i | x_i) / pscore_i``
    (obp's ``InverseProbabilityWeighting``, no clipping)."""

    _kind = "ipw"
    estimator_name = "ipw"

    def estimate_policy_value(
        self, reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None, **kwargs: Any
    ) -> float:
        """The policy-value estimate."""
        return self._call(reward=reward, action=action, pscore=pscore, action_dist=action_dist, position=position)

    def _call(self, reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None, round_rewards: bool = False, **_: Any) -> Any:
        return _estimate(self._kind, reward, action, pscore, action_dist, None, position, None, round_rewards)


class SelfNormalizedInverseProbabilityWeighting(InverseProbabilityWeighting):
    """SNIPW: ``sum(w_i r_i) / sum(w_i)`` (obp's
    ``SelfNormalizedInverseProbabilityWeighting``)."""

    _kind = "snipw"
    estimator_name = "snipw"


class DirectMethod(_Estimator):
    """DM: ``mean_i sum_a pi_e(a | x_i) q(x_i, a)`` from a reward model
    (obp's ``DirectMethod``)."""

    _kind = "dm"
    estimator_name = "dm"

    def estimate_policy_value(
        self, action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None, **kwargs: Any
    ) -> float:
        """The policy-value estimate."""
        return self._call(action_dist=action_dist, estimated_rewards_by_reg_model=estimated_rewards_by_reg_model, position=position)

    def _call(self, action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None, round_rewards: bool = False, **_: Any) -> Any:
        return _estimate("dm", None, None, None, action_dist, estimated_rewards_by_reg_model, position, None, round_rewards)


class DoublyRobust(_Estimator):
    """DR: the DM term plus ``w_i (r_i - q(x_i, a_i))`` (obp's ``DoublyRobust``)."""

    _kind = "dr"
    estimator_name = "dr"

    def estimate_policy_value(
        self,
        reward: Any,
        action: Any,
        pscore: Any,
        action_dist: Any,
        estimated_rewards_by_reg_model: Any,
        position: Any = None,
        **kwargs: Any,
    ) -> float:
        """The policy-value estimate."""
        return self._call(
            reward=reward,
            action=action,
            pscore=pscore,
            action_dist=action_dist,
            estimated_rewards_by_reg_model=estimated_rewards_by_reg_model,
            position=position,
        )

    def _call(self, reward: Any, action: Any, pscore: Any, action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None, round_rewards: bool = False, **_: Any) -> Any:
        return _estimate(self._kind, reward, action, pscore, action_dist, estimated_rewards_by_reg_model, position, self._tau(), round_rewards)

    def _tau(self) -> Optional[float]:
        return None


class SwitchDoublyRobust(DoublyRobust):
    """Switch-DR (Wang et al. 2017): the DR correction only where
    ``w_i <= tau`` (obp's ``SwitchDoublyRobust``, default ``tau = 1``)."""

    _kind = "switch-dr"
    estimator_name = "switch-dr"

    def __init__(self, tau: float = 1.0) -> None:
        self.tau = as_float(tau, "tau")

    def _tau(self) -> Optional[float]:
        return self.tau

    def __repr__(self) -> str:
        return f"SwitchDoublyRobust(tau={self.tau!r})"


def ips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None) -> float:
    """IPW estimate (see :class:`InverseProbabilityWeighting`)."""
    return InverseProbabilityWeighting().estimate_policy_value(reward, action, pscore, action_dist, position)


def snips(reward: Any, action: Any, pscore: Any, action_dist: Any, position: Any = None) -> float:
    """SNIPW estimate (see :class:`SelfNormalizedInverseProbabilityWeighting`)."""
    return SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(reward, action, pscore, action_dist, position)


def dm(action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None) -> float:
    """DM estimate (see :class:`DirectMethod`)."""
    return DirectMethod().estimate_policy_value(action_dist, estimated_rewards_by_reg_model, position)


def dr(reward: Any, action: Any, pscore: Any, action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None) -> float:
    """DR estimate (see :class:`DoublyRobust`)."""
    return DoublyRobust().estimate_policy_value(reward, action, pscore, action_dist, estimated_rewards_by_reg_model, position)


def switch_dr(reward: Any, action: Any, pscore: Any, action_dist: Any, estimated_rewards_by_reg_model: Any, position: Any = None, tau: float = 1.0) -> float:
    """Switch-DR estimate (see :class:`SwitchDoublyRobust`)."""
    return SwitchDoublyRobust(tau).estimate_policy_value(reward, action, pscore, action_dist, estimated_rewards_by_reg_model, position)


def simulate(config: Union[Mapping[str, Any], str]) -> Dict[str, Any]:
    """Runs the bandit simulator (``duality bandit simulate``) and returns the
    regret curves as arrays.

    ``config`` is a dict with the keys of the simulate TOML (``horizon``,
    ``repetitions``, ``seed``, ``checkpoints``, ``environment`` with its
    ``kind``, ``policies``: a list of dicts with ``kind`` and parameters,
    ``ci``), or that TOML as a string. Unknown keys are errors naming them.
    Repetition ``r`` uses seed stream ``r`` for every policy (common random
    numbers), so the same config gives the same curves.

    Returns ``{"environment", "horizon", "checkpoints": int64 (c,),
    "policies": {name: {"pseudo_regret": (repetitions, c),
    "realised_regret": (repetitions, c), "pulls": int64 (repetitions, arms),
    "total_reward": (repetitions,)}}}``.
    """
    if isinstance(config, str):
        return _native.bandits_simulate(config, False)
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected a dict or TOML text, got {type(config).__name__}")

    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, np.generic):
            return v.item()
        raise TypeError(f"config: {v!r} ({type(v).__name__}) is not a number, string, list or dict")

    return _native.bandits_simulate(json.dumps(dict(config), default=plain, allow_nan=False), True)

"""Type stubs of the Rust extension ``duality._native``.

Private: call the public modules (``duality.eval``, ``duality.combopt``,
``duality.bandits``, ``duality.distdp``), which check and convert inputs
and shape the results. Arrays passed here must already be C-contiguous of
the stated dtype (float64, bool or int64); anything else is a TypeError.
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

__version__: str

def eval_aggregate(metric_name: str, scores: F64, gamma: float = 1.0) -> float: ...
def eval_probability_of_improvement(scores_x: F64, scores_y: F64) -> float: ...
def eval_interval_estimates(
    names: Sequence[str],
    scores: Sequence[F64],
    metrics: Sequence[str],
    gamma: float,
    reps: int,
    confidence: float,
    method: str,
    task_bootstrap: bool,
    seed_: int,
) -> List[Tuple[F64, F64]]: ...
def eval_improvement_intervals(
    names: Sequence[str],
    scores_x: Sequence[F64],
    scores_y: Sequence[F64],
    reps: int,
    confidence: float,
    method: str,
    task_bootstrap: bool,
    seed_: int,
) -> List[Tuple[float, float, float]]: ...
def eval_performance_profile(
    names: Sequence[str],
    scores: Sequence[F64],
    taus: F64,
    use_score_distribution: bool,
    reps: int,
    confidence: float,
    method: str,
    task_bootstrap: bool,
    seed_: int,
) -> List[Tuple[F64, F64]]: ...
def eval_roc_auc(labels: Bool, scores: F64) -> float: ...
def eval_average_precision(labels: Bool, scores: F64) -> float: ...
def eval_delong(
    labels: Bool, scores_a: F64, scores_b: F64, confidence: float
) -> Tuple[float, float, float, float, float, float, float]: ...
def eval_mcnemar_table(y_target: I64, y_model1: I64, y_model2: I64) -> I64: ...
def eval_mcnemar(table: I64) -> Tuple[float, float, float, float, float, float]: ...
def eval_five_by_two(differences: F64) -> Tuple[float, float, float, float]: ...
def eval_conformal_select(calibration: F64, test: F64, q: float) -> Tuple[I64, F64]: ...
def eval_clipped_scores(outcomes: F64, calibration: F64, test: F64, threshold: float) -> Tuple[F64, F64]: ...
def combopt_linear_sum_assignment(cost: F64, maximize: bool) -> Tuple[I64, I64]: ...
def combopt_tsp_methods() -> List[Tuple[str, str, bool]]: ...
def combopt_solve_tsp(
    data: F64,
    is_matrix: bool,
    method: str,
    seed_: int,
    k: int,
    time_limit: Optional[float],
    kicks: Optional[int],
    lower_bound: bool,
) -> Tuple[I64, float, Optional[float]]: ...
def combopt_hypervolume(points: F64, reference: F64) -> float: ...
def bandits_ope(
    estimator: str,
    reward: F64,
    action: I64,
    pscore: F64,
    action_dist: npt.NDArray[np.float64],
    position: I64,
    estimated_rewards: Optional[npt.NDArray[np.float64]] = None,
    tau: Optional[float] = None,
    round_rewards: bool = False,
) -> Union[float, F64]: ...
def _ope_last_buffers() -> Dict[str, int]:
    """Test hook: data addresses the last ``bandits_ope`` call read (0: absent)."""
    ...
def _ope_in_flight() -> int:
    """Test hook: ``bandits_ope`` calls now running with the GIL released."""
    ...
def bandits_simulate(config: str, is_json: bool) -> Dict[str, object]: ...
def distdp_solve_mdp(
    p: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    gamma: float,
    method: str,
    tol: float,
    max_iter: int,
    mu: F64,
) -> Dict[str, object]: ...
def distdp_price_bermudan_put(
    s0: float,
    strike: float,
    rate: float,
    sigma: float,
    maturity: float,
    exercise_dates: int,
    paths: int,
    basis: str,
    antithetic: bool,
    seed_: int,
    method: str,
    steps: int,
    dual_paths: Tuple[int, int, int],
    dual_seed: int,
) -> Dict[str, object]: ...

class AdaStop:
    def __init__(
        self,
        agents: Sequence[str],
        n: int,
        stages: int,
        alpha: float,
        permutations: int,
        seed_: int,
        comparisons: Optional[Sequence[Tuple[int, int]]] = None,
        group_sizes: Optional[Sequence[int]] = None,
        variant: str = "duality",
    ) -> None: ...
    def update(self, batch: Sequence[F64]) -> List[str]: ...
    @property
    def agents(self) -> List[str]: ...
    @property
    def comparisons(self) -> List[Tuple[int, int]]: ...
    @property
    def group_sizes(self) -> List[int]: ...
    @property
    def stage(self) -> int: ...
    @property
    def is_finished(self) -> bool: ...
    @property
    def agents_to_run(self) -> List[int]: ...
    @property
    def runs_used(self) -> int: ...
    def outcomes(self) -> List[Dict[str, object]]: ...
    def records(self) -> List[Tuple[float, float]]: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> "AdaStop": ...

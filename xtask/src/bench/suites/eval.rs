//! Suite `eval`: statistics of evaluation (bootstrap CIs, AUROC) and their speed (duality-eval).

use crate::bench::harness::Suite;

/// The `eval` suite. Experiments are added by the duality-eval issue.
pub fn suite() -> Suite {
    Suite {
        name: "eval",
        about: "statistics of evaluation (bootstrap CIs, AUROC) and their speed",
        experiments: Vec::new(),
    }
}

//! Suite `bandits`: regret of bandit policies, OPE error, SOR tuning (duality-bandits).

use crate::bench::harness::Suite;

/// The `bandits` suite. Experiments are added by the duality-bandits issue.
pub fn suite() -> Suite {
    Suite {
        name: "bandits",
        about: "regret of bandit policies, OPE error, SOR tuning",
        experiments: Vec::new(),
    }
}

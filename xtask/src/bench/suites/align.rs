//! Suite `align`: preference-optimisation win rates and training throughput (duality-align).

use crate::bench::harness::Suite;

/// The `align` suite. Experiments are added by the duality-align issue.
pub fn suite() -> Suite {
    Suite {
        name: "align",
        about: "preference-optimisation win rates and training throughput",
        experiments: Vec::new(),
    }
}

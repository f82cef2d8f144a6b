//! Suite `combopt`: TSP gaps and times, assignment, online matching, DAG learning (duality-combopt).

use crate::bench::harness::Suite;

/// The `combopt` suite. Experiments are added by the duality-combopt issue.
pub fn suite() -> Suite {
    Suite {
        name: "combopt",
        about: "TSP gaps and times, assignment, online matching, DAG learning",
        experiments: Vec::new(),
    }
}

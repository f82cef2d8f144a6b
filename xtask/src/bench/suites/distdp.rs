//! Suite `distdp`: risk-sensitive distributional DP vs risk-neutral, LSMC pricing (duality-distdp).

use crate::bench::harness::Suite;

/// The `distdp` suite. Experiments are added by the duality-distdp issue.
pub fn suite() -> Suite {
    Suite {
        name: "distdp",
        about: "risk-sensitive distributional DP vs risk-neutral, LSMC pricing",
        experiments: Vec::new(),
    }
}

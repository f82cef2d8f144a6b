"""duality from Python: rliable-, scikit-learn-, scipy- and obp-shaped APIs
over duality's Rust crates.

Submodules:

- :mod:`duality.eval` -- rliable's aggregates, bootstrap intervals and
  performance profiles; scikit-learn's ``roc_auc_score`` and
  ``average_precision_score``; DeLong's test; mlxtend's ``mcnemar``.
- :mod:`duality.combopt` -- scipy's ``linear_sum_assignment``, TSP solvers
  with a certified lower bound, the hypervolume indicator.
- :mod:`duality.bandits` -- obp's off-policy estimators (IPW, SNIPW, DM, DR,
  Switch-DR).
- :mod:`duality.distdp` -- Bermudan put prices (Longstaff-Schwartz with the
  Andersen-Broadie interval, the binomial lattice).

Every function releases the GIL while the Rust code runs, and raises
``ValueError`` or ``TypeError`` with a message that names the bad value.
"""

from . import bandits, combopt, distdp, eval
from ._native import __version__

__all__ = ["bandits", "combopt", "distdp", "eval", "__version__"]

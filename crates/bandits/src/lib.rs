//! # duality-bandits — multi-armed bandits
//!
//! Will hold (see `docs/papers.md`): stochastic policies from Slivkins'
//! *Introduction to Multi-Armed Bandits* (explore-first, epsilon-greedy,
//! successive elimination, UCB1, KL-UCB, MOSS, Thompson sampling),
//! adversarial ones (Hedge, Exp3, Exp3-IX, Exp4, Tsallis-INF), linear and
//! contextual bandits (LinUCB, linear Thompson sampling), bandits with
//! knapsacks, combinatorial semi-bandits, weighted tallying bandits,
//! best-arm identification, off-policy evaluation and learning (IPS, SNIPS,
//! DM, DR, switch-DR), a parallel simulator with common random numbers, and
//! the *Learning to Relax* SOR-parameter tuning application.
//!
//! It builds and tests without libtorch.

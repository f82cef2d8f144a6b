//! PDVN's two value networks on duality-core's tensor layer (feature
//! `torch`): synthesizability `p(m)` (a sigmoid output trained by binary
//! cross-entropy on whether `m` has a route) and cost `c(m)` (trained by
//! squared error on the minimum route cost, solvable molecules only), both
//! two-hidden-layer MLPs over the molecule features.
//!
//! PDVN (Liu et al. 2023, Sec. 3.2) fits the two networks to the outcomes
//! of its planning phase (synthesizability and cost targets, their Eq. 4
//! and 7); here they are fitted to the exact labels of separate seeded
//! training graphs ([`super::ReactionGraph::exact`]), which those targets
//! estimate. Single-value Retro* (Chen et al. 2020) is the cost network
//! alone: Retro*'s value is trained on molecules of known routes.
//!
//! After that supervised fit, [`plan_and_fine_tune`] runs PDVN's
//! planning-based RL of the two networks (planning phase: search every
//! training target with the current dual value and label the molecules of
//! each search tree by its outcome, [`plan_phase`]; updating phase: fit the
//! networks to those labels, [`DualValue::fine_tune`]), followed from the
//! authors' code (github.com/DiXue98/PDVN: `retro_star/retro_mcts.py`,
//! `pdvn_trainer.py`, `alg/online_mcts.py`); its stated differences are in
//! [`plan_and_fine_tune`]'s docs.

use duality_core::seed::Seeder;
use duality_core::tensor::default_device;
use duality_core::tensor::mlp::{Mlp, MlpConfig};
use duality_core::tensor::tch::{nn, nn::Module, Device, Kind, Tensor};
use duality_core::{Error, Result};

use super::{dual_value, ReactionGraph, TableValue, FEATURES};

/// Training parameters of [`train_dual`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ValueParams {
    /// Hidden width (two hidden layers).
    pub hidden: usize,
    /// Passes over the molecules.
    pub epochs: usize,
    /// Molecules per Adam step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed (initialisation and order).
    pub seed: u64,
}

/// The two trained networks.
pub struct DualValue {
    _vs: nn::VarStore,
    syn: Mlp,
    cost: Mlp,
    device: Device,
}

impl std::fmt::Debug for DualValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DualValue")
            .field("device", &self.device)
            .finish()
    }
}

/// Fit quality on the training molecules.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ValueReport {
    /// Training molecules (non building blocks).
    pub molecules: usize,
    /// Of which solvable (the cost network's data).
    pub solvable: usize,
    /// Synthesizability accuracy at threshold 0.5.
    pub syn_accuracy: f64,
    /// Root mean squared error of the cost network on solvable molecules.
    pub cost_rmse: f64,
}

fn features_tensor(rows: &[f32], device: Device) -> Tensor {
    Tensor::from_slice(rows)
        .view([-1, FEATURES as i64])
        .to_device(device)
}

/// Trains the two networks on the non-building-block molecules of
/// `graphs` with their exact labels.
///
/// # Errors
/// No training molecule, no solvable one, invalid parameters or a torch
/// error.
pub fn train_dual(graphs: &[ReactionGraph], p: &ValueParams) -> Result<(DualValue, ValueReport)> {
    duality_core::check::at_least("epochs", p.epochs, 1)?;
    duality_core::check::at_least("batch", p.batch, 1)?;
    duality_core::check::at_least("hidden", p.hidden, 1)?;
    duality_core::check::positive("lr", p.lr)?;
    if p.hidden > 4096 {
        return Err(Error::invalid("hidden", p.hidden, "at most 4096"));
    }
    let mut x = Vec::new();
    let mut y_syn = Vec::new();
    let mut y_cost = Vec::new();
    for g in graphs {
        let e = g.exact();
        for m in 0..g.len() {
            if g.is_building_block(m) {
                continue;
            }
            x.extend_from_slice(g.features_of(m));
            y_syn.push(f32::from(u8::from(e.solvable(m))));
            y_cost.push(if e.solvable(m) { e.cost[m] as f32 } else { 0.0 });
        }
    }
    let n = y_syn.len();
    duality_core::check::at_least("training molecules", n, 1)?;
    let solvable = y_syn.iter().filter(|&&s| s > 0.5).count();
    duality_core::check::at_least("solvable training molecules", solvable, 1)?;
    let (vs, syn, cost, device) = {
        let _guard = duality_core::tensor::lock_seeded(p.seed);
        let device = default_device()?;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let syn = MlpConfig::new(FEATURES, &[p.hidden, p.hidden], 1).build(&(&root / "syn"))?;
        let cost = MlpConfig::new(FEATURES, &[p.hidden, p.hidden], 1).build(&(&root / "cost"))?;
        (vs, syn, cost, device)
    };
    let mut opt = duality_core::tensor::optim::OptimizerConfig::adam(p.lr).build(&vs)?;
    let xt = features_tensor(&x, device);
    let ys = Tensor::from_slice(&y_syn).to_device(device);
    let yc = Tensor::from_slice(&y_cost).to_device(device);
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rng = Seeder::new(p.seed).rng(1);
    for _ in 0..p.epochs {
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        for chunk in order.chunks(p.batch) {
            let idx = Tensor::from_slice(chunk).to_device(device);
            let xb = xt.index_select(0, &idx);
            let sb = ys.index_select(0, &idx);
            let cb = yc.index_select(0, &idx);
            let logit = syn.forward(&xb).view([-1]);
            let l_syn = logit.binary_cross_entropy_with_logits::<Tensor>(
                &sb,
                None,
                None,
                tch::Reduction::Mean,
            );
            let pred = cost.forward(&xb).view([-1]);
            let l_cost =
                ((pred - &cb).square() * &sb).sum(Kind::Float) / sb.sum(Kind::Float).clamp_min(1.0);
            let loss = l_syn + l_cost;
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
    }
    let model = DualValue {
        _vs: vs,
        syn,
        cost,
        device,
    };
    let (ps, cs) = model.predict(&x)?;
    let mut hits = 0usize;
    let mut se = 0.0;
    for i in 0..n {
        let s = y_syn[i] > 0.5;
        hits += usize::from((ps[i] >= 0.5) == s);
        if s {
            se += (cs[i] - f64::from(y_cost[i])).powi(2);
        }
    }
    let report = ValueReport {
        molecules: n,
        solvable,
        syn_accuracy: hits as f64 / n as f64,
        cost_rmse: (se / solvable as f64).sqrt(),
    };
    Ok((model, report))
}

use duality_core::tensor::tch;

/// The gradient-norm limit of every RL update step: the authors'
/// `--gradient_clip` default (0.5, `retro_star/common/parse_args.py`; their
/// training scripts keep it), applied in `PDVNTrainer._optimize`.
pub const RL_GRAD_CLIP: f64 = 0.5;

/// Parameters of PDVN's planning-based RL of the value networks
/// ([`plan_and_fine_tune`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RlParams {
    /// Planning / update rounds (the authors' `--n_epochs`, passes over the
    /// training targets; 3 in their scripts).
    pub rounds: usize,
    /// Expansion budget of each planning episode (their `--iterations`).
    pub max_expansions: usize,
    /// Passes over one round's targets in its update phase (the authors'
    /// `epoch_num=8` in `retro_mcts.py`).
    pub epochs: usize,
    /// Molecules per Adam step (their `--minibatch_size`, 128).
    pub batch: usize,
    /// Adam learning rate (their `--lr`, 1e-3 in the training scripts).
    pub lr: f64,
    /// PDVN's dead-end cost in the planning value `p c + (1 - p) c_dead`.
    pub c_dead: f64,
    /// Seed (minibatch order).
    pub seed: u64,
}

impl RlParams {
    /// Checks every field, naming the bad one.
    ///
    /// # Errors
    /// A zero count, or a learning rate or dead-end cost that is not a
    /// finite number > 0.
    pub fn validate(&self) -> Result<()> {
        duality_core::check::at_least("rounds", self.rounds, 1)?;
        duality_core::check::at_least("max_expansions", self.max_expansions, 1)?;
        duality_core::check::at_least("epochs", self.epochs, 1)?;
        duality_core::check::at_least("batch", self.batch, 1)?;
        duality_core::check::positive("lr", self.lr)?;
        duality_core::check::positive("c_dead", self.c_dead)
    }
}

/// What one round of planning and updating did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RlRound {
    /// Planning episodes (targets searched).
    pub episodes: usize,
    /// Of which solved within the budget.
    pub solved: usize,
    /// Synthesizability labels collected.
    pub syn_labels: usize,
    /// Cost labels collected (solved molecules).
    pub cost_labels: usize,
}

/// One planning phase's training data: feature rows (row-major,
/// [`FEATURES`] per molecule) with their synthesizability targets, and the
/// rows of the solved molecules with their cost targets (the authors'
/// `mols_r, pris` and `mols_v, vals`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanData {
    /// Rows of the labelled molecules.
    pub syn_rows: Vec<f32>,
    /// Their synthesizability targets in `[0, 1]`.
    pub syn: Vec<f32>,
    /// Rows of the molecules solved in their search tree.
    pub cost_rows: Vec<f32>,
    /// Their cost targets (cheapest route found below them).
    pub cost: Vec<f32>,
}

/// The two Adam optimisers of the RL stage, one per network and kept
/// across rounds, as the authors' `PDVNTrainer` keeps `prior_optim` and
/// `value_optim` for the whole run.
pub struct RlOptimizers {
    syn: nn::Optimizer,
    cost: nn::Optimizer,
}

impl std::fmt::Debug for RlOptimizers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RlOptimizers").finish_non_exhaustive()
    }
}

/// PDVN's planning phase (the authors' `online_mcts` with `final_backup`
/// and `generate_training_data`, `retro_star/alg/online_mcts.py`): plans
/// every target of `problems` with the current dual value `p c + (1 - p)
/// c_dead` and labels the molecules of each final search tree by its
/// outcome ([`super::AndOrTree::planning_labels`]).
///
/// The planner is our Retro* best-first search, not the authors' P-UCT
/// MCTS; as their training episodes do, it keeps searching after the first
/// route ([`super::Stop::Optimal`]: until no open molecule can beat the
/// best route under the current values, or the budget is spent), so the
/// cost targets are the cheapest routes the tree found.
///
/// # Errors
/// Invalid parameters, a target out of range or a torch error.
pub fn plan_phase(
    model: &DualValue,
    problems: &[(&ReactionGraph, Vec<usize>)],
    p: &RlParams,
) -> Result<(PlanData, RlRound)> {
    p.validate()?;
    let mut data = PlanData::default();
    let mut rep = RlRound {
        episodes: 0,
        solved: 0,
        syn_labels: 0,
        cost_labels: 0,
    };
    let sp = super::SearchParams {
        max_expansions: p.max_expansions,
        strategy: super::Strategy::RetroStar,
        stop: super::Stop::Optimal,
    };
    for (graph, targets) in problems {
        let (ps, _) = model.predict(&graph.features)?;
        let (_, dual) = model.tables(graph, p.c_dead)?;
        for &t in targets {
            let (r, tree) = super::search_tree(graph, t, &dual, &sp)?;
            rep.episodes += 1;
            rep.solved += usize::from(r.solved);
            for l in tree.planning_labels(&|m| ps[m]) {
                data.syn_rows.extend_from_slice(graph.features_of(l.mol));
                data.syn.push(l.syn as f32);
                if let Some(c) = l.cost {
                    data.cost_rows.extend_from_slice(graph.features_of(l.mol));
                    data.cost.push(c as f32);
                }
            }
        }
    }
    rep.syn_labels = data.syn.len();
    rep.cost_labels = data.cost.len();
    Ok((data, rep))
}

/// PDVN's planning-based RL of the two value networks (Liu et al. 2023,
/// "alternates between the planning phase and updating phase"; followed
/// from the authors' loop in `retro_star/retro_mcts.py` and
/// `retro_star/pdvn_trainer.py`, github.com/DiXue98/PDVN): each round runs
/// [`plan_phase`] on every training target with the current values, then
/// fits the networks to that round's targets ([`DualValue::fine_tune`]:
/// binary cross-entropy on the soft synthesizability targets, squared error
/// on the cost targets, `epochs` passes, gradient norm clipped at
/// [`RL_GRAD_CLIP`]), with one Adam per network kept across rounds.
///
/// Differences from the authors' code, stated: the planner is Retro*
/// (theirs an MCTS over the same dual value); the single-step model is the
/// graph's exact reactions and is not trained (their third, `fit_model`,
/// update); the networks start from the supervised fit of [`train_dual`]
/// (theirs from scratch); one round plans all targets before its update
/// (theirs updates after every `--batch_size` targets).
///
/// # Errors
/// Invalid parameters, a target out of range or a torch error.
pub fn plan_and_fine_tune(
    model: &mut DualValue,
    problems: &[(&ReactionGraph, Vec<usize>)],
    p: &RlParams,
) -> Result<Vec<RlRound>> {
    p.validate()?;
    let mut opts = model.rl_optimizers(p.lr)?;
    let mut rounds = Vec::with_capacity(p.rounds);
    for round in 0..p.rounds {
        let (data, rep) = plan_phase(model, problems, p)?;
        model.fine_tune(
            &mut opts,
            &data,
            p.epochs,
            p.batch,
            p.seed.wrapping_add(round as u64),
        )?;
        rounds.push(rep);
    }
    Ok(rounds)
}

impl DualValue {
    /// Fresh Adam optimisers (rate `lr`) for [`DualValue::fine_tune`].
    ///
    /// # Errors
    /// A learning rate that is not a finite number > 0, or a torch error.
    pub fn rl_optimizers(&self, lr: f64) -> Result<RlOptimizers> {
        duality_core::check::positive("lr", lr)?;
        let cfg = duality_core::tensor::optim::OptimizerConfig::adam(lr);
        // Each optimiser holds every variable of the store, but its steps
        // only ever see gradients of its own network (every gradient is
        // cleared before each backward pass, which reaches one network
        // only), so with no weight decay it never moves the other network:
        // its Adam moments there stay zero or unset.
        Ok(RlOptimizers {
            syn: cfg.build(&self._vs)?,
            cost: cfg.build(&self._vs)?,
        })
    }

    /// One update phase of PDVN's RL (the authors' `fit_prior` and
    /// `fit_value`): `epochs` passes of minibatches of `batch` with the
    /// synthesizability network on binary cross-entropy to `data.syn`, then
    /// with the cost network on squared error to `data.cost`, each step's
    /// gradient norm clipped at [`RL_GRAD_CLIP`]. An empty label set leaves
    /// its network unchanged.
    ///
    /// # Errors
    /// Rows and labels of different lengths, a synthesizability target
    /// outside `[0, 1]` or a non-finite cost target, zero epochs or batch,
    /// or a torch error.
    pub fn fine_tune(
        &mut self,
        opts: &mut RlOptimizers,
        data: &PlanData,
        epochs: usize,
        batch: usize,
        seed: u64,
    ) -> Result<()> {
        duality_core::check::at_least("epochs", epochs, 1)?;
        duality_core::check::at_least("batch", batch, 1)?;
        duality_core::check::same_len(
            "syn_rows",
            data.syn_rows.len(),
            "syn labels x features",
            data.syn.len() * FEATURES,
        )?;
        duality_core::check::same_len(
            "cost_rows",
            data.cost_rows.len(),
            "cost labels x features",
            data.cost.len() * FEATURES,
        )?;
        if let Some((i, s)) = data
            .syn
            .iter()
            .enumerate()
            .find(|(_, s)| !(0.0..=1.0).contains(*s))
        {
            return Err(Error::invalid(format!("syn[{i}]"), s, "a target in [0, 1]"));
        }
        if let Some((i, c)) = data.cost.iter().enumerate().find(|(_, c)| !c.is_finite()) {
            return Err(Error::invalid(format!("cost[{i}]"), c, "a finite number"));
        }
        let mut rng = Seeder::new(seed).rng(2);
        let sets: [(&[f32], &[f32], bool); 2] = [
            (&data.syn_rows, &data.syn, true),
            (&data.cost_rows, &data.cost, false),
        ];
        for (x, y, is_syn) in sets {
            if y.is_empty() {
                continue;
            }
            let opt = if is_syn {
                &mut opts.syn
            } else {
                &mut opts.cost
            };
            let xt = features_tensor(x, self.device);
            let yt = Tensor::from_slice(y).to_device(self.device);
            let mut order: Vec<i64> = (0..y.len() as i64).collect();
            for _ in 0..epochs {
                rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
                for chunk in order.chunks(batch) {
                    let idx = Tensor::from_slice(chunk).to_device(self.device);
                    let xb = xt.index_select(0, &idx);
                    let yb = yt.index_select(0, &idx);
                    let loss = if is_syn {
                        self.syn
                            .forward(&xb)
                            .view([-1])
                            .binary_cross_entropy_with_logits::<Tensor>(
                                &yb,
                                None,
                                None,
                                tch::Reduction::Mean,
                            )
                    } else {
                        (self.cost.forward(&xb).view([-1]) - &yb)
                            .square()
                            .mean(Kind::Float)
                    };
                    opt.zero_grad();
                    loss.backward();
                    opt.clip_grad_norm(RL_GRAD_CLIP);
                    opt.step();
                }
            }
        }
        Ok(())
    }

    /// Predicted synthesizability and cost of each feature row.
    ///
    /// # Errors
    /// Rows not a multiple of [`FEATURES`], or a torch error.
    pub fn predict(&self, rows: &[f32]) -> Result<(Vec<f64>, Vec<f64>)> {
        if rows.len() % FEATURES != 0 {
            return Err(Error::invalid(
                "feature rows",
                rows.len(),
                format!("a multiple of {FEATURES}"),
            ));
        }
        if rows.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let x = features_tensor(rows, self.device);
        let (s, c) = tch::no_grad(|| {
            (
                self.syn.forward(&x).view([-1]).sigmoid(),
                self.cost.forward(&x).view([-1]),
            )
        });
        Ok((
            duality_core::tensor::convert::tensor_to_vec_f64(&s)?,
            duality_core::tensor::convert::tensor_to_vec_f64(&c)?,
        ))
    }

    /// Value tables for every molecule of `graph`: single-value Retro*
    /// (`max(c(m), 0)`) and PDVN's combination (`p c + (1 - p) c_dead`).
    ///
    /// # Errors
    /// A torch error.
    pub fn tables(&self, graph: &ReactionGraph, c_dead: f64) -> Result<(TableValue, TableValue)> {
        let (ps, cs) = self.predict(&graph.features)?;
        let single = TableValue {
            name: "retro*".into(),
            values: cs.iter().map(|c| c.max(0.0)).collect(),
        };
        let dual = TableValue {
            name: "retro*-dual".into(),
            values: ps
                .iter()
                .zip(&cs)
                .map(|(&p, &c)| dual_value(p, c.max(0.0), c_dead))
                .collect(),
        };
        Ok((single, dual))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retro::GraphParams;

    #[test]
    fn value_networks_learn_synthesizability_and_cost() {
        let gp = GraphParams {
            levels: 4,
            per_level: 60,
            max_reactions: 3,
            max_reactants: 2,
        };
        let graphs: Vec<ReactionGraph> = (0..3)
            .map(|k| ReactionGraph::generate(&gp, &mut Seeder::new(2).rng(k)).unwrap())
            .collect();
        let vp = ValueParams {
            hidden: 32,
            epochs: 60,
            batch: 64,
            lr: 3e-3,
            seed: 4,
        };
        let (model, rep) = train_dual(&graphs, &vp).unwrap();
        let base = rep.solvable.max(rep.molecules - rep.solvable) as f64 / rep.molecules as f64;
        assert!(rep.syn_accuracy > base, "{rep:?} vs majority {base}");
        let test = ReactionGraph::generate(&gp, &mut Seeder::new(3).rng(0)).unwrap();
        let (single, dual) = model.tables(&test, 20.0).unwrap();
        assert_eq!(single.values.len(), test.len());
        assert!(dual.values.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(model.predict(&[0.0; 5]).is_err());
    }
    /// A small supervised fit (seconds) for the RL tests.
    fn small_model(seed: u64) -> (Vec<ReactionGraph>, DualValue) {
        let gp = GraphParams {
            levels: 3,
            per_level: 40,
            max_reactions: 3,
            max_reactants: 2,
        };
        let graphs: Vec<ReactionGraph> = (0..2)
            .map(|k| ReactionGraph::generate(&gp, &mut Seeder::new(5).rng(k)).unwrap())
            .collect();
        let vp = ValueParams {
            hidden: 16,
            epochs: 5,
            batch: 64,
            lr: 3e-3,
            seed,
        };
        let (model, _) = train_dual(&graphs, &vp).unwrap();
        (graphs, model)
    }

    fn rl_params() -> RlParams {
        RlParams {
            rounds: 2,
            max_expansions: 15,
            epochs: 2,
            batch: 32,
            lr: 1e-3,
            c_dead: 20.0,
            seed: 9,
        }
    }

    #[test]
    fn rl_rounds_run_and_are_deterministic_per_seed() {
        let run = |seed: u64| {
            let (graphs, mut model) = small_model(3);
            let before = model.predict(&graphs[0].features).unwrap();
            let problems: Vec<(&ReactionGraph, Vec<usize>)> = graphs
                .iter()
                .map(|g| (g, (g.len() - 8..g.len()).collect()))
                .collect();
            let rounds = plan_and_fine_tune(
                &mut model,
                &problems,
                &RlParams {
                    seed,
                    ..rl_params()
                },
            )
            .unwrap();
            let after = model.predict(&graphs[0].features).unwrap();
            (rounds, before, after)
        };
        let (rounds, before, after) = run(9);
        assert_eq!(rounds.len(), 2);
        for r in &rounds {
            assert_eq!(r.episodes, 16);
            assert!(r.solved <= r.episodes);
            // Every episode expands its target, so labels it at least once.
            assert!(r.syn_labels >= r.episodes, "{r:?}");
            assert!(r.cost_labels <= r.syn_labels);
        }
        assert!(rounds.iter().any(|r| r.cost_labels > 0), "{rounds:?}");
        // The update phases moved the networks.
        assert_ne!(before, after);
        // Same seeds, same result, bit for bit.
        let (rounds2, _, after2) = run(9);
        assert_eq!(rounds, rounds2);
        assert_eq!(after, after2);
    }

    /// The hand-made graph of the search tests (see there).
    fn hand() -> ReactionGraph {
        crate::retro::tests::hand()
    }

    #[test]
    fn planning_phase_labels_a_hand_made_graph() {
        let (_, model) = small_model(3);
        let g = hand();
        // All features are zero, so every molecule has the same value `v`:
        // the route {5} (0.5 + v) is tried first and is a dead end (label
        // 0), then {1, 2} is solved at cost 1 + 2 + 1 = 4 (molecule 2's
        // target is its cheaper reaction, 1.0 against 3.0); building blocks
        // get no label.
        let (data, rep) = plan_phase(&model, &[(&g, vec![0])], &rl_params()).unwrap();
        assert_eq!(
            rep,
            RlRound {
                episodes: 1,
                solved: 1,
                syn_labels: 4,
                cost_labels: 3
            }
        );
        // Tree order: molecule 0, its reactants 1 and 2, then the dead end 5.
        assert_eq!(data.syn, vec![1.0, 1.0, 1.0, 0.0]);
        assert_eq!(data.cost, vec![4.0, 2.0, 1.0]);
        assert!(data.syn_rows.iter().all(|&x| x == 0.0));
        assert_eq!(data.syn_rows.len(), 4 * FEATURES);
        assert_eq!(data.cost_rows.len(), 3 * FEATURES);
        // An unsolved target: 0.8 times its current synthesizability.
        let (p0, _) = model.predict(g.features_of(0)).unwrap();
        let (data, rep) = plan_phase(
            &model,
            &[(&g, vec![0])],
            &RlParams {
                max_expansions: 1,
                ..rl_params()
            },
        )
        .unwrap();
        assert_eq!(rep.solved, 0);
        // (A tolerance: the row was predicted in a batch of another size.)
        assert_eq!(data.syn.len(), 1);
        assert!(
            (f64::from(data.syn[0]) - 0.8 * p0[0]).abs() < 1e-5,
            "{data:?} {p0:?}"
        );
        assert!(data.cost.is_empty());
    }

    #[test]
    fn bad_rl_params_are_rejected_by_name() {
        let (graphs, mut model) = small_model(3);
        let problems = [(&graphs[0], vec![graphs[0].len() - 1])];
        let bad = [
            (
                "rounds",
                RlParams {
                    rounds: 0,
                    ..rl_params()
                },
            ),
            (
                "max_expansions",
                RlParams {
                    max_expansions: 0,
                    ..rl_params()
                },
            ),
            (
                "epochs",
                RlParams {
                    epochs: 0,
                    ..rl_params()
                },
            ),
            (
                "batch",
                RlParams {
                    batch: 0,
                    ..rl_params()
                },
            ),
            (
                "lr",
                RlParams {
                    lr: f64::NAN,
                    ..rl_params()
                },
            ),
            (
                "c_dead",
                RlParams {
                    c_dead: -1.0,
                    ..rl_params()
                },
            ),
        ];
        for (name, p) in bad {
            let e = plan_and_fine_tune(&mut model, &problems, &p)
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        let e = plan_and_fine_tune(&mut model, &[(&graphs[0], vec![10_000])], &rl_params())
            .unwrap_err()
            .to_string();
        assert!(e.contains("target"), "{e}");
        let mut opts = model.rl_optimizers(1e-3).unwrap();
        let short = PlanData {
            syn_rows: vec![0.0; 3],
            syn: vec![1.0],
            ..PlanData::default()
        };
        let e = model
            .fine_tune(&mut opts, &short, 1, 8, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("syn_rows"), "{e}");
        let out_of_range = PlanData {
            syn_rows: vec![0.0; FEATURES],
            syn: vec![1.5],
            ..PlanData::default()
        };
        let e = model
            .fine_tune(&mut opts, &out_of_range, 1, 8, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("syn[0]"), "{e}");
        assert!(model.rl_optimizers(0.0).is_err());
    }
}

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

impl DualValue {
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
}

//! The learned branching policy (feature `torch`): Gasse et al.'s (2019)
//! bipartite graph convolutional network on tch, trained by imitation of
//! strong branching (cross-entropy on the expert's choice among the
//! candidates, their Sec. 4.1).
//!
//! Architecture (their Fig. 2, without the prenorm layers): variable and
//! constraint features are embedded by two-layer ReLU MLPs; one half
//! convolution from variables to constraints and one from constraints to
//! variables, each `h_i' = MLP([h_i, sum_j W3 relu(W1 h_i + W2 h_j + w_e
//! e_ij)])`; a two-layer MLP scores each variable; the policy is the
//! softmax over the candidates' scores. The sizes are ours (hidden 32 to
//! train in seconds on 2 cores; they use 64).
//!
//! The RL stage ([`train_rl`]) fine-tunes an imitation-trained policy by
//! REINFORCE with a baseline on branch-and-bound episodes, learning from
//! the revived trajectories and redistributed tree-size rewards of
//! [`super::revived`] (ReviBranch, Wang et al. 2025, as far as its abstract
//! states; no code by the authors was found, see docs/combopt.md).

use std::collections::BTreeMap;
use std::path::Path;

use duality_core::tensor::default_device;
use duality_core::tensor::tch::{nn, nn::Module, nn::OptimizerConfig as _, Device, Kind, Tensor};
use duality_core::{Error, Result};

use super::branching::{argmax, BranchState, BranchingRule};
use super::features::{graph_features, BranchSample, GraphFeatures, ROW_FEATURES, VAR_FEATURES};

struct Mlp2(nn::Linear, nn::Linear);

impl Mlp2 {
    fn new(p: &nn::Path<'_>, input: i64, hidden: i64, out: i64) -> Self {
        Mlp2(
            nn::linear(p / "l1", input, hidden, Default::default()),
            nn::linear(p / "l2", hidden, out, Default::default()),
        )
    }
    fn forward(&self, x: &Tensor) -> Tensor {
        self.1.forward(&self.0.forward(x).relu())
    }
}

/// One half convolution: messages from `src` nodes to `dst` nodes.
struct HalfConv {
    w_dst: nn::Linear,
    w_src: nn::Linear,
    w_edge: nn::Linear,
    w_out: nn::Linear,
    update: Mlp2,
}

impl HalfConv {
    fn new(p: &nn::Path<'_>, h: i64) -> Self {
        HalfConv {
            w_dst: nn::linear(p / "dst", h, h, Default::default()),
            w_src: nn::linear(
                p / "src",
                h,
                h,
                nn::LinearConfig {
                    bias: false,
                    ..Default::default()
                },
            ),
            w_edge: nn::linear(
                p / "edge",
                1,
                h,
                nn::LinearConfig {
                    bias: false,
                    ..Default::default()
                },
            ),
            w_out: nn::linear(p / "out", h, h, Default::default()),
            update: Mlp2::new(&(p / "update"), 2 * h, h, h),
        }
    }

    fn forward(
        &self,
        dst: &Tensor,
        src: &Tensor,
        e_dst: &Tensor,
        e_src: &Tensor,
        e_val: &Tensor,
    ) -> Tensor {
        let msg = (self.w_dst.forward(dst).index_select(0, e_dst)
            + self.w_src.forward(src).index_select(0, e_src)
            + self.w_edge.forward(e_val))
        .relu();
        let msg = self.w_out.forward(&msg);
        let agg = Tensor::zeros_like(dst).index_add(0, e_dst, &msg);
        self.update.forward(&Tensor::cat(&[dst, &agg], 1))
    }
}

/// The bipartite GCNN policy.
pub struct GnnPolicy {
    vs: nn::VarStore,
    var_emb: Mlp2,
    row_emb: Mlp2,
    v_to_c: HalfConv,
    c_to_v: HalfConv,
    head: Mlp2,
    device: Device,
}

/// Hidden width of the policy.
pub const HIDDEN: i64 = 32;

impl std::fmt::Debug for GnnPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GnnPolicy")
            .field("device", &self.device)
            .finish()
    }
}

impl GnnPolicy {
    /// A freshly initialised policy (libtorch's generator seeded with `seed`).
    ///
    /// # Errors
    /// No usable device.
    pub fn new(seed: u64) -> Result<Self> {
        // libtorch's generator is process-wide: seeding and initialisation
        // hold one lock so policies built in parallel (bench seeds) stay
        // reproducible.
        let _guard = duality_core::tensor::lock_seeded(seed);
        let device = default_device()?;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let h = HIDDEN;
        Ok(GnnPolicy {
            var_emb: Mlp2::new(&(&root / "var_emb"), VAR_FEATURES as i64, h, h),
            row_emb: Mlp2::new(&(&root / "row_emb"), ROW_FEATURES as i64, h, h),
            v_to_c: HalfConv::new(&(&root / "v_to_c"), h),
            c_to_v: HalfConv::new(&(&root / "c_to_v"), h),
            head: Mlp2::new(&(&root / "head"), h, h, 1),
            vs,
            device,
        })
    }

    /// Loads a policy saved by [`GnnPolicy::save`].
    ///
    /// # Errors
    /// A missing or mismatched checkpoint.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let mut p = GnnPolicy::new(0)?;
        duality_core::tensor::load_checkpoint(&mut p.vs, path)?;
        Ok(p)
    }

    /// Saves the weights (written to a temporary file, then renamed).
    ///
    /// # Errors
    /// I/O errors naming the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tmp = path.with_extension("tmp-save");
        duality_core::tensor::save_checkpoint(&self.vs, &tmp)?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel())
            .sum()
    }

    /// Scores (logits) of the candidates of `g`.
    fn logits(&self, g: &GraphFeatures) -> Tensor {
        let d = self.device;
        let var = Tensor::from_slice(&g.var)
            .view([g.n as i64, VAR_FEATURES as i64])
            .to_device(d);
        let row = Tensor::from_slice(&g.row)
            .view([g.m as i64, ROW_FEATURES as i64])
            .to_device(d);
        let er = Tensor::from_slice(&g.edge_row).to_device(d);
        let ev = Tensor::from_slice(&g.edge_var).to_device(d);
        let val = Tensor::from_slice(&g.edge_val).view([-1, 1]).to_device(d);
        let v = self.var_emb.forward(&var).relu();
        let c = self.row_emb.forward(&row).relu();
        let c = self.v_to_c.forward(&c, &v, &er, &ev, &val).relu();
        let v = self.c_to_v.forward(&v, &c, &ev, &er, &val).relu();
        let scores = self.head.forward(&v).view([-1]);
        scores.index_select(0, &Tensor::from_slice(&g.candidates).to_device(d))
    }

    /// Index of the highest-scoring candidate of `g`.
    ///
    /// # Errors
    /// A graph without candidates.
    pub fn choose(&self, g: &GraphFeatures) -> Result<usize> {
        if g.candidates.is_empty() {
            return Err(Error::Empty {
                what: "branching candidates".into(),
                min: 1,
            });
        }
        let logits = tch::no_grad(|| self.logits(g))
            .to_kind(Kind::Float)
            .to_device(Device::Cpu);
        let v: Vec<f32> = Vec::<f32>::try_from(&logits).map_err(|e| Error::Torch(e.to_string()))?;
        Ok(argmax(v.iter().map(|&x| f64::from(x))))
    }
}

use duality_core::tensor::tch;

/// Imitation-learning parameters.
#[derive(Debug, Clone)]
pub struct ImitationParams {
    /// Passes over the samples.
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed (initialisation and sample order).
    pub seed: u64,
}

/// What training did: loss and accuracy (expert choice ranked first) of
/// the first and the last epoch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImitationReport {
    /// Samples.
    pub samples: usize,
    /// Mean cross-entropy of the first epoch.
    pub first_loss: f64,
    /// Mean cross-entropy of the last epoch.
    pub last_loss: f64,
    /// Top-1 accuracy on the samples after training.
    pub accuracy: f64,
}

/// Trains a policy by imitation of the samples' strong-branching choices.
///
/// # Errors
/// No samples, a zero epoch or batch count, or a torch error.
pub fn train_imitation(
    samples: &[BranchSample],
    ip: &ImitationParams,
) -> Result<(GnnPolicy, ImitationReport)> {
    if samples.is_empty() {
        return Err(Error::Empty {
            what: "imitation samples".into(),
            min: 1,
        });
    }
    if ip.epochs == 0 || ip.batch == 0 || !(ip.lr > 0.0 && ip.lr.is_finite()) {
        return Err(Error::invalid(
            "imitation epochs, batch, lr",
            format!("{}, {}, {}", ip.epochs, ip.batch, ip.lr),
            "epochs >= 1, batch >= 1, 0 < lr < inf",
        ));
    }
    let policy = GnnPolicy::new(ip.seed)?;
    let mut opt = nn::Adam::default()
        .build(&policy.vs, ip.lr)
        .map_err(|e| Error::Torch(e.to_string()))?;
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut rng = duality_core::seed::Seeder::new(ip.seed).rng(1);
    let (mut first, mut last) = (f64::NAN, f64::NAN);
    for epoch in 0..ip.epochs {
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        let mut total = 0.0;
        for chunk in order.chunks(ip.batch) {
            let losses: Vec<Tensor> = chunk
                .iter()
                .map(|&k| {
                    let s = &samples[k];
                    let logits = policy.logits(&s.graph);
                    let target = Tensor::from_slice(&[s.target as i64]).to_device(policy.device);
                    logits.view([1, -1]).cross_entropy_for_logits(&target)
                })
                .collect();
            let loss = Tensor::stack(&losses, 0).mean(Kind::Float);
            total += loss.double_value(&[]) * chunk.len() as f64;
            opt.backward_step(&loss);
        }
        let mean = total / samples.len() as f64;
        if epoch == 0 {
            first = mean;
        }
        last = mean;
    }
    let mut hits = 0;
    for s in samples {
        if policy.choose(&s.graph)? == s.target {
            hits += 1;
        }
    }
    let report = ImitationReport {
        samples: samples.len(),
        first_loss: first,
        last_loss: last,
        accuracy: f64::from(hits) / samples.len() as f64,
    };
    Ok((policy, report))
}

/// RL fine-tuning parameters ([`train_rl`]).
#[derive(Debug, Clone)]
pub struct RlParams {
    /// Policy-gradient steps; each samples `rollouts` episodes per instance.
    pub iterations: usize,
    /// Episodes per instance and iteration (at least 2: the baseline
    /// compares an instance's episodes).
    pub rollouts: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Discount of the redistributed rewards along a trajectory, in `(0, 1]`.
    pub gamma: f64,
    /// Node limit of a training episode.
    pub max_nodes: u64,
    /// Seed of the action sampling.
    pub seed: u64,
}

/// What the RL stage did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RlReport {
    /// Episodes sampled.
    pub episodes: usize,
    /// Branching decisions learned from.
    pub decisions: usize,
    /// Revived trajectories they formed.
    pub trajectories: usize,
    /// Mean nodes of the episodes of the first iteration.
    pub first_nodes: f64,
    /// Mean nodes of the episodes of the last iteration.
    pub last_nodes: f64,
}

/// The dense simplex behind a node LP: the features need its reduced
/// costs and basis, so the learned rules refuse the other engines.
fn dense_lp<'a>(s: &BranchState<'a>) -> Result<&'a super::DualSimplex> {
    s.lp.as_dense().ok_or_else(|| {
        Error::invalid(
            "LP engine of the learned branching rule",
            s.lp.engine(),
            "dense (the GCNN features need reduced costs and the basis)",
        )
    })
}

/// The sampling rule of a training episode: a candidate drawn from the
/// policy's softmax; each decision's graph state is kept (the "revived"
/// state of its transition).
struct Sampling<'a> {
    policy: &'a GnnPolicy,
    rng: duality_core::seed::DualityRng,
    taken: Vec<(GraphFeatures, usize)>,
}

impl BranchingRule for Sampling<'_> {
    fn name(&self) -> &str {
        "gnn-sampling"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        let g = graph_features(s.problem, dense_lp(s)?, s.candidates);
        let logits = tch::no_grad(|| self.policy.logits(&g))
            .to_kind(Kind::Double)
            .to_device(Device::Cpu);
        let v: Vec<f64> = Vec::<f64>::try_from(&logits).map_err(|e| Error::Torch(e.to_string()))?;
        let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = v.iter().map(|x| (x - top).exp()).collect();
        let total: f64 = w.iter().sum();
        let mut u = rand::Rng::random::<f64>(&mut self.rng) * total;
        let mut pick = w.len() - 1;
        for (k, wk) in w.iter().enumerate() {
            if u < *wk {
                pick = k;
                break;
            }
            u -= wk;
        }
        self.taken.push((g, pick));
        Ok(pick)
    }
}

/// One decision of a training episode: its graph state, the action, the
/// tree depth and the return-to-go of its revived trajectory.
struct Decision {
    graph: GraphFeatures,
    chosen: usize,
    depth: usize,
    ret: f64,
}

/// Samples one episode on `p` and returns `(nodes, decisions, trajectories)`.
fn episode(
    policy: &GnnPolicy,
    p: &super::Milp,
    rp: &RlParams,
    rng: duality_core::seed::DualityRng,
) -> Result<(u64, Vec<Decision>, usize)> {
    let mut rule = Sampling {
        policy,
        rng,
        taken: Vec::new(),
    };
    let mut nodes = Vec::new();
    let mut visits = Vec::new();
    let bp = super::BnbParams {
        max_nodes: rp.max_nodes,
        ..super::BnbParams::default()
    };
    let r = super::branch_and_bound_traced(
        p,
        &mut rule,
        &bp,
        &mut |e| nodes.push((e.node, e.depth)),
        &mut |n, par| visits.push((n, par)),
    )?;
    let ids: Vec<u64> = nodes.iter().map(|n| n.0).collect();
    let trajectories = super::revived::revived_trajectories(&visits, &ids, rp.gamma)?;
    let mut ret = vec![0.0; ids.len()];
    for t in &trajectories {
        for s in &t.steps {
            ret[s.decision] = s.ret;
        }
    }
    let decisions = rule
        .taken
        .into_iter()
        .zip(nodes)
        .zip(ret)
        .map(|(((graph, chosen), (_, depth)), ret)| Decision {
            graph,
            chosen,
            depth,
            ret,
        })
        .collect();
    Ok((r.nodes, decisions, trajectories.len()))
}

/// ReviBranch's RL stage as far as its abstract states: fine-tunes
/// `policy` by REINFORCE with a baseline (Williams 1992) on
/// branch-and-bound episodes of `instances`, the reward being the tree-size
/// signal redistributed over revived trajectories
/// ([`super::revived::revived_trajectories`]).
///
/// The learner is ours: a third-party summary of the paper describes DQN
/// with a replay buffer and a decoder over each revived sequence (action
/// embeddings plus positional encodings), which neither the abstract nor
/// any code available here specifies; REINFORCE on the imitation policy
/// keeps the same GCNN (so `rl` differs from `gnn` only by this stage) and
/// uses the redistributed returns directly.
///
/// Each iteration samples `rollouts` episodes per instance (actions drawn
/// from the policy's softmax over the candidates), turns every episode's
/// tree into revived trajectories, and gives each decision its
/// return-to-go `G` (minus the size of the subtree it caused when
/// `gamma = 1`). The baseline of a decision is the mean return of the
/// instance's other decisions at the same tree depth over the iteration's
/// episodes (leave-one-out; advantage 0 when it has none); advantages are
/// divided by their root mean square over the iteration; one Adam step
/// on `-mean(A log pi(a | s))`, the log-probabilities recomputed from the
/// stored graph states.
///
/// # Errors
/// No instances, a zero iteration count, fewer than 2 rollouts, a bad
/// learning rate or discount, and the errors of branch-and-bound or torch.
pub fn train_rl(
    policy: GnnPolicy,
    instances: &[super::Milp],
    rp: &RlParams,
) -> Result<(GnnPolicy, RlReport)> {
    if instances.is_empty() {
        return Err(Error::Empty {
            what: "RL training instances".into(),
            min: 1,
        });
    }
    if rp.iterations == 0
        || rp.rollouts < 2
        || !(rp.lr > 0.0 && rp.lr.is_finite())
        || !(rp.gamma > 0.0 && rp.gamma <= 1.0)
    {
        return Err(Error::invalid(
            "RL iterations, rollouts, lr, gamma",
            format!(
                "{}, {}, {}, {}",
                rp.iterations, rp.rollouts, rp.lr, rp.gamma
            ),
            "iterations >= 1, rollouts >= 2, 0 < lr < inf, 0 < gamma <= 1",
        ));
    }
    let mut opt = nn::Adam::default()
        .build(&policy.vs, rp.lr)
        .map_err(|e| Error::Torch(e.to_string()))?;
    let seeder = duality_core::seed::Seeder::new(rp.seed);
    let mut report = RlReport {
        episodes: 0,
        decisions: 0,
        trajectories: 0,
        first_nodes: f64::NAN,
        last_nodes: f64::NAN,
    };
    for it in 0..rp.iterations {
        let mut batch: Vec<(Decision, f64)> = Vec::new();
        let mut node_sum = 0u64;
        for (k, inst) in instances.iter().enumerate() {
            let mut decisions = Vec::new();
            for r in 0..rp.rollouts {
                let rng = seeder.child(it as u64).child(k as u64).rng(r as u64);
                let (nodes, d, t) = episode(&policy, inst, rp, rng)?;
                node_sum += nodes;
                report.episodes += 1;
                report.trajectories += t;
                decisions.extend(d);
            }
            // Leave-one-out baseline per tree depth.
            let mut by_depth: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
            for d in &decisions {
                let e = by_depth.entry(d.depth).or_insert((0.0, 0));
                e.0 += d.ret;
                e.1 += 1;
            }
            for d in decisions {
                let (sum, count) = by_depth[&d.depth];
                let adv = if count > 1 {
                    d.ret - (sum - d.ret) / (count - 1) as f64
                } else {
                    0.0
                };
                batch.push((d, adv));
            }
        }
        let mean_nodes = node_sum as f64 / (instances.len() * rp.rollouts) as f64;
        if it == 0 {
            report.first_nodes = mean_nodes;
        }
        report.last_nodes = mean_nodes;
        report.decisions += batch.len();
        let n = batch.len() as f64;
        let sd = (batch.iter().map(|b| b.1 * b.1).sum::<f64>() / n.max(1.0)).sqrt();
        if batch.is_empty() || sd <= 1e-12 {
            continue;
        }
        let terms: Vec<Tensor> = batch
            .iter()
            .map(|(d, adv)| {
                let lp = policy.logits(&d.graph).log_softmax(0, Kind::Float);
                lp.get(d.chosen as i64) * (-adv / sd)
            })
            .collect();
        let loss = Tensor::stack(&terms, 0).mean(Kind::Float);
        opt.backward_step(&loss);
    }
    Ok((policy, report))
}

/// The learned rule: branch on the policy's highest-scoring candidate.
#[derive(Debug)]
pub struct Learned {
    /// The policy.
    pub policy: GnnPolicy,
}

impl BranchingRule for Learned {
    fn name(&self) -> &str {
        "gnn"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        let g = graph_features(s.problem, dense_lp(s)?, s.candidates);
        self.policy.choose(&g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milp::features::collect_strong_branching;
    use crate::milp::{branch_and_bound, generators, BnbParams, Termination};
    use duality_core::seed::Seeder;

    #[test]
    fn imitation_learns_strong_branching_and_solves() {
        let mut samples = Vec::new();
        for k in 0..3 {
            let p = generators::generate("auction", 12, &mut Seeder::new(4).rng(k)).unwrap();
            let (s, r) = collect_strong_branching(&p, &BnbParams::default(), 100).unwrap();
            assert_eq!(r.status, Termination::Optimal);
            samples.extend(s);
        }
        assert!(!samples.is_empty());
        let ip = ImitationParams {
            epochs: 20,
            batch: 8,
            lr: 3e-3,
            seed: 1,
        };
        let (policy, rep) = train_imitation(&samples, &ip).unwrap();
        assert!(rep.last_loss < rep.first_loss, "{rep:?}");
        let p = generators::generate("auction", 15, &mut Seeder::new(5).rng(0)).unwrap();
        let mut rule = Learned { policy };
        let r = branch_and_bound(&p, &mut rule, &BnbParams::default()).unwrap();
        assert_eq!(r.status, Termination::Optimal);
        let mut pc = crate::milp::branching::PseudoCost;
        let r2 = branch_and_bound(&p, &mut pc, &BnbParams::default()).unwrap();
        assert!((r.objective.unwrap() - r2.objective.unwrap()).abs() < 1e-6);
        let dir = std::env::temp_dir().join(format!("duality-gnn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.ot");
        rule.policy.save(&path).unwrap();
        let again = GnnPolicy::load(&path).unwrap();
        let g = &samples[0].graph;
        assert_eq!(again.choose(g).unwrap(), rule.policy.choose(g).unwrap());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn rl_stage_runs_and_is_deterministic() {
        let insts: Vec<_> = (0..2)
            .map(|k| generators::generate("auction", 12, &mut Seeder::new(6).rng(k)).unwrap())
            .collect();
        let rp = RlParams {
            iterations: 2,
            rollouts: 2,
            lr: 1e-3,
            gamma: 1.0,
            max_nodes: 200,
            seed: 3,
        };
        let run = || train_rl(GnnPolicy::new(1).unwrap(), &insts, &rp).unwrap();
        let (p1, r1) = run();
        let (p2, r2) = run();
        assert_eq!(r1.episodes, 8);
        assert!(r1.decisions > 0 && r1.trajectories > 0, "{r1:?}");
        assert_eq!(
            (r1.decisions, r1.trajectories, r1.first_nodes, r1.last_nodes),
            (r2.decisions, r2.trajectories, r2.first_nodes, r2.last_nodes)
        );
        let w = |p: &GnnPolicy| -> Vec<f64> {
            p.vs.trainable_variables()
                .iter()
                .map(|t| t.abs().sum(Kind::Double).double_value(&[]))
                .collect()
        };
        assert_eq!(w(&p1), w(&p2));
        // The RL step moved the weights away from the initialisation.
        assert_ne!(w(&p1), w(&GnnPolicy::new(1).unwrap()));
        let bad = RlParams {
            rollouts: 1,
            ..rp.clone()
        };
        assert!(train_rl(GnnPolicy::new(1).unwrap(), &insts, &bad).is_err());
        assert!(train_rl(GnnPolicy::new(1).unwrap(), &[], &rp).is_err());
    }
}

//! UDC's neural divide policy (feature `torch`): Zheng et al. 2024, "UDC: A
//! Unified Neural Divide-and-Conquer Framework for Large-Scale Combinatorial
//! Optimization Problems" (NeurIPS 2024), section 4.1 and the authors' TSP
//! code (`CIAM-Group/NCO_code`, `UDC-Large-scale-CO-master/UDC/TSP-AGNN-ICAM`:
//! `TSPTrainerPartition.py` and the `PartitionModel` of the AGNN variants),
//! which this module follows. Their code was read, not copied.
//!
//! - **Graph**: coordinates shifted and scaled into the unit square (the
//!   reference's `coordinate_transformation`), each city joined to its `k`
//!   nearest cities (the reference uses 100; 20 by default here). Node
//!   features: the two coordinates. Edge features: the distance scaled by
//!   `sqrt(n)` (so that k-NN distances have the same scale at every `n`: the
//!   reference feeds the raw distance twice) and the neighbour's rank / `k`.
//! - **Encoder** ([`UdcConfig::depth`] layers of [`UdcConfig::units`]
//!   channels, SiLU, batch norm; the reference's `EmbNet`, after DIMES and
//!   DeepACO): with node states `x` and edge states `w`,
//!   `x <- x + silu(BN(A x + mean_{j in N(i)} sigmoid(w_ij) * (B x)_j))` and
//!   `w <- w + silu(BN(C w + (D x)_i + (E x)_j))`.
//! - **Decoder** (the reference's `ParNet`): two-layer MLPs map edge states
//!   to `e_ij` and node states to `v`, `f`, `l`; the *state query*
//!   `q = mean_{visited} v + f_first + l_last` is recomputed every
//!   [`UdcConfig::refresh`] cities (the reference refreshes once per
//!   sub-problem), and the next city from the current city `i` is drawn with
//!   probability `softmax_j(q . e_ij)` over the unvisited candidates of `i`.
//!   When every candidate is visited the reference falls back on a uniform
//!   choice (a `1e-5` floor on the dense heat-map); here the nearest unvisited
//!   city is taken instead (a k-d tree query). That move carries no
//!   log-probability in either version.
//! - **Training** ([`train_udc`]): REINFORCE with the shared (POMO-style)
//!   baseline of the reference, `loss = -mean_s (R_s - mean R) log p(tour_s)`
//!   over `samples` tours of one instance from random start cities, where
//!   `R_s` is minus the tour length *after* the conquer and reunion stages
//!   ([`Reward::EndToEnd`], the paper's unified training) or minus the length
//!   of the divide tour alone ([`Reward::DivideOnly`], the ablation). Conquer
//!   and reunion are this crate's DCR ([`super::dcr`]: sub-path iterated local
//!   search; the reference uses a neural sub-path solver, ICAM, trained at the
//!   same time).
//! - **Inference** ([`UdcPolicy::divide`]): greedy decoding (arg-max), as
//!   the reference's validation does; the `udc` method then runs the same
//!   DCR improver as the heuristic `dcr` method.
//!
//! Devices: the encoder runs on [`duality_core::tensor::default_device`]
//! (CUDA when present); decoding runs on the CPU over the embeddings.

use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::tensor::tch::nn::{self, Module, ModuleT};
use duality_core::tensor::tch::{self, Device, Kind, Tensor};
use duality_core::tensor::{default_device, manual_seed, tensor_to_vec_f32, OptimizerConfig};
use duality_core::{Error, Result};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dcr::{reunion, DcrParams, LocalSearchSubpath};
use super::instance::Instance;
use super::knn::{KdTree, Neighbours};
use super::pipeline::{SolveContext, TourBuilder};
use super::tour::{tour_length, Tour};

/// The shipped checkpoint: trained at 200 cities with the end-to-end reward
/// (see `fixtures/combopt/udc/README.md` for the exact command).
pub const SHIPPED_CHECKPOINT: &[u8] =
    include_bytes!("../../../../fixtures/combopt/udc/udc-tsp200.ot");

/// The divide-only ablation, trained with the same command and
/// `--reward divide-only`.
pub const SHIPPED_DIVIDE_ONLY: &[u8] =
    include_bytes!("../../../../fixtures/combopt/udc/udc-tsp200-divide-only.ot");

/// Largest instance the policy accepts (its embeddings are O(n k units)).
pub const MAX_CITIES: usize = 200_000;

/// Name of the checkpoint entry holding the architecture.
const CONFIG_ENTRY: &str = "udc_config";

/// The architecture of the divide policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdcConfig {
    depth: usize,
    units: usize,
    k: usize,
    refresh: usize,
}

impl Default for UdcConfig {
    fn default() -> Self {
        UdcConfig {
            depth: 6,
            units: 32,
            k: 20,
            refresh: 100,
        }
    }
}

impl UdcConfig {
    /// Sets the encoder layers (1..=32).
    pub fn with_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }
    /// Sets the channels per layer (1..=512).
    pub fn with_units(mut self, units: usize) -> Self {
        self.units = units;
        self
    }
    /// Sets the candidate neighbours per city (1..=100).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Sets how many cities are decoded between two recomputations of the
    /// state query (at least 1).
    pub fn with_refresh(mut self, refresh: usize) -> Self {
        self.refresh = refresh;
        self
    }
    /// Encoder layers.
    pub fn depth(&self) -> usize {
        self.depth
    }
    /// Channels per layer.
    pub fn units(&self) -> usize {
        self.units
    }
    /// Candidate neighbours per city.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Cities decoded per state-query refresh.
    pub fn refresh(&self) -> usize {
        self.refresh
    }
}

impl Validate for UdcConfig {
    fn validate(&self) -> Result<()> {
        if !(1..=32).contains(&self.depth) {
            return Err(Error::config(
                "depth",
                format!("must be in 1..=32, got {}", self.depth),
            ));
        }
        if !(1..=512).contains(&self.units) {
            return Err(Error::config(
                "units",
                format!("must be in 1..=512, got {}", self.units),
            ));
        }
        if !(1..=100).contains(&self.k) {
            return Err(Error::config(
                "k",
                format!("must be in 1..=100, got {}", self.k),
            ));
        }
        if self.refresh == 0 {
            return Err(Error::config("refresh", "must be >= 1, got 0"));
        }
        Ok(())
    }
}

/// One anisotropic message-passing layer (the reference's `EmbNet` layer).
#[derive(Debug)]
struct AgnnLayer {
    a: nn::Linear,
    b: nn::Linear,
    c: nn::Linear,
    d: nn::Linear,
    e: nn::Linear,
    bn_v: nn::BatchNorm,
    bn_e: nn::BatchNorm,
}

/// A two-layer MLP with SiLU in between.
#[derive(Debug)]
struct Mlp2(nn::Linear, nn::Linear);

impl Mlp2 {
    fn new(p: &nn::Path<'_>, units: i64) -> Self {
        Mlp2(
            nn::linear(p / "0", units, units, Default::default()),
            nn::linear(p / "1", units, units, Default::default()),
        )
    }
    fn forward(&self, xs: &Tensor) -> Tensor {
        self.1.forward(&self.0.forward(xs).silu())
    }
}

#[derive(Debug)]
struct UdcNet {
    v_in: nn::Linear,
    e_in: nn::Linear,
    layers: Vec<AgnnLayer>,
    head_e: Mlp2,
    head_v: Mlp2,
    head_f: Mlp2,
    head_l: Mlp2,
}

/// What the decoder needs from one encoder pass: node terms `v`, `f`, `l`
/// (`[n, units]`) and edge terms `e` (`[n * k, units]`, city-major).
struct Embedding {
    v: Tensor,
    f: Tensor,
    l: Tensor,
    e: Tensor,
}

impl UdcNet {
    fn new(p: &nn::Path<'_>, config: &UdcConfig) -> Self {
        let u = config.units as i64;
        let layers = (0..config.depth)
            .map(|i| {
                let q = p / format!("layer{i}");
                AgnnLayer {
                    a: nn::linear(&q / "a", u, u, Default::default()),
                    b: nn::linear(&q / "b", u, u, Default::default()),
                    c: nn::linear(&q / "c", u, u, Default::default()),
                    d: nn::linear(&q / "d", u, u, Default::default()),
                    e: nn::linear(&q / "e", u, u, Default::default()),
                    bn_v: nn::batch_norm1d(&q / "bn_v", u, Default::default()),
                    bn_e: nn::batch_norm1d(&q / "bn_e", u, Default::default()),
                }
            })
            .collect();
        UdcNet {
            v_in: nn::linear(p / "v_in", 2, u, Default::default()),
            e_in: nn::linear(p / "e_in", 2, u, Default::default()),
            layers,
            head_e: Mlp2::new(&(p / "head_e"), u),
            head_v: Mlp2::new(&(p / "head_v"), u),
            head_f: Mlp2::new(&(p / "head_f"), u),
            head_l: Mlp2::new(&(p / "head_l"), u),
        }
    }

    fn embed(&self, g: &Graph, train: bool) -> Embedding {
        let (n, k) = (g.n as i64, g.k as i64);
        let mut x = self.v_in.forward(&g.x).silu();
        let mut w = self.e_in.forward(&g.w).silu();
        for layer in &self.layers {
            let units = x.size()[1];
            let msg = w.sigmoid() * layer.b.forward(&x).index_select(0, &g.dst);
            let agg = msg.view([n, k, units]).mean_dim(1, false, Kind::Float);
            let x_new = &x
                + layer
                    .bn_v
                    .forward_t(&(layer.a.forward(&x) + agg), train)
                    .silu();
            let src = layer.d.forward(&x).index_select(0, &g.src);
            let dst = layer.e.forward(&x).index_select(0, &g.dst);
            let w_new = &w
                + layer
                    .bn_e
                    .forward_t(&(layer.c.forward(&w) + src + dst), train)
                    .silu();
            x = x_new;
            w = w_new;
        }
        Embedding {
            v: self.head_v.forward(&x),
            f: self.head_f.forward(&x),
            l: self.head_l.forward(&x),
            e: self.head_e.forward(&w),
        }
    }
}

/// The sparse k-NN graph of an instance with its input features.
struct Graph {
    n: usize,
    k: usize,
    /// `nbr[i * k + r]`: the `r`-th nearest city of `i`.
    nbr: Vec<usize>,
    x: Tensor,
    w: Tensor,
    src: Tensor,
    dst: Tensor,
}

impl Graph {
    fn new(instance: &Instance, k: usize, device: Device) -> Result<Self> {
        let n = instance.len();
        if !instance.metric().is_planar() || instance.coords().len() != n {
            return Err(Error::invalid(
                "instance metric",
                instance.metric(),
                "a planar coordinate metric (the UDC policy reads coordinates)",
            ));
        }
        if n > MAX_CITIES {
            return Err(Error::invalid(
                "number of cities",
                n,
                format!("at most {MAX_CITIES} for the UDC policy"),
            ));
        }
        let k = k.min(n - 1);
        let coords = normalised(instance.coords());
        let tree = KdTree::new(&coords);
        let mut nbr = Vec::with_capacity(n * k);
        let mut w = Vec::with_capacity(n * k * 2);
        let scale = (n as f64).sqrt();
        for (i, c) in coords.iter().enumerate() {
            let list = tree.k_nearest(i, k);
            for (r, &j) in list.iter().enumerate() {
                nbr.push(j);
                w.push((dist(*c, coords[j]) * scale) as f32);
                w.push((r + 1) as f32 / k as f32);
            }
        }
        let x: Vec<f32> = coords
            .iter()
            .flat_map(|c| [c[0] as f32, c[1] as f32])
            .collect();
        let src: Vec<i64> = (0..n * k).map(|e| (e / k) as i64).collect();
        let dst: Vec<i64> = nbr.iter().map(|&j| j as i64).collect();
        Ok(Graph {
            n,
            k,
            x: Tensor::from_slice(&x).view([n as i64, 2]).to_device(device),
            w: Tensor::from_slice(&w)
                .view([(n * k) as i64, 2])
                .to_device(device),
            src: Tensor::from_slice(&src).to_device(device),
            dst: Tensor::from_slice(&dst).to_device(device),
            nbr,
        })
    }
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Shifts the points to the origin and divides by the larger side of their
/// bounding box (the reference's `coordinate_transformation`, without its
/// axis swap, which only matters for its augmentations).
fn normalised(coords: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for c in coords {
        for a in 0..2 {
            lo[a] = lo[a].min(c[a]);
            hi[a] = hi[a].max(c[a]);
        }
    }
    let side = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-12);
    coords
        .iter()
        .map(|c| [(c[0] - lo[0]) / side, (c[1] - lo[1]) / side])
        .collect()
}

/// The embedding copied to the CPU for decoding.
struct HostEmbedding {
    /// Candidate lists (`nbr[i * k + r]`), copied from the graph.
    nbr: Vec<usize>,
    k: usize,
    units: usize,
    v: Vec<f32>,
    f: Vec<f32>,
    l: Vec<f32>,
    e: Vec<f32>,
}

impl HostEmbedding {
    fn new(g: &Graph, emb: &Embedding) -> Result<Self> {
        Ok(HostEmbedding {
            nbr: g.nbr.clone(),
            k: g.k,
            units: emb.v.size()[1] as usize,
            v: tensor_to_vec_f32(&emb.v.detach())?,
            f: tensor_to_vec_f32(&emb.f.detach())?,
            l: tensor_to_vec_f32(&emb.l.detach())?,
            e: tensor_to_vec_f32(&emb.e.detach())?,
        })
    }
}

/// How the decoder picks among candidates.
enum Pick<'r> {
    Greedy,
    Sample(&'r mut DualityRng),
}

/// One recorded decision (for the log-probability): the state query it
/// used, the current city, which candidate was taken and which were open.
struct Step {
    query: usize,
    city: usize,
    chosen: usize,
    open: Vec<bool>,
}

/// A recorded state query: the visited set, first and current city.
struct Query {
    visited: Vec<f32>,
    first: usize,
    last: usize,
}

/// One decoded tour and, when recording, its decisions.
struct Decoded {
    order: Vec<usize>,
    steps: Vec<Step>,
    queries: Vec<Query>,
}

/// Decodes one tour from `start` (the reference's loop in `_train_one_batch`
/// / `_load_init_sol`): every `refresh` cities the query
/// `q = mean_visited v + f_first + l_current` is recomputed; each move draws
/// (or takes the arg-max of) `softmax(q . e_ij)` over the unvisited
/// candidates `j` of the current city `i`, falling back on the nearest
/// unvisited city when none is left.
fn decode(
    emb: &HostEmbedding,
    coords: &[[f64; 2]],
    start: usize,
    refresh: usize,
    mut pick: Pick<'_>,
    record: bool,
) -> Decoded {
    let (n, k, u, nbr) = (coords.len(), emb.k, emb.units, &emb.nbr);
    let mut visited = vec![false; n];
    let mut vsum = vec![0.0f32; u];
    let mut tree = KdTree::new(coords);
    let mut order = Vec::with_capacity(n);
    let mut steps = Vec::new();
    let mut queries = Vec::new();
    let mut q = vec![0.0f32; u];
    let mut scores = vec![0.0f32; k];
    let mut cur = start;
    let visit = |c: usize, visited: &mut Vec<bool>, vsum: &mut Vec<f32>, tree: &mut KdTree| {
        visited[c] = true;
        tree.remove(c);
        for (s, v) in vsum.iter_mut().zip(&emb.v[c * u..(c + 1) * u]) {
            *s += v;
        }
    };
    visit(cur, &mut visited, &mut vsum, &mut tree);
    order.push(cur);
    while order.len() < n {
        if (order.len() - 1) % refresh == 0 {
            let cnt = order.len() as f32;
            for (t, qt) in q.iter_mut().enumerate() {
                *qt = vsum[t] / cnt + emb.f[start * u + t] + emb.l[cur * u + t];
            }
            if record {
                queries.push(Query {
                    visited: visited.iter().map(|&b| f32::from(u8::from(b))).collect(),
                    first: start,
                    last: cur,
                });
            }
        }
        let cands = &nbr[cur * k..(cur + 1) * k];
        let mut best = None;
        let mut max = f32::NEG_INFINITY;
        for (r, &j) in cands.iter().enumerate() {
            if visited[j] {
                continue;
            }
            let e = &emb.e[(cur * k + r) * u..(cur * k + r + 1) * u];
            let s: f32 = e.iter().zip(&q).map(|(a, b)| a * b).sum();
            scores[r] = s;
            if s > max {
                max = s;
                best = Some(r);
            }
        }
        let next = match best {
            None => tree
                .nearest_alive(coords[cur])
                .expect("an unvisited city remains while the tour is incomplete"),
            Some(arg) => {
                let r = match &mut pick {
                    Pick::Greedy => arg,
                    Pick::Sample(rng) => {
                        let total: f32 = cands
                            .iter()
                            .enumerate()
                            .filter(|(_, &j)| !visited[j])
                            .map(|(r, _)| (scores[r] - max).exp())
                            .sum();
                        let mut x = rng.random::<f32>() * total;
                        let mut chosen = arg;
                        for (r, &j) in cands.iter().enumerate() {
                            if visited[j] {
                                continue;
                            }
                            chosen = r;
                            x -= (scores[r] - max).exp();
                            if x <= 0.0 {
                                break;
                            }
                        }
                        chosen
                    }
                };
                if record {
                    steps.push(Step {
                        query: queries.len() - 1,
                        city: cur,
                        chosen: r,
                        open: cands.iter().map(|&j| !visited[j]).collect(),
                    });
                }
                cands[r]
            }
        };
        cur = next;
        visit(cur, &mut visited, &mut vsum, &mut tree);
        order.push(cur);
    }
    Decoded {
        order,
        steps,
        queries,
    }
}

/// The trained divide policy: its variables and architecture.
pub struct UdcPolicy {
    vs: nn::VarStore,
    net: UdcNet,
    config: UdcConfig,
}

impl std::fmt::Debug for UdcPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdcPolicy")
            .field("config", &self.config)
            .field("device", &self.vs.device())
            .finish()
    }
}

impl UdcPolicy {
    /// A freshly initialised policy on `device` (initialisation drawn from
    /// libtorch's generator: call [`manual_seed`] first for reproducibility).
    pub fn new(config: UdcConfig, device: Device) -> Result<Self> {
        config.validate()?;
        let vs = nn::VarStore::new(device);
        let net = UdcNet::new(&vs.root(), &config);
        let arch = vs.root().zeros_no_train(CONFIG_ENTRY, &[4]);
        tch::no_grad(|| {
            let values = [config.depth, config.units, config.k, config.refresh];
            let t = Tensor::from_slice(&values.map(|v| v as f32)).to_device(device);
            let mut arch = arch.shallow_clone();
            arch.copy_(&t);
        });
        Ok(UdcPolicy { vs, net, config })
    }

    /// The shipped end-to-end checkpoint ([`SHIPPED_CHECKPOINT`]) on the
    /// default device.
    pub fn shipped() -> Result<Self> {
        Self::from_bytes(SHIPPED_CHECKPOINT, "the shipped UDC checkpoint")
    }

    /// Loads a checkpoint written by [`UdcPolicy::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Loads a checkpoint from memory; `what` names it in errors.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self> {
        let bad = |e: String| Error::Torch(format!("cannot read UDC checkpoint {what}: {e}"));
        let entries =
            Tensor::load_multi_from_stream(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
        let arch = entries
            .iter()
            .find(|(name, _)| name == CONFIG_ENTRY)
            .map(|(_, t)| t)
            .ok_or_else(|| bad(format!("no {CONFIG_ENTRY} entry")))?;
        let values = tensor_to_vec_f32(arch)?;
        if values.len() != 4 {
            return Err(bad(format!(
                "{CONFIG_ENTRY} has {} values, not 4",
                values.len()
            )));
        }
        let config = UdcConfig {
            depth: values[0] as usize,
            units: values[1] as usize,
            k: values[2] as usize,
            refresh: values[3] as usize,
        };
        let mut policy = Self::new(config, default_device()?)?;
        policy
            .vs
            .load_from_stream(Cursor::new(bytes))
            .map_err(|e| bad(e.to_string()))?;
        Ok(policy)
    }

    /// Saves the variables and the architecture to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        duality_core::tensor::save_checkpoint(&self.vs, path)
    }

    /// The architecture.
    pub fn config(&self) -> &UdcConfig {
        &self.config
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel())
            .sum()
    }

    /// The greedy divide tour of `instance` from city `start` (evaluation
    /// mode). Fails on a non-planar instance, more than [`MAX_CITIES`]
    /// cities or an out-of-range `start`.
    pub fn divide(&self, instance: &Instance, start: usize) -> Result<Tour> {
        let n = instance.len();
        if start >= n {
            return Err(Error::invalid("start city", start, format!("< {n}")));
        }
        let g = Graph::new(instance, self.config.k, self.vs.device())?;
        let emb = tch::no_grad(|| self.net.embed(&g, false));
        let host = HostEmbedding::new(&g, &emb)?;
        let coords = normalised(instance.coords());
        let d = decode(
            &host,
            &coords,
            start,
            self.config.refresh,
            Pick::Greedy,
            false,
        );
        Tour::new(d.order, n)
    }

    /// `samples` sampled divide tours from start cities drawn from `rng`
    /// (evaluation mode).
    pub fn sample(
        &self,
        instance: &Instance,
        samples: usize,
        rng: &mut DualityRng,
    ) -> Result<Vec<Tour>> {
        let n = instance.len();
        let g = Graph::new(instance, self.config.k, self.vs.device())?;
        let emb = tch::no_grad(|| self.net.embed(&g, false));
        let host = HostEmbedding::new(&g, &emb)?;
        let coords = normalised(instance.coords());
        (0..samples)
            .map(|_| {
                let start = rng.random_range(0..n);
                let d = decode(
                    &host,
                    &coords,
                    start,
                    self.config.refresh,
                    Pick::Sample(rng),
                    false,
                );
                Tour::new(d.order, n)
            })
            .collect()
    }

    /// Sum over each tour of the log-probabilities of its recorded moves,
    /// differentiable in the policy's variables (`[tours.len()]`).
    fn log_probs(&self, g: &Graph, emb: &Embedding, tours: &[Decoded]) -> Tensor {
        let device = self.vs.device();
        let (n, k) = (g.n as i64, g.k as i64);
        let u = emb.v.size()[1];
        let mut visited = Vec::new();
        let (mut first, mut last) = (Vec::new(), Vec::new());
        let (mut query, mut city, mut chosen, mut open, mut owner) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (s, d) in tours.iter().enumerate() {
            let base = first.len() as i64;
            for q in &d.queries {
                visited.extend_from_slice(&q.visited);
                first.push(q.first as i64);
                last.push(q.last as i64);
            }
            for st in &d.steps {
                query.push(base + st.query as i64);
                city.push(st.city as i64);
                chosen.push(st.chosen as i64);
                open.extend(st.open.iter().copied());
                owner.push(s as i64);
            }
        }
        let nq = first.len() as i64;
        let m = city.len() as i64;
        let to = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        let vis = Tensor::from_slice(&visited).view([nq, n]).to_device(device);
        let cnt = vis.sum_dim_intlist(1, true, Kind::Float);
        let q = vis.matmul(&emb.v) / cnt
            + emb.f.index_select(0, &to(&first))
            + emb.l.index_select(0, &to(&last));
        let rows = emb.e.view([n, k, u]).index_select(0, &to(&city));
        let qs = q.index_select(0, &to(&query));
        let scores = rows.bmm(&qs.unsqueeze(-1)).squeeze_dim(-1);
        let open = Tensor::from_slice(&open).view([m, k]).to_device(device);
        let lp = scores
            .masked_fill(&open.logical_not(), f64::NEG_INFINITY)
            .log_softmax(-1, Kind::Float)
            .gather(1, &to(&chosen).unsqueeze(1), false)
            .squeeze_dim(1);
        Tensor::zeros([tours.len() as i64], (Kind::Float, device)).index_add(0, &to(&owner), &lp)
    }
}

/// What the divide policy is rewarded for during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reward {
    /// Minus the tour length after conquer and reunion (the paper's
    /// unified training).
    #[default]
    EndToEnd,
    /// Minus the length of the divide tour alone (the ablation).
    DivideOnly,
}

impl std::str::FromStr for Reward {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "end-to-end" => Ok(Reward::EndToEnd),
            "divide-only" => Ok(Reward::DivideOnly),
            _ => Err(Error::invalid("reward", s, "`end-to-end` or `divide-only`")),
        }
    }
}

impl std::fmt::Display for Reward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reward::EndToEnd => "end-to-end",
            Reward::DivideOnly => "divide-only",
        })
    }
}

/// Options of [`train_udc`]: [`UdcTrainParams::default`] plus the `with_*`
/// setters, checked by [`Validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdcTrainParams {
    cities: usize,
    steps: usize,
    samples: usize,
    seed: u64,
    lr: f64,
    reward: Reward,
    subpath_len: usize,
    rounds: usize,
    kicks: usize,
    config: UdcConfig,
}

impl Default for UdcTrainParams {
    fn default() -> Self {
        UdcTrainParams {
            cities: 200,
            steps: 200,
            samples: 8,
            seed: 0,
            lr: 1e-3,
            reward: Reward::EndToEnd,
            subpath_len: 50,
            rounds: 2,
            kicks: 10,
            config: UdcConfig::default(),
        }
    }
}

impl UdcTrainParams {
    /// Sets the cities per training instance (8..=5,000).
    pub fn with_cities(mut self, cities: usize) -> Self {
        self.cities = cities;
        self
    }
    /// Sets the gradient steps (one fresh uniform instance each).
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }
    /// Sets the sampled tours per instance (2..=256; they share the baseline).
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }
    /// Sets the seed (instances, start cities, sampling, initialisation).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets Adam's learning rate.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }
    /// Sets the reward.
    pub fn with_reward(mut self, reward: Reward) -> Self {
        self.reward = reward;
        self
    }
    /// Sets the conquer stage of the reward: sub-path length, reunion
    /// rounds and iterated-local-search kicks per sub-path.
    pub fn with_conquer(mut self, subpath_len: usize, rounds: usize, kicks: usize) -> Self {
        self.subpath_len = subpath_len;
        self.rounds = rounds;
        self.kicks = kicks;
        self
    }
    /// Sets the architecture.
    pub fn with_config(mut self, config: UdcConfig) -> Self {
        self.config = config;
        self
    }
    /// Cities per training instance.
    pub fn cities(&self) -> usize {
        self.cities
    }
    /// Gradient steps.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Sampled tours per instance.
    pub fn samples(&self) -> usize {
        self.samples
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The reward.
    pub fn reward(&self) -> Reward {
        self.reward
    }
    /// The architecture.
    pub fn config(&self) -> &UdcConfig {
        &self.config
    }

    fn conquer(&self) -> DcrParams {
        DcrParams::default()
            .with_subpath_len(self.subpath_len)
            .with_rounds(self.rounds)
    }
}

impl Validate for UdcTrainParams {
    fn validate(&self) -> Result<()> {
        if !(8..=5_000).contains(&self.cities) {
            return Err(Error::config(
                "cities",
                format!("must be in 8..=5000, got {}", self.cities),
            ));
        }
        if self.steps == 0 || self.steps > 1_000_000 {
            return Err(Error::config(
                "steps",
                format!("must be in 1..=1000000, got {}", self.steps),
            ));
        }
        if !(2..=256).contains(&self.samples) {
            return Err(Error::config(
                "samples",
                format!("must be in 2..=256, got {}", self.samples),
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config(
                "lr",
                format!("must be a finite number > 0, got {}", self.lr),
            ));
        }
        self.conquer()
            .validate()
            .map_err(|e| e.in_field("conquer"))?;
        self.config.validate().map_err(|e| e.in_field("config"))
    }
}

/// One training step's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UdcTrainStep {
    /// Step index.
    pub step: usize,
    /// Mean length of the sampled divide tours.
    pub divide_length: f64,
    /// Mean length after conquer and reunion (also computed under the
    /// divide-only reward, for the record).
    pub final_length: f64,
    /// The REINFORCE loss.
    pub loss: f64,
}

/// A trained policy and its training trace.
#[derive(Debug)]
pub struct UdcTrainRun {
    /// The policy after the last step.
    pub policy: UdcPolicy,
    /// One record per step.
    pub trace: Vec<UdcTrainStep>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Trains the divide policy with REINFORCE and the shared baseline (see the
/// module docs) on fresh uniform instances, one per step. Same seed, same
/// device -> the same policy. `progress` is advanced once per step.
pub fn train_udc(params: &UdcTrainParams, progress: &Progress) -> Result<UdcTrainRun> {
    params.validate()?;
    let start_time = Instant::now();
    manual_seed(params.seed);
    let device = default_device()?;
    let policy = UdcPolicy::new(params.config.clone(), device)?;
    let mut opt = OptimizerConfig::adam(params.lr).build(&policy.vs)?;
    let seeder = Seeder::new(params.seed);
    let conquer = params.conquer();
    let solver = LocalSearchSubpath::default().with_kicks(params.kicks);
    let mut trace = Vec::with_capacity(params.steps);
    for step in 0..params.steps {
        let instance = Instance::random_uniform(
            params.cities,
            &mut seeder.named("instance").rng(step as u64),
        )?;
        let g = Graph::new(&instance, params.config.k, device)?;
        let emb = policy.net.embed(&g, true);
        let host = HostEmbedding::new(&g, &emb)?;
        let coords = normalised(instance.coords());
        let step_seeder = seeder.named("decode").child(step as u64);
        let decoded: Vec<Decoded> = (0..params.samples)
            .into_par_iter()
            .map(|s| {
                let mut rng = step_seeder.rng(s as u64);
                let start = rng.random_range(0..instance.len());
                decode(
                    &host,
                    &coords,
                    start,
                    params.config.refresh,
                    Pick::Sample(&mut rng),
                    true,
                )
            })
            .collect();
        let nb = Neighbours::new(&instance, 10);
        let conquer_seeder = seeder.named("conquer").child(step as u64);
        let lengths: Vec<(f64, f64)> = decoded
            .par_iter()
            .enumerate()
            .map(|(s, d)| {
                let divide = tour_length(&d.order, |a, b| instance.dist(a, b));
                let dcr = conquer
                    .clone()
                    .with_seed(conquer_seeder.rng(s as u64).random());
                let run = reunion(
                    &instance,
                    d.order.clone(),
                    &nb,
                    &dcr,
                    &solver,
                    Instant::now(),
                )?;
                Ok((divide, run.tour.length(&instance)))
            })
            .collect::<Result<_>>()?;
        let rewards: Vec<f32> = lengths
            .iter()
            .map(|&(d, f)| match params.reward {
                Reward::EndToEnd => -f as f32,
                Reward::DivideOnly => -d as f32,
            })
            .collect();
        let mean = rewards.iter().sum::<f32>() / rewards.len() as f32;
        let adv: Vec<f32> = rewards.iter().map(|r| r - mean).collect();
        let logp = policy.log_probs(&g, &emb, &decoded);
        let adv = Tensor::from_slice(&adv).to_device(device);
        let loss = -(adv * logp).mean(Kind::Float);
        opt.backward_step_clip_norm(&loss, 1.0);
        let s = params.samples as f64;
        trace.push(UdcTrainStep {
            step,
            divide_length: lengths.iter().map(|l| l.0).sum::<f64>() / s,
            final_length: lengths.iter().map(|l| l.1).sum::<f64>() / s,
            loss: loss.double_value(&[]),
        });
        progress.inc(1);
    }
    Ok(UdcTrainRun {
        policy,
        trace,
        seconds: start_time.elapsed().as_secs_f64(),
    })
}

/// The UDC divide step as a pipeline builder: the greedy divide tour of the
/// policy in [`SolveParams::udc_model`](super::SolveParams::udc_model) (a
/// checkpoint path), else of the shipped checkpoint, from city 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct UdcBuilder;

impl TourBuilder for UdcBuilder {
    fn name(&self) -> &str {
        "udc"
    }
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour> {
        let policy = match ctx.params().udc_model() {
            Some(path) => UdcPolicy::load(path)?,
            None => UdcPolicy::shipped()?,
        };
        policy.divide(ctx.instance(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> UdcTrainParams {
        UdcTrainParams::default()
            .with_cities(30)
            .with_steps(3)
            .with_samples(4)
            .with_seed(5)
            .with_conquer(10, 1, 2)
            .with_config(
                UdcConfig::default()
                    .with_depth(2)
                    .with_units(8)
                    .with_k(5)
                    .with_refresh(10),
            )
    }

    #[test]
    fn decoding_gives_a_tour_and_training_is_seeded() {
        let a = train_udc(&tiny(), &Progress::hidden()).unwrap();
        let b = train_udc(&tiny(), &Progress::hidden()).unwrap();
        assert_eq!(a.trace, b.trace);
        assert_eq!(a.trace.len(), 3);
        let inst = Instance::random_uniform(57, &mut Seeder::new(3).rng(0)).unwrap();
        let t = a.policy.divide(&inst, 4).unwrap();
        assert_eq!(t.cities()[0], 4);
        t.check_for(&inst).unwrap();
        let samples = a
            .policy
            .sample(&inst, 3, &mut Seeder::new(1).rng(0))
            .unwrap();
        assert_eq!(samples.len(), 3);
    }

    #[test]
    fn checkpoint_round_trip_keeps_the_policy() {
        let run = train_udc(&tiny().with_steps(1), &Progress::hidden()).unwrap();
        let dir = std::env::temp_dir().join(format!("udc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.ot");
        run.policy.save(&path).unwrap();
        let back = UdcPolicy::load(&path).unwrap();
        assert_eq!(back.config(), run.policy.config());
        let inst = Instance::random_uniform(40, &mut Seeder::new(9).rng(0)).unwrap();
        assert_eq!(
            back.divide(&inst, 0).unwrap(),
            run.policy.divide(&inst, 0).unwrap()
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert!(UdcPolicy::load(dir.join("missing.ot")).is_err());
        assert!(UdcPolicy::from_bytes(b"not a checkpoint", "junk").is_err());
    }

    #[test]
    fn log_probs_match_the_decoder_probabilities() {
        // With refresh = n, one query; the recorded moves' log-probabilities
        // recomputed on tensors must be finite and negative.
        manual_seed(1);
        let config = UdcConfig::default()
            .with_depth(1)
            .with_units(4)
            .with_k(4)
            .with_refresh(100);
        let policy = UdcPolicy::new(config, Device::Cpu).unwrap();
        let inst = Instance::random_uniform(20, &mut Seeder::new(2).rng(0)).unwrap();
        let g = Graph::new(&inst, 4, Device::Cpu).unwrap();
        let emb = policy.net.embed(&g, false);
        let host = HostEmbedding::new(&g, &emb).unwrap();
        let coords = normalised(inst.coords());
        let mut rng = Seeder::new(4).rng(0);
        let d = decode(&host, &coords, 0, 7, Pick::Sample(&mut rng), true);
        let lp = policy.log_probs(&g, &emb, std::slice::from_ref(&d));
        let got = lp.double_value(&[0]);
        // The same quantity from the host copy, in f64.
        let u = host.units;
        let mut want = 0.0;
        for st in &d.steps {
            let q = &d.queries[st.query];
            let cnt: f32 = q.visited.iter().sum();
            let qv: Vec<f64> = (0..u)
                .map(|t| {
                    let mean: f32 = (0..20)
                        .map(|c| q.visited[c] * host.v[c * u + t])
                        .sum::<f32>()
                        / cnt;
                    f64::from(mean + host.f[q.first * u + t] + host.l[q.last * u + t])
                })
                .collect();
            let score = |r: usize| -> f64 {
                let e = &host.e[(st.city * 4 + r) * u..(st.city * 4 + r + 1) * u];
                e.iter().zip(&qv).map(|(a, b)| f64::from(*a) * b).sum()
            };
            let lse = (0..4)
                .filter(|&r| st.open[r])
                .map(|r| score(r).exp())
                .sum::<f64>()
                .ln();
            want += score(st.chosen) - lse;
        }
        assert!(!d.steps.is_empty() && d.queries.len() == 3);
        assert!(
            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
            "{got} vs {want}"
        );
        assert!(want < 0.0);
        let t = policy.divide(&inst, 0).unwrap();
        t.check_for(&inst).unwrap();
    }

    #[test]
    fn shipped_checkpoints_load_and_solve() {
        let inst = Instance::random_uniform(120, &mut Seeder::new(8).rng(0)).unwrap();
        for bytes in [SHIPPED_CHECKPOINT, SHIPPED_DIVIDE_ONLY] {
            let policy = UdcPolicy::from_bytes(bytes, "shipped").unwrap();
            assert_eq!(policy.config(), &UdcConfig::default());
            policy.divide(&inst, 0).unwrap().check_for(&inst).unwrap();
        }
        super::super::register_torch_methods();
        let sol = super::super::solve(&inst, &super::super::SolveParams::new("udc")).unwrap();
        sol.tour.check_for(&inst).unwrap();
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(UdcConfig::default().with_k(0).validate().is_err());
        assert!(tiny().with_samples(1).validate().is_err());
        assert!("bogus".parse::<Reward>().is_err());
        let m = Instance::from_matrix(
            "m",
            &[
                vec![0.0, 1.0, 2.0],
                vec![1.0, 0.0, 1.0],
                vec![2.0, 1.0, 0.0],
            ],
        )
        .unwrap();
        let policy = UdcPolicy::new(
            UdcConfig::default().with_depth(1).with_units(4),
            Device::Cpu,
        )
        .unwrap();
        assert!(policy.divide(&m, 0).is_err());
    }
}

//! Retrosynthetic planning on synthetic reaction graphs: Retro*'s AND-OR
//! tree search (Chen, Li, Dai & Song, "Retro*: Learning Retrosynthetic
//! Planning with Neural Guided A* Search", ICML 2020) guided by one value
//! (Retro*'s cost-to-go) or by the two value networks of PDVN (Liu et al.,
//! "Retrosynthetic Planning with Dual Value Networks", ICML 2023), and
//! breadth-first search.
//!
//! - [`ReactionGraph`]: a seeded generator of molecules in levels (level 0
//!   are the purchasable building blocks), each non-building block with 0
//!   to `max_reactions` reactions whose reactants lie at lower levels, and
//!   a feature vector per molecule (a noisy view of its level and of the
//!   hidden reactivity that sets how many reactions it has). The exact
//!   minimum route cost and solvability of every molecule follow by dynamic
//!   programming over the levels ([`ReactionGraph::exact`]).
//! - [`search`]: the AND-OR tree search. Retro* (Chen et al. 2020, Sec.
//!   4): leaves carry a value `V(m)`; reaction numbers `rn(R) = c(R) +
//!   sum_{m in ch(R)} rn(m)` and `rn(m) = min_{R in ch(m)} rn(R)` (their
//!   Eq. 4-5); each step expands the frontier molecule with the smallest
//!   `V_t(m | T)`, computed top-down as `V_t(R) = V_t(parent) -
//!   rn(parent) + rn(R)` (their Eq. 6-7). [`Strategy::BreadthFirst`]
//!   expands the frontier in FIFO order instead. With an admissible value
//!   (a lower bound) and [`Stop::Optimal`] the returned route is a
//!   minimum-cost one (checked against brute force in the tests).
//! - Values ([`MoleculeValue`]): a table of per-molecule numbers (the
//!   search is pure Rust). With the `torch` feature, `value::DualValue`
//!   trains PDVN's two networks on tch: synthesizability `p(m)` (binary
//!   cross-entropy on solvable/unsolvable) and cost `c(m)` (squared error on
//!   the minimum route cost of solvable molecules), combined as PDVN's
//!   value `p(m) c(m) + (1 - p(m)) c_dead` (PDVN Sec. 3.2, the
//!   `mcts_value` of the `microsoft/syntheseus` implementation,
//!   `syntheseus/search/algorithms/pdvn.py`). Single-value Retro* uses the
//!   cost network alone, trained on solvable molecules only, as Retro*'s
//!   value is trained on molecules of known routes.
//!
//! PDVN's planning-based RL of the two value networks runs after that fit
//! (`value::plan_and_fine_tune`: planning episodes with the current values,
//! targets from each search tree, [`AndOrTree::planning_labels`]).
//!
//! What this does not do: PDVN's main loop also fine-tunes the single-step
//! reaction model by RL from the planning data, and plans with an MCTS;
//! here the reactions of a molecule are given by the graph (the
//! "single-step model" is exact), the planner is Retro*, and the two value
//! networks start from a supervised fit to exact labels of separate
//! training graphs (the labels PDVN's planning phase estimates).

#[cfg(feature = "experiments")]
pub mod experiment;
#[cfg(feature = "torch")]
pub mod value;

use duality_core::seed::DualityRng;
use duality_core::{Error, Result};
use rand::Rng;

/// Length of a molecule's feature vector.
pub const FEATURES: usize = 12;

/// One reaction (backward: product <- reactants).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reaction {
    /// Reactant molecules.
    pub reactants: Vec<usize>,
    /// Cost of the reaction (> 0).
    pub cost: f64,
}

/// Generator parameters of a [`ReactionGraph`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphParams {
    /// Levels above the building blocks.
    pub levels: usize,
    /// Molecules per level (level 0: the building blocks).
    pub per_level: usize,
    /// Most reactions per molecule.
    pub max_reactions: usize,
    /// Most reactants per reaction.
    pub max_reactants: usize,
}

impl GraphParams {
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("levels", self.levels, 1)?;
        duality_core::check::at_least("per_level", self.per_level, 1)?;
        duality_core::check::at_least("max_reactions", self.max_reactions, 1)?;
        duality_core::check::at_least("max_reactants", self.max_reactants, 1)?;
        let n = duality_core::limits::product(&[
            ("levels + 1", self.levels.saturating_add(1)),
            ("per_level", self.per_level),
        ])?;
        let r = duality_core::limits::product(&[
            ("molecules", n),
            ("max_reactions", self.max_reactions),
            ("max_reactants", self.max_reactants),
        ])?;
        duality_core::limits::elements::<usize>("reaction graph", r)?;
        if n > 10_000_000 {
            return Err(Error::invalid("molecules", n, "at most 10,000,000"));
        }
        Ok(())
    }
}

/// A synthetic reaction graph.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReactionGraph {
    /// Level of each molecule (0: building block).
    pub level: Vec<usize>,
    /// Reactions producing each molecule (empty for building blocks and
    /// dead ends).
    pub reactions: Vec<Vec<Reaction>>,
    /// Features of each molecule (row-major, [`FEATURES`] per molecule).
    pub features: Vec<f32>,
}

/// Exact labels of every molecule.
#[derive(Debug, Clone, PartialEq)]
pub struct Exact {
    /// Minimum route cost (infinite when unsolvable; 0 for building
    /// blocks).
    pub cost: Vec<f64>,
}

impl Exact {
    /// Whether molecule `m` has a route.
    pub fn solvable(&self, m: usize) -> bool {
        self.cost[m].is_finite()
    }
}

impl ReactionGraph {
    /// A seeded graph. Each molecule above level 0 draws a hidden
    /// reactivity `rho ~ U(0, 1)` and `Binomial(max_reactions, rho)`
    /// reactions; a reaction has 1 to `max_reactants` reactants (the first
    /// from the level just below, the others from any lower level) and cost
    /// `U(0.5, 1.5) + 0.25 * level`. Features: `level / levels` and `rho`
    /// with Gaussian noise (s.d. 0.05 and 0.15), the number of reactions
    /// with noise (s.d. 0.5) scaled by `1 / max_reactions`, and random
    /// nuisance coordinates.
    ///
    /// # Errors
    /// Invalid or absurd sizes.
    pub fn generate(p: &GraphParams, rng: &mut DualityRng) -> Result<Self> {
        use rand_distr::{Distribution, Normal};
        p.validate()?;
        let n = (p.levels + 1) * p.per_level;
        let noise = Normal::new(0.0, 1.0).map_err(|e| Error::invalid("normal", e, "s.d. 1"))?;
        let mut g = ReactionGraph {
            level: Vec::with_capacity(n),
            reactions: Vec::with_capacity(n),
            features: Vec::with_capacity(n * FEATURES),
        };
        for l in 0..=p.levels {
            for _ in 0..p.per_level {
                let rho: f64 = if l == 0 { 0.0 } else { rng.random() };
                let mut rs = Vec::new();
                if l > 0 {
                    let k = (0..p.max_reactions)
                        .filter(|_| rng.random::<f64>() < rho)
                        .count();
                    for _ in 0..k {
                        let count = rng.random_range(1..=p.max_reactants);
                        let mut reactants = Vec::with_capacity(count);
                        reactants.push((l - 1) * p.per_level + rng.random_range(0..p.per_level));
                        for _ in 1..count {
                            let ll = rng.random_range(0..l);
                            reactants.push(ll * p.per_level + rng.random_range(0..p.per_level));
                        }
                        let cost = rng.random_range(0.5..1.5) + 0.25 * l as f64;
                        rs.push(Reaction { reactants, cost });
                    }
                }
                let mut f = [0f32; FEATURES];
                f[0] = (l as f64 / p.levels as f64 + 0.05 * noise.sample(rng)) as f32;
                f[1] = if l == 0 {
                    0.0
                } else {
                    (rho + 0.15 * noise.sample(rng)) as f32
                };
                f[2] =
                    ((rs.len() as f64 + 0.5 * noise.sample(rng)) / p.max_reactions as f64) as f32;
                f[3] = f32::from(u8::from(l == 0));
                for x in f.iter_mut().skip(4) {
                    *x = noise.sample(rng) as f32;
                }
                g.features.extend_from_slice(&f);
                g.level.push(l);
                g.reactions.push(rs);
            }
        }
        Ok(g)
    }

    /// A graph from explicit reactions (building blocks: `bb`), features
    /// all zero; for tests and hand-made examples.
    ///
    /// # Errors
    /// A reactant index out of range, a non-positive or non-finite cost, a
    /// building block with reactions, or a cycle.
    pub fn from_reactions(reactions: Vec<Vec<Reaction>>, bb: &[usize]) -> Result<Self> {
        let n = reactions.len();
        for (m, rs) in reactions.iter().enumerate() {
            if bb.contains(&m) && !rs.is_empty() {
                return Err(Error::invalid(
                    format!("reactions[{m}]"),
                    rs.len(),
                    "none for a building block",
                ));
            }
            for (k, r) in rs.iter().enumerate() {
                if !(r.cost.is_finite() && r.cost > 0.0) {
                    return Err(Error::invalid(
                        format!("reactions[{m}][{k}].cost"),
                        r.cost,
                        "a finite cost > 0",
                    ));
                }
                if let Some(&x) = r.reactants.iter().find(|&&x| x >= n) {
                    return Err(Error::invalid(
                        format!("reactions[{m}][{k}].reactants"),
                        x,
                        format!("a molecule below {n}"),
                    ));
                }
                if r.reactants.is_empty() {
                    return Err(Error::invalid(
                        format!("reactions[{m}][{k}].reactants"),
                        "[]",
                        "at least one reactant",
                    ));
                }
            }
        }
        // Levels by longest path to a building block (refuses cycles).
        let mut level = vec![usize::MAX; n];
        for &b in bb {
            if b >= n {
                return Err(Error::invalid("building block", b, format!("below {n}")));
            }
            level[b] = 0;
        }
        let mut changed = true;
        let mut rounds = 0;
        while changed {
            changed = false;
            rounds += 1;
            if rounds > n + 1 {
                return Err(Error::invalid("reactions", "a cycle", "an acyclic graph"));
            }
            for m in 0..n {
                if bb.contains(&m) {
                    continue;
                }
                let l = reactions[m]
                    .iter()
                    .flat_map(|r| r.reactants.iter())
                    .map(|&x| {
                        if level[x] == usize::MAX {
                            0
                        } else {
                            level[x] + 1
                        }
                    })
                    .max()
                    .unwrap_or(1);
                if l > n {
                    return Err(Error::invalid("reactions", "a cycle", "an acyclic graph"));
                }
                if level[m] != l {
                    level[m] = l;
                    changed = true;
                }
            }
        }
        Ok(ReactionGraph {
            level,
            reactions,
            features: vec![0.0; n * FEATURES],
        })
    }

    /// Number of molecules.
    pub fn len(&self) -> usize {
        self.level.len()
    }

    /// Whether the graph has no molecule.
    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }

    /// Whether `m` is a building block (purchasable).
    pub fn is_building_block(&self, m: usize) -> bool {
        self.level[m] == 0
    }

    /// Features of molecule `m`.
    pub fn features_of(&self, m: usize) -> &[f32] {
        &self.features[m * FEATURES..(m + 1) * FEATURES]
    }

    /// Exact minimum route costs by dynamic programming in order of level
    /// (reactants always lie at lower levels).
    pub fn exact(&self) -> Exact {
        let n = self.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&m| (self.level[m], m));
        let mut cost = vec![f64::INFINITY; n];
        for m in order {
            if self.is_building_block(m) {
                cost[m] = 0.0;
                continue;
            }
            cost[m] = self.reactions[m]
                .iter()
                .map(|r| r.cost + r.reactants.iter().map(|&x| cost[x]).sum::<f64>())
                .fold(f64::INFINITY, f64::min);
        }
        Exact { cost }
    }
}

/// A per-molecule value (estimated cost to go) for the search.
pub trait MoleculeValue {
    /// Name in reports.
    fn name(&self) -> &str;
    /// `V(m)`: estimated cost of synthesising `m` (may be infinite).
    fn value(&self, m: usize) -> f64;
}

/// A value table (one number per molecule).
#[derive(Debug, Clone)]
pub struct TableValue {
    /// Name in reports.
    pub name: String,
    /// `V(m)` per molecule.
    pub values: Vec<f64>,
}

impl MoleculeValue for TableValue {
    fn name(&self) -> &str {
        &self.name
    }
    fn value(&self, m: usize) -> f64 {
        self.values.get(m).copied().unwrap_or(0.0)
    }
}

/// Retro*-0: `V(m) = 0` (uniform-cost search on the AND-OR tree; admissible).
#[derive(Debug, Clone, Copy)]
pub struct ZeroValue;

impl MoleculeValue for ZeroValue {
    fn name(&self) -> &str {
        "retro*-0"
    }
    fn value(&self, _m: usize) -> f64 {
        0.0
    }
}

/// PDVN's combination of the two values (their Sec. 3.2; `mcts_value` in
/// syntheseus's `pdvn.py`): `p c + (1 - p) c_dead`, `p` the predicted
/// synthesizability, `c` the predicted cost of a route, `c_dead` the cost
/// of a dead end.
pub fn dual_value(p_syn: f64, cost: f64, c_dead: f64) -> f64 {
    let p = p_syn.clamp(0.0, 1.0);
    p * cost + (1.0 - p) * c_dead
}

/// How the frontier is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Retro*: smallest `V_t(m | T)`.
    RetroStar,
    /// Breadth-first: oldest frontier node first.
    BreadthFirst,
}

/// When the search stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// At the first route found (Retro*'s evaluation protocol).
    FirstSolution,
    /// When no frontier node can beat the best route found (optimal for an
    /// admissible value), or the frontier is empty.
    Optimal,
}

/// Search limits.
#[derive(Debug, Clone, Copy)]
pub struct SearchParams {
    /// Most expansions (single-step model calls).
    pub max_expansions: usize,
    /// Frontier order.
    pub strategy: Strategy,
    /// Stopping rule.
    pub stop: Stop,
}

#[derive(Debug, Clone)]
enum Node {
    Mol {
        mol: usize,
        parent: Option<usize>,
        children: Vec<usize>,
        expanded: bool,
    },
    Rxn {
        cost: f64,
        parent: usize,
        children: Vec<usize>,
    },
}

/// The AND-OR search tree with Retro*'s bookkeeping.
#[derive(Debug, Clone)]
pub struct AndOrTree {
    nodes: Vec<Node>,
    /// Reaction number of each node.
    rn: Vec<f64>,
    /// Whether each node is solved.
    solved: Vec<bool>,
    /// Cost of the best solved route under each node (infinite if none).
    solved_cost: Vec<f64>,
    /// Creation order of the frontier (for breadth-first).
    frontier: std::collections::VecDeque<usize>,
}

impl AndOrTree {
    fn new(graph: &ReactionGraph, target: usize, value: &dyn MoleculeValue) -> Self {
        let mut t = AndOrTree {
            nodes: Vec::new(),
            rn: Vec::new(),
            solved: Vec::new(),
            solved_cost: Vec::new(),
            frontier: Default::default(),
        };
        t.add_mol(graph, target, None, value);
        t
    }

    fn add_mol(
        &mut self,
        graph: &ReactionGraph,
        mol: usize,
        parent: Option<usize>,
        value: &dyn MoleculeValue,
    ) -> usize {
        let id = self.nodes.len();
        let bb = graph.is_building_block(mol);
        let v = if bb { 0.0 } else { value.value(mol).max(0.0) };
        self.nodes.push(Node::Mol {
            mol,
            parent,
            children: Vec::new(),
            expanded: bb,
        });
        self.rn.push(v);
        self.solved.push(bb);
        self.solved_cost.push(if bb { 0.0 } else { f64::INFINITY });
        if !bb {
            self.frontier.push_back(id);
        }
        id
    }

    /// Number of nodes (molecules and reactions).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree is empty (never: it holds the target).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Reaction number of node `i` (node 0 is the target).
    pub fn reaction_number(&self, i: usize) -> f64 {
        self.rn[i]
    }

    /// Whether node `i` is solved.
    pub fn is_solved(&self, i: usize) -> bool {
        self.solved[i]
    }

    /// Cost of the best solved route of the target (infinite if none).
    pub fn best_route_cost(&self) -> f64 {
        self.solved_cost[0]
    }

    /// Expands the frontier molecule node `id` with all reactions of its
    /// molecule and updates reaction numbers and solved flags up to the
    /// root (Retro*'s update phase).
    fn expand(&mut self, graph: &ReactionGraph, id: usize, value: &dyn MoleculeValue) {
        let mol = match &mut self.nodes[id] {
            Node::Mol { mol, expanded, .. } => {
                *expanded = true;
                *mol
            }
            Node::Rxn { .. } => return,
        };
        let mut rxn_ids = Vec::new();
        for r in &graph.reactions[mol] {
            let rid = self.nodes.len();
            self.nodes.push(Node::Rxn {
                cost: r.cost,
                parent: id,
                children: Vec::new(),
            });
            self.rn.push(0.0);
            self.solved.push(false);
            self.solved_cost.push(f64::INFINITY);
            let kids: Vec<usize> = r
                .reactants
                .iter()
                .map(|&x| self.add_mol(graph, x, Some(rid), value))
                .collect();
            if let Node::Rxn { children, .. } = &mut self.nodes[rid] {
                *children = kids;
            }
            self.refresh(rid);
            rxn_ids.push(rid);
        }
        if let Node::Mol { children, .. } = &mut self.nodes[id] {
            *children = rxn_ids;
        }
        // Update the expanded node, then its ancestors.
        let mut cur = Some(id);
        while let Some(i) = cur {
            self.refresh(i);
            cur = match &self.nodes[i] {
                Node::Mol { parent, .. } => *parent,
                Node::Rxn { parent, .. } => Some(*parent),
            };
        }
    }

    /// Recomputes `rn`, solved and solved cost of node `i` from its
    /// children (Retro* Eq. 4-5).
    fn refresh(&mut self, i: usize) {
        match &self.nodes[i] {
            Node::Mol {
                children,
                expanded,
                mol: _,
                ..
            } => {
                if !*expanded || self.solved[i] && children.is_empty() {
                    return;
                }
                self.rn[i] = children
                    .iter()
                    .map(|&c| self.rn[c])
                    .fold(f64::INFINITY, f64::min);
                self.solved[i] = children.iter().any(|&c| self.solved[c]);
                self.solved_cost[i] = children
                    .iter()
                    .map(|&c| self.solved_cost[c])
                    .fold(f64::INFINITY, f64::min);
            }
            Node::Rxn { cost, children, .. } => {
                self.rn[i] = cost + children.iter().map(|&c| self.rn[c]).sum::<f64>();
                self.solved[i] = children.iter().all(|&c| self.solved[c]);
                self.solved_cost[i] =
                    cost + children.iter().map(|&c| self.solved_cost[c]).sum::<f64>();
            }
        }
    }

    /// `V_t(m | T)` of every node, top-down (Retro* Eq. 6-7); infinite
    /// below a reaction or molecule whose `rn` is infinite.
    pub fn v_target(&self) -> Vec<f64> {
        let mut vt = vec![f64::INFINITY; self.nodes.len()];
        vt[0] = self.rn[0];
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            match &self.nodes[i] {
                Node::Mol { children, .. } => {
                    for &r in children {
                        vt[r] = if vt[i].is_finite() && self.rn[r].is_finite() {
                            vt[i] - self.rn[i] + self.rn[r]
                        } else {
                            f64::INFINITY
                        };
                        stack.push(r);
                    }
                }
                Node::Rxn { children, .. } => {
                    for &m in children {
                        vt[m] = vt[i];
                        stack.push(m);
                    }
                }
            }
        }
        vt
    }

    fn open_frontier(&self) -> Vec<usize> {
        self.frontier
            .iter()
            .copied()
            .filter(|&i| {
                matches!(
                    self.nodes[i],
                    Node::Mol {
                        expanded: false,
                        ..
                    }
                )
            })
            .collect()
    }
}

/// What one search did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchResult {
    /// Whether a route was found.
    pub solved: bool,
    /// Expansions spent when the first route was found (`None`: none).
    pub first_solution_at: Option<usize>,
    /// Expansions spent in all.
    pub expansions: usize,
    /// Cost of the best route found (infinite if none).
    pub route_cost: f64,
    /// Nodes in the final tree.
    pub tree_nodes: usize,
}

/// Searches a route for `target` (see the module docs).
///
/// # Errors
/// A target out of range or a zero expansion budget.
pub fn search(
    graph: &ReactionGraph,
    target: usize,
    value: &dyn MoleculeValue,
    p: &SearchParams,
) -> Result<SearchResult> {
    search_tree(graph, target, value, p).map(|(r, _)| r)
}

/// One molecule's targets from a planning episode (PDVN's planning phase,
/// Liu et al. 2023; followed from the authors' `final_backup` and
/// `generate_training_data` in `retro_star/alg/online_mcts.py`,
/// github.com/DiXue98/PDVN).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanLabel {
    /// The molecule.
    pub mol: usize,
    /// Synthesizability target: 1 if solved in the search tree, 0 for a
    /// dead end (a molecule with no reaction: the authors' invalid
    /// expansion, `prior_target = 0`), else `0.8 p(m)`: the authors'
    /// `prior_target = R * 0.8`, where `R` is MCTS's visit-averaged
    /// backed-up synthesizability; Retro* keeps no visit counts, so `p(m)`
    /// is the molecule's current prediction (the authors' `R` of a node
    /// just expanded).
    pub syn: f64,
    /// Cost target (solved molecules only): the cheapest route found in
    /// the tree below it (reaction cost plus the reactants' targets, the
    /// authors' `value_target`).
    pub cost: Option<f64>,
}

impl AndOrTree {
    /// PDVN's training targets from this search tree: one label per
    /// expanded molecule node that is not a building block (dead ends
    /// included; unexpanded leaves and building blocks give none, as in the
    /// authors' `generate_training_data`; a molecule met at several tree
    /// nodes is labelled at each, as there). `prior(m)` is the current
    /// synthesizability prediction of `m`.
    pub fn planning_labels(&self, prior: &dyn Fn(usize) -> f64) -> Vec<PlanLabel> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let Node::Mol {
                mol,
                children,
                expanded: true,
                ..
            } = n
            else {
                continue;
            };
            if children.is_empty() {
                if self.solved[i] {
                    continue; // a building block
                }
                out.push(PlanLabel {
                    mol: *mol,
                    syn: 0.0,
                    cost: None,
                });
            } else if self.solved[i] {
                out.push(PlanLabel {
                    mol: *mol,
                    syn: 1.0,
                    cost: Some(self.solved_cost[i]),
                });
            } else {
                out.push(PlanLabel {
                    mol: *mol,
                    syn: 0.8 * prior(*mol).clamp(0.0, 1.0),
                    cost: None,
                });
            }
        }
        out
    }
}

/// [`search`], also returning the final search tree (for PDVN's planning
/// targets, [`AndOrTree::planning_labels`]).
///
/// # Errors
/// A target out of range or a zero expansion budget.
pub fn search_tree(
    graph: &ReactionGraph,
    target: usize,
    value: &dyn MoleculeValue,
    p: &SearchParams,
) -> Result<(SearchResult, AndOrTree)> {
    if target >= graph.len() {
        return Err(Error::invalid(
            "target",
            target,
            format!("a molecule below {}", graph.len()),
        ));
    }
    duality_core::check::at_least("max_expansions", p.max_expansions, 1)?;
    let mut tree = AndOrTree::new(graph, target, value);
    let mut first = if tree.solved[0] { Some(0) } else { None };
    let mut expansions = 0;
    while expansions < p.max_expansions {
        if first.is_some() && p.stop == Stop::FirstSolution {
            break;
        }
        let pick = match p.strategy {
            Strategy::BreadthFirst => loop {
                match tree.frontier.pop_front() {
                    Some(i)
                        if matches!(
                            tree.nodes[i],
                            Node::Mol {
                                expanded: false,
                                ..
                            }
                        ) =>
                    {
                        break Some(i)
                    }
                    Some(_) => continue,
                    None => break None,
                }
            },
            Strategy::RetroStar => {
                let vt = tree.v_target();
                tree.open_frontier()
                    .into_iter()
                    .filter(|&i| vt[i].is_finite())
                    .min_by(|&a, &b| vt[a].total_cmp(&vt[b]).then(a.cmp(&b)))
                    .map(|i| (i, vt[i]))
                    .and_then(|(i, v)| {
                        // Optimal stop: no open node can beat the best route.
                        if p.stop == Stop::Optimal && v >= tree.best_route_cost() {
                            None
                        } else {
                            Some(i)
                        }
                    })
            }
        };
        let Some(id) = pick else { break };
        tree.expand(graph, id, value);
        expansions += 1;
        if first.is_none() && tree.solved[0] {
            first = Some(expansions);
        }
    }
    Ok((
        SearchResult {
            solved: tree.solved[0],
            first_solution_at: first,
            expansions,
            route_cost: tree.best_route_cost(),
            tree_nodes: tree.len(),
        },
        tree,
    ))
}

/// The minimum route cost of `target` by brute force: every AND-OR route
/// enumerated recursively (exponential; tiny graphs only). Infinite when
/// there is no route.
pub fn brute_force_cost(graph: &ReactionGraph, target: usize) -> f64 {
    fn routes(g: &ReactionGraph, m: usize) -> Vec<f64> {
        if g.is_building_block(m) {
            return vec![0.0];
        }
        let mut out = Vec::new();
        for r in &g.reactions[m] {
            // Every combination of one route per reactant.
            let mut partial = vec![r.cost];
            for &x in &r.reactants {
                let sub = routes(g, x);
                partial = partial
                    .iter()
                    .flat_map(|p| sub.iter().map(move |s| p + s))
                    .collect();
            }
            out.extend(partial);
        }
        out
    }
    routes(graph, target)
        .into_iter()
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    fn rx(reactants: &[usize], cost: f64) -> Reaction {
        Reaction {
            reactants: reactants.to_vec(),
            cost,
        }
    }

    /// 0: target; 1, 2: intermediates; 3, 4: building blocks; 5: dead end.
    /// 0 <- {1, 2} (1.0) | {5} (0.5); 1 <- {3} (2.0); 2 <- {3, 4} (1.0) | {4} (3.0).
    pub(super) fn hand() -> ReactionGraph {
        ReactionGraph::from_reactions(
            vec![
                vec![rx(&[1, 2], 1.0), rx(&[5], 0.5)],
                vec![rx(&[3], 2.0)],
                vec![rx(&[3, 4], 1.0), rx(&[4], 3.0)],
                vec![],
                vec![],
                vec![],
            ],
            &[3, 4],
        )
        .unwrap()
    }

    #[test]
    fn and_or_bookkeeping_by_hand() {
        let g = hand();
        let v = ZeroValue;
        let mut t = AndOrTree::new(&g, 0, &v);
        t.expand(&g, 0, &v);
        // Nodes: 0 mol(0); 1 rxn(1.0); 2 mol(1); 3 mol(2); 4 rxn(0.5); 5 mol(5).
        assert_eq!(t.len(), 6);
        assert_eq!(t.reaction_number(1), 1.0);
        assert_eq!(t.reaction_number(4), 0.5);
        assert_eq!(t.reaction_number(0), 0.5);
        assert!(!t.is_solved(0));
        // The dead end (molecule 5) is picked first: V_t = 0.5.
        let vt = t.v_target();
        assert_eq!(vt[5], 0.5);
        assert_eq!(vt[2], 1.0);
        t.expand(&g, 5, &v);
        assert!(t.reaction_number(5).is_infinite());
        assert!(t.reaction_number(4).is_infinite());
        assert_eq!(t.reaction_number(0), 1.0);
        let vt = t.v_target();
        assert!(vt[5].is_infinite());
        // Expand molecule 1 (node 2): rxn 2.0 to a building block, solved.
        t.expand(&g, 2, &v);
        assert!(t.is_solved(2));
        assert_eq!(t.reaction_number(2), 2.0);
        assert_eq!(t.reaction_number(0), 3.0);
        assert!(!t.is_solved(0));
        // Expand molecule 2 (node 3): both reactions solved; min 1.0.
        t.expand(&g, 3, &v);
        assert!(t.is_solved(3));
        assert_eq!(t.reaction_number(3), 1.0);
        assert!(t.is_solved(0));
        assert_eq!(t.best_route_cost(), 1.0 + 2.0 + 1.0);
        assert_eq!(brute_force_cost(&g, 0), 4.0);
        let r = search(
            &g,
            0,
            &v,
            &SearchParams {
                max_expansions: 10,
                strategy: Strategy::RetroStar,
                stop: Stop::Optimal,
            },
        )
        .unwrap();
        assert_eq!(r.route_cost, 4.0);
        assert_eq!(r.first_solution_at, Some(4));
        assert!(
            ReactionGraph::from_reactions(vec![vec![rx(&[1], 1.0)], vec![rx(&[0], 1.0)]], &[])
                .is_err()
        );
        assert!(ReactionGraph::from_reactions(vec![vec![rx(&[7], 1.0)]], &[]).is_err());
    }

    #[test]
    fn planning_labels_follow_pdvn_targets() {
        let g = hand();
        let v = ZeroValue;
        let mut t = AndOrTree::new(&g, 0, &v);
        t.expand(&g, 0, &v);
        t.expand(&g, 5, &v);
        // After two expansions: target expanded, unsolved; 5 a dead end.
        let l = t.planning_labels(&|_| 0.5);
        assert_eq!(
            l,
            vec![
                PlanLabel {
                    mol: 0,
                    syn: 0.4,
                    cost: None
                },
                PlanLabel {
                    mol: 5,
                    syn: 0.0,
                    cost: None
                },
            ]
        );
        t.expand(&g, 2, &v);
        t.expand(&g, 3, &v);
        let l = t.planning_labels(&|_| 0.5);
        let of = |m: usize| l.iter().find(|x| x.mol == m).cloned().unwrap();
        assert_eq!(of(0).syn, 1.0);
        assert_eq!(of(0).cost, Some(4.0));
        assert_eq!(of(1).cost, Some(2.0));
        assert_eq!(of(2).cost, Some(1.0));
        // Building blocks and unexpanded leaves give no label.
        assert!(l.iter().all(|x| x.mol != 3 && x.mol != 4));
        let (r, tree) = search_tree(
            &g,
            0,
            &v,
            &SearchParams {
                max_expansions: 10,
                strategy: Strategy::RetroStar,
                stop: Stop::FirstSolution,
            },
        )
        .unwrap();
        assert!(r.solved);
        assert_eq!(tree.len(), r.tree_nodes);
        // A molecule whose only reaction needs a dead end has children but
        // no route: 0.8 p, not 0 (only a molecule with no reaction is 0).
        // 0 <- {1} (1.0); 1 <- {2} (1.0); 2 a dead end; no building block
        // is reached.
        let g = ReactionGraph::from_reactions(
            vec![vec![rx(&[1], 1.0)], vec![rx(&[2], 1.0)], vec![], vec![]],
            &[3],
        )
        .unwrap();
        let mut t = AndOrTree::new(&g, 0, &v);
        t.expand(&g, 0, &v);
        t.expand(&g, 2, &v);
        t.expand(&g, 4, &v);
        let l = t.planning_labels(&|m| [0.5, 0.25, 0.9, 1.0][m]);
        assert_eq!(
            l.iter().map(|x| (x.mol, x.syn, x.cost)).collect::<Vec<_>>(),
            vec![(0, 0.4, None), (1, 0.2, None), (2, 0.0, None)]
        );
    }

    #[test]
    fn optimal_route_matches_brute_force_on_tiny_graphs() {
        let p = GraphParams {
            levels: 3,
            per_level: 4,
            max_reactions: 2,
            max_reactants: 2,
        };
        let mut checked = 0;
        for k in 0..60 {
            let g = ReactionGraph::generate(&p, &mut Seeder::new(9).rng(k)).unwrap();
            let exact = g.exact();
            let oracle = TableValue {
                name: "oracle".into(),
                values: exact.cost.clone(),
            };
            for target in g.len() - p.per_level..g.len() {
                let bf = brute_force_cost(&g, target);
                assert_eq!(bf.is_finite(), exact.solvable(target));
                if bf.is_finite() {
                    assert!((bf - exact.cost[target]).abs() < 1e-9);
                }
                for (v, strategy) in [
                    (&ZeroValue as &dyn MoleculeValue, Strategy::RetroStar),
                    (&oracle, Strategy::RetroStar),
                    (&ZeroValue, Strategy::BreadthFirst),
                ] {
                    let r = search(
                        &g,
                        target,
                        v,
                        &SearchParams {
                            max_expansions: 100_000,
                            strategy,
                            stop: Stop::Optimal,
                        },
                    )
                    .unwrap();
                    assert_eq!(r.solved, bf.is_finite(), "graph {k} target {target}");
                    if bf.is_finite() {
                        assert!(
                            (r.route_cost - bf).abs() < 1e-9,
                            "graph {k} target {target} {}: {} vs {bf}",
                            v.name(),
                            r.route_cost
                        );
                        checked += 1;
                    }
                }
                // With the exact value, Retro* never expands off the best route.
                let r = search(
                    &g,
                    target,
                    &oracle,
                    &SearchParams {
                        max_expansions: 100_000,
                        strategy: Strategy::RetroStar,
                        stop: Stop::FirstSolution,
                    },
                )
                .unwrap();
                if bf.is_finite() {
                    assert!((r.route_cost - bf).abs() < 1e-9);
                }
            }
        }
        assert!(checked > 30, "{checked}");
    }

    #[test]
    fn generator_is_seeded_and_levelled() {
        let p = GraphParams {
            levels: 4,
            per_level: 50,
            max_reactions: 3,
            max_reactants: 3,
        };
        let a = ReactionGraph::generate(&p, &mut Seeder::new(1).rng(0)).unwrap();
        let b = ReactionGraph::generate(&p, &mut Seeder::new(1).rng(0)).unwrap();
        assert_eq!(a.reactions, b.reactions);
        assert_eq!(a.features, b.features);
        for (m, rs) in a.reactions.iter().enumerate() {
            for r in rs {
                assert!(r.reactants.iter().all(|&x| a.level[x] < a.level[m]));
            }
        }
        let e = a.exact();
        let top = (a.len() - 50..a.len()).filter(|&m| e.solvable(m)).count();
        assert!(top > 0 && top < 50, "{top}");
        assert!(ReactionGraph::generate(
            &GraphParams {
                levels: usize::MAX,
                ..p
            },
            &mut Seeder::new(1).rng(0)
        )
        .is_err());
        assert_eq!(dual_value(1.0, 3.0, 10.0), 3.0);
        assert_eq!(dual_value(0.0, 3.0, 10.0), 10.0);
    }
}

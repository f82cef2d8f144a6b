//! Revived trajectories and importance-weighted reward redistribution for
//! the RL stage of the learned branching policy (ReviBranch: Wang et al.
//! 2025, *ReviBranch: Deep Reinforcement Learning for Branch-and-Bound with
//! Revived Trajectories*, arXiv 2508.17452). Pure Rust, so it is tested
//! without libtorch; `super::gnn::train_rl` (feature `torch`) uses it.
//!
//! Only the paper's abstract and a third-party summary of its method
//! (themoonlight.io's review of arXiv 2508.17452) were reachable, and no
//! code by the authors was found (searched again for this module: GitHub
//! index by name and by content, code and issue search), so this follows
//! the abstract's two mechanisms, with the details chosen here and stated:
//!
//! - **Revived trajectories**: each branching decision is paired with the
//!   graph state it was taken in (stored with the decision, so a trajectory
//!   of length `L` costs `O(L)` states, as the summary describes), and
//!   trajectories follow *search-tree paths*, not the solver's visit order:
//!   the tree of branching decisions is split into disjoint root-to-leaf
//!   paths as in Parsonson et al. (2023)'s retrospective trajectories
//!   (their code, `retro_branching/src/rewards/retro_branching.py`: one
//!   path from the root, then one from every node left off a path). The
//!   child a path follows is our choice: the child decision with the
//!   largest subtree, ties to the smaller node id (their default follows
//!   the path to the deepest leaf). Every decision lies on exactly one
//!   trajectory.
//! - **Importance-weighted reward redistribution**: the sparse terminal
//!   reward of a trajectory starting at decision `d_0` is its tree-size
//!   signal `R = -S(d_0)`, with `S(d)` the number of processed nodes in the
//!   subtree of `d` (itself included). It is spread over the path's
//!   decisions `d_0, ..., d_{L-1}` with weights equal to each decision's
//!   share of the subtree it owns on the path,
//!   `w_i = (S(d_i) - S(d_{i+1})) / S(d_0)` and
//!   `w_{L-1} = S(d_{L-1}) / S(d_0)`, so the dense rewards
//!   `r_i = w_i R` sum to `R` exactly, and the undiscounted return-to-go of
//!   a decision is minus the size of the subtree it caused,
//!   `G_i = sum_{j >= i} r_j = -S(d_i)` (with a discount `gamma < 1`,
//!   `G_i = sum_{j >= i} gamma^(j - i) r_j`). The weights are ours: neither
//!   the abstract nor the summary gives the paper's formula. The
//!   undiscounted return equals the subtree-size score of Parsonson et
//!   al.'s code (`set_score_as_subtree_size`).
//!
//! The learner is not the paper's either: the summary describes DQN with a
//! replay buffer and a decoder over the revived sequence (action
//! embeddings plus positional encodings); `super::gnn::train_rl` uses
//! REINFORCE with a baseline on the existing GCNN (see its docs).

use std::collections::BTreeMap;

use duality_core::{Error, Result};

/// One decision of a trajectory.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    /// Index into the `decisions` given to [`revived_trajectories`].
    pub decision: usize,
    /// Its node id.
    pub node: u64,
    /// Position on the trajectory (0 at its first decision).
    pub position: usize,
    /// Processed nodes in the decision's subtree, itself included.
    pub subtree: u64,
    /// Importance weight `w_i` (the weights of a trajectory sum to 1).
    pub weight: f64,
    /// Redistributed reward `r_i = w_i R`.
    pub reward: f64,
    /// Discounted return-to-go `G_i`.
    pub ret: f64,
}

/// A revived trajectory: a root-to-leaf path of branching decisions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trajectory {
    /// The sparse terminal reward, `-S(d_0)`.
    pub terminal: f64,
    /// The decisions from the path's first to its last.
    pub steps: Vec<Step>,
}

/// Processed nodes in every node's subtree (itself included), from the
/// `(node, parent)` pairs of a search (root: its own parent).
///
/// # Errors
/// A node listed twice, or a parent that was never processed.
pub fn subtree_sizes(visits: &[(u64, u64)]) -> Result<BTreeMap<u64, u64>> {
    let mut parent = BTreeMap::new();
    for &(node, par) in visits {
        if parent.insert(node, par).is_some() {
            return Err(Error::invalid(
                "search-tree visit",
                node,
                "each node processed once",
            ));
        }
    }
    let mut size: BTreeMap<u64, u64> = parent.keys().map(|&k| (k, 0)).collect();
    for &(node, _) in visits {
        // Add 1 to the node and each of its ancestors (trees here are a few
        // thousand nodes deep at most: node limit times depth is fine).
        let mut cur = node;
        loop {
            *size.get_mut(&cur).ok_or_else(|| {
                Error::invalid(
                    "search-tree parent",
                    cur,
                    "a processed node (its parent was never visited)",
                )
            })? += 1;
            let par = parent[&cur];
            if par == cur {
                break;
            }
            if !parent.contains_key(&par) {
                return Err(Error::invalid(
                    "search-tree parent",
                    par,
                    format!("a processed node (parent of {cur})"),
                ));
            }
            cur = par;
        }
    }
    Ok(size)
}

/// Splits the tree of branching decisions into revived trajectories and
/// redistributes each one's terminal reward (see the module docs).
/// `visits` are the search's `(node, parent)` pairs (from
/// [`super::branch_and_bound_traced`]); `decisions` the node ids where a
/// branching decision was taken, in any order. Trajectories are returned
/// in the order of their first decision's node id.
///
/// # Errors
/// A `gamma` outside `(0, 1]`, a decision node that was not visited, or
/// the errors of [`subtree_sizes`].
pub fn revived_trajectories(
    visits: &[(u64, u64)],
    decisions: &[u64],
    gamma: f64,
) -> Result<Vec<Trajectory>> {
    if !(gamma > 0.0 && gamma <= 1.0) {
        return Err(Error::invalid("discount gamma", gamma, "0 < gamma <= 1"));
    }
    let size = subtree_sizes(visits)?;
    let parent: BTreeMap<u64, u64> = visits.iter().copied().collect();
    let mut index = BTreeMap::new();
    for (k, &d) in decisions.iter().enumerate() {
        if !size.contains_key(&d) {
            return Err(Error::invalid(
                "branching decision node",
                d,
                "a processed node",
            ));
        }
        if index.insert(d, k).is_some() {
            return Err(Error::invalid(
                "branching decision node",
                d,
                "one decision per node",
            ));
        }
    }
    // Child decisions of each decision.
    let mut children: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut starts = Vec::new();
    for &d in index.keys() {
        let p = parent[&d];
        if p != d && index.contains_key(&p) {
            children.entry(p).or_default().push(d);
        } else {
            starts.push(d);
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<u64> = starts.into_iter().rev().collect();
    while let Some(first) = stack.pop() {
        let mut path = vec![first];
        let mut cur = first;
        while let Some(kids) = children.get(&cur) {
            // Largest subtree first, ties to the smaller id (a child list
            // is never empty: it is created by its first push).
            let Some(&next) = kids
                .iter()
                .max_by(|a, b| size[a].cmp(&size[b]).then(b.cmp(a)))
            else {
                break;
            };
            for &k in kids.iter().rev() {
                if k != next {
                    stack.push(k);
                }
            }
            path.push(next);
            cur = next;
        }
        let total = size[&first] as f64;
        let terminal = -total;
        let mut steps: Vec<Step> = path
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let own = size[&d] - path.get(i + 1).map_or(0, |n| size[n]);
                let weight = own as f64 / total;
                Step {
                    decision: index[&d],
                    node: d,
                    position: i,
                    subtree: size[&d],
                    weight,
                    reward: weight * terminal,
                    ret: 0.0,
                }
            })
            .collect();
        let mut g = 0.0;
        for s in steps.iter_mut().rev() {
            g = s.reward + gamma * g;
            s.ret = g;
        }
        out.push(Trajectory { terminal, steps });
    }
    out.sort_by_key(|t| t.steps[0].node);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree (node: children), decisions at 0, 1, 2, 4:
    /// 0: 1, 2; 1: 3, 4; 2: 5, 6; 4: 7, 8; leaves 3, 5, 6, 7, 8.
    fn tree() -> (Vec<(u64, u64)>, Vec<u64>) {
        let visits = vec![
            (0, 0),
            (1, 0),
            (2, 0),
            (3, 1),
            (4, 1),
            (5, 2),
            (6, 2),
            (7, 4),
            (8, 4),
        ];
        (visits, vec![0, 2, 1, 4])
    }

    #[test]
    fn subtree_sizes_count_descendants() {
        let s = subtree_sizes(&tree().0).unwrap();
        assert_eq!(s[&0], 9);
        assert_eq!(s[&1], 5);
        assert_eq!(s[&2], 3);
        assert_eq!(s[&4], 3);
        assert_eq!(s[&8], 1);
    }

    #[test]
    fn paths_cover_decisions_once_and_rewards_sum_to_terminal() {
        let (v, d) = tree();
        let t = revived_trajectories(&v, &d, 1.0).unwrap();
        // 0 -> 1 (subtree 5 > 3) -> 4; then 2 alone.
        assert_eq!(t.len(), 2);
        let nodes: Vec<Vec<u64>> = t
            .iter()
            .map(|t| t.steps.iter().map(|s| s.node).collect())
            .collect();
        assert_eq!(nodes, vec![vec![0, 1, 4], vec![2]]);
        assert_eq!(t[0].steps[1].decision, 2);
        for tr in &t {
            let sum: f64 = tr.steps.iter().map(|s| s.reward).sum();
            assert!((sum - tr.terminal).abs() < 1e-12);
            let w: f64 = tr.steps.iter().map(|s| s.weight).sum();
            assert!((w - 1.0).abs() < 1e-12);
            // Undiscounted return-to-go = -(subtree size).
            for s in &tr.steps {
                assert!((s.ret + s.subtree as f64).abs() < 1e-12);
            }
        }
        assert_eq!(t[0].terminal, -9.0);
        let r: Vec<f64> = t[0].steps.iter().map(|s| s.reward).collect();
        assert_eq!(r, vec![-4.0, -2.0, -3.0]);
        assert_eq!(t[1].terminal, -3.0);
        // Discounted: G_0 = -4 + 0.5 (-2 + 0.5 (-3)).
        let t = revived_trajectories(&v, &d, 0.5).unwrap();
        assert!((t[0].steps[0].ret - (-4.0 - 1.0 - 0.75)).abs() < 1e-12);
    }

    /// On a real search tree (pseudo-cost branching on a generated
    /// auction): every decision on exactly one trajectory, each path a
    /// parent-to-child chain, rewards summing to the terminal reward, and
    /// returns-to-go equal to minus the subtree size when gamma = 1 (the
    /// discounted recursion otherwise).
    #[test]
    fn a_real_search_tree_gives_consistent_trajectories() {
        use crate::milp::{branch_and_bound_traced, branching::PseudoCost, generators, BnbParams};
        use duality_core::seed::Seeder;
        let p = generators::generate("auction", 20, &mut Seeder::new(11).rng(0)).unwrap();
        let (mut visits, mut decisions) = (Vec::new(), Vec::new());
        let r = branch_and_bound_traced(
            &p,
            &mut PseudoCost,
            &BnbParams::default(),
            &mut |e| decisions.push(e.node),
            &mut |n, par| visits.push((n, par)),
        )
        .unwrap();
        assert_eq!(visits.len() as u64, r.nodes);
        assert!(decisions.len() >= 3, "{} decisions", decisions.len());
        let parent: BTreeMap<u64, u64> = visits.iter().copied().collect();
        let size = subtree_sizes(&visits).unwrap();
        assert_eq!(size[&0], r.nodes);
        for gamma in [1.0, 0.9] {
            let t = revived_trajectories(&visits, &decisions, gamma).unwrap();
            let mut seen = vec![0; decisions.len()];
            for tr in &t {
                assert_eq!(tr.terminal, -(tr.steps[0].subtree as f64));
                let sum: f64 = tr.steps.iter().map(|s| s.reward).sum();
                assert!((sum - tr.terminal).abs() < 1e-9);
                for (i, s) in tr.steps.iter().enumerate() {
                    seen[s.decision] += 1;
                    assert_eq!(s.position, i);
                    assert_eq!(decisions[s.decision], s.node);
                    assert_eq!(s.subtree, size[&s.node]);
                    if let Some(next) = tr.steps.get(i + 1) {
                        assert_eq!(parent[&next.node], s.node);
                        let expect = s.reward + gamma * next.ret;
                        assert!((s.ret - expect).abs() < 1e-9);
                    } else {
                        assert!((s.ret - s.reward).abs() < 1e-9);
                    }
                    if gamma == 1.0 {
                        assert!((s.ret + s.subtree as f64).abs() < 1e-9);
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{seen:?}");
        }
    }

    #[test]
    fn bad_input_is_refused() {
        let (v, d) = tree();
        assert!(revived_trajectories(&v, &d, 0.0).is_err());
        let e = revived_trajectories(&v, &d, 1.5).unwrap_err().to_string();
        assert!(e.contains("gamma") && e.contains("1.5"), "{e}");
        assert!(revived_trajectories(&v, &d, f64::NAN).is_err());
        assert!(revived_trajectories(&v, &[0, 0], 1.0).is_err());
        let e = revived_trajectories(&v, &[42], 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("42"), "{e}");
        assert!(subtree_sizes(&[(0, 0), (1, 7)]).is_err());
        assert!(subtree_sizes(&[(0, 0), (0, 0)]).is_err());
        assert!(revived_trajectories(&[], &[], 1.0).unwrap().is_empty());
    }
}

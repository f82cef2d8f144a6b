//! DAG structure learning for linear SEMs: data generators, NOTEARS, TOPO
//! (topological swaps), and recovery metrics.

mod linalg;
mod metrics;
mod notears;
mod sem;
mod topo;

pub use duality_core::numerics::{
    minimize_bounded, minimize_lbfgsb, LbfgsOptions, LbfgsResult, Termination,
};
pub use metrics::{accuracy, Accuracy};
pub use notears::{
    acyclicity, matrix_bytes, notears, DagFit, Data, InnerSolver, NotearsParams, ValueAndGradient,
    SOLVER_MATRICES,
};
pub use sem::{random_dag, simulate_linear_sem, Adjacency, GraphType, Noise};
pub use topo::{
    fit_order, fit_order_l1, l1_objective, topo, topo_random_start, SwapGradient, TopoFit,
    TopoParams,
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn notears_and_topo_recover_a_small_er_graph() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let truth = random_dag(6, 6, GraphType::ErdosRenyi, &mut rng).unwrap();
        let x = simulate_linear_sem(&truth, 1000, Noise::Gaussian, &mut rng).unwrap();
        let data = Data::new(&x, 6).unwrap();
        let fit = notears(&data, &NotearsParams::default()).unwrap();
        assert!(fit.w.is_dag());
        assert!(fit.h < 1e-6, "h = {}", fit.h);
        let acc = accuracy(&truth, &fit.w).unwrap();
        assert!(acc.shd <= 3, "notears shd {}", acc.shd);
        // TOPO from NOTEARS' order never ends with a worse unthresholded score.
        let order = fit.w.topological_order().unwrap();
        let start_loss = data.loss(&fit_order(&data, &order)).value;
        let TopoFit {
            fit: tfit,
            order: torder,
        } = topo(&data, &order, &TopoParams::default()).unwrap();
        assert!(data.loss(&tfit.w_raw.w).value <= start_loss + 1e-12);
        assert!(tfit.w.is_dag());
        assert_eq!(torder.len(), 6);
        let tacc = accuracy(&truth, &tfit.w).unwrap();
        assert!(tacc.shd <= 4, "topo shd {}", tacc.shd);
    }

    #[test]
    fn notears_with_lbfgsb_agrees_with_projected_lbfgs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let truth = random_dag(6, 6, GraphType::ErdosRenyi, &mut rng).unwrap();
        let x = simulate_linear_sem(&truth, 500, Noise::Gaussian, &mut rng).unwrap();
        let data = Data::new(&x, 6).unwrap();
        let a = notears(&data, &NotearsParams::default()).unwrap();
        let p = NotearsParams::default().with_inner(InnerSolver::LbfgsB);
        let b = notears(&data, &p).unwrap();
        assert!(b.w.is_dag() && b.h < 1e-6, "h = {}", b.h);
        // Same local problem, different iterates: scores agree closely.
        let (la, lb) = (data.loss(&a.w.w).value, data.loss(&b.w.w).value);
        assert!((la - lb).abs() <= 0.01 * la, "{la} vs {lb}");
        assert_eq!(
            a.w.w.iter().map(|v| *v != 0.0).collect::<Vec<_>>(),
            b.w.w.iter().map(|v| *v != 0.0).collect::<Vec<_>>()
        );
    }
}

#[cfg(test)]
mod hostile;

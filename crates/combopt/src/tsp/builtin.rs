//! The built-in pipeline stages: the construction heuristics of
//! [`super::construct`] as [`TourBuilder`]s, and 2-opt / Or-opt, the
//! iterated local search and divide-conquer-reunion as [`TourImprover`]s.
//! Each is a thin adapter that reads its settings from the
//! [`SolveContext`]; the algorithms live in their own modules.

use std::time::Instant;

use duality_core::Result;

use super::construct::{
    greedy_edge, insertion, nearest_neighbour, space_filling_curve, InsertionRule,
};
use super::dcr::{reunion, LocalSearchSubpath};
use super::instance::{Instance, Metric};
use super::knn::Neighbours;
use super::local_search::IlsRun;
use super::local_search::{
    improve, iterated_local_search, IlsParams, Kick, LocalSearchParams, Neighbourhood,
};
use super::pipeline::{SolveContext, TourBuilder, TourImprover};
use super::tour::Tour;

/// Kicks per city of the default `or2opt-ils` budget (10 before issue
/// #26, 20 in its first round; see [`default_ils_params`]). With Or-3opt a
/// kick costs more: 13 keeps the run about 1.15x the CPU time of the first
/// round's 20 Or-2opt kicks per city (on 33 uniform 1,000-city instances
/// 16 were another 0.03% shorter on average, 10 0.05% longer).
pub const KICKS_PER_CITY: usize = 13;
/// Longest segment of an `or2opt-ils` double-bridge kick (the
/// [`IlsParams`] default, 50, until issue #26; 50 was 0.1% longer on
/// average with Or-3opt, 200 0.03% shorter but slower).
pub const ILS_MAX_KICK_SEGMENT: usize = 100;
/// Smallest default `or2opt-ils` budget.
pub const MIN_KICKS: usize = 1_000;

/// Settings of [`IlsImprover`] for `n` cities, without its time limit:
/// [`default_kicks`] segment-local double bridges ([`Kick::SegmentSwap`],
/// up to [`ILS_MAX_KICK_SEGMENT`] cities) and Or-3opt local search
/// ([`Neighbourhood::Or3Opt`]: 2-opt, Or-opt and segment insertion of any
/// length). Issue #26, second round (`examples/tsp_ils_tune`,
/// docs/combopt.md): on 33 uniform 1,000-city instances 0.085% shorter on
/// average than the first round's Or-2opt with 20 kicks per city; against
/// LKH (elkai 2.0.1) on the six-instance study +0.33% on average (first
/// round +0.41%), at most +0.51% (first round +0.63%), and +0.39% on the
/// bench's instance (first round +0.63%). Random-walk kicks
/// ([`Kick::RandomWalk`]) were tried as the default and were not better
/// over the 33 instances (0.03% shorter than the first round, against
/// 0.12% for segment kicks at the same kick count).
pub fn default_ils_params(n: usize) -> IlsParams {
    IlsParams::default()
        .with_local(LocalSearchParams::new(Neighbourhood::Or3Opt))
        .with_kicks(default_kicks(n))
        .with_max_kick_segment(ILS_MAX_KICK_SEGMENT)
        .with_kick(Kick::SegmentSwap)
}

/// Default kick budget of [`IlsImprover`] for `n` cities:
/// `KICKS_PER_CITY * n`, at least `MIN_KICKS`.
pub fn default_kicks(n: usize) -> usize {
    (KICKS_PER_CITY * n).max(MIN_KICKS)
}

/// Nearest neighbour from city 0 ([`nearest_neighbour`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NearestNeighbourBuilder;

impl TourBuilder for NearestNeighbourBuilder {
    fn name(&self) -> &str {
        "nn"
    }
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour> {
        Ok(nearest_neighbour(ctx.instance(), 0))
    }
}

/// Greedy edge matching on the context's k-NN graph ([`greedy_edge`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct GreedyBuilder;

impl TourBuilder for GreedyBuilder {
    fn name(&self) -> &str {
        "greedy"
    }
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour> {
        Ok(greedy_edge(ctx.instance(), ctx.neighbours()))
    }
}

/// Cheapest or farthest insertion ([`insertion`]).
#[derive(Debug, Clone, Copy)]
pub struct InsertionBuilder(pub InsertionRule);

impl TourBuilder for InsertionBuilder {
    fn name(&self) -> &str {
        match self.0 {
            InsertionRule::Cheapest => "cheapest-insertion",
            InsertionRule::Farthest => "farthest-insertion",
        }
    }
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour> {
        Ok(insertion(ctx.instance(), self.0))
    }
}

/// Hilbert space-filling-curve order ([`space_filling_curve`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpaceFillingCurveBuilder;

impl TourBuilder for SpaceFillingCurveBuilder {
    fn name(&self) -> &str {
        "sfc"
    }
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour> {
        Ok(space_filling_curve(ctx.instance()))
    }
}

/// 2-opt, Or-opt or both to a local optimum on the context's candidate
/// lists ([`improve`]), within the time left.
#[derive(Debug, Clone, Copy)]
pub struct LocalSearchImprover(pub Neighbourhood);

impl TourImprover for LocalSearchImprover {
    fn name(&self) -> &str {
        match self.0 {
            Neighbourhood::TwoOpt => "2opt",
            Neighbourhood::OrOpt => "oropt",
            Neighbourhood::Or2Opt => "or2opt",
            Neighbourhood::Or3Opt => "or3opt",
        }
    }
    fn improve(&self, tour: Tour, ctx: &SolveContext<'_>) -> Result<Tour> {
        let instance = ctx.instance();
        let params = LocalSearchParams::new(self.0).with_time_limit(ctx.time_left());
        let local = improve(
            tour.into_vec(),
            &|a, b| instance.dist(a, b),
            ctx.neighbours(),
            None,
            &params,
        )?;
        Ok(Tour::from_permutation(local.order))
    }
}

/// Iterated local search over Or-3opt ([`iterated_local_search`] with
/// [`default_ils_params`]) with
/// [`SolveParams::kicks`](super::SolveParams::kicks) kicks (default
/// [`default_kicks`]), seeded from the context's stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct IlsImprover;

impl TourImprover for IlsImprover {
    fn name(&self) -> &str {
        "or2opt-ils"
    }
    fn improve(&self, tour: Tour, ctx: &SolveContext<'_>) -> Result<Tour> {
        let instance = ctx.instance();
        let kicks = ctx
            .params()
            .kicks()
            .unwrap_or_else(|| default_kicks(instance.len()));
        let params = default_ils_params(instance.len())
            .with_kicks(kicks)
            .with_time_limit(ctx.time_left());
        let mut rng = ctx.rng();
        let run = ils_on_instance(instance, tour, ctx.neighbours(), &params, &mut rng)?;
        Ok(Tour::from_permutation(run.order))
    }
}

/// [`iterated_local_search`] from `tour` on `instance` with no fixed edge.
/// On [`Metric::Euclidean`] instances the distance is a small closure over
/// the coordinates (the same formula as [`Instance::dist`], so the same
/// numbers) that the compiler inlines into the search loops; the
/// general [`Instance::dist`], with its per-call metric dispatch, is not
/// inlined there and costed about half of the run time.
pub fn ils_on_instance<R: rand::Rng + ?Sized>(
    instance: &Instance,
    tour: Tour,
    neighbours: &Neighbours,
    params: &IlsParams,
    rng: &mut R,
) -> Result<IlsRun> {
    let order = tour.into_vec();
    if instance.metric() == Metric::Euclidean {
        let xy = instance.coords();
        let dist = |a: usize, b: usize| {
            let ([xa, ya], [xb, yb]) = (xy[a], xy[b]);
            let (dx, dy) = (xa - xb, ya - yb);
            (dx * dx + dy * dy).sqrt()
        };
        iterated_local_search(order, &dist, neighbours, None, params, rng)
    } else {
        iterated_local_search(
            order,
            &|a, b| instance.dist(a, b),
            neighbours,
            None,
            params,
            rng,
        )
    }
}

/// Divide-conquer-reunion rounds ([`super::dcr`]): the global Or-2opt
/// descent of [`DcrParams`](super::DcrParams) (unless disabled), then
/// sub-path iterated local search rounds with
/// [`LocalSearchSubpath::default`]. `k`, the seed and the time limit come
/// from the [`SolveParams`](super::SolveParams); the rest from its `dcr()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DcrImprover;

impl TourImprover for DcrImprover {
    fn name(&self) -> &str {
        "dcr"
    }
    fn improve(&self, tour: Tour, ctx: &SolveContext<'_>) -> Result<Tour> {
        let params = ctx.params();
        let dcr = params
            .dcr()
            .clone()
            .with_k(params.k())
            .with_seed(params.seed())
            .with_time_limit(ctx.time_left().or(params.dcr().time_limit()));
        let run = reunion(
            ctx.instance(),
            tour.into_vec(),
            ctx.neighbours(),
            &dcr,
            &LocalSearchSubpath::default(),
            Instant::now(),
        )?;
        Ok(run.tour)
    }
}

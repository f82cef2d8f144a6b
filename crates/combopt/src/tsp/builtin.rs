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
use super::local_search::{
    improve, iterated_local_search, IlsParams, LocalSearchParams, Neighbourhood,
};
use super::pipeline::{SolveContext, TourBuilder, TourImprover};
use super::tour::Tour;

/// Kicks per city of the default `or2opt-ils` budget (10 until issue
/// #26; see [`ILS_MAX_KICK_SEGMENT`]).
pub const KICKS_PER_CITY: usize = 20;
/// Longest segment of an `or2opt-ils` double-bridge kick (the
/// [`IlsParams`] default, 50, until issue #26). Measured on six seeded
/// uniform 1,000-city instances against LKH (elkai 2.0.1): 10 kicks per
/// city with segments up to 50 gave +0.55% on average (+0.41..+0.64%),
/// 20 kicks per city with segments up to 100 +0.41% (+0.20..+0.63%,
/// shorter on all six) in 0.17-0.22 s, against LKH's 4.6-12.7 s
/// (docs/combopt.md).
pub const ILS_MAX_KICK_SEGMENT: usize = 100;
/// Smallest default `or2opt-ils` budget.
pub const MIN_KICKS: usize = 1_000;

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

/// Iterated local search over Or-2opt ([`iterated_local_search`]) with
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
        let params = IlsParams::default()
            .with_kicks(kicks)
            .with_max_kick_segment(ILS_MAX_KICK_SEGMENT)
            .with_time_limit(ctx.time_left());
        let mut rng = ctx.rng();
        let run = iterated_local_search(
            tour.into_vec(),
            &|a, b| instance.dist(a, b),
            ctx.neighbours(),
            None,
            &params,
            &mut rng,
        )?;
        Ok(Tour::from_permutation(run.order))
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

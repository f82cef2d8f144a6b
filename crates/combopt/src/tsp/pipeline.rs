//! Open TSP methods: a method is a named [`Pipeline`] of one
//! [`TourBuilder`] (a construction heuristic) followed by a chain of
//! [`TourImprover`]s (local search, iterated local search, DCR, later
//! learned improvers), looked up by name in a [`Registry`].
//!
//! Stages are stateless `'static` values; what they need at run time (the
//! instance, the [`SolveParams`], shared k-NN candidate lists, the remaining
//! time budget, a seeded random stream) comes from the [`SolveContext`].
//! The built-in table is [`super::methods`]; a new improver is one type
//! implementing [`TourImprover`] plus one [`Pipeline`] line in that table
//! (or a [`Registry::register`] call from outside the crate).

use std::cell::OnceCell;
use std::time::Instant;

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};

use super::instance::Instance;
use super::knn::Neighbours;
use super::tour::Tour;
use super::{Solution, SolveParams};

/// Builds an initial tour (construction heuristics: nearest neighbour,
/// greedy edge, insertion, space-filling curve, ...).
pub trait TourBuilder: Send + Sync {
    /// Short name shown by `duality tsp methods` (e.g. `greedy`).
    fn name(&self) -> &str;

    /// A tour over every city of `ctx.instance()`.
    fn build(&self, ctx: &SolveContext<'_>) -> Result<Tour>;
}

/// Improves a tour. Contract: the returned tour is over the same cities
/// and never longer than `tour` (the registry tests check this for every
/// built-in pipeline); an improver honours [`SolveContext::time_left`] and
/// draws randomness only from [`SolveContext::rng`], so that a fixed seed
/// gives a fixed tour when no time limit stops it.
pub trait TourImprover: Send + Sync {
    /// Short name shown by `duality tsp methods` (e.g. `or2opt`).
    fn name(&self) -> &str;

    /// The improved tour.
    fn improve(&self, tour: Tour, ctx: &SolveContext<'_>) -> Result<Tour>;
}

/// Which stage of a pipeline is running (selects the random stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Build,
    Improve(usize),
}

/// What a stage sees: the instance, the parameters, lazily built candidate
/// lists shared by all stages, the time budget and a per-stage random stream.
pub struct SolveContext<'a> {
    instance: &'a Instance,
    params: &'a SolveParams,
    neighbours: OnceCell<Neighbours>,
    /// When the improvement phase started (`None` while building).
    improving_since: Option<Instant>,
    stage: Stage,
}

impl<'a> SolveContext<'a> {
    /// A context for the builder stage of a run on `instance` with `params`
    /// (validated by the caller: [`Pipeline::run`] does it once per solve).
    pub fn new(instance: &'a Instance, params: &'a SolveParams) -> Self {
        SolveContext {
            instance,
            params,
            neighbours: OnceCell::new(),
            improving_since: None,
            stage: Stage::Build,
        }
    }

    /// Moves the context to improver `index` of the chain; the first call
    /// starts the improvement phase's clock.
    pub fn enter_improver(&mut self, index: usize) {
        self.improving_since.get_or_insert_with(Instant::now);
        self.stage = Stage::Improve(index);
    }

    /// The instance being solved.
    pub fn instance(&self) -> &'a Instance {
        self.instance
    }

    /// The run's parameters.
    pub fn params(&self) -> &'a SolveParams {
        self.params
    }

    /// The k-NN + quadrant candidate lists with `k = params.k()`, built on
    /// first use and shared by every stage of the run.
    pub fn neighbours(&self) -> &Neighbours {
        self.neighbours
            .get_or_init(|| Neighbours::new(self.instance, self.params.k()))
    }

    /// Seconds left of [`SolveParams::time_limit`] for the improvement phase
    /// (at least 0; `None`: no limit). While building it is the whole budget.
    pub fn time_left(&self) -> Option<f64> {
        let limit = self.params.time_limit()?;
        let spent = self
            .improving_since
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        Some((limit - spent).max(0.0))
    }

    /// This stage's random stream from [`SolveParams::seed`]: improver `i`
    /// of the chain draws from `Seeder::new(seed).rng(i)`, the builder from
    /// `Seeder::new(seed).named("build").rng(0)`, so adding a stage never
    /// moves the streams of the others.
    pub fn rng(&self) -> DualityRng {
        let seeder = Seeder::new(self.params.seed());
        match self.stage {
            Stage::Build => seeder.named("build").rng(0),
            Stage::Improve(i) => seeder.rng(i as u64),
        }
    }
}

/// A named TSP method: one builder, then improvers in order.
#[derive(Clone, Copy)]
pub struct Pipeline {
    name: &'static str,
    about: &'static str,
    builder: &'static dyn TourBuilder,
    improvers: &'static [&'static dyn TourImprover],
    seeded: bool,
    aliases: &'static [&'static str],
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("stages", &self.stages())
            .field("seeded", &self.seeded)
            .finish()
    }
}

impl Pipeline {
    /// A deterministic pipeline `name` (one line `about` it) running
    /// `builder`, then each of `improvers`.
    pub const fn new(
        name: &'static str,
        about: &'static str,
        builder: &'static dyn TourBuilder,
        improvers: &'static [&'static dyn TourImprover],
    ) -> Self {
        Pipeline {
            name,
            about,
            builder,
            improvers,
            seeded: false,
            aliases: &[],
        }
    }

    /// Marks the pipeline as stochastic: its result depends on
    /// [`SolveParams::seed`] (benchmarks run it once per seed).
    pub const fn seeded(mut self) -> Self {
        self.seeded = true;
        self
    }

    /// Other names that select this pipeline (kept for compatibility).
    pub const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// The name (`--method NAME`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line on what it does.
    pub fn about(&self) -> &'static str {
        self.about
    }

    /// The construction stage.
    pub fn builder(&self) -> &'static dyn TourBuilder {
        self.builder
    }

    /// The improvement stages, in order.
    pub fn improvers(&self) -> &'static [&'static dyn TourImprover] {
        self.improvers
    }

    /// Whether the result depends on the seed.
    pub fn is_seeded(&self) -> bool {
        self.seeded
    }

    /// Alternative names.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// Stage names, builder first (e.g. `["greedy", "or2opt"]`).
    pub fn stages(&self) -> Vec<&str> {
        std::iter::once(self.builder.name())
            .chain(self.improvers.iter().map(|i| i.name()))
            .collect()
    }

    /// Whether `name` is this pipeline's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// Solves `instance`: validates `params` once, builds, then improves;
    /// every stage's tour is checked to cover the instance. `seconds`
    /// covers the whole pipeline.
    pub fn run(&self, instance: &Instance, params: &SolveParams) -> Result<Solution> {
        params.validate()?;
        let start = Instant::now();
        let mut ctx = SolveContext::new(instance, params);
        let mut tour = self.builder.build(&ctx)?;
        self.check_stage(&tour, instance, self.builder.name())?;
        for (i, improver) in self.improvers.iter().enumerate() {
            ctx.enter_improver(i);
            tour = improver.improve(tour, &ctx)?;
            self.check_stage(&tour, instance, improver.name())?;
        }
        let length = tour.length(instance);
        Ok(Solution {
            tour,
            length,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn check_stage(&self, tour: &Tour, instance: &Instance, stage: &str) -> Result<()> {
        tour.check_for(instance).map_err(|e| {
            Error::invalid(
                format!("tour from stage {stage:?} of method {:?}", self.name),
                e,
                "a tour over every city of the instance",
            )
        })
    }
}

/// A set of named pipelines: the built-in table ([`Registry::builtin`])
/// plus any registered at run time.
#[derive(Debug, Clone)]
pub struct Registry {
    pipelines: Vec<Pipeline>,
}

impl Registry {
    /// Every built-in method ([`super::methods`]), in report order.
    pub fn builtin() -> Self {
        Registry {
            pipelines: super::methods().to_vec(),
        }
    }

    /// Adds `pipeline`; fails when its name or an alias is already taken.
    pub fn register(&mut self, pipeline: Pipeline) -> Result<()> {
        for name in std::iter::once(pipeline.name).chain(pipeline.aliases.iter().copied()) {
            if self.pipelines.iter().any(|p| p.answers_to(name)) {
                return Err(Error::invalid(
                    "method name",
                    name,
                    "a name not registered yet",
                ));
            }
        }
        self.pipelines.push(pipeline);
        Ok(())
    }

    /// The pipelines, in registration order.
    pub fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// The pipeline called `name` (or aliased so); an unknown name is an
    /// error listing the registered names.
    pub fn get(&self, name: &str) -> Result<&Pipeline> {
        find(&self.pipelines, name)
    }

    /// Solves `instance` with the pipeline named by `params.method()`.
    pub fn solve(&self, instance: &Instance, params: &SolveParams) -> Result<Solution> {
        self.get(params.method())?.run(instance, params)
    }
}

/// Looks `name` up in `pipelines` (names and aliases).
pub(crate) fn find<'p>(pipelines: &'p [Pipeline], name: &str) -> Result<&'p Pipeline> {
    pipelines
        .iter()
        .find(|p| p.answers_to(name))
        .ok_or_else(|| {
            let names: Vec<&str> = pipelines.iter().map(|p| p.name).collect();
            Error::invalid("method", name, format!("one of {}", names.join(", ")))
        })
}

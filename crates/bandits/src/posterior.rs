//! Exact Thompson-sampling draws for Beta-Bernoulli posteriors that do not
//! sample every arm.
//!
//! Thompson sampling plays `argmax_i X_i` with one independent posterior draw
//! `X_i ~ Beta(a_i, b_i)` per arm. Only the arg-max matters, and late in a
//! run most arms are far below the leader, so drawing all of them exactly
//! (two gamma variates each) is wasted work. [`BetaArgmax`] returns an
//! arg-max with exactly the same distribution while a far arm costs a few
//! multiply-adds:
//!
//! 1. Draw the leader's value `m` exactly (the arm with the largest
//!    posterior mean).
//! 2. For integer shapes, `P(X_i > m) = P(Bin(n_i, m) <= a_i - 1)` with
//!    `n_i = a_i + b_i - 1` (the Beta-binomial identity), and Chernoff's
//!    bound gives `P(X_i > m) <= tau_i = exp(-n_i kl(q_i, m))` for
//!    `q_i = (a_i - 1) / n_i < m`. Write the law of `X_i` as the mixture
//!    `(1 - tau_i) B + tau_i Q` with `B = Law(X_i | X_i <= m)`, which is a
//!    valid decomposition exactly because `P(X_i <= m) >= 1 - tau_i`. With
//!    probability `1 - tau_i` arm `i` is below `m` and cannot win, whatever
//!    its value. These independent coin flips are made for all far arms at
//!    once: a Bernoulli process with one rate above every `tau_i`, whose
//!    gaps are geometric (one exponential draw skips to the next proposal),
//!    thinned to `tau_i` at each proposal.
//! 3. Otherwise (probability `tau_i`) the exact tail `p_i = P(X_i > m)` is
//!    computed ([`binomial_lower_tail`]) and arm `i` exceeds `m` with
//!    probability `p_i / tau_i`, so overall with probability `p_i`, as it
//!    must. Its value is then `Law(X_i | X_i > m)`, drawn by inverting the
//!    exact tail — and only when it is needed: a single arm above `m` wins
//!    without knowing by how much.
//!
//! Arms whose bound is weak (`tau_i` not small) are drawn exactly. The
//! result is Thompson sampling itself, not an approximation; the test
//! `lazy_argmax_matches_eager_sampling` compares the arg-max frequencies
//! of both samplers with a chi-square test.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::math::{sample_beta, GammaSampler};

/// `ln(sqrt(2 pi))`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Stirling's error `ln(n!) - ln(sqrt(2 pi n) (n / e)^n)` for integral
/// `n >= 1` (Loader 2000, "Fast and accurate computation of binomial
/// probabilities", Sec. 2): `ln n!` by summation for `n <= 15`, else the
/// asymptotic series `1/(12n) - 1/(360n^3) + 1/(1260n^5) - 1/(1680n^7) +
/// 1/(1188n^9)`, accurate to double precision there.
fn stirling_error(n: f64) -> f64 {
    if n <= 15.0 {
        let mut ln_factorial = 0.0;
        let mut j = 2.0;
        while j <= n {
            ln_factorial += f64::ln(j);
            j += 1.0;
        }
        ln_factorial - (n + 0.5) * n.ln() + n - LN_SQRT_2PI
    } else {
        const S0: f64 = 1.0 / 12.0;
        const S1: f64 = 1.0 / 360.0;
        const S2: f64 = 1.0 / 1260.0;
        const S3: f64 = 1.0 / 1680.0;
        const S4: f64 = 1.0 / 1188.0;
        let nn = n * n;
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// The deviance term `x ln(x / mu) + mu - x` (Loader's `bd0`), by a series
/// in `v = (x - mu) / (x + mu)` when `x` is close to `mu`, where the direct
/// formula cancels catastrophically.
fn deviance_term(x: f64, mu: f64) -> f64 {
    if (x - mu).abs() < 0.1 * (x + mu) {
        let v = (x - mu) / (x + mu);
        let v2 = v * v;
        let mut sum = (x - mu) * v;
        let mut power = 2.0 * x * v;
        for j in 1..1000 {
            power *= v2;
            let next = sum + power / f64::from(2 * j + 1);
            if next == sum {
                break;
            }
            sum = next;
        }
        sum
    } else {
        x * (x / mu).ln() + mu - x
    }
}

/// `ln P(Bin(n, x) = k)` for integers `0 <= k <= n`, `0 < x < 1`, by
/// Loader's saddle-point form (accurate to a few ulps even for `n` in the
/// millions, where `ln C(n, k)` from log-gammas would cancel).
fn ln_binomial_pmf(k: f64, n: f64, x: f64) -> f64 {
    if k == 0.0 {
        return n * (-x).ln_1p();
    }
    if k == n {
        return n * x.ln();
    }
    let rest = n - k;
    stirling_error(n)
        - stirling_error(k)
        - stirling_error(rest)
        - deviance_term(k, n * x)
        - deviance_term(rest, n * (1.0 - x))
        + 0.5 * (n / (k * rest)).ln()
        - LN_SQRT_2PI
}

/// `P(Bin(n, x) <= k)` for integers `0 <= k < n` and `0 < x < 1` with
/// `k <= n x` (the lower tail, where the terms fall geometrically as `j`
/// decreases from `k`). Equals `P(Beta(k + 1, n - k) > x)`. The sum runs
/// from the largest term down until a term no longer changes the total,
/// relative to `P(Bin(n, x) = k)` computed by [`ln_binomial_pmf`].
///
/// Returns `None` outside that domain.
pub fn binomial_lower_tail(k: u64, n: u64, x: f64) -> Option<f64> {
    let (kf, nf) = (k as f64, n as f64);
    if k >= n || !(x > 0.0 && x < 1.0) || kf > nf * x {
        return None;
    }
    // pmf(j - 1) / pmf(j) = j / (n - j + 1) * (1 - x) / x.
    let odds = (1.0 - x) / x;
    let mut term = 1.0;
    let mut total = 1.0;
    let mut j = kf;
    while j >= 1.0 {
        term *= j / (nf - j + 1.0) * odds;
        let next = total + term;
        if next == total {
            break;
        }
        total = next;
        j -= 1.0;
    }
    Some((ln_binomial_pmf(kf, nf, x).exp() * total).min(1.0))
}

/// The exponent below which an arm is drawn exactly instead of lazily: with
/// `n kl(q, m) < 3` the bound `tau > 0.05` would send the arm to the exact
/// tail computation too often to pay off. Arms with many pulls need more
/// (their tail sums are longer); see `ArmPosterior::tail_cost`.
const LAZY_MIN_EXPONENT: f64 = 3.0;

/// Slack subtracted from the Chernoff exponent so rounding can never push
/// the bound below the true tail (the bound is tight when `n = 1`).
const EXPONENT_SLACK: f64 = 1e-6;

/// One arm's Beta(`a`, `b`) posterior with integer shapes, plus the
/// constants the lazy test needs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ArmPosterior {
    a: GammaSampler,
    b: GammaSampler,
    /// `a - 1` (successes).
    k: f64,
    /// `a + b - 1`.
    n: f64,
    /// `a / (a + b)`, the posterior mean.
    mean: f64,
    /// `(entropy_term, tail_cost)`, `None` until first needed after an
    /// update (the leader, updated most rounds, never needs them):
    /// - `entropy_term = k ln(k/n) + (n-k) ln((n-k)/n)`, so that
    ///   `n kl(k/n, m) = entropy_term - k ln m - (n-k) ln(1-m)`;
    /// - `tail_cost = ln(n q (1 - q)) / 2` (at least 0): the exact tail sums
    ///   about `sqrt(n q (1-q) / c)` terms, so an arm is lazy only when
    ///   `exp(-c)` times that stays small (see `BetaArgmax::draw_argmax`).
    lazy_constants: Option<(f64, f64)>,
    /// A tangent of the computed Chernoff exponent at a past leader value,
    /// `None` until the first exact pass after an update (see [`Tangent`]).
    tangent: Option<Tangent>,
}

/// A tangent of an arm's Chernoff exponent as a function of the leader's
/// value, with the error bounds that let [`BetaArgmax::draw_argmax`] decide
/// the arm's branch without logarithms.
///
/// `E(m) = entropy - k ln m - (n - k) ln(1 - m) - slack` is `n kl(k/n, m)`
/// up to a constant, so it is convex in `m` (`kl(q, .)` is). A convex
/// function lies above its tangents and below its chords, so for any `m`:
/// `E(m0) + E'(m0) (m - m0) <= E(m) <= E(m0) + E'(m) (m - m0)`, with
/// `E'(m) = (n m - k) / (m (1 - m))`. Within `radius` of `m0` (half the
/// distance to 0 or 1, so `|ln m|` and `|ln(1 - m)|` grow by at most
/// `ln 2`), `margin` bounds the rounding of both the exact computation of
/// `E(m)` and of these bounds, with several orders of magnitude to spare.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tangent {
    /// The leader value where the tangent was taken.
    m0: f64,
    /// `E(m0)` as the exact pass computed it.
    e0: f64,
    /// `E'(m0)`.
    slope: f64,
    /// Absolute error allowance (see above).
    margin: f64,
    /// The arm's `tail_cost` (its lazy threshold is `min_exponent +
    /// tail_cost`).
    tail_cost: f64,
    /// The bounds are used only for `|m - m0| <= radius`.
    radius: f64,
}

/// How an arm is resolved in one draw, decided from its [`Tangent`] alone.
enum Screened {
    /// Drawn exactly (its exponent is certainly below its threshold).
    Exact,
    /// A lazy candidate whose exponent is at least this value.
    Lazy(f64),
    /// Too close to call, or no usable tangent: the exact pass decides.
    Unknown,
}

impl ArmPosterior {
    /// The uniform prior Beta(1, 1).
    fn prior() -> Self {
        let one = GammaSampler::new(1.0).expect("shape 1 is valid");
        ArmPosterior {
            a: one,
            b: one,
            k: 0.0,
            n: 1.0,
            mean: 0.5,
            lazy_constants: None,
            tangent: None,
        }
    }

    /// Beta(1 + `successes`, 1 + `failures`), rebuilding only the gamma
    /// sampler whose shape changed.
    fn set(&mut self, successes: u64, failures: u64) {
        let k = successes as f64;
        let rest = failures as f64 + 1.0;
        // Shapes are >= 1 and finite, so the samplers always build.
        if k != self.k {
            if let Ok(g) = GammaSampler::new(k + 1.0) {
                self.a = g;
            }
        }
        if rest != self.n - self.k {
            if let Ok(g) = GammaSampler::new(rest) {
                self.b = g;
            }
        }
        self.k = k;
        self.n = k + rest;
        self.updated();
    }

    /// One more success: what `set(successes + 1, failures)` does (the
    /// counts are integers in `f64`, so the increments are exact).
    #[inline]
    fn add_success(&mut self) {
        self.k += 1.0;
        self.a = GammaSampler::at_least_one(self.k + 1.0);
        self.n += 1.0;
        self.updated();
    }

    /// One more failure: what `set(successes, failures + 1)` does.
    #[inline]
    fn add_failure(&mut self) {
        let rest = self.n - self.k + 1.0;
        self.b = GammaSampler::at_least_one(rest);
        self.n = self.k + rest;
        self.updated();
    }

    /// The mean and the dropped caches after a change of the counts.
    #[inline]
    fn updated(&mut self) {
        self.mean = (self.k + 1.0) / (self.n + 1.0);
        self.lazy_constants = None;
        self.tangent = None;
    }

    /// `(entropy_term, tail_cost)`, computed on first use after an update.
    fn lazy_constants(&mut self) -> (f64, f64) {
        let (k, n) = (self.k, self.n);
        *self.lazy_constants.get_or_insert_with(|| {
            let xlogx = |c: f64| if c > 0.0 { c * (c / n).ln() } else { 0.0 };
            (
                xlogx(k) + xlogx(n - k),
                0.5 * (k * (n - k) / n).max(1.0).ln(),
            )
        })
    }

    /// The arm's branch at leader value `m` for lazy threshold
    /// `min_exponent + tail_cost` from its tangent, when the bounds
    /// decide it: `Lazy` only if the exact pass would compute an exponent
    /// `>= threshold` (and then at least the returned bound), `Exact` only
    /// if it would compute one below. The caller has checked `k < n m`.
    #[inline]
    fn screen(&self, m: f64, min_exponent: f64) -> Screened {
        let Some(t) = self.tangent else {
            return Screened::Unknown;
        };
        let threshold = min_exponent + t.tail_cost;
        let dm = m - t.m0;
        // (A NaN would fail every test below and end as `Unknown`.)
        if dm.abs() > t.radius {
            return Screened::Unknown;
        }
        let lower = t.e0 + t.slope * dm - t.margin;
        if lower >= threshold {
            return Screened::Lazy(lower);
        }
        let slope_m = (self.n * m - self.k) / (m * (1.0 - m));
        let upper = t.e0 + slope_m * dm + t.margin + 1e-10 * slope_m.abs();
        if upper < threshold {
            Screened::Exact
        } else {
            Screened::Unknown
        }
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        sample_beta(&self.a, &self.b, rng)
    }

    /// `P(X > m)` exactly (the caller guarantees `k < n m`).
    fn upper_tail(&self, m: f64) -> f64 {
        binomial_lower_tail(self.k as u64, self.n as u64, m).unwrap_or(1.0)
    }

    /// A draw from `Law(X | X > m)` by bisection on the exact tail:
    /// the `x` in `(m, 1)` with `P(X > x) = w P(X > m)` for uniform `w`.
    fn draw_above<R: Rng + ?Sized>(&self, m: f64, tail_m: f64, rng: &mut R) -> f64 {
        let target = rng.random::<f64>() * tail_m;
        let (mut lo, mut hi) = (m, 1.0);
        for _ in 0..64 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.upper_tail(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// How the arms of the last draws were resolved (diagnostics; reset with
/// [`BetaArgmax::reset`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LazyDrawCounts {
    /// Arms drawn exactly (leader, close competitors).
    pub exact: u64,
    /// Arms ruled out by the Chernoff bound without any draw of their own.
    pub ruled_out: u64,
    /// Arms that needed the exact tail probability.
    pub tail_checks: u64,
    /// Arms found above the leader's value (won, or had their value drawn).
    pub above_leader: u64,
    /// Conditional values drawn because several arms were above the leader.
    pub conditional_draws: u64,
    /// Draws whose exponents were computed exactly (`ln m`, `ln(1 - m)`)
    /// because the tangent bounds could not decide every arm or the
    /// first gap (the other draws needed no logarithm).
    pub exact_passes: u64,
}

/// Exact Thompson arg-max over Beta posteriors with integer shapes
/// (`Beta(1 + successes, 1 + failures)`), lazy for arms far below the
/// leader. See the [module documentation](self) for the argument that the
/// arg-max has exactly the distribution of drawing every arm.
#[derive(Debug, Clone, PartialEq)]
pub struct BetaArgmax {
    arms: Vec<ArmPosterior>,
    /// Lazy candidates of the current draw: (arm, Chernoff exponent).
    candidates: Vec<(usize, f64)>,
    /// Arms above the leader whose value has not been drawn: (arm, tail).
    pending: Vec<(usize, f64)>,
    /// Arms of the current draw drawn exactly besides the leader, in order.
    exact_arms: Vec<usize>,
    /// The arm with the largest posterior mean (ties to the lowest index),
    /// kept up to date by every change of the counts.
    leader: usize,
    lazy: bool,
    /// Chernoff exponent from which an arm is resolved lazily.
    min_exponent: f64,
    counts: LazyDrawCounts,
}

impl BetaArgmax {
    /// `k` arms with uniform Beta(1, 1) priors; `lazy = false` draws every
    /// arm (the textbook sampler, kept for comparison).
    pub fn new(k: usize, lazy: bool) -> Self {
        BetaArgmax {
            arms: vec![ArmPosterior::prior(); k],
            candidates: Vec::with_capacity(k),
            pending: Vec::new(),
            exact_arms: Vec::with_capacity(k),
            leader: 0,
            lazy,
            min_exponent: LAZY_MIN_EXPONENT,
            counts: LazyDrawCounts::default(),
        }
    }

    /// Whether far arms are resolved lazily.
    pub fn is_lazy(&self) -> bool {
        self.lazy
    }

    /// Number of arms.
    pub fn n_arms(&self) -> usize {
        self.arms.len()
    }

    /// Back to the uniform prior on every arm; clears the counts.
    pub fn reset(&mut self) {
        self.arms.fill(ArmPosterior::prior());
        self.leader = 0;
        self.counts = LazyDrawCounts::default();
    }

    /// Sets arm `arm`'s posterior to Beta(1 + `successes`, 1 + `failures`)
    /// (ignored for an out-of-range arm).
    pub fn set_counts(&mut self, arm: usize, successes: u64, failures: u64) {
        if let Some(slot) = self.arms.get_mut(arm) {
            let before = slot.mean;
            slot.set(successes, failures);
            self.mean_changed(arm, before);
        }
    }

    /// Adds one binary outcome to arm `arm`'s posterior (ignored for an
    /// out-of-range arm).
    pub fn record(&mut self, arm: usize, success: bool) {
        if let Some(slot) = self.arms.get_mut(arm) {
            let before = slot.mean;
            if success {
                slot.add_success();
            } else {
                slot.add_failure();
            }
            self.mean_changed(arm, before);
        }
    }

    /// Keeps `leader` the arg-max of the means (`argmax_by`: ties to the
    /// lowest index) after arm `arm`'s mean changed from `before`: only a
    /// leader whose mean fell needs a scan.
    #[inline]
    fn mean_changed(&mut self, arm: usize, before: f64) {
        let mean = self.arms[arm].mean;
        if arm == self.leader {
            if mean < before {
                self.leader = crate::math::argmax_by(self.arms.len(), |i| self.arms[i].mean);
            }
        } else {
            let top = self.arms[self.leader].mean;
            if mean > top || (mean == top && arm < self.leader) {
                self.leader = arm;
            }
        }
    }

    /// How arms were resolved since the last reset.
    pub fn counts(&self) -> LazyDrawCounts {
        self.counts
    }

    /// The arm with the largest posterior draw (ties to the lowest index
    /// among exactly drawn values; ties have probability zero).
    ///
    /// Pass 1 sorts the arms other than the leader into lazy candidates
    /// and arms drawn exactly, by their Chernoff exponents at the leader's
    /// value `m`. Those need `ln m` and `ln(1 - m)`, so each arm first
    /// tries its [`Tangent`] bounds, which decide the same way without a
    /// logarithm whenever the exponent is not within rounding distance of
    /// the threshold; only otherwise (and after an arm's update, before it
    /// has a tangent) the exponents are computed exactly, which refreshes
    /// the tangents at this `m`. Pass 2 likewise first checks whether the
    /// first geometric gap certainly skips every candidate, from the lower
    /// bound of the smallest exponent; only if not are the exponents
    /// computed. The decisions, and so the random numbers drawn and the
    /// arm returned, are exactly those of computing every exponent.
    pub fn draw_argmax<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        if !self.lazy {
            return self.draw_all(rng);
        }
        let leader = self.leader;
        debug_assert_eq!(
            leader,
            crate::math::argmax_by(self.arms.len(), |i| self.arms[i].mean)
        );
        let m = self.arms[leader].draw(rng);
        self.counts.exact += 1;
        self.pending.clear();
        // Pass 1: arms whose Chernoff bound is strong become lazy
        // candidates; the others are drawn exactly, in index order.
        let screened = self.screen_arms(leader, m);
        let (j, min_exponent) = match screened {
            Some(found) => found,
            None => self.classify_exact(leader, m),
        };
        let mut best = (leader, m);
        for idx in 0..self.exact_arms.len() {
            let i = self.exact_arms[idx];
            let x = self.arms[i].draw(rng);
            self.counts.exact += 1;
            if x > best.1 {
                best = (i, x);
            }
        }
        // Pass 2: each candidate must enter the exact-tail branch with
        // probability tau_i = exp(-exponent_i), independently. Propose every
        // candidate independently with one probability pi >= max tau_i and
        // thin each proposal to tau_i: the proposals are a Bernoulli(pi)
        // process, so the gap to the next one is geometric and one Exp(1)
        // draw skips it (P(floor(E / lambda) = j) = (1 - pi)^j pi with
        // pi = 1 - exp(-lambda)). `bound` >= exp(-c) >= tau_max (the Taylor
        // polynomial of exp(c) is below exp(c) for c >= 0, and saves an
        // exp per round), and lambda = bound / (1 - bound) >=
        // -ln(1 - bound) makes pi >= bound.
        self.counts.ruled_out += j as u64;
        if j > 0 {
            let first: f64 = Exp1.sample(rng);
            // lambda = (1 + 1e-12) / P(c) with P(c) = c (1 + c (1/2 + c
            // (1/6 + c/24))) increasing, so the first gap `first / lambda`
            // skips all `j` candidates when `first P(c_lower) >= j` with
            // room for the rounding of both sides (c >= c_lower > 0).
            let certain_stop = screened.is_some() && {
                let c = min_exponent;
                let p = c * (1.0 + c * (0.5 + c * (1.0 / 6.0 + c * (1.0 / 24.0))));
                first * p >= j as f64 * (1.0 + 1e-9)
            };
            if !certain_stop {
                let c = if screened.is_some() {
                    // The screening decided like the exact pass, so the
                    // candidates are the same; they need their exponents.
                    self.candidate_exponents(m)
                } else {
                    min_exponent
                };
                self.pass2(m, c, first, rng);
            }
        }
        match self.pending.as_slice() {
            [] => best.0,
            // One arm above m and no exactly drawn arm above m: it wins
            // whatever its value.
            [(i, _)] if best.0 == leader => *i,
            _ => {
                for &(i, tail) in &self.pending {
                    let x = self.arms[i].draw_above(m, tail, rng);
                    self.counts.conditional_draws += 1;
                    if x > best.1 || (x == best.1 && i < best.0) {
                        best = (i, x);
                    }
                }
                best.0
            }
        }
    }

    /// Pass 1 from the tangents alone: fills `exact_arms`, and
    /// `candidates` with (arm, lower bound of its exponent), and returns the
    /// number of lazy candidates and a lower bound of their smallest
    /// exponent, or `None` when some arm cannot be decided that way.
    #[inline]
    fn screen_arms(&mut self, leader: usize, m: f64) -> Option<(usize, f64)> {
        // Disjoint borrows, so the loop keeps its state in registers.
        let (arms, candidates, exact_arms) =
            (&self.arms, &mut self.candidates, &mut self.exact_arms);
        let min_exponent = self.min_exponent;
        exact_arms.clear();
        candidates.clear();
        let mut min_lower = f64::INFINITY;
        for (i, arm) in arms.iter().enumerate() {
            if i == leader {
                continue;
            }
            if arm.k < arm.n * m {
                match arm.screen(m, min_exponent) {
                    Screened::Lazy(lower) => {
                        candidates.push((i, lower));
                        // `lower` is not NaN (it passed `>=`).
                        if lower < min_lower {
                            min_lower = lower;
                        }
                        continue;
                    }
                    Screened::Exact => {}
                    Screened::Unknown => return None,
                }
            }
            exact_arms.push(i);
        }
        Some((candidates.len(), min_lower))
    }

    /// Replaces the screened candidates' bounds by their exponents, as
    /// [`BetaArgmax::classify_exact`] computes them, and returns the
    /// smallest (pass 2 needs them when the first gap may not skip every
    /// candidate).
    fn candidate_exponents(&mut self, m: f64) -> f64 {
        self.counts.exact_passes += 1;
        let (ln_m, ln_1m) = (m.ln(), (-m).ln_1p());
        let mut min_exponent = f64::INFINITY;
        for (i, exponent) in self.candidates.iter_mut() {
            let arm = &mut self.arms[*i];
            let (entropy, tail_cost) = arm.lazy_constants();
            *exponent = entropy - arm.k * ln_m - (arm.n - arm.k) * ln_1m - EXPONENT_SLACK;
            debug_assert!(*exponent >= self.min_exponent + tail_cost);
            min_exponent = min_exponent.min(*exponent);
        }
        min_exponent
    }

    /// Pass 1 with the exact exponents: fills `candidates` (arm, exponent)
    /// and `exact_arms`, refreshes the tangents at `m` and returns the
    /// number of candidates and their smallest exponent.
    fn classify_exact(&mut self, leader: usize, m: f64) -> (usize, f64) {
        self.counts.exact_passes += 1;
        let (ln_m, ln_1m) = (m.ln(), (-m).ln_1p());
        let radius = 0.5 * m.min(1.0 - m);
        self.candidates.clear();
        self.exact_arms.clear();
        let mut min_exponent = f64::INFINITY;
        for (i, arm) in self.arms.iter_mut().enumerate() {
            if i == leader {
                continue;
            }
            if arm.k < arm.n * m {
                // n kl(k/n, m); infinite when m = 1 (nothing can exceed it).
                let (entropy, tail_cost) = arm.lazy_constants();
                let exponent = entropy - arm.k * ln_m - (arm.n - arm.k) * ln_1m - EXPONENT_SLACK;
                let slope = (arm.n * m - arm.k) / (m * (1.0 - m));
                let scale = entropy.abs()
                    + arm.k * (ln_m.abs() + 1.0)
                    + (arm.n - arm.k) * (ln_1m.abs() + 1.0)
                    + slope.abs()
                    + 1.0;
                if scale.is_finite() && exponent.is_finite() && radius > 0.0 {
                    arm.tangent = Some(Tangent {
                        m0: m,
                        e0: exponent,
                        slope,
                        margin: 1e-10 * scale,
                        tail_cost,
                        radius,
                    });
                }
                // Lazy only if the expected exact-tail work, about
                // exp(-c) sqrt(n q (1-q)) terms, stays below a draw's cost:
                // an arm with millions of pulls close to the leader would
                // otherwise spend microseconds per round in the tail sum.
                if exponent >= self.min_exponent + tail_cost {
                    self.candidates.push((i, exponent));
                    min_exponent = min_exponent.min(exponent);
                    continue;
                }
            }
            self.exact_arms.push(i);
        }
        (self.candidates.len(), min_exponent)
    }

    /// Pass 2 over `candidates` (smallest exponent `c`), whose first
    /// exponential gap draw `first` was made: fills `pending` with the
    /// candidates above the leader's value `m`.
    fn pass2<R: Rng + ?Sized>(&mut self, m: f64, c: f64, first: f64, rng: &mut R) {
        let j = self.candidates.len();
        let bound = 1.0 / (1.0 + c * (1.0 + c * (0.5 + c * (1.0 / 6.0 + c / 24.0))));
        let lambda = bound / (1.0 - bound) * (1.0 + 1e-12);
        let mut first = Some(first);
        let mut pos = 0usize;
        loop {
            let e: f64 = match first.take() {
                Some(e) => e,
                None => Exp1.sample(rng),
            };
            // `e / lambda >= 0`: comparing it with the integer
            // `j - pos` is comparing its floor, and the cast truncates,
            // which is the floor (no libm call on baseline x86-64,
            // which has no rounding instruction).
            let gap = e / lambda;
            if gap >= (j - pos) as f64 {
                break;
            }
            pos += gap as usize;
            let (i, exponent) = self.candidates[pos];
            pos += 1;
            // One uniform serves both thinnings: v < tau with
            // probability tau / pi, and given that, v is uniform on
            // [0, tau), so v < tail with probability tail / tau.
            let pi = -(-lambda).exp_m1();
            let v = rng.random::<f64>() * pi;
            let tau = (-exponent).exp();
            if v >= tau {
                continue;
            }
            self.counts.ruled_out -= 1;
            self.counts.tail_checks += 1;
            let tail = self.arms[i].upper_tail(m);
            debug_assert!(tail <= tau * (1.0 + 1e-9), "tail {tail} above bound {tau}");
            if v < tail {
                self.counts.above_leader += 1;
                self.pending.push((i, tail));
            }
        }
    }

    /// Draws every arm exactly and returns the arg-max.
    fn draw_all<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        let mut best = (0, f64::NEG_INFINITY);
        for (i, arm) in self.arms.iter().enumerate() {
            let x = arm.draw(rng);
            if x > best.1 {
                best = (i, x);
            }
        }
        self.counts.exact += self.arms.len() as u64;
        best.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    /// `P(Bin(n, x) <= k)` by direct summation of exactly built terms
    /// (small `n` only).
    fn brute_lower_tail(k: u64, n: u64, x: f64) -> f64 {
        let mut total = 0.0;
        for j in 0..=k {
            let mut c = 1.0;
            for i in 0..j {
                c = c * (n - i) as f64 / (i + 1) as f64;
            }
            total += c * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32);
        }
        total
    }

    #[test]
    fn lower_tail_matches_direct_summation() {
        for n in 1..=40u64 {
            for k in 0..n {
                for x in [0.05, 0.3, 0.5, 0.77, 0.99] {
                    if (k as f64) > n as f64 * x {
                        assert!(binomial_lower_tail(k, n, x).is_none());
                        continue;
                    }
                    let got = binomial_lower_tail(k, n, x).unwrap();
                    let want = brute_lower_tail(k, n, x);
                    assert!(
                        (got - want).abs() <= 1e-12 * want.max(1e-300) + 1e-300,
                        "n {n} k {k} x {x}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn stirling_error_is_continuous_at_the_switch() {
        // The series and the summation agree around n = 15 / 16.
        let series = |n: f64| {
            let nn = n * n;
            (1.0 / 12.0
                - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / 1188.0 / nn) / nn) / nn)
                    / nn)
                / n
        };
        for n in [10.0, 12.0, 15.0] {
            assert!((stirling_error(n) - series(n)).abs() < 1e-12, "n {n}");
        }
        assert!((stirling_error(1.0) - 0.081_061_466_795_327_26).abs() < 1e-15);
    }

    /// Arg-max frequencies of `draws` Thompson draws.
    fn frequencies(sampler: &mut BetaArgmax, draws: usize, seed: u64) -> Vec<f64> {
        let mut rng = Seeder::new(seed).rng(0);
        let mut counts = vec![0.0; sampler.n_arms()];
        for _ in 0..draws {
            counts[sampler.draw_argmax(&mut rng)] += 1.0;
        }
        counts
    }

    #[test]
    fn lazy_argmax_matches_eager_sampling() {
        // (successes, failures) per arm. The first has one clear leader and
        // far arms (mostly ruled out); the second has several arms that
        // often exceed the leader's draw together (conditional draws); the
        // third mixes fresh and well-explored arms.
        let configs: [&[(u64, u64)]; 3] = [
            &[(900, 100), (850, 150), (80, 20), (30, 70), (5, 40), (0, 3)],
            &[(19, 9), (11, 7), (11, 7), (11, 7), (10, 8)],
            &[(0, 0), (400, 100), (390, 110), (1, 0), (60, 40)],
        ];
        let draws = 100_000;
        let mut totals = LazyDrawCounts::default();
        for (c, config) in configs.iter().enumerate() {
            let mut lazy = BetaArgmax::new(config.len(), true);
            // A low threshold sends many arms through the tail and
            // conditional-draw branches, which the default would rarely do.
            lazy.min_exponent = 0.5;
            let mut eager = BetaArgmax::new(config.len(), false);
            for (i, &(s, f)) in config.iter().enumerate() {
                lazy.set_counts(i, s, f);
                eager.set_counts(i, s, f);
            }
            let a = frequencies(&mut lazy, draws, 100 + c as u64);
            let b = frequencies(&mut eager, draws, 200 + c as u64);
            // Two-sample chi-square on the cells either sampler visited.
            let mut chi2 = 0.0;
            let mut cells = 0;
            for (x, y) in a.iter().zip(&b) {
                if x + y > 0.0 {
                    chi2 += (x - y) * (x - y) / (x + y);
                    cells += 1;
                }
            }
            // 99.99th percentile of chi-square with up to 5 degrees of
            // freedom is below 25.8; the seeds are fixed, so this is a
            // deterministic check of a 1e-4 test.
            assert!(
                chi2 < 25.8,
                "config {c}: chi2 {chi2} over {cells} cells, lazy {a:?} eager {b:?}"
            );
            let n = lazy.counts();
            totals.ruled_out += n.ruled_out;
            totals.tail_checks += n.tail_checks;
            totals.above_leader += n.above_leader;
            totals.conditional_draws += n.conditional_draws;
        }
        // Every branch of the lazy sampler was exercised.
        assert!(totals.ruled_out > 0, "{totals:?}");
        assert!(totals.tail_checks > 0, "{totals:?}");
        assert!(totals.above_leader > 0, "{totals:?}");
        assert!(totals.conditional_draws > 0, "{totals:?}");
    }

    /// The lazy arg-max as it was before the tangent screening: every
    /// exponent computed with `ln m` and `ln(1 - m)` each draw, the exact
    /// draws interleaved with the classification.
    fn reference_draw_argmax<R: Rng + ?Sized>(s: &mut BetaArgmax, rng: &mut R) -> usize {
        let leader = crate::math::argmax_by(s.arms.len(), |i| s.arms[i].mean);
        let m = s.arms[leader].draw(rng);
        let (ln_m, ln_1m) = (m.ln(), (-m).ln_1p());
        let mut best = (leader, m);
        let mut candidates = Vec::new();
        let mut pending = Vec::new();
        let mut min_exponent = f64::INFINITY;
        for (i, arm) in s.arms.iter_mut().enumerate() {
            if i == leader {
                continue;
            }
            if arm.k < arm.n * m {
                let (entropy, tail_cost) = arm.lazy_constants();
                let exponent = entropy - arm.k * ln_m - (arm.n - arm.k) * ln_1m - EXPONENT_SLACK;
                if exponent >= s.min_exponent + tail_cost {
                    candidates.push((i, exponent));
                    min_exponent = min_exponent.min(exponent);
                    continue;
                }
            }
            let x = arm.draw(rng);
            if x > best.1 {
                best = (i, x);
            }
        }
        let j = candidates.len();
        if j > 0 {
            let c = min_exponent;
            let bound = 1.0 / (1.0 + c * (1.0 + c * (0.5 + c * (1.0 / 6.0 + c / 24.0))));
            let lambda = bound / (1.0 - bound) * (1.0 + 1e-12);
            let mut pos = 0usize;
            loop {
                let e: f64 = Exp1.sample(rng);
                let gap = e / lambda;
                if gap >= (j - pos) as f64 {
                    break;
                }
                pos += gap as usize;
                let (i, exponent) = candidates[pos];
                pos += 1;
                let pi = -(-lambda).exp_m1();
                let v = rng.random::<f64>() * pi;
                let tau = (-exponent).exp();
                if v >= tau {
                    continue;
                }
                let tail = s.arms[i].upper_tail(m);
                if v < tail {
                    pending.push((i, tail));
                }
            }
        }
        match pending.as_slice() {
            [] => best.0,
            [(i, _)] if best.0 == leader => *i,
            _ => {
                for &(i, tail) in &pending {
                    let x = s.arms[i].draw_above(m, tail, rng);
                    if x > best.1 || (x == best.1 && i < best.0) {
                        best = (i, x);
                    }
                }
                best.0
            }
        }
    }

    #[test]
    fn tangent_screening_reproduces_the_exact_classification() {
        // Thompson sampling runs on Bernoulli arms with both samplers fed
        // the same outcomes; the screened sampler must return the same arm
        // and leave its generator in the same state every round (the same
        // random numbers drawn). The low threshold exercises every branch.
        use duality_core::seed::SplitMix64;
        use rand::RngCore;
        for (c, (means, min_exponent, rounds)) in [
            (
                &[0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1][..],
                LAZY_MIN_EXPONENT,
                60_000,
            ),
            (&[0.5, 0.52, 0.48, 0.51][..], 0.5, 30_000),
            (&[0.02, 0.01, 0.03, 0.99, 0.98][..], 1.0, 30_000),
        ]
        .into_iter()
        .enumerate()
        {
            let mut screened = BetaArgmax::new(means.len(), true);
            screened.min_exponent = min_exponent;
            let mut reference = screened.clone();
            let mut rng_a = SplitMix64::new(17 + c as u64);
            let mut rng_b = rng_a;
            let mut outcomes = SplitMix64::new(99 + c as u64);
            for t in 0..rounds {
                let a = screened.draw_argmax(&mut rng_a);
                let b = reference_draw_argmax(&mut reference, &mut rng_b);
                assert_eq!(a, b, "config {c} round {t}");
                assert_eq!(rng_a, rng_b, "config {c} round {t}: different draws");
                let success = outcomes.random::<f64>() < means[a];
                screened.record(a, success);
                reference.record(a, success);
            }
            assert_eq!(rng_a.next_u64(), rng_b.next_u64());
            // The screening did most of the work.
            assert!(screened.counts().ruled_out > 0, "{:?}", screened.counts());
        }
    }

    #[test]
    fn conditional_draw_lies_above_the_threshold_with_the_right_tail() {
        // Beta(3, 8) given X > 0.45: P(X > 0.55 | X > 0.45) from the exact
        // tails, against the empirical frequency.
        let mut arm = ArmPosterior::prior();
        arm.set(2, 7);
        let (m, x) = (0.45, 0.55);
        let (tail_m, tail_x) = (arm.upper_tail(m), arm.upper_tail(x));
        let mut rng = Seeder::new(5).rng(0);
        let n = 20_000;
        let mut above = 0.0;
        for _ in 0..n {
            let v = arm.draw_above(m, tail_m, &mut rng);
            assert!(v > m && v < 1.0);
            if v > x {
                above += 1.0;
            }
        }
        let p = tail_x / tail_m;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (above / n as f64 - p).abs() < 5.0 * se,
            "{} vs {p}",
            above / n as f64
        );
    }
}

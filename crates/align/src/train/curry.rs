//! Curry-DPO (Pattnaik et al. 2024, "Curry-DPO: Enhancing Alignment using
//! Curriculum Learning & Ranked Preferences", Sec. 3): from k ranked
//! responses per prompt build the pairs (best, j-th) for j = k..2, order them
//! from easy (largest score gap) to hard (smallest), train stage by stage,
//! and after each stage make the current policy the new reference
//! ("iterative" variant, reference refresh per stage).

use duality_core::config::Validate;
use duality_core::Result;
use serde::{Deserialize, Serialize};

use super::offline::{Offline, OfflineConfig};
use super::{TrainContext, TrainLog, Trainer};
use crate::testbed::{PreferencePair, RankedResponses};

/// Curry-DPO settings (the `[curry]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurryConfig {
    /// Per-stage offline training (its `epochs` are per stage).
    pub offline: OfflineConfig,
    /// Refresh the reference to the current policy after each stage.
    pub refresh_reference: bool,
    /// Train only the first `stages` stages (0: all). `stages = 1` with
    /// `epochs` times the number of stages is single-pair DPO on the same
    /// ranked data (best vs worst of the k responses), the like-for-like
    /// baseline.
    pub stages: usize,
    /// Train on every stage's pairs at once, shuffled together (no
    /// curriculum, one reference): DPO on all ranked pairs.
    pub merge_stages: bool,
}

impl Default for CurryConfig {
    fn default() -> Self {
        CurryConfig {
            offline: OfflineConfig::default(),
            refresh_reference: true,
            stages: 0,
            merge_stages: false,
        }
    }
}

impl Validate for CurryConfig {
    fn validate(&self) -> Result<()> {
        self.offline.validate()?;
        super::offline::refuse_reference_cache("curry", &self.offline)
    }
}

/// Curry-DPO (registry name `curry`) on the run's ranked responses
/// ([`TrainContext::ranked_responses`]) or given ones
/// ([`Curry::train_on`]). The context's reference is the initial
/// reference; with `refresh_reference` it is replaced by a frozen copy of
/// the policy after each stage. Log steps are global epochs; each entry
/// also carries `stage` and the stage's mean `gap`. Not observed.
#[derive(Debug, Clone)]
pub struct Curry {
    config: CurryConfig,
    stage: Offline,
}

impl Trainer for Curry {
    const NAME: &'static str = "curry";
    const ABOUT: &'static str =
        "Curry-DPO: ranked pairs easy -> hard, reference refreshed per stage (Pattnaik et al. 2024)";
    const OBSERVED: bool = false;
    type Config = CurryConfig;

    fn new(config: CurryConfig) -> Result<Self> {
        let stage = Offline::new(config.offline.clone())?;
        Ok(Curry { config, stage })
    }

    fn config(&self) -> &CurryConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let ranked = ctx.ranked_responses(Self::NAME)?;
        self.train_on(ctx, &ranked)
    }
}

impl Curry {
    /// Runs the curriculum of `ranked` on the context's policy.
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        ranked: &[RankedResponses],
    ) -> Result<TrainLog> {
        let mut stages = curriculum(ranked)?;
        if self.config.stages > 0 {
            stages.truncate(self.config.stages);
        }
        if self.config.merge_stages {
            stages = vec![stages.concat()];
        }
        let offline = &self.config.offline;
        let mut log = TrainLog::new(format!("curry-{}", offline.loss.kind));
        let mut current_ref = ctx.reference.frozen_copy()?;
        let seed = ctx.trainer_seed(offline.seed);
        let mut epoch0 = 0;
        for (s, pairs) in stages.iter().enumerate() {
            let stage_seed = seed.wrapping_add(s as u64);
            let stage_log =
                self.stage
                    .fit(ctx.policy, &current_ref, pairs, &[], stage_seed, &mut None)?;
            let gap = pairs.iter().map(|p| p.gap).sum::<f64>() / pairs.len() as f64;
            for mut e in stage_log.entries {
                e.step += epoch0;
                e.metrics.insert("stage".into(), s as f64);
                e.metrics.insert("gap".into(), gap);
                log.entries.push(e);
            }
            epoch0 += offline.epochs;
            if self.config.refresh_reference {
                current_ref = ctx.policy.frozen_copy()?;
            }
        }
        Ok(log)
    }
}

/// The curriculum: stage s (0-based) holds, for every prompt, the pair
/// (best, response ranked k-s), i.e. score gaps shrink stage by stage.
/// Stage 0 is single-pair DPO's (best, worst) data.
pub fn curriculum(ranked: &[RankedResponses]) -> Result<Vec<Vec<PreferencePair>>> {
    duality_core::check::non_empty("ranked responses", ranked)?;
    let k = ranked.iter().map(|r| r.responses.len()).min().unwrap_or(0);
    duality_core::check::at_least("responses per prompt", k, 2)?;
    Ok((0..k - 1)
        .map(|s| {
            ranked
                .iter()
                .map(|r| {
                    let j = r.responses.len() - 1 - s;
                    PreferencePair {
                        prompt: r.prompt.clone(),
                        chosen: r.responses[0].clone(),
                        rejected: r.responses[j].clone(),
                        gap: r.scores[0] - r.scores[j],
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curriculum_goes_from_easy_to_hard() {
        let r = RankedResponses {
            prompt: vec![0],
            responses: vec![vec![1], vec![2], vec![3], vec![4]],
            scores: vec![3.0, 2.0, 1.0, 0.0],
        };
        let c = curriculum(&[r]).unwrap();
        assert_eq!(c.len(), 3);
        let gaps: Vec<f64> = c.iter().map(|s| s[0].gap).collect();
        assert_eq!(gaps, vec![3.0, 2.0, 1.0]);
        assert_eq!(c[0][0].rejected, vec![4]);
        assert!(curriculum(&[]).is_err());
    }
}

//! Running statistics, for normalizing what the networks see: observations, and rewards
//! through the spread of the discounted return (the Variants part of the book).
//!
//! A network learns fastest from inputs of mean 0 and spread 1, and PPO's critic from returns
//! of a modest size. Neither is known before training, so both are estimated as training
//! goes: [`RunningStats`] keeps the mean and variance of everything it has seen, merging each
//! new batch in one step by the parallel-variance formula (Chan, Golub and LeVeque, 1979),
//! exactly as Gymnasium's `RunningMeanStd` does. The trainer normalizes observations with it
//! ([`RunningStats::normalize`]: Gymnasium's `NormalizeObservation`, clipped to ±10 as
//! Stable-Baselines3's `VecNormalize` clips), and divides rewards by the running standard
//! deviation of their discounted sum ([`RewardScaler`], Gymnasium's `NormalizeReward`).
//! Evaluation uses the statistics training ended with, frozen; checkpoints store them.

/// Normalized values are clipped to `±CLIP` (Gymnasium's and Stable-Baselines3's choice): one
/// outlandish observation cannot push a unit of the first layer far out of its range.
pub const CLIP: f32 = 10.0;
/// Added to the variance before its root: a component that never varies (σ² = 0) is divided
/// by 1e-4, not by 0.
pub const EPSILON: f64 = 1e-8;

// ANCHOR: running_stats
/// The mean and variance, per component, of every vector seen so far.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningStats {
    /// Per-component mean.
    pub mean: Vec<f64>,
    /// Per-component variance (population: divided by the count).
    pub var: Vec<f64>,
    /// How many vectors have been merged, starting from a tiny prior weight so that the first
    /// batch is divided by nothing smaller.
    pub count: f64,
}

impl RunningStats {
    /// Statistics of `dims`-component vectors before any is seen: mean 0 and variance 1, with
    /// the weight of 1e-4 of a vector (Gymnasium's `RunningMeanStd(epsilon=1e-4)`).
    pub fn new(dims: usize) -> RunningStats {
        RunningStats { mean: vec![0.0; dims], var: vec![1.0; dims], count: 1e-4 }
    }

    /// Components per vector.
    pub fn dims(&self) -> usize {
        self.mean.len()
    }
    // ANCHOR_END: running_stats

    // ANCHOR: running_stats_update

    /// Merges a batch of vectors, `batch` holding them one after another. With `n` new
    /// vectors of mean `m_b` and variance `v_b`, and `δ = m_b − m`:
    ///
    /// ```text
    /// m ← m + δ·n/(N + n)
    /// v ← (v·N + v_b·n + δ²·N·n/(N + n)) / (N + n)
    /// N ← N + n
    /// ```
    ///
    /// # Panics
    /// If `batch` does not hold whole vectors.
    pub fn update(&mut self, batch: &[f32]) {
        let dims = self.dims();
        assert!(
            dims > 0 && batch.len().is_multiple_of(dims),
            "running statistics of {dims}-vectors given {} values",
            batch.len()
        );
        let n = (batch.len() / dims) as f64;
        if n == 0.0 {
            return;
        }
        for d in 0..dims {
            let column = || batch.iter().skip(d).step_by(dims).map(|&x| f64::from(x));
            let batch_mean = column().sum::<f64>() / n;
            let batch_var = column().map(|x| (x - batch_mean).powi(2)).sum::<f64>() / n;
            self.merge_component(d, batch_mean, batch_var, n);
        }
        self.count += n;
    }

    /// Merges one scalar value (of a one-component statistic), kept in `f64`.
    ///
    /// # Panics
    /// If the statistics are not of one component.
    pub fn update_one(&mut self, value: f64) {
        assert_eq!(self.dims(), 1, "update_one takes a one-component statistic");
        self.merge_component(0, value, 0.0, 1.0);
        self.count += 1.0;
    }

    /// The formula above for component `d`, from a batch's moments (the count is updated by
    /// the caller, once for all components).
    fn merge_component(&mut self, d: usize, batch_mean: f64, batch_var: f64, n: f64) {
        let total = self.count + n;
        let delta = batch_mean - self.mean[d];
        self.mean[d] += delta * n / total;
        let m2 = self.var[d] * self.count + batch_var * n + delta * delta * self.count * n / total;
        self.var[d] = m2 / total;
    }
    // ANCHOR_END: running_stats_update

    // ANCHOR: running_stats_normalize

    /// `clip((x − mean)/√(var + ε), ±10)` of every component of every vector in `values`,
    /// in place.
    ///
    /// # Panics
    /// If `values` does not hold whole vectors.
    pub fn normalize(&self, values: &mut [f32]) {
        let dims = self.dims();
        assert!(
            dims > 0 && values.len().is_multiple_of(dims),
            "running statistics of {dims}-vectors given {} values",
            values.len()
        );
        for row in values.chunks_exact_mut(dims) {
            for ((x, &mean), &var) in row.iter_mut().zip(&self.mean).zip(&self.var) {
                let z = (f64::from(*x) - mean) / (var + EPSILON).sqrt();
                *x = (z as f32).clamp(-CLIP, CLIP);
            }
        }
    }
}
// ANCHOR_END: running_stats_normalize

// ANCHOR: reward_scaler
/// Rewards divided by the running standard deviation of the discounted return, as
/// Gymnasium's `NormalizeReward` does: each environment keeps `G ← γ·G·(1 − terminated) + r`
/// (the flag of the step itself: a terminating step's return is its reward alone, a quirk
/// Gymnasium keeps for compatibility), the statistics take in every `G`, and the learner sees
/// `r/√(var(G) + ε)`, clipped to ±10 as Stable-Baselines3's `VecNormalize` clips.
/// The return's scale, not the reward's, is what the critic has to fit, and dividing by it
/// leaves the rewards' sign and relative sizes alone (it does not subtract a mean, which
/// would change which outcomes are good).
#[derive(Clone, Debug, PartialEq)]
pub struct RewardScaler {
    gamma: f64,
    returns: Vec<f64>,
    /// The statistics of the discounted returns seen so far.
    pub stats: RunningStats,
}

impl RewardScaler {
    /// A scaler for `envs` environments and the discount `gamma`.
    pub fn new(envs: usize, gamma: f32) -> RewardScaler {
        RewardScaler {
            gamma: f64::from(gamma),
            returns: vec![0.0; envs],
            stats: RunningStats::new(1),
        }
    }

    /// Scales one step's rewards (one per environment) in place, after merging the
    /// discounted returns they extend into the statistics, environment by environment. A
    /// truncation does not reset the return (Gymnasium's wrapper sees only `terminated`).
    ///
    /// # Panics
    /// If `rewards` or `terminated` does not hold one value per environment.
    pub fn scale(&mut self, rewards: &mut [f32], terminated: &[bool]) {
        assert!(
            rewards.len() == self.returns.len() && terminated.len() == self.returns.len(),
            "reward scaling of {} environments given {} rewards and {} flags",
            self.returns.len(),
            rewards.len(),
            terminated.len()
        );
        for ((g, &r), &done) in self.returns.iter_mut().zip(rewards.iter()).zip(terminated) {
            let carried = if done { 0.0 } else { self.gamma };
            *g = *g * carried + f64::from(r);
            self.stats.update_one(*g);
        }
        let scale = (self.stats.var[0] + EPSILON).sqrt();
        for r in rewards.iter_mut() {
            *r = ((f64::from(*r) / scale) as f32).clamp(-CLIP, CLIP);
        }
    }
}
// ANCHOR_END: reward_scaler

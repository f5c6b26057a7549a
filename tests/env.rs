//! The environment boundary: a vector of environments that ignores time limits, as code that
//! reads only `terminated` does, and the trainer asking for it.

use ppo::gae::TimeLimit;
use ppo::ppo::{Config, Trainer};
use ppo::{ActionSpace, Env, Episode, Pendulum, Step, VecEnv};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::Cell;
use std::rc::Rc;

#[test]
fn with_time_limits_ignored_a_pendulum_runs_on_past_200_steps() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut venv = VecEnv::new(vec![Pendulum::new(); 2]);
    venv.ignore_time_limits();
    let first = venv.reset(&mut rng).to_vec();
    // The oracle: two lone pendulums from the same starts, stepped 450 times with no reset.
    let mut lone = [Pendulum::new(), Pendulum::new()];
    let mut replay = StdRng::seed_from_u64(3);
    for env in &mut lone {
        env.reset(&mut replay);
    }
    assert_eq!(first, [lone[0].observation(), lone[1].observation()].concat());
    let mut stretch = [0.0f64; 2];
    for t in 1..=450 {
        let torque = [0.5 * ((t % 7) as f32 - 3.0), -1.0];
        venv.step(&torque, &mut rng);
        let steps: Vec<Step> = lone.iter_mut().zip(torque).map(|(e, u)| e.step(&[u])).collect();
        let expected: Vec<f32> = steps.iter().flat_map(|s| s.obs).collect();
        assert_eq!(venv.observations(), expected, "step {t}: no reset, ever");
        assert_eq!(venv.truncated(), [false, false], "step {t}");
        assert!(steps[0].truncated == (t >= 200), "the pendulum itself still raises it");
        for (sum, s) in stretch.iter_mut().zip(&steps) {
            *sum += s.reward;
        }
        let logged: Vec<Episode> = venv.drain_episodes().collect();
        if t % 200 == 0 {
            // The log is cut into stretches as long as the time limit.
            let expected = stretch.map(|total| Episode { total_reward: total, length: 200 });
            assert_eq!(logged, expected, "step {t}");
            stretch = [0.0; 2];
        } else {
            assert!(logged.is_empty(), "step {t}: {logged:?}");
        }
    }
}

/// A pendulum that counts its resets.
#[derive(Clone)]
struct Counted {
    pendulum: Pendulum,
    resets: Rc<Cell<usize>>,
}

impl Env for Counted {
    type Obs = [f32; 3];
    type Action = [f32; 1];
    fn obs_size(&self) -> usize {
        3
    }
    fn action_space(&self) -> ActionSpace<'_> {
        self.pendulum.action_space()
    }
    fn reset(&mut self, rng: &mut dyn rand::Rng) -> [f32; 3] {
        self.resets.set(self.resets.get() + 1);
        self.pendulum.reset(rng)
    }
    fn step(&mut self, action: [f32; 1]) -> Step {
        self.pendulum.step(&action)
    }
}

#[test]
fn the_trainer_resets_at_the_time_limit_unless_it_is_ignored() {
    for (time_limit, resets, episodes) in [
        (TimeLimit::Bootstrap, 1 + 2, Some(200.0)),
        (TimeLimit::AsTerminal, 1 + 2, Some(200.0)),
        (TimeLimit::Ignore, 1, Some(200.0)),
    ] {
        let config = Config {
            total_timesteps: 500,
            num_envs: 1,
            rollout_steps: 500,
            minibatch_size: 100,
            epochs: 1,
            time_limit,
            ..Config::default()
        };
        let resets_seen = Rc::new(Cell::new(0));
        let env = Counted { pendulum: Pendulum::new(), resets: resets_seen.clone() };
        let mut trainer = Trainer::new(config, vec![env]);
        let stats = trainer.iterate().expect("a short run");
        assert_eq!(resets_seen.get(), resets, "{time_limit:?}");
        assert_eq!(stats.episode_length, episodes, "{time_limit:?}: two 200-step episodes");
    }
}

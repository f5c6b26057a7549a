//! What loading a checkpoint would cost if it built its networks with `Actor::new` and
//! `Critic::new` (orthogonal initialization: a QR decomposition per layer, O(H³) for width H)
//! instead of `Actor::zeroed` and `Critic::zeroed`, as it did before commit `f8442ae`
//! (chapter 13, "Loading"). Ignored by default, since it takes a while at width 2048:
//!
//! ```text
//! cargo test --release --test init_cost -- --ignored --nocapture     # PPO_INIT_WIDTH=2048
//! ```

use ppo::init::Init;
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

#[test]
#[ignore = "slow: times the orthogonal initialization of two 2048-wide networks"]
fn orthogonal_against_zeroed_networks() {
    let width: usize =
        std::env::var("PPO_INIT_WIDTH").ok().and_then(|w| w.parse().ok()).unwrap_or(2048);
    let actor_config = ActorConfig {
        hidden: vec![width, width],
        init: Init::Orthogonal,
        ..ActorConfig::default()
    };
    let critic_config = CriticConfig {
        hidden: vec![width, width],
        init: Init::Orthogonal,
        ..CriticConfig::default()
    };
    let start = Instant::now();
    let actor = Actor::zeroed(&actor_config);
    let critic = Critic::zeroed(&critic_config);
    let zeroed = start.elapsed();
    let mut rng = StdRng::seed_from_u64(0);
    let start = Instant::now();
    let initialized = (Actor::new(&actor_config, &mut rng), Critic::new(&critic_config, &mut rng));
    let orthogonal = start.elapsed();
    assert_eq!(actor.parameter_names(), initialized.0.parameter_names());
    assert_eq!(critic.parameter_names(), initialized.1.parameter_names());
    println!(
        "width {width}: Actor::zeroed + Critic::zeroed {:.3} s, Actor::new + Critic::new \
         (orthogonal) {:.1} s",
        zeroed.as_secs_f64(),
        orthogonal.as_secs_f64()
    );
}

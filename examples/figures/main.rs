//! Regenerates the book's pictures (everything in `book/src/figures/` that is not a learning
//! curve of chapter 11, which `examples/results.rs` draws):
//!
//! ```text
//! cargo run --release --example figures
//! ```
//!
//! - `tape.svg` (chapter 2): a real tape, node by node, with forward values and gradients;
//! - `unbounded-ratio.svg` (chapter 7): the Normals of the "unbounded ratio" example and their
//!   probability ratios;
//! - `gae-timeline.svg` (chapter 8): where GAE bootstraps and where it cuts, across an episode
//!   end, truncated and terminated;
//! - `four-phase-loop.svg` (chapter 10): the phases of an iteration and the arrays between them;
//! - `pendulum-trained.svg` (chapters 6 and 11): an animation of the `default` preset's agent,
//!   seed 1, playing the first episode of its evaluation;
//! - `cartpole-hand-made.svg` (chapter 12): an animation of a two-line controller;
//! - `cartpole-trained.svg` (chapter 12): an animation of the CartPole `default` preset's
//!   agent, seed 1, playing the evaluation episode that starts with the pole leaning most.
//!
//! Everything is a pure function of the code: the trained agents come from seeded runs (a few
//! seconds each), and the figures are drawn by `ppo::plot`, `ppo::animation` and the small canvas
//! below.

mod canvas;
mod four_phases;
mod tape;
mod timeline;

use ppo::checkpoint::write_atomic;
use ppo::pendulum::angle_normalize;
use ppo::plot::{LinePlot, Series, stack};
use ppo::ppo::{Config, Trainer, evaluation_seed};
use ppo::{ActionSpace, CartPole, Env, Pendulum, Step, animation};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::f64::consts::PI;
use std::path::Path;
use std::rc::Rc;

fn main() {
    let figures = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/figures");
    std::fs::create_dir_all(&figures).expect("create book/src/figures");
    let write = |name: &str, svg: String| {
        let path = figures.join(name);
        write_atomic(&path, svg.as_bytes()).unwrap_or_else(|e| {
            eprintln!("error: cannot write {}: {e}", path.display());
            std::process::exit(1)
        });
        println!("{:>8} bytes  {}", svg.len(), path.display());
    };
    write("tape.svg", tape::draw());
    write("unbounded-ratio.svg", unbounded_ratio());
    write("gae-timeline.svg", timeline::draw());
    let config = Config::default();
    write("four-phase-loop.svg", four_phases::draw(&config, 3, 1));
    write("pendulum-trained.svg", trained_pendulum(Config { seed: 1, ..config }));
    write("cartpole-hand-made.svg", hand_made_cartpole());
    write("cartpole-trained.svg", trained_cartpole(Config { seed: 1, ..Config::cartpole() }));
}

/// The density of N(μ, σ²) at `a`.
fn normal_density(a: f64, mu: f64, sigma: f64) -> f64 {
    (-0.5 * ((a - mu) / sigma).powi(2)).exp() / (sigma * (2.0 * PI).sqrt())
}

/// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)), closed form.
fn normal_kl((mu1, sigma1): (f64, f64), (mu2, sigma2): (f64, f64)) -> f64 {
    (sigma2 / sigma1).ln() + (sigma1 * sigma1 + (mu1 - mu2).powi(2)) / (2.0 * sigma2 * sigma2) - 0.5
}

/// `x` to three significant digits, as chapter 7 quotes the KL divergences: 1.31, 59.7.
fn three_digits(x: f64) -> String {
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Chapter 7's example: an old policy N(0, 1), an action a = 0.5 with a positive advantage, and
/// two new policies that make it likelier and likelier. Densities above, the ratio below.
fn unbounded_ratio() -> String {
    let old = (0.0, 1.0);
    let news = [((0.5, 0.5), "#dd8452"), ((0.5, 0.1), "#c44e52")];
    let action = 0.5;
    // 0.02 apart: ten points per σ of the narrowest Normal, enough to draw its peak smoothly.
    let grid: Vec<f64> = (0..=300).map(|i| -3.0 + 0.02 * i as f64).collect();
    let curve = |f: &dyn Fn(f64) -> f64| grid.iter().map(|&a| (a, f(a))).collect::<Vec<_>>();
    let name = |(mu, sigma): (f64, f64)| format!("N({mu}, {sigma}²)");
    let marker = |height: f64| Series {
        label: format!("the action a = {action}"),
        points: vec![(action, 0.0), (action, height)],
        color: "#999".into(),
    };

    let mut densities = vec![Series {
        label: format!("old policy {}", name(old)),
        points: curve(&|a| normal_density(a, old.0, old.1)),
        color: "#4c72b0".into(),
    }];
    let mut ratios = Vec::new();
    for (new, color) in news {
        densities.push(Series {
            label: format!(
                "new {}: KL from old {} nats",
                name(new),
                three_digits(normal_kl(old, new))
            ),
            points: curve(&|a| normal_density(a, new.0, new.1)),
            color: color.into(),
        });
        let ratio = |a: f64| normal_density(a, new.0, new.1) / normal_density(a, old.0, old.1);
        ratios.push(Series {
            label: format!("{} / {}: {:.2} at a = {action}", name(new), name(old), ratio(action)),
            points: curve(&ratio),
            color: color.into(),
        });
    }
    let peak = |series: &[Series]| {
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max)
    };
    // The action's marker goes first, so that the curves are drawn over it.
    densities.insert(0, marker(peak(&densities)));
    ratios.insert(0, marker(peak(&ratios)));
    let epsilon = 0.2;
    stack(&[
        LinePlot {
            title: "Making one good action likelier: the old policy and two new ones".into(),
            x_label: "action a".into(),
            y_label: "probability density".into(),
            series: densities,
            hlines: Vec::new(),
        },
        LinePlot {
            title: "The probability ratio π_new(a) / π_old(a) that the surrogate multiplies".into(),
            x_label: "action a".into(),
            y_label: "ratio".into(),
            series: ratios,
            hlines: vec![
                (1.0 + epsilon, format!("1 + ε = {}", 1.0 + epsilon)),
                (1.0, "1: unchanged".into()),
                (1.0 - epsilon, format!("1 − ε = {}", 1.0 - epsilon)),
            ],
        },
    ])
}

/// What a [`Recorder`] saw: the state before every step and after the last, and each action.
struct Recording<S, A> {
    states: Vec<S>,
    actions: Vec<A>,
}

/// An environment that records the episode it plays (the last one, if several), so that a
/// picture can show exactly what `evaluate` measured.
struct Recorder<E: Env, S> {
    env: E,
    state_of: fn(&E) -> S,
    log: Rc<RefCell<Recording<S, E::Action>>>,
}

impl<E: Env, S> Env for Recorder<E, S>
where
    E::Action: Copy,
{
    type Obs = E::Obs;
    type Action = E::Action;

    fn obs_size(&self) -> usize {
        self.env.obs_size()
    }

    fn action_space(&self) -> ActionSpace<'_> {
        self.env.action_space()
    }

    fn reset(&mut self, rng: &mut dyn rand::Rng) -> E::Obs {
        let obs = self.env.reset(rng);
        let mut log = self.log.borrow_mut();
        log.states.clear();
        log.actions.clear();
        log.states.push((self.state_of)(&self.env));
        obs
    }

    fn step(&mut self, action: E::Action) -> Step<E::Obs> {
        let step = self.env.step(action);
        let mut log = self.log.borrow_mut();
        log.actions.push(action);
        log.states.push((self.state_of)(&self.env));
        step
    }
}

/// Hands `play` the environments, each wrapped in a [`Recorder`], and returns what each
/// recorded, in order. With `play` calling `evaluate`, recording `i` is evaluation episode `i`.
fn record<E: Env, S>(
    envs: Vec<E>,
    state_of: fn(&E) -> S,
    play: impl FnOnce(Vec<Recorder<E, S>>),
) -> Vec<Recording<S, E::Action>>
where
    E::Action: Copy,
{
    let logs: Vec<_> = (0..envs.len())
        .map(|_| Rc::new(RefCell::new(Recording { states: Vec::new(), actions: Vec::new() })))
        .collect();
    let recorders = envs
        .into_iter()
        .zip(&logs)
        .map(|(env, log)| Recorder { env, state_of, log: Rc::clone(log) })
        .collect();
    play(recorders);
    logs.into_iter()
        .map(|log| Rc::into_inner(log).expect("the recorder is gone").into_inner())
        .collect()
}

/// `x` to one decimal with a true minus sign, as the book prints numbers.
fn signed(x: f64) -> String {
    format!("{x:.1}").replace('-', "−")
}

/// Trains `config` on the pendulum, evaluates it as `pendulum` does (100 episodes), and
/// animates the evaluation episode that starts nearest to hanging straight down: the one that
/// needs the longest swing-up.
fn trained_pendulum(config: Config) -> String {
    let seed = config.seed;
    let trainer = train(config, Pendulum::new);
    let mut evaluation = None;
    let episodes = record(
        (0..100).map(|_| Pendulum::new()).collect(),
        |p| p.state().0,
        |envs| {
            evaluation = Some(trainer.evaluate(envs, evaluation_seed(seed)));
        },
    );
    let evaluation = evaluation.expect("evaluated");
    let from_down = |e: &Recording<f64, [f32; 1]>| PI - angle_normalize(e.states[0]).abs();
    let (index, episode) = episodes
        .iter()
        .enumerate()
        .min_by(|a, b| from_down(a.1).total_cmp(&from_down(b.1)))
        .expect("100 episodes");
    let torques: Vec<f32> = episode.actions.iter().map(|a| a[0]).collect();
    let title = format!(
        "default preset, seed {seed}: evaluation episode {}\nreturn {} (mean of the 100: {})",
        index + 1,
        signed(evaluation.returns[index]),
        signed(evaluation.mean)
    );
    animation::pendulum(&episode.states, &torques, &title)
}

/// A run of `config` on environments made by `env`, trained to the end of its budget.
fn train<E: Env>(config: Config, env: fn() -> E) -> Trainer<E> {
    let envs = (0..config.num_envs).map(|_| env()).collect();
    let mut trainer = Trainer::new(config, envs);
    while !trainer.is_done() {
        trainer.iterate().expect("the default presets train without diverging");
    }
    trainer
}

/// Trains `config` on CartPole, evaluates it as `cartpole` does (100 episodes), and animates
/// the evaluation episode that starts with the pole leaning most (largest |θ|).
fn trained_cartpole(config: Config) -> String {
    let seed = config.seed;
    let trainer = train(config, CartPole::new);
    let mut evaluation = None;
    let episodes = record((0..100).map(|_| CartPole::new()).collect(), CartPole::state, |envs| {
        evaluation = Some(trainer.evaluate(envs, evaluation_seed(seed)));
    });
    let evaluation = evaluation.expect("evaluated");
    let lean = |e: &Recording<[f64; 4], usize>| e.states[0][2].abs();
    let (index, episode) = episodes
        .iter()
        .enumerate()
        .max_by(|a, b| lean(a.1).total_cmp(&lean(b.1)))
        .expect("100 episodes");
    let title = format!(
        "CartPole-v1, default preset, seed {seed}: evaluation episode {}, starting at θ = {}°\nreturn {} (mean of the 100: {})",
        index + 1,
        signed(episode.states[0][2].to_degrees()),
        signed(evaluation.returns[index]),
        signed(evaluation.mean)
    );
    animation::cartpole(&episode.states, &episode.actions, &title)
}

/// CartPole under a two-line controller: push the way the pole is falling, looking a little
/// ahead (θ + 0.5·θ̇). From this start it holds the pole up for all 500 steps.
fn hand_made_cartpole() -> String {
    let mut rng = StdRng::seed_from_u64(1);
    let recordings = record(vec![CartPole::new()], CartPole::state, |envs| {
        for mut env in envs {
            env.reset(&mut rng);
            loop {
                let [_, _, theta, theta_dot] = env.env.state();
                let step = env.step(usize::from(theta + 0.5 * theta_dot > 0.0));
                if step.terminated || step.truncated {
                    break;
                }
            }
        }
    });
    let recording = &recordings[0];
    let steps = recording.actions.len();
    let title = format!(
        "CartPole-v1, a hand-made controller: push right when θ + 0.5·θ̇ > 0\n{steps} steps from a start drawn with seed 1"
    );
    animation::cartpole(&recording.states, &recording.actions, &title)
}

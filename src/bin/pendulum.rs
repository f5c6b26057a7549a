//! `pendulum`: trains a PPO agent on Pendulum-v1 and evaluates it.
//!
//! ```text
//! cargo run --release --bin pendulum -- [OPTIONS]
//! ```
//!
//! Every hyperparameter of [`ppo::ppo::Config`] has a flag; `--help` lists them with their
//! defaults. Options are parsed by hand from one table, so the crate keeps its two
//! dependencies.

use ppo::Pendulum;
use ppo::gae::TimeLimit;
use ppo::ppo::{Config, Trainer, UpdateStats, evaluate, evaluation_seed};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Episodes of the final deterministic evaluation.
const EVAL_EPISODES: usize = 100;

/// What the command line asked for.
struct Settings {
    preset: &'static str,
    config: Config,
    out: Option<PathBuf>,
    quiet: bool,
}

/// One command-line option: its flag, the placeholder of its value (empty for a switch),
/// what it means, how to show the default, and how to apply a value.
struct Opt {
    flag: &'static str,
    value: &'static str,
    help: &'static str,
    default: fn(&Config) -> String,
    apply: fn(&mut Settings, &str) -> Result<(), String>,
}

fn parse<T: std::str::FromStr>(value: &str, what: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("'{value}' is not {what}"))
}

fn optional_positive(value: &str) -> Result<Option<f32>, String> {
    if value == "none" { Ok(None) } else { parse::<f32>(value, "a number or 'none'").map(Some) }
}

fn show_optional(value: Option<f32>) -> String {
    value.map_or("none".to_string(), |v| v.to_string())
}

/// The option table: the single place that knows every flag.
const OPTIONS: &[Opt] = &[
    Opt {
        flag: "--preset",
        value: "NAME",
        help: "starting hyperparameters: 'default' (solves Pendulum) or 'seed' (the documents' table); later flags override it",
        default: |_| "default".into(),
        apply: |_, _| Ok(()), // applied before every other option, see `parse_args`
    },
    Opt {
        flag: "--seed",
        value: "N",
        help: "seed of the run's random generator",
        default: |c| c.seed.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.seed = x),
    },
    Opt {
        flag: "--total-timesteps",
        value: "N",
        help: "environment steps to train for (rounded up to whole rollouts)",
        default: |c| c.total_timesteps.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.total_timesteps = x),
    },
    Opt {
        flag: "--num-envs",
        value: "N",
        help: "environments stepped together",
        default: |c| c.num_envs.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.num_envs = x),
    },
    Opt {
        flag: "--rollout-steps",
        value: "N",
        help: "steps collected from each environment per update",
        default: |c| c.rollout_steps.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.rollout_steps = x),
    },
    Opt {
        flag: "--epochs",
        value: "N",
        help: "passes over each rollout",
        default: |c| c.epochs.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.epochs = x),
    },
    Opt {
        flag: "--batch-size",
        value: "N",
        help: "transitions per minibatch gradient step",
        default: |c| c.minibatch_size.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.minibatch_size = x),
    },
    Opt {
        flag: "--gamma",
        value: "X",
        help: "discount factor, in [0, 1]",
        default: |c| c.gamma.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.gamma = x),
    },
    Opt {
        flag: "--gae-lambda",
        value: "X",
        help: "GAE lambda, in [0, 1]",
        default: |c| c.gae_lambda.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.gae_lambda = x),
    },
    Opt {
        flag: "--clip-epsilon",
        value: "X",
        help: "clip range of the probability ratio",
        default: |c| c.clip_epsilon.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.clip_epsilon = x),
    },
    Opt {
        flag: "--actor-lr",
        value: "X",
        help: "Adam learning rate of the actor",
        default: |c| c.actor_learning_rate.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.actor_learning_rate = x),
    },
    Opt {
        flag: "--critic-lr",
        value: "X",
        help: "Adam learning rate of the critic",
        default: |c| c.critic_learning_rate.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.critic_learning_rate = x),
    },
    Opt {
        flag: "--anneal-lr",
        value: "BOOL",
        help: "decay the learning rates linearly to zero: true or false",
        default: |c| c.anneal_learning_rate.to_string(),
        apply: |s, v| parse(v, "true or false").map(|x| s.config.anneal_learning_rate = x),
    },
    Opt {
        flag: "--entropy-coef",
        value: "X",
        help: "weight of the entropy bonus",
        default: |c| c.entropy_coef.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.entropy_coef = x),
    },
    Opt {
        flag: "--max-grad-norm",
        value: "X",
        help: "global gradient-norm limit, or 'none'",
        default: |c| show_optional(c.max_grad_norm),
        apply: |s, v| optional_positive(v).map(|x| s.config.max_grad_norm = x),
    },
    Opt {
        flag: "--value-clip",
        value: "X",
        help: "clip range of the critic's values around their old values, or 'none'",
        default: |c| show_optional(c.value_clip),
        apply: |s, v| optional_positive(v).map(|x| s.config.value_clip = x),
    },
    Opt {
        flag: "--normalize-advantages",
        value: "BOOL",
        help: "normalize advantages per rollout: true or false",
        default: |c| c.normalize_advantages.to_string(),
        apply: |s, v| parse(v, "true or false").map(|x| s.config.normalize_advantages = x),
    },
    Opt {
        flag: "--time-limit",
        value: "MODE",
        help: "a time-limit truncation is 'bootstrap'ped or treated 'as-terminal'",
        default: |c| time_limit_name(c.time_limit).into(),
        apply: |s, v| {
            s.config.time_limit = match v {
                "bootstrap" => TimeLimit::Bootstrap,
                "as-terminal" => TimeLimit::AsTerminal,
                _ => return Err(format!("'{v}' is not 'bootstrap' or 'as-terminal'")),
            };
            Ok(())
        },
    },
    Opt {
        flag: "--reward-scale",
        value: "X",
        help: "factor applied to rewards for learning (reported returns are unscaled)",
        default: |c| c.reward_scale.to_string(),
        apply: |s, v| parse(v, "a number").map(|x| s.config.reward_scale = x),
    },
    Opt {
        flag: "--hidden-size",
        value: "N",
        help: "width of the two hidden layers",
        default: |c| c.hidden_size.to_string(),
        apply: |s, v| parse(v, "a whole number").map(|x| s.config.hidden_size = x),
    },
    Opt {
        flag: "--out",
        value: "DIR",
        help: "directory for the run's files",
        default: |_| "runs/<preset>-seed<N>-<time>".into(),
        apply: |s, v| {
            s.out = Some(PathBuf::from(v));
            Ok(())
        },
    },
    Opt {
        flag: "--quiet",
        value: "",
        help: "print only the final line",
        default: |_| "off".into(),
        apply: |s, _| {
            s.quiet = true;
            Ok(())
        },
    },
];

fn time_limit_name(mode: TimeLimit) -> &'static str {
    match mode {
        TimeLimit::Bootstrap => "bootstrap",
        TimeLimit::AsTerminal => "as-terminal",
    }
}

fn help_text() -> String {
    let defaults = Config::default();
    let mut text = String::from(
        "pendulum: train a PPO agent on Pendulum-v1 and evaluate it\n\n\
         Usage: pendulum [OPTIONS]\n\nOptions:\n",
    );
    for opt in OPTIONS {
        let flag = if opt.value.is_empty() {
            opt.flag.to_string()
        } else {
            format!("{} {}", opt.flag, opt.value)
        };
        let _ = writeln!(text, "  {flag:<26} {} [default: {}]", opt.help, (opt.default)(&defaults));
    }
    text.push_str("  --help                     print this help\n  --version                  print the version\n");
    text
}

enum Command {
    Train(Settings),
    Help,
    Version,
}

/// Reads the arguments against the option table. The preset is applied first, whatever its
/// position, so that every other flag overrides it.
fn parse_args(args: &[String]) -> Result<Command, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    if args.iter().any(|a| a == "--version") {
        return Ok(Command::Version);
    }
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let opt = OPTIONS
            .iter()
            .find(|o| o.flag == flag)
            .ok_or_else(|| format!("unknown option '{arg}'"))?;
        let value = if opt.value.is_empty() {
            if inline.is_some() {
                return Err(format!("{} takes no value", opt.flag));
            }
            String::new()
        } else if let Some(value) = inline {
            value
        } else {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{} needs a value ({})", opt.flag, opt.value))?
        };
        pairs.push((opt, value));
        i += 1;
    }
    let (preset, config) = match pairs.iter().rev().find(|(o, _)| o.flag == "--preset") {
        None => ("default", Config::default()),
        Some((_, name)) => match name.as_str() {
            "default" => ("default", Config::default()),
            "seed" => ("seed", Config::seed()),
            _ => return Err(format!("--preset: '{name}' is not 'default' or 'seed'")),
        },
    };
    let mut settings = Settings { preset, config, out: None, quiet: false };
    for (opt, value) in pairs {
        (opt.apply)(&mut settings, &value).map_err(|e| format!("{}: {e}", opt.flag))?;
    }
    settings.config.validate()?;
    Ok(Command::Train(settings))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args) {
        Ok(Command::Help) => {
            print!("{}", help_text());
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("pendulum {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Train(settings)) => match train(settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("error: {message} (see 'pendulum --help')");
            ExitCode::from(2)
        }
    }
}

fn default_out_dir(preset: &str, config: &Config) -> PathBuf {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    PathBuf::from("runs").join(format!("{preset}-seed{}-{stamp}", config.seed))
}

// ANCHOR: train
fn train(settings: Settings) -> Result<(), String> {
    let Settings { preset, config, out, quiet } = settings;
    let out = out.unwrap_or_else(|| default_out_dir(preset, &config));
    prepare_out_dir(&out)?;
    let config_text = format!("{config:#?}\n");
    write_atomic(&out.join("config.txt"), config_text.as_bytes())?;

    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    let mut csv = String::from(
        "update,time/total_timesteps,time/elapsed_s,rollout/ep_rew_mean,train/approx_kl,\
         train/clip_fraction,train/entropy,train/explained_variance,train/policy_gradient_loss,\
         train/value_loss,train/learning_rate,time/collect_s,time/learn_s\n",
    );
    let total = config.updates();
    while !trainer.is_done() {
        let stats = trainer.iterate();
        append_csv_row(&mut csv, &stats);
        if !quiet {
            println!("{}", progress_line(&stats, total));
        }
    }
    write_atomic(&out.join("metrics.csv"), csv.as_bytes())?;

    let eval_envs = (0..EVAL_EPISODES).map(|_| Pendulum::new()).collect();
    let result = evaluate(trainer.actor(), eval_envs, evaluation_seed(config.seed));
    if !quiet {
        println!("run files: {}", out.display());
    }
    println!(
        "final eval: mean return {:.1} ± {:.1} over {} episodes",
        result.mean, result.std, EVAL_EPISODES
    );
    Ok(())
}
// ANCHOR_END: train

fn progress_line(stats: &UpdateStats, total: usize) -> String {
    let ret = stats.episode_return.map_or("    n/a".to_string(), |r| format!("{r:7.1}"));
    let sps = stats.timesteps as f64 / stats.elapsed.max(1e-9);
    format!(
        "update {:>3}/{total}  steps {:>7}  return {ret}  kl {:.4}  clip {:.3}  entropy {:.3}  ev {:.2}  {:.0} steps/s",
        stats.update,
        stats.timesteps,
        stats.approx_kl,
        stats.clip_fraction,
        stats.entropy,
        stats.explained_variance,
        sps
    )
}

fn append_csv_row(csv: &mut String, s: &UpdateStats) {
    let ret = s.episode_return.map_or(String::new(), |r| format!("{r:.3}"));
    let _ = writeln!(
        csv,
        "{},{},{:.3},{ret},{},{},{},{},{},{},{},{:.4},{:.4}",
        s.update,
        s.timesteps,
        s.elapsed,
        s.approx_kl,
        s.clip_fraction,
        -s.entropy, // SB3 logs the entropy *loss*, the negated entropy
        s.explained_variance,
        s.policy_loss,
        s.value_loss,
        s.learning_rate,
        s.collect_seconds,
        s.learn_seconds
    );
}

/// Creates the output directory and checks that a file can be written there, before any
/// training time is spent.
fn prepare_out_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"")
        .map_err(|e| format!("cannot write in output directory {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// that a reader never sees a half-written file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

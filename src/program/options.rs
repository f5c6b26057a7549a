//! The command line, read by hand from one table.
//!
//! [`OPTIONS`] is the only place that knows the flags: parsing, `--help`, the `config.txt`
//! a run leaves behind and the `--config` option that reads it back all go through it. A
//! field of the training [`Config`] has an [`Action::Field`] entry that can both set it from
//! text and print it as text, so what a run writes is exactly what a later run reads.

use super::{Info, Preset, terminal};
use crate::config::Choice;
use crate::nn::StdParam;
use crate::ppo::Config;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Which command an option belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Train,
    Eval,
    Both,
}

/// One command-line option.
pub struct Opt {
    /// `--kebab-case`.
    pub flag: &'static str,
    /// The placeholder of its value in `--help`; empty for a switch.
    pub value: &'static str,
    /// What it means, one sentence.
    pub help: &'static str,
    pub scope: Scope,
    pub action: Action,
    /// The largest value a count may take, checked before the value is used and stated by
    /// `--help`: a bound that no real run needs but that keeps every run finite.
    pub max: Option<usize>,
}

/// What an option does.
pub enum Action {
    /// Sets the `Config` field `name`; `show` prints the field in the form `set` reads.
    Field {
        name: &'static str,
        show: fn(&Config) -> String,
        set: fn(&mut Config, &str) -> Result<(), String>,
    },
    /// Sets something else; `default` is shown by `--help`.
    Setting {
        default: &'static str,
        apply: fn(&mut Settings, &str) -> Result<(), String>,
    },
    /// Sets a path, which may hold any bytes the system allows (not only UTF-8).
    Path {
        default: &'static str,
        apply: fn(&mut Settings, PathBuf) -> Result<(), String>,
    },
    /// `--preset`: chooses the starting config, before every other option is applied.
    Preset,
    /// `--config FILE`: the options written in FILE, as if given at this place.
    ConfigFile,
    /// `--help` and `--version`: print and stop.
    Help,
    Version,
}

/// Everything an option can set; [`parse`] turns it into a [`Command`].
#[derive(Debug)]
pub struct Settings {
    pub preset: &'static Preset,
    pub config: Config,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub threads: Option<usize>,
    pub seeds: Option<Vec<u64>>,
    pub checkpoint: Option<PathBuf>,
    pub episodes: Option<usize>,
    pub render: bool,
    pub eval_seed: Option<u64>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help,
    Version,
    Train(Train),
    Eval(Eval),
}

/// `PROGRAM [train] ...`.
#[derive(Debug)]
pub struct Train {
    pub preset: &'static Preset,
    pub config: Config,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    /// `--threads`, or the cores available: at most 2, all that one run can use, or all of
    /// them for a sweep, which trains that many runs at a time.
    pub threads: usize,
    /// `--seeds`: a sweep, one run per seed, in the order given.
    pub seeds: Option<Vec<u64>>,
}

/// `PROGRAM eval ...`.
#[derive(Debug)]
pub struct Eval {
    pub checkpoint: PathBuf,
    pub episodes: Option<usize>,
    pub render: bool,
    pub seed: Option<u64>,
}

/// Evaluation episodes when `--episodes` is not given.
pub const EVAL_EPISODES: usize = 100;
/// ... and with `--render`, where each episode takes ten seconds to watch.
pub const RENDER_EPISODES: usize = 5;
/// Limits that keep a typo from asking for more memory or time than a machine has. The
/// widest networks bound what loading a checkpoint may read, too.
pub const MAX_WIDTH: usize = 4096;
const MAX_ENVS: usize = 4096;
const MAX_ROLLOUT: usize = 1_000_000;
/// Ten thousand times the default budget: days of training.
const MAX_TIMESTEPS: usize = 1_000_000_000;
const MAX_EPOCHS: usize = 1000;
const MAX_EPISODES: usize = 100_000;
/// `--threads` above this is surely a mistake (training uses two).
const MAX_THREADS: usize = 1024;

/// `--seeds` above this many is surely a mistake: a thousand runs of the default take hours.
pub const MAX_SEEDS: usize = 1000;

/// The cores this process may use: for one run at most the two that training can keep busy,
/// for a sweep all of them (each run on one).
fn default_threads(sweep: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if sweep { cores } else { cores.min(2) }
}
/// A `config.txt` is under 1 KiB; a file of more than this is not a config file.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

fn whole(value: &str) -> Result<usize, String> {
    value.parse().map_err(|_| format!("expected a whole number, got '{value}'"))
}

/// Refuses a whole number above `max`, however many digits it has.
fn at_most(value: &str, max: usize) -> Result<(), String> {
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if digits && value.parse::<usize>().map_or(true, |n| n > max) {
        return Err(format!("must be at most {max}, got {value}"));
    }
    Ok(())
}

fn seed(value: &str) -> Result<u64, String> {
    value.parse().map_err(|_| format!("expected a whole number, got '{value}'"))
}

// ANCHOR: seed_list
/// `--seeds`: seeds and inclusive ranges separated by commas (`1-10`, `1,2,5`, `1-3,7`), in
/// the order given, none twice, at most [`MAX_SEEDS`]. A range's size is checked before it is
/// expanded, so `0-18446744073709551615` is refused without a step per seed.
pub fn seed_list(value: &str) -> Result<Vec<u64>, String> {
    let whole = |text: &str, item: &str| -> Result<u64, String> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected a seed or a range A-B, got '{item}'"));
        }
        text.parse().map_err(|_| format!("seed {text} is larger than the largest, {}", u64::MAX))
    };
    if value.is_empty() {
        return Err("expected seeds like 1-10, 1,2,5 or 1-3,7, got ''".into());
    }
    let mut seeds = Vec::new();
    for item in value.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (whole(a, item)?, whole(b, item)?),
            None => (whole(item, item)?, whole(item, item)?),
        };
        if last < first {
            return Err(format!("the range {item} is empty: write the smaller seed first"));
        }
        if (last - first) as u128 + 1 + seeds.len() as u128 > MAX_SEEDS as u128 {
            return Err(format!("at most {MAX_SEEDS} seeds, and '{value}' has more"));
        }
        seeds.extend(first..=last);
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("seed {} is given twice", pair[0]));
    }
    Ok(seeds)
}
// ANCHOR_END: seed_list

fn number(value: &str) -> Result<f32, String> {
    value.parse().map_err(|_| format!("expected a number, got '{value}'"))
}

fn boolean(value: &str) -> Result<bool, String> {
    value.parse().map_err(|_| format!("expected true or false, got '{value}'"))
}

/// `none`, or a value of `T`; `what` names `T` in the message.
fn or_none<T: std::str::FromStr>(value: &str, what: &str) -> Result<Option<T>, String> {
    if value == "none" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| format!("expected {what} or 'none', got '{value}'"))
}

fn number_or_none(value: &str) -> Result<Option<f32>, String> {
    or_none(value, "a number")
}

fn whole_or_none(value: &str) -> Result<Option<usize>, String> {
    or_none(value, "a whole number")
}

fn display(value: &impl ToString) -> String {
    value.to_string()
}

fn show_optional(value: &Option<impl ToString>) -> String {
    value.as_ref().map_or("none".to_string(), ToString::to_string)
}

/// `softplus`; `log-std` with optional `,init=X` and `,clamp=LO:HI` or `,clamp=none`; or
/// `log-std-head` with an optional `,clamp=LO:HI`.
fn std_param(value: &str) -> Result<StdParam, String> {
    let mut parts = value.split(',');
    let head = match parts.next() {
        Some("softplus") if value == "softplus" => return Ok(StdParam::Softplus),
        Some("log-std") => false,
        Some("log-std-head") => true,
        _ => {
            return Err(format!(
                "expected 'softplus', 'log-std[,init=X][,clamp=LO:HI]' or 'log-std-head[,clamp=LO:HI]', got '{value}'"
            ));
        }
    };
    let (mut init, mut clamp) = (0.0, Some((-20.0, 2.0)));
    for part in parts {
        match part.split_once('=') {
            Some(("init", x)) if !head => {
                init = number(x)?;
                if !init.is_finite() {
                    return Err(format!("log-std init must be finite, got {x}"));
                }
            }
            Some(("clamp", "none")) if !head => clamp = None,
            Some(("clamp", range)) => {
                let (low, high) = range.split_once(':').ok_or_else(|| {
                    format!("expected clamp=LO:HI or clamp=none, got 'clamp={range}'")
                })?;
                let (low, high) = (number(low)?, number(high)?);
                if !(low < high && low.is_finite() && high.is_finite()) {
                    return Err(format!("clamp range {low}:{high} is empty or not finite"));
                }
                clamp = Some((low, high));
            }
            _ if head => {
                return Err(format!("expected clamp=LO:HI in '{value}', got '{part}'"));
            }
            _ => return Err(format!("expected init=X or clamp=LO:HI in '{value}', got '{part}'")),
        }
    }
    Ok(match clamp {
        Some(clamp) if head => StdParam::LogStdHead { clamp },
        _ => StdParam::LogStd { init, clamp },
    })
}

fn show_std_param(value: &StdParam) -> String {
    match *value {
        StdParam::Softplus => "softplus".into(),
        StdParam::LogStd { init, clamp } => {
            let clamp = clamp.map_or("none".to_string(), |(low, high)| format!("{low}:{high}"));
            format!("log-std,init={init},clamp={clamp}")
        }
        StdParam::LogStdHead { clamp: (low, high) } => format!("log-std-head,clamp={low}:{high}"),
    }
}

/// A [`Choice`] setting read from its name.
fn choice<T: Choice>(value: &str) -> Result<T, String> {
    T::from_name(value)
}

/// A [`Choice`] setting shown by its name.
fn choice_name<T: Choice>(value: &T) -> String {
    value.name().to_string()
}

// ANCHOR: field
/// An option that sets the field `$field` of `Config`: `$parse` reads it from text, `$show`
/// writes it back in the same form.
/// With `max = N`, a count of at most N.
macro_rules! field {
    ($flag:literal, $value:literal, $field:ident, $parse:expr, $show:expr, $help:literal) => {
        field!(@ $flag, $value, $field, $parse, $show, None, $help)
    };
    ($flag:literal, $value:literal, $field:ident, $parse:expr, $show:expr, max = $max:expr,
        $help:literal) => {
        field!(@ $flag, $value, $field, $parse, $show, Some($max), $help)
    };
    (@ $flag:literal, $value:literal, $field:ident, $parse:expr, $show:expr, $max:expr,
        $help:literal) => {
        Opt {
            flag: $flag,
            value: $value,
            help: $help,
            scope: Scope::Train,
            action: Action::Field {
                name: stringify!($field),
                show: |c| $show(&c.$field),
                set: |c, v| $parse(v).map(|x| c.$field = x),
            },
            max: $max,
        }
    };
}
// ANCHOR_END: field

// ANCHOR: options
/// The option table: the single place that knows every flag.
#[rustfmt::skip] // a table reads best as one: rustfmt would give every argument its own line
pub const OPTIONS: &[Opt] = &[
    Opt { max: None, flag: "--preset", value: "NAME", scope: Scope::Train, action: Action::Preset,
        help: "starting hyperparameters, one of the presets listed below; every other option overrides it, wherever it appears" },
    Opt { max: None, flag: "--config", value: "FILE", scope: Scope::Train, action: Action::ConfigFile,
        help: "read options from FILE, one '--flag value' per line ('#' starts a comment), as if given here; a run's config.txt is such a file, so '--config runs/X/config.txt' repeats run X exactly" },
    field!("--seed", "N", seed, seed, display,
        "seed of the run's one random generator: same seed and options, same run, bit for bit"),
    Opt { max: None, flag: "--seeds", value: "LIST", scope: Scope::Train,
        help: "a sweep: one run per seed of LIST, each exactly the run '--seed N' would be, into seed-N/ of the --out directory, --threads of them at a time on one thread each; then a table of their final evaluations with the median, the worst and the best, also written there as seeds.txt. LIST is seeds and ranges separated by commas (1-10, 1,2,5, 1-3,7), none twice, at most 1000 seeds; not with --seed",
        action: Action::Setting { default: "", apply: |s, v| {
            s.seeds = Some(seed_list(v)?);
            Ok(())
        } } },
    field!("--total-timesteps", "N", total_timesteps, whole, display, max = MAX_TIMESTEPS,
        "environment steps to train for, over all environments (rounded up to whole rollouts)"),
    field!("--num-envs", "N", num_envs, whole, display, max = MAX_ENVS,
        "environments stepped together"),
    field!("--rollout-steps", "N", rollout_steps, whole, display, max = MAX_ROLLOUT,
        "steps collected from each environment per update; a rollout is num-envs × rollout-steps transitions"),
    field!("--epochs", "N", epochs, whole, display, max = MAX_EPOCHS,
        "passes over each rollout"),
    field!("--batch-size", "N", minibatch_size, whole, display, max = MAX_ROLLOUT,
        "transitions per gradient step (minibatch), at most one rollout"),
    field!("--gamma", "X", gamma, number, display,
        "discount factor γ, in [0, 1]"),
    field!("--gae-lambda", "X", gae_lambda, number, display,
        "GAE's λ, in [0, 1]: 0 trusts the critic, 1 the observed returns"),
    field!("--clip-epsilon", "X", clip_epsilon, number, display,
        "clip range ε of the probability ratio, above 0"),
    Opt { max: None, flag: "--learning-rate", value: "X", scope: Scope::Train,
        help: "sets both --actor-lr and --critic-lr",
        action: Action::Setting { default: "", apply: |s, v| {
            let rate = number(v)?;
            // Checked here, or the error would name --actor-lr, which the user did not type.
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(format!("must be a positive number, got {rate}"));
            }
            (s.config.actor_learning_rate, s.config.critic_learning_rate) = (rate, rate);
            Ok(())
        } } },
    field!("--actor-lr", "X", actor_learning_rate, number, display,
        "Adam's learning rate for the actor, above 0"),
    field!("--critic-lr", "X", critic_learning_rate, number, display,
        "Adam's learning rate for the critic, above 0"),
    field!("--anneal-lr", "BOOL", anneal_learning_rate, boolean, display,
        "decay both learning rates linearly over the run's first U updates (all of them, or --anneal-horizon's if fewer), to 1/U of their start, then stay there: true or false"),
    field!("--anneal-horizon", "N", anneal_horizon, whole_or_none, show_optional, max = MAX_TIMESTEPS,
        "'none' (annealing takes the whole run, however long) or the most environment steps annealing may take, a longer run going on at the last rate"),
    field!("--entropy-coef", "X", entropy_coef, number, display,
        "weight of the entropy bonus, 0 or more"),
    field!("--max-grad-norm", "X", max_grad_norm, number_or_none, show_optional,
        "limit of each network's global gradient norm, or 'none'"),
    field!("--value-clip", "X", value_clip, number_or_none, show_optional,
        "clip range of the critic's values around their collection-time values, or 'none'"),
    field!("--normalize-advantages", "BOOL", normalize_advantages, boolean, display,
        "normalize advantages over each rollout: true or false"),
    field!("--time-limit", "MODE", time_limit, choice, choice_name,
        "an episode cut off by the time limit is 'bootstrap'ped from the critic, treated 'as-terminal', or the limit is ignored ('ignore': no reset, one endless episode)"),
    field!("--reward-scale", "X", reward_scale, number, display,
        "factor applied to rewards for learning, above 0 (reported returns are unscaled)"),
    field!("--hidden-size", "N", hidden_size, whole, display, max = MAX_WIDTH,
        "width of the two hidden layers of both networks"),
    field!("--activation", "NAME", activation, choice, choice_name,
        "the nonlinearity after each hidden layer of both networks: 'relu' or 'tanh'"),
    field!("--distribution", "NAME", distribution, choice, choice_name,
        "the policy's distribution over actions: 'normal' (its samples clipped to the action bounds by the environment), 'tanh-normal', 'truncated-normal' or 'beta' (all three inside the bounds); for discrete actions 'categorical'"),
    field!("--std", "KIND", std_param, std_param, show_std_param,
        "the actor's σ: 'softplus' (a head on the network, σ depends on the state), 'log-std[,init=X][,clamp=LO:HI|none]' (a learned log σ, the same in every state; init 0 and clamp -20:2 unless given) or 'log-std-head[,clamp=LO:HI]' (a head giving log σ, clamped, -20:2 unless given)"),
    field!("--init", "KIND", init, choice, choice_name,
        "weight initialization: 'pytorch' (uniform, PyTorch's default), 'orthogonal' (gains √2, 0.01 on the policy heads, 1 on the value head), 'he-normal' (Gaussian, the same gains) or 'orthogonal-sqrt2' (√2 on every layer)"),
    field!("--objective", "NAME", objective, choice, choice_name,
        "what the actor maximizes: 'clip' (PPO's clipped surrogate), 'spo' (a quadratic penalty on the ratio's distance from 1), 'kl-penalty' (minus β times the KL) or 'none' (the plain importance-weighted advantage)"),
    field!("--kl-coef", "X", kl_coef, number, display,
        "β of the KL penalty, 0 or more; its start when adapted"),
    field!("--adaptive-kl", "X", adaptive_kl, number_or_none, show_optional,
        "the KL penalty's target: after each update β halves below it/1.5 and doubles above 1.5 times it; 'none' keeps β fixed"),
    field!("--target-kl", "X", target_kl, number_or_none, show_optional,
        "stop an update's epochs at the first minibatch whose approximate KL exceeds 1.5 times this, or 'none'"),
    field!("--value-coef", "X", value_coef, number, display,
        "weight of the value loss, 0 or more (in a shared network, against the policy loss)"),
    field!("--minibatch-advantages", "BOOL", minibatch_advantages, boolean, display,
        "normalize advantages in each minibatch rather than over the rollout: true or false"),
    field!("--adam-eps", "X", adam_eps, number, display,
        "Adam's ε, added to the root of the second moment, 0 or more"),
    field!("--anneal-entropy", "BOOL", anneal_entropy, boolean, display,
        "decay the entropy coefficient with the learning rates' schedule: true or false"),
    field!("--normalize-observations", "BOOL", normalize_observations, boolean, display,
        "normalize observations by their running mean and variance (clipped to ±10, frozen for evaluation): true or false"),
    field!("--normalize-rewards", "BOOL", normalize_rewards, boolean, display,
        "divide rewards by the running standard deviation of the discounted return: true or false"),
    field!("--grpo-group", "N", grpo_group, whole_or_none, show_optional, max = MAX_ENVS,
        "GRPO instead of PPO's critic: groups of N environments (N ≥ 2, dividing num-envs) start each rollout from one state and run one episode each, whose return normalized within the group is every step's advantage; or 'none'"),
    field!("--reference-kl", "X", reference_kl, number, display,
        "GRPO's weight on the KL divergence from the initial policy, 0 or more"),
    field!("--shared-network", "BOOL", shared_network, boolean, display,
        "one trunk for policy and value, a linear value head on the actor's last hidden layer, one optimizer: true or false"),
    Opt { max: None, flag: "--out", value: "DIR", scope: Scope::Train,
        help: "directory for the run's files, created if needed; an earlier run's files in it are replaced; one that another run is using, or that holds other files, is refused; with --seeds the sweep's, holding seed-N/ for each seed and seeds.txt (by default runs/<preset>-seeds<LIST>-<time>)",
        action: Action::Path { default: "runs/<preset>-seed<N>-<time>", apply: |s, v| {
            if v.as_os_str().is_empty() {
                return Err("expected a directory, got ''".into());
            }
            s.out = Some(v);
            Ok(())
        } } },
    Opt { max: Some(MAX_THREADS), flag: "--threads", value: "N", scope: Scope::Train,
        help: "threads to train on, 1 or more; with 2 the actor's and the critic's minibatch steps run side by side (more gives nothing more); the results are the same bit for bit, so it is a setting of the run, kept out of config.txt and checkpoints; with --seeds, the runs trained at a time, each on one thread",
        action: Action::Setting { default: "the cores available, at most 2 (with --seeds, all of them)", apply: |s, v| {
            match whole(v)? {
                0 => Err("must be at least 1".into()),
                n => { s.threads = Some(n); Ok(()) }
            }
        } } },
    Opt { max: None, flag: "--quiet", value: "", scope: Scope::Train,
        help: "print only the final line (with --seeds, only the table)",
        action: Action::Setting { default: "off", apply: |s, _| { s.quiet = true; Ok(()) } } },

    Opt { max: None, flag: "--checkpoint", value: "PATH", scope: Scope::Eval,
        help: "the policy.ckpt to evaluate (required)",
        action: Action::Path { default: "", apply: |s, v| {
            s.checkpoint = Some(v);
            Ok(())
        } } },
    Opt { max: Some(MAX_EPISODES), flag: "--episodes", value: "N", scope: Scope::Eval,
        help: "episodes to run",
        action: Action::Setting { default: "100, or 5 with --render", apply: |s, v| {
            match whole(v)? {
                0 => Err("must be at least 1".into()),
                n => { s.episodes = Some(n); Ok(()) }
            }
        } } },
    Opt { max: None, flag: "--render", value: "", scope: Scope::Eval,
        help: "on a terminal, animate each episode in real time, one frame per step; Ctrl-C stops",
        action: Action::Setting { default: "off", apply: |s, _| { s.render = true; Ok(()) } } },
    Opt { max: None, flag: "--seed", value: "N", scope: Scope::Eval,
        help: "seed of the episodes' starting states",
        action: Action::Setting { default: "the one the training run's final evaluation used",
            apply: |s, v| seed(v).map(|n| s.eval_seed = Some(n)) } },

    Opt { max: None, flag: "--help", value: "", scope: Scope::Both, help: "print this help", action: Action::Help },
    Opt { max: None, flag: "--version", value: "", scope: Scope::Both, help: "print the version", action: Action::Version },
];
// ANCHOR_END: options

impl Opt {
    fn applies_to(&self, command: Scope) -> bool {
        self.scope == Scope::Both || self.scope == command
    }

    fn is_switch(&self) -> bool {
        self.value.is_empty()
    }
}

/// One option as given: where it came from (for messages), the option, its value.
struct Given {
    origin: String,
    opt: &'static Opt,
    value: OsString,
}

impl Given {
    /// The value as text: every option but a path's takes UTF-8.
    fn text(&self) -> Result<&str, String> {
        self.value.to_str().ok_or_else(|| {
            format!(
                "{}{}: '{}' is not valid UTF-8",
                self.origin,
                self.opt.flag,
                terminal::os(&self.value)
            )
        })
    }
}

/// Reads the arguments (without the program name). Where an option is given more than once,
/// the last one wins: each is applied in turn, the lines of a `--config` file where the
/// `--config` is (the preset excepted, which is applied first).
///
/// # Errors
/// A one-line message naming the option and what is wrong with it.
pub fn parse(args: &[OsString], info: &Info) -> Result<Command, String> {
    let first = args.first().map(|a| a.as_os_str());
    let (command, args) = match first.and_then(OsStr::to_str) {
        Some("train") => (Scope::Train, &args[1..]),
        Some("eval") => (Scope::Eval, &args[1..]),
        _ if first.is_some_and(|f| !f.as_encoded_bytes().starts_with(b"-")) => {
            return Err(format!(
                "unknown command '{}': the commands are 'train' (the default) and 'eval'",
                terminal::os(first.unwrap_or_default())
            ));
        }
        _ => (Scope::Train, args),
    };
    let mut given = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_os_str();
        let bytes = arg.as_encoded_bytes();
        // `--flag=value`: split at the first `=`, which is ASCII, so both halves are still
        // valid OS strings.
        let (flag, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(at) if bytes.starts_with(b"--") => {
                // SAFETY: both halves are split at an ASCII byte of a valid OS string.
                let (flag, value) = unsafe {
                    (
                        OsStr::from_encoded_bytes_unchecked(&bytes[..at]),
                        OsStr::from_encoded_bytes_unchecked(&bytes[at + 1..]),
                    )
                };
                (flag, Some(value.to_os_string()))
            }
            _ => (arg, None),
        };
        let flag = flag.to_str().ok_or_else(|| match bytes.starts_with(b"--") {
            true => format!("unknown option '{}'", terminal::os(flag)),
            false => {
                format!("unexpected argument '{}' (options start with '--')", terminal::os(flag))
            }
        })?;
        let flag = if flag == "-h" { "--help" } else { flag };
        let opt = find(flag, command, info.name)?;
        let value = if opt.is_switch() {
            if inline.is_some() {
                return Err(format!("{} takes no value", opt.flag));
            }
            OsString::new()
        } else if let Some(value) = inline {
            value
        } else {
            i += 1;
            match args.get(i) {
                Some(value) if !value.as_encoded_bytes().starts_with(b"--") => value.clone(),
                _ => return Err(format!("{} needs a value ({})", opt.flag, opt.value)),
            }
        };
        match opt.action {
            Action::Help => return Ok(Command::Help),
            Action::Version => return Ok(Command::Version),
            Action::ConfigFile => given.extend(read_config_file(Path::new(&value), info.name)?),
            _ => given.push(Given { origin: String::new(), opt, value }),
        }
        i += 1;
    }

    let preset = match given.iter().rev().find(|g| matches!(g.opt.action, Action::Preset)) {
        None => &info.presets[0],
        Some(g) => {
            let name = g.text()?;
            info.presets.iter().find(|p| p.name == name).ok_or_else(|| {
                let names: Vec<String> =
                    info.presets.iter().map(|p| format!("'{}'", p.name)).collect();
                format!("{}--preset: expected {}, got '{name}'", g.origin, one_of(&names))
            })?
        }
    };
    let mut settings = Settings {
        preset,
        config: (preset.config)(),
        out: None,
        quiet: false,
        threads: None,
        seeds: None,
        checkpoint: None,
        episodes: None,
        render: false,
        eval_seed: None,
    };
    for g in &given {
        let text = || -> Result<&str, String> {
            let text = g.text()?;
            if let Some(max) = g.opt.max {
                at_most(text, max).map_err(|e| format!("{}{}: {e}", g.origin, g.opt.flag))?;
            }
            Ok(text)
        };
        let result = match g.opt.action {
            Action::Field { set, .. } => set(&mut settings.config, text()?),
            Action::Setting { apply, .. } => apply(&mut settings, text()?),
            Action::Path { apply, .. } => apply(&mut settings, PathBuf::from(&g.value)),
            _ => Ok(()),
        };
        result.map_err(|e| format!("{}{}: {e}", g.origin, g.opt.flag))?;
    }

    match command {
        Scope::Eval => {
            let checkpoint = settings
                .checkpoint
                .ok_or("eval needs the checkpoint to evaluate: --checkpoint PATH")?;
            Ok(Command::Eval(Eval {
                checkpoint,
                episodes: settings.episodes,
                render: settings.render,
                seed: settings.eval_seed,
            }))
        }
        _ => {
            let config = settings.config;
            config.validate().map_err(|e| located(&e, &given))?;
            if config.batch_size() > MAX_ROLLOUT {
                return Err(format!(
                    "--num-envs × --rollout-steps is {} transitions per rollout, more than the {MAX_ROLLOUT} this program allows",
                    config.batch_size()
                ));
            }
            // A --seed in a config file (every config.txt has one) is what --seeds replaces;
            // one typed beside --seeds is a contradiction.
            let typed_seed = given.iter().any(|g| g.opt.flag == "--seed" && g.origin.is_empty());
            if settings.seeds.is_some() && typed_seed {
                return Err(
                    "--seeds and --seed cannot be given together: --seeds gives each run its seed"
                        .into(),
                );
            }
            let sweep = settings.seeds.is_some();
            Ok(Command::Train(Train {
                preset: settings.preset,
                config,
                out: settings.out,
                quiet: settings.quiet,
                threads: settings.threads.unwrap_or_else(|| default_threads(sweep)),
                seeds: settings.seeds,
            }))
        }
    }
}

/// `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`.
fn one_of(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The option `flag` of `command` of the program `program`, or an error that says why there
/// is none.
fn find(flag: &str, command: Scope, program: &str) -> Result<&'static Opt, String> {
    if let Some(opt) = OPTIONS.iter().find(|o| o.flag == flag && o.applies_to(command)) {
        return Ok(opt);
    }
    if !flag.starts_with("--") {
        return Err(format!("unexpected argument '{flag}' (options start with '--')"));
    }
    if OPTIONS.iter().any(|o| o.flag == flag) {
        return Err(match command {
            Scope::Eval => format!("{flag} is a training option, not one of '{program} eval'"),
            _ => format!("{flag} is an option of '{program} eval', not of training"),
        });
    }
    let closest = OPTIONS
        .iter()
        .filter(|o| o.applies_to(command))
        .map(|o| (edit_distance(flag, o.flag), o.flag))
        .min();
    match closest {
        Some((distance, name)) if distance <= 2 && 4 * distance <= flag.len() => {
            Err(format!("unknown option '{flag}' (did you mean {name}?)"))
        }
        _ => Err(format!("unknown option '{flag}'")),
    }
}

/// Levenshtein distance: the fewest single-character edits from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// A message of `Config::validate`, which starts with the field at fault, in the user's terms:
/// with flags for field names, and with the file and line if a config file set that field.
fn located(message: &str, given: &[Given]) -> String {
    let field = message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next();
    let origin = given.iter().rev().find_map(|g| match g.opt.action {
        Action::Field { name, .. } if Some(name) == field => Some(g.origin.as_str()),
        _ => None,
    });
    format!("{}{}", origin.unwrap_or(""), with_flags(message))
}

/// `Config::validate` names fields (`minibatch_size`); the user typed flags (`--batch-size`).
fn with_flags(message: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    // The first word is the field at fault; later words are fields only if they are spelled
    // like one (`num_envs`): "log-std init 89" speaks of σ's initial value, not of `--init`.
    let flush = |word: &mut String, out: &mut String| {
        let flag = OPTIONS.iter().find_map(|o| match o.action {
            Action::Field { name, .. }
                if name == word && (out.is_empty() || word.contains('_')) =>
            {
                Some(o.flag)
            }
            _ => None,
        });
        out.push_str(flag.unwrap_or(word));
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

// ANCHOR: read_config_file
/// The options in a config file, each tagged with its file and line for messages. Only
/// hyperparameters may appear: a file that set `--out` would make every reuse overwrite the
/// run it came from. The file is read up to a size limit (so `/dev/zero` is refused, not read
/// forever); a byte-order mark and any line ending (`\n`, `\r\n`, a lone `\r`) are
/// accepted, as editors on every system write them.
fn read_config_file(path: &Path, program: &str) -> Result<Vec<Given>, String> {
    let shown = terminal::path(path);
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("--config: cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "--config: {shown} is larger than {} KiB, too large for a config file",
            MAX_CONFIG_BYTES / 1024
        ));
    }
    let lines = |text: &str| -> Vec<String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
        text.split(['\n', '\r']).map(String::from).collect()
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        format!("{shown} line {}: not UTF-8 text", lines(valid).len())
    })?;
    let mut given = Vec::new();
    for (number, line) in lines(text).iter().enumerate() {
        let origin = format!("{shown} line {}: ", number + 1);
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (flag, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((flag, value)) => (flag, value.trim()),
            None => (line, ""),
        };
        let opt = find(flag, Scope::Train, program).map_err(|e| format!("{origin}{e}"))?;
        match opt.action {
            Action::Field { .. } | Action::Preset => {}
            _ if opt.flag == "--learning-rate" => {}
            _ => return Err(format!("{origin}{flag} cannot be used in a config file")),
        }
        if value.is_empty() {
            return Err(format!("{origin}{flag} needs a value ({})", opt.value));
        }
        given.push(Given { origin, opt, value: value.into() });
    }
    Ok(given)
}
// ANCHOR_END: read_config_file

// ANCHOR: config_file_text
/// The `config.txt` of a run: every field of `config`, one `--flag value` per line, which
/// `--config` reads back into the same config.
pub fn config_file_text(info: &Info, preset: &Preset, config: &Config) -> String {
    let name = info.name;
    let mut text = format!(
        "# The hyperparameters of a {name} training run, one option per line.\n\
         # Repeat the run with: {name} --config <this file>\n"
    );
    let _ = writeln!(text, "--preset {}", preset.name);
    for opt in OPTIONS {
        if let Action::Field { show, .. } = opt.action {
            let _ = writeln!(text, "{} {}", opt.flag, show(config));
        }
    }
    text
}
// ANCHOR_END: config_file_text

/// The `--help` text, built from the table and the program's presets.
pub fn help_text(info: &Info) -> String {
    let name = info.name;
    let mut text = format!(
        "{name}: {}\n\n\
         Usage:\n  \
         {name} [train] [OPTIONS]      train, then print 'final eval: mean return X ± Y over N episodes'\n  \
         {name} eval --checkpoint PATH [--episodes N] [--render] [--seed N]\n\n\
         A run writes config.txt, metrics.csv, learning_curve.svg and policy.ckpt to its directory;\n\
         a sweep (--seeds) one such directory per seed, and a table of their results.\n\
         Bad options exit with status 2, failures during a run with status 1, Ctrl-C with 130.\n\
         An option given twice takes its last value (a --config file's lines count where it is).\n",
        info.about
    );
    let default = (info.presets[0].config)();
    for (title, scope) in [("Training options", Scope::Train), ("Evaluation options", Scope::Eval)]
    {
        let _ = write!(text, "\n{title}:\n");
        for opt in OPTIONS.iter().filter(|o| o.scope == scope) {
            let shown = match opt.action {
                Action::Field { show, .. } => format!("[default: {}]", show(&default)),
                Action::Setting { default, .. } | Action::Path { default, .. }
                    if !default.is_empty() =>
                {
                    format!("[default: {default}]")
                }
                Action::Preset => format!("[default: {}]", info.presets[0].name),
                _ => String::new(),
            };
            let help = match opt.max {
                Some(max) => format!("{}, 1 to {max}", opt.help),
                None => opt.help.to_string(),
            };
            write_option(&mut text, opt, &help, &shown);
        }
    }
    text.push_str("\nOther options:\n");
    for opt in OPTIONS.iter().filter(|o| o.scope == Scope::Both) {
        write_option(&mut text, opt, opt.help, "");
    }
    text.push_str("\nPresets (--preset NAME; the defaults above are the first one's):\n");
    for preset in info.presets {
        let _ = write!(text, "  {:<24}", preset.name);
        wrap_words(&mut text, preset.about.split(' '), 26, 26);
        let differences = preset_differences(&default, &(preset.config)());
        if !differences.is_empty() {
            // Each `--flag value` stays whole on its line.
            let _ = write!(text, "{:26}", "");
            wrap_words(&mut text, differences.iter().map(String::as_str), 26, 26);
        }
    }
    text
}

/// The options that take `config` from `base`: `--flag value` for every field that differs.
fn preset_differences(base: &Config, config: &Config) -> Vec<String> {
    OPTIONS
        .iter()
        .filter_map(|opt| match opt.action {
            Action::Field { show, .. } if show(base) != show(config) => {
                Some(format!("{} {}", opt.flag, show(config)))
            }
            _ => None,
        })
        .collect()
}

/// One option of the help: the flag in a column, its text wrapped beside it, the default
/// (`[default: …]`) kept whole on one line.
fn write_option(text: &mut String, opt: &Opt, description: &str, default: &str) {
    const COLUMN: usize = 26;
    let flag =
        if opt.is_switch() { opt.flag.to_string() } else { format!("{} {}", opt.flag, opt.value) };
    let _ = write!(text, "  {flag:<w$}", w = COLUMN - 2);
    let used = COLUMN;
    if flag.len() + 2 > COLUMN {
        let _ = write!(text, "\n{:COLUMN$}", "");
    }
    let words = description.split(' ').chain((!default.is_empty()).then_some(default));
    wrap_words(text, words, COLUMN, used);
}

const HELP_WIDTH: usize = 100;

/// Appends `words` to a line that has `used` columns, breaking lines before [`HELP_WIDTH`]
/// and indenting new ones by `column`; ends the last line.
fn wrap_words<'a>(
    text: &mut String,
    words: impl Iterator<Item = &'a str>,
    column: usize,
    mut used: usize,
) {
    for word in words {
        let len = word.chars().count();
        if used > column && used + 1 + len > HELP_WIDTH {
            let _ = write!(text, "\n{:column$}", "");
            used = column;
        }
        if used > column {
            text.push(' ');
            used += 1;
        }
        text.push_str(word);
        used += len;
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gae::TimeLimit;
    use crate::nn::Init;
    use crate::program::Task;
    use crate::program::tasks::PendulumTask;

    const INFO: &Info = &PendulumTask::INFO;

    fn parse(args: &[OsString]) -> Result<Command, String> {
        super::parse(args, INFO)
    }

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn train(line: &str) -> Train {
        match parse(&args(line)) {
            Ok(Command::Train(train)) => train,
            other => panic!("'{line}' should be a training run, got {other:?}"),
        }
    }

    fn error(line: &str) -> String {
        match parse(&args(line)) {
            Err(message) => message,
            Ok(other) => panic!("'{line}' should be refused, got {other:?}"),
        }
    }

    #[test]
    fn flags_are_unique_per_command_and_kebab_case() {
        for (i, a) in OPTIONS.iter().enumerate() {
            assert!(
                a.flag.starts_with("--")
                    && !a.flag[2..].contains(|c: char| !(c.is_ascii_lowercase() || c == '-')),
                "{}",
                a.flag
            );
            for b in &OPTIONS[i + 1..] {
                let overlap = a.applies_to(b.scope) || b.applies_to(a.scope);
                assert!(!(a.flag == b.flag && overlap), "{} appears twice for one command", a.flag);
            }
        }
    }

    /// The names of a struct's fields, read from its `Debug` output: the identifiers before
    /// a `:` at the first level of braces.
    fn debug_field_names(debug: &str) -> Vec<String> {
        let (mut depth, mut names, mut word) = (0, Vec::new(), String::new());
        for c in debug.chars() {
            match c {
                '{' | '(' | '[' => depth += 1,
                '}' | ')' | ']' => depth -= 1,
                ':' if depth == 1 && !word.is_empty() => names.push(std::mem::take(&mut word)),
                c if depth == 1 && (c.is_alphanumeric() || c == '_') => word.push(c),
                _ => word.clear(),
            }
        }
        names
    }

    #[test]
    fn every_config_field_has_exactly_one_flag() {
        // Without a flag a field could not be set, nor recorded in config.txt.
        let mut with_flags: Vec<&str> = OPTIONS
            .iter()
            .filter_map(|o| match o.action {
                Action::Field { name, .. } => Some(name),
                _ => None,
            })
            .collect();
        let mut fields = debug_field_names(&format!("{:?}", Config::default()));
        assert_eq!(fields.len(), 37, "{fields:?}");
        with_flags.sort_unstable();
        fields.sort_unstable();
        assert_eq!(with_flags, fields);
    }

    #[test]
    fn no_options_give_the_default_preset() {
        let run = train("");
        assert_eq!(run.config, Config::default());
        assert_eq!((run.preset.name, run.quiet, run.out), ("default", false, None));
    }

    #[test]
    fn values_are_read_in_both_spellings_and_the_preset_goes_first() {
        let run = train("--gamma 0.9 --preset seed --seed=7 --max-grad-norm none --quiet");
        let expected = Config { gamma: 0.9, seed: 7, max_grad_norm: None, ..Config::seed() };
        assert_eq!(run.config, expected);
        assert!(run.quiet);
        let run = train("train --learning-rate 0.002 --critic-lr 0.01");
        assert_eq!(run.config.actor_learning_rate, 0.002);
        assert_eq!(run.config.critic_learning_rate, 0.01);
    }

    #[test]
    fn std_and_init_round_trip() {
        let run = train("--std log-std,init=-0.5,clamp=none --init pytorch");
        assert_eq!(run.config.std_param, StdParam::LogStd { init: -0.5, clamp: None });
        assert_eq!(run.config.init, Init::PyTorchDefault);
        let run = train("--std softplus");
        assert_eq!(run.config.std_param, StdParam::Softplus);
        let run = train("--std log-std");
        assert_eq!(Config::default().std_param, run.config.std_param);
        assert!(error("--std log-std,clamp=2:-20").contains("empty"));
    }

    #[test]
    fn config_text_reads_back_to_the_same_config() {
        let config = Config {
            gamma: 0.987_654_3,
            actor_learning_rate: 3.3e-4,
            anneal_horizon: None,
            value_clip: Some(0.25),
            std_param: StdParam::LogStd { init: -0.7, clamp: Some((-5.5, 1.25)) },
            time_limit: TimeLimit::AsTerminal,
            seed: u64::MAX,
            ..Config::default()
        };
        let path =
            std::env::temp_dir().join(format!("pendulum-options-{}.txt", std::process::id()));
        std::fs::write(&path, config_file_text(INFO, &INFO.presets[1], &config)).unwrap();
        let read = parse(&["--config".into(), path.clone().into_os_string()]);
        std::fs::remove_file(&path).unwrap();
        match read {
            Ok(Command::Train(run)) => {
                assert_eq!(run.config, config);
                assert_eq!(run.preset.name, "seed");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn eval_options() {
        match parse(&args("eval --checkpoint a/policy.ckpt --episodes 3 --render --seed 9")) {
            Ok(Command::Eval(eval)) => {
                assert_eq!(eval.checkpoint, PathBuf::from("a/policy.ckpt"));
                assert_eq!((eval.episodes, eval.render, eval.seed), (Some(3), true, Some(9)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_and_version_win_where_they_appear() {
        assert!(matches!(parse(&args("--seed 3 --help")), Ok(Command::Help)));
        assert!(matches!(parse(&args("eval -h")), Ok(Command::Help)));
        assert!(matches!(parse(&args("--version")), Ok(Command::Version)));
        // A bad option before it is still reported.
        assert!(parse(&args("--sed 3 --help")).is_err());
    }

    #[test]
    fn bad_input_names_the_option_and_the_reason() {
        let cases = [
            ("--bogus", "unknown option '--bogus'"),
            (
                "--learning_rate 1",
                "unknown option '--learning_rate' (did you mean --learning-rate?)",
            ),
            ("--seed", "--seed needs a value (N)"),
            ("--seed --quiet", "--seed needs a value (N)"),
            ("--seed abc", "--seed: expected a whole number, got 'abc'"),
            ("--quiet=yes", "--quiet takes no value"),
            ("--batch-size 0", "--batch-size must be at least 1"),
            (
                "--batch-size 4096",
                "--batch-size 4096 is larger than a rollout of 2048 transitions (--num-envs × --rollout-steps)",
            ),
            ("--gamma 1.5", "--gamma must be in [0, 1], got 1.5"),
            ("--gae-lambda -0.1", "--gae-lambda must be in [0, 1], got -0.1"),
            ("--actor-lr 0", "--actor-lr must be a positive number, got 0"),
            ("--learning-rate -1e-3", "--learning-rate: must be a positive number, got -0.001"),
            ("--clip-epsilon 0", "--clip-epsilon must be a positive number, got 0"),
            ("--total-timesteps 0", "--total-timesteps must be at least 1"),
            ("--entropy-coef nan", "--entropy-coef must be zero or positive, got NaN"),
            ("--hidden-size 100000", "--hidden-size: must be at most 4096, got 100000"),
            (
                "--epochs 18446744073709551615",
                "--epochs: must be at most 1000, got 18446744073709551615",
            ),
            (
                "--total-timesteps 99999999999999999999999",
                "--total-timesteps: must be at most 1000000000, got 99999999999999999999999",
            ),
            ("--batch-size 1000001", "--batch-size: must be at most 1000000, got 1000001"),
            (
                "eval --checkpoint x --episodes 100001",
                "--episodes: must be at most 100000, got 100001",
            ),
            (
                "--preset fast",
                "--preset: expected 'default', 'seed', 'pytorch-chapter' or 'shared-trunk', got 'fast'",
            ),
            (
                "--time-limit never",
                "--time-limit: expected 'bootstrap', 'as-terminal' or 'ignore', got 'never'",
            ),
            ("--checkpoint x", "--checkpoint is an option of 'pendulum eval', not of training"),
            ("eval --out x", "--out is a training option, not one of 'pendulum eval'"),
            ("eval", "eval needs the checkpoint to evaluate: --checkpoint PATH"),
            ("eval --checkpoint x --episodes 0", "--episodes: must be at least 1"),
            (
                "evaluate",
                "unknown command 'evaluate': the commands are 'train' (the default) and 'eval'",
            ),
            ("--seed 1 2", "unexpected argument '2' (options start with '--')"),
            (
                "--config /nonexistent/config.txt",
                "--config: cannot read /nonexistent/config.txt: No such file or directory (os error 2)",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(error(line), expected, "for '{line}'");
        }
    }

    #[test]
    fn seed_lists_are_ranges_and_seeds_in_the_order_given() {
        assert_eq!(seed_list("1-3"), Ok(vec![1, 2, 3]));
        assert_eq!(seed_list("5,1,2"), Ok(vec![5, 1, 2]));
        assert_eq!(seed_list("1-3,7,10-11"), Ok(vec![1, 2, 3, 7, 10, 11]));
        assert_eq!(seed_list("4-4"), Ok(vec![4]));
        assert_eq!(seed_list("0"), Ok(vec![0]));
        let top = format!("{}-{}", u64::MAX - 1, u64::MAX);
        assert_eq!(seed_list(&top), Ok(vec![u64::MAX - 1, u64::MAX]));
        assert_eq!(seed_list("1-1000").map(|s| s.len()), Ok(MAX_SEEDS));
    }

    #[test]
    fn bad_seed_lists_are_refused_with_the_reason() {
        let cases = [
            ("", "expected seeds like 1-10, 1,2,5 or 1-3,7, got ''"),
            ("x", "expected a seed or a range A-B, got 'x'"),
            ("3-1", "the range 3-1 is empty: write the smaller seed first"),
            ("1,,2", "expected a seed or a range A-B, got ''"),
            ("1,", "expected a seed or a range A-B, got ''"),
            ("-1", "expected a seed or a range A-B, got '-1'"),
            ("1-", "expected a seed or a range A-B, got '1-'"),
            ("1-2-3", "expected a seed or a range A-B, got '1-2-3'"),
            ("+1", "expected a seed or a range A-B, got '+1'"),
            (" 1", "expected a seed or a range A-B, got ' 1'"),
            ("1.5", "expected a seed or a range A-B, got '1.5'"),
            (
                "18446744073709551616",
                "seed 18446744073709551616 is larger than the largest, 18446744073709551615",
            ),
            (
                "1-99999999999999999999",
                "seed 99999999999999999999 is larger than the largest, 18446744073709551615",
            ),
            ("1,2,1", "seed 1 is given twice"),
            ("1-5,3", "seed 3 is given twice"),
            ("1-1001", "at most 1000 seeds, and '1-1001' has more"),
            ("1-600,700-1100", "at most 1000 seeds, and '1-600,700-1100' has more"),
            ("0-18446744073709551615", "at most 1000 seeds, and '0-18446744073709551615' has more"),
        ];
        for (list, expected) in cases {
            assert_eq!(seed_list(list), Err(expected.to_string()), "for '{list}'");
        }
    }

    #[test]
    fn seeds_make_a_sweep_and_refuse_a_typed_seed_but_not_a_config_files() {
        let run = train("--seeds 2-3 --threads 1");
        assert_eq!((run.seeds, run.threads), (Some(vec![2, 3]), 1));
        assert_eq!(train("--seed 4").seeds, None);
        let message =
            "--seeds and --seed cannot be given together: --seeds gives each run its seed";
        assert_eq!(error("--seeds 1-2 --seed 3"), message);
        assert_eq!(error("--seed 3 --seeds 1-2"), message);
        assert_eq!(
            error("--seeds 3-1"),
            "--seeds: the range 3-1 is empty: write the smaller seed first"
        );
        // A run's config.txt, which sets --seed, may be swept.
        let path = std::env::temp_dir().join(format!("pendulum-sweep-{}.txt", std::process::id()));
        std::fs::write(&path, "--seed 9\n--gamma 0.9\n--seeds 1-2\n").unwrap();
        let refused = error(&format!("--config {}", path.display()));
        assert_eq!(
            refused,
            format!("{} line 3: --seeds cannot be used in a config file", path.display())
        );
        std::fs::write(&path, "--seed 9\n--gamma 0.9\n").unwrap();
        let run = train(&format!("--config {} --seeds 1-2", path.display()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!((run.seeds, run.config.gamma), (Some(vec![1, 2]), 0.9));
    }

    #[test]
    fn config_file_errors_name_the_line() {
        let path = std::env::temp_dir().join(format!("pendulum-bad-{}.txt", std::process::id()));
        std::fs::write(&path, "# a comment\n--gamma 0.9\n\n--out somewhere\n").unwrap();
        let message = error(&format!("--config {}", path.display()));
        assert_eq!(
            message,
            format!("{} line 4: --out cannot be used in a config file", path.display())
        );
        std::fs::write(&path, "--gamma 2 # too far-sighted\n--seed 3\n").unwrap();
        let message = error(&format!("--config {}", path.display()));
        assert_eq!(message, format!("{} line 1: --gamma must be in [0, 1], got 2", path.display()));
        // A later option overrides the file's value, and the error follows it.
        let message = error(&format!("--config {} --gamma 3", path.display()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(message, "--gamma must be in [0, 1], got 3");
    }

    #[test]
    fn the_last_of_a_repeated_option_wins() {
        let run =
            train("--seed 3 --gamma 0.5 --seed 4 --preset seed --preset default --quiet --quiet");
        assert_eq!((run.config.seed, run.config.gamma, run.preset.name), (4, 0.5, "default"));
        let path = std::env::temp_dir().join(format!("pendulum-last-{}.txt", std::process::id()));
        std::fs::write(&path, "--seed 5\n--gamma 0.7\n").unwrap();
        let run = train(&format!("--seed 9 --config {} --gamma 0.8", path.display()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!((run.config.seed, run.config.gamma), (5, 0.8));
    }

    #[cfg(unix)]
    #[test]
    fn paths_take_any_bytes_and_other_values_must_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(b"/tmp/\xe9t\xff".to_vec());
        let mut line = args("eval --checkpoint");
        line.push(odd.clone());
        match parse(&line) {
            Ok(Command::Eval(eval)) => assert_eq!(eval.checkpoint.as_os_str(), odd),
            other => panic!("{other:?}"),
        }
        let mut inline = OsString::from("--out=");
        inline.push(&odd);
        match parse(&[inline]) {
            Ok(Command::Train(run)) => assert_eq!(run.out.unwrap().as_os_str(), odd),
            other => panic!("{other:?}"),
        }
        let bad = |args: &[OsString]| match parse(args) {
            Err(message) => message,
            Ok(other) => panic!("{other:?}"),
        };
        let value = OsString::from_vec(b"1\xff".to_vec());
        assert_eq!(bad(&["--seed".into(), value.clone()]), "--seed: '1\\xff' is not valid UTF-8");
        let mut flag = OsString::from("--se");
        flag.push(&value);
        assert_eq!(bad(&[flag]), "unknown option '--se1\\xff'");
        assert!(bad(&[value]).starts_with("unknown command '1\\xff'"));
    }

    #[test]
    fn config_files_may_have_a_bom_and_any_line_endings() {
        let path =
            std::env::temp_dir().join(format!("pendulum-endings-{}.txt", std::process::id()));
        for text in [
            "\u{feff}--seed 5\r\n--gamma 0.7\r\n",
            "--seed 5\r--gamma 0.7\r",
            "\u{feff}# old Mac\r--seed 5\r\r--gamma 0.7",
        ] {
            std::fs::write(&path, text).unwrap();
            let run = train(&format!("--config {}", path.display()));
            assert_eq!((run.config.seed, run.config.gamma), (5, 0.7), "{text:?}");
        }
        // Line numbers count every kind of line ending.
        std::fs::write(&path, "--seed 5\r\n\r--gamma 7\n").unwrap();
        let message = error(&format!("--config {}", path.display()));
        assert_eq!(message, format!("{} line 3: --gamma must be in [0, 1], got 7", path.display()));
        std::fs::write(&path, b"--seed 5\n--gamma \xff\n").unwrap();
        let message = error(&format!("--config {}", path.display()));
        assert_eq!(message, format!("{} line 2: not UTF-8 text", path.display()));
        std::fs::write(&path, vec![b'#'; 64 * 1024 + 1]).unwrap();
        let message = error(&format!("--config {}", path.display()));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            message,
            format!(
                "--config: {} is larger than 64 KiB, too large for a config file",
                path.display()
            )
        );
        #[cfg(unix)]
        assert_eq!(
            error("--config /dev/zero"),
            "--config: /dev/zero is larger than 64 KiB, too large for a config file"
        );
    }

    #[test]
    fn every_count_states_its_bound_in_the_help() {
        let help = help_text(INFO).replace(&format!("\n{:26}", ""), " ");
        for opt in OPTIONS {
            if let Some(max) = opt.max {
                assert!(
                    help.contains(&format!("{}, 1 to {max}", opt.help)),
                    "{} in\n{help}",
                    opt.flag
                );
            }
        }
        assert!(help.contains("An option given twice takes its last value"), "{help}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("--gama", "--gamma"), 1);
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let help = help_text(INFO);
        for opt in OPTIONS {
            assert!(help.contains(opt.flag), "{} missing from help", opt.flag);
        }
        assert!(help.contains("--num-envs N"));
        assert!(help.contains("--num-envs N") && help.contains("[default: 8]"), "{help}");
        // Each preset lists the options in which it differs from the default one.
        let seed = help.lines().skip_while(|l| !l.starts_with("  seed ")).nth(1).unwrap();
        assert!(seed.trim_start().starts_with("--num-envs 1 --rollout-steps 2048"), "{help}");
        assert!(help.lines().all(|l| l.chars().count() <= 100), "{help}");
    }
}

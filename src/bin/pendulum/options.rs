//! The command line, read by hand from one table.
//!
//! [`OPTIONS`] is the only place that knows the flags: parsing, `--help`, the `config.txt`
//! a run leaves behind and the `--config` option that reads it back all go through it. A
//! field of the training [`Config`] has an [`Action::Field`] entry that can both set it from
//! text and print it as text, so what a run writes is exactly what a later run reads.

use ppo::gae::TimeLimit;
use ppo::nn::{Init, StdParam};
use ppo::ppo::Config;
use std::fmt::Write as _;
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
    /// `--preset`: chooses the starting config, before every other option is applied.
    Preset,
    /// `--config FILE`: the options written in FILE, as if given at this place.
    ConfigFile,
    /// `--help` and `--version`: print and stop.
    Help,
    Version,
}

/// The presets a run can start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `Config::default()`: what solves Pendulum.
    Default,
    /// `Config::seed()`: the documents' table.
    Seed,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Default => "default",
            Preset::Seed => "seed",
        }
    }

    fn config(self) -> Config {
        match self {
            Preset::Default => Config::default(),
            Preset::Seed => Config::seed(),
        }
    }
}

/// Everything an option can set; [`parse`] turns it into a [`Command`].
#[derive(Debug)]
pub struct Settings {
    pub preset: Preset,
    pub config: Config,
    pub out: Option<PathBuf>,
    pub quiet: bool,
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

/// `pendulum [train] ...`.
#[derive(Debug)]
pub struct Train {
    pub preset: Preset,
    pub config: Config,
    pub out: Option<PathBuf>,
    pub quiet: bool,
}

/// `pendulum eval ...`.
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
/// Limits that keep a typo from asking for more memory than a machine has.
const MAX_WIDTH: usize = 4096;
const MAX_ENVS: usize = 4096;
const MAX_ROLLOUT: usize = 1_000_000;
const MAX_EPISODES: usize = 100_000;

fn whole(value: &str) -> Result<usize, String> {
    value.parse().map_err(|_| format!("expected a whole number, got '{value}'"))
}

fn whole_at_most(value: &str, max: usize) -> Result<usize, String> {
    let n = whole(value)?;
    if n > max { Err(format!("must be at most {max}, got {n}")) } else { Ok(n) }
}

fn seed(value: &str) -> Result<u64, String> {
    value.parse().map_err(|_| format!("expected a whole number, got '{value}'"))
}

fn number(value: &str) -> Result<f32, String> {
    value.parse().map_err(|_| format!("expected a number, got '{value}'"))
}

fn boolean(value: &str) -> Result<bool, String> {
    value.parse().map_err(|_| format!("expected true or false, got '{value}'"))
}

fn number_or_none(value: &str) -> Result<Option<f32>, String> {
    if value == "none" {
        Ok(None)
    } else {
        value.parse().map(Some).map_err(|_| format!("expected a number or 'none', got '{value}'"))
    }
}

fn display(value: &impl ToString) -> String {
    value.to_string()
}

fn show_optional(value: &Option<f32>) -> String {
    value.map_or("none".to_string(), |v| v.to_string())
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

/// The names of the choices of an enum-valued option, one table for reading and showing.
const TIME_LIMITS: [(&str, TimeLimit); 2] =
    [("bootstrap", TimeLimit::Bootstrap), ("as-terminal", TimeLimit::AsTerminal)];
const INITS: [(&str, Init); 2] =
    [("pytorch", Init::PyTorchDefault), ("orthogonal", Init::Orthogonal)];

/// The choice called `value` in `choices`, or an error listing the names.
fn choice<T: Copy>(value: &str, choices: &[(&str, T)]) -> Result<T, String> {
    choices.iter().find(|(name, _)| *name == value).map(|&(_, choice)| choice).ok_or_else(|| {
        let names: Vec<String> = choices.iter().map(|(name, _)| format!("'{name}'")).collect();
        format!("expected {}, got '{value}'", names.join(" or "))
    })
}

/// The name of `value` in `choices`.
fn choice_name<T: PartialEq>(value: &T, choices: &[(&str, T)]) -> String {
    choices.iter().find(|(_, choice)| choice == value).map_or("?", |(name, _)| name).to_string()
}

fn time_limit(value: &str) -> Result<TimeLimit, String> {
    choice(value, &TIME_LIMITS)
}

fn show_time_limit(value: &TimeLimit) -> String {
    choice_name(value, &TIME_LIMITS)
}

fn init(value: &str) -> Result<Init, String> {
    choice(value, &INITS)
}

fn show_init(value: &Init) -> String {
    choice_name(value, &INITS)
}

// ANCHOR: field
/// An option that sets the field `$field` of `Config`: `$parse` reads it from text, `$show`
/// writes it back in the same form.
macro_rules! field {
    ($flag:literal, $value:literal, $field:ident, $parse:expr, $show:expr, $help:literal) => {
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
        }
    };
}
// ANCHOR_END: field

// ANCHOR: options
/// The option table: the single place that knows every flag.
#[rustfmt::skip] // a table reads best as one: rustfmt would give every argument its own line
pub const OPTIONS: &[Opt] = &[
    Opt { flag: "--preset", value: "NAME", scope: Scope::Train, action: Action::Preset,
        help: "starting hyperparameters: 'default' (solves Pendulum) or 'seed' (the documents' table); every other option overrides it, wherever it appears" },
    Opt { flag: "--config", value: "FILE", scope: Scope::Train, action: Action::ConfigFile,
        help: "read options from FILE, one '--flag value' per line ('#' starts a comment), as if given here; a run's config.txt is such a file, so 'pendulum --config runs/X/config.txt' repeats run X exactly" },
    field!("--seed", "N", seed, seed, display,
        "seed of the run's one random generator: same seed and options, same run, bit for bit"),
    field!("--total-timesteps", "N", total_timesteps, whole, display,
        "environment steps to train for, over all environments (rounded up to whole rollouts)"),
    field!("--num-envs", "N", num_envs, |v| whole_at_most(v, MAX_ENVS), display,
        "environments stepped together"),
    field!("--rollout-steps", "N", rollout_steps, |v| whole_at_most(v, MAX_ROLLOUT), display,
        "steps collected from each environment per update; a rollout is num-envs × rollout-steps transitions"),
    field!("--epochs", "N", epochs, whole, display,
        "passes over each rollout"),
    field!("--batch-size", "N", minibatch_size, whole, display,
        "transitions per gradient step (minibatch), at most one rollout"),
    field!("--gamma", "X", gamma, number, display,
        "discount factor γ, in [0, 1]"),
    field!("--gae-lambda", "X", gae_lambda, number, display,
        "GAE's λ, in [0, 1]: 0 trusts the critic, 1 the observed returns"),
    field!("--clip-epsilon", "X", clip_epsilon, number, display,
        "clip range ε of the probability ratio, above 0"),
    Opt { flag: "--learning-rate", value: "X", scope: Scope::Train,
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
        "decay both learning rates linearly over the run, to 1/U of their start on the last of U updates: true or false"),
    field!("--entropy-coef", "X", entropy_coef, number, display,
        "weight of the entropy bonus, 0 or more"),
    field!("--max-grad-norm", "X", max_grad_norm, number_or_none, show_optional,
        "limit of each network's global gradient norm, or 'none'"),
    field!("--value-clip", "X", value_clip, number_or_none, show_optional,
        "clip range of the critic's values around their collection-time values, or 'none'"),
    field!("--normalize-advantages", "BOOL", normalize_advantages, boolean, display,
        "normalize advantages over each rollout: true or false"),
    field!("--time-limit", "MODE", time_limit, time_limit, show_time_limit,
        "an episode cut off at 200 steps is 'bootstrap'ped from the critic or treated 'as-terminal'"),
    field!("--reward-scale", "X", reward_scale, number, display,
        "factor applied to rewards for learning, above 0 (reported returns are unscaled)"),
    field!("--hidden-size", "N", hidden_size, |v| whole_at_most(v, MAX_WIDTH), display,
        "width of the two hidden layers of both networks"),
    field!("--std", "KIND", std_param, std_param, show_std_param,
        "the actor's σ: 'softplus' (a head on the network, σ depends on the state), 'log-std[,init=X][,clamp=LO:HI|none]' (a learned log σ, the same in every state; init 0 and clamp -20:2 unless given) or 'log-std-head[,clamp=LO:HI]' (a head giving log σ, clamped, -20:2 unless given)"),
    field!("--init", "KIND", init, init, show_init,
        "weight initialization: 'pytorch' (uniform, PyTorch's default) or 'orthogonal'"),
    Opt { flag: "--out", value: "DIR", scope: Scope::Train,
        help: "directory for the run's files (created if needed; files in it are replaced)",
        action: Action::Setting { default: "runs/<preset>-seed<N>-<time>", apply: |s, v| {
            if v.is_empty() {
                return Err("expected a directory, got ''".into());
            }
            s.out = Some(PathBuf::from(v));
            Ok(())
        } } },
    Opt { flag: "--quiet", value: "", scope: Scope::Train,
        help: "print only the final line",
        action: Action::Setting { default: "off", apply: |s, _| { s.quiet = true; Ok(()) } } },

    Opt { flag: "--checkpoint", value: "PATH", scope: Scope::Eval,
        help: "the policy.ckpt to evaluate (required)",
        action: Action::Setting { default: "", apply: |s, v| {
            s.checkpoint = Some(PathBuf::from(v));
            Ok(())
        } } },
    Opt { flag: "--episodes", value: "N", scope: Scope::Eval,
        help: "episodes to run, 1 or more",
        action: Action::Setting { default: "100, or 5 with --render", apply: |s, v| {
            match whole_at_most(v, MAX_EPISODES)? {
                0 => Err("must be at least 1".into()),
                n => { s.episodes = Some(n); Ok(()) }
            }
        } } },
    Opt { flag: "--render", value: "", scope: Scope::Eval,
        help: "on a terminal, animate each episode at 20 frames per second; Ctrl-C stops",
        action: Action::Setting { default: "off", apply: |s, _| { s.render = true; Ok(()) } } },
    Opt { flag: "--seed", value: "N", scope: Scope::Eval,
        help: "seed of the episodes' starting states",
        action: Action::Setting { default: "the one the training run's final evaluation used",
            apply: |s, v| seed(v).map(|n| s.eval_seed = Some(n)) } },

    Opt { flag: "--help", value: "", scope: Scope::Both, help: "print this help", action: Action::Help },
    Opt { flag: "--version", value: "", scope: Scope::Both, help: "print the version", action: Action::Version },
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
    value: String,
}

/// Reads the arguments (without the program name).
///
/// # Errors
/// A one-line message naming the option and what is wrong with it.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let (command, args) = match args.first().map(String::as_str) {
        Some("train") => (Scope::Train, &args[1..]),
        Some("eval") => (Scope::Eval, &args[1..]),
        Some(first) if !first.starts_with('-') => {
            return Err(format!(
                "unknown command '{first}': the commands are 'train' (the default) and 'eval'"
            ));
        }
        _ => (Scope::Train, args),
    };
    let mut given = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let flag = if flag == "-h" { "--help" } else { flag };
        let opt = find(flag, command)?;
        let value = if opt.is_switch() {
            if inline.is_some() {
                return Err(format!("{} takes no value", opt.flag));
            }
            String::new()
        } else if let Some(value) = inline {
            value
        } else {
            i += 1;
            match args.get(i) {
                Some(value) if !value.starts_with("--") => value.clone(),
                _ => return Err(format!("{} needs a value ({})", opt.flag, opt.value)),
            }
        };
        match opt.action {
            Action::Help => return Ok(Command::Help),
            Action::Version => return Ok(Command::Version),
            Action::ConfigFile => given.extend(read_config_file(Path::new(&value))?),
            _ => given.push(Given { origin: String::new(), opt, value }),
        }
        i += 1;
    }

    let preset = match given.iter().rev().find(|g| matches!(g.opt.action, Action::Preset)) {
        None => Preset::Default,
        Some(g) => match g.value.as_str() {
            "default" => Preset::Default,
            "seed" => Preset::Seed,
            other => {
                return Err(format!(
                    "{}--preset: expected 'default' or 'seed', got '{other}'",
                    g.origin
                ));
            }
        },
    };
    let mut settings = Settings {
        preset,
        config: preset.config(),
        out: None,
        quiet: false,
        checkpoint: None,
        episodes: None,
        render: false,
        eval_seed: None,
    };
    for g in &given {
        let result = match g.opt.action {
            Action::Field { set, .. } => set(&mut settings.config, &g.value),
            Action::Setting { apply, .. } => apply(&mut settings, &g.value),
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
            Ok(Command::Train(Train {
                preset: settings.preset,
                config,
                out: settings.out,
                quiet: settings.quiet,
            }))
        }
    }
}

/// The option `flag` of `command`, or an error that says why there is none.
fn find(flag: &str, command: Scope) -> Result<&'static Opt, String> {
    if let Some(opt) = OPTIONS.iter().find(|o| o.flag == flag && o.applies_to(command)) {
        return Ok(opt);
    }
    if !flag.starts_with("--") {
        return Err(format!("unexpected argument '{flag}' (options start with '--')"));
    }
    if OPTIONS.iter().any(|o| o.flag == flag) {
        return Err(match command {
            Scope::Eval => format!("{flag} is a training option, not one of 'pendulum eval'"),
            _ => format!("{flag} is an option of 'pendulum eval', not of training"),
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
    let flush = |word: &mut String, out: &mut String| {
        let flag = OPTIONS.iter().find_map(|o| match o.action {
            Action::Field { name, .. } if name == word => Some(o.flag),
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

/// The options in a config file, each tagged with its file and line for messages. Only
/// hyperparameters may appear: a file that set `--out` would make every reuse overwrite the
/// run it came from.
fn read_config_file(path: &Path) -> Result<Vec<Given>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--config: cannot read {}: {e}", path.display()))?;
    let mut given = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let origin = format!("{} line {}: ", path.display(), number + 1);
        let (flag, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((flag, value)) => (flag, value.trim()),
            None => (line, ""),
        };
        let opt = find(flag, Scope::Train).map_err(|e| format!("{origin}{e}"))?;
        match opt.action {
            Action::Field { .. } | Action::Preset => {}
            _ if opt.flag == "--learning-rate" => {}
            _ => return Err(format!("{origin}{flag} cannot be used in a config file")),
        }
        if value.is_empty() {
            return Err(format!("{origin}{flag} needs a value ({})", opt.value));
        }
        given.push(Given { origin, opt, value: value.to_string() });
    }
    Ok(given)
}

// ANCHOR: config_file_text
/// The `config.txt` of a run: every field of `config`, one `--flag value` per line, which
/// `--config` reads back into the same config.
pub fn config_file_text(preset: Preset, config: &Config) -> String {
    let mut text = String::from(
        "# The hyperparameters of a pendulum training run, one option per line.\n\
         # Repeat the run with: pendulum --config <this file>\n",
    );
    let _ = writeln!(text, "--preset {}", preset.name());
    for opt in OPTIONS {
        if let Action::Field { show, .. } = opt.action {
            let _ = writeln!(text, "{} {}", opt.flag, show(config));
        }
    }
    text
}
// ANCHOR_END: config_file_text

/// The `--help` text, built from the table.
pub fn help_text() -> String {
    let mut text = String::from(
        "pendulum: train a PPO agent on Pendulum-v1, save it, evaluate it, watch it\n\n\
         Usage:\n  \
         pendulum [train] [OPTIONS]      train, then print 'final eval: mean return X ± Y over N episodes'\n  \
         pendulum eval --checkpoint PATH [--episodes N] [--render] [--seed N]\n\n\
         A run writes config.txt, metrics.csv, learning_curve.svg and policy.ckpt to its directory.\n\
         Bad options exit with status 2, failures during a run with status 1.\n",
    );
    let (default, seed) = (Config::default(), Config::seed());
    for (title, scope) in [("Training options", Scope::Train), ("Evaluation options", Scope::Eval)]
    {
        let _ = write!(text, "\n{title}:\n");
        for opt in OPTIONS.iter().filter(|o| o.scope == scope) {
            let shown = match opt.action {
                Action::Field { show, .. } if show(&default) == show(&seed) => {
                    format!("[default: {}]", show(&default))
                }
                Action::Field { show, .. } => {
                    format!("[default: {}; seed preset: {}]", show(&default), show(&seed))
                }
                Action::Setting { default, .. } if !default.is_empty() => {
                    format!("[default: {default}]")
                }
                Action::Preset => "[default: default]".to_string(),
                _ => String::new(),
            };
            write_option(&mut text, opt, opt.help, &shown);
        }
    }
    text.push_str("\nOther options:\n");
    for opt in OPTIONS.iter().filter(|o| o.scope == Scope::Both) {
        write_option(&mut text, opt, opt.help, "");
    }
    text
}

/// One option of the help: the flag in a column, its text wrapped beside it, the default
/// (`[default: …]`) kept whole on one line.
fn write_option(text: &mut String, opt: &Opt, description: &str, default: &str) {
    const COLUMN: usize = 26;
    const WIDTH: usize = 100;
    let flag =
        if opt.is_switch() { opt.flag.to_string() } else { format!("{} {}", opt.flag, opt.value) };
    let _ = write!(text, "  {flag:<w$}", w = COLUMN - 2);
    let mut used = COLUMN;
    if flag.len() + 2 > COLUMN {
        let _ = write!(text, "\n{:COLUMN$}", "");
    }
    let words = description.split(' ').chain((!default.is_empty()).then_some(default));
    for word in words {
        let len = word.chars().count();
        if used > COLUMN && used + 1 + len > WIDTH {
            let _ = write!(text, "\n{:COLUMN$}", "");
            used = COLUMN;
        }
        if used > COLUMN {
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

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
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
        assert_eq!(fields.len(), 21, "{fields:?}");
        with_flags.sort_unstable();
        fields.sort_unstable();
        assert_eq!(with_flags, fields);
    }

    #[test]
    fn no_options_give_the_default_preset() {
        let run = train("");
        assert_eq!(run.config, Config::default());
        assert_eq!((run.preset, run.quiet, run.out), (Preset::Default, false, None));
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
            value_clip: Some(0.25),
            std_param: StdParam::LogStd { init: -0.7, clamp: Some((-5.5, 1.25)) },
            time_limit: TimeLimit::AsTerminal,
            seed: u64::MAX,
            ..Config::default()
        };
        let path =
            std::env::temp_dir().join(format!("pendulum-options-{}.txt", std::process::id()));
        std::fs::write(&path, config_file_text(Preset::Seed, &config)).unwrap();
        let read = parse(&["--config".to_string(), path.display().to_string()]);
        std::fs::remove_file(&path).unwrap();
        match read {
            Ok(Command::Train(run)) => {
                assert_eq!(run.config, config);
                assert_eq!(run.preset, Preset::Seed);
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
            ("--preset fast", "--preset: expected 'default' or 'seed', got 'fast'"),
            (
                "--time-limit never",
                "--time-limit: expected 'bootstrap' or 'as-terminal', got 'never'",
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
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("--gama", "--gamma"), 1);
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let help = help_text();
        for opt in OPTIONS {
            assert!(help.contains(opt.flag), "{} missing from help", opt.flag);
        }
        assert!(help.contains("--num-envs N"));
        assert!(help.contains("[default: 8; seed preset: 1]"), "{help}");
        assert!(help.lines().all(|l| l.chars().count() <= 100), "{help}");
    }
}

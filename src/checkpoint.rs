//! Chapter 13 (part): saving a trained agent and loading it back.
//!
//! A checkpoint is everything needed to run a trained agent again and to know where it came
//! from: the training [`Config`], the sizes of both networks, every parameter of the actor and
//! the critic, and how far training had got. [`save`] writes one, [`load`] reads one back and
//! rebuilds the networks, and [`write_atomic`] is how every file of a run reaches the disk.
//!
//! The format is a small binary one written by hand (a text format would round floats, or
//! need seventeen digits each to avoid it). It starts with a magic string, so that any other
//! file is recognized as "not a ppo checkpoint", and a format version, so that a later program
//! can read old files or refuse them by name; it states its own length, so that a truncated
//! file is told apart from a corrupted one; and it ends with a checksum, so that a flipped bit
//! anywhere is caught before a wrong number reaches a network.
//!
//! The checksum is 64-bit FNV-1a: for each byte, `h = (h ^ byte) · 0x100000001b3`. Each step
//! is a bijection of `h` (xor with a fixed byte, then multiplication by an odd number modulo
//! 2⁶⁴), so two files that differ in a single byte always have different checksums. It is not
//! a defence against deliberate tampering, only against accidents, which is all we need.
//!
//! Saving the same networks and config twice gives the same bytes: nothing in the file
//! depends on the time or the machine.
#![doc = include_str!("checkpoint_format.md")]

pub(crate) mod atomic;
mod fields;

pub use atomic::{is_temporary_of, write_atomic};

use crate::config::Choice;
use crate::nn::{Actor, ActorConfig, Critic, CriticConfig, StdParam};
use crate::normalize::RunningStats;
use crate::ppo::Config;
use fields::{Reader, Writer, to_u32};
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The first eight bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"PPO-CKPT";
/// The format version this program writes and reads.
pub const FORMAT_VERSION: u32 = 2;
/// Magic, version and length: what must be read before anything else can be trusted.
const HEADER_BYTES: usize = 8 + 4 + 8;
const CHECKSUM_BYTES: usize = 8;

/// How far training had got when a checkpoint was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Collect–learn iterations completed (0: the networks as initialized).
    pub update: u64,
    /// Environment steps taken.
    pub timesteps: u64,
}

/// A loaded checkpoint: the environment and the config it was trained with, the networks,
/// and its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Gymnasium's name of the environment (`Pendulum-v1`), or empty if none was recorded.
    pub env: String,
    pub config: Config,
    pub actor: Actor,
    pub critic: Critic,
    /// The observation statistics to normalize with, when the config normalizes them.
    pub observation_stats: Option<RunningStats>,
    pub progress: Progress,
}

/// Why a checkpoint could not be saved or loaded; its `Display` names the file.
#[derive(Debug)]
pub struct CheckpointError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a checkpoint file.
#[derive(Debug)]
pub enum Problem {
    /// It could not be read or written.
    Io(std::io::Error),
    /// It has no bytes at all.
    Empty,
    /// It does not start with [`MAGIC`].
    NotACheckpoint,
    /// It is a checkpoint of another format version.
    Version { found: u32 },
    /// It is shorter than its header says: the write was cut off.
    Truncated { found: u64, expected: u64 },
    /// It is longer than its header says.
    TooLong { found: u64, expected: u64 },
    /// It is whole, but its length field was damaged: with the true length in its place the
    /// checksum matches.
    LengthField { says: u64, found: u64 },
    /// It is larger than any checkpoint of the networks the program can build (`found` is a
    /// lower bound when the file is a stream).
    TooLarge { found: u64, limit: u64 },
    /// The checksum matches, but a parameter is NaN or infinite: the file was altered.
    NonFinite { network: String, tensor: String, index: Vec<usize>, value: f32 },
    /// The checksum does not match the contents.
    Checksum,
    /// The checksum matches, but a field holds an impossible value (a bug in the writer).
    Malformed(String),
    /// The networks' sizes do not match the config or the stored tensors.
    Sizes(String),
}

impl CheckpointError {
    /// The message, with the file shown as `path` (a program may escape what it shows).
    pub fn message_with(&self, path: &str) -> String {
        match &self.problem {
            Problem::Io(e) => format!("checkpoint {path}: {e}"),
            Problem::Empty => format!("checkpoint {path} is empty"),
            Problem::NotACheckpoint => {
                format!("{path} is not a ppo checkpoint (it does not start with 'PPO-CKPT')")
            }
            Problem::Version { found } => format!(
                "checkpoint {path} has format version {found}, this program reads {FORMAT_VERSION}"
            ),
            // Cut off inside the header, the file announces no length yet.
            Problem::Truncated { found, expected } if *expected == HEADER_BYTES as u64 => format!(
                "checkpoint {path} is truncated: {found} bytes, less than the {HEADER_BYTES}-byte header"
            ),
            Problem::Truncated { found, expected } => format!(
                "checkpoint {path} is truncated: {found} bytes of the {expected} its header announces"
            ),
            Problem::TooLong { found, expected } => format!(
                "checkpoint {path} is corrupted: its length field says {expected} bytes but the file has {found}"
            ),
            Problem::LengthField { says, found } => format!(
                "checkpoint {path} is corrupted: its length field says {says} bytes but the file has {found}, which is complete (the checksum matches with {found} there); only the length field is damaged"
            ),
            Problem::TooLarge { found, limit } => format!(
                "{path} is not a checkpoint this program can load: it has {found} bytes or more, and the largest networks the options allow take {limit}"
            ),
            Problem::Checksum => format!("checkpoint {path}: checksum mismatch (corrupted)"),
            Problem::Malformed(what) => format!("checkpoint {path} is malformed: {what}"),
            Problem::Sizes(what) => format!("checkpoint {path}: {what}"),
            Problem::NonFinite { network, tensor, index, value } => format!(
                "checkpoint {path}: the {network}'s parameter {tensor} is {value} at index {index:?}; a trained network is finite, so the file was altered"
            ),
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_with(&self.path.display().to_string()))
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Writes a checkpoint of `actor` and `critic`, trained with `config`, to `path` atomically,
/// with no environment recorded ([`save_for`] records one).
///
/// # Errors
/// If the file cannot be written.
///
/// # Panics
/// If `config` normalizes observations: such networks are worth nothing without the
/// statistics they were trained on, so they are saved with [`save_snapshot`], which carries
/// them.
pub fn save(
    path: &Path,
    config: &Config,
    actor: &Actor,
    critic: &Critic,
    progress: Progress,
) -> Result<(), CheckpointError> {
    save_for(path, "", config, actor, critic, progress)
}

/// [`save`], recording that the agent was trained on the environment `env` (Gymnasium's
/// name, `Pendulum-v1`), so that a program for another one can refuse it.
///
/// # Errors
/// If the file cannot be written.
///
/// # Panics
/// As [`save`].
pub fn save_for(
    path: &Path,
    env: &str,
    config: &Config,
    actor: &Actor,
    critic: &Critic,
    progress: Progress,
) -> Result<(), CheckpointError> {
    save_snapshot(path, &without_statistics(env, config, actor, critic, progress))
}

/// Everything a checkpoint holds, borrowed from a trainer for saving.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    /// Gymnasium's name of the environment, or empty.
    pub env: &'a str,
    pub config: &'a Config,
    pub actor: &'a Actor,
    pub critic: &'a Critic,
    /// The observation statistics the networks were trained to read, if observations were
    /// normalized: evaluation must normalize with them.
    pub observation_stats: Option<&'a RunningStats>,
    pub progress: Progress,
}

/// Writes `snapshot` to `path` atomically.
///
/// # Errors
/// If the file cannot be written.
pub fn save_snapshot(path: &Path, snapshot: &Snapshot<'_>) -> Result<(), CheckpointError> {
    write_atomic(path, &encode_snapshot(snapshot))
        .map_err(|e| CheckpointError { path: path.to_path_buf(), problem: Problem::Io(e) })
}

// ANCHOR: load
/// Reads the checkpoint at `path` and rebuilds its networks, reading at most `limit` bytes
/// (see [`size_limit`]): a stream that never ends (`/dev/zero`, a pipe) or a huge file is
/// refused with bounded memory. The header comes first, so that a file that is not a
/// checkpoint at all is refused after 20 bytes.
///
/// # Errors
/// If the file cannot be read, or is not a checkpoint, or one of another version, or is
/// truncated, corrupted or too large, or describes networks that do not fit their parameters.
pub fn load(path: &Path, limit: u64) -> Result<Checkpoint, CheckpointError> {
    let error = |problem| CheckpointError { path: path.to_path_buf(), problem };
    let bytes = read_bounded(path, limit).map_err(error)?;
    decode(&bytes).map_err(error)
}

/// The file's bytes, if its header is a checkpoint's and it has at most `limit` of them.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Problem> {
    let mut file = std::fs::File::open(path).map_err(Problem::Io)?;
    let mut bytes = Vec::new();
    (&mut file).take(HEADER_BYTES as u64).read_to_end(&mut bytes).map_err(Problem::Io)?;
    check_header(&bytes)?;
    // A regular file says how large it is: a huge one is refused without reading it.
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > limit
    {
        return Err(Problem::TooLarge { found: meta.len(), limit });
    }
    // The announced length cannot bound the read, since it may be the damaged part; the
    // limit can. One byte more than it tells a stream that goes on from one that stops.
    let rest = limit.saturating_sub(HEADER_BYTES as u64).saturating_add(1);
    (&mut file).take(rest).read_to_end(&mut bytes).map_err(Problem::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Problem::TooLarge { found: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// An upper bound on the size of a checkpoint of two hidden layers of at most `max_hidden`
/// units for `obs_size` observations and `action_size` actions: the parameters of the
/// largest actor (with a σ head) and critic, plus room for every other field.
pub fn size_limit(obs_size: usize, action_size: usize, max_hidden: usize) -> u64 {
    let (obs, actions, hidden) = (obs_size as u64, action_size as u64, max_hidden as u64);
    let trunk = (obs + 1) * hidden + (hidden + 1) * hidden;
    let actor = trunk + 2 * (hidden + 1) * actions;
    let critic = trunk + hidden + 1;
    // Header, progress, config, sizes and the tensors' names and shapes take under 1 KiB.
    const OTHER_FIELDS: u64 = 4096;
    4 * (actor + critic) + OTHER_FIELDS
}
// ANCHOR_END: load

// ANCHOR: encode
/// The checkpoint's bytes, laid out as the format table says, with no environment recorded.
///
/// # Panics
/// As [`save`].
pub fn encode(config: &Config, actor: &Actor, critic: &Critic, progress: Progress) -> Vec<u8> {
    encode_for("", config, actor, critic, progress)
}

/// [`encode`], recording the environment `env`.
///
/// # Panics
/// As [`save`].
pub fn encode_for(
    env: &str,
    config: &Config,
    actor: &Actor,
    critic: &Critic,
    progress: Progress,
) -> Vec<u8> {
    encode_snapshot(&without_statistics(env, config, actor, critic, progress))
}

/// The snapshot of networks that read raw observations.
///
/// # Panics
/// If `config` normalizes observations: the file would load nowhere (chapter 18), and only
/// its writer can still supply the statistics.
fn without_statistics<'a>(
    env: &'a str,
    config: &'a Config,
    actor: &'a Actor,
    critic: &'a Critic,
    progress: Progress,
) -> Snapshot<'a> {
    assert!(
        !config.normalize_observations,
        "this config normalizes observations: save its networks with their statistics \
         (save_snapshot, with Trainer::observation_stats)"
    );
    Snapshot { env, config, actor, critic, observation_stats: None, progress }
}

/// The bytes of `snapshot`, laid out as the format table says, whatever it holds: statistics
/// that disagree with the config are written as given (and refused by [`decode`]), so that
/// tests can make such files.
pub fn encode_snapshot(snapshot: &Snapshot<'_>) -> Vec<u8> {
    let Snapshot { env, config, actor, critic, observation_stats, progress } = *snapshot;
    let mut w = Writer(Vec::new());
    w.0.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0); // the length, filled in below once it is known
    w.u64(progress.update);
    w.u64(progress.timesteps);
    w.string(env);
    write_config(&mut w, config);

    let a = actor.config();
    w.u32(to_u32(a.obs_size));
    w.u32(to_u32(a.action_size));
    w.f32(a.action_scale);
    w.u8(a.activation.code());
    w.sizes(&a.hidden);
    let c = critic.config();
    w.u32(to_u32(c.obs_size));
    w.u8(c.activation.code());
    w.sizes(&c.hidden);

    w.tensors(&actor.parameter_names(), &actor.parameters());
    w.tensors(&critic.parameter_names(), &critic.parameters());
    w.bool(observation_stats.is_some());
    if let Some(stats) = observation_stats {
        w.u32(to_u32(stats.dims()));
        w.f64(stats.count);
        for &x in stats.mean.iter().chain(&stats.var) {
            w.f64(x);
        }
    }

    let mut bytes = w.0;
    let length = (bytes.len() + CHECKSUM_BYTES) as u64;
    bytes[12..20].copy_from_slice(&length.to_le_bytes());
    let checksum = fnv1a(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}
// ANCHOR_END: encode

// ANCHOR: decode_header
/// Parses a checkpoint. The order of the checks is what makes the errors precise: the magic
/// first (is this ours at all?), then the version (can we read it?), then the length
/// (truncated?), then the checksum (corrupted?), and only then the contents.
///
/// # Errors
/// The [`Problem`] found.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, Problem> {
    let found = bytes.len() as u64;
    let expected = check_header(bytes)?;
    if found != expected {
        // The checksum covers the length field. If it matches once the true length is put
        // there, every other byte is as written: the file is whole and only the field broke.
        let whole = found >= (HEADER_BYTES + CHECKSUM_BYTES) as u64 && {
            let (body, stored) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
            let length = found.to_le_bytes();
            let repaired = body[..12].iter().chain(&length).chain(&body[20..]);
            fnv1a(repaired).to_le_bytes() == stored
        };
        return Err(if whole {
            Problem::LengthField { says: expected, found }
        } else if found < expected {
            Problem::Truncated { found, expected }
        } else {
            Problem::TooLong { found, expected }
        });
    }
    if expected < (HEADER_BYTES + CHECKSUM_BYTES) as u64 {
        return Err(Problem::Malformed(format!("a length of {expected} bytes")));
    }
    let (body, stored) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    let stored = u64::from_le_bytes(stored.try_into().expect("eight bytes"));
    if fnv1a(body) != stored {
        return Err(Problem::Checksum);
    }
    // ANCHOR_END: decode_header

    // ANCHOR: decode_configs
    let mut r = Reader { bytes: body, at: HEADER_BYTES };
    let progress = Progress { update: r.u64()?, timesteps: r.u64()? };
    let env = r.string("the environment's name")?;
    let config = read_config(&mut r)?;
    config.validate().map_err(|e| Problem::Malformed(format!("config: {e}")))?;

    let actor_config = ActorConfig {
        obs_size: r.u32()? as usize,
        action_size: r.u32()? as usize,
        action_scale: r.f32()?,
        activation: r.choice("activation")?,
        hidden: r.sizes()?,
        std: config.std_param,
        init: config.init,
        head: config.distribution.head(),
    };
    let critic_config = CriticConfig {
        obs_size: r.u32()? as usize,
        activation: r.choice("activation")?,
        hidden: r.sizes()?,
        init: config.init,
    };
    check_sizes(&config, &actor_config, &critic_config, r.remaining())?;
    // ANCHOR_END: decode_configs

    // ANCHOR: decode_networks
    // The networks are built with zero weights only to be overwritten: that way the file is
    // checked against the very shapes that `Actor::new` would produce, without the cost of
    // initializing weights that are thrown away.
    let mut actor = Actor::zeroed(&actor_config);
    let mut critic = Critic::zeroed(&critic_config);
    let describe = sizes_of(&actor_config.hidden, actor_config.obs_size, actor_config.action_size);
    let actor_tensors = r.tensors(&actor.parameter_names(), "actor")?;
    actor
        .load_parameters(&actor_tensors)
        .map_err(|e| Problem::Sizes(format!("actor of sizes {describe}: {e}")))?;
    let describe = sizes_of(&critic_config.hidden, critic_config.obs_size, 1);
    let critic_tensors = r.tensors(&critic.parameter_names(), "critic")?;
    critic
        .load_parameters(&critic_tensors)
        .map_err(|e| Problem::Sizes(format!("critic of sizes {describe}: {e}")))?;
    let observation_stats = read_observation_stats(&mut r, &config, actor_config.obs_size)?;
    if r.remaining() != 0 {
        return Err(Problem::Malformed(format!(
            "{} unexpected bytes after the parameters",
            r.remaining()
        )));
    }
    Ok(Checkpoint { env, config, actor, critic, observation_stats, progress })
}
// ANCHOR_END: decode_networks

/// The observation statistics after the networks: present exactly when the config normalizes
/// observations, of the observations' size, with a positive count and finite moments.
fn read_observation_stats(
    r: &mut Reader,
    config: &Config,
    obs_size: usize,
) -> Result<Option<RunningStats>, Problem> {
    let present = r.bool()?;
    if present != config.normalize_observations {
        return Err(Problem::Malformed(format!(
            "observation statistics {} where the config {} observations",
            if present { "stored" } else { "missing" },
            if config.normalize_observations { "normalizes" } else { "does not normalize" }
        )));
    }
    if !present {
        return Ok(None);
    }
    let dims = r.u32()? as usize;
    if dims != obs_size || dims.saturating_mul(16) > r.remaining() {
        return Err(Problem::Sizes(format!(
            "observation statistics of {dims} components for observations of {obs_size}"
        )));
    }
    let count = r.f64()?;
    let mut values = (0..2 * dims).map(|_| r.f64()).collect::<Result<Vec<f64>, Problem>>()?;
    let var = values.split_off(dims);
    let finite =
        count > 0.0 && count.is_finite() && values.iter().chain(&var).all(|x| x.is_finite());
    if !finite || var.iter().any(|&v| v < 0.0) {
        return Err(Problem::Malformed("observation statistics that are not finite".into()));
    }
    Ok(Some(RunningStats { mean: values, var, count }))
}

/// Checks the magic and the version at the start of `bytes`, the whole file or its first
/// [`HEADER_BYTES`], and returns the length the header announces.
fn check_header(bytes: &[u8]) -> Result<u64, Problem> {
    let found = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(Problem::Empty);
    }
    let magic = &bytes[..bytes.len().min(MAGIC.len())];
    if magic != &MAGIC[..magic.len()] {
        return Err(Problem::NotACheckpoint);
    }
    // A file cut off inside the header is a truncated checkpoint.
    if bytes.len() < HEADER_BYTES {
        return Err(Problem::Truncated { found, expected: HEADER_BYTES as u64 });
    }
    let mut r = Reader { bytes: &bytes[8..HEADER_BYTES], at: 0 };
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(Problem::Version { found: version });
    }
    r.u64()
}

/// Network sizes written as a chain: `3 → 64 → 64 → 1`.
pub fn sizes_of(hidden: &[usize], inputs: usize, outputs: usize) -> String {
    let chain: Vec<String> = std::iter::once(inputs)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(outputs))
        .map(|n| n.to_string())
        .collect();
    chain.join(" → ")
}

/// The sizes must be what the config says (two hidden layers of `hidden_size`), usable by
/// `Actor::new` (which panics on zero sizes), and each layer's weights must fit in the bytes
/// left, which bounds what building the networks allocates by the size of the file.
fn check_sizes(
    config: &Config,
    actor: &ActorConfig,
    critic: &CriticConfig,
    bytes_left: usize,
) -> Result<(), Problem> {
    let sizes = format!(
        "networks of sizes {} (actor) and {} (critic)",
        sizes_of(&actor.hidden, actor.obs_size, actor.action_size),
        sizes_of(&critic.hidden, critic.obs_size, 1)
    );
    if actor.activation != config.activation || critic.activation != config.activation {
        return Err(Problem::Sizes(format!(
            "{sizes} use the activations {} and {}, the config says {}",
            actor.activation.name(),
            critic.activation.name(),
            config.activation.name()
        )));
    }
    let expected_hidden = vec![config.hidden_size; 2];
    // A shared network's critic is the value head alone, reading the trunk's last layer.
    let (critic_hidden, critic_input) = if config.shared_network {
        (vec![], config.hidden_size)
    } else {
        (expected_hidden.clone(), actor.obs_size)
    };
    if actor.hidden != expected_hidden || critic.hidden != critic_hidden {
        return Err(Problem::Sizes(format!(
            "{sizes} do not match the config's two hidden layers of {}{}",
            config.hidden_size,
            if config.shared_network { " and a shared trunk" } else { "" }
        )));
    }
    if actor.obs_size == 0 || actor.action_size == 0 || critic.obs_size != critic_input {
        return Err(Problem::Sizes(format!("{sizes} do not fit together")));
    }
    let chain: Vec<usize> = std::iter::once(actor.obs_size)
        .chain(actor.hidden.iter().copied())
        .chain(std::iter::once(actor.action_size))
        .collect();
    for pair in chain.windows(2) {
        let floats = (pair[0] as u128 + 1) * pair[1] as u128;
        if floats * 4 > bytes_left as u128 {
            return Err(Problem::Sizes(format!(
                "{sizes} need more parameters than the file holds"
            )));
        }
    }
    if !(actor.action_scale > 0.0 && actor.action_scale.is_finite()) {
        return Err(Problem::Malformed(format!("action scale {}", actor.action_scale)));
    }
    if let StdParam::LogStd { init, clamp } = actor.std
        && !(init.is_finite() && clamp.is_none_or(|(low, high)| low < high))
    {
        return Err(Problem::Malformed(format!("log σ init {init}, clamp {clamp:?}")));
    }
    Ok(())
}

// ANCHOR: fnv1a
/// The 64-bit FNV-1a hash of `bytes`.
pub fn fnv1a<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.into_iter().fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}
// ANCHOR_END: fnv1a

fn write_config(w: &mut Writer, c: &Config) {
    for n in [c.total_timesteps, c.num_envs, c.rollout_steps, c.epochs, c.minibatch_size] {
        w.u64(n as u64);
    }
    for x in [c.gamma, c.gae_lambda, c.clip_epsilon, c.actor_learning_rate, c.critic_learning_rate]
    {
        w.f32(x);
    }
    w.bool(c.anneal_learning_rate);
    w.opt_u64(c.anneal_horizon);
    w.f32(c.entropy_coef);
    w.opt_f32(c.max_grad_norm);
    w.opt_f32(c.value_clip);
    w.bool(c.normalize_advantages);
    w.u8(c.time_limit.code());
    w.f32(c.reward_scale);
    w.u64(c.hidden_size as u64);
    w.u8(c.activation.code());
    w.u8(c.distribution.code());
    let (kind, init, clamp) = match c.std_param {
        StdParam::Softplus => (0, 0.0, None),
        StdParam::LogStd { init, clamp } => (1, init, clamp),
        StdParam::LogStdHead { clamp } => (2, 0.0, Some(clamp)),
    };
    w.u8(kind);
    w.f32(init);
    w.bool(clamp.is_some());
    let (low, high) = clamp.unwrap_or((0.0, 0.0));
    w.f32(low);
    w.f32(high);
    w.u8(c.init.code());
    w.u64(c.seed);
    w.u8(c.objective.code());
    w.f32(c.kl_coef);
    w.opt_f32(c.adaptive_kl);
    w.opt_f32(c.target_kl);
    w.f32(c.value_coef);
    w.bool(c.minibatch_advantages);
    w.f32(c.adam_eps);
    w.bool(c.anneal_entropy);
    w.bool(c.normalize_observations);
    w.bool(c.normalize_rewards);
    w.bool(c.shared_network);
    // GRPO's groups hold two episodes at least: 0 stands for PPO.
    w.u64(c.grpo_group.unwrap_or(0) as u64);
    w.f32(c.reference_kl);
}

fn read_config(r: &mut Reader) -> Result<Config, Problem> {
    let total_timesteps = r.usize()?;
    let num_envs = r.usize()?;
    let rollout_steps = r.usize()?;
    let epochs = r.usize()?;
    let minibatch_size = r.usize()?;
    let gamma = r.f32()?;
    let gae_lambda = r.f32()?;
    let clip_epsilon = r.f32()?;
    let actor_learning_rate = r.f32()?;
    let critic_learning_rate = r.f32()?;
    let anneal_learning_rate = r.bool()?;
    let anneal_horizon = r.opt_usize()?;
    let entropy_coef = r.f32()?;
    let max_grad_norm = r.opt_f32()?;
    let value_clip = r.opt_f32()?;
    let normalize_advantages = r.bool()?;
    let time_limit = r.choice("time-limit")?;
    let reward_scale = r.f32()?;
    let hidden_size = r.usize()?;
    let activation = r.choice("activation")?;
    let distribution = r.choice("distribution")?;
    let std_kind = r.u8()?;
    let log_std_init = r.f32()?;
    let has_clamp = r.bool()?;
    let (low, high) = (r.f32()?, r.f32()?);
    let std_param = match std_kind {
        0 => StdParam::Softplus,
        1 => StdParam::LogStd { init: log_std_init, clamp: has_clamp.then_some((low, high)) },
        2 if has_clamp => StdParam::LogStdHead { clamp: (low, high) },
        other => return Err(Problem::Malformed(format!("σ parametrization code {other}"))),
    };
    let init = r.choice("initialization")?;
    let seed = r.u64()?;
    let objective = r.choice("objective")?;
    let kl_coef = r.f32()?;
    let adaptive_kl = r.opt_f32()?;
    let target_kl = r.opt_f32()?;
    let value_coef = r.f32()?;
    let minibatch_advantages = r.bool()?;
    let adam_eps = r.f32()?;
    let anneal_entropy = r.bool()?;
    let normalize_observations = r.bool()?;
    let normalize_rewards = r.bool()?;
    let shared_network = r.bool()?;
    let grpo_group = Some(r.usize()?).filter(|&group| group != 0);
    let reference_kl = r.f32()?;
    Ok(Config {
        total_timesteps,
        num_envs,
        rollout_steps,
        epochs,
        minibatch_size,
        gamma,
        gae_lambda,
        clip_epsilon,
        actor_learning_rate,
        critic_learning_rate,
        anneal_learning_rate,
        anneal_horizon,
        entropy_coef,
        max_grad_norm,
        value_clip,
        normalize_advantages,
        time_limit,
        reward_scale,
        hidden_size,
        activation,
        distribution,
        std_param,
        init,
        seed,
        objective,
        kl_coef,
        adaptive_kl,
        target_kl,
        value_coef,
        minibatch_advantages,
        adam_eps,
        anneal_entropy,
        normalize_observations,
        normalize_rewards,
        shared_network,
        grpo_group,
        reference_kl,
    })
}

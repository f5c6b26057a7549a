//! Chapter 12 (part): saving a trained agent and loading it back.
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

use crate::gae::TimeLimit;
use crate::nn::{Activation, Actor, ActorConfig, Critic, CriticConfig, Init, PolicyHead, StdParam};
use crate::ppo::Config;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The first eight bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"PPO-CKPT";
/// The format version this program writes and reads.
pub const FORMAT_VERSION: u32 = 1;
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

/// A loaded checkpoint: the config it was trained with, the networks, and its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub config: Config,
    pub actor: Actor,
    pub critic: Critic,
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
    /// The checksum does not match the contents.
    Checksum,
    /// The checksum matches, but a field holds an impossible value (a bug in the writer).
    Malformed(String),
    /// The networks' sizes do not match the config or the stored tensors.
    Sizes(String),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Io(e) => write!(f, "checkpoint {path}: {e}"),
            Problem::Empty => write!(f, "checkpoint {path} is empty"),
            Problem::NotACheckpoint => {
                write!(f, "{path} is not a ppo checkpoint (it does not start with 'PPO-CKPT')")
            }
            Problem::Version { found } => write!(
                f,
                "checkpoint {path} has format version {found}, this program reads {FORMAT_VERSION}"
            ),
            // Cut off inside the header, the file announces no length yet.
            Problem::Truncated { found, expected } if *expected == HEADER_BYTES as u64 => write!(
                f,
                "checkpoint {path} is truncated: {found} bytes, less than the {HEADER_BYTES}-byte header"
            ),
            Problem::Truncated { found, expected } => write!(
                f,
                "checkpoint {path} is truncated: {found} bytes of the {expected} its header announces"
            ),
            Problem::TooLong { found, expected } => write!(
                f,
                "checkpoint {path} is corrupted: {found} bytes where its header announces {expected}"
            ),
            Problem::Checksum => write!(f, "checkpoint {path}: checksum mismatch (corrupted)"),
            Problem::Malformed(what) => write!(f, "checkpoint {path} is malformed: {what}"),
            Problem::Sizes(what) => write!(f, "checkpoint {path}: {what}"),
        }
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

// ANCHOR: write_atomic
/// Writes `bytes` to `path` so that a reader never sees a half-written file: the bytes go to
/// a temporary file in the same directory, are flushed to the disk, and the temporary file is
/// renamed over `path`. A rename within one file system replaces the old file in one step, so
/// `path` holds either the old contents or the new, even if the program is killed midway. (A
/// temporary file in another directory could be on another file system, where a rename is a
/// copy.)
///
/// # Errors
/// Any I/O error; the temporary file is then removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map_or("file".into(), |n| n.to_string_lossy());
    // The process id keeps two programs writing the same file from sharing a temporary file.
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        // Without this the rename could reach the disk before the data does, and a crash
        // would leave an empty file under the final name.
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
// ANCHOR_END: write_atomic

/// Writes a checkpoint of `actor` and `critic`, trained with `config`, to `path` atomically.
///
/// # Errors
/// If the file cannot be written.
pub fn save(
    path: &Path,
    config: &Config,
    actor: &Actor,
    critic: &Critic,
    progress: Progress,
) -> Result<(), CheckpointError> {
    let bytes = encode(config, actor, critic, progress);
    write_atomic(path, &bytes)
        .map_err(|e| CheckpointError { path: path.to_path_buf(), problem: Problem::Io(e) })
}

/// Reads the checkpoint at `path` and rebuilds its networks.
///
/// # Errors
/// If the file cannot be read, or is not a checkpoint, or one of another version, or is
/// truncated or corrupted, or describes networks that do not fit their parameters.
pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let error = |problem| CheckpointError { path: path.to_path_buf(), problem };
    let bytes = std::fs::read(path).map_err(|e| error(Problem::Io(e)))?;
    decode(&bytes).map_err(error)
}

// ANCHOR: encode
/// The checkpoint's bytes, laid out as the format table says.
pub fn encode(config: &Config, actor: &Actor, critic: &Critic, progress: Progress) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.0.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u64(0); // the length, filled in below once it is known
    w.u64(progress.update);
    w.u64(progress.timesteps);
    write_config(&mut w, config);

    let a = actor.config();
    w.u32(to_u32(a.obs_size));
    w.u32(to_u32(a.action_size));
    w.f32(a.action_scale);
    w.u8(activation_code(a.activation));
    w.sizes(&a.hidden);
    let c = critic.config();
    w.u32(to_u32(c.obs_size));
    w.u8(activation_code(c.activation));
    w.sizes(&c.hidden);

    w.tensors(&actor.parameter_names(), &actor.parameters());
    w.tensors(&critic.parameter_names(), &critic.parameters());

    let mut bytes = w.0;
    let length = (bytes.len() + CHECKSUM_BYTES) as u64;
    bytes[12..20].copy_from_slice(&length.to_le_bytes());
    let checksum = fnv1a(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}
// ANCHOR_END: encode

// ANCHOR: decode
/// Parses a checkpoint. The order of the checks is what makes the errors precise: the magic
/// first (is this ours at all?), then the version (can we read it?), then the length
/// (truncated?), then the checksum (corrupted?), and only then the contents.
///
/// # Errors
/// The [`Problem`] found.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, Problem> {
    let found = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(Problem::Empty);
    }
    if bytes.len() < MAGIC.len() {
        // A file cut off inside the magic is a truncated checkpoint; anything else is not ours.
        return Err(if MAGIC.starts_with(bytes) {
            Problem::Truncated { found, expected: HEADER_BYTES as u64 }
        } else {
            Problem::NotACheckpoint
        });
    }
    if bytes[..8] != MAGIC {
        return Err(Problem::NotACheckpoint);
    }
    if bytes.len() < HEADER_BYTES {
        return Err(Problem::Truncated { found, expected: HEADER_BYTES as u64 });
    }
    let mut r = Reader { bytes: &bytes[8..HEADER_BYTES], at: 0 };
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(Problem::Version { found: version });
    }
    let expected = r.u64()?;
    if found < expected {
        return Err(Problem::Truncated { found, expected });
    }
    if found > expected || expected < (HEADER_BYTES + CHECKSUM_BYTES) as u64 {
        return Err(Problem::TooLong { found, expected });
    }
    let (body, stored) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    let stored = u64::from_le_bytes(stored.try_into().expect("eight bytes"));
    if fnv1a(body) != stored {
        return Err(Problem::Checksum);
    }

    let mut r = Reader { bytes: body, at: HEADER_BYTES };
    let progress = Progress { update: r.u64()?, timesteps: r.u64()? };
    let config = read_config(&mut r)?;
    config.validate().map_err(|e| Problem::Malformed(format!("config: {e}")))?;

    let actor_config = ActorConfig {
        obs_size: r.u32()? as usize,
        action_size: r.u32()? as usize,
        action_scale: r.f32()?,
        activation: r.activation()?,
        hidden: r.sizes()?,
        std: config.std_param,
        init: config.init,
        head: PolicyHead::Gaussian { squash_mean: true },
    };
    let critic_config = CriticConfig {
        obs_size: r.u32()? as usize,
        activation: r.activation()?,
        hidden: r.sizes()?,
        init: config.init,
    };
    check_sizes(&config, &actor_config, &critic_config, r.remaining())?;

    // The networks are built (with throw-away random weights) only to be overwritten: that
    // way the file is checked against the very shapes that `Actor::new` would produce.
    let mut rng = StdRng::seed_from_u64(0);
    let mut actor = Actor::new(&actor_config, &mut rng);
    let mut critic = Critic::new(&critic_config, &mut rng);
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
    if r.remaining() != 0 {
        return Err(Problem::Malformed(format!(
            "{} unexpected bytes after the parameters",
            r.remaining()
        )));
    }
    Ok(Checkpoint { config, actor, critic, progress })
}
// ANCHOR_END: decode

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
    let expected_hidden = vec![config.hidden_size; 2];
    if actor.hidden != expected_hidden || critic.hidden != expected_hidden {
        return Err(Problem::Sizes(format!(
            "{sizes} do not match the config's two hidden layers of {}",
            config.hidden_size
        )));
    }
    if actor.obs_size == 0 || actor.action_size == 0 || critic.obs_size != actor.obs_size {
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
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
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
    w.f32(c.entropy_coef);
    w.opt_f32(c.max_grad_norm);
    w.opt_f32(c.value_clip);
    w.bool(c.normalize_advantages);
    w.u8(match c.time_limit {
        TimeLimit::Bootstrap => 0,
        TimeLimit::AsTerminal => 1,
    });
    w.f32(c.reward_scale);
    w.u64(c.hidden_size as u64);
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
    w.u8(match c.init {
        Init::PyTorchDefault => 0,
        Init::Orthogonal => 1,
    });
    w.u64(c.seed);
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
    let entropy_coef = r.f32()?;
    let max_grad_norm = r.opt_f32()?;
    let value_clip = r.opt_f32()?;
    let normalize_advantages = r.bool()?;
    let time_limit = match r.u8()? {
        0 => TimeLimit::Bootstrap,
        1 => TimeLimit::AsTerminal,
        other => return Err(Problem::Malformed(format!("time-limit code {other}"))),
    };
    let reward_scale = r.f32()?;
    let hidden_size = r.usize()?;
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
    let init = match r.u8()? {
        0 => Init::PyTorchDefault,
        1 => Init::Orthogonal,
        other => return Err(Problem::Malformed(format!("initialization code {other}"))),
    };
    let seed = r.u64()?;
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
        // Format version 1 does not store the horizon. No option of the program sets it, so
        // every config the program saves has the presets' value; an option that sets it must
        // also store it (a new format version).
        anneal_horizon: Some(crate::ppo::PRESET_STEPS),
        entropy_coef,
        max_grad_norm,
        value_clip,
        normalize_advantages,
        time_limit,
        reward_scale,
        hidden_size,
        std_param,
        init,
        seed,
    })
}

fn activation_code(activation: Activation) -> u8 {
    match activation {
        Activation::Relu => 0,
        Activation::Tanh => 1,
    }
}

/// Sizes are written as `u32`: no network of this crate comes near 4 billion units.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("network sizes fit in u32")
}

/// Appends little-endian fields.
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn opt_f32(&mut self, v: Option<f32>) {
        self.bool(v.is_some());
        self.f32(v.unwrap_or(0.0));
    }
    fn sizes(&mut self, sizes: &[usize]) {
        self.u32(to_u32(sizes.len()));
        for &n in sizes {
            self.u32(to_u32(n));
        }
    }
    fn tensors(&mut self, names: &[String], tensors: &[&Tensor]) {
        self.u32(to_u32(tensors.len()));
        for (name, tensor) in names.iter().zip(tensors) {
            self.u32(to_u32(name.len()));
            self.0.extend_from_slice(name.as_bytes());
            self.sizes(tensor.shape());
            for &x in tensor.data() {
                self.f32(x);
            }
        }
    }
}

/// Reads little-endian fields; running out of bytes is an error, never a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Problem> {
        let field = self.bytes.get(self.at..self.at + N).ok_or_else(|| {
            Problem::Malformed(format!("a field runs past the end at byte {}", self.at))
        })?;
        self.at += N;
        Ok(field.try_into().expect("N bytes"))
    }
    fn u8(&mut self) -> Result<u8, Problem> {
        Ok(self.take::<1>()?[0])
    }
    fn bool(&mut self) -> Result<bool, Problem> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(Problem::Malformed(format!("{other} where a flag (0 or 1) belongs"))),
        }
    }
    fn u32(&mut self) -> Result<u32, Problem> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, Problem> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn usize(&mut self) -> Result<usize, Problem> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| Problem::Malformed(format!("{v} does not fit this machine")))
    }
    fn f32(&mut self) -> Result<f32, Problem> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    fn opt_f32(&mut self) -> Result<Option<f32>, Problem> {
        let present = self.bool()?;
        let value = self.f32()?;
        Ok(present.then_some(value))
    }
    fn activation(&mut self) -> Result<Activation, Problem> {
        match self.u8()? {
            0 => Ok(Activation::Relu),
            1 => Ok(Activation::Tanh),
            other => Err(Problem::Malformed(format!("activation code {other}"))),
        }
    }
    /// A count followed by that many `u32`; the count is checked against the bytes left
    /// before anything is allocated.
    fn sizes(&mut self) -> Result<Vec<usize>, Problem> {
        let count = self.u32()? as usize;
        if count * 4 > self.remaining() {
            return Err(Problem::Malformed(format!("a list of {count} sizes runs past the end")));
        }
        (0..count).map(|_| Ok(self.u32()? as usize)).collect()
    }
    /// The tensors of one network, which must carry the names the network gives its
    /// parameters, in the same order.
    fn tensors(&mut self, names: &[String], network: &str) -> Result<Vec<Tensor>, Problem> {
        let count = self.u32()? as usize;
        if count != names.len() {
            return Err(Problem::Sizes(format!(
                "the {network} has {} parameter tensors, the file stores {count}",
                names.len()
            )));
        }
        let mut tensors = Vec::with_capacity(count);
        for expected in names {
            let length = self.u32()? as usize;
            let start = self.at;
            let name = self
                .bytes
                .get(start..start + length)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| Problem::Malformed(format!("tensor name at byte {start}")))?;
            self.at += length;
            if name != expected {
                return Err(Problem::Sizes(format!(
                    "the {network}'s parameter {expected} is stored as '{name}'"
                )));
            }
            let shape = self.sizes()?;
            let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            let len =
                len.filter(|&n| n.saturating_mul(4) <= self.remaining()).ok_or_else(|| {
                    Problem::Malformed(format!(
                        "{network} {name} of shape {shape:?} runs past the end"
                    ))
                })?;
            let data = (0..len).map(|_| self.f32()).collect::<Result<Vec<f32>, Problem>>()?;
            tensors.push(Tensor::from_vec(&shape, data));
        }
        Ok(tensors)
    }
}

//! The checkpoint format: a trained agent comes back bit for bit, the bytes are laid out as
//! the format table says, the checksum is FNV-1a (checked against the published test vectors),
//! and every truncation and every corrupted byte is caught and named, never a panic.

use ppo::Pendulum;
use ppo::checkpoint::{
    self, FORMAT_VERSION, MAGIC, Problem, Progress, decode, encode, fnv1a, size_limit,
};
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig, StdParam};
use ppo::ppo::{Config, Trainer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

/// A trainer after one short update, so that the parameters are no longer the initial ones.
fn trained(config: Config) -> Trainer<Pendulum> {
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config, envs);
    trainer.iterate().expect("training diverged");
    trainer
}

fn small(config: Config) -> Config {
    Config {
        total_timesteps: 256,
        num_envs: 2,
        rollout_steps: 64,
        minibatch_size: 64,
        epochs: 2,
        hidden_size: 8,
        ..config
    }
}

/// The trainer's checkpoint, with its observation statistics when it normalizes observations.
fn bytes_of(trainer: &Trainer<Pendulum>) -> Vec<u8> {
    checkpoint::encode_snapshot(&snapshot_of(trainer, ""))
}

fn snapshot_of<'a>(trainer: &'a Trainer<Pendulum>, env: &'a str) -> checkpoint::Snapshot<'a> {
    checkpoint::Snapshot {
        env,
        config: trainer.config(),
        actor: trainer.actor(),
        critic: trainer.critic(),
        observation_stats: trainer.observation_stats(),
        progress: Progress { update: 1, timesteps: 128 },
    }
}

/// What the program allows: networks up to 4096 wide, for the pendulum's sizes.
const LIMIT: u64 = 4 * 33_607_683 + 4096;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ppo-checkpoint-{}-{name}", std::process::id()))
}

#[test]
fn fnv1a_matches_the_published_test_vectors() {
    // From the FNV reference test suite (Fowler, Noll, Vo).
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn both_presets_round_trip_bit_for_bit() {
    for config in [small(Config::default()), small(Config::seed())] {
        let trainer = trained(config.clone());
        let loaded = decode(&bytes_of(&trainer)).expect("a fresh checkpoint loads");
        assert_eq!(loaded.config, config);
        assert_eq!(&loaded.actor, trainer.actor());
        assert_eq!(&loaded.critic, trainer.critic());
        assert_eq!(loaded.progress, Progress { update: 1, timesteps: 128 });
    }
}

#[test]
fn the_bytes_are_laid_out_as_documented() {
    let trainer = trained(small(Config::default()));
    let bytes = checkpoint::encode_snapshot(&snapshot_of(&trainer, "Pendulum-v1"));
    assert_eq!(bytes[..8], MAGIC);
    assert_eq!(bytes[8..12], FORMAT_VERSION.to_le_bytes());
    assert_eq!(FORMAT_VERSION, 2);
    assert_eq!(bytes[12..20], (bytes.len() as u64).to_le_bytes());
    assert_eq!(bytes[20..28], 1u64.to_le_bytes(), "update");
    assert_eq!(bytes[28..36], 128u64.to_le_bytes(), "timesteps");
    assert_eq!(bytes[36..40], 11u32.to_le_bytes(), "the environment's name: its length");
    assert_eq!(&bytes[40..51], b"Pendulum-v1");
    assert_eq!(bytes[51..59], 256u64.to_le_bytes(), "config.total_timesteps");
    let (body, checksum) = bytes.split_at(bytes.len() - 8);
    assert_eq!(checksum, fnv1a(body).to_le_bytes());
    assert_eq!(decode(&bytes).unwrap().env, "Pendulum-v1");
    // Header 20, progress 16, the name 4 + 11, config 40 + 20 + 1 + 9 + 4 + 5 + 5 + 1 + 1 + 4
    // + 8 + 1 + 1 + 1 + 4 + 9 + 1 + 8 and the variants' 1 + 4 + 5 + 5 + 4 + 1 + 4 + 1 + 1 + 1
    // + 1 + 8 + 4 = 163, sizes 4 + 4 + 4 + 1 + 4 + 2·4 (actor) and 4 + 1 + 4 + 2·4
    // (critic) = 42, tensors: a count each, then per tensor a name and shape, then the values.
    let tensors: usize = [trainer.actor().parameter_names(), trainer.critic().parameter_names()]
        .iter()
        .zip([trainer.actor().parameters(), trainer.critic().parameters()])
        .map(|(names, params)| {
            4 + names
                .iter()
                .zip(&params)
                .map(|(n, p)| 4 + n.len() + 4 + 4 * p.shape().len() + 4 * p.len())
                .sum::<usize>()
        })
        .sum();
    // The default preset normalizes observations: a flag, the size 3, the count, then three
    // means and three variances.
    let statistics = 1 + 4 + 8 + 8 * 2 * 3;
    assert_eq!(bytes.len(), 20 + 16 + 15 + 163 + 42 + tensors + statistics + 8);
    // Nothing depends on the time or the machine.
    assert_eq!(bytes, checkpoint::encode_snapshot(&snapshot_of(&trainer, "Pendulum-v1")));
    // Without normalization the statistics are one byte: absent.
    let plain = trained(small(Config { normalize_observations: false, ..Config::default() }));
    let (config, actor, critic) = (plain.config(), plain.actor(), plain.critic());
    let progress = Progress { update: 1, timesteps: 128 };
    let plain_bytes = checkpoint::encode_for("Pendulum-v1", config, actor, critic, progress);
    assert_eq!(plain_bytes.len(), bytes.len() - statistics + 1);
}

#[test]
fn every_truncation_is_reported_as_such() {
    let bytes = bytes_of(&trained(small(Config::default())));
    assert!(matches!(decode(&[]), Err(Problem::Empty)));
    for len in 1..bytes.len() {
        match decode(&bytes[..len]) {
            Err(Problem::Truncated { found, .. }) => assert_eq!(found, len as u64),
            other => panic!("{len} bytes: expected truncated, got {other:?}"),
        }
    }
}

#[test]
fn every_corrupted_byte_is_caught_and_named() {
    let bytes = bytes_of(&trained(small(Config::default())));
    let len = bytes.len() as u64;
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut corrupted = bytes.clone();
            corrupted[at] ^= 1 << bit;
            let result = decode(&corrupted);
            let expected = match at {
                0..8 => matches!(result, Err(Problem::NotACheckpoint)),
                8..12 => matches!(result, Err(Problem::Version { .. })),
                // The file is complete: the length field alone is wrong, and the checksum,
                // which covers it, proves that the rest is intact.
                12..20 => matches!(result, Err(Problem::LengthField { found, .. }) if found == len),
                _ => matches!(result, Err(Problem::Checksum)),
            };
            assert!(expected, "byte {at} bit {bit} flipped: {result:?}");
        }
    }
}

#[test]
fn a_truncated_file_with_a_damaged_length_is_still_truncated() {
    let bytes = bytes_of(&trained(small(Config::default())));
    // Cut short, and the length field flipped too: no length makes the checksum match, so
    // this is not a whole file with one bad field.
    let mut cut = bytes[..bytes.len() - 40].to_vec();
    cut[13] ^= 0x40;
    assert!(matches!(decode(&cut), Err(Problem::Truncated { .. })), "{:?}", decode(&cut));
    let mut long = bytes.clone();
    long.extend_from_slice(b"appended");
    let found = long.len() as u64;
    let expected = bytes.len() as u64;
    assert!(
        matches!(decode(&long), Err(Problem::TooLong { found: f, expected: e }) if f == found && e == expected)
    );
    // What the user reads for a flipped length field.
    let path = temp_path("length.ckpt");
    let mut flipped = bytes.clone();
    flipped[14] ^= 0x01;
    std::fs::write(&path, &flipped).unwrap();
    let message = checkpoint::load(&path, LIMIT).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    let says = expected ^ (1 << 16);
    assert!(
        message.contains(&format!(
            "is corrupted: its length field says {says} bytes but the file has {expected}, which is complete"
        )),
        "{message}"
    );
}

#[test]
fn non_finite_parameters_are_refused_naming_the_network_the_tensor_and_the_index() {
    // Raw observations, so that the networks can be saved alone with `encode`.
    let trainer = trained(small(Config { normalize_observations: false, ..Config::default() }));
    let mut critic = trainer.critic().clone();
    // Critic tensors: trunk.0.weight [3, 8], trunk.0.bias, trunk.1.weight [8, 8], ...
    critic.parameters_mut()[2].data_mut()[8 * 5 + 3] = f32::NAN;
    let config = trainer.config();
    let bytes = encode(config, trainer.actor(), &critic, Progress::default());
    match decode(&bytes) {
        Err(Problem::NonFinite { network, tensor, index, value }) => {
            assert_eq!((network.as_str(), tensor.as_str()), ("critic", "trunk.1.weight"));
            assert_eq!(index, [5, 3]);
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }
    let mut actor = trainer.actor().clone();
    actor.parameters_mut()[0].data_mut()[1] = f32::NEG_INFINITY;
    let bytes = encode(config, &actor, trainer.critic(), Progress::default());
    let error =
        checkpoint::CheckpointError { path: "x.ckpt".into(), problem: decode(&bytes).unwrap_err() };
    assert_eq!(
        error.to_string(),
        "checkpoint x.ckpt: the actor's parameter trunk.0.weight is -inf at index [0, 1]; a \
         trained network is finite, so the file was altered"
    );
}

#[test]
fn reading_is_bounded_by_the_largest_network() {
    // The limit is an upper bound on real checkpoints, and close to them.
    for std_param in [StdParam::Softplus, Config::default().std_param] {
        let config = Config { std_param, ..small(Config::default()) };
        let len = bytes_of(&trained(config)).len() as u64;
        let limit = size_limit(3, 1, 8);
        assert!(len <= limit && limit - len < 4096, "{len} bytes, limit {limit}");
    }
    assert_eq!(size_limit(3, 1, 4096), LIMIT);
    // By hand, for 4 observations, 2 actions and 64 units: trunk 5·64 + 65·64 = 4,480; the
    // actor adds a mean and a σ head of 65·2 each (4,740), the critic one value (4,545);
    // 4 bytes each, plus 4,096 for the other fields.
    assert_eq!(size_limit(4, 2, 64), 4 * (4_740 + 4_545) + 4_096);
    // A stream that never ends is refused after reading the header.
    #[cfg(unix)]
    {
        let message = checkpoint::load(std::path::Path::new("/dev/zero"), LIMIT).unwrap_err();
        assert!(matches!(message.problem, Problem::NotACheckpoint), "{message}");
    }
    // A file larger than the limit with a valid header: refused from its size, unread.
    let bytes = bytes_of(&trained(small(Config::default())));
    let path = temp_path("huge.ckpt");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(LIMIT + 1).unwrap();
    drop(file);
    let mut start = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::io::Write::write_all(&mut start, &bytes[..20]).unwrap();
    drop(start);
    match checkpoint::load(&path, LIMIT).map_err(|e| e.problem) {
        Err(Problem::TooLarge { found, limit }) => assert_eq!((found, limit), (LIMIT + 1, LIMIT)),
        other => panic!("{other:?}"),
    }
    // The same through a limit smaller than the file, when the size is not known first.
    std::fs::write(&path, &bytes).unwrap();
    let small_limit = bytes.len() as u64 - 1;
    match checkpoint::load(&path, small_limit).map_err(|e| e.problem) {
        Err(Problem::TooLarge { limit, .. }) => assert_eq!(limit, small_limit),
        other => panic!("{other:?}"),
    }
    assert!(checkpoint::load(&path, bytes.len() as u64).is_ok());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn zeroed_networks_have_the_shapes_of_initialized_ones() {
    let mut rng = StdRng::seed_from_u64(5);
    for std in [StdParam::Softplus, Config::default().std_param] {
        let config = ActorConfig { std, hidden: vec![5, 7], ..ActorConfig::default() };
        let (new, zeroed) = (Actor::new(&config, &mut rng), Actor::zeroed(&config));
        assert_eq!(new.parameter_names(), zeroed.parameter_names());
        let shapes =
            |a: &Actor| a.parameters().iter().map(|p| p.shape().to_vec()).collect::<Vec<_>>();
        assert_eq!(shapes(&new), shapes(&zeroed));
        assert_eq!(zeroed.config(), &config);
    }
    let config = CriticConfig { hidden: vec![5, 7], ..CriticConfig::default() };
    let zeroed = Critic::zeroed(&config);
    assert!(zeroed.parameters().iter().all(|p| p.data().iter().all(|&x| x == 0.0)));
    assert_eq!(zeroed.num_parameters(), Critic::new(&config, &mut rng).num_parameters());
}

#[test]
fn other_versions_and_other_files_are_named() {
    let mut bytes = bytes_of(&trained(small(Config::default())));
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    assert!(matches!(decode(&bytes), Err(Problem::Version { found: 7 })));
    assert!(matches!(decode(b"--seed 1\n--gamma 0.9\n"), Err(Problem::NotACheckpoint)));
    assert!(matches!(decode(b"PPO"), Err(Problem::Truncated { found: 3, .. })));
}

#[test]
fn networks_that_do_not_match_the_config_are_refused() {
    // Hidden layers of 16 saved with a config that says 8: the file is internally consistent
    // (its checksum matches), but the networks are not the ones the config describes. Raw
    // observations, so that the networks can be saved alone with `encode`.
    let config = small(Config { normalize_observations: false, ..Config::default() });
    let mut rng = StdRng::seed_from_u64(3);
    let actor_config = ActorConfig {
        hidden: vec![16, 16],
        std: config.std_param,
        init: config.init,
        ..ActorConfig::default()
    };
    let actor = Actor::new(&actor_config, &mut rng);
    let critic =
        Critic::new(&CriticConfig { hidden: vec![16, 16], ..Default::default() }, &mut rng);
    let bytes = encode(&config, &actor, &critic, Progress::default());
    match decode(&bytes) {
        Err(Problem::Sizes(message)) => assert_eq!(
            message,
            "networks of sizes 3 → 16 → 16 → 1 (actor) and 3 → 16 → 16 → 1 (critic) do not \
             match the config's two hidden layers of 8"
        ),
        other => panic!("{other:?}"),
    }
    // A softplus actor saved with a log-std config: the stored tensors are not the ones the
    // config's actor has.
    let softplus = Actor::new(
        &ActorConfig { hidden: vec![8, 8], std: StdParam::Softplus, ..ActorConfig::default() },
        &mut rng,
    );
    let critic = Critic::new(&CriticConfig { hidden: vec![8, 8], ..Default::default() }, &mut rng);
    match decode(&encode(&config, &softplus, &critic, Progress::default())) {
        Err(Problem::Sizes(message)) => {
            assert_eq!(message, "the actor has 7 parameter tensors, the file stores 8")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn save_and_load_through_files_name_the_path() {
    let trainer = trained(small(Config::seed()));
    let path = temp_path("policy.ckpt");
    let progress = Progress { update: 1, timesteps: 128 };
    checkpoint::save(&path, trainer.config(), trainer.actor(), trainer.critic(), progress).unwrap();
    let loaded = checkpoint::load(&path, LIMIT).unwrap();
    assert_eq!(&loaded.actor, trainer.actor());

    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let message = checkpoint::load(&path, LIMIT).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "checkpoint {} is truncated: {} bytes of the {} its header announces",
            path.display(),
            bytes.len() / 2,
            bytes.len()
        )
    );
    // Cut inside the header, before the length field: no length has been announced yet.
    std::fs::write(&path, &bytes[..4]).unwrap();
    let message = checkpoint::load(&path, LIMIT).unwrap_err().to_string();
    let expected = "is truncated: 4 bytes, less than the 20-byte header";
    assert_eq!(message, format!("checkpoint {} {expected}", path.display()));
    // A damaged file is the checkpoint's own problem; a missing one is the system's, passed on
    // as the error's source so a caller can ask what kind it was.
    use std::error::Error as _;
    assert!(checkpoint::load(&path, LIMIT).unwrap_err().source().is_none());
    std::fs::remove_file(&path).unwrap();
    let error = checkpoint::load(&path, LIMIT).unwrap_err();
    let source = error.source().expect("an I/O error has a source");
    let io = source.downcast_ref::<std::io::Error>().expect("the std::io::Error itself");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    let message = error.to_string();
    assert!(message.starts_with(&format!("checkpoint {}: ", path.display())), "{message}");
}

#[test]
fn atomic_writes_replace_whole_files_and_leave_no_temporary_file() {
    let dir = temp_path("atomic");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("metrics.csv");
    checkpoint::write_atomic(&path, b"first version, longer than the second").unwrap();
    checkpoint::write_atomic(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["metrics.csv"]);
    // Into a directory that does not exist: an error, and nothing written anywhere.
    let missing = dir.join("no-such-dir").join("file");
    assert!(checkpoint::write_atomic(&missing, b"x").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A config in which every field differs from the default preset, so that a field the format
/// forgot, or read into the wrong place, cannot survive the round trip.
fn unusual() -> Config {
    Config {
        total_timesteps: 777,
        num_envs: 3,
        rollout_steps: 70,
        epochs: 4,
        minibatch_size: 33,
        gamma: 0.91,
        gae_lambda: 0.83,
        clip_epsilon: 0.17,
        actor_learning_rate: 2.5e-4,
        critic_learning_rate: 7.5e-4,
        anneal_learning_rate: false,
        anneal_horizon: Some(333),
        entropy_coef: 0.013,
        max_grad_norm: Some(0.7),
        value_clip: Some(0.3),
        normalize_advantages: false,
        time_limit: ppo::gae::TimeLimit::AsTerminal,
        reward_scale: 0.37,
        hidden_size: 8,
        activation: ppo::nn::Activation::Tanh,
        distribution: ppo::ppo::DistributionKind::TruncatedNormal,
        std_param: StdParam::LogStd { init: -0.3, clamp: Some((-4.5, 1.5)) },
        init: ppo::nn::Init::PyTorchDefault,
        seed: 987_654_321,
        objective: ppo::loss::Objective::KlPenalty,
        kl_coef: 0.3,
        adaptive_kl: Some(0.02),
        target_kl: Some(0.05),
        value_coef: 0.5,
        minibatch_advantages: true,
        adam_eps: 1e-5,
        anneal_entropy: true,
        normalize_observations: true,
        normalize_rewards: true,
        shared_network: true,
        grpo_group: None,
        reference_kl: 0.04,
    }
}

/// GRPO's group size, which goes with neither a shared network nor normalized rewards.
fn unusual_grpo() -> Config {
    let plain = Config { normalize_observations: false, normalize_rewards: false, ..unusual() };
    Config { grpo_group: Some(3), shared_network: false, ..plain }
}

/// `Config`'s fields with their values, from its `Debug` output: `name: value` at the first
/// level of braces.
fn fields(config: &Config) -> Vec<(String, String)> {
    let debug = format!("{config:?}");
    let inner = &debug[debug.find('{').unwrap() + 1..debug.rfind('}').unwrap()];
    let (mut depth, mut fields, mut current) = (0, Vec::new(), String::new());
    for c in inner.chars() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    fields.push(current);
    fields
        .iter()
        .map(|f| {
            let (name, value) = f.split_once(':').unwrap();
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect()
}

#[test]
fn every_config_field_survives_the_round_trip() {
    let config = unusual();
    let defaults = fields(&Config::default());
    assert_eq!(defaults.len(), 37, "{defaults:?}");
    let changed = fields(&config).into_iter().zip(fields(&unusual_grpo()));
    for (((name, value), (_, grpo_value)), (_, default)) in changed.zip(defaults) {
        assert!(value != default || grpo_value != default, "neither unusual config changes {name}");
    }
    let grpo = unusual_grpo();
    let envs = (0..grpo.num_envs).map(|_| Pendulum::new()).collect();
    let grpo_trainer = Trainer::new(grpo.clone(), envs);
    let grpo_bytes =
        encode(&grpo, grpo_trainer.actor(), grpo_trainer.critic(), Progress::default());
    assert_eq!(decode(&grpo_bytes).expect("a GRPO checkpoint loads").config, grpo);
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    trainer.iterate().expect("one update, so that the statistics hold real values");
    let progress = Progress { update: 5, timesteps: 1050 };
    let stats = trainer.observation_stats().expect("the unusual config normalizes observations");
    let snapshot = checkpoint::Snapshot {
        env: "Pendulum-v1",
        config: &config,
        actor: trainer.actor(),
        critic: trainer.critic(),
        observation_stats: Some(stats),
        progress,
    };
    let bytes = checkpoint::encode_snapshot(&snapshot);
    let loaded = decode(&bytes).expect("an unusual but valid checkpoint loads");
    assert_eq!(loaded.config, config);
    assert_eq!(loaded.progress, progress);
    assert_eq!(&loaded.actor, trainer.actor());
    assert_eq!(&loaded.critic, trainer.critic());
    assert_eq!(loaded.observation_stats.as_ref(), Some(stats), "bit for bit, in f64");
    // Statistics the config does not ask for, or missing where it does, are refused.
    let missing =
        checkpoint::encode_snapshot(&checkpoint::Snapshot { observation_stats: None, ..snapshot });
    assert!(
        matches!(decode(&missing), Err(Problem::Malformed(m)) if m.contains("missing where the config normalizes")),
        "{:?}",
        decode(&missing)
    );
    let plain = Config { normalize_observations: false, ..config.clone() };
    let extra = checkpoint::encode_snapshot(&checkpoint::Snapshot { config: &plain, ..snapshot });
    assert!(matches!(decode(&extra), Err(Problem::Malformed(m)) if m.contains("stored where")));
}

/// `bytes` with the tensor name `from` replaced by `to` (of the same length) at its `nth`
/// occurrence, and the checksum recomputed: a file that is internally consistent.
fn renamed(bytes: &[u8], from: &str, to: &str, nth: usize) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from.as_bytes())
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no occurrence {nth} of {from}"));
    patched(bytes, at, to.as_bytes())
}

#[test]
fn renamed_or_reordered_tensors_are_refused() {
    let bytes = bytes_of(&trained(small(Config::default())));
    let message = |bytes: &[u8]| match decode(bytes) {
        Err(Problem::Sizes(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let wrong_name = renamed(&bytes, "trunk.0.weight", "trunk.0.weigh7", 0);
    assert_eq!(
        message(&wrong_name),
        "the actor's parameter trunk.0.weight is stored as 'trunk.0.weigh7'"
    );
    // The two hidden biases have the same shape and names of the same length: swapped, every
    // shape still fits, and only the names tell that the order is wrong.
    let swapped = renamed(&bytes, "trunk.0.bias", "trunk.1.bias", 0);
    let swapped = renamed(&swapped, "trunk.1.bias", "trunk.0.bias", 1);
    assert_eq!(message(&swapped), "the actor's parameter trunk.0.bias is stored as 'trunk.1.bias'");
    // The critic's names are checked too.
    let critic = renamed(&bytes, "value.bias", "value.bia5", 0);
    assert_eq!(message(&critic), "the critic's parameter value.bias is stored as 'value.bia5'");
}

#[test]
fn a_byte_appended_is_refused_as_too_long() {
    let mut bytes = bytes_of(&trained(small(Config::default())));
    let expected = bytes.len() as u64;
    bytes.push(0);
    match decode(&bytes) {
        Err(Problem::TooLong { found, expected: announced }) => {
            assert_eq!((found, announced), (expected + 1, expected));
        }
        other => panic!("expected too long, got {other:?}"),
    }
}

/// A file of exactly `length` bytes whose header announces that length, ending in the
/// checksum of what precedes it when there is room for one.
fn announcing(length: usize) -> Vec<u8> {
    let real = bytes_of(&trained(small(Config::default())));
    let mut bytes = real[..12].to_vec(); // the magic number and the version
    bytes.extend_from_slice(&(length as u64).to_le_bytes());
    let checksummed = length >= 28;
    bytes.resize(if checksummed { length - 8 } else { length }, 0);
    if checksummed {
        let checksum = fnv1a(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
    }
    bytes
}

#[test]
fn a_length_too_short_for_a_checksum_is_malformed_and_no_other_is() {
    // A header and a checksum take 28 bytes: a file that says it is shorter is malformed,
    // whatever it holds; one of 28 bytes or more is read on, and fails for what it lacks.
    for length in [20, 24, 27] {
        match decode(&announcing(length)) {
            Err(Problem::Malformed(what)) => {
                assert_eq!(what, format!("a length of {length} bytes"))
            }
            other => panic!("{length} bytes: expected malformed, got {other:?}"),
        }
    }
    for length in [28, 100, 159] {
        let bytes = announcing(length);
        assert_eq!(bytes.len(), length);
        match decode(&bytes) {
            Err(Problem::Malformed(what)) => {
                assert_ne!(what, format!("a length of {length} bytes"), "{length} bytes");
            }
            Err(_) => {}
            Ok(_) => panic!("{length} bytes of zeros decoded"),
        }
    }
}

#[test]
fn observation_statistics_that_no_run_could_gather_are_refused() {
    // A run's statistics have a positive, finite count and finite means and variances, none
    // of them negative; a file that says otherwise was altered, whatever its checksum says.
    let config = Config { normalize_observations: true, ..small(Config::default()) };
    let trainer = trained(config.clone());
    let good = trainer.observation_stats().expect("normalized observations").clone();
    let mut bad = Vec::new();
    for count in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        bad.push(("count", ppo::normalize::RunningStats { count, ..good.clone() }));
    }
    let mut mean = good.clone();
    mean.mean[1] = f64::INFINITY;
    bad.push(("mean", mean));
    let mut var = good.clone();
    var.var[2] = f64::NAN;
    bad.push(("variance", var));
    let mut negative = good.clone();
    negative.var[0] = -1e-3;
    bad.push(("negative variance", negative));
    let snapshot = |stats| checkpoint::Snapshot {
        env: "Pendulum-v1",
        config: &config,
        actor: trainer.actor(),
        critic: trainer.critic(),
        observation_stats: Some(stats),
        progress: Progress::default(),
    };
    let loaded = decode(&checkpoint::encode_snapshot(&snapshot(&good))).expect("real statistics");
    assert_eq!(loaded.observation_stats.as_ref(), Some(&good));
    for (what, stats) in &bad {
        match decode(&checkpoint::encode_snapshot(&snapshot(stats))) {
            Err(Problem::Malformed(m)) => {
                assert_eq!(m, "observation statistics that are not finite", "{what}");
            }
            other => panic!("{what}: expected malformed, got {other:?}"),
        }
    }
}

/// `bytes` with `new` written at `at` and the checksum made right again: an alteration that
/// only the decoder's own checks can catch.
fn patched(bytes: &[u8], at: usize, new: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + new.len()].copy_from_slice(new);
    let body = out.len() - 8;
    let checksum = fnv1a(&out[..body]);
    out[body..].copy_from_slice(&checksum.to_le_bytes());
    out
}

#[test]
fn network_sizes_that_cannot_be_built_are_refused_before_building() {
    // Raw observations, so that the networks can be saved alone with `encode_for`.
    let trainer = trained(small(Config { normalize_observations: false, ..Config::default() }));
    let (config, actor, critic) = (trainer.config(), trainer.actor(), trainer.critic());
    let bytes = checkpoint::encode_for("Pendulum-v1", config, actor, critic, Progress::default());
    // After the header (20), progress (16), the name (4 + 11) and the config (163): the
    // actor's observation size, action size, action scale, activation and hidden sizes
    // (4 + 4 + 4 + 1 + 4 + 2·4), then the critic's observation size (4), activation and
    // hidden sizes (1 + 4 + 2·4).
    let (actor_obs, action, scale, critic_obs) = (214, 218, 222, 239);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((u32_at(actor_obs), u32_at(action), u32_at(critic_obs)), (3, 1, 3));
    let refusal = |bytes: &[u8]| match decode(bytes) {
        Err(Problem::Sizes(m) | Problem::Malformed(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // No observations at all (actor and critic agreeing on it): Actor::new would panic.
    let none =
        patched(&patched(&bytes, actor_obs, &0u32.to_le_bytes()), critic_obs, &0u32.to_le_bytes());
    assert!(refusal(&none).ends_with("do not fit together"), "{}", refusal(&none));
    // An action size whose last layer needs more floats than the bytes left can hold, but
    // fewer than a quarter of them as bytes: the bound is floats × 4 against bytes.
    let bytes_left = bytes.len() - 256;
    let actions = bytes_left / (4 * 9) + 1; // (8 hidden + 1 bias) × actions × 4 > bytes_left
    let wide = patched(&bytes, action, &u32::try_from(actions).unwrap().to_le_bytes());
    let message = refusal(&wide);
    assert!(message.ends_with("need more parameters than the file holds"), "{message}");
    // An action scale that is not a positive number.
    for bad in [f32::INFINITY, 0.0, -2.0, f32::NAN] {
        let message = refusal(&patched(&bytes, scale, &bad.to_le_bytes()));
        assert_eq!(message, format!("action scale {bad}"));
    }
}

#[test]
fn every_sigma_parametrization_round_trips() {
    // The PyTorch chapter's state-dependent log-σ head, with its clamp, besides the softplus
    // head and the log-σ vector with and without one.
    for std_param in [
        StdParam::Softplus,
        StdParam::LogStd { init: -0.5, clamp: None },
        StdParam::LogStd { init: -0.5, clamp: Some((-5.0, 1.0)) },
        StdParam::LogStdHead { clamp: (-20.0, 2.0) },
    ] {
        let config = Config { std_param, ..small(Config::default()) };
        let trainer = trained(config.clone());
        let loaded = decode(&bytes_of(&trainer)).expect("a valid checkpoint");
        assert_eq!(loaded.config, config, "{std_param:?}");
        assert_eq!(&loaded.actor, trainer.actor(), "{std_param:?}");
    }
}

#[test]
#[should_panic(expected = "this config normalizes observations")]
fn saving_a_normalizing_config_without_its_statistics_is_refused() {
    // The file would load nowhere: the decoder refuses networks without the statistics
    // they were trained on.
    let config = Config { normalize_observations: true, ..small(Config::seed()) };
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let trainer = Trainer::new(config.clone(), envs);
    encode(&config, trainer.actor(), trainer.critic(), Progress::default());
}

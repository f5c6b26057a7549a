//! The checkpoint format: a trained agent comes back bit for bit, the bytes are laid out as
//! the format table says, the checksum is FNV-1a (checked against the published test vectors),
//! and every truncation and every corrupted byte is caught and named, never a panic.

use ppo::Pendulum;
use ppo::checkpoint::{self, FORMAT_VERSION, MAGIC, Problem, Progress, decode, encode, fnv1a};
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

fn bytes_of(trainer: &Trainer<Pendulum>) -> Vec<u8> {
    let progress = Progress { update: 1, timesteps: 128 };
    encode(trainer.config(), trainer.actor(), trainer.critic(), progress)
}

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
    let bytes = bytes_of(&trainer);
    assert_eq!(bytes[..8], MAGIC);
    assert_eq!(bytes[8..12], FORMAT_VERSION.to_le_bytes());
    assert_eq!(bytes[12..20], (bytes.len() as u64).to_le_bytes());
    assert_eq!(bytes[20..28], 1u64.to_le_bytes(), "update");
    assert_eq!(bytes[28..36], 128u64.to_le_bytes(), "timesteps");
    assert_eq!(bytes[36..44], 256u64.to_le_bytes(), "config.total_timesteps");
    let (body, checksum) = bytes.split_at(bytes.len() - 8);
    assert_eq!(checksum, fnv1a(body).to_le_bytes());
    // Header 20, progress 16, config 40 + 20 + 1 + 4 + 5 + 5 + 1 + 1 + 4 + 8 + 1 + 4 + 9 + 1
    // + 8 = 112, sizes 4 + 4 + 4 + 1 + 4 + 2·4 (actor) and 4 + 1 + 4 + 2·4 (critic) = 42,
    // tensors: a count each, then per tensor a name and shape, then the values.
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
    assert_eq!(bytes.len(), 20 + 16 + 112 + 42 + tensors + 8);
    // Nothing depends on the time or the machine.
    assert_eq!(bytes, bytes_of(&trainer));
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
    for at in 0..bytes.len() {
        let mut corrupted = bytes.clone();
        corrupted[at] ^= 0x10;
        let result = decode(&corrupted);
        let expected = match at {
            0..8 => matches!(result, Err(Problem::NotACheckpoint)),
            8..12 => matches!(result, Err(Problem::Version { .. })),
            // A corrupted length claims more bytes than there are, or fewer.
            12..20 => matches!(result, Err(Problem::Truncated { .. } | Problem::TooLong { .. })),
            _ => matches!(result, Err(Problem::Checksum)),
        };
        assert!(expected, "byte {at} flipped: {result:?}");
    }
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
    // (its checksum matches), but the networks are not the ones the config describes.
    let config = small(Config::default());
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
    let loaded = checkpoint::load(&path).unwrap();
    assert_eq!(&loaded.actor, trainer.actor());

    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let message = checkpoint::load(&path).unwrap_err().to_string();
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
    let message = checkpoint::load(&path).unwrap_err().to_string();
    let expected = "is truncated: 4 bytes, less than the 20-byte header";
    assert_eq!(message, format!("checkpoint {} {expected}", path.display()));
    std::fs::remove_file(&path).unwrap();
    let message = checkpoint::load(&path).unwrap_err().to_string();
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
        std_param: StdParam::LogStd { init: -0.3, clamp: Some((-4.5, 1.5)) },
        init: ppo::nn::Init::PyTorchDefault,
        seed: 987_654_321,
    }
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
    assert_eq!(defaults.len(), 21, "{defaults:?}");
    for ((name, value), (_, default)) in fields(&config).iter().zip(defaults) {
        assert_ne!(*value, default, "the unusual config must change {name}");
    }
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let trainer = Trainer::new(config.clone(), envs);
    let progress = Progress { update: 5, timesteps: 1050 };
    let bytes = encode(&config, trainer.actor(), trainer.critic(), progress);
    let loaded = decode(&bytes).expect("an unusual but valid checkpoint loads");
    assert_eq!(loaded.config, config);
    assert_eq!(loaded.progress, progress);
    assert_eq!(&loaded.actor, trainer.actor());
    assert_eq!(&loaded.critic, trainer.critic());
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
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    let body = out.len() - 8;
    let checksum = fnv1a(&out[..body]);
    out[body..].copy_from_slice(&checksum.to_le_bytes());
    out
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

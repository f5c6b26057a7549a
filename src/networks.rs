//! Chapter 3 (part): the actor and the critic.
//!
//! Both networks are a trunk ([`Mlp`]) with linear heads on top. The critic has one head, the
//! value. The actor's heads produce the parameters of the distribution the policy samples
//! from, and which parameters those are depends on the distribution ([`PolicyHead`]): a mean
//! and a σ per action dimension for a Normal (chapter 5), two concentrations for a Beta, one
//! logit per choice for a Categorical. The trainer pairs a head with its distribution in one
//! place (chapter 10); this module only computes the numbers.

use crate::autodiff::{Tape, Var};
use crate::init::{HIDDEN_GAIN, Init, LayerInit, POLICY_HEAD_GAIN, VALUE_HEAD_GAIN};
use crate::nn::{Activation, Graph, Linear, Mlp, Recorder, Workspace};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt;

// ANCHOR: std_param
/// How the actor produces its standard deviation σ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StdParam {
    /// A second head on the trunk, `σ = softplus(h·W_σ + b_σ) + 1e-5`: σ depends on the state,
    /// so the policy can be sure in one place and explore in another. Softplus is smooth and
    /// positive; the `1e-5` keeps σ (and the log-density's `1/σ`) away from zero.
    Softplus,
    /// A learned vector, `σ = exp(clamp(log σ))`, the same for every state: simpler, and
    /// common in PPO implementations. Learning `log σ` keeps σ positive without a constraint;
    /// the optional clamp bounds σ in both directions.
    LogStd { init: f32, clamp: Option<(f32, f32)> },
    /// A head on the trunk that outputs log σ, clamped: `σ = exp(clamp(h·W + b, lo, hi))`,
    /// state-dependent like the softplus head but with the log-σ parametrization. The PyTorch
    /// chapter uses this head with the clamp `[−20, 2]`.
    LogStdHead { clamp: (f32, f32) },
}

/// The smallest σ the softplus head can produce.
pub const MIN_STD: f32 = 1e-5;
// ANCHOR_END: std_param

// ANCHOR: policy_head
/// What the actor's heads produce: the parameters of the policy's distribution, for each
/// observation one or two rows of `action_size` values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PolicyHead {
    /// A mean and a σ per action dimension (σ as [`StdParam`] says). With `squash_mean` the
    /// mean is `action_scale · tanh(·)`, inside the action bounds (the Normal's head); without,
    /// it is the head's linear output (a tanh-Normal squashes its samples instead).
    Gaussian { squash_mean: bool },
    /// Two concentrations per action dimension, `α = 1 + softplus(·)` and `β = 1 + softplus(·)`,
    /// both above 1 so that the Beta density is unimodal and finite at the bounds.
    Beta,
    /// One logit per choice; `action_size` is the number of choices (a Categorical).
    Logits,
}
// ANCHOR_END: policy_head

// ANCHOR: actor_config
/// The actor's shape and choices.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorConfig {
    /// Observation size (3 for the pendulum: cos θ, sin θ, θ̇).
    pub obs_size: usize,
    /// Values per parameter row: the action's dimension (1 for the pendulum's torque), or the
    /// number of choices for a [`PolicyHead::Logits`] head.
    pub action_size: usize,
    /// Hidden layer widths, e.g. `[64, 64]`.
    pub hidden: Vec<usize>,
    /// The nonlinearity after each hidden layer.
    pub activation: Activation,
    /// How σ is produced (for a Gaussian head).
    pub std: StdParam,
    /// How the weights start out.
    pub init: Init,
    /// A squashed mean is `action_scale · tanh(·)`, inside `[-action_scale, action_scale]`.
    pub action_scale: f32,
    /// Which parameters the heads produce.
    pub head: PolicyHead,
}

impl Default for ActorConfig {
    /// The JAX/Flax Pendulum write-up's actor: 3 → 64 → 64 (ReLU) → μ = 2·tanh,
    /// σ = softplus.
    fn default() -> Self {
        ActorConfig {
            obs_size: 3,
            action_size: 1,
            hidden: vec![64, 64],
            activation: Activation::Relu,
            std: StdParam::Softplus,
            init: Init::PyTorchDefault,
            action_scale: 2.0,
            head: PolicyHead::Gaussian { squash_mean: true },
        }
    }
}
// ANCHOR_END: actor_config

// ANCHOR: critic_config
/// The critic's shape and choices.
#[derive(Clone, Debug, PartialEq)]
pub struct CriticConfig {
    pub obs_size: usize,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
}

impl Default for CriticConfig {
    /// The JAX/Flax Pendulum write-up's critic: 3 → 64 → 64 (ReLU) → 1.
    fn default() -> Self {
        CriticConfig {
            obs_size: 3,
            hidden: vec![64, 64],
            activation: Activation::Relu,
            init: Init::PyTorchDefault,
        }
    }
}
// ANCHOR_END: critic_config

// ANCHOR: networks
/// The actor's heads, one variant per [`PolicyHead`].
#[derive(Clone, Debug, PartialEq)]
enum Head {
    Gaussian { mean: Linear, std: StdHead },
    Beta { alpha: Linear, beta: Linear },
    Logits(Linear),
}

/// How the actor's σ is computed: a head on the trunk (softplus or log σ), or a free vector.
#[derive(Clone, Debug, PartialEq)]
enum StdHead {
    Linear(Linear),
    LogStd(Tensor),
}

/// The policy network: observation → the parameters of a distribution over actions.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    config: ActorConfig,
    trunk: Mlp,
    head: Head,
}

/// The value network: observation → one number.
#[derive(Clone, Debug, PartialEq)]
pub struct Critic {
    config: CriticConfig,
    trunk: Mlp,
    head: Linear,
}
// ANCHOR_END: networks

/// The actor's outputs for a batch: the distribution's parameters, one or two nodes of shape
/// `[batch, action_size]` (a mean and a σ; α and β; or the logits alone).
#[derive(Clone, Copy, Debug)]
pub struct Outputs<N> {
    nodes: [N; 2],
    count: usize,
}

impl<N: Copy> Outputs<N> {
    fn one(node: N) -> Self {
        Outputs { nodes: [node; 2], count: 1 }
    }
    fn two(first: N, second: N) -> Self {
        Outputs { nodes: [first, second], count: 2 }
    }
    /// The parameters in order, as a distribution's methods take them.
    pub fn as_slice(&self) -> &[N] {
        &self.nodes[..self.count]
    }
}

fn layer_sizes(obs_size: usize, hidden: &[usize]) -> Vec<usize> {
    std::iter::once(obs_size).chain(hidden.iter().copied()).collect()
}

/// Checks a flat batch of observations and returns the batch size.
fn batch_size(obs: &[f32], obs_size: usize) -> usize {
    assert!(
        obs.len().is_multiple_of(obs_size),
        "observations: {} values do not form rows of {obs_size}",
        obs.len()
    );
    obs.len() / obs_size
}

impl Actor {
    // ANCHOR: actor_new
    /// A new actor with weights drawn from `rng` as `config.init` says. Every head starts
    /// with the small policy-head gain, so that at first every state gets nearly the same
    /// distribution.
    ///
    /// # Panics
    /// If a size is zero, `action_scale` is not positive, or a log-std clamp range is empty.
    pub fn new<R: Rng + ?Sized>(config: &ActorConfig, rng: &mut R) -> Actor {
        Actor::build(config, |gain| config.init.layer(gain), rng)
    }

    /// An actor of `config`'s shape with zero weights, to load parameters into. A loader
    /// would overwrite the random weights of [`Actor::new`], and the orthogonal ones cost QR
    /// decompositions, O(H³) for a width H: minutes for a width of 2048.
    ///
    /// # Panics
    /// As [`Actor::new`].
    pub fn zeroed(config: &ActorConfig) -> Actor {
        Actor::build(config, |_| LayerInit::Zeros, &mut StdRng::seed_from_u64(0))
    }

    /// The actor of `config`, each layer initialized as `layer(gain)` says.
    fn build<R: Rng + ?Sized>(
        config: &ActorConfig,
        layer: impl Fn(f32) -> LayerInit,
        rng: &mut R,
    ) -> Actor {
        assert!(
            config.obs_size > 0 && config.action_size > 0 && !config.hidden.contains(&0),
            "actor sizes must be positive: {config:?}"
        );
        assert!(config.action_scale > 0.0, "action_scale must be positive: {config:?}");
        let sizes = layer_sizes(config.obs_size, &config.hidden);
        let trunk = Mlp::new(&sizes, config.activation, layer(HIDDEN_GAIN), rng);
        let width = *sizes.last().expect("sizes holds obs_size");
        let init = layer(POLICY_HEAD_GAIN);
        let mut linear = || Linear::new(width, config.action_size, init, &mut *rng);
        let head = match config.head {
            PolicyHead::Gaussian { .. } => {
                let mean = linear();
                let std = match config.std {
                    StdParam::Softplus => StdHead::Linear(linear()),
                    StdParam::LogStdHead { clamp: (lo, hi) } => {
                        assert!(lo <= hi, "log-std clamp range [{lo}, {hi}] is empty");
                        StdHead::Linear(linear())
                    }
                    StdParam::LogStd { init, clamp } => {
                        if let Some((lo, hi)) = clamp {
                            assert!(lo <= hi, "log-std clamp range [{lo}, {hi}] is empty");
                        }
                        StdHead::LogStd(Tensor::filled(&[config.action_size], init))
                    }
                };
                Head::Gaussian { mean, std }
            }
            PolicyHead::Beta => Head::Beta { alpha: linear(), beta: linear() },
            PolicyHead::Logits => Head::Logits(linear()),
        };
        Actor { config: config.clone(), trunk, head }
    }
    // ANCHOR_END: actor_new

    // ANCHOR: actor_trunk
    /// The distribution's parameters, `[batch, action_size]` each, for `obs: [batch, obs_size]`,
    /// in any [`Graph`]. The one definition of the actor's math.
    pub fn outputs_with<'p, G: Graph<'p>>(
        &'p self,
        graph: &mut G,
        obs: G::Node,
    ) -> Outputs<G::Node> {
        let h = self.features_with(graph, obs);
        self.heads_with(graph, h)
    }

    /// The trunk's output for `obs`: the features the heads read (and, in a shared network,
    /// the value head too).
    pub fn features_with<'p, G: Graph<'p>>(&'p self, graph: &mut G, obs: G::Node) -> G::Node {
        self.trunk.forward(graph, obs)
    }

    // ANCHOR_END: actor_trunk
    // ANCHOR: heads
    /// The heads on the trunk's features `h`.
    pub fn heads_with<'p, G: Graph<'p>>(&'p self, graph: &mut G, h: G::Node) -> Outputs<G::Node> {
        match &self.head {
            Head::Gaussian { mean, std } => {
                let z = mean.forward(graph, h);
                let mean = match self.config.head {
                    PolicyHead::Gaussian { squash_mean: false } => z,
                    _ => {
                        let squashed = graph.tanh(z);
                        graph.mul_scalar(squashed, self.config.action_scale)
                    }
                };
                let std = self.std_forward(std, graph, h, mean);
                Outputs::two(mean, std)
            }
            Head::Beta { alpha, beta } => {
                let [alpha, beta] = [alpha, beta].map(|head| {
                    let z = head.forward(graph, h);
                    let positive = graph.softplus(z);
                    graph.add_scalar(positive, 1.0)
                });
                Outputs::two(alpha, beta)
            }
            Head::Logits(head) => Outputs::one(head.forward(graph, h)),
        }
    }

    /// σ from the trunk's features `h` (or from the free log-σ vector, broadcast to the rows
    /// of `mean`).
    fn std_forward<'p, G: Graph<'p>>(
        &'p self,
        std: &'p StdHead,
        graph: &mut G,
        h: G::Node,
        mean: G::Node,
    ) -> G::Node {
        match (std, self.config.std) {
            (StdHead::Linear(head), StdParam::LogStdHead { clamp: (lo, hi) }) => {
                let log_std = head.forward(graph, h);
                let clamped = graph.clamp(log_std, lo, hi);
                graph.exp(clamped)
            }
            (StdHead::Linear(head), _) => {
                let z = head.forward(graph, h);
                let positive = graph.softplus(z);
                graph.add_scalar(positive, MIN_STD)
            }
            (StdHead::LogStd(log_std), _) => {
                let mut log_std_node = graph.param(log_std);
                if let StdParam::LogStd { clamp: Some((lo, hi)), .. } = self.config.std {
                    log_std_node = graph.clamp(log_std_node, lo, hi);
                }
                let std_row = graph.exp(log_std_node);
                graph.broadcast_rows(std_row, mean)
            }
        }
    }
    // ANCHOR_END: heads

    /// [`outputs_with`](Actor::outputs_with) for a head with two outputs: `(mean, std)` for a
    /// Gaussian head, `(α, β)` for a Beta head.
    ///
    /// # Panics
    /// For a logits head, which has one output.
    pub fn forward_with<'p, G: Graph<'p>>(
        &'p self,
        graph: &mut G,
        obs: G::Node,
    ) -> (G::Node, G::Node) {
        match *self.outputs_with(graph, obs).as_slice() {
            [first, second] => (first, second),
            _ => panic!("a logits actor has one output: use outputs_with"),
        }
    }

    /// Values per observation in each output: `[action_size, action_size]`, or
    /// `[action_size, 0]` for a logits head, which has one output.
    pub fn output_widths(&self) -> [usize; 2] {
        let n = self.config.action_size;
        match self.head {
            Head::Logits(_) => [n, 0],
            _ => [n, n],
        }
    }

    // ANCHOR: actor_two_ways
    /// For acting: the distribution's parameters at each observation, without a tape (for a
    /// Gaussian head the mean and σ). `obs` holds `batch` observations one after another (as
    /// [`crate::VecEnv`] keeps them); `first` and `second` receive `batch` rows of
    /// [`output_widths`](Actor::output_widths) values each (`second` is empty for a logits
    /// head). Allocates nothing once `workspace` has served a batch this large.
    ///
    /// # Panics
    /// If `obs.len()` is not a multiple of `obs_size`, or an output slice has the wrong length.
    pub fn forward(
        &self,
        obs: &[f32],
        workspace: &mut Workspace,
        first: &mut [f32],
        second: &mut [f32],
    ) {
        let batch = batch_size(obs, self.config.obs_size);
        let [w1, w2] = self.output_widths();
        assert!(
            first.len() == batch * w1 && second.len() == batch * w2,
            "actor outputs for {batch} observations need {} and {} values, got {} and {}",
            batch * w1,
            batch * w2,
            first.len(),
            second.len()
        );
        let mut graph = workspace.eager();
        let x = graph.input(&[batch, self.config.obs_size], obs);
        let outputs = self.outputs_with(&mut graph, x);
        for (out, &node) in [first, second].into_iter().zip(outputs.as_slice()) {
            out.copy_from_slice(graph.value(node).data());
        }
    }

    /// For learning: records the actor on `tape` for `obs: [batch, obs_size]` and returns its
    /// outputs (see [`Outputs`]). `param_vars` is cleared, then receives the parameters'
    /// handles in [`Actor::parameters`] order, for reading their gradients after
    /// [`Tape::backward`].
    pub fn outputs_on_tape(
        &self,
        tape: &mut Tape,
        obs: Var,
        param_vars: &mut Vec<Var>,
    ) -> Outputs<Var> {
        param_vars.clear();
        self.outputs_with(&mut Recorder::new(tape, param_vars), obs)
    }

    /// [`outputs_on_tape`](Actor::outputs_on_tape) for a head with two outputs: `(mean, std)`
    /// for a Gaussian head, `(α, β)` for a Beta head.
    ///
    /// # Panics
    /// For a logits head, which has one output.
    pub fn forward_on_tape(
        &self,
        tape: &mut Tape,
        obs: Var,
        param_vars: &mut Vec<Var>,
    ) -> (Var, Var) {
        match *self.outputs_on_tape(tape, obs, param_vars).as_slice() {
            [first, second] => (first, second),
            _ => panic!("a logits actor has one output: use outputs_on_tape"),
        }
    }
    // ANCHOR_END: actor_two_ways

    // ANCHOR: actor_parameters
    /// The parameters, in a fixed order: trunk layers (weight, bias), then the heads: mean
    /// (weight, bias) and σ (weight, bias, or the log-σ vector); α then β; or the logits.
    pub fn parameters(&self) -> Vec<&Tensor> {
        let heads: Vec<&Tensor> = match &self.head {
            Head::Gaussian { mean, std: StdHead::Linear(std) } => {
                mean.parameters().into_iter().chain(std.parameters()).collect()
            }
            Head::Gaussian { mean, std: StdHead::LogStd(log_std) } => {
                mean.parameters().into_iter().chain([log_std]).collect()
            }
            Head::Beta { alpha, beta } => {
                alpha.parameters().into_iter().chain(beta.parameters()).collect()
            }
            Head::Logits(logits) => logits.parameters().to_vec(),
        };
        self.trunk.parameters().chain(heads).collect()
    }
    // ANCHOR_END: actor_parameters

    /// The parameters, writable, in [`Actor::parameters`] order.
    pub fn parameters_mut(&mut self) -> Vec<&mut Tensor> {
        let heads: Vec<&mut Tensor> = match &mut self.head {
            Head::Gaussian { mean, std: StdHead::Linear(std) } => {
                mean.parameters_mut().into_iter().chain(std.parameters_mut()).collect()
            }
            Head::Gaussian { mean, std: StdHead::LogStd(log_std) } => {
                mean.parameters_mut().into_iter().chain([log_std]).collect()
            }
            Head::Beta { alpha, beta } => {
                alpha.parameters_mut().into_iter().chain(beta.parameters_mut()).collect()
            }
            Head::Logits(logits) => logits.parameters_mut().into_iter().collect(),
        };
        self.trunk.parameters_mut().chain(heads).collect()
    }

    /// Names of the parameters in [`Actor::parameters`] order: `trunk.0.weight`, …, then
    /// `mean.weight`, `mean.bias` and `std.weight`, `std.bias` (softplus), `log_std.weight`,
    /// `log_std.bias` (log-σ head) or `log_std` (the free vector); `alpha.*`, `beta.*`; or
    /// `logits.*`.
    pub fn parameter_names(&self) -> Vec<String> {
        let layer = |name: &str| [format!("{name}.weight"), format!("{name}.bias")];
        let heads: Vec<String> = match (&self.head, self.config.std) {
            (Head::Gaussian { std: StdHead::LogStd(_), .. }, _) => {
                layer("mean").into_iter().chain(["log_std".to_string()]).collect()
            }
            (Head::Gaussian { .. }, StdParam::LogStdHead { .. }) => {
                layer("mean").into_iter().chain(layer("log_std")).collect()
            }
            (Head::Gaussian { .. }, _) => layer("mean").into_iter().chain(layer("std")).collect(),
            (Head::Beta { .. }, _) => layer("alpha").into_iter().chain(layer("beta")).collect(),
            (Head::Logits(_), _) => layer("logits").to_vec(),
        };
        self.trunk.parameter_names("trunk").chain(heads).collect()
    }

    /// Total number of learned numbers.
    pub fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.len()).sum()
    }

    /// Replaces every parameter by the tensor at the same position of `values`
    /// ([`Actor::parameters`] order).
    ///
    /// # Errors
    /// If the count or a shape differs; the actor is then left unchanged.
    pub fn load_parameters(&mut self, values: &[Tensor]) -> Result<(), ParameterError> {
        let names = self.parameter_names();
        load_parameters(&names, self.parameters_mut(), values)
    }

    /// The configuration the actor was built from.
    pub fn config(&self) -> &ActorConfig {
        &self.config
    }
}

impl Critic {
    /// A new critic with weights drawn from `rng` as `config.init` says.
    ///
    /// # Panics
    /// If a size is zero.
    pub fn new<R: Rng + ?Sized>(config: &CriticConfig, rng: &mut R) -> Critic {
        Critic::build(config, |gain| config.init.layer(gain), rng)
    }

    /// A critic of `config`'s shape with zero weights, as [`Actor::zeroed`].
    ///
    /// # Panics
    /// As [`Critic::new`].
    pub fn zeroed(config: &CriticConfig) -> Critic {
        Critic::build(config, |_| LayerInit::Zeros, &mut StdRng::seed_from_u64(0))
    }

    fn build<R: Rng + ?Sized>(
        config: &CriticConfig,
        layer: impl Fn(f32) -> LayerInit,
        rng: &mut R,
    ) -> Critic {
        assert!(
            config.obs_size > 0 && !config.hidden.contains(&0),
            "critic sizes must be positive: {config:?}"
        );
        let sizes = layer_sizes(config.obs_size, &config.hidden);
        let trunk = Mlp::new(&sizes, config.activation, layer(HIDDEN_GAIN), rng);
        let width = *sizes.last().expect("sizes holds obs_size");
        let head = Linear::new(width, 1, layer(VALUE_HEAD_GAIN), rng);
        Critic { config: config.clone(), trunk, head }
    }

    // ANCHOR: critic_forward
    /// The values, `[batch]`, for `obs: [batch, obs_size]`, in any [`Graph`].
    pub fn forward_with<'p, G: Graph<'p>>(&'p self, graph: &mut G, obs: G::Node) -> G::Node {
        let h = self.trunk.forward(graph, obs);
        let value = self.head.forward(graph, h);
        graph.flatten(value)
    }
    // ANCHOR_END: critic_forward

    /// For acting: the value of each of the `batch` observations in `obs` (one after another),
    /// written to `values`, without a tape. Allocates nothing once `workspace` has served a
    /// batch this large.
    ///
    /// # Panics
    /// If `obs.len()` is not a multiple of `obs_size`, or `values.len()` is not the batch size.
    pub fn forward(&self, obs: &[f32], workspace: &mut Workspace, values: &mut [f32]) {
        let batch = batch_size(obs, self.config.obs_size);
        assert_eq!(
            values.len(),
            batch,
            "critic output for {batch} observations needs {batch} values"
        );
        let mut graph = workspace.eager();
        let x = graph.input(&[batch, self.config.obs_size], obs);
        let value = self.forward_with(&mut graph, x);
        values.copy_from_slice(graph.value(value).data());
    }

    /// For learning: records the critic on `tape` and returns the values, `[batch]`.
    /// `param_vars` is cleared, then receives the parameters' handles in
    /// [`Critic::parameters`] order.
    pub fn forward_on_tape(&self, tape: &mut Tape, obs: Var, param_vars: &mut Vec<Var>) -> Var {
        param_vars.clear();
        self.forward_with(&mut Recorder::new(tape, param_vars), obs)
    }

    /// The parameters: trunk layers (weight, bias), then the value head (weight, bias).
    pub fn parameters(&self) -> Vec<&Tensor> {
        self.trunk.parameters().chain(self.head.parameters()).collect()
    }

    /// The parameters, writable, in [`Critic::parameters`] order.
    pub fn parameters_mut(&mut self) -> Vec<&mut Tensor> {
        let head = self.head.parameters_mut();
        self.trunk.parameters_mut().chain(head).collect()
    }

    /// Names in [`Critic::parameters`] order: `trunk.0.weight`, …, `value.weight`, `value.bias`.
    pub fn parameter_names(&self) -> Vec<String> {
        let head = ["value.weight".to_string(), "value.bias".to_string()];
        self.trunk.parameter_names("trunk").chain(head).collect()
    }

    /// Total number of learned numbers.
    pub fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.len()).sum()
    }

    /// Replaces every parameter, as [`Actor::load_parameters`].
    ///
    /// # Errors
    /// If the count or a shape differs; the critic is then left unchanged.
    pub fn load_parameters(&mut self, values: &[Tensor]) -> Result<(), ParameterError> {
        let names = self.parameter_names();
        load_parameters(&names, self.parameters_mut(), values)
    }

    /// The configuration the critic was built from.
    pub fn config(&self) -> &CriticConfig {
        &self.config
    }
}

// ANCHOR: shared
/// One network for both jobs: the actor's trunk feeds its heads and also `value`, a critic
/// with no hidden layers of its own (its input is the trunk's features). Returns the
/// distribution's parameters and the values, in any [`Graph`]; on the tape the parameters
/// come in the actor's order, then the value head's.
///
/// # Panics
/// If `value` has hidden layers, or takes another width than the trunk's output.
pub fn shared_with<'p, G: Graph<'p>>(
    actor: &'p Actor,
    value: &'p Critic,
    graph: &mut G,
    obs: G::Node,
) -> (Outputs<G::Node>, G::Node) {
    let width = *actor.config.hidden.last().unwrap_or(&actor.config.obs_size);
    assert!(
        value.config.hidden.is_empty() && value.config.obs_size == width,
        "a shared value head reads the trunk's {width} features: {:?}",
        value.config
    );
    let h = actor.features_with(graph, obs);
    let outputs = actor.heads_with(graph, h);
    (outputs, value.forward_with(graph, h))
}

/// [`shared_with`] for acting, without a tape: the parameters into `first` and `second`, the
/// values into `values`, for `batch` observations one after another.
///
/// # Panics
/// As [`shared_with`], or if an output slice has the wrong length.
pub fn shared_forward(
    actor: &Actor,
    value: &Critic,
    obs: &[f32],
    workspace: &mut Workspace,
    outputs: [&mut [f32]; 2],
    values: &mut [f32],
) {
    let batch = batch_size(obs, actor.config.obs_size);
    let [w1, w2] = actor.output_widths();
    let [first, second] = outputs;
    assert!(
        first.len() == batch * w1 && second.len() == batch * w2 && values.len() == batch,
        "shared outputs for {batch} observations need {}, {} and {batch} values",
        batch * w1,
        batch * w2
    );
    let mut graph = workspace.eager();
    let x = graph.input(&[batch, actor.config.obs_size], obs);
    let (nodes, value_node) = shared_with(actor, value, &mut graph, x);
    for (out, &node) in [first, second].into_iter().zip(nodes.as_slice()) {
        out.copy_from_slice(graph.value(node).data());
    }
    values.copy_from_slice(graph.value(value_node).data());
}
// ANCHOR_END: shared

// ANCHOR: load
/// Why parameters could not be loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum ParameterError {
    /// A different number of tensors than the network has parameters.
    Count { expected: usize, found: usize },
    /// A tensor whose shape differs from the parameter's.
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
}

impl fmt::Display for ParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterError::Count { expected, found } => {
                write!(f, "expected {expected} parameter tensors, found {found}")
            }
            ParameterError::Shape { name, expected, found } => {
                write!(f, "parameter {name}: expected shape {expected:?}, found {found:?}")
            }
        }
    }
}

impl std::error::Error for ParameterError {}

/// Checks every shape first, then copies, so that a failed load changes nothing.
fn load_parameters(
    names: &[String],
    mut targets: Vec<&mut Tensor>,
    values: &[Tensor],
) -> Result<(), ParameterError> {
    if targets.len() != values.len() {
        return Err(ParameterError::Count { expected: targets.len(), found: values.len() });
    }
    for ((name, target), value) in names.iter().zip(&targets).zip(values) {
        if target.shape() != value.shape() {
            return Err(ParameterError::Shape {
                name: name.clone(),
                expected: target.shape().to_vec(),
                found: value.shape().to_vec(),
            });
        }
    }
    for (target, value) in targets.iter_mut().zip(values) {
        target.copy_from(value);
    }
    Ok(())
}
// ANCHOR_END: load

//! Chapter 3: networks.
//!
//! PPO trains two networks. The **actor** maps an observation to a distribution over actions
//! (here the mean and standard deviation of a Normal, which chapter 5 samples from); the
//! **critic** maps an observation to one number, the value of being there. Both are a trunk of
//! [`Linear`] layers, each followed by an [`Activation`] (an [`Mlp`]), with linear heads on top.
//!
//! Every network runs two ways: on the [`Tape`] (for learning: every operation recorded, so
//! that gradients can flow back) and without it (for acting: one observation per environment
//! per step, where recording would only cost time). Both run the *same* code: the layer math
//! is written once, against the small [`Graph`] trait, and two evaluators implement it. The
//! recording one ([`Recorder`]) puts each operation on the tape; the eager one (behind
//! [`Workspace`]) runs the very same [`Op::forward`] into buffers it keeps from call to call.
//! The two therefore give bit-identical outputs, and a test checks that they do.
//!
//! Initialization is by hand too: PyTorch's default for `nn.Linear`, and orthogonal matrices
//! computed with our own Householder QR decomposition ([`qr`]).
//!
//! ```
//! use ppo::nn::{Actor, ActorConfig, Workspace};
//! use ppo::Tape;
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let actor = Actor::new(&ActorConfig::default(), &mut rng);
//! // Acting: two observations (cos θ, sin θ, θ̇) in, one mean and one σ per observation out.
//! let obs = [1.0, 0.0, 0.0, -1.0, 0.0, 0.5];
//! let (mut mean, mut std) = ([0.0; 2], [0.0; 2]);
//! actor.forward(&obs, &mut Workspace::new(), &mut mean, &mut std);
//! assert!(mean.iter().all(|m| m.abs() <= 2.0) && std.iter().all(|&s| s >= 1e-5));
//! // Learning: the same math on the tape, with a handle for each parameter's gradient.
//! let mut tape = Tape::new();
//! let x = tape.constant(&ppo::Tensor::from_vec(&[2, 3], obs.to_vec()));
//! let mut params = Vec::new();
//! let (mean_var, _std_var) = actor.forward_on_tape(&mut tape, x, &mut params);
//! assert_eq!(tape.value(mean_var).data(), mean);
//! assert_eq!(params.len(), actor.parameters().len());
//! ```

use crate::autodiff::{
    AddBias, AddScalar, Backward, Clamp, Exp, Flatten, MatMul, MulScalar, Op, Params, Relu,
    Softplus, Tanh, Tape, Var,
};
use crate::tensor::{Tensor, accumulate_column_sums};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::StandardNormal;
use std::fmt;

// ANCHOR: graph
/// Whatever evaluates a network: the tape (recording every operation for backpropagation), or
/// an eager evaluator (computing values only). The layer math of this chapter is written once,
/// generically over this trait, so the network that learns and the network that acts cannot
/// drift apart.
pub trait Graph<'p> {
    /// A handle to a value: a [`Var`] on the tape, a buffer index for the eager evaluator.
    type Node: Copy;

    /// Brings a parameter tensor (a weight, a bias) into the computation.
    fn param(&mut self, value: &'p Tensor) -> Self::Node;

    /// Applies one operation of chapter 2 to earlier nodes.
    fn apply(&mut self, op: &'static dyn Op, inputs: &[Self::Node], params: Params) -> Self::Node;

    // One helper per operation the networks use, so that the math reads like a formula.
    fn matmul(&mut self, a: Self::Node, b: Self::Node) -> Self::Node {
        self.apply(&MatMul, &[a, b], NO_PARAMS)
    }
    fn add_bias(&mut self, x: Self::Node, bias: Self::Node) -> Self::Node {
        self.apply(&AddBias, &[x, bias], NO_PARAMS)
    }
    fn relu(&mut self, x: Self::Node) -> Self::Node {
        self.apply(&Relu, &[x], NO_PARAMS)
    }
    fn tanh(&mut self, x: Self::Node) -> Self::Node {
        self.apply(&Tanh, &[x], NO_PARAMS)
    }
    fn softplus(&mut self, x: Self::Node) -> Self::Node {
        self.apply(&Softplus, &[x], NO_PARAMS)
    }
    fn exp(&mut self, x: Self::Node) -> Self::Node {
        self.apply(&Exp, &[x], NO_PARAMS)
    }
    fn clamp(&mut self, x: Self::Node, lo: f32, hi: f32) -> Self::Node {
        self.apply(&Clamp, &[x], [lo, hi])
    }
    fn add_scalar(&mut self, x: Self::Node, c: f32) -> Self::Node {
        self.apply(&AddScalar, &[x], [c, 0.0])
    }
    fn mul_scalar(&mut self, x: Self::Node, c: f32) -> Self::Node {
        self.apply(&MulScalar, &[x], [c, 0.0])
    }
    fn flatten(&mut self, x: Self::Node) -> Self::Node {
        self.apply(&Flatten, &[x], NO_PARAMS)
    }
    /// The row `x: [n]` repeated once per row of `like: [rows, n]`.
    fn broadcast_rows(&mut self, x: Self::Node, like: Self::Node) -> Self::Node {
        self.apply(&BroadcastRows, &[x, like], NO_PARAMS)
    }
}

const NO_PARAMS: Params = [0.0; 2];
// ANCHOR_END: graph

// ANCHOR: recorder
/// The learning evaluator: records every operation on a [`Tape`], and every parameter as a
/// tape parameter whose [`Var`] it appends to `params`, in the order the network visits them.
pub struct Recorder<'t> {
    tape: &'t mut Tape,
    params: &'t mut Vec<Var>,
}

impl<'t> Recorder<'t> {
    /// Records onto `tape`, appending parameter handles to `params`.
    pub fn new(tape: &'t mut Tape, params: &'t mut Vec<Var>) -> Self {
        Recorder { tape, params }
    }
}

impl<'p> Graph<'p> for Recorder<'_> {
    type Node = Var;
    fn param(&mut self, value: &'p Tensor) -> Var {
        let var = self.tape.param(value);
        self.params.push(var);
        var
    }
    fn apply(&mut self, op: &'static dyn Op, inputs: &[Var], params: Params) -> Var {
        self.tape.apply(op, inputs, params)
    }
}
// ANCHOR_END: recorder

// ANCHOR: workspace
/// Buffers for running networks without a tape, kept from one call to the next: once every
/// buffer has grown to the size it needs (after the first call at the largest batch), a
/// forward pass allocates nothing. One workspace may serve several networks in turn.
#[derive(Default)]
pub struct Workspace {
    buffers: Vec<Tensor>,
}

impl Workspace {
    /// An empty workspace; it grows on first use.
    pub fn new() -> Self {
        Workspace::default()
    }

    /// Bytes of storage held, for checking that reuse allocates nothing.
    pub fn buffer_bytes(&self) -> usize {
        self.buffers.iter().map(Tensor::capacity).sum::<usize>() * size_of::<f32>()
    }

    /// An eager evaluator writing into this workspace's buffers, from the first one on.
    pub fn eager(&mut self) -> Eager<'_> {
        Eager { buffers: &mut self.buffers, used: 0 }
    }
}

// ANCHOR_END: workspace

/// A value in the eager evaluator: a borrowed parameter, or the output of an operation held
/// in one of the workspace's buffers.
#[derive(Clone, Copy, Debug)]
pub enum Value<'p> {
    /// A tensor owned elsewhere (a parameter): read in place, never copied.
    Borrowed(&'p Tensor),
    /// The index of a workspace buffer.
    Buffer(usize),
}

/// The acting evaluator: runs each operation's `forward` straight into the next workspace
/// buffer. No nodes, no gradient pool, and parameters are borrowed rather than copied.
pub struct Eager<'w> {
    buffers: &'w mut Vec<Tensor>,
    used: usize,
}

static NO_TENSOR: Tensor = Tensor::EMPTY;

impl Eager<'_> {
    /// The next buffer, created on first use and reused afterwards.
    fn next_buffer(&mut self) -> usize {
        if self.used == self.buffers.len() {
            self.buffers.push(Tensor::default());
        }
        self.used += 1;
        self.used - 1
    }

    /// Copies `data` into a buffer of the given shape, as the input of a computation.
    ///
    /// # Panics
    /// If `data.len()` is not the product of the dimensions of `shape`.
    pub fn input<'p>(&mut self, shape: &[usize], data: &[f32]) -> Value<'p> {
        let index = self.next_buffer();
        let buffer = &mut self.buffers[index];
        buffer.reset_zeros(shape);
        assert_eq!(
            buffer.len(),
            data.len(),
            "input of shape {shape:?} given {} values",
            data.len()
        );
        buffer.data_mut().copy_from_slice(data);
        Value::Buffer(index)
    }

    /// The tensor behind a value.
    pub fn value<'a>(&'a self, value: Value<'a>) -> &'a Tensor {
        match value {
            Value::Borrowed(tensor) => tensor,
            Value::Buffer(index) => &self.buffers[index],
        }
    }
}

// ANCHOR: eager_apply
impl<'p> Graph<'p> for Eager<'_> {
    type Node = Value<'p>;
    fn param(&mut self, value: &'p Tensor) -> Value<'p> {
        Value::Borrowed(value)
    }
    fn apply(&mut self, op: &'static dyn Op, inputs: &[Value<'p>], params: Params) -> Value<'p> {
        let index = self.next_buffer();
        // Inputs come from earlier buffers, so the pool splits into what is read and what is
        // written, as on the tape.
        let (earlier, rest) = self.buffers.split_at_mut(index);
        let mut values = [&NO_TENSOR; crate::autodiff::MAX_INPUTS];
        for (slot, input) in values.iter_mut().zip(inputs) {
            *slot = match *input {
                Value::Borrowed(tensor) => tensor,
                Value::Buffer(i) => &earlier[i],
            };
        }
        op.forward(&values[..inputs.len()], params, &mut rest[0]);
        Value::Buffer(index)
    }
}
// ANCHOR_END: eager_apply

// ANCHOR: broadcast_rows
/// `y[i, j] = x[j]` for every row `i` of `like`: a row of `n` values (shape `[n]` or `[1, n]`)
/// repeated once per row of the second input, `[rows, n]`, whose values are not read. This is
/// how a state-independent standard deviation becomes one per observation in the batch. The
/// row was used once per output row, so its gradient is the column sums of `dY`; `like`
/// contributes only its shape and receives no gradient.
pub struct BroadcastRows;
impl Op for BroadcastRows {
    fn name(&self) -> &'static str {
        "broadcast_rows"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let (rows, cols) = x[1].dims2();
        crate::tensor::assert_is_row(x[0], cols, x[1].shape());
        out.reset_zeros(&[rows, cols]);
        if cols > 0 {
            for row in out.data_mut().chunks_exact_mut(cols) {
                row.copy_from_slice(x[0].data());
            }
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        if ctx.input == 0 {
            let (_, cols) = ctx.output_grad.dims2();
            accumulate_column_sums(ctx.output_grad.data(), cols, grad.data_mut());
        }
    }
}
// ANCHOR_END: broadcast_rows

// ANCHOR: activation
/// The nonlinearity between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(x, 0)`: cheap, and its gradient does not shrink for positive inputs.
    Relu,
    /// `tanh x`: smooth and bounded, the other common choice for small control networks.
    Tanh,
}

impl Activation {
    /// Applies the activation in any [`Graph`].
    pub fn forward<'p, G: Graph<'p>>(self, graph: &mut G, x: G::Node) -> G::Node {
        match self {
            Activation::Relu => graph.relu(x),
            Activation::Tanh => graph.tanh(x),
        }
    }
}
// ANCHOR_END: activation

// ANCHOR: linear
/// A fully connected layer, `y = x·W + b`.
///
/// The weight is stored `[inputs, outputs]`, so that a batch `x: [batch, inputs]` multiplies
/// it directly, row by row. (PyTorch's `nn.Linear` stores the transpose, `[outputs, inputs]`,
/// and computes `x·Wᵀ`; the fixture script transposes when it records.)
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// `[inputs, outputs]`.
    pub weight: Tensor,
    /// `[outputs]`.
    pub bias: Tensor,
}

impl Linear {
    /// A layer with the given initialization.
    pub fn new<R: Rng + ?Sized>(
        inputs: usize,
        outputs: usize,
        init: LayerInit,
        rng: &mut R,
    ) -> Self {
        match init {
            LayerInit::PyTorchDefault => {
                // nn.Linear: kaiming_uniform_(a = √5) for the weight, which works out to
                // U(±1/√fan_in), and the same bound for the bias.
                let bound = 1.0 / (inputs.max(1) as f32).sqrt();
                Linear {
                    weight: uniform(&[inputs, outputs], bound, rng),
                    bias: uniform(&[outputs], bound, rng),
                }
            }
            LayerInit::Orthogonal { gain } => Linear {
                weight: orthogonal(inputs, outputs, gain, rng),
                bias: Tensor::zeros(&[outputs]),
            },
            LayerInit::Zeros => Linear {
                weight: Tensor::zeros(&[inputs, outputs]),
                bias: Tensor::zeros(&[outputs]),
            },
        }
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.weight.shape()[1]
    }

    /// `x·W + b` in any [`Graph`]: `x: [batch, inputs]` to `[batch, outputs]`.
    pub fn forward<'p, G: Graph<'p>>(&'p self, graph: &mut G, x: G::Node) -> G::Node {
        let weight = graph.param(&self.weight);
        let bias = graph.param(&self.bias);
        let product = graph.matmul(x, weight);
        graph.add_bias(product, bias)
    }

    fn parameters(&self) -> [&Tensor; 2] {
        [&self.weight, &self.bias]
    }

    fn parameters_mut(&mut self) -> [&mut Tensor; 2] {
        [&mut self.weight, &mut self.bias]
    }
}

/// Uniform values in `[-bound, bound)`.
fn uniform<R: Rng + ?Sized>(shape: &[usize], bound: f32, rng: &mut R) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| rng.random_range(-bound..bound)).collect();
    Tensor::from_vec(shape, data)
}
// ANCHOR_END: linear

// ANCHOR: mlp
/// A stack of [`Linear`] layers, each followed by the activation: the shared trunk of the
/// actor and of the critic. The output layers (heads) are not part of it, because each
/// network ends differently.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    pub activation: Activation,
}

impl Mlp {
    /// Layers `sizes[0] → sizes[1] → … → sizes[last]`, all initialized with `init`.
    ///
    /// # Panics
    /// If `sizes` is empty.
    pub fn new<R: Rng + ?Sized>(
        sizes: &[usize],
        activation: Activation,
        init: LayerInit,
        rng: &mut R,
    ) -> Self {
        assert!(!sizes.is_empty(), "an MLP needs at least its input size");
        let layers =
            sizes.windows(2).map(|pair| Linear::new(pair[0], pair[1], init, rng)).collect();
        Mlp { layers, activation }
    }

    /// `act(…act(act(x·W₀ + b₀)·W₁ + b₁)…)` in any [`Graph`].
    pub fn forward<'p, G: Graph<'p>>(&'p self, graph: &mut G, x: G::Node) -> G::Node {
        let mut h = x;
        for layer in &self.layers {
            h = layer.forward(graph, h);
            h = self.activation.forward(graph, h);
        }
        h
    }

    fn parameters(&self) -> impl Iterator<Item = &Tensor> {
        self.layers.iter().flat_map(Linear::parameters)
    }

    fn parameters_mut(&mut self) -> impl Iterator<Item = &mut Tensor> {
        self.layers.iter_mut().flat_map(Linear::parameters_mut)
    }

    fn parameter_names(&self, prefix: &str) -> impl Iterator<Item = String> {
        (0..self.layers.len())
            .flat_map(move |i| [format!("{prefix}.{i}.weight"), format!("{prefix}.{i}.bias")])
    }
}
// ANCHOR_END: mlp

// ANCHOR: gains
/// How a network's layers start out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weights and biases uniform in ±1/√fan_in.
    PyTorchDefault,
    /// Orthogonal weights and zero biases, with gain √2 for hidden layers, 0.01 for the
    /// policy heads and 1 for the value head (the choices of the implementation the documents
    /// follow, CleanRL's `layer_init`).
    Orthogonal,
}

/// How one layer starts out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerInit {
    /// Weights and biases uniform in ±1/√fan_in.
    PyTorchDefault,
    /// `gain` times a random orthogonal matrix; zero bias.
    Orthogonal { gain: f32 },
    /// Every weight and bias zero: a layer that is about to be overwritten (by a checkpoint's
    /// parameters), built without drawing a random number or decomposing a matrix.
    Zeros,
}

/// Gain for hidden layers followed by ReLU: it makes up for ReLU zeroing half of each
/// layer's outputs, so activations keep their scale from layer to layer.
pub const HIDDEN_GAIN: f32 = std::f32::consts::SQRT_2;
/// Gain for the policy heads: a near-zero output at first, so every state starts with mean
/// action ≈ 0 and the same spread, and no action is preferred before any learning.
pub const POLICY_HEAD_GAIN: f32 = 0.01;
/// Gain for the value head.
pub const VALUE_HEAD_GAIN: f32 = 1.0;

impl Init {
    /// The initialization of one layer with the given orthogonal gain.
    pub fn layer(self, gain: f32) -> LayerInit {
        match self {
            Init::PyTorchDefault => LayerInit::PyTorchDefault,
            Init::Orthogonal => LayerInit::Orthogonal { gain },
        }
    }
}

// ANCHOR_END: gains

// ANCHOR: orthogonal
/// A `[rows, cols]` matrix, `gain` times a random orthogonal one: its columns are orthonormal
/// if `rows ≥ cols` (`WᵀW = gain²·I`), its rows otherwise (`WWᵀ = gain²·I`). Random means
/// uniform over all such matrices (the Haar measure): a Gaussian matrix, orthonormalized by
/// [`qr`], with the signs fixed so that `R` has a positive diagonal. This is what PyTorch's
/// `nn.init.orthogonal_` does.
pub fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, gain: f32, rng: &mut R) -> Tensor {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let gaussian: Vec<f64> = (0..tall * short).map(|_| rng.sample(StandardNormal)).collect();
    let (q, _) = qr(tall, short, &gaussian);
    let mut weight = Tensor::zeros(&[rows, cols]);
    for i in 0..tall {
        for j in 0..short {
            // Q is tall; a wide matrix is its transpose.
            let index = if rows >= cols { [i, j] } else { [j, i] };
            weight.set(&index, (f64::from(gain) * q[i * short + j]) as f32);
        }
    }
    weight
}
// ANCHOR_END: orthogonal

// ANCHOR: qr
/// The thin QR decomposition of a `rows × cols` matrix `a` (row-major, `rows ≥ cols`):
/// `a = Q·R` with `Q` (`rows × cols`) having orthonormal columns and `R` (`cols × cols`)
/// upper triangular with a non-negative diagonal. Returns `(Q, R)`, row-major.
///
/// Householder's method: for each column `k`, a reflection `H = I − 2vvᵀ` (a mirror, so
/// exactly orthogonal) maps what is left of column `k` onto the axis `e_k`, zeroing the
/// entries below the diagonal. After `cols` reflections `a` has become `R`, and `Q` is the
/// product of the reflections. Unlike Gram–Schmidt, which subtracts projections and loses
/// orthogonality when columns are nearly parallel, reflections stay orthogonal to rounding.
/// Computed in `f64`, so that `Q` is orthogonal far beyond `f32` precision.
///
/// # Panics
/// If `rows < cols` or `a.len() != rows * cols`.
pub fn qr(rows: usize, cols: usize, a: &[f64]) -> (Vec<f64>, Vec<f64>) {
    assert!(rows >= cols, "qr needs rows ≥ cols, got {rows} × {cols}");
    assert_eq!(a.len(), rows * cols, "qr: {rows} × {cols} matrix given {} values", a.len());
    let mut r = a.to_vec();
    let mut reflections: Vec<Vec<f64>> = Vec::with_capacity(cols);
    for k in 0..cols {
        // v = x − α·e₁ with α = −sign(x₀)·‖x‖: choosing the sign away from x₀ avoids
        // subtracting two nearly equal numbers.
        let mut v: Vec<f64> = (k..rows).map(|i| r[i * cols + k]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let v_norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if v_norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= v_norm);
            // R ← H·R on rows k.., columns k..
            for j in k..cols {
                let dot: f64 = v.iter().enumerate().map(|(t, vt)| vt * r[(k + t) * cols + j]).sum();
                for (t, vt) in v.iter().enumerate() {
                    r[(k + t) * cols + j] -= 2.0 * vt * dot;
                }
            }
        }
        reflections.push(v);
    }
    // Q = H₀·H₁·…·H_{cols−1} applied to the first `cols` columns of the identity, last first.
    let mut q = vec![0.0; rows * cols];
    for j in 0..cols {
        q[j * cols + j] = 1.0;
    }
    for (k, v) in reflections.iter().enumerate().rev() {
        for j in 0..cols {
            let dot: f64 = v.iter().enumerate().map(|(t, vt)| vt * q[(k + t) * cols + j]).sum();
            for (t, vt) in v.iter().enumerate() {
                q[(k + t) * cols + j] -= 2.0 * vt * dot;
            }
        }
    }
    // The factorization is unique once R's diagonal is made non-negative: flip the sign of
    // column k of Q and row k of R together where R[k, k] < 0. Without this the signs would
    // follow the data (α above always has the sign opposite x₀), and the "random"
    // orthogonal matrix would not be uniformly distributed.
    let mut r_upper = vec![0.0; cols * cols];
    for k in 0..cols {
        let sign = if r[k * cols + k] < 0.0 { -1.0 } else { 1.0 };
        for j in k..cols {
            r_upper[k * cols + j] = sign * r[k * cols + j];
        }
        for i in 0..rows {
            q[i * cols + k] *= sign;
        }
    }
    (q, r_upper)
}
// ANCHOR_END: qr

// ANCHOR: config
/// How the actor produces its standard deviation σ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StdParam {
    /// A second head on the trunk, `σ = softplus(h·W_σ + b_σ) + 1e-5`: σ depends on the state,
    /// so the policy can be sure in one place and explore in another. Softplus is smooth and
    /// positive; the `1e-5` keeps σ (and the log-density's `1/σ`) away from zero.
    Softplus,
    /// A learned vector, `σ = exp(clamp(log σ))`, the same for every state: simpler, and
    /// common in PPO implementations. Learning `log σ` keeps σ positive without a constraint;
    /// the optional clamp (one document uses `[-20, 2]`) bounds σ in both directions.
    LogStd { init: f32, clamp: Option<(f32, f32)> },
}

/// The smallest σ the softplus head can produce.
pub const MIN_STD: f32 = 1e-5;

/// The actor's shape and choices.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorConfig {
    /// Observation size (3 for the pendulum: cos θ, sin θ, θ̇).
    pub obs_size: usize,
    /// Action size (1 for the pendulum: the torque).
    pub action_size: usize,
    /// Hidden layer widths, e.g. `[64, 64]`.
    pub hidden: Vec<usize>,
    /// The nonlinearity after each hidden layer.
    pub activation: Activation,
    /// How σ is produced.
    pub std: StdParam,
    /// How the weights start out.
    pub init: Init,
    /// The mean is `action_scale · tanh(·)`, inside `[-action_scale, action_scale]`.
    pub action_scale: f32,
}

impl Default for ActorConfig {
    /// The documents' actor for the pendulum: 3 → 64 → 64 (ReLU) → μ = 2·tanh, σ = softplus.
    fn default() -> Self {
        ActorConfig {
            obs_size: 3,
            action_size: 1,
            hidden: vec![64, 64],
            activation: Activation::Relu,
            std: StdParam::Softplus,
            init: Init::PyTorchDefault,
            action_scale: 2.0,
        }
    }
}

/// The critic's shape and choices.
#[derive(Clone, Debug, PartialEq)]
pub struct CriticConfig {
    pub obs_size: usize,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
}

impl Default for CriticConfig {
    /// The documents' critic for the pendulum: 3 → 64 → 64 (ReLU) → 1.
    fn default() -> Self {
        CriticConfig {
            obs_size: 3,
            hidden: vec![64, 64],
            activation: Activation::Relu,
            init: Init::PyTorchDefault,
        }
    }
}
// ANCHOR_END: config

// ANCHOR: networks
/// How the actor's σ is computed: a head on the trunk, or a free parameter vector.
#[derive(Clone, Debug, PartialEq)]
enum StdHead {
    Linear(Linear),
    LogStd(Tensor),
}

/// The policy network: observation → (mean, standard deviation) of a Normal over actions.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    config: ActorConfig,
    trunk: Mlp,
    mean_head: Linear,
    std_head: StdHead,
}

/// The value network: observation → one number.
#[derive(Clone, Debug, PartialEq)]
pub struct Critic {
    config: CriticConfig,
    trunk: Mlp,
    head: Linear,
}
// ANCHOR_END: networks

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
    /// A new actor with weights drawn from `rng` as `config.init` says.
    ///
    /// # Panics
    /// If a size is zero, `action_scale` is not positive, or a log-std clamp range is empty.
    pub fn new<R: Rng + ?Sized>(config: &ActorConfig, rng: &mut R) -> Actor {
        Actor::build(config, |gain| config.init.layer(gain), rng)
    }

    /// An actor of `config`'s shape with zero weights, to load parameters into. A
    /// loader would overwrite the random weights of [`Actor::new`], and the orthogonal ones
    /// cost QR decompositions, O(H³) for a width H: minutes for a width of 2048.
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
        let head_init = layer(POLICY_HEAD_GAIN);
        let mean_head = Linear::new(width, config.action_size, head_init, rng);
        let std_head = match config.std {
            StdParam::Softplus => {
                StdHead::Linear(Linear::new(width, config.action_size, head_init, rng))
            }
            StdParam::LogStd { init, clamp } => {
                if let Some((lo, hi)) = clamp {
                    assert!(lo <= hi, "log-std clamp range [{lo}, {hi}] is empty");
                }
                StdHead::LogStd(Tensor::filled(&[config.action_size], init))
            }
        };
        Actor { config: config.clone(), trunk, mean_head, std_head }
    }
    // ANCHOR_END: actor_new

    // ANCHOR: actor_forward
    /// The mean and σ, `[batch, action_size]` each, for `obs: [batch, obs_size]`, in any
    /// [`Graph`]. The one definition of the actor's math.
    pub fn forward_with<'p, G: Graph<'p>>(
        &'p self,
        graph: &mut G,
        obs: G::Node,
    ) -> (G::Node, G::Node) {
        let h = self.trunk.forward(graph, obs);
        let z = self.mean_head.forward(graph, h);
        let squashed = graph.tanh(z);
        let mean = graph.mul_scalar(squashed, self.config.action_scale);
        let std = match &self.std_head {
            StdHead::Linear(head) => {
                let z = head.forward(graph, h);
                let positive = graph.softplus(z);
                graph.add_scalar(positive, MIN_STD)
            }
            StdHead::LogStd(log_std) => {
                let mut log_std_node = graph.param(log_std);
                if let StdParam::LogStd { clamp: Some((lo, hi)), .. } = self.config.std {
                    log_std_node = graph.clamp(log_std_node, lo, hi);
                }
                let std_row = graph.exp(log_std_node);
                graph.broadcast_rows(std_row, mean)
            }
        };
        (mean, std)
    }
    // ANCHOR_END: actor_forward

    // ANCHOR: actor_two_ways
    /// For acting: the mean and σ of the policy at each observation, without a tape.
    /// `obs` holds `batch` observations one after another (as [`crate::VecEnv`] keeps them);
    /// `mean` and `std` receive `batch · action_size` values each, row by row. Allocates
    /// nothing once `workspace` has served a batch this large.
    ///
    /// # Panics
    /// If `obs.len()` is not a multiple of `obs_size`, or `mean` or `std` does not hold
    /// `batch · action_size` values.
    pub fn forward(
        &self,
        obs: &[f32],
        workspace: &mut Workspace,
        mean: &mut [f32],
        std: &mut [f32],
    ) {
        let batch = batch_size(obs, self.config.obs_size);
        let outputs = batch * self.config.action_size;
        assert!(
            mean.len() == outputs && std.len() == outputs,
            "actor outputs for {batch} observations need {outputs} values, got mean {} std {}",
            mean.len(),
            std.len()
        );
        let mut graph = workspace.eager();
        let x = graph.input(&[batch, self.config.obs_size], obs);
        let (mean_value, std_value) = self.forward_with(&mut graph, x);
        mean.copy_from_slice(graph.value(mean_value).data());
        std.copy_from_slice(graph.value(std_value).data());
    }

    /// For learning: records the actor on `tape` for `obs: [batch, obs_size]` and returns
    /// `(mean, std)`, `[batch, action_size]` each. `param_vars` is cleared, then receives the
    /// parameters' handles in [`Actor::parameters`] order, for reading their gradients after
    /// [`Tape::backward`].
    pub fn forward_on_tape(
        &self,
        tape: &mut Tape,
        obs: Var,
        param_vars: &mut Vec<Var>,
    ) -> (Var, Var) {
        param_vars.clear();
        self.forward_with(&mut Recorder::new(tape, param_vars), obs)
    }
    // ANCHOR_END: actor_two_ways

    // ANCHOR: actor_parameters
    /// The parameters, in a fixed order: trunk layers (weight, bias), mean head, then σ head
    /// (weight, bias) or the log-σ vector.
    pub fn parameters(&self) -> Vec<&Tensor> {
        let std_params: Vec<&Tensor> = match &self.std_head {
            StdHead::Linear(head) => head.parameters().to_vec(),
            StdHead::LogStd(log_std) => vec![log_std],
        };
        self.trunk.parameters().chain(self.mean_head.parameters()).chain(std_params).collect()
    }
    // ANCHOR_END: actor_parameters

    /// The parameters, writable, in [`Actor::parameters`] order.
    pub fn parameters_mut(&mut self) -> Vec<&mut Tensor> {
        let std_params: Vec<&mut Tensor> = match &mut self.std_head {
            StdHead::Linear(head) => head.parameters_mut().into_iter().collect(),
            StdHead::LogStd(log_std) => vec![log_std],
        };
        let mean_params = self.mean_head.parameters_mut();
        self.trunk.parameters_mut().chain(mean_params).chain(std_params).collect()
    }

    /// Names of the parameters in [`Actor::parameters`] order: `trunk.0.weight`, …,
    /// `mean.weight`, `mean.bias`, then `std.weight`, `std.bias` or `log_std`.
    pub fn parameter_names(&self) -> Vec<String> {
        let std_names = match self.std_head {
            StdHead::Linear(_) => vec!["std.weight".to_string(), "std.bias".to_string()],
            StdHead::LogStd(_) => vec!["log_std".to_string()],
        };
        let mean_names = ["mean.weight".to_string(), "mean.bias".to_string()];
        self.trunk.parameter_names("trunk").chain(mean_names).chain(std_names).collect()
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

//! Chapter 3: networks.
//!
//! PPO trains two networks. The **actor** maps an observation to a distribution over actions
//! (for the pendulum the mean and standard deviation of a Normal, which chapter 5 samples
//! from); the **critic** maps an observation to one number, the value of being there. Both are
//! a trunk of [`Linear`] layers, each followed by an [`Activation`] (an [`Mlp`]), with linear
//! heads on top. This module holds the layers and the two ways of running them;
//! [`crate::init`] how they start out, and [`crate::networks`] the actor and the critic
//! themselves (re-exported here).
//!
//! Every network runs two ways: on the [`Tape`] (for learning: every operation recorded, so
//! that gradients can flow back) and without it (for acting: one observation per environment
//! per step, where recording would only cost time). Both run the *same* code: the layer math
//! is written once, against the small [`Graph`] trait, and two evaluators implement it. The
//! recording one ([`Recorder`]) puts each operation on the tape; the eager one (behind
//! [`Workspace`]) runs the very same [`Op::forward`] into buffers it keeps from call to call.
//! The two therefore give bit-identical outputs, and a test checks that they do.
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
    AddBias, AddScalar, Backward, Clamp, Exp, Flatten, LayerRelu, LayerTanh, MatMul, MulScalar, Op,
    Params, Relu, Softplus, Tanh, Tape, Var,
};
use crate::init::{gaussian, uniform};
use crate::tensor::{Tensor, accumulate_column_sums};
use rand::Rng;

pub use crate::init::{
    HIDDEN_GAIN, Init, LayerInit, POLICY_HEAD_GAIN, VALUE_HEAD_GAIN, orthogonal, qr,
};
pub use crate::networks::{
    Actor, ActorConfig, Critic, CriticConfig, MIN_STD, Outputs, ParameterError, PolicyHead,
    StdParam, shared_forward, shared_with,
};

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
    /// `activation(x·weight + bias)`, a whole hidden layer, as one operation.
    fn layer(
        &mut self,
        x: Self::Node,
        (weight, bias): (Self::Node, Self::Node),
        activation: Activation,
    ) -> Self::Node {
        self.apply(activation.layer(), &[x, weight, bias], NO_PARAMS)
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
            accumulate_column_sums(ctx.output_grad.data(), cols, grad.data_mut(), ctx.write);
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

    /// The operation that is a whole layer: the product, the bias and the activation.
    pub fn layer(self) -> &'static dyn Op {
        match self {
            Activation::Relu => &LayerRelu,
            Activation::Tanh => &LayerTanh,
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
            LayerInit::Normal { gain } => Linear {
                weight: gaussian(&[inputs, outputs], gain / (inputs.max(1) as f32).sqrt(), rng),
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

    /// `activation(x·W + b)`, a hidden layer: the bias and the activation in one operation.
    pub fn forward_activated<'p, G: Graph<'p>>(
        &'p self,
        graph: &mut G,
        x: G::Node,
        activation: Activation,
    ) -> G::Node {
        let weight = graph.param(&self.weight);
        let bias = graph.param(&self.bias);
        graph.layer(x, (weight, bias), activation)
    }

    pub(crate) fn parameters(&self) -> [&Tensor; 2] {
        [&self.weight, &self.bias]
    }

    pub(crate) fn parameters_mut(&mut self) -> [&mut Tensor; 2] {
        [&mut self.weight, &mut self.bias]
    }
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
            h = layer.forward_activated(graph, h, self.activation);
        }
        h
    }

    pub(crate) fn parameters(&self) -> impl Iterator<Item = &Tensor> {
        self.layers.iter().flat_map(Linear::parameters)
    }

    pub(crate) fn parameters_mut(&mut self) -> impl Iterator<Item = &mut Tensor> {
        self.layers.iter_mut().flat_map(Linear::parameters_mut)
    }

    pub(crate) fn parameter_names(&self, prefix: &str) -> impl Iterator<Item = String> {
        (0..self.layers.len())
            .flat_map(move |i| [format!("{prefix}.{i}.weight"), format!("{prefix}.{i}.bias")])
    }
}
// ANCHOR_END: mlp

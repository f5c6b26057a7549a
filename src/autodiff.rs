//! Chapter 2: reverse-mode automatic differentiation.
//!
//! A [`Tape`] records every operation of a computation as a node, in the order the operations
//! run (a Wengert list). Because a node's inputs always come before it, walking the tape
//! backwards visits every node after everything that depends on it: [`Tape::backward`] is a
//! single reverse loop, with no graph search and no closures.
//!
//! Each operation is a small type implementing [`Op`], whose `forward` and `backward` sit
//! next to each other. Later chapters add their own fused operations the same way, through
//! [`Tape::apply`]. [`gradcheck`] compares the gradients of any computation with central
//! finite differences.
//!
//! The tape keeps its buffers when it is cleared: a training step that builds the same
//! computation as the step before reuses every buffer and allocates nothing.

use crate::tensor::{
    Tensor, Write, accumulate_column_sums, assert_is_row, gemm_nn, gemm_nn_bias_then, gemm_nt,
    gemm_tn,
};
use std::fmt;

// ANCHOR: var
/// A handle to a node of a [`Tape`]: the value of one operation (or leaf).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var(usize);

/// The most inputs an operation may have.
pub const MAX_INPUTS: usize = 3;

/// Fills the unused input slots of a node.
static NO_INPUT: Tensor = Tensor::EMPTY;

/// Two numbers an operation may carry besides its inputs (a scalar factor, clamp bounds).
pub type Params = [f32; 2];
// ANCHOR_END: var

impl Var {
    /// The node's position on its tape: 0 for the first recorded.
    pub fn index(self) -> usize {
        self.0
    }
}

// ANCHOR: op
/// One differentiable operation: how to compute its output, and how the gradient of the
/// output flows back to each input.
pub trait Op: Sync {
    /// A short name for panic messages.
    fn name(&self) -> &'static str;

    /// Writes the output computed from `inputs` into `out`, which may hold a stale value of
    /// any shape from an earlier step (reset it, reusing its storage).
    ///
    /// # Panics
    /// If the input shapes do not fit the operation; the message names the shapes.
    fn forward(&self, inputs: &[&Tensor], params: Params, out: &mut Tensor);

    /// Adds the gradient of the loss with respect to input `ctx.input` to `input_grad`
    /// (accumulating, because a value used twice receives gradient from both uses), or
    /// writes it there when `ctx.write` says [`Write::Overwrite`].
    fn backward(&self, ctx: &Backward<'_>, input_grad: &mut Tensor);

    /// Whether [`backward`](Op::backward) honours `ctx.write`. If it does, the first gradient
    /// to reach an input is written over whatever its buffer held, and the buffer need not be
    /// zeroed first; if not (the default), the tape zeroes the buffer and always asks to add.
    fn overwrites(&self) -> bool {
        false
    }

    /// Every input's gradient in one call, which the tape makes whenever the inputs are
    /// distinct values: `grads[k]` is input `k`'s buffer and how to store into it, or `None`
    /// if that input needs no gradient (`ctx.input` and `ctx.write` are unused). The default
    /// asks [`backward`](Op::backward) for each in turn; an operation whose inputs' rules
    /// share work (chapter 3's layers) does it once here, in `scratch`, a buffer the tape
    /// keeps from step to step.
    fn backward_all(&self, ctx: &Backward<'_>, grads: &mut InputGrads<'_>, scratch: &mut Tensor) {
        let _ = scratch;
        for (input, slot) in grads.iter_mut().enumerate() {
            if let Some((grad, write)) = slot {
                self.backward(&Backward { input, write: *write, ..*ctx }, grad);
            }
        }
    }
}

/// The gradient buffers of an operation's inputs, for [`Op::backward_all`].
pub type InputGrads<'g> = [Option<(&'g mut Tensor, Write)>; MAX_INPUTS];

/// What an operation's backward rule may look at.
pub struct Backward<'a> {
    /// Which input's gradient is wanted (0 for the first input).
    pub input: usize,
    /// The values of all inputs.
    pub inputs: &'a [&'a Tensor],
    /// The operation's parameters.
    pub params: Params,
    /// The operation's output value (some derivatives are cheaper from it: `tanh' = 1 − y²`).
    pub output: &'a Tensor,
    /// The gradient of the loss with respect to the output.
    pub output_grad: &'a Tensor,
    /// [`Write::Add`], or [`Write::Overwrite`] when this is the first gradient to reach the
    /// input and the operation [`overwrites`](Op::overwrites): then `input_grad` has the
    /// input's shape but stale values, and each element is written as `g + 0.0` (the bits
    /// `0 + g` would have), so the result is the same as adding to zeros.
    pub write: Write,
}
// ANCHOR_END: op

// ANCHOR: tape
/// A node: which operation produced it, from which earlier nodes. Leaves have no operation.
#[derive(Clone, Copy)]
struct Node {
    op: Option<&'static dyn Op>,
    inputs: [usize; MAX_INPUTS],
    arity: usize,
    params: Params,
    /// Whether any parameter leaf flows into this node; gradients are computed only there.
    needs_grad: bool,
}

/// A Wengert list of operations, their values and (after [`Tape::backward`]) gradients.
///
/// `values` and `grads` are pools: they may hold more tensors than there are nodes, left
/// from an earlier, longer computation, and a new node reuses the storage at its index.
#[derive(Default)]
pub struct Tape {
    nodes: Vec<Node>,
    values: Vec<Tensor>,
    grads: Vec<Tensor>,
    /// Nodes whose gradients the last `backward` computed (0 before any).
    grads_ready: usize,
    /// During `backward`: whether a node's gradient buffer has been written yet.
    written: Vec<bool>,
    /// Kept for [`Op::backward_all`]'s intermediates, so that they allocate only once.
    scratch: Tensor,
}
// ANCHOR_END: tape

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Number of nodes recorded since the last [`Tape::clear`].
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node is recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    // ANCHOR: clear
    /// Forgets every node but keeps every buffer, so that the next computation of the same
    /// shapes allocates nothing.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.grads_ready = 0;
    }
    // ANCHOR_END: clear

    /// Bytes of tensor storage the tape holds on to, for checking that reuse allocates nothing.
    pub fn buffer_bytes(&self) -> usize {
        let floats: usize = self.values.iter().chain(&self.grads).map(Tensor::capacity).sum();
        floats * size_of::<f32>()
    }

    /// The buffer for a new node at index `nodes.len()`, reusing a pooled one if there is one.
    fn next_buffer(&mut self) -> &mut Tensor {
        let index = self.nodes.len();
        if index == self.values.len() {
            self.values.push(Tensor::default());
        }
        &mut self.values[index]
    }

    fn push_leaf(&mut self, needs_grad: bool) -> Var {
        let node =
            Node { op: None, inputs: [0; MAX_INPUTS], arity: 0, params: [0.0; 2], needs_grad };
        self.nodes.push(node);
        Var(self.nodes.len() - 1)
    }

    // ANCHOR: leaves
    /// Records a parameter: a leaf whose gradient [`Tape::backward`] computes.
    pub fn param(&mut self, value: &Tensor) -> Var {
        self.next_buffer().copy_from(value);
        self.push_leaf(true)
    }

    /// Records a constant (data, targets): a leaf that receives no gradient, so no work is
    /// spent on gradients that nobody reads.
    pub fn constant(&mut self, value: &Tensor) -> Var {
        self.next_buffer().copy_from(value);
        self.push_leaf(false)
    }

    /// Records a constant of the given shape whose values `fill` writes in place, for
    /// gathering a minibatch straight into the tape without a temporary tensor.
    pub fn constant_with(&mut self, shape: &[usize], fill: impl FnOnce(&mut [f32])) -> Var {
        let buffer = self.next_buffer();
        buffer.reset_zeros(shape);
        fill(buffer.data_mut());
        self.push_leaf(false)
    }
    // ANCHOR_END: leaves

    // ANCHOR: apply
    /// Records `op` applied to `inputs` and computes its value. This is how every operation,
    /// built in or added by a later chapter, enters the tape.
    ///
    /// # Panics
    /// If there are more than [`MAX_INPUTS`] inputs, an input is not on this tape, or the
    /// operation rejects the input shapes.
    pub fn apply(&mut self, op: &'static dyn Op, inputs: &[Var], params: Params) -> Var {
        let index = self.nodes.len();
        assert!(
            inputs.len() <= MAX_INPUTS,
            "{}: {} inputs, at most {MAX_INPUTS}",
            op.name(),
            inputs.len()
        );
        let mut input_indices = [0; MAX_INPUTS];
        for (slot, var) in input_indices.iter_mut().zip(inputs) {
            assert!(var.0 < index, "{}: input {var:?} is not on this tape", op.name());
            *slot = var.0;
        }
        self.next_buffer();
        // Inputs come strictly before the new node, so the pool splits into the inputs'
        // values (read) and the new node's buffer (written) without copying.
        let (earlier, rest) = self.values.split_at_mut(index);
        let mut input_values = [&NO_INPUT; MAX_INPUTS];
        for (value, var) in input_values.iter_mut().zip(inputs) {
            *value = &earlier[var.0];
        }
        op.forward(&input_values[..inputs.len()], params, &mut rest[0]);
        let needs_grad = inputs.iter().any(|var| self.nodes[var.0].needs_grad);
        self.nodes.push(Node {
            op: Some(op),
            inputs: input_indices,
            arity: inputs.len(),
            params,
            needs_grad,
        });
        Var(index)
    }
    // ANCHOR_END: apply

    /// The value of a node.
    pub fn value(&self, var: Var) -> &Tensor {
        assert!(var.0 < self.nodes.len(), "{var:?} is not on this tape");
        &self.values[var.0]
    }

    /// The gradient of the last [`Tape::backward`]'s loss with respect to `var`.
    ///
    /// # Panics
    /// If `backward` has not run since the tape was cleared, `var` was recorded after the
    /// loss, or `var` needs no gradient (a constant, or computed from constants only).
    pub fn grad(&self, var: Var) -> &Tensor {
        assert!(var.0 < self.grads_ready, "no gradient for {var:?}: call backward first");
        assert!(
            self.nodes[var.0].needs_grad,
            "no gradient for {var:?}: it depends on no parameter"
        );
        &self.grads[var.0]
    }

    /// Every node recorded since the last [`Tape::clear`], in recording order.
    pub fn vars(&self) -> impl Iterator<Item = Var> + use<> {
        (0..self.nodes.len()).map(Var)
    }

    /// What the tape recorded at `var`: the name of the operation that produced it (`None`
    /// for a leaf), its inputs in order, and whether it needs a gradient. Training never asks;
    /// a drawing of the tape does (chapter 2's figure).
    ///
    /// # Panics
    /// If `var` is not on this tape.
    pub fn recorded(&self, var: Var) -> (Option<&'static str>, Vec<Var>, bool) {
        assert!(var.0 < self.nodes.len(), "{var:?} is not on this tape");
        let node = &self.nodes[var.0];
        let inputs = node.inputs[..node.arity].iter().map(|&i| Var(i)).collect();
        (node.op.map(|op| op.name()), inputs, node.needs_grad)
    }

    // ANCHOR: backward
    /// Computes the gradient of the scalar `loss` with respect to every node that depends on
    /// a parameter, walking the tape once in reverse.
    ///
    /// # Panics
    /// If `loss` does not hold exactly one element.
    pub fn backward(&mut self, loss: Var) {
        let count = loss.0 + 1;
        assert!(count <= self.nodes.len(), "{loss:?} is not on this tape");
        assert_eq!(
            self.values[loss.0].len(),
            1,
            "backward needs a scalar loss, got shape {:?}",
            self.values[loss.0].shape()
        );
        while self.grads.len() < count {
            self.grads.push(Tensor::default());
        }
        // No buffer is zeroed in advance: see `first_write`.
        let mut written = std::mem::take(&mut self.written);
        written.clear();
        written.resize(count, false);
        if self.nodes[loss.0].needs_grad {
            self.grads[loss.0].reset_zeros(self.values[loss.0].shape());
            self.grads[loss.0].data_mut()[0] = 1.0;
            written[loss.0] = true;
        }
        for index in (0..count).rev() {
            let node = self.nodes[index];
            if node.needs_grad && !written[index] {
                // No gradient reached this node: it is zero.
                self.grads[index].reset_zeros(self.values[index].shape());
            }
            let Some(op) = node.op.filter(|_| node.needs_grad) else { continue };
            let mut inputs = [&NO_INPUT; MAX_INPUTS];
            for (value, &i) in inputs.iter_mut().zip(&node.inputs[..node.arity]) {
                *value = &self.values[i];
            }
            // Gradients of earlier nodes are written while this node's gradient is read.
            let (earlier_grads, rest) = self.grads.split_at_mut(index);
            let ctx = Backward {
                input: 0,
                inputs: &inputs[..node.arity],
                params: node.params,
                output: &self.values[index],
                output_grad: &rest[0],
                write: Write::Add,
            };
            if let Some(buffers) = distinct_grads(earlier_grads, &node.inputs[..node.arity]) {
                let mut grads = InputGrads::default();
                for ((slot, buffer), &input) in grads.iter_mut().zip(buffers).zip(&node.inputs) {
                    if let Some(grad) = buffer.filter(|_| self.nodes[input].needs_grad) {
                        let shape = self.values[input].shape();
                        let write = first_write(grad, shape, &mut written[input], op.overwrites());
                        *slot = Some((grad, write));
                    }
                }
                op.backward_all(&ctx, &mut grads, &mut self.scratch);
                continue;
            }
            for (k, &input) in node.inputs[..node.arity].iter().enumerate() {
                if self.nodes[input].needs_grad {
                    let grad = &mut earlier_grads[input];
                    let shape = self.values[input].shape();
                    let write = first_write(grad, shape, &mut written[input], op.overwrites());
                    op.backward(&Backward { input: k, write, ..ctx }, grad);
                }
            }
        }
        self.written = written;
        self.grads_ready = count;
    }
    // ANCHOR_END: backward
}

/// The gradient buffers of the inputs at `indices`, each borrowed on its own, or `None` if
/// an index repeats (a value used twice by one operation, whose rules then add into one
/// buffer one after the other).
fn distinct_grads<'g>(
    grads: &'g mut [Tensor],
    indices: &[usize],
) -> Option<[Option<&'g mut Tensor>; MAX_INPUTS]> {
    let mut buffers = [None, None, None];
    match *indices {
        [a] => buffers[0] = Some(&mut grads[a]),
        [a, b] => {
            let [x, y] = grads.get_disjoint_mut([a, b]).ok()?;
            (buffers[0], buffers[1]) = (Some(x), Some(y));
        }
        [a, b, c] => {
            let [x, y, z] = grads.get_disjoint_mut([a, b, c]).ok()?;
            buffers = [Some(x), Some(y), Some(z)];
        }
        _ => return None,
    }
    Some(buffers)
}

// ANCHOR: first_write
/// How a backward rule is to store into `grad`, the gradient buffer of a value of `shape`.
/// A later writer adds to what earlier uses wrote. The first (`written` is still false)
/// finds the buffer holding the previous step's gradient: it writes over it if its rule
/// `overwrites`, which spares a pass of zeros, and otherwise adds into zeros.
fn first_write(grad: &mut Tensor, shape: &[usize], written: &mut bool, overwrites: bool) -> Write {
    if std::mem::replace(written, true) {
        Write::Add
    } else if overwrites {
        grad.reset_for_overwrite(shape);
        Write::Overwrite
    } else {
        grad.reset_zeros(shape);
        Write::Add
    }
}
// ANCHOR_END: first_write

fn assert_same_shape(op: &str, a: &Tensor, b: &Tensor) {
    assert!(a.shape() == b.shape(), "{op}: shapes {:?} and {:?} differ", a.shape(), b.shape());
}

/// `out = f(x)` elementwise, reusing `out`'s storage.
fn map_into(out: &mut Tensor, x: &Tensor, f: impl Fn(f32) -> f32) {
    out.reset_for_overwrite(x.shape());
    for (o, &x) in out.data_mut().iter_mut().zip(x.data()) {
        *o = f(x);
    }
}

/// `out = f(a, b)` elementwise for equal shapes, reusing `out`'s storage.
fn zip_into(op: &str, out: &mut Tensor, a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) {
    assert_same_shape(op, a, b);
    out.reset_for_overwrite(a.shape());
    for ((o, &a), &b) in out.data_mut().iter_mut().zip(a.data()).zip(b.data()) {
        *o = f(a, b);
    }
}

/// `grad[i] += values[i]`, or `grad[i] = values[i]` when `write` says so: one loop for each,
/// rather than one loop with a test inside, so that both vectorize.
fn write_each(grad: &mut Tensor, write: Write, values: impl Iterator<Item = f32>) {
    let grad = grad.data_mut().iter_mut();
    match write {
        Write::Add => grad.zip(values).for_each(|(g, v)| Write::Add.store(g, v)),
        Write::Overwrite => grad.zip(values).for_each(|(g, v)| Write::Overwrite.store(g, v)),
    }
}

/// `grad += output_grad · local(x, y)` elementwise (or `=`, as `ctx.write` says), where
/// `local` is the derivative of an elementwise operation at input `x` with output `y`.
fn chain_elementwise(
    ctx: &Backward<'_>,
    x: &Tensor,
    grad: &mut Tensor,
    local: impl Fn(f32, f32) -> f32,
) {
    let terms = x.data().iter().zip(ctx.output.data()).zip(ctx.output_grad.data());
    write_each(grad, ctx.write, terms.map(|((&x, &y), &dy)| dy * local(x, y)));
}

// ANCHOR: ops_add_sub
/// `a + b`, equal shapes.
pub struct Add;
impl Op for Add {
    fn name(&self) -> &'static str {
        "add"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        zip_into("add", out, x[0], x[1], |a, b| a + b);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        write_each(grad, ctx.write, ctx.output_grad.data().iter().copied());
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `a − b`, equal shapes.
pub struct Sub;
impl Op for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        zip_into("sub", out, x[0], x[1], |a, b| a - b);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let sign = if ctx.input == 0 { 1.0 } else { -1.0 };
        write_each(grad, ctx.write, ctx.output_grad.data().iter().map(|&dy| dy * sign));
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_add_sub

// ANCHOR: ops_mul_div
/// `a · b` elementwise, equal shapes. `∂/∂a = b`, `∂/∂b = a`.
pub struct Mul;
impl Op for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        zip_into("mul", out, x[0], x[1], |a, b| a * b);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let other = ctx.inputs[1 - ctx.input];
        let terms = other.data().iter().zip(ctx.output_grad.data());
        write_each(grad, ctx.write, terms.map(|(&other, &dy)| dy * other));
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `a / b` elementwise, equal shapes. `∂/∂a = 1/b`, `∂/∂b = −a/b² = −y/b`.
pub struct Div;
impl Op for Div {
    fn name(&self) -> &'static str {
        "div"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        zip_into("div", out, x[0], x[1], |a, b| a / b);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let b = ctx.inputs[1];
        let terms = b.data().iter().zip(ctx.output.data()).zip(ctx.output_grad.data());
        let numerator_side = ctx.input == 0;
        let values = terms.map(|((&b, &y), &dy)| if numerator_side { dy / b } else { -dy * y / b });
        write_each(grad, ctx.write, values);
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_mul_div

// ANCHOR: ops_scalar
/// `−x`.
pub struct Neg;
impl Op for Neg {
    fn name(&self) -> &'static str {
        "neg"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| -x);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        write_each(grad, ctx.write, ctx.output_grad.data().iter().map(|&dy| -dy));
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `x + c` for the scalar `c = params[0]`.
pub struct AddScalar;
impl Op for AddScalar {
    fn name(&self) -> &'static str {
        "add_scalar"
    }
    fn forward(&self, x: &[&Tensor], p: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| x + p[0]);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        write_each(grad, ctx.write, ctx.output_grad.data().iter().copied());
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `c · x` for the scalar `c = params[0]`.
pub struct MulScalar;
impl Op for MulScalar {
    fn name(&self) -> &'static str {
        "mul_scalar"
    }
    fn forward(&self, x: &[&Tensor], p: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| x * p[0]);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let c = ctx.params[0];
        write_each(grad, ctx.write, ctx.output_grad.data().iter().map(|&dy| dy * c));
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_scalar

// ANCHOR: ops_linear
/// `A·B` for `A: [m, k]` and `B: [k, n]`. The gradient flows back through the two other
/// product forms: `dA = dY·Bᵀ` and `dB = Aᵀ·dY`.
pub struct MatMul;
impl Op for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let ((m, k), (k2, n)) = (x[0].dims2(), x[1].dims2());
        assert_eq!(k, k2, "matmul: shapes {:?} and {:?} do not chain", x[0].shape(), x[1].shape());
        out.reset_for_overwrite(&[m, n]);
        gemm_nn(m, k, n, x[0].data(), x[1].data(), out.data_mut(), Write::Overwrite);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let (a, b, dy) = (ctx.inputs[0], ctx.inputs[1], ctx.output_grad);
        let ((m, k), (_, n)) = (a.dims2(), b.dims2());
        if ctx.input == 0 {
            gemm_nt(m, n, k, dy.data(), b.data(), grad.data_mut(), ctx.write);
        } else {
            gemm_tn(k, m, n, a.data(), dy.data(), grad.data_mut(), ctx.write);
        }
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `X + b` with the bias row `b: [n]` (or `[1, n]`) added to every row of `X: [m, n]`. The
/// bias was used once per row, so its gradient is the sum of the rows of `dY`.
pub struct AddBias;
impl Op for AddBias {
    fn name(&self) -> &'static str {
        "add_bias"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        x[0].add_row_into(x[1], out);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        if ctx.input == 0 {
            write_each(grad, ctx.write, ctx.output_grad.data().iter().copied());
        } else {
            let (_, cols) = ctx.output_grad.dims2();
            accumulate_column_sums(ctx.output_grad.data(), cols, grad.data_mut(), ctx.write);
        }
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_linear

// ANCHOR: ops_relu_tanh
/// `max(x, 0)`. At the kink `x = 0` we pass no gradient (the subgradient 0, as PyTorch does).
pub struct Relu;
impl Op for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| x.max(0.0));
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |x, _| if x > 0.0 { 1.0 } else { 0.0 });
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `tanh x`, whose derivative is cheapest from the output: `1 − y²`.
pub struct Tanh;
impl Op for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], tanh);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |_, y| 1.0 - y * y);
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_relu_tanh

// ANCHOR: ops_bias_activation
/// `relu(X + b)`: [`AddBias`] and [`Relu`] in one pass, as every hidden layer of a network
/// applies them (chapter 3). The sum `X + b` is never stored: it is used once, by the
/// activation, and the derivative can be read from the output instead (`y > 0` exactly where
/// `x + b > 0`). Over a long minibatch that is one tensor less to write, read back and keep;
/// the arithmetic, and so every bit, is that of the two operations one after the other.
pub struct AddBiasRelu;
impl Op for AddBiasRelu {
    fn name(&self) -> &'static str {
        "add_bias_relu"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        add_bias_then(x[0], x[1], out, |z| z.max(0.0));
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_bias_activation(ctx, grad, relu_derivative);
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `tanh(X + b)`: [`AddBias`] and [`Tanh`] in one pass, like [`AddBiasRelu`].
pub struct AddBiasTanh;
impl Op for AddBiasTanh {
    fn name(&self) -> &'static str {
        "add_bias_tanh"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        add_bias_then(x[0], x[1], out, tanh);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_bias_activation(ctx, grad, tanh_derivative);
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `out = activation(x + bias)`, the bias row added to every row of `x`.
fn add_bias_then(x: &Tensor, bias: &Tensor, out: &mut Tensor, activation: impl Fn(f32) -> f32) {
    let (_, cols) = x.dims2();
    assert_is_row(bias, cols, x.shape());
    out.reset_for_overwrite(x.shape());
    let rows = out.data_mut().chunks_exact_mut(cols).zip(x.data().chunks_exact(cols));
    for (out_row, x_row) in rows {
        for ((o, &x), &b) in out_row.iter_mut().zip(x_row).zip(bias.data()) {
            *o = activation(x + b);
        }
    }
}

/// The gradients of `activation(X + b)`, from the output `y` and its gradient: `dY ⊙ act′`
/// for `X`, and the sum of its rows for `b`, added row after row as
/// [`accumulate_column_sums`] adds them, so that the bits are those of the two operations.
fn chain_bias_activation(ctx: &Backward<'_>, grad: &mut Tensor, derivative: impl Fn(f32) -> f32) {
    let (y, dy) = (ctx.output.data(), ctx.output_grad.data());
    if ctx.input == 0 {
        write_each(grad, ctx.write, y.iter().zip(dy).map(|(&y, &dy)| dy * derivative(y)));
        return;
    }
    let (_, cols) = ctx.output.dims2();
    let sums = grad.data_mut();
    if ctx.write == Write::Overwrite {
        sums.fill(0.0);
    }
    for (y_row, dy_row) in y.chunks_exact(cols).zip(dy.chunks_exact(cols)) {
        for ((sum, &y), &dy) in sums.iter_mut().zip(y_row).zip(dy_row) {
            *sum += dy * derivative(y);
        }
    }
}
// ANCHOR_END: ops_bias_activation

// ANCHOR: ops_layer
/// `relu(X·W + b)`: a whole hidden layer as one operation, [`MatMul`] and [`AddBiasRelu`]
/// fused. Forward, the product's rows get their bias and activation a few at a time, while
/// they are still in the L1 cache ([`gemm_nn_bias_then`]): `X·W` is never stored on its own.
/// Backward, the three gradients share `G = dY ⊙ relu′(Y)`, computed once in one pass that
/// also sums its rows into `db`; then `dX = G·Wᵀ` and `dW = Xᵀ·G`. The two operations it
/// replaces read `Y` and `dY` twice, once for `G` and once for `db`. The bits are theirs.
pub struct LayerRelu;
impl Op for LayerRelu {
    fn name(&self) -> &'static str {
        "layer_relu"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        layer_forward(self.name(), x, out, |z| z.max(0.0));
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        layer_backward_one(ctx, grad, relu_derivative);
    }
    fn overwrites(&self) -> bool {
        true
    }
    fn backward_all(&self, ctx: &Backward<'_>, grads: &mut InputGrads<'_>, g: &mut Tensor) {
        layer_backward_all(ctx, grads, g, relu_derivative);
    }
}

/// `tanh(X·W + b)`, as [`LayerRelu`] is `relu(X·W + b)`.
pub struct LayerTanh;
impl Op for LayerTanh {
    fn name(&self) -> &'static str {
        "layer_tanh"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        layer_forward(self.name(), x, out, tanh);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        layer_backward_one(ctx, grad, tanh_derivative);
    }
    fn overwrites(&self) -> bool {
        true
    }
    fn backward_all(&self, ctx: &Backward<'_>, grads: &mut InputGrads<'_>, g: &mut Tensor) {
        layer_backward_all(ctx, grads, g, tanh_derivative);
    }
}

/// The activations' derivatives, from their outputs (as [`AddBiasRelu`] and [`AddBiasTanh`]
/// take them).
fn relu_derivative(y: f32) -> f32 {
    if y > 0.0 { 1.0 } else { 0.0 }
}
fn tanh_derivative(y: f32) -> f32 {
    1.0 - y * y
}

/// `out = activation(x·W + b)` for the inputs `[x, W, b]`.
fn layer_forward(name: &str, x: &[&Tensor], out: &mut Tensor, activation: impl Fn(f32) -> f32) {
    let ((m, k), (k2, n)) = (x[0].dims2(), x[1].dims2());
    assert_eq!(k, k2, "{name}: shapes {:?} and {:?} do not chain", x[0].shape(), x[1].shape());
    assert_is_row(x[2], n, &[m, n]);
    out.reset_for_overwrite(&[m, n]);
    let operands = (x[0].data(), x[1].data(), x[2].data());
    gemm_nn_bias_then((m, k, n), operands, out.data_mut(), activation);
}

/// All three gradients of a layer, through `G` in `g`.
fn layer_backward_all(
    ctx: &Backward<'_>,
    grads: &mut InputGrads<'_>,
    g: &mut Tensor,
    derivative: impl Fn(f32) -> f32,
) {
    let [x_grad, w_grad, b_grad] = grads;
    activation_grad(ctx, g, b_grad.as_mut().map(|(grad, write)| (&mut **grad, *write)), derivative);
    let (x, w) = (ctx.inputs[0], ctx.inputs[1]);
    let ((m, k), (_, n)) = (x.dims2(), w.dims2());
    if let Some((grad, write)) = x_grad {
        gemm_nt(m, n, k, g.data(), w.data(), grad.data_mut(), *write);
    }
    if let Some((grad, write)) = w_grad {
        gemm_tn(k, m, n, x.data(), g.data(), grad.data_mut(), *write);
    }
}

/// One input's gradient, for a layer whose inputs repeat (`relu(X·X + b)`), where the tape
/// asks for them one at a time: `G` is recomputed, into a buffer of its own, for each.
fn layer_backward_one(ctx: &Backward<'_>, grad: &mut Tensor, derivative: impl Fn(f32) -> f32) {
    let mut grads = InputGrads::default();
    grads[ctx.input] = Some((grad, ctx.write));
    layer_backward_all(ctx, &mut grads, &mut Tensor::default(), derivative);
}

/// `G = dY ⊙ act′(Y)` into `g`, and, when the bias needs a gradient, the rows of `G` added
/// into it in the same pass as [`AddBiasRelu`] adds them. [`AddBiasRelu`] stores `G` as
/// [`Write::Overwrite`] does, turning a −0.0 into +0.0; here `G` is read only by the two
/// products, whose sums start from +0.0 and so never tell a zero's sign, and is kept as it
/// comes (`cargo mutants` found the `+ 0.0` that made it so changing no result).
fn activation_grad(
    ctx: &Backward<'_>,
    g: &mut Tensor,
    bias_grad: Option<(&mut Tensor, Write)>,
    derivative: impl Fn(f32) -> f32,
) {
    let (y, dy) = (ctx.output.data(), ctx.output_grad.data());
    let (_, cols) = ctx.output.dims2();
    g.reset_for_overwrite(ctx.output.shape());
    let Some((sums, write)) = bias_grad else {
        for ((g, &y), &dy) in g.data_mut().iter_mut().zip(y).zip(dy) {
            *g = dy * derivative(y);
        }
        return;
    };
    let sums = sums.data_mut();
    if write == Write::Overwrite {
        sums.fill(0.0);
    }
    let rows = g.data_mut().chunks_exact_mut(cols).zip(y.chunks_exact(cols));
    for ((g_row, y_row), dy_row) in rows.zip(dy.chunks_exact(cols)) {
        for (((g, sum), &y), &dy) in g_row.iter_mut().zip(sums.iter_mut()).zip(y_row).zip(dy_row) {
            let value = dy * derivative(y);
            *g = value;
            *sum += value;
        }
    }
}
// ANCHOR_END: ops_layer

// ANCHOR: ops_softplus
/// `ln(1 + eˣ)`, computed as `max(x, 0) + ln(1 + e^−|x|)` so that neither large positive `x`
/// (where `eˣ` overflows) nor large negative `x` (where `1 + eˣ` rounds to 1) loses the
/// answer. Its derivative is the logistic sigmoid.
pub struct Softplus;
impl Op for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], softplus);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |x, _| sigmoid(x));
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_softplus

// ANCHOR: tanh
/// `tanh x` for an `f32`, computed in `f64` with no call into the C library, so that a loop
/// over a tensor vectorizes. The C library's `tanhf` calls `expm1f` for every element and
/// took half the time of a whole CartPole training run (chapter 14); this takes a fraction
/// and is more accurate: within half a unit in the last place of the exact value (a test
/// measures 0.500002 units over 5·10⁷ arguments), where `tanhf` is off by up to two.
///
/// `tanh t = (1 − e)/(1 + e)` with `e = e^{−2t}` for `t = |x|`: `e ≤ 1` never overflows, and
/// beyond `t = 9.5` the result rounds to 1 in `f32`. `e = 2^y` with `y = −2t·log₂e`, split
/// into an integer `n` (applied to the exponent bits) and `f ∈ [−½, ½]`, whose `2^f` is its
/// Taylor series to the 10th power (error below 3e-13). For `t < 2⁻¹²` the subtraction
/// `1 − e` would lose digits; there `tanh t = t − t³/3 + …` and `t³/3` is less than half a
/// unit in the last place of the `f32` `t`, so the answer is `t` itself (a test checks all
/// 965 million such `f32`). Returning `t` spares a second division per element.
#[inline]
pub fn tanh(x: f32) -> f32 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN_2: f64 = std::f64::consts::LN_2;
    // Written as a comparison so that a NaN stays NaN (`f64::min` would return 9.5).
    let a = f64::from(x).abs();
    let t = if a > 9.5 { 9.5 } else { a };
    let y = -2.0 * LOG2_E * t;
    // Nearest integer, ties to even: one instruction, where `round`'s ties away from zero
    // take three. The two differ only at a half-integer `y`, which no `f32` argument gives
    // (a test tries every one), so the results are those of `round`.
    let n = y.round_ties_even();
    let f = y - n;
    let g = f * LN_2;
    // 2^f = e^g = Σ gᵏ/k!, by Horner from the 10th power down, a fused multiply-add a step.
    let mut series: f64 = 1.0 / 3_628_800.0;
    for factorial in [362_880.0, 40_320.0, 5_040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0] {
        series = series.mul_add(g, 1.0 / factorial);
    }
    // 2^n for the integer n in [−28, 0], built in the exponent field of an f64. In the sum
    // n + 1.5·2⁵² + 1023 one unit is the last mantissa bit, so the sum's low bits hold
    // n + 1023 exactly, and the shift moves them into the exponent field. (`n as i64` would
    // do, but Rust's conversion saturates, which no vector instruction does: the compiler
    // converted one element at a time.)
    const EXPONENT_IN_LOW_BITS: f64 = 6_755_399_441_055_744.0 + 1023.0;
    let scale = f64::from_bits((n + EXPONENT_IN_LOW_BITS).to_bits() << 52);
    let e = series * scale;
    let large = (1.0 - e) / (1.0 + e);
    let magnitude = if t < 1.0 / 4096.0 { t } else { large };
    (magnitude as f32).copysign(x)
}
// ANCHOR_END: tanh

// ANCHOR: softplus
/// `ln(1 + eˣ)` without overflow or loss of precision.
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `1 / (1 + e^−x)`, evaluated so that the exponential never overflows.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}
// ANCHOR_END: softplus

// ANCHOR: ops_exp_ln
/// `eˣ`, its own derivative.
pub struct Exp;
impl Op for Exp {
    fn name(&self) -> &'static str {
        "exp"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], f32::exp);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |_, y| y);
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `ln x` (NaN for `x < 0`, −∞ at 0, as in IEEE arithmetic). Derivative `1/x`.
pub struct Ln;
impl Op for Ln {
    fn name(&self) -> &'static str {
        "ln"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], f32::ln);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |x, _| 1.0 / x);
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_exp_ln

// ANCHOR: ops_powers
/// `x²`. Derivative `2x`.
pub struct Square;
impl Op for Square {
    fn name(&self) -> &'static str {
        "square"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| x * x);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |x, _| 2.0 * x);
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `√x`. Derivative `1/(2√x) = 1/(2y)`, infinite at 0.
pub struct Sqrt;
impl Op for Sqrt {
    fn name(&self) -> &'static str {
        "sqrt"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], f32::sqrt);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |_, y| 0.5 / y);
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_powers

// ANCHOR: ops_kinks
/// `x` limited to `[params[0], params[1]]`. The gradient passes where `lo ≤ x ≤ hi`, edges
/// included (as PyTorch does), and is 0 outside.
pub struct Clamp;
impl Op for Clamp {
    fn name(&self) -> &'static str {
        "clamp"
    }
    fn forward(&self, x: &[&Tensor], p: Params, out: &mut Tensor) {
        assert!(p[0] <= p[1], "clamp: empty range [{}, {}]", p[0], p[1]);
        map_into(out, x[0], |x| x.clamp(p[0], p[1]));
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [lo, hi] = ctx.params;
        chain_elementwise(
            ctx,
            ctx.inputs[0],
            grad,
            |x, _| if (lo..=hi).contains(&x) { 1.0 } else { 0.0 },
        );
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `|x|`, whose gradient is the sign of `x`: ±1, and 0 at 0 (as PyTorch's `abs` does).
pub struct Abs;
impl Op for Abs {
    fn name(&self) -> &'static str {
        "abs"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], f32::abs);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        chain_elementwise(ctx, ctx.inputs[0], grad, |x, _| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        });
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// `min(a, b)` elementwise, equal shapes. The smaller input receives the gradient; at a tie
/// each receives half (PyTorch's convention), so the total is the same either way.
pub struct Minimum;
impl Op for Minimum {
    fn name(&self) -> &'static str {
        "minimum"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        zip_into("minimum", out, x[0], x[1], f32::min);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let (this, other) = (ctx.inputs[ctx.input], ctx.inputs[1 - ctx.input]);
        let terms = this.data().iter().zip(other.data()).zip(ctx.output_grad.data());
        let values = terms.map(|((&this, &other), &dy)| {
            let share = if this < other {
                1.0
            } else if this == other {
                0.5
            } else {
                0.0
            };
            dy * share
        });
        write_each(grad, ctx.write, values);
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_kinks

// ANCHOR: ops_reduce
/// The sum of all elements, a scalar. Every input element receives the output's gradient.
pub struct Sum;
impl Op for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        out.reset_zeros(&[]);
        out.data_mut()[0] = x[0].sum();
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let dy = ctx.output_grad.item();
        write_each(grad, ctx.write, std::iter::repeat(dy));
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// The mean of all elements, a scalar. Every input element receives `1/n` of the gradient.
pub struct Mean;
impl Op for Mean {
    fn name(&self) -> &'static str {
        "mean"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        out.reset_zeros(&[]);
        out.data_mut()[0] = x[0].mean();
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let dy = ctx.output_grad.item() / grad.len() as f32;
        write_each(grad, ctx.write, std::iter::repeat(dy));
    }
    fn overwrites(&self) -> bool {
        true
    }
}

/// The same elements as a 1-D tensor (a `[batch, 1]` value head becomes `[batch]`).
pub struct Flatten;
impl Op for Flatten {
    fn name(&self) -> &'static str {
        "flatten"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        map_into(out, x[0], |x| x);
        let len = out.len();
        *out = std::mem::take(out).reshape(&[len]);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        write_each(grad, ctx.write, ctx.output_grad.data().iter().copied());
    }
    fn overwrites(&self) -> bool {
        true
    }
}
// ANCHOR_END: ops_reduce

/// One method per built-in operation, so that computations read like formulas:
/// `let h = tape.relu(tape.add_bias(tape.matmul(x, w), b))` becomes three readable lines.
impl Tape {
    pub fn add(&mut self, a: Var, b: Var) -> Var {
        self.apply(&Add, &[a, b], [0.0; 2])
    }
    pub fn sub(&mut self, a: Var, b: Var) -> Var {
        self.apply(&Sub, &[a, b], [0.0; 2])
    }
    pub fn mul(&mut self, a: Var, b: Var) -> Var {
        self.apply(&Mul, &[a, b], [0.0; 2])
    }
    pub fn div(&mut self, a: Var, b: Var) -> Var {
        self.apply(&Div, &[a, b], [0.0; 2])
    }
    pub fn neg(&mut self, x: Var) -> Var {
        self.apply(&Neg, &[x], [0.0; 2])
    }
    pub fn abs(&mut self, x: Var) -> Var {
        self.apply(&Abs, &[x], [0.0; 2])
    }
    pub fn add_scalar(&mut self, x: Var, c: f32) -> Var {
        self.apply(&AddScalar, &[x], [c, 0.0])
    }
    pub fn mul_scalar(&mut self, x: Var, c: f32) -> Var {
        self.apply(&MulScalar, &[x], [c, 0.0])
    }
    pub fn matmul(&mut self, a: Var, b: Var) -> Var {
        self.apply(&MatMul, &[a, b], [0.0; 2])
    }
    pub fn add_bias(&mut self, x: Var, bias: Var) -> Var {
        self.apply(&AddBias, &[x, bias], [0.0; 2])
    }
    pub fn relu(&mut self, x: Var) -> Var {
        self.apply(&Relu, &[x], [0.0; 2])
    }
    pub fn tanh(&mut self, x: Var) -> Var {
        self.apply(&Tanh, &[x], [0.0; 2])
    }
    pub fn softplus(&mut self, x: Var) -> Var {
        self.apply(&Softplus, &[x], [0.0; 2])
    }
    pub fn exp(&mut self, x: Var) -> Var {
        self.apply(&Exp, &[x], [0.0; 2])
    }
    pub fn ln(&mut self, x: Var) -> Var {
        self.apply(&Ln, &[x], [0.0; 2])
    }
    pub fn square(&mut self, x: Var) -> Var {
        self.apply(&Square, &[x], [0.0; 2])
    }
    pub fn sqrt(&mut self, x: Var) -> Var {
        self.apply(&Sqrt, &[x], [0.0; 2])
    }
    pub fn clamp(&mut self, x: Var, lo: f32, hi: f32) -> Var {
        self.apply(&Clamp, &[x], [lo, hi])
    }
    pub fn minimum(&mut self, a: Var, b: Var) -> Var {
        self.apply(&Minimum, &[a, b], [0.0; 2])
    }
    pub fn sum(&mut self, x: Var) -> Var {
        self.apply(&Sum, &[x], [0.0; 2])
    }
    pub fn mean(&mut self, x: Var) -> Var {
        self.apply(&Mean, &[x], [0.0; 2])
    }
    pub fn flatten(&mut self, x: Var) -> Var {
        self.apply(&Flatten, &[x], [0.0; 2])
    }
}

// ANCHOR: gradcheck_config
/// How [`gradcheck`] differentiates numerically and how much disagreement it tolerates.
#[derive(Clone, Copy, Debug)]
pub struct GradCheck {
    /// The finite-difference step `h`, scaled by `max(1, |x|)`.
    pub step: f32,
    /// Relative tolerance: an element passes if `|analytic − numeric| ≤ atol + rtol·|numeric|`.
    pub rtol: f32,
    /// Absolute tolerance, multiplied by `max(1, |f(x)|)`: rounding in an `f32` loss of size
    /// `|f|` perturbs a difference quotient by about `|f|·2⁻²⁴/h`.
    pub atol: f32,
}

impl Default for GradCheck {
    /// `h = 1e-2`, `rtol = 1e-2`, `atol = 1e-3`: see the autodiff chapter for why.
    fn default() -> Self {
        GradCheck { step: 1e-2, rtol: 1e-2, atol: 1e-3 }
    }
}
// ANCHOR_END: gradcheck_config

/// The element where analytic and numeric gradients disagreed the most.
#[derive(Clone, Debug, PartialEq)]
pub struct GradMismatch {
    /// Which input tensor.
    pub input: usize,
    /// Which element of it (row-major index).
    pub element: usize,
    /// The gradient from [`Tape::backward`].
    pub analytic: f32,
    /// The central finite difference.
    pub numeric: f32,
    /// `|analytic − numeric|` divided by the tolerance at that element (above 1 fails).
    pub ratio: f32,
}

impl fmt::Display for GradMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "input {} element {}: analytic {} vs numeric {} ({:.2}× the tolerance)",
            self.input, self.element, self.analytic, self.numeric, self.ratio
        )
    }
}

// ANCHOR: gradcheck
/// Checks the gradient that [`Tape::backward`] computes for the scalar function `f` of
/// `inputs` against central finite differences, element by element, with the default
/// [`GradCheck`] settings.
///
/// `f` receives a tape and one parameter [`Var`] per input and returns the scalar result.
/// Returns the worst element either way: `Ok` if it is within tolerance, `Err` if not.
pub fn gradcheck(
    inputs: &[Tensor],
    f: impl Fn(&mut Tape, &[Var]) -> Var,
) -> Result<GradMismatch, GradMismatch> {
    gradcheck_with(GradCheck::default(), inputs, f)
}

/// [`gradcheck`] with explicit settings.
pub fn gradcheck_with(
    settings: GradCheck,
    inputs: &[Tensor],
    f: impl Fn(&mut Tape, &[Var]) -> Var,
) -> Result<GradMismatch, GradMismatch> {
    let mut tape = Tape::new();
    let evaluate = |tape: &mut Tape, inputs: &[Tensor]| {
        tape.clear();
        let vars: Vec<Var> = inputs.iter().map(|x| tape.param(x)).collect();
        let out = f(tape, &vars);
        (vars, out)
    };
    // The analytic gradient is the second one computed on this tape, so that every gradient
    // buffer holds the first's values: an operation that added to a buffer it was asked to
    // overwrite would double its gradient and fail the check.
    let out = evaluate(&mut tape, inputs).1;
    tape.backward(out);
    let (vars, out) = evaluate(&mut tape, inputs);
    let value = tape.value(out).item();
    tape.backward(out);
    let analytic: Vec<Tensor> = vars.iter().map(|&v| tape.grad(v).clone()).collect();
    let atol = settings.atol * value.abs().max(1.0);

    let mut worst = GradMismatch { input: 0, element: 0, analytic: 0.0, numeric: 0.0, ratio: 0.0 };
    let mut probe = inputs.to_vec();
    for (input, gradient) in analytic.iter().enumerate() {
        for element in 0..probe[input].len() {
            let x = inputs[input].data()[element];
            let h = settings.step * x.abs().max(1.0);
            // Divide by the distance actually travelled: x ± h is rounded to f32.
            let (x_plus, x_minus) = (x + h, x - h);
            probe[input].data_mut()[element] = x_plus;
            let out = evaluate(&mut tape, &probe).1;
            let f_plus = tape.value(out).item();
            probe[input].data_mut()[element] = x_minus;
            let out = evaluate(&mut tape, &probe).1;
            let f_minus = tape.value(out).item();
            probe[input].data_mut()[element] = x;

            let numeric = (f_plus - f_minus) / (x_plus - x_minus);
            let analytic = gradient.data()[element];
            let ratio = (analytic - numeric).abs() / (atol + settings.rtol * numeric.abs());
            if ratio.is_nan() || ratio > worst.ratio {
                worst = GradMismatch { input, element, analytic, numeric, ratio };
            }
        }
    }
    if worst.ratio <= 1.0 { Ok(worst) } else { Err(worst) }
}
// ANCHOR_END: gradcheck

//! Chapter 2's figure: a real tape, as it is recorded and read back.
//!
//! A network with one input, two tanh units and one output computes its squared error on one
//! sample. The figure lists the tape's nodes in recording order, each with its operation and
//! inputs as the tape itself reports them (`Tape::recorded`), its forward value, and the
//! gradient the backward pass left in it.

use crate::canvas::{Canvas, Font};
use ppo::autodiff::{Tape, Var};
use ppo::tensor::Tensor;

const BLUE: &str = "#4c72b0";
const RED: &str = "#c44e52";

/// The loss on a fresh tape, and the names of its leaves (the tape records no names).
fn record(tape: &mut Tape) -> (Var, Vec<(Var, &'static str)>) {
    let x = tape.constant(&Tensor::from_vec(&[1, 1], vec![0.5]));
    let w1 = tape.param(&Tensor::from_vec(&[1, 2], vec![0.8, -0.4]));
    let b1 = tape.param(&Tensor::from_vec(&[2], vec![0.1, 0.3]));
    let w2 = tape.param(&Tensor::from_vec(&[2, 1], vec![0.6, -0.9]));
    let b2 = tape.param(&Tensor::from_vec(&[1], vec![0.05]));
    let y = tape.constant(&Tensor::from_vec(&[1, 1], vec![1.0]));
    let xw = tape.matmul(x, w1);
    let pre = tape.add_bias(xw, b1);
    let h = tape.tanh(pre);
    let hw = tape.matmul(h, w2);
    let out = tape.add_bias(hw, b2);
    let error = tape.sub(out, y);
    let squared = tape.square(error);
    let loss = tape.mean(squared);
    let names = vec![
        (x, "x, the input"),
        (w1, "W₁"),
        (b1, "b₁"),
        (w2, "W₂"),
        (b2, "b₂"),
        (y, "y, the target"),
    ];
    (loss, names)
}

/// `[0.400, −0.200]`: three decimals, with true minus signs.
fn numbers(t: &Tensor) -> String {
    let text: Vec<String> = t.data().iter().map(|v| format!("{v:.3}").replace('-', "−")).collect();
    format!("[{}]", text.join(", "))
}

/// `1×2`.
fn shape(t: &Tensor) -> String {
    t.shape().iter().map(usize::to_string).collect::<Vec<_>>().join("×")
}

pub fn draw() -> String {
    let mut tape = Tape::new();
    let (loss, names) = record(&mut tape);
    tape.backward(loss);
    let vars: Vec<Var> = tape.vars().collect();

    let (top, row_height) = (96.0, 30.0);
    let (arcs, label, value, grad) = (190.0, 205.0, 470.0, 650.0);
    let width = 900.0;
    let height = top + vars.len() as f64 * row_height + 40.0;
    let mut canvas = Canvas::new(width, height);
    canvas.text(
        (width / 2.0, 24.0),
        "The tape of mean((tanh(x·W₁ + b₁)·W₂ + b₂ − y)²): one node per operation, in recording order",
        Font::new(14.0).middle(),
    );
    let heading = Font::new(12.0).bold();
    canvas.text((label, top - 20.0), "node", heading);
    canvas.text((value, top - 20.0), "forward value", heading);
    canvas.text((grad, top - 20.0), "gradient ∂L/∂v", heading.color(RED));
    canvas.text((arcs, top - 20.0), "inputs", heading.end().color(BLUE));
    let y_of = |var: Var| top + (var.index() as f64 + 0.5) * row_height;
    for &var in &vars {
        let y = y_of(var);
        if var.index() % 2 == 0 {
            canvas.rect(
                (120.0, y - row_height / 2.0),
                (width - 140.0, row_height),
                "#f7f7f7",
                "none",
            );
        }
        let (op, inputs, needs_grad) = tape.recorded(var);
        let description = match op {
            Some(op) => {
                let args: Vec<String> = inputs.iter().map(|v| format!("#{}", v.index())).collect();
                format!("{op}({})", args.join(", "))
            }
            None => {
                let name = names.iter().find(|(v, _)| *v == var).map_or("?", |(_, n)| n);
                let kind = if needs_grad { "parameter" } else { "constant" };
                format!("{name} ({kind})")
            }
        };
        canvas.text(
            (arcs + 2.0, y + 4.0),
            &format!("#{}", var.index()),
            Font::new(12.0).end().color("#666"),
        );
        canvas.text((label, y + 4.0), &description, Font::new(12.0));
        let v = tape.value(var);
        canvas.text((value, y + 4.0), &numbers(v), Font::new(12.0));
        canvas.text((value + 150.0, y + 4.0), &shape(v), Font::new(11.0).end().color("#999"));
        let gradient = if needs_grad { numbers(tape.grad(var)) } else { "none: a constant".into() };
        let font =
            if needs_grad { Font::new(12.0).color(RED) } else { Font::new(11.0).color("#999") };
        let font = if needs_grad && op.is_none() { font.bold() } else { font };
        canvas.text((grad, y + 4.0), &gradient, font);
        // Each input is an earlier node: the arcs all point down the tape.
        for input in inputs {
            let bend = -(6.0 + 5.0 * (var.index() - input.index()) as f64);
            canvas.arrow((arcs - 36.0, y_of(input)), (arcs - 34.0, y - 3.0), bend, BLUE);
        }
    }
    // Forward runs down the list as it is recorded; backward runs up it, once.
    let (first, last) = (y_of(vars[0]), y_of(*vars.last().expect("a non-empty tape")));
    canvas.arrow((30.0, first - 6.0), (30.0, last), 0.0, BLUE);
    canvas.text((40.0, first + 8.0), "forward:", Font::new(11.0).color(BLUE));
    canvas.text((40.0, first + 22.0), "record", Font::new(11.0).color(BLUE));
    canvas.arrow((width - 22.0, last + 6.0), (width - 22.0, first), 0.0, RED);
    canvas.text((width - 30.0, last - 8.0), "backward:", Font::new(11.0).end().color(RED));
    canvas.text((width - 30.0, last + 6.0), "one reverse loop", Font::new(11.0).end().color(RED));
    canvas.finish()
}

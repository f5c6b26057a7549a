//! The animated pictures replay the episode they were given: every frame's rotation,
//! translation and torque is read back out of the SVG and compared with the recorded states.

use ppo::animation::{self, CARTPOLE_STEPS_PER_FRAME, HOLD_SECONDS};
use ppo::{CartPole, Pendulum};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The `values` and `dur` of every `<animateTransform>` of `type="kind"`, in document order.
fn animations(svg: &str, kind: &str) -> Vec<(Vec<Vec<f64>>, f64)> {
    let marker = format!(r#"type="{kind}""#);
    svg.split("<animateTransform")
        .skip(1)
        .filter(|element| element.contains(&marker))
        .map(|element| {
            let attribute = |name: &str| {
                let start = element.find(&format!(r#"{name}=""#)).unwrap() + name.len() + 2;
                &element[start..start + element[start..].find('"').unwrap()]
            };
            let values = attribute("values")
                .split(';')
                .map(|v| v.split(' ').map(|n| n.parse().unwrap()).collect())
                .collect();
            (values, attribute("dur").trim_end_matches('s').parse().unwrap())
        })
        .collect()
}

#[test]
fn the_pendulum_turns_as_recorded() {
    // A constant torque of +3 (clipped to +2) from hanging down: the rod swings, and θ grows
    // past ±π without being wrapped.
    let mut env = Pendulum::new();
    env.set_state(3.0, 0.0);
    let mut angles = vec![env.state().0];
    let torques = vec![3.0f32; 60];
    for &u in &torques {
        env.step(&[u]);
        angles.push(env.state().0);
    }
    let svg = animation::pendulum(&angles, &torques, "constant torque");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    assert!(angles.iter().any(|&a| a > std::f64::consts::PI), "the test should cross π");

    let rotations = animations(&svg, "rotate");
    assert_eq!(rotations.len(), 1);
    let (values, seconds) = &rotations[0];
    // 61 frames, then one second (20 frames) of the last; 80 intervals of 0.05 s.
    let hold = (HOLD_SECONDS / Pendulum::DT).round() as usize;
    assert_eq!(values.len(), angles.len() + hold);
    assert!((seconds - (values.len() - 1) as f64 * Pendulum::DT).abs() < 1e-9, "{seconds}");
    for (value, theta) in values.iter().zip(&angles) {
        // Counter-clockwise θ is clockwise-negative on screen, in degrees to 0.1.
        assert!((value[0] + theta.to_degrees()).abs() <= 0.05 + 1e-9, "{value:?} vs {theta}");
    }
    assert!(values[angles.len()..].iter().all(|v| v == &values[angles.len() - 1]));

    // The torque bar: clipped to full length (1) while the torque is 3, empty on the last
    // state, which has no torque; the same clock as the rod.
    let scales = animations(&svg, "scale");
    let (bar, bar_seconds) = &scales[0];
    assert_eq!(bar_seconds, seconds);
    assert!(bar[..torques.len()].iter().all(|v| v == &vec![1.0, 1.0]), "{bar:?}");
    assert_eq!(bar[torques.len()], vec![0.0, 1.0]);
}

#[test]
fn the_cart_and_pole_move_as_recorded() {
    // The hand-made controller: push right when the pole leans or falls to the right.
    let mut rng = StdRng::seed_from_u64(3);
    let mut env = CartPole::new();
    env.reset(&mut rng);
    let (mut states, mut actions) = (vec![env.state()], Vec::new());
    loop {
        let [_, _, theta, theta_dot] = env.state();
        let action = usize::from(theta + 0.5 * theta_dot > 0.0);
        let step = env.step(action);
        actions.push(action);
        states.push(env.state());
        if step.terminated || step.truncated {
            break;
        }
    }
    // Whether or not it keeps the pole up to the time limit, the episode has many frames.
    assert!(actions.len() > 100, "{} steps", actions.len());
    let svg = animation::cartpole(&states, &actions, "hand-made controller");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));

    let frames: Vec<usize> = (0..states.len()).step_by(CARTPOLE_STEPS_PER_FRAME).collect();
    let seconds_per_frame = CartPole::TAU * CARTPOLE_STEPS_PER_FRAME as f64;
    let hold = (HOLD_SECONDS / seconds_per_frame).round() as usize;
    let (positions, seconds) = &animations(&svg, "translate")[0];
    let (leans, lean_seconds) = &animations(&svg, "rotate")[0];
    assert_eq!(positions.len(), frames.len() + hold);
    assert_eq!(seconds, lean_seconds, "the cart and the pole share a clock");
    assert!((seconds - (positions.len() - 1) as f64 * seconds_per_frame).abs() < 1e-9);
    let (first_x, _) = (positions[0][0], positions[0][1]);
    for ((position, lean), &t) in positions.iter().zip(leans).zip(&frames) {
        let [x, _, theta, _] = states[t];
        // 100 px per metre from the centre of the track, to 0.1 px; the pole's lean in degrees.
        let expected = first_x + 100.0 * (x - states[0][0]);
        assert!((position[0] - expected).abs() <= 0.1 + 1e-9, "{position:?} vs {x}");
        assert!((lean[0] - theta.to_degrees()).abs() <= 0.05 + 1e-9, "{lean:?} vs {theta}");
    }
    // The push arrow points the way of each frame's action: scale ±1.
    let (pushes, _) = &animations(&svg, "scale")[0];
    for (push, &t) in pushes.iter().zip(&frames) {
        let action = actions.get(t).copied().unwrap_or(*actions.last().unwrap());
        assert_eq!(push[0], if action == 1 { 1.0 } else { -1.0 }, "frame at step {t}");
    }
}

#[test]
#[should_panic(expected = "got 3 angles and 3 torques")]
fn a_pendulum_animation_needs_one_angle_more_than_torques() {
    animation::pendulum(&[0.0, 0.1, 0.2], &[0.0, 0.0, 0.0], "wrong");
}

#[test]
#[should_panic(expected = "got 2 states and 2 actions")]
fn a_cartpole_animation_needs_one_state_more_than_actions() {
    animation::cartpole(&[[0.0; 4]; 2], &[0, 1], "wrong");
}

"""What PyTorch's float64 round trip z -> a = 2 tanh z -> atanh(a / 2) loses of z, for |z| <= 6:
the reason chapter 15's rollout buffer stores z and not the action. A measuring tool, not a
dependency of the crate (`pip install torch`).

    python3 tools/tanh_round_trip.py

z runs over float32 values (as the crate stores them) on a grid of 1,200,001 points from -6 to
6; each is widened to float64, squashed and inverted as TransformedDistribution's
TanhTransform and AffineTransform(0, 2) do it.
"""

import torch

SCALE = 2.0


def loss(z):
    """|atanh(a / scale) - z| for a = scale * tanh(z), all in float64."""
    action = SCALE * torch.tanh(z)
    return (torch.atanh(action / SCALE) - z).abs()


def main():
    z = torch.linspace(-6.0, 6.0, 1_200_001, dtype=torch.float32).to(torch.float64)
    lost = loss(z)
    worst = int(lost.argmax())
    print(f"torch {torch.__version__}")
    print(f"|z| <= 6: largest loss {lost[worst].item():.1e} of z, at z = {z[worst].item():.6f}")
    for point in [3.0, 5.0, 6.0]:
        print(f"z = {point}: loss {loss(torch.tensor(point, dtype=torch.float64)).item():.1e}")


if __name__ == "__main__":
    main()

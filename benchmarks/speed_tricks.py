"""Does each speed trick in nn/ pay? Its training step timed beside the plain form of the same maths.

    python benchmarks/speed_tricks.py [--rounds 5]

A trick stays in the core only where it pays; the plain form must give the same numbers bit for bit, or
it is not the same maths. Today there is one: Adam's step written with out= buffers (nn/optim.py)
against its docstring formula written with new arrays. Both shipped architectures, their shipped batch
sizes and BLAS threads, random inputs (the time of a step does not depend on the digits); the two forms
alternate, round after round, and the median step of each is compared. Writes
benchmarks/results/speed_tricks.json.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, machine, write_report  # noqa: E402
from digits.training import settings_for  # noqa: E402
from nn.layers import one_hot  # noqa: E402
from nn.optim import Adam, _decay  # noqa: E402


class FormulaAdam(Adam):
    """Adam's step as its docstring writes it, each term a new array."""

    def step(self, lr):
        self.t += 1
        b1, b2, g = self.beta1, self.beta2, self.g
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g**2
        _decay(self.decayed, lr * self.weight_decay)
        correction = math.sqrt(1 - b2**self.t)
        step_size = lr * correction / (1 - b1**self.t)
        self.w -= self.m / (np.sqrt(self.v) + self.eps * correction) * step_size


def train_steps(arch, optimizer_class, steps):
    """(final weights, median seconds per step) of `steps` Adam steps on one fixed random batch."""
    s = settings_for(arch)
    net = s.network()
    net.use_rng(np.random.default_rng(1))
    decayed = [p for k, p in net.params.items() if k.startswith("W")]
    optimizer = optimizer_class(net.flat, net.flat_grad, decayed=decayed)
    rng = np.random.default_rng(0)
    X = rng.random((s.batch_size, 784), dtype=np.float32)
    Y = one_hot(rng.integers(0, 10, s.batch_size), 10)
    seconds = []
    with threadpool_limits(limits=s.threads, user_api="blas"):
        for _ in range(steps):
            start = time.perf_counter()
            net.gradients(X, Y, training=True)
            optimizer.step(1e-3)
            seconds.append(time.perf_counter() - start)
    return net.flat.copy(), float(np.median(seconds[2:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "speed_tricks.json")
    args = parser.parse_args()
    report = {"machine": machine(), "adam_in_place": {}}
    for arch, steps in (("mlp", 60), ("cnn", 12)):
        times = {"in place": [], "formula": []}
        for _ in range(args.rounds):
            w_trick, t_trick = train_steps(arch, Adam, steps)
            w_plain, t_plain = train_steps(arch, FormulaAdam, steps)
            times["in place"].append(t_trick)
            times["formula"].append(t_plain)
        trick, plain = np.median(times["in place"]), np.median(times["formula"])
        same = bool(np.array_equal(w_trick, w_plain))
        report["adam_in_place"][arch] = {"same_weights": same, "step_ms_in_place": trick * 1e3,
                                         "step_ms_formula": plain * 1e3, "ratio": plain / trick}
        print(f"{arch}: training step {trick * 1e3:.2f} ms with Adam in place, {plain * 1e3:.2f} ms with its "
              f"formula written out ({plain / trick:.2f}x); the same weights: {same}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

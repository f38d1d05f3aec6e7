"""How the not-a-digit network (digits/not_digit.py) is chosen: trained without MNIST's last 5,000
training digits, then measured on digits and non-digits it never saw, beside the shipped gate.

    python benchmarks/gate_eval.py [--n 3000] [--out benchmarks/results/gate.json]

What it measures, as the share each gate flags (log-odds of a digit below one_digit's limit):
- digits it must let through: MNIST's last 5,000 training digits, re-drawn as canvases and read through
  the real pipeline (the candidate never trained on them; the shipped gate did, so its figure there is
  flattering), and digits written in code by other writers (another seed);
- things it must flag: drawings of not_digit's own makers from another seed, and benchmarks/non_digits.py's
  letters, shapes and scribbles (a seed that benchmarks/refusal_eval.py does not report on).
The MNIST test digits are not read here: refusal_eval.py reports on them, once, for the shipped models.
Needs MNIST: ../shared/data/mnist.npz on development machines, else data/mnist_*.csv.
"""

import argparse
import dataclasses
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import non_digits  # noqa: E402
from benchmarks.common import machine, write_report  # noqa: E402
from benchmarks.drawings import redraw_mnist  # noqa: E402
from benchmarks.mnist import mnist_or_say_why  # noqa: E402
from benchmarks.refusal_eval import maker_name, read_back  # noqa: E402
from digits import not_digit  # noqa: E402
from digits.one_digit import LIMITS  # noqa: E402
from digits.paths import not_a_digit_model  # noqa: E402
from digits.written import written_digits  # noqa: E402
from nn.persist import load_model  # noqa: E402

HELD_OUT = 5000
LIMIT = LIMITS["digit_odds"]
OTHER_LIMITS = (-2.0, -1.5, -0.5, 0.0, 1.0)
SEED = 99            # written digits and not-digits of writers the gates never saw


def read(image, folder):
    """A drawing written as PNG and read back through the pipeline: its (28, 28) input, or None."""
    drawing = read_back(image, folder)
    return None if isinstance(drawing, str) else drawing.image


def test_sets(train_images, n, folder):
    """{set name: {maker: (k, 28, 28) uint8 inputs}}: what a gate must let through and what it must flag.
    train_images: MNIST's training digits, the last HELD_OUT of which the candidate gate never sees."""
    rng = np.random.default_rng(SEED)
    held = train_images[-HELD_OUT:].reshape(-1, 28, 28)
    sets = {"digits": {"MNIST held out, re-drawn": [read(redraw_mnist(d, rng)[0], folder) for d in held],
                       "written, other writers": list(written_digits(n, SEED)[0].reshape(-1, 28, 28))}}
    makers = defaultdict(list)
    for i, image in enumerate(not_digit.not_digits(n, SEED).reshape(-1, 28, 28)):
        makers[not_digit.MAKERS[i % len(not_digit.MAKERS)].__name__].append(image)
    sets["not_digit's makers, other seed"] = dict(makers)
    for kind in ("letters", "shapes", "scribbles"):
        found = defaultdict(list)
        for _ in range(n // 3):
            image, description = non_digits.make(kind, rng)
            found[maker_name(description)].append(read(image, folder))
        sets[f"benchmark {kind}"] = dict(found)
    return {name: {m: np.stack([x for x in xs if x is not None]) for m, xs in group.items()}
            for name, group in sets.items()}


def measure(net, sets):
    """{set name: {n, flagged: the share flagged at one_digit's limit, per maker and in all, and at
    other limits}}: the trade-off between digits let through and non-digits flagged."""
    report = {}
    for name, group in sets.items():
        odds = {m: np.array([not_digit.digit_odds(x, net) for x in xs]) for m, xs in group.items()}
        every = np.concatenate(list(odds.values()))
        report[name] = {"n": len(every), "flagged": float(np.mean(every < LIMIT)),
                        "makers": {m: float(np.mean(v < LIMIT)) for m, v in odds.items()},
                        "at other limits": {str(t): float(np.mean(every < t)) for t in OTHER_LIMITS}}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="drawings of each other set")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gate.json")
    args = parser.parse_args()
    train = mnist_or_say_why("train")
    if train is None:
        return 0
    with tempfile.TemporaryDirectory() as folder:
        sets = test_sets(train[0], args.n, Path(folder))
        start = time.perf_counter()
        settings = dataclasses.replace(not_digit.gate_settings(), validation=HELD_OUT)
        candidate = not_digit.train_gate(Path(folder) / "gate.npz", settings=settings)
        seconds = time.perf_counter() - start
    shipped = load_model(not_a_digit_model())
    report = {"machine": machine(), "limit": LIMIT, "train_seconds": round(seconds, 1),
              "candidate (this code, MNIST's last 5,000 held out)": measure(candidate, sets),
              "shipped gate": measure(shipped, sets)}
    for who in list(report)[3:]:
        print(f"\n{who}: share flagged as not a digit")
        for name, r in report[who].items():
            makers = ", ".join(f"{m} {v:.1%}" for m, v in r["makers"].items())
            print(f"  {name:34} {r['flagged']:6.1%} of {r['n']:5}   ({makers})")
        print("  at other limits: " + "; ".join(
            f"{t}: " + ", ".join(f"{name.split()[-1]} {r['at other limits'][str(t)]:.1%}"
                                 for name, r in report[who].items()) for t in OTHER_LIMITS))
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

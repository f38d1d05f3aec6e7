"""What the weighing of the networks' four numbers (digits/one_digit.py) adds, on drawings no calibration
used: each shipped model's limits alone, beside its limits and its weighing.

    python benchmarks/weighing_eval.py [--model PATH] [--n 300]

Reads, through the real pipeline, digits it must let through (MNIST training digits #55,000-57,999
re-drawn as canvases, which neither the calibration, from #0, nor the weighing's choice of tail used, and
300 pen-stroke digits) and things it must refuse (n of each of benchmarks/non_digits.py's letters,
shapes, scribbles, smileys and noise, from seed 101, a seed refusal_eval.py does not report on). The MNIST
test digits are not read here: refusal_eval.py reports on them. Writes
benchmarks/results/weighing_<model>.json.
Needs MNIST: ../shared/data/mnist.npz on development machines, else data/mnist_*.csv.
"""

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import non_digits  # noqa: E402
from benchmarks.common import RESULTS, write_report  # noqa: E402
from benchmarks.drawings import redraw_mnist, stroke_digit  # noqa: E402
from benchmarks.refusal_eval import maker_name, mnist_images, read_back  # noqa: E402
from digits import one_digit  # noqa: E402
from digits.paths import shipped_model  # noqa: E402
from nn.persist import load_model  # noqa: E402

HELD_OUT = range(55_000, 58_000)
KINDS = ("scribbles", "shapes", "letters", "smileys", "noise")
SEED = 101


def drawings(train, n):
    """(set, maker, image): the held-out digits, then n of each kind of non-digit."""
    rng = np.random.default_rng(2)
    for i in HELD_OUT:
        yield "held-out digits", "MNIST re-drawn", redraw_mnist(train[i], rng)[0]
    for k in range(300):
        brush = (1, 2, 3)[k % 3] if k % 2 == 0 else None
        yield "held-out digits", "pen strokes", stroke_digit(k % 10, rng, brush)[0]
    rng = np.random.default_rng(SEED)
    for kind in KINDS:
        for _ in range(n):
            image, description = non_digits.make(kind, rng)
            yield kind, maker_name(description), image


def refused(e, net):
    """Whether doubt refuses a drawing with evidence e (None: the preprocessing refused it already)."""
    return e is None or one_digit.doubt_of(e, net) is not None


def limits_alone(net):
    """A copy of net whose record keeps its own limits but not its weighing, so doubt does not weigh."""
    alone = net.copy()
    own = {k: v for k, v in net.record["one_digit"].items() if k != "weighing"}
    alone.record = {**net.record, "one_digit": own}
    assert one_digit.weighing_of(alone) is None
    return alone


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=shipped_model())
    parser.add_argument("--n", type=int, default=300, help="drawings of each non-digit kind")
    args = parser.parse_args()
    train = mnist_images("train")
    if train is None:
        print("skipped: no MNIST training set found")
        return 0
    net = load_model(args.model)
    alone = limits_alone(net)
    tally = defaultdict(lambda: [0, 0, 0])          # refused by the limits alone, with the weighing, count
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(limits=1, user_api="blas"):
        for group, maker, image in drawings(train[0], args.n):
            drawing = read_back(image, Path(folder))
            e = None if isinstance(drawing, str) else one_digit.evidence(drawing, net)   # the same for both
            for key in (group, f"{group}: {maker}"):
                tally[key][0] += refused(e, alone)
                tally[key][1] += refused(e, net)
                tally[key][2] += 1
    report = {"model": args.model.name, "seed": SEED,
              "refused": {k: {"limits alone": a / n, "with the weighing": b / n, "n": n}
                          for k, (a, b, n) in sorted(tally.items())}}
    for key, r in report["refused"].items():
        print(f"{key:40} {r['n']:>6} {r['limits alone']:8.2%} {r['with the weighing']:8.2%}")
    write_report(RESULTS / f"weighing_{args.model.stem}.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

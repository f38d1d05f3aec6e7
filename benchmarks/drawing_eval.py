"""How well the shipped model reads drawings made the way users make them, and how fast.

    python benchmarks/drawing_eval.py [--n 10000] [--model PATH]

Re-draws MNIST test digits as Paint canvases and draws stroke digits with thin and thick brushes
(benchmarks/drawings.py), writes each to a PNG, and reads it back through the real pipeline
(digits.preprocess -> network). Reports, side by side on the same drawings:
- the project's pipeline,
- a plain resize of the whole canvas to 28x28 (what most from-scratch projects do),
and the same model's accuracy on the original MNIST digits. Also the time to read one drawing on a
280-px canvas (the drawing pad's size) end to end (read the file, preprocess, the checks of
one_digit.doubt, the forward pass), next to the forward pass alone, 1 BLAS thread.
Needs MNIST: ../shared/data/mnist.npz on development machines, else data/mnist_train.csv and
data/mnist_test.csv.
"""

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_report  # noqa: E402
from benchmarks.drawings import redraw_mnist, stroke_digit  # noqa: E402
from benchmarks.mnist import mnist_or_say_why  # noqa: E402
from digits.interactive import predict_drawings  # noqa: E402
from digits.paths import shipped_model  # noqa: E402
from digits.preprocess import Drawing, preprocess  # noqa: E402
from nn.network import scale_pixels  # noqa: E402
from nn.persist import load_model  # noqa: E402
from nn.train import evaluate  # noqa: E402


def plain_resize(path):
    """The naive way: the whole canvas, grey, squashed to 28x28, no other change."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(image, (28, 28), interpolation=cv2.INTER_AREA)


def make_drawings(images, labels, strokes_per_digit, seed, folder):
    """Write the drawings as PNGs; returns [(path, label, kind, description)]."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        drawing, description = redraw_mnist(image.reshape(28, 28), rng)
        path = _write(folder / f"mnist_{i:05d}.png", drawing)
        made.append((path, int(label), "re-drawn MNIST", description))
    for digit in range(10):
        for k in range(strokes_per_digit):
            brush = (1, 2, 3)[k % 3] if k % 2 == 0 else None   # half pencil-thin, half any brush
            drawing, description = stroke_digit(digit, rng, brush)
            made.append((_write(folder / f"stroke_{digit}_{k:03d}.png", drawing), digit, "stroke digit",
                         description))
    return made


def _write(path, image):
    cv2.imwrite(str(path), image)
    return path


def tally(net, drawings):
    """Accuracy of the pipeline and of the plain resize, per kind and per style."""
    # Keep only each 28x28 input: a Drawing also holds every full-size step, too much for 10,000.
    ours = predict_drawings(net, [Drawing(preprocess(path).image) for path, *_ in drawings], check=False)
    plain = net.predict(scale_pixels(np.stack([plain_resize(path) for path, *_ in drawings])))
    tallies = defaultdict(lambda: [0, 0, 0])          # right (ours), right (plain), count
    for (_, label, kind, description), p, q in zip(drawings, ours, plain, strict=True):
        style = description.split(", ")[-1]
        for key in (kind, f"{kind}: {style}"):
            tallies[key][0] += p.digit == label
            tallies[key][1] += q == label
            tallies[key][2] += 1
    return {k: {"pipeline": a / n, "plain_resize": b / n, "n": n} for k, (a, b, n) in sorted(tallies.items())}


def canvases_280(images, seed, folder):
    """100 drawings on a 280 x 280 canvas, the size of the notebook's drawing pad: half MNIST test digits
    re-drawn, half stroke digits; their paths."""
    rng = np.random.default_rng([seed, 280])
    folder.mkdir(parents=True, exist_ok=True)
    made = [redraw_mnist(images[i % len(images)].reshape(28, 28), rng, side=280)[0] if i % 2 else
            stroke_digit(i // 2 % 10, rng, side=280)[0] for i in range(100)]
    return [_write(folder / f"canvas_{i:03d}.png", image) for i, image in enumerate(made)]


def timing(net, paths, repeats=3):
    """Median milliseconds per drawing, one at a time as a person's are read: end to end (read the file,
    preprocess, the checks of one_digit.doubt, the forward pass), and the forward pass alone."""
    end_to_end, forward, inputs = [], [], []
    with threadpool_limits(limits=1, user_api="blas"):   # one drawing: a second thread only waits
        for path in paths * repeats:
            start = time.perf_counter()
            drawing = preprocess(path)
            predict_drawings(net, [drawing], check=True)
            end_to_end.append(time.perf_counter() - start)
            inputs.append(scale_pixels(drawing.image[None]))
        for X in inputs:
            start = time.perf_counter()
            net.predict_proba(X)
            forward.append(time.perf_counter() - start)
    return 1e3 * float(np.median(end_to_end)), 1e3 * float(np.median(forward))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="MNIST test digits to re-draw (max 10000)")
    parser.add_argument("--strokes", type=int, default=20, help="stroke drawings per digit")
    parser.add_argument("--model", type=Path, default=shipped_model())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "drawings.json")
    args = parser.parse_args()
    data = mnist_or_say_why("test")
    if data is None:
        return 0
    images, labels = data[0][:args.n], data[1][:args.n]
    net = load_model(args.model)
    mnist_accuracy = evaluate(net, images, labels)[1]
    with tempfile.TemporaryDirectory() as folder:
        drawings = make_drawings(images, labels, args.strokes, args.seed, Path(folder))
        results = tally(net, drawings)
        e2e, forward = timing(net, canvases_280(images, args.seed, Path(folder) / "280"))
    report = {"model": str(args.model.name), "mnist_digits": len(labels), "mnist_accuracy": mnist_accuracy,
              "drawings": results, "median_ms_end_to_end": e2e, "median_ms_forward_only": forward}
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, report)
    gap = mnist_accuracy - results["re-drawn MNIST"]["pipeline"]
    print(f"\nre-drawn MNIST is {gap * 100:.2f} points below MNIST itself (bar: at most 1.00)")
    return 0 if gap <= 0.01 else 1


def _print(report):
    print(f"model {report['model']}: {report['mnist_accuracy']:.2%} on the same {report['mnist_digits']} "
          "MNIST test digits as drawn below\n")
    print(f"{'drawings':44} {'n':>6} {'pipeline':>9} {'plain resize':>13}")
    for kind, r in report["drawings"].items():
        print(f"{kind:44} {r['n']:>6} {r['pipeline']:>9.2%} {r['plain_resize']:>13.2%}")
    e2e, fwd = report["median_ms_end_to_end"], report["median_ms_forward_only"]
    print(f"\na 280-px canvas (median): {e2e:.2f} ms end to end (read + preprocess + checks + forward), "
          f"{fwd * 1e3:.0f} µs forward pass alone; the target is 5 ms end to end")


if __name__ == "__main__":
    sys.exit(main())

"""How the shipped training recipes were chosen: on a validation split, never on the test digits.

    python benchmarks/recipe.py validate --arch cnn [--variants shipped no-dropout ...]
    python benchmarks/recipe.py seeds --arch cnn --seeds 1 2 [--model models/trained_cnn.npz]
    python benchmarks/recipe.py show

validate: each variant of a recipe (the shipped settings with one choice changed) is trained on the
first 55,000 MNIST training digits and measured on the last 5,000 after every epoch, and at the end on
1,500 drawings by 30 writers of benchmarks/handwriting_eval.py (other writers than that benchmark's). The
test digits are not read. The choice shipped reads the most of the other writers' drawings, giving up
at most 0.1 points of the best validation accuracy on MNIST's digits for them (5 of the 5,000).
seeds: the chosen recipe, trained on all 60,000 training digits with other seeds, each read once on the
test digits at the end: the spread tells how much of a result is the seed's luck. --model adds a run
already made by the same pipeline (the notebook's), from the record in its file.
Results are merged into benchmarks/results/recipe.json, one run at a time, so a long sweep can be run
in pieces. Needs MNIST: ../shared/data/mnist.npz on development machines, else data/mnist_*.csv.
"""

import argparse
import dataclasses
import functools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import common, handwriting_eval  # noqa: E402
from benchmarks.common import machine, write_report  # noqa: E402
from benchmarks.mnist import mnist, source  # noqa: E402
from digits.augment import Distortion  # noqa: E402
from digits.training import hold_out, run, settings_for, train_network, with_written  # noqa: E402
from nn.network import scale_pixels  # noqa: E402
from nn.persist import read_record  # noqa: E402

RESULTS = common.RESULTS / "recipe.json"
VALIDATION = 5000       # the last 5,000 training digits, as is usual for MNIST

# Each variant changes one choice of the shipped recipe, to see whether that choice pays. The older
# variants changed one choice of the recipe before digits written in code joined MNIST's ("MNIST only",
# with the 22 epochs the convolutional network took then), and say so.
BEFORE_WRITTEN = {"cnn": {"written": 0, "epochs": 22}, "mlp": {"written": 0}}
VARIANTS = {
    "cnn": {
        "shipped": {},
        "mnist-only": BEFORE_WRITTEN["cnn"],
        "dense-distortions": {**BEFORE_WRITTEN["cnn"], "distortion": Distortion()},
        "no-dropout": {**BEFORE_WRITTEN["cnn"], "dropout": 0.0},
        "no-averaging": {**BEFORE_WRITTEN["cnn"], "average": 0.0},
    },
    "mlp": {
        "shipped": {},
        "mnist-only": BEFORE_WRITTEN["mlp"],
        "no-distortions": {**BEFORE_WRITTEN["mlp"], "augment": False},
    },
}
VALIDATION_WRITERS = range(1000, 1030)   # handwriting_eval's writers are 0-39: these are others


def validate(arch, variant):
    """Train one variant on 55,000 digits; its validation accuracy after every epoch."""
    settings = dataclasses.replace(settings_for(arch), **VARIANTS[arch][variant])
    images, labels, validation = hold_out(*mnist("train"), VALIDATION)
    images, labels = with_written(images, labels, settings)
    net = settings.network()
    history = train_network(net, images, labels, settings, validation)
    return {"changed": {k: repr(v) for k, v in VARIANTS[arch][variant].items()},
            "validation_accuracy": history.validation_accuracy,
            "final": history.validation_accuracy[-1], "seconds": round(sum(history.seconds), 1),
            "handwriting": handwriting_accuracy(net)}


def handwriting_accuracy(net):
    """The share of validation writers' drawings (handwriting_eval's writers, other seeds) read right by
    the network's plain answer (no refusals: a network in training has no refusal limits yet)."""
    images, labels = validation_writers()
    return float(np.mean(net.predict(scale_pixels(images)) == labels))


@functools.cache
def validation_writers():
    """(images (n, 784) uint8, labels) of VALIDATION_WRITERS' drawings, drawn once per process."""
    made, labels = [], []
    for seed in VALIDATION_WRITERS:
        drawings, digits, _ = handwriting_eval.drawings(handwriting_eval.person(seed), seed, per_digit=5)
        made += [d.image.reshape(-1) for d in drawings if d is not None]
        labels += [y for d, y in zip(drawings, digits, strict=True) if d is not None]
    return np.array(made, np.uint8), np.array(labels)


def seed_run(arch, seed):
    """The chosen recipe with another seed, on all 60,000 digits; the test digits read once at the end."""
    settings = dataclasses.replace(settings_for(arch), seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        result = run(settings, source("train"), source("test"), out=Path(folder) / "model.npz")
    return {"test_accuracy": result.test_accuracy, "seconds": round(sum(result.history.seconds), 1)}


def from_model(path):
    """(seed, result) of a model file made by training.run, read from its record."""
    record = read_record(path)
    return record["settings"]["seed"], {"test_accuracy": record["test"]["accuracy"],
                                        "seconds": record["train_seconds"], "model": Path(path).name}


def merge(arch, kind, key, result):
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault(arch, {}).setdefault(kind, {})[str(key)] = result
    results["machine"], results["validation_digits"] = machine(), VALIDATION    # this run's machine
    write_report(RESULTS, results)


def table(results):
    """The results as Markdown tables: validation accuracy of each variant, and test accuracy per seed.
    (Training times are in the JSON; runs here may share the machine, so they are not compared.)"""
    lines = []
    for arch in ("mlp", "cnn"):
        variants = results.get(arch, {}).get("validate", {})
        if variants:
            lines += [f"{arch}: trained on 55,000 digits, accuracy on the 5,000 held out and on 30 other "
                      "writers", "", "| variant | validation accuracy | other writers |", "|---|---:|---:|"]
            lines += [f"| {name} | {v['final']:.2%} | "
                      f"{format(v['handwriting'], '.1%') if 'handwriting' in v else 'not measured'} |"
                      for name, v in variants.items()]
            lines.append("")
        seeds = results.get(arch, {}).get("seeds", {})
        if seeds:
            accuracies = np.array([s["test_accuracy"] for s in seeds.values()])
            lines += [f"{arch}: the chosen recipe on all 60,000 digits, test digits read once per seed", "",
                      "| seed | test accuracy |", "|---|---:|"]
            lines += [f"| {k} | {s['test_accuracy']:.2%} |" for k, s in sorted(seeds.items())]
            lines += [f"| mean (spread) | {accuracies.mean():.2%} (±{accuracies.std():.2%}) |", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["validate", "seeds", "show"])
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--variants", nargs="*", help="default: all of the architecture's")
    parser.add_argument("--seeds", nargs="*", type=int, default=[])
    parser.add_argument("--model", help="a model file made by training.run to add as one seed's run")
    args = parser.parse_args()
    if args.mode != "show" and mnist("train") is None:
        sys.exit("MNIST is not here: run `python -m digits download` first.")
    if args.mode == "validate":
        for variant in args.variants or VARIANTS[args.arch]:
            print(f"--- {args.arch} {variant}", flush=True)
            merge(args.arch, "validate", variant, validate(args.arch, variant))
    if args.mode == "seeds":
        if args.model:
            merge(args.arch, "seeds", *from_model(args.model))
        for seed in args.seeds:
            merge(args.arch, "seeds", seed, seed_run(args.arch, seed))
    print(table(json.loads(RESULTS.read_text()) if RESULTS.exists() else {}))


if __name__ == "__main__":
    main()

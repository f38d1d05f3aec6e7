"""How well each shipped network reads digits by writers unlike MNIST's: the project's own set of writers.

    python benchmarks/handwriting_eval.py [--writers 40] [--per-digit 5]

A writer is drawn at random, once and for all: which shape they give each digit (the usual one, or
another that many people write: a 1 with a long flag, or a flag and a foot, or a bare stroke; the
crossed 7; the open 4 and the closed one; a 9 open at the top; the slashed 0; ...), and their hand:
digits from narrow to wide (0.45 to 1.3 times the usual width), a grey pencil or a pen from fine to
thick, a slant, ink dark on light or light on dark, and for some writers a blurred picture (a photo or
a scan, its levels stretched back as a camera's are) or every stroke gone over twice. Each writer then
draws every digit `per_digit` times with digits/hand.py (the project's one model of how a person's
drawings vary), on a Paint-like canvas, read through the real preprocessing. No MNIST digit is used
and nothing is trained on these drawings. The shares of each shape are rough guesses at how common
they are, not measurements: read the per-shape rows, not only the mean.

Reported per network: digits read right (answered with the right digit, not refused), drawings refused
(no digit found, or "not one digit" from digits/one_digit.py; the rest of the drawings were read as
another digit), per shape and per habit with the writers behind each row, and the worst writer.
The target (issue 20): at least 98% read right by both.
Writes benchmarks/results/handwriting.json.
"""

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, write_report  # noqa: E402
from benchmarks.drawings import STROKES  # noqa: E402
from benchmarks.styles import STYLES, personal  # noqa: E402
from digits.hand import Habits, draw  # noqa: E402
from digits.interactive import predict_drawings  # noqa: E402
from digits.paths import shipped_model  # noqa: E402
from digits.preprocess import preprocess_grey  # noqa: E402
from digits.written import blurred  # noqa: E402
from nn.errors import NNError  # noqa: E402
from nn.persist import load_model  # noqa: E402

TARGET = 0.98


def _usual(d):
    return STROKES[d], 0.45 if d == 1 else 0.65


def _styled(name):
    return STYLES[name].strokes, STYLES[name].width


# For each digit: (shape name, (strokes, width as a share of height), share of writers who write it so).
SHAPES = {
    0: [("usual", _usual(0), 0.85), ("slashed 0", _styled("slashed 0"), 0.15)],
    1: [("usual", _usual(1), 0.35), ("bare 1", ([[(0.5, 0.0), (0.5, 1.0)]], 0.15), 0.2),
        ("long-flag 1", _styled("long-flag 1"), 0.3), ("flag-and-foot 1", _styled("flag-and-foot 1"), 0.15)],
    2: [("usual", _usual(2), 0.85), ("long-foot 2", _styled("long-foot 2"), 0.15)],
    3: [("usual", _usual(3), 1.0)],
    4: [("usual", _usual(4), 0.4), ("open 4", ([[(0.25, 0.0), (0.1, 0.62), (0.95, 0.62)],
                                                [(0.7, 0.15), (0.7, 1.0)]], 0.65), 0.3),
        ("closed-top 4", _styled("closed-top 4"), 0.2), ("looped 4", _styled("looped 4"), 0.05),
        ("underlined 4", _styled("underlined 4"), 0.05)],
    5: [("usual", _usual(5), 0.85), ("closed-belly 5", _styled("closed-belly 5"), 0.15)],
    6: [("usual", _usual(6), 1.0)],
    7: [("usual", _usual(7), 0.6), ("crossed 7", ([[(0.05, 0.02), (0.95, 0.02), (0.35, 1.0)],
                                                   [(0.25, 0.52), (0.85, 0.52)]], 0.65), 0.4)],
    8: [("usual", _usual(8), 0.9), ("squeezed 8", _styled("squeezed 8"), 0.1)],
    9: [("usual", _usual(9), 0.7), ("open-top 9", _styled("open-top 9"), 0.1),
        ("open curly 9", _styled("open curly 9"), 0.1), ("raised-stem 9", _styled("raised-stem 9"), 0.1)],
}


@dataclass(frozen=True)
class Person:
    """One writer: their hand, and the shape they give each digit."""

    habits: Habits
    blur: float          # Gaussian blur of the whole picture, as a share of the canvas side (0: sharp)
    doubled: bool        # every stroke gone over twice, a little apart
    shapes: dict         # digit -> (shape name, personal strokes, width)


def person(seed):
    """Writer number `seed`, the same every time."""
    rng = np.random.default_rng([seed, 20])
    habits = Habits(slant=float(rng.uniform(-0.15, 0.35)), aspect=float(rng.uniform(0.45, 1.3)),
                    pen=float(rng.uniform(0.05, 0.2)), pencil=bool(rng.random() < 0.3),
                    dark_on_light=bool(rng.random() < 0.5))
    blur = float(rng.uniform(0.004, 0.012)) if rng.random() < 0.2 else 0.0
    doubled = bool(rng.random() < 0.15)
    shapes = {}
    for d, options in SHAPES.items():
        name, (strokes, width), _ = options[rng.choice(len(options), p=[o[2] for o in options])]
        shapes[d] = (name, personal(strokes, rng, 0.03), width)
    return Person(habits, blur, doubled, shapes)


def drawings(writer, seed, per_digit):
    """(Drawings as preprocessed, None where the preprocessing refused one; labels; shape names)."""
    rng = np.random.default_rng([seed, 21])
    made, labels, names = [], [], []
    for d, (name, strokes, width) in writer.shapes.items():
        if writer.doubled:
            strokes = strokes + [s + (0.03, 0.02) for s in strokes]
        for _ in range(per_digit):
            canvas = draw(strokes, width, writer.habits, rng)
            if writer.blur:
                canvas = blurred(canvas, writer.blur, writer.habits.dark_on_light)
            try:
                made.append(preprocess_grey(canvas))
            except NNError:
                made.append(None)
            labels.append(d)
            names.append(f"{d}: {name}")
    return made, np.array(labels), names


def habit_groups(writer):
    """The habit bands a writer falls in, for the per-habit rows."""
    h = writer.habits
    groups = ["narrow (under 0.7 of the usual width)" if h.aspect < 0.7 else
              "wide (over 1.1 of the usual width)" if h.aspect > 1.1 else "usual width"]
    groups.append("grey pencil" if h.pencil else "thick pen" if h.pen > 0.15 else
                  "fine pen" if h.pen < 0.08 else "usual pen")
    groups += ["blurred picture"] * bool(writer.blur) + ["strokes gone over twice"] * writer.doubled
    return groups


def read(net, made, labels):
    """(read right, refused) for each drawing. Read right: answered with its digit, not refused. Refused:
    the preprocessing found no digit, or doubt (digits/one_digit.py) says it does not look like one."""
    kept = [i for i, m in enumerate(made) if m is not None]
    right, refused = np.zeros(len(made), bool), np.ones(len(made), bool)
    for i, p in zip(kept, predict_drawings(net, [made[i] for i in kept]), strict=True):
        refused[i] = p.doubt is not None
        right[i] = p.digit == labels[i] and not refused[i]
    return right, refused


def evaluate(net, sets):
    """Shares read right and refused, overall, per shape and per habit (with the drawings n and the
    writers behind each row), and the worst writer."""
    tallies = defaultdict(lambda: np.zeros(3))          # key -> [right, refused, n]
    writers = defaultdict(set)
    per_writer = []
    for seed, (writer, (made, labels, names)) in enumerate(sets):
        right, refused = read(net, made, labels)
        per_writer.append(float(right.mean()))
        for i, name in enumerate(names):
            for key in ("all", name):
                tallies[key] += (right[i], refused[i], 1)
                writers[key].add(seed)
        for group in habit_groups(writer):
            tallies[group] += (right.sum(), refused.sum(), len(right))
            writers[group].add(seed)
    rows = {k: {"read right": a / n, "refused": b / n, "n": int(n), "writers": len(writers[k])}
            for k, (a, b, n) in tallies.items()}
    worst = int(np.argmin(per_writer))
    return {"all": rows.pop("all"), "worst writer": per_writer[worst], "worst writer seed": worst,
            "rows": dict(sorted(rows.items()))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=40)
    parser.add_argument("--per-digit", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "handwriting.json")
    parser.add_argument("--markdown", action="store_true", help="print the README's table of --out, and stop")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.out.read_text())))
        return 0
    sets = [(w, drawings(w, seed, args.per_digit)) for seed, w in
            ((seed, person(seed)) for seed in range(args.writers))]
    report = {"writers": args.writers, "per_digit": args.per_digit, "target": TARGET, "networks": {}}
    for arch in ("mlp", "cnn"):
        report["networks"][arch] = evaluate(load_model(shipped_model(arch)), sets)
    _print(report)
    write_report(args.out, report)
    met = all(r["all"]["read right"] >= TARGET for r in report["networks"].values())
    print(f"\n{'meets' if met else 'MISSES'} the target: at least {TARGET:.0%} read right by both networks")
    return 0


def markdown(report):
    """The README's table of a report: every row, both networks' read right (refused), the worst writer."""
    mlp, cnn = report["networks"]["mlp"], report["networks"]["cnn"]
    lines = ["| drawings (how many, by how many writers) | dense: read right (refused) | convolutional |",
             "| --- | --- | --- |"]
    habits = [k for k in mlp["rows"] if not k[0].isdigit()]
    for key in ["all", *habits, *(k for k in mlp["rows"] if k not in habits)]:
        a, b = (n["all"] if key == "all" else n["rows"][key] for n in (mlp, cnn))
        writers = report["writers"] if key == "all" else a["writers"]
        cells = [f"{r['read right']:.1%} ({r['refused']:.1%})" for r in (a, b)]
        if key == "all":
            key, cells = f"**{key}**", [f"**{c}**" for c in cells]
        lines.append(f"| {key} ({a['n']:,}, {writers}) | {cells[0]} | {cells[1]} |")
    lines.append(f"| the worst writer | {mlp['worst writer']:.0%} (writer {mlp['worst writer seed']}) | "
                 f"{cnn['worst writer']:.0%} (writer {cnn['worst writer seed']}) |")
    return "\n".join(lines)


def _print(report):
    mlp, cnn = report["networks"]["mlp"], report["networks"]["cnn"]
    print(f"{report['writers']} writers x 10 digits x {report['per_digit']} drawings\n")
    print(f"{'':40} {'dense':>14} {'convolutional':>14}   (read right, refused)")
    for key in ["all", *mlp["rows"]]:
        a = mlp["all"] if key == "all" else mlp["rows"][key]
        b = cnn["all"] if key == "all" else cnn["rows"][key]
        print(f"{key:40} {a['read right']:>7.1%} {a['refused']:>5.1%}  {b['read right']:>7.1%} "
              f"{b['refused']:>5.1%}   n={a['n']}")
    print(f"{'worst writer':40} {mlp['worst writer']:>7.1%}        {cnn['worst writer']:>7.1%}   "
          f"(writers {mlp['worst writer seed']} and {cnn['worst writer seed']})")


if __name__ == "__main__":
    sys.exit(main())

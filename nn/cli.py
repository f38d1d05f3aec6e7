"""The command line: python -m nn train | evaluate | predict | learn.

Each command is a thin layer over the same functions the notebooks call. A problem the user can fix
prints one line saying what to do and exits with status 1, never a traceback.
"""

import argparse
import json
import sys
from pathlib import Path

from .data import USER_SAMPLES
from .errors import NNError
from .persist import PRETRAINED, PROJECT, USER_MODEL

# Defaults are found from the project folder, so the commands work from any current directory.
TRAIN_CSV = PROJECT / "data" / "mnist_train.csv"
TEST_CSV = PROJECT / "data" / "mnist_test.csv"


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except NNError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped; nothing was saved.", file=sys.stderr)
        return 130


def _parser():
    from .train import DEFAULT_SIZES, Settings

    default = Settings()
    parser = argparse.ArgumentParser(prog="python -m nn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a network and save it",
                                description="Train a network on digits and save it to a model file.")
    train.add_argument("--data", default=TRAIN_CSV, type=Path,
                       help="training digits: CSV or mnist.npz (default: %(default)s, downloaded if missing)")
    train.add_argument("--test-data", default=TEST_CSV, type=Path,
                       help="digits to report accuracy on after training (default: %(default)s)")
    train.add_argument("--digits", type=int, help="train on only the first N digits")
    train.add_argument("--hidden", type=int, nargs="+", default=list(DEFAULT_SIZES[1:-1]),
                       help="hidden layer widths (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=default.epochs)
    train.add_argument("--batch-size", type=int, default=default.batch_size)
    train.add_argument("--optimizer", choices=("adam", "sgd"), default=default.optimizer)
    train.add_argument("--lr", type=float, default=default.learning_rate, help="peak learning rate")
    train.add_argument("--schedule", choices=("cosine", "constant"), default=default.schedule)
    train.add_argument("--weight-decay", type=float, default=default.weight_decay)
    train.add_argument("--dropout", type=float, default=default.dropout)
    train.add_argument("--no-augment", action="store_true", help="train on the digits as they are")
    train.add_argument("--seed", type=int, default=default.seed)
    train.add_argument("--threads", type=int, default=default.threads, help="BLAS threads")
    train.add_argument("--out", type=Path, default=PRETRAINED, help="model file (default: %(default)s)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="accuracy of a model on a digits file",
                                   description="Print a model's accuracy on a digits file.")
    evaluate.add_argument("--model", type=Path, default=PRETRAINED, help="default: %(default)s")
    evaluate.add_argument("--data", type=Path, default=TEST_CSV,
                          help="CSV or mnist.npz (its test split); default: %(default)s")
    evaluate.add_argument("--json", action="store_true",
                          help='end with one line {"accuracy": ..., "n": ...}')
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser("predict", help="read the digit in drawing files",
                                  description="Read the digit in each drawing (PNG, JPEG, BMP, ...).")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--model", type=Path,
                         help="default: your own model if you have corrected a guess, else the pretrained")
    predict.add_argument("--json", action="store_true", help="one JSON line per image")
    predict.set_defaults(run=_predict)

    learn = commands.add_parser("learn", help="teach the network the right digit for a drawing",
                                description="Learn from a corrected drawing and keep it: saves your "
                                            "model and adds the drawing to data/user_samples.csv.")
    learn.add_argument("image", type=Path, metavar="IMAGE")
    learn.add_argument("--label", required=True, help="the right digit, 0-9")
    learn.add_argument("--model", type=Path, default=USER_MODEL,
                       help="model to update (default: %(default)s; created from the pretrained one)")
    learn.add_argument("--samples", type=Path, default=USER_SAMPLES, help="default: %(default)s")
    learn.set_defaults(run=_learn)
    return parser


def _train(args):
    from . import data, persist, train
    from .augment import Distortion
    from .network import Network

    images, labels = data.load_digits(args.data, split="train")
    if args.digits:
        images, labels = images[:args.digits], labels[:args.digits]
    settings = train.Settings(
        epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
        learning_rate=args.lr, schedule=args.schedule, weight_decay=args.weight_decay,
        dropout=args.dropout, augment=not args.no_augment, distortion=Distortion(),
        seed=args.seed, threads=args.threads)
    net = Network([images.shape[1], *args.hidden, 10], seed=args.seed)
    print(f"training a {net.sizes} network on {len(labels):,} digits from {args.data}", file=sys.stderr)
    history = train.fit(net, images, labels, settings, progress=not args.quiet)
    test_images, test_labels = data.load_digits(args.test_data, split="test")
    _, accuracy = train.evaluate(net, test_images, test_labels)
    net.record = train.training_record(settings, args.data, images, labels, history,
                                       accuracy, args.test_data)
    persist.save_model(net, args.out)
    print(f"test accuracy {accuracy:.2%} on {len(test_labels):,} digits from {args.test_data}; "
          f"trained in {sum(history.seconds):.0f} s; saved {args.out}")


def _predict(args):
    from . import interactive, persist
    from .preprocess import preprocess

    model = args.model or interactive.current_model_path()
    net = persist.load_model(model)
    drawings, failures = {}, {}
    for path in args.images:
        try:
            drawings[path] = preprocess(path)
        except NNError as e:
            failures[path] = str(e)
    predictions = dict(zip(drawings, interactive.predict_drawings(net, list(drawings.values())), strict=True))
    for path in args.images:
        if path in failures:
            _report_failure(path, failures[path], args.json)
        else:
            _report_prediction(path, predictions[path], args.json)
    return 1 if failures else 0


def _learn(args):
    from . import interactive
    from .preprocess import preprocess

    label = interactive.parse_label(args.label)
    drawing = preprocess(args.image)
    _, result = interactive.correct(drawing, label, args.model, args.samples)
    before, after = int(result.before.argmax()), int(result.after.argmax())
    print(f"{args.image}: before {before} ({result.before.max():.1%}), "
          f"after {after} ({result.after.max():.1%}) in {result.steps} steps, {result.seconds:.2f} s; "
          f"saved {args.model}, added to {args.samples}")


def _report_prediction(path, p, as_json):
    if as_json:
        print(json.dumps({"image": str(path), "digit": p.digit, "confidence": round(p.confidence, 6),
                          "probabilities": [round(float(x), 6) for x in p.probabilities]}))
    else:
        print(f"{path}: {p.describe()}")


def _report_failure(path, message, as_json):
    if as_json:
        print(json.dumps({"image": str(path), "digit": None, "error": message}))
    else:
        print(f"{path}: error: {message}", file=sys.stderr)


def _evaluate(args):
    from . import data, persist, train

    net = persist.load_model(args.model)
    images, labels = data.load_digits(args.data, split="test")
    _, accuracy = train.evaluate(net, images, labels)
    print(f"{args.model}: {accuracy:.2%} of {len(labels):,} digits in {args.data} read correctly")
    if args.json:
        print(json.dumps({"accuracy": accuracy, "n": int(len(labels))}))


"""The command line: python -m nn train | evaluate | predict | learn | undo | reset | remember | download.

Each command is a thin layer over the functions the notebooks call. Any failure a user can meet (a bad
file, a read-only folder, a full disk, an input too large) prints one line saying what to do and exits
with status 1; `--debug` shows the traceback instead.
"""

import argparse
import json
import sys
from pathlib import Path

from . import paths
from .errors import NNError, explain


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        print("stopped; nothing was saved.", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        line = explain(e) or (f"unexpected {type(e).__name__}: {e}. Run again with --debug to see where, "
                              "and please report it.")
        print(f"error: {line}", file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(prog="python -m nn", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a network and save it",
                                description="Train a network on digits and save it to a model file.")
    train.add_argument("--data", default="mnist",
                       help="training digits: 'mnist' (downloaded into data/ the first time), a CSV or an "
                            "mnist.npz (default: %(default)s)")
    train.add_argument("--test-data", default="mnist", help="digits kept aside to measure the result")
    train.add_argument("--digits", type=int, help="train on only the first N digits")
    train.add_argument("--include-my-digits", action="store_true",
                       help="also train on the drawings you corrected (data/user_samples.csv)")
    train.add_argument("--out", type=Path, help="default: models/trained_<arch>.npz")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    _add_settings(train)
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="measure a model's accuracy on labelled digits")
    evaluate.add_argument("--model", type=Path, help="default: the base model")
    evaluate.add_argument("--data", default="mnist", help="CSV or mnist.npz (its test split); default: MNIST")
    evaluate.add_argument("--json", action="store_true", help='end with one line {"accuracy": ..., "n": ...}')
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser("predict", help="read the digit in drawing files",
                                  description="Read the digit in each drawing (PNG, JPEG, BMP, ...).")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--model", type=Path, help="default: your own model if you corrected a guess, "
                                                     "else the base model")
    predict.add_argument("--json", action="store_true", help="one JSON line per image")
    predict.set_defaults(run=_predict)

    learn = commands.add_parser("learn", help="teach the network the right digit for a drawing",
                                description="Learn from a corrected drawing and keep it: saves your "
                                            "model and adds the drawing to data/user_samples.csv.")
    learn.add_argument("image", type=Path, metavar="IMAGE")
    learn.add_argument("--label", required=True, help="the right digit, 0-9")
    _add_user_files(learn)
    learn.set_defaults(run=_learn)

    undo = commands.add_parser("undo", help="take back the latest correction")
    _add_user_files(undo)
    undo.set_defaults(run=_undo)

    reset = commands.add_parser("reset", help="go back to the base model")
    reset.add_argument("--forget-samples", action="store_true", help="also delete your corrected drawings")
    _add_user_files(reset)
    reset.set_defaults(run=_reset)

    remember = commands.add_parser(
        "remember", help="give a model file a memory of its training digits (for corrections)",
        description="Add to a model file a memory of 300 of its training digits per digit, with the "
                    "model's scores for them: what learning from a correction rehearses and checks "
                    "itself against. Models trained by this project have one; older files do not.",
        epilog="example: python -m nn remember --model models/trained_mlp.npz --data mnist")
    remember.add_argument("--model", type=Path, required=True, help="the model file to add a memory to")
    remember.add_argument("--data", default="mnist",
                          help="the digits it was trained on: 'mnist', a CSV or an mnist.npz (its train "
                               "split; default: %(default)s)")
    remember.set_defaults(run=_remember)

    download = commands.add_parser("download", help="download MNIST into data/ (checksummed)")
    download.set_defaults(run=lambda args: _download())
    return parser


def _add_settings(command):
    """One option per field of train.Settings, its help from the field's comment; unset = the default
    of the architecture chosen (the help shows the convolutional network's where it differs)."""
    from .train import settings_fields, settings_for

    cnn = settings_for("cnn")
    for name, default, help_text in settings_fields():
        flag = "--" + name.replace("_", "-")
        shown = _shown(default)
        if name != "arch" and getattr(cnn, name) != default:
            shown += f"; with --arch cnn: {_shown(getattr(cnn, name))}"
        help_text = f"{help_text} (default: {shown})"
        if isinstance(default, bool):
            command.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif isinstance(default, tuple):
            command.add_argument(flag, type=int, nargs="+", default=None, help=help_text)
        else:
            command.add_argument(flag, type=type(default), default=None, help=help_text)


def _shown(value):
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _add_user_files(command):
    command.add_argument("--model", type=Path, help="your model (default: models/user_model.npz)")
    command.add_argument("--samples", type=Path,
                         help="your corrected drawings (default: data/user_samples.csv)")
    command.add_argument("--base", type=Path, help="the base model (default: models/trained_mlp.npz if you "
                                                   "trained one, else models/mnist_mlp.npz)")


def _settings(args):
    """Settings for this run: the architecture's own defaults, overridden by the options given."""
    import dataclasses

    from . import train

    given = {name: getattr(args, name) for name, _, _ in train.settings_fields()
             if getattr(args, name) is not None}
    base = train.settings_for(given.get("arch", "mlp"))
    if "hidden" in given:
        given["hidden"] = tuple(given["hidden"])
    return dataclasses.replace(base, **given)


def _train(args):
    from . import train

    train.run(_settings(args), args.data, args.test_data, args.digits, args.include_my_digits, args.out,
              progress=not args.quiet)


def _user_model(args):
    from .user_model import UserModel

    return UserModel(args.model, args.samples, args.base)


def _predict(args):
    from . import interactive
    from .persist import load_model
    from .preprocess import preprocess
    from .user_model import UserModel

    net = load_model(args.model) if args.model else UserModel().load(say=_stderr)[0]
    drawings, failures = {}, {}
    for path in args.images:
        try:
            drawings[path] = preprocess(path)
        except (NNError, OSError, MemoryError) as e:
            failures[path] = explain(e)
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
    user = _user_model(args)
    net, _ = user.load(say=_stderr)
    _, correction = user.correct(net, drawing.image, label)
    print(f"{args.image}: {correction.message}")


def _remember(args):
    from .memory import PER_DIGIT, remember
    from .persist import load_model, save_model
    from .train import load_split

    net = load_model(args.model)
    images, labels = load_split(args.data, "train")
    seed = int(net.record.get("settings", {}).get("seed", 0))
    net.memory = remember(net, images, labels, seed=seed)
    net.record["memory"] = {"data": Path(args.data).name, "digits": len(net.memory), "seed": seed}
    save_model(net, args.model)
    print(f"{paths.shown(args.model)} now remembers {len(net.memory):,} of its training digits "
          f"(at most {PER_DIGIT} per digit, from {args.data}).")


def _undo(args):
    _, message = _user_model(args).undo()
    print(message)


def _reset(args):
    user = _user_model(args)
    user.reset(forget_samples=args.forget_samples)
    print(f"back to the base model {paths.shown(user.base_path)}"
          + ("; your corrected drawings were deleted." if args.forget_samples else
             f"; your corrected drawings stay in {paths.shown(user.samples_path)}."))


def _download():
    from .data import ensure_mnist

    for path in ensure_mnist():
        print(f"MNIST is in {paths.shown(path)}")


def _stderr(line):
    print(line, file=sys.stderr)


def _report_prediction(path, p, as_json):
    if as_json:
        print(json.dumps({"image": str(path), "digit": p.digit, "confidence": round(p.confidence, 6),
                          "probabilities": [round(float(x), 6) for x in p.probabilities],
                          "doubt": p.doubt}))
    else:
        print(f"{path}: {p.describe()}")


def _report_failure(path, message, as_json):
    if as_json:
        print(json.dumps({"image": str(path), "digit": None, "error": message}))
    else:
        print(f"{path}: error: {message}", file=sys.stderr)


def _evaluate(args):
    from .persist import load_model
    from .train import evaluate, load_split

    model = args.model or paths.base_model()
    net = load_model(model)
    images, labels = load_split(args.data, "test")
    _, accuracy = evaluate(net, images, labels)
    print(f"{paths.shown(model)}: {accuracy:.2%} of {len(labels):,} digits in {args.data} read correctly")
    if args.json:
        print(json.dumps({"accuracy": accuracy, "n": int(len(labels))}))

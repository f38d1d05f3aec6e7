"""The command line: python -m digits train | evaluate | predict | learn | undo | reset | remember | download.

Each command is a thin layer over the functions the notebooks call. Any failure a user can meet (a bad
file, a read-only folder, a full disk, an input too large) prints one line saying what to do and exits
with status 1; `--debug` shows the traceback instead.
"""

import argparse
import json
import sys
from pathlib import Path

from nn import files
from nn.errors import NNError, explain


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
    parser = argparse.ArgumentParser(prog="python -m digits", description=__doc__.splitlines()[0],
                                     epilog="Each command has its own help: python -m digits predict --help")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    train = _command(commands, "train", "train a network and save it",
                     "Train a network on digits and save it to a model file (models/trained_<arch>.npz, "
                     "which then becomes the base model; the shipped models are never overwritten).",
                     "python -m digits train", "python -m digits train --arch cnn",
                     "python -m digits train --data my_digits.csv --epochs 10 --out models/mine.npz")
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

    evaluate = _command(commands, "evaluate", "measure a model's accuracy on labelled digits",
                        "Read labelled digits (MNIST's test digits by default) and say how many the model "
                        "reads right. Uses the same model as predict unless --model is given.",
                        "python -m digits evaluate",
                        "python -m digits evaluate --model models/mnist_cnn.npz --json")
    evaluate.add_argument("--model", type=Path, help=MODEL_HELP)
    evaluate.add_argument("--data", default="mnist", help="CSV or mnist.npz (its test split); default: MNIST")
    evaluate.add_argument("--json", action="store_true", help='end with one line {"accuracy": ..., "n": ...}')
    evaluate.set_defaults(run=_evaluate)

    predict = _command(commands, "predict", "read the digit in drawing files",
                       "Read the digit in each drawing (PNG, JPEG, BMP, ...), and say how sure the network "
                       "is, or that the drawing does not look like one digit.",
                       "python -m digits predict test_image.png", "python -m digits predict *.png --json")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--model", type=Path, help=MODEL_HELP)
    predict.add_argument("--json", action="store_true", help="one JSON line per image")
    predict.set_defaults(run=_predict)

    learn = _command(commands, "learn", "teach the network the right digit for a drawing",
                     "Learn from a corrected drawing and keep it: saves your model and adds the drawing to "
                     "data/user_samples.csv. A drawing already read right is not kept; one that does not "
                     "look like a digit is kept only if you say so.",
                     "python -m digits learn my_one.png --label 1")
    learn.add_argument("image", type=Path, metavar="IMAGE")
    learn.add_argument("--label", required=True, help="the right digit, 0-9")
    learn.add_argument("--anyway", action="store_true",
                       help="keep it even if it does not look like a digit (else you are asked, or, with "
                            "no keyboard, it is refused)")
    _add_user_files(learn)
    learn.set_defaults(run=_learn)

    undo = _command(commands, "undo", "take back the latest correction",
                    "Take back the latest correction: your model as it was before it, and its drawing "
                    "removed from data/user_samples.csv.", "python -m digits undo")
    _add_user_files(undo)
    undo.set_defaults(run=_undo)

    reset = _command(commands, "reset", "go back to the base model",
                     "Forget what your corrections taught every network (your own models are deleted); your "
                     "drawings stay in data/user_samples.csv unless --forget-samples.",
                     "python -m digits reset", "python -m digits reset --forget-samples")
    reset.add_argument("--forget-samples", action="store_true", help="also delete your corrected drawings")
    _add_user_files(reset)
    reset.set_defaults(run=_reset)

    remember = _command(
        commands, "remember", "give a model file a memory of its training digits (for corrections)",
        "Add to a model file a memory of 300 of its training digits per digit, with the model's scores "
        "for them: what learning from a correction rehearses and checks itself against. Models trained "
        "by this project have one; older files do not.",
        "python -m digits remember --model models/trained_mlp.npz --data mnist")
    remember.add_argument("--model", type=Path, required=True, help="the model file to add a memory to")
    remember.add_argument("--data", default="mnist",
                          help="the digits it was trained on: 'mnist', a CSV or an mnist.npz (its train "
                               "split; default: %(default)s)")
    remember.set_defaults(run=_remember)

    gate = _command(commands, "train-gate", "train the network that tells digits from other drawings",
                    "Train the small network that digits.one_digit asks whether a drawing is a digit at "
                    "all: MNIST's training digits and digits drawn in code against letters, signs, shapes "
                    "and scribbles drawn in code (digits/not_digit.py). About four minutes.",
                    "python -m digits train-gate")
    gate.add_argument("--out", type=Path, help="default: models/not_a_digit.npz")
    gate.add_argument("--data", default="mnist", help="the digits: 'mnist', a CSV or an mnist.npz")
    gate.add_argument("--others", type=int, help="drawings of things that are not digits (default: 20000)")
    gate.add_argument("--written", type=int, help="digits written in code added to the digits")
    gate.add_argument("--epochs", type=int, help="passes over all of them")
    gate.set_defaults(run=_train_gate)

    download = _command(commands, "download", "download MNIST into data/ (checksummed)",
                        "Download the four official MNIST files, check their sha256, and write "
                        "data/mnist_train.csv and data/mnist_test.csv. Offline, it says which files to put "
                        "where by hand.", "python -m digits download")
    download.set_defaults(run=lambda args: _download())
    return parser


MODEL_HELP = ("the model file (default: your own model if you corrected a guess, else the base model: "
              "models/trained_mlp.npz if you trained one, else the shipped models/mnist_mlp.npz)")


def _command(commands, name, summary, description, *examples):
    """A subcommand with its one-line summary, its description and examples in --help."""
    return commands.add_parser(name, help=summary, description=description,
                               epilog="examples:\n" + "\n".join(f"  {e}" for e in examples),
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_settings(command):
    """One option per field of training.Settings, its help from the field's comment; unset = the default
    of the architecture chosen (the help shows the convolutional network's where it differs)."""
    from .training import settings_fields, settings_for

    mlp, cnn = settings_for("mlp"), settings_for("cnn")
    for name, _, help_text in settings_fields():
        default = getattr(mlp, name)
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
    command.add_argument("--model", type=Path, help="your model (default: models/user_<base>.npz, one per "
                                                    "base model)")
    command.add_argument("--samples", type=Path,
                         help="your corrected drawings (default: data/user_samples.csv)")
    command.add_argument("--base", type=Path, help="the base model (default: models/trained_mlp.npz if you "
                                                   "trained one, else models/mnist_mlp.npz)")


def _settings(args):
    """Settings for this run: the architecture's own defaults, overridden by the options given."""
    import dataclasses

    from . import training

    given = {name: getattr(args, name) for name, _, _ in training.settings_fields()
             if getattr(args, name) is not None}
    base = training.settings_for(given.get("arch", "mlp"))
    if "hidden" in given:
        given["hidden"] = tuple(given["hidden"])
    return dataclasses.replace(base, **given)


def _train_gate(args):
    import dataclasses

    from .not_digit import OTHERS, gate_settings, train_gate

    given = {name: getattr(args, name) for name in ("written", "epochs") if getattr(args, name) is not None}
    others = OTHERS if args.others is None else args.others
    train_gate(args.out, args.data, others, dataclasses.replace(gate_settings(), **given))


def _train(args):
    from . import training

    training.run(_settings(args), args.data, args.test_data, args.digits, args.include_my_digits, args.out,
              progress=not args.quiet)


def _user_model(args):
    from .user_model import UserModel

    return UserModel(args.model, args.samples, args.base)


def _predict(args):
    from . import interactive
    from .preprocess import preprocess

    net = _model(args)
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


def _model(args):
    """The model predict and evaluate read: --model, else the one rule of UserModel (and then it says
    which, on stderr)."""
    from nn.persist import load_model

    from .user_model import UserModel

    if args.model:
        return load_model(args.model)
    net, which = UserModel().load(say=_stderr)
    _stderr(which)
    return net


def _learn(args):
    from . import interactive
    from .one_digit import doubt
    from .preprocess import preprocess
    from .user_model import reads_as

    label = interactive.parse_label(args.label)
    drawing = preprocess(args.image)
    user = _user_model(args)
    net, _ = user.load(say=_stderr)
    # A drawing the network already reads as `label` is not learned, so there is nothing to ask about.
    why = None if reads_as(net, drawing.image, label) else doubt(drawing, net)
    if why and not args.anyway and not _confirm(f"{args.image}: {why} Keep it as a {label} anyway? (y/n) "):
        reason = why.rsplit(". ", 1)[0]                   # what it looks like, without the drawing advice
        raise NNError(f"{args.image}: {reason}, so it was not learned. If it really is a {label}, "
                      "run again with --anyway.")
    _, correction = user.correct(net, drawing.image, label)
    print(f"{args.image}: {correction.message}")


def _confirm(question):
    """A yes from a person at the keyboard; no keyboard (a script, a pipe) is a no."""
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes")


def _remember(args):
    from nn.memory import PER_DIGIT, remember
    from nn.persist import load_model, save_model

    from .training import load_split

    net = load_model(args.model)
    images, labels = load_split(args.data, "train")
    seed = int(net.record.get("settings", {}).get("seed", 0))
    net.memory = remember(net, images, labels, seed=seed)
    net.record["memory"] = {"data": Path(args.data).name, "digits": len(net.memory), "seed": seed}
    save_model(net, args.model)
    print(f"{files.shown(args.model)} now remembers {len(net.memory):,} of its training digits "
          f"(at most {PER_DIGIT} per digit, from {args.data}).")


def _undo(args):
    _, message = _user_model(args).undo()
    print(message)


def _reset(args):
    user = _user_model(args)
    user.reset(forget_samples=args.forget_samples)
    print(f"back to the base model {files.shown(user.base_path)}"
          + ("; your corrected drawings were deleted." if args.forget_samples else
             f"; your corrected drawings stay in {files.shown(user.samples_path)}."))


def _download():
    from .data import ensure_mnist

    for path in ensure_mnist():
        print(f"MNIST is in {files.shown(path)}")


def _stderr(line):
    print(line, file=sys.stderr)


def _report_prediction(path, p, as_json):
    if as_json:
        # "digit" is the answer: null when the drawing does not look like one digit ("looks_like" says
        # what it looks like instead, "doubt" why); "guess" is the network's most probable digit either way.
        print(json.dumps({"image": str(path), "digit": None if p.doubt else p.digit,
                          "looks_like": p.verdict, "guess": p.digit,
                          "confidence": round(p.confidence, 6),
                          "probabilities": [round(float(x), 6) for x in p.probabilities],
                          "doubt": p.doubt}))
    else:
        print(f"{path}: {p.describe()}")


def _report_failure(path, message, as_json):
    if as_json:
        print(json.dumps({"image": str(path), "digit": None, "error": message}))
    else:
        print(f"error: {message}", file=sys.stderr)


def _evaluate(args):
    from nn.train import evaluate

    from .training import load_split

    net = _model(args)
    images, labels = load_split(args.data, "test")
    _, accuracy = evaluate(net, images, labels)
    print(f"{accuracy:.2%} of {len(labels):,} digits in {args.data} read correctly")
    if args.json:
        print(json.dumps({"accuracy": accuracy, "n": int(len(labels))}))

"""The command line as a user runs it: python -m digits train | evaluate | predict | learn, and every expected
failure a single line (the traceback only with --debug)."""

import contextlib
import errno
import io
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from digits.cli import main
from digits.learn import LearnSettings, lead
from digits.paths import shipped_model
from nn import load_model, save_model
from nn.network import scale_pixels

from .conftest import ROOT

SHIPPED = ROOT / "models" / "mnist_mlp.npz"
IMAGE = ROOT / "test_image.png"          # a handwritten 7
LONG_FLAG_ONE = ROOT / "docs" / "examples" / "one_with_a_long_flag.png"   # a continental 1, read as 7


def run(*args, cwd=ROOT):
    """python -m digits ARGS in a fresh process, importing the checkout under test from any folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "digits", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def assert_one_line_error(result, *words):
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("using ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr     # "using": which model
    assert "Traceback" not in result.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def small_base(mnist, tmp_path_factory):
    """A small trained model (784-32-10, 90% on MNIST) to learn corrections on: quick to train on."""
    from digits.training import Settings, train_network
    from nn.memory import remember

    settings = Settings(hidden=(32,), epochs=1, batch_size=32, learning_rate=5e-3, augment=False)
    net = settings.network()
    train_network(net, mnist["x_train"][:5000], mnist["y_train"][:5000], settings, progress=False)
    net.memory = remember(net, mnist["x_train"][:5000], mnist["y_train"][:5000])
    path = tmp_path_factory.mktemp("base") / "small.npz"
    save_model(net, path)
    return path


# --- train, evaluate, predict --------------------------------------------------------------------------

SHIPPED_CNN = ROOT / "models" / "mnist_cnn.npz"
# What each shipped model must read of the 10,000 official test digits.
BARS = {"mlp": (SHIPPED, 0.990), "cnn": (SHIPPED_CNN, 0.995)}


@pytest.mark.parametrize("arch", BARS)
def test_shipped_model_reads_the_official_test_set(mnist_files, arch):
    model, bar = BARS[arch]
    result = run("evaluate", "--model", model, "--data", mnist_files[1], "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n"] == 10000
    assert report["accuracy"] >= bar


@pytest.mark.parametrize("arch", BARS)
def test_a_shipped_models_record_is_true(mnist, arch):
    """What the model file says about itself holds: its settings build exactly its network, and the test
    accuracy it records is what it reads now."""
    from digits.training import Settings
    from nn.train import evaluate

    model, _ = BARS[arch]
    net = load_model(model)
    record = net.record
    assert Settings(**record["settings"]).network().spec() == net.spec()
    assert record["data"]["digits"] == 60000 and record["epochs_run"] == record["settings"]["epochs"]
    assert evaluate(net, mnist["x_test"], mnist["y_test"])[1] == pytest.approx(record["test"]["accuracy"])


def test_train_then_evaluate_from_any_folder(mnist_files, tmp_path):
    train_file, test_file = mnist_files
    model = tmp_path / "small.npz"
    result = run("train", "--data", train_file, "--test-data", test_file, "--digits", 3000, "--epochs", 2,
                 "--hidden", 32, "--batch-size", 64, "--no-augment", "--quiet", "--out", model, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    assert sorted(tmp_path.iterdir()) == [model], "the model and nothing else"
    net = load_model(model)
    assert net.describe() == "Dense(784->32) ReLU Dense(32->10)"
    assert net.record["data"]["digits"] == 3000 and net.record["epochs_run"] == 2
    assert net.record["settings"]["hidden"] == [32] and net.record["settings"]["augment"] is False
    result = run("evaluate", "--model", model, "--data", test_file, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"accuracy": net.record["test"]["accuracy"], "n": 10000}
    assert report["accuracy"] > 0.8


def test_predict_json_reads_the_shipped_test_image():
    result = run("predict", "--json", "--model", SHIPPED, "test_image.png")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["image"] == "test_image.png" and line["digit"] == 7
    assert len(line["probabilities"]) == 10 and abs(sum(line["probabilities"]) - 1) < 1e-4
    assert line["confidence"] == max(line["probabilities"]) > 0.9


def test_predict_reports_each_bad_image_and_exits_non_zero(tmp_path):
    import cv2

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.zeros((100, 100), np.uint8))
    result = run("predict", "--json", "--model", SHIPPED, "test_image.png", blank, tmp_path / "gone.png")
    assert result.returncode == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["digit"] for x in lines] == [7, None, None]
    assert "no digit found" in lines[1]["error"] and "blank" in lines[1]["error"]
    assert "gone.png not found" in lines[2]["error"]
    assert "Traceback" not in result.stderr


def test_something_that_is_not_a_digit_is_answered_as_such_first_and_in_json(tmp_path):
    import cv2

    from digits.canvas import BRUSH, strokes_to_image

    face = [([(140 + 100 * np.cos(t), 140 + 100 * np.sin(t)) for t in np.linspace(0, 6.3, 60)], BRUSH),
            ([(100, 110)], BRUSH), ([(180, 110)], BRUSH),
            ([(100 + 80 * t, 180 + 20 * np.sin(np.pi * t)) for t in np.linspace(0, 1, 10)], BRUSH)]
    cv2.imwrite(str(tmp_path / "face.png"), strokes_to_image(face))
    said = run("predict", "--model", SHIPPED, tmp_path / "face.png").stdout
    assert re.match(r".*face.png: this does not look like a digit: .* \(if it were a digit: \d, \d+%\)", said)
    line = json.loads(run("predict", "--json", "--model", SHIPPED, tmp_path / "face.png").stdout)
    assert line["digit"] is None and line["guess"] in range(10) and "not look like a digit" in line["doubt"]


def test_a_folder_given_as_an_image_is_called_a_folder(tmp_path):
    assert_one_line_error(run("predict", "--model", SHIPPED, tmp_path), "is a folder, not a drawing")


def test_every_command_has_a_description_and_examples():
    for command in ("train", "evaluate", "predict", "learn", "undo", "reset", "remember", "download"):
        help_text = run(command, "--help").stdout
        assert "examples:" in help_text and "python -m digits " + command in help_text, command


def test_learn_refuses_what_does_not_look_like_a_digit_without_a_keyboard(tmp_path):
    import cv2

    marks = np.zeros((280, 280), np.uint8)
    for x in (40, 140, 240):
        cv2.line(marks, (x, 60), (x, 220), 255, 18)
    cv2.imwrite(str(tmp_path / "marks.png"), marks)
    result = run("learn", tmp_path / "marks.png", "--label", "1", *user_files(tmp_path, SHIPPED))
    assert_one_line_error(result, "more than one digit", "not learned", "--anyway")
    assert not (tmp_path / "mine.csv").exists()
    result = run("learn", tmp_path / "marks.png", "--label", "1", "--anyway", *user_files(tmp_path, SHIPPED))
    assert result.returncode == 0 and (tmp_path / "mine.csv").exists()


def test_learn_refuses_a_photo_without_a_keyboard(tmp_path):
    from benchmarks.non_digits import sample_photos

    result = run("learn", sample_photos()[1], "--label", "3", *user_files(tmp_path, SHIPPED))
    assert_one_line_error(result, "does not look like a digit", "as in a photo", "not learned", "--anyway")
    assert not (tmp_path / "mine.csv").exists()


def test_learn_on_a_doubtful_drawing_already_read_as_that_digit_asks_nothing(tmp_path):
    from benchmarks.non_digits import sample_photos
    from digits.preprocess import preprocess

    photo = sample_photos()[1]
    read = int(load_model(SHIPPED).predict(scale_pixels(preprocess(photo).image[None]))[0])
    result = run("learn", photo, "--label", str(read), *user_files(tmp_path, SHIPPED))
    assert result.returncode == 0 and f"already reads {read}: nothing to learn" in result.stdout
    assert "anyway" not in result.stdout + result.stderr and not (tmp_path / "mine.csv").exists()


def test_learn_on_a_drawing_already_read_right_keeps_nothing(tmp_path):
    result = run("learn", IMAGE, "--label", "7", *user_files(tmp_path, SHIPPED))
    assert result.returncode == 0 and "already reads 7: nothing to learn" in result.stdout
    assert not (tmp_path / "mine.csv").exists() and not (tmp_path / "models" / "mine.npz").exists()


# --- one-line errors ------------------------------------------------------------------------------------

def test_missing_model_is_a_one_line_error_not_a_traceback(tmp_path):
    result = run("evaluate", "--model", tmp_path / "none.npz", "--data", tmp_path / "x.csv")
    assert_one_line_error(result, "error: model file", "none.npz not found")


def test_bad_data_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "digits.csv"
    bad.write_text("label,pixel0\n3,0\n")
    result = run("evaluate", "--model", SHIPPED, "--data", bad)
    assert_one_line_error(result, "digits.csv has 2 columns; expected 785")


def test_train_with_a_zero_width_layer_is_a_one_line_error(tmp_path):
    result = run("train", "--hidden", "0", "--out", tmp_path / "m.npz", cwd=tmp_path)
    assert_one_line_error(result, "bad training settings: hidden [0]: widths start at 1")
    assert list(tmp_path.iterdir()) == []


def test_a_model_that_is_not_a_model_is_a_one_line_error(tmp_path):
    np.save(tmp_path / "weights.npy", np.zeros(3))
    result = run("predict", "--model", tmp_path / "weights.npy", IMAGE)
    assert_one_line_error(result, "weights.npy is not a readable model file")


# --- learning a correction --------------------------------------------------------------------------------

def user_files(tmp_path, base):
    return ["--model", tmp_path / "models" / "mine.npz", "--samples", tmp_path / "mine.csv", "--base", base]


def test_learn_then_predict_gives_the_corrected_digit(tmp_path):
    base = shipped_model()       # the model users correct (a tiny 784-32-10 base is too weak: see the notes)
    assert json.loads(run("predict", LONG_FLAG_ONE, "--model", base, "--json").stdout)["digit"] == 7
    result = run("learn", LONG_FLAG_ONE, "--label", "1", *user_files(tmp_path, base))
    assert result.returncode == 0, result.stderr
    assert "learned that this is a 1 (read as 7 before, 1 now" in result.stdout
    before, after = map(int, re.search(r"read as 1: (\d+)% before, (\d+)% now", result.stdout).groups())
    assert after > before, "fresh variations of the drawing are read better after the correction"
    result = run("predict", LONG_FLAG_ONE, "--model", tmp_path / "models" / "mine.npz", "--json")
    assert json.loads(result.stdout)["digit"] == 1
    labels = np.loadtxt(tmp_path / "mine.csv", delimiter=",", skiprows=1, usecols=0, ndmin=1)
    assert labels.tolist() == [1]
    learned = load_model(tmp_path / "models" / "mine.npz")
    assert learned.flat.tobytes() != load_model(base).flat.tobytes()


def test_learning_a_clear_seven_as_a_one_forgets_no_remembered_digit(tmp_path):
    """A correction that collides with digits the network knows (a clear 7 said to be a 1) is learned only
    as far as it breaks none of the memory's check digits, and the one line says so."""
    base = load_model(shipped_model())
    result = run("learn", IMAGE, "--label", "1", *user_files(tmp_path, shipped_model()))
    assert result.returncode == 0, result.stderr
    assert re.search(r"none of the [\d,]+ remembered digits it checked was forgotten", result.stdout)
    learned = load_model(tmp_path / "models" / "mine.npz")
    check = base.memory.check
    X, labels = scale_pixels(base.memory.images[check]), base.memory.labels[check]
    sure = lead(base.memory.logits[check], labels.astype(int)) >= LearnSettings().sure
    assert np.array_equal(learned.predict(X[sure]), base.predict(X[sure]))


def test_learn_refuses_a_label_that_is_not_a_digit(tmp_path):     # every bad label: test_interactive.py
    label = "10"
    result = run("learn", IMAGE, "--label", label, "--model", tmp_path / "m.npz", "--samples",
                 tmp_path / "s.csv", "--base", SHIPPED)
    assert_one_line_error(result, f"{label!r} is not a digit: type one digit from 0 to 9")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root, where a read-only folder can still be written: "
                           "test_learn_into_a_read_only_models_folder_in_process simulates it instead")
def test_a_read_only_models_folder_is_a_one_line_error(tmp_path, small_base):
    folder = tmp_path / "models"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = run("learn", IMAGE, "--label", "1", *user_files(tmp_path, small_base))
    finally:
        folder.chmod(0o700)
    assert_one_line_error(result, "not allowed to write", "nothing was changed")
    assert not (tmp_path / "mine.csv").exists() and list(folder.iterdir()) == []


def test_a_model_path_inside_a_file_is_a_one_line_error_and_debug_shows_the_traceback(tmp_path, small_base):
    (tmp_path / "file.txt").write_text("not a folder")
    args = ["learn", IMAGE, "--label", "1", "--model", tmp_path / "file.txt" / "m.npz",
            "--samples", tmp_path / "mine.csv", "--base", small_base]
    assert_one_line_error(run(*args), "file.txt", "Check the path and try again")
    debug = run("--debug", *args)
    assert debug.returncode != 0 and debug.stderr.startswith("Traceback (most recent call last)")
    assert "Error: [Errno" in debug.stderr.strip().splitlines()[-1] and "file.txt" in debug.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def learn_in_process(folder, base, label):
    """cli.main(["learn", ...]) in this process, so a test can patch what it calls: (status, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["learn", str(IMAGE), "--label", label, *map(str, user_files(folder, base))])
    return status, out.getvalue(), err.getvalue()


def snapshot(folder):
    """{file: bytes} of everything under folder, except the lock file a correction leaves (empty)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(".lock")}


@pytest.fixture(scope="module")
def failed_learn(small_base, tmp_path_factory):
    """One correction learned, then a second one whose model write finds the disk full.

    {"folder", "before": snapshot before the second, "after": snapshot after it, "status", "out", "err"}.
    """
    folder = tmp_path_factory.mktemp("disk_full")
    status, out, _ = learn_in_process(folder, small_base, "1")
    assert status == 0 and "learned that this is a 1" in out
    before = snapshot(folder)
    assert set(before) >= {"mine.csv", "models/mine.npz"}

    def disk_full(file, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np.lib.format, "write_array", disk_full)
        status, out, err = learn_in_process(folder, small_base, "3")
    return {"folder": folder, "before": before, "after": snapshot(folder), "status": status, "out": out,
            "err": err}


def test_learn_when_the_disk_is_full_says_so_in_one_line(failed_learn):
    assert failed_learn["status"] == 1 and failed_learn["out"] == ""
    err = failed_learn["err"]
    assert err.startswith("error: the disk is full") and "free some space and try again" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_learn_when_the_disk_is_full_leaves_the_samples_and_the_model_as_they_were(failed_learn):
    before, after = failed_learn["before"], failed_learn["after"]
    assert after["mine.csv"] == before["mine.csv"]
    assert after["models/mine.npz"] == before["models/mine.npz"]
    assert not [name for name in after if name.endswith(".tmp")], "no temporary file left behind"


def test_after_a_failed_learn_undo_takes_back_the_correction_before_it(failed_learn, small_base):
    folder = failed_learn["folder"]
    assert failed_learn["after"] == failed_learn["before"], "every file as it was, the undo file too"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["undo", *map(str, user_files(folder, small_base))])
    assert status == 0, err.getvalue()
    assert "undid the latest correction" in out.getvalue()
    assert not (folder / "models" / "mine.npz").exists() and not (folder / "mine.csv").exists()


def test_learn_into_a_read_only_models_folder_in_process(tmp_path, small_base, monkeypatch):
    """As a normal user, writing into a read-only folder fails with EACCES: simulated here, as root can."""
    folder = tmp_path / "models"
    real = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and os.path.samefile(dir, folder):
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    folder.mkdir()
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    status, out, err = learn_in_process(tmp_path, small_base, "1")
    assert status == 1 and out == ""
    assert err.startswith(f"error: not allowed to write {folder}: the folder is read-only"), err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(tmp_path) == {}, "no sample kept for a correction that was not saved"


def test_train_options_default_to_the_chosen_architectures_recipe(capsys):
    """`train --arch cnn` starts from the CNN's recipe (its help says where it differs), and an option
    given on the command line still wins."""
    import argparse

    from digits import cli
    from digits.training import settings_for

    parser = argparse.ArgumentParser()
    cli._add_settings(parser)
    assert cli._settings(parser.parse_args(["--arch", "cnn"])) == settings_for("cnn")
    assert cli._settings(parser.parse_args(["--arch", "cnn", "--epochs", "3"])).epochs == 3
    assert cli._settings(parser.parse_args([])) == settings_for("mlp")
    parser.print_help()
    assert "(default: 0.0; with --arch cnn: 0.5)" in " ".join(capsys.readouterr().out.split())


def test_predict_reads_the_model_file_once():
    if list((ROOT / "models").glob("user_*.npz")):
        pytest.skip("this checkout has corrections of its own: predict reads them too")
    code = ("import sys; opened = []\n"
            "sys.addaudithook(lambda e, a: opened.append(str(a[0]))\n"
            "                 if e == 'open' and str(a[0]).endswith('.npz') else None)\n"
            "from digits.cli import main; main(['predict', 'test_image.png']); print(opened)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    gate = ROOT / "models" / "not_a_digit.npz"          # the not-a-digit network, read once too
    assert result.stdout.strip().endswith(f"[{str(SHIPPED)!r}, {str(gate)!r}]"), result.stdout + result.stderr

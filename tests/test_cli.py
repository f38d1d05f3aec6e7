"""The command line: python -m nn train | evaluate, as a user runs it."""

import json
import subprocess
import sys

import pytest

from nn import load_model
from nn.cli import PRETRAINED

from .conftest import ROOT, SHARED_NPZ


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "nn", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_shipped_model_reads_99_percent_of_the_official_test_set(mnist):
    result = run("evaluate", "--data", SHARED_NPZ, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n"] == 10000
    assert report["accuracy"] >= 0.990


def test_shipped_model_records_how_it_was_trained():
    record = load_model(PRETRAINED).record
    assert record["data"]["digits"] == 60000
    assert record["settings"]["seed"] == 0 and record["epochs_run"] == record["settings"]["epochs"]
    assert record["test"]["accuracy"] >= 0.990
    assert record["train_seconds"] < 300


def test_train_then_evaluate_from_any_folder(mnist, tmp_path):
    model = tmp_path / "small.npz"
    result = run("train", "--data", SHARED_NPZ, "--test-data", SHARED_NPZ, "--digits", 3000,
                 "--epochs", 2, "--hidden", 32, "--quiet", "--out", model, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and model.exists()
    net = load_model(model)
    assert net.sizes == [784, 32, 10] and net.record["data"]["digits"] == 3000
    result = run("evaluate", "--model", model, "--data", SHARED_NPZ, "--json", cwd=tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["accuracy"] == pytest.approx(net.record["test"]["accuracy"])
    assert report["accuracy"] > 0.6


def test_missing_model_is_a_one_line_error_not_a_traceback(tmp_path):
    result = run("evaluate", "--model", tmp_path / "none.npz", "--data", tmp_path / "x.csv")
    assert result.returncode == 1
    assert result.stderr.startswith("error: model file") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_data_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "digits.csv"
    bad.write_text("label,pixel0\n3,0\n")
    result = run("evaluate", "--data", bad)
    assert result.returncode == 1
    assert "has 2 columns; expected 785" in result.stderr and "Traceback" not in result.stderr


def test_predict_json_reads_the_shipped_test_image():
    result = run("predict", "--json", "--model", PRETRAINED, "test_image.png")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["image"] == "test_image.png" and line["digit"] == 7
    assert len(line["probabilities"]) == 10 and abs(sum(line["probabilities"]) - 1) < 1e-4
    assert line["confidence"] == max(line["probabilities"])


def test_predict_reports_each_bad_image_and_exits_non_zero(tmp_path):
    blank = tmp_path / "blank.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(blank), np.zeros((100, 100), np.uint8))
    result = run("predict", "--json", "--model", PRETRAINED, "test_image.png", blank, tmp_path / "gone.png")
    assert result.returncode == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["digit"] for x in lines] == [7, None, None]
    assert "no digit found" in lines[1]["error"] and "not found" in lines[2]["error"]


def test_learn_then_predict_gives_the_corrected_digit(tmp_path):
    model, samples = tmp_path / "mine.npz", tmp_path / "mine.csv"
    result = run("learn", ROOT / "test_image.png", "--label", "1", "--model", model, "--samples", samples)
    assert result.returncode == 0, result.stderr
    assert "before 7" in result.stdout and "after 1" in result.stdout
    result = run("predict", ROOT / "test_image.png", "--model", model, "--json")
    assert json.loads(result.stdout)["digit"] == 1


@pytest.mark.parametrize("label", ["a", "10", "-1", ""])
def test_learn_refuses_a_label_that_is_not_a_digit(tmp_path, label):
    result = run("learn", ROOT / "test_image.png", "--label", label, "--model", tmp_path / "m.npz")
    assert result.returncode == 1 and "is not a digit" in result.stderr
    assert not (tmp_path / "m.npz").exists()

"""The notebooks run top to bottom, headless, on a small sample (papermill injects the parameters)."""

import json

import pytest

from nn import load_model

from .conftest import ROOT, SHARED_NPZ

papermill = pytest.importorskip("papermill")


def execute(notebook, out, **parameters):
    papermill.execute_notebook(str(ROOT / notebook), str(out), parameters=parameters, cwd=str(ROOT),
                               kernel_name="python3", progress_bar=False, log_output=False)
    return json.loads(out.read_text())


def errors_in(notebook):
    return [o for c in notebook["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.slow
def test_train_model_notebook_runs_on_a_small_sample(mnist, tmp_path):
    model = tmp_path / "model.npz"
    notebook = execute("train_model.ipynb", tmp_path / "out.ipynb", TRAIN_DATA=str(SHARED_NPZ),
                       TEST_DATA=str(SHARED_NPZ), TRAIN_DIGITS=3000, EPOCHS=2,
                       LAYER_SIZES=[784, 64, 10], MODEL_PATH=str(model))
    assert errors_in(notebook) == []
    net = load_model(model)
    assert net.sizes == [784, 64, 10]
    assert net.record["data"]["digits"] == 3000 and net.record["test"]["accuracy"] > 0.6


@pytest.mark.slow
def test_test_model_notebook_predicts_headless_without_a_correction(tmp_path):
    notebook = execute("test_model.ipynb", tmp_path / "out.ipynb", MY_MODEL=str(tmp_path / "m.npz"),
                       MY_SAMPLES=str(tmp_path / "s.csv"))
    assert errors_in(notebook) == []
    assert "The network reads: 7" in text_of(notebook)
    assert not (tmp_path / "m.npz").exists(), "no correction, nothing saved"
    assert "No canvas above? " in text_of(notebook), "headless: the canvas cell points to the Paint path"


@pytest.mark.slow
def test_test_model_notebook_learns_a_correction_headless(tmp_path):
    notebook = execute("test_model.ipynb", tmp_path / "out.ipynb", MY_MODEL=str(tmp_path / "m.npz"),
                       MY_SAMPLES=str(tmp_path / "s.csv"), CORRECT_LABEL=1)
    assert errors_in(notebook) == []
    assert "The network reads: 1" in text_of(notebook)
    assert load_model(tmp_path / "m.npz").record["corrections"][0]["label"] == 1
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 2


def text_of(notebook):
    return "".join("".join(o.get("text", "")) for c in notebook["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))


def test_committed_notebooks_carry_no_mnist_digits():
    """Cells that draw or print MNIST digits are committed without outputs (users download MNIST)."""
    notebook = json.loads((ROOT / "train_model.ipynb").read_text())
    tagged = [c for c in notebook["cells"] if "shows-mnist" in c["metadata"].get("tags", [])]
    assert len(tagged) == 4
    assert all(c["outputs"] == [] for c in tagged)
    drawing_digits = [c for c in notebook["cells"] if c["cell_type"] == "code"
                      and ("show_digits" in "".join(c["source"]) or "plot_mistakes" in "".join(c["source"]))]
    assert all(c in tagged for c in drawing_digits)

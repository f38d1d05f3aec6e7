"""The arithmetic the benchmark reports rests on (no timing here: timing lives in benchmarks/ only)."""

import numpy as np

from benchmarks.compare import SIZES, time_to, training_flops_per_epoch


def test_time_to_a_target_sums_the_epochs_until_it_is_first_reached():
    seconds, accuracy = [1.0, 2.0, 4.0, 8.0], [0.90, 0.96, 0.94, 0.99]
    assert time_to(accuracy, seconds, 0.95) == 3.0
    assert time_to(accuracy, seconds, 0.99) == 15.0
    assert time_to(accuracy, seconds, 0.995) is None


def test_flops_count_forward_both_backward_products_and_skip_the_input_gradient():
    assert SIZES == [784, 128, 64, 10]
    products = 784 * 128 + 128 * 64 + 64 * 10
    # forward and dW for every layer; dA for every layer but the first (nobody needs dX)
    expected = 2 * 60000 * (2 * products + 128 * 64 + 64 * 10)
    assert training_flops_per_epoch() == expected


def test_calibration_writes_the_models_own_refusal_limits_and_nothing_else(tmp_path, mnist):
    """refusal_eval --calibrate N --write: the limits that depend on the network, and the weighing of what
    the two networks see, go into its record, where digits.one_digit finds them; the weights are
    untouched."""
    import shutil
    import subprocess
    import sys

    from digits import one_digit
    from digits.paths import shipped_model
    from nn import load_model

    from .conftest import ROOT

    model = tmp_path / "model.npz"
    shutil.copy(shipped_model(), model)
    result = subprocess.run([sys.executable, "benchmarks/refusal_eval.py", "--calibrate", "60", "--write",
                             "--model", str(model)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    before, after = load_model(shipped_model()), load_model(model)
    assert after.flat.tobytes() == before.flat.tobytes()
    limits = after.record["one_digit"]
    assert set(limits) == {"score", "agreement", "steadiness", "weighing", "calibrated_on"}
    assert 0 < limits["score"] < 20 and 0 < limits["agreement"] < 1 and 0 < limits["steadiness"] <= 1
    weighing = limits["weighing"]
    assert one_digit.weighing_of(after) == weighing
    score, _, _, odds = weighing["weights"]
    assert score < 0 and odds < 0          # a higher score, likelier a digit to the second network: a digit
    assert 0 < weighing["mean"][0] < 30 and abs(weighing["limit"]) < 100
    assert all(np.isfinite(weighing[k]).all() for k in ("mean", "scale", "weights", "bias", "limit"))


def test_the_readmes_learning_table_is_the_committed_evaluation():
    """The README's next-drawing numbers are those of benchmarks/results/styles_*.json, the run whose
    settings are the ones a correction uses now (a change of rule must come with a new run)."""
    import json
    import re

    from digits.learn import LearnSettings

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    row = re.search(r"\| next drawings of that style read right, mean over styles \|(.*)\|", readme).group(1)
    cells = [float(x.strip(" *%")) for x in row.split("|")]
    for arch, (k1, k3) in (("mlp", cells[1:3]), ("cnn", cells[4:6])):
        report = json.loads((ROOT / "benchmarks" / "results" / f"styles_mnist_{arch}.json").read_text())
        assert report["settings"] == json.loads(json.dumps(LearnSettings().record()))
        assert (k1, k3) == (round(100 * report["k=1"]["next drawings mean"], 1),
                            round(100 * report["k=3"]["next drawings mean"], 1))
    worst = re.search(r"\| worst style \|(.*)\|", readme).group(1).split("|")
    for arch, cells in (("mlp", worst[1:3]), ("cnn", worst[4:6])):
        report = json.loads((ROOT / "benchmarks" / "results" / f"styles_mnist_{arch}.json").read_text())
        for k, cell in zip(("k=1", "k=3"), cells, strict=True):
            per_style = report[k]["per style"]
            name = min(per_style, key=per_style.get)
            assert cell.strip() == f"{100 * per_style[name]:.0f}% ({name})"


def test_adams_in_place_step_is_its_formula_bit_for_bit():
    """The speed trick is the same maths: a few steps of the in-place Adam and of its formula written out
    leave the same weights, to the last bit (benchmarks/speed_tricks.py times the two)."""
    import numpy as np

    from benchmarks.speed_tricks import FormulaAdam
    from nn.layers import one_hot
    from nn.network import Network, mlp
    from nn.optim import Adam

    rng = np.random.default_rng(0)
    X, Y = rng.random((32, 20), dtype=np.float32), one_hot(rng.integers(0, 10, 32), 10)
    weights = []
    for optimizer_class in (Adam, FormulaAdam):
        net = Network(mlp([20, 16, 10]), input_shape=(20,), seed=0)
        decayed = [p for k, p in net.params.items() if k.startswith("W")]
        optimizer = optimizer_class(net.flat, net.flat_grad, weight_decay=0.01, decayed=decayed)
        for _ in range(5):
            net.gradients(X, Y, training=True)
            optimizer.step(1e-2)
        weights.append(net.flat.copy())
    assert not np.array_equal(weights[0], Network(mlp([20, 16, 10]), input_shape=(20,), seed=0).flat)
    assert np.array_equal(weights[0], weights[1])


def test_the_readmes_handwriting_table_is_the_committed_evaluation():
    """The README's handwriting table is the committed run's, row for row: drawings, writers, both
    networks' shares read right and refused, and the worst writers (handwriting_eval.py --markdown)."""
    import json

    from benchmarks.handwriting_eval import markdown

    from .conftest import ROOT

    report = json.loads((ROOT / "benchmarks" / "results" / "handwriting.json").read_text())
    table = markdown(report)
    assert table.count("\n") == len(report["networks"]["mlp"]["rows"]) + 3
    assert table in (ROOT / "README.md").read_text()


def test_the_handwriting_writers_draw_the_same_readable_digits_every_time():
    """Four writers of the evaluation, drawn twice: the same drawings both times, and the shipped networks
    read most of their usual shapes (about 90% the dense one, 84% the convolutional one; a broken
    generator, e.g. one that lost the ink's polarity, reads near 10%). The hard shapes are what the
    evaluation is for."""
    import numpy as np

    from benchmarks.handwriting_eval import drawings, person, read
    from digits.paths import shipped_model
    from nn.persist import load_model

    sets = []
    for seed in range(4):
        made, labels, names = drawings(person(seed), seed, 2)
        again, _, _ = drawings(person(seed), seed, 2)
        pairs = zip(made, again, strict=True)
        assert all(a is b is None or np.array_equal(a.image, b.image) for a, b in pairs)
        sets.append((made, labels, np.array([name.endswith("usual") for name in names])))
    for arch in ("mlp", "cnn"):
        net = load_model(shipped_model(arch))
        right = np.concatenate([read(net, made, labels)[0][usual] for made, labels, usual in sets])
        assert right.mean() >= 0.75, (arch, right.mean())


def test_the_readmes_not_a_digit_rows_are_the_committed_evaluation():
    """The README's rows for the not-a-digit network as trained now (gate_eval.py) are the committed run's."""
    import json

    from .conftest import ROOT

    report = json.loads((ROOT / "benchmarks" / "results" / "gate.json").read_text())
    readme = (ROOT / "README.md").read_text()
    before = json.loads((ROOT / "benchmarks" / "results" / "gate_before.json").read_text())
    held_out = "candidate (this code, MNIST's last 5,000 held out)"
    rows = {"trained without the held-out digits, this session's drawings": report[held_out],
            "shipped now (this session's drawings, trained on all digits)": report["shipped gate"],
            "trained without the held-out digits, drawings before this session": before[held_out]}
    for name, r in rows.items():
        shares = [r[k]["flagged"] for k in ("digits", "benchmark letters", "benchmark shapes",
                                            "benchmark scribbles")]
        assert f"| {name} | " + " | ".join(f"{v:.1%}" for v in shares) + " |" in readme, name


def test_refusal_eval_names_every_reason_one_digit_gives(monkeypatch):
    """Each limit, alone beyond, gives a message that refusal_eval counts under that limit's name (a
    reworded message would otherwise drop out of the reasons table unnoticed)."""
    from types import SimpleNamespace

    from benchmarks.refusal_eval import reason_names
    from digits import one_digit

    within = {"tones": 0.0, "side_by_side": 1, "width": 0.8, "inside_loops": 0, "marks": 1, "inked": 0.15,
              "holes": 1, "pieces": 1, "score": 10.0, "agreement": 0.5, "steadiness": 0.9, "digit_odds": 5.0}
    assert set(within) == set(one_digit.LIMITS)
    unweighed = SimpleNamespace(record={"one_digit": {"score": one_digit.LIMITS["score"]}})   # limits only
    for key, limit in one_digit.LIMITS.items():
        beyond = limit - 1 if key in one_digit.LOW else limit + 1
        monkeypatch.setattr(one_digit, "evidence", lambda drawing, net, e={**within, key: beyond}: e)
        message = one_digit.doubt(None, unweighed)
        assert reason_names(message) == [key.replace("_", " ")], (key, message)
    # and the weighing alone (a made-up one, certain to refuse, whose biggest push is never the odds)
    monkeypatch.setattr(one_digit, "evidence", lambda drawing, net: within)
    monkeypatch.setattr(one_digit, "WEIGHING", {"mean": [0.0] * 4, "scale": [1.0] * 4,
                                                "weights": [0.0, 0.0, -1.0, 0.0], "bias": 0.0, "limit": -1e9})
    message = one_digit.doubt(None, SimpleNamespace(record=None))
    assert reason_names(message) == ["weighed"], message


def test_the_readmes_refusal_table_is_the_committed_evaluation():
    """Each kind's row of the README's refusal table holds both networks' committed runs (refusal_eval.py)."""
    import json

    from .conftest import ROOT

    results = ROOT / "benchmarks" / "results"
    dense, cnn = (json.loads((results / f"{name}.json").read_text())["groups"]
                  for name in ("refusals", "refusals_cnn"))
    readme = (ROOT / "README.md").read_text().replace("**", "")
    assert dense.keys() == cnn.keys()
    for kind in dense:
        a, b = dense[kind], cnn[kind]
        row = f"| {a['n']:,} | {a['refused']:.2%} | {b['n']:,} | {b['refused']:.2%} |"
        assert row in readme, (kind, row)


def test_the_readmes_weighing_numbers_are_the_committed_evaluation():
    """The README's held-out comparison of the limits alone and with the weighing is weighing_eval.py's run
    for both shipped models (results/weighing_mnist_*.json)."""
    import json

    from .conftest import ROOT

    dense, cnn = (json.loads((ROOT / "benchmarks" / "results" / f"weighing_mnist_{arch}.json").read_text())
                  ["refused"] for arch in ("mlp", "cnn"))
    for run in (dense, cnn):     # no more held-out digits refused with the weighing than without
        assert run["held-out digits"]["with the weighing"] <= run["held-out digits"]["limits alone"]

    def pct(run, kind, key="with the weighing"):
        return f"{run[kind][key]:.1%}"

    for kind in ("letters", "shapes"):           # the sentence gives one "before" for both networks
        assert pct(dense, kind, "limits alone") == pct(cnn, kind, "limits alone")
    sentence = (f"letters {pct(dense, 'letters', 'limits alone')} to {pct(dense, 'letters')} (dense) and "
                f"{pct(cnn, 'letters')} (convolutional), scribbles {pct(dense, 'scribbles', 'limits alone')} "
                f"to {pct(dense, 'scribbles')} and {pct(cnn, 'scribbles', 'limits alone')} to "
                f"{pct(cnn, 'scribbles')}, shapes {pct(dense, 'shapes', 'limits alone')} to "
                f"{pct(dense, 'shapes')} and {pct(cnn, 'shapes')}, "
                f"noise {pct(dense, 'noise', 'limits alone')} to {pct(dense, 'noise')} (dense)")
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert sentence in readme, sentence

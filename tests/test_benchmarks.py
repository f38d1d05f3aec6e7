"""The arithmetic the benchmark reports rests on (no timing here: timing lives in benchmarks/ only)."""

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
    """refusal_eval --calibrate N --write: the limits that depend on the network go into its record,
    where nn.one_digit finds them; the weights are untouched."""
    import shutil
    import subprocess
    import sys

    from nn import load_model
    from nn.paths import shipped_model

    from .conftest import ROOT

    model = tmp_path / "model.npz"
    shutil.copy(shipped_model(), model)
    result = subprocess.run([sys.executable, "benchmarks/refusal_eval.py", "--calibrate", "60", "--write",
                             "--model", str(model)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    before, after = load_model(shipped_model()), load_model(model)
    assert after.flat.tobytes() == before.flat.tobytes()
    limits = after.record["one_digit"]
    assert set(limits) == {"score", "agreement", "steadiness", "calibrated_on"}
    assert 0 < limits["score"] < 20 and 0 < limits["agreement"] < 1 and 0 < limits["steadiness"] <= 1

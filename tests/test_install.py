"""A non-editable `pip install .` works away from the checkout: the command finds the shipped model, and
writes the user's files in the folder it is run from, never inside site-packages."""

import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from digits.paths import shipped_model

from .conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the project installed from a wheel (no editable link back to the checkout).

    The dependencies come from the test's own environment through a .pth file, so this needs no network.
    """
    where = tmp_path_factory.mktemp("install")
    wheels = where / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), str(ROOT)], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{build.stderr[-2000:]}")
    env_dir = where / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(f"{purelib}/deps.pth", "w") as f:
        f.write("\n".join(site.getsitepackages()) + "\n")
    wheel = next(wheels.glob("*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", str(wheel)], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.fail(f"installing the wheel failed:\n{install.stderr[-2000:]}")
    return env_dir


def test_installed_command_reads_a_drawing_from_a_folder_outside_the_repo(installed, tmp_path):
    image = tmp_path / "my_drawing.png"
    image.write_bytes((ROOT / "test_image.png").read_bytes())
    run = subprocess.run([str(installed / "bin" / "digits"), "predict", "--json", image.name],
                         cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert '"digit": 7' in run.stdout


def test_installed_package_keeps_user_files_in_the_working_folder(installed, tmp_path):
    code = ("import digits.paths as p; print(p.PACKAGE); print(p.HOME); "
            "print(p.user_model(p.shipped_model())); print(p.shipped_model()); print(p.not_a_digit_model())")
    run = subprocess.run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin"})
    package, home, user_model, shipped, gate = run.stdout.split()
    assert not package.startswith(str(ROOT)), "the installed copy is used, not the checkout"
    assert home == str(tmp_path) and user_model == str(tmp_path / "models" / "user_mnist_mlp.npz")
    assert shipped.startswith(str(installed))
    assert Path(shipped).read_bytes() == shipped_model().read_bytes()
    assert gate.startswith(str(installed)) and Path(gate).name == "not_a_digit.npz", "the gate ships too"


def test_a_correction_with_the_installed_command_writes_in_the_working_folder(installed, tmp_path):
    image = tmp_path / "one.png"
    image.write_bytes((ROOT / "docs" / "examples" / "one_with_a_long_flag.png").read_bytes())
    run = subprocess.run([str(installed / "bin" / "digits"), "learn", image.name, "--label", "1"],
                         cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "models" / "user_mnist_mlp.npz").is_file()
    assert (tmp_path / "data" / "user_samples.csv").is_file()

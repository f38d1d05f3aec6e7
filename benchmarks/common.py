"""What every benchmark shares: the machine it ran on, its matrix-multiply peak, the peak memory of a
process, and one way to write results (JSON in benchmarks/results/, with the machine named)."""

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def machine():
    """The CPU, its cores, Python, numpy (and torch where installed) and the BLAS numpy uses."""
    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    versions = {"numpy": np.__version__}
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), **versions,
            "blas": [(i["internal_api"], i.get("version"), i.get("architecture")) for i in threadpool_info()
                     if i["user_api"] == "blas"]}


def matmul_peak_gflops(threads, n=2048, repeats=10):
    """The machine's float32 matrix-multiply speed (BLAS sgemm, n x n, the best of `repeats`), with
    `threads` BLAS threads (None: all): the most any training step made of matrix multiplies can reach."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def vm_hwm_mb():
    """This process's peak resident memory so far (Linux's VmHWM), in MB; NaN elsewhere."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def add_correction_options(parser, results):
    """The options of both evaluations of learning from corrections: the model, LearnSettings to change,
    and where to write (default benchmarks/results/<results>_<model>.json)."""
    from digits.paths import shipped_model

    parser.add_argument("--model", type=Path, default=shipped_model())
    parser.add_argument("--settings", type=json.loads, default={},
                        help='LearnSettings to change, as JSON, e.g. \'{"learning_rate": 3e-4}\'')
    parser.add_argument("--out", type=Path, help=f"default: benchmarks/results/{results}_<model>.json")


def write_report(path, report):
    """Write a benchmark's results as JSON, with the machine they were measured on (this one, unless the
    report already names it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    named = report if "machine" in report else {"machine": machine(), **report}
    path.write_text(json.dumps(named, indent=2) + "\n")

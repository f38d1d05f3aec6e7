"""Speed and memory of the project's trainer next to PyTorch, scikit-learn and the naive approach.

    python benchmarks/compare.py [--epochs 5] [--rounds 3] [--quick]

Same data (MNIST, 60,000 training digits as float32 in [0, 1]), same architecture (784-128-64-10,
ReLU, softmax), same batch size (128), optimiser (Adam, lr 1e-3, no weight decay) and number of epochs
for every trainer; no distortions (the peers have none). The runs are interleaved, A B C A B C ..., in
one process, so a slow moment of the machine hits them all alike. Reported for each: seconds per epoch
(median over all epochs of all rounds), seconds to reach 98% test accuracy, final accuracy, peak memory
(each in a child process of its own), and the project's ratios to each peer. Also: achieved GFLOP/s of
the training step against this machine's measured float32 matrix-multiply peak, prediction latency and
throughput, loading the 60,000-line CSV, and the trainer with another process keeping one core busy.

PyTorch is optional (`pip install torch`, the CPU build); it is skipped with a message where absent.
Needs MNIST: ../shared/data/mnist.npz on development machines, else data/mnist_*.csv.
Timing is for this file only; tests never depend on it.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, matmul_peak_gflops, write_report  # noqa: E402
from benchmarks.mnist import SHARED, mnist, source  # noqa: E402
from digits.data import load_digits, save_csv  # noqa: E402
from digits.paths import shipped_model  # noqa: E402
from digits.preprocess import preprocess  # noqa: E402
from digits.training import Settings, train_network  # noqa: E402
from nn.network import Network, mlp, scale_pixels  # noqa: E402
from nn.persist import load_model  # noqa: E402
from nn.train import accuracy as train_accuracy  # noqa: E402

SIZES = [784, 128, 64, 10]
BATCH, LR = 128, 1e-3
def mnist_both():
    """(train images uint8, train labels, test images, test labels), or None."""
    train, test = mnist("train"), mnist("test")
    return None if train is None or test is None else (*train, *test)


# --- the trainers: each runs `epochs` epochs and returns (seconds per epoch, test accuracy per epoch) --

def run_ours(data, epochs, seed, threads=1):
    x, y, xt, yt = data
    net = Network(mlp(SIZES), seed=seed)
    settings = Settings(epochs=epochs, batch_size=BATCH, learning_rate=LR, schedule="constant",
                        augment=False, seed=seed, threads=threads)
    history = train_network(net, x, y, settings, (xt, yt), progress=False)
    return history.seconds, history.validation_accuracy


def run_torch(data, epochs, seed, threads=1):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    x, y, xt, yt = (torch.from_numpy(scale_pixels(data[0])), torch.from_numpy(data[1].astype(np.int64)),
                    torch.from_numpy(scale_pixels(data[2])), data[3])
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    seconds, accuracy = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), BATCH):
            batch = order[i:i + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            accuracy.append(float(np.mean(model(xt).argmax(1).numpy() == yt)))
    return seconds, accuracy


def run_sklearn(data, epochs, seed, threads=1):
    from sklearn.neural_network import MLPClassifier

    x, y, xt, yt = scale_pixels(data[0]), data[1], scale_pixels(data[2]), data[3]
    model = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], batch_size=BATCH, solver="adam",
                          learning_rate_init=LR, alpha=0.0, shuffle=True, random_state=seed)
    seconds, accuracy = [], []
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(epochs):
            start = time.perf_counter()
            model.partial_fit(x, y, classes=np.arange(10))
            seconds.append(time.perf_counter() - start)
            accuracy.append(float(np.mean(model.predict(xt) == yt)))
    return seconds, accuracy


def run_naive(data, seconds_budget, seed, target=0.95, lr=0.1):
    """Full-batch gradient descent in float64 over all 60,000 digits, as the project began.

    Returns (seconds per iteration, seconds to reach `target` or None, accuracy reached, iterations).
    """
    x, y, xt, yt = scale_pixels(data[0], np.float64), data[1], scale_pixels(data[2], np.float64), data[3]
    from nn.layers import one_hot

    net = Network(mlp(SIZES), seed=seed, dtype=np.float64)
    Y = one_hot(y, dtype=np.float64)
    start, times, reached, accuracy = time.perf_counter(), [], None, 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        while time.perf_counter() - start < seconds_budget:
            tick = time.perf_counter()
            net.gradients(x, Y)
            net.flat -= lr * net.flat_grad
            times.append(time.perf_counter() - tick)
            if len(times) % 10 == 0:
                accuracy = train_accuracy(net.predict_proba(xt), yt)
                if accuracy >= target:
                    reached = sum(times)
                    break
    return float(np.median(times)), reached, accuracy, len(times)


TRAINERS = {"ours": run_ours, "pytorch": run_torch, "scikit-learn": run_sklearn}


def available():
    names = ["ours", "scikit-learn"]
    try:
        import torch  # noqa: F401

        names.insert(1, "pytorch")
    except ImportError:
        print("PyTorch not installed: skipping it (pip install torch, the CPU build, to include it)")
    return names


def time_to(accuracy, seconds, target):
    """Training seconds until the test accuracy first reached target (None if it never did)."""
    for i, a in enumerate(accuracy):
        if a >= target:
            return float(sum(seconds[:i + 1]))
    return None


# --- peak memory, in a child process per trainer ---------------------------------------------------
# VmHWM is the process's own peak resident memory; unlike ru_maxrss it does not carry over the
# parent's peak into a child started with fork/exec.

def peak_memory_mb(name, epochs=1):
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from benchmarks.common import vm_hwm_mb; from benchmarks.compare import mnist_both, TRAINERS; "
            "data = mnist_both(); "
            f"base = vm_hwm_mb(); TRAINERS[{name!r}](data, {epochs}, 0); print(base, vm_hwm_mb())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    base, peak = map(float, out.split()[-2:])
    return {"process_mb": peak, "training_mb": peak - base}


def full_run_memory_mb(epochs=2):
    """Peak memory of `python -m digits train` with the shipped recipe (memory does not grow with epochs)."""
    with tempfile.TemporaryDirectory() as folder:
        args = ["train", "--data", str(source("train")), "--test-data", str(source("test")),
                "--epochs", str(epochs), "--quiet", "--out", str(Path(folder) / "m.npz")]
        code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                "from benchmarks.common import vm_hwm_mb\nfrom digits.cli import main\n"
                f"status = main({args!r})\nprint(status, vm_hwm_mb())")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=ROOT)
    status, peak = out.stdout.split()[-2:]
    assert status == "0", out.stderr
    return float(peak)


# --- the machine's limit, and how close the training step gets to it -------------------------------

def matmul_floor_seconds_per_epoch(m=60000, repeats=200):
    """Time of only the matrix multiplies of one epoch's training steps (1 thread): the floor."""
    rng = np.random.default_rng(0)
    W = [rng.random((a, b), np.float32) for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    A = [rng.random((BATCH, n), np.float32) for n in SIZES]
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        for _ in range(repeats):
            for l, w in enumerate(W):
                A[l] @ w                                  # forward
                A[l].T @ A[l + 1]                         # dW
                if l:
                    A[l + 1] @ w.T                        # dA for the layer below
        per_step = (time.perf_counter() - start) / repeats
    return per_step * -(-m // BATCH)


def forward_one_image_us(net, repeats=3000):
    one = np.random.default_rng(0).random((1, 784), np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(100):
            net.forward(one)
        ticks = []
        for _ in range(repeats):
            start = time.perf_counter()
            net.forward(one)
            ticks.append(time.perf_counter() - start)
    return float(np.median(ticks)) * 1e6


def training_flops_per_epoch(m=60000):
    """Multiply-adds x 2 of one epoch: forward, dW for every layer, dA for every layer but the first."""
    products = [a * b for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    return 2 * m * (2 * sum(products) + sum(products[1:]))


# --- prediction and data loading -------------------------------------------------------------------

def prediction_numbers(test_images):
    net = load_model(shipped_model())
    with threadpool_limits(limits=1, user_api="blas"):
        X = scale_pixels(test_images)
        start = time.perf_counter()
        net.predict_proba(X)
        batch_seconds = time.perf_counter() - start
        ends = []
        for _ in range(50):
            start = time.perf_counter()
            net.forward(scale_pixels(preprocess(ROOT / "test_image.png").image[None]))
            ends.append(time.perf_counter() - start)
    return {"forward_one_image_us": forward_one_image_us(Network(mlp(SIZES))),
            "forward_one_image_shipped_us": forward_one_image_us(net),
            "drawing_end_to_end_ms": float(np.median(ends)) * 1e3,
            "batch_digits_per_second": len(X) / batch_seconds}


def loading_numbers(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mnist_train.csv"
        save_csv(path, data[0], data[1])
        start = time.perf_counter()
        load_digits(path)
        first = time.perf_counter() - start
        again = []
        for _ in range(3):
            start = time.perf_counter()
            load_digits(path)
            again.append(time.perf_counter() - start)
    return {"csv_first_load_s": first, "csv_repeat_load_s": float(np.median(again))}


# --- a competing process --------------------------------------------------------------------------

def under_load(data, epochs, threads):
    """Our epoch time while another process keeps one core busy."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        seconds, _ = run_ours(data, epochs, 0, threads)
    finally:
        busy.kill()
        busy.wait()
    return float(np.median(seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--naive-seconds", type=float, default=120, help="time budget for the naive run")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 epochs, short naive run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "compare.json")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.rounds, args.naive_seconds = 2, 1, 20
    data = mnist_both()
    if data is None:
        print(f"skipped: no MNIST found at {SHARED} or data/mnist_*.csv")
        return 0
    names = available()
    runs = {name: {"seconds": [], "accuracy": []} for name in names}
    for round_ in range(args.rounds):
        for name in names:                                   # interleaved: A B C, A B C, ...
            seconds, accuracy = TRAINERS[name](data, args.epochs, seed=round_)
            runs[name]["seconds"].append(seconds)
            runs[name]["accuracy"].append(accuracy)
            print(f"round {round_ + 1}: {name:13} {np.median(seconds):.3f} s/epoch, "
                  f"final accuracy {accuracy[-1]:.2%}", flush=True)
    report = {"machine": machine(), "settings": {"sizes": SIZES, "batch": BATCH, "optimizer": "adam",
                                                  "lr": LR, "epochs": args.epochs, "rounds": args.rounds}}
    report["trainers"] = summarise(runs, names)
    naive = run_naive(data, args.naive_seconds, seed=0)
    report["naive"] = {"seconds_per_iteration": naive[0], "seconds_to_95": naive[1],
                       "accuracy_reached": naive[2], "iterations": naive[3], "budget_s": args.naive_seconds}
    ours_to_95 = float(np.median([time_to(a, s, 0.95) or np.nan for s, a in
                                  zip(runs["ours"]["seconds"], runs["ours"]["accuracy"], strict=True)]))
    report["naive"]["ours_seconds_to_95"] = ours_to_95
    report["naive"]["speedup_to_95"] = (naive[1] or args.naive_seconds) / ours_to_95
    report["naive"]["speedup_is_lower_bound"] = naive[1] is None
    for name in names:
        report["trainers"][name]["memory"] = peak_memory_mb(name)
    report["full_run_peak_mb"] = full_run_memory_mb()
    report["peak_gflops"] = {"1 thread": matmul_peak_gflops(1), "all cores": matmul_peak_gflops(None)}
    epoch = report["trainers"]["ours"]["seconds_per_epoch"]
    report["ours_gflops"] = training_flops_per_epoch() / epoch / 1e9
    report["matmul_floor_s_per_epoch"] = matmul_floor_seconds_per_epoch()
    report["prediction"] = prediction_numbers(data[2])
    report["loading"] = loading_numbers(data)
    report["under_load"] = {f"{t} thread{'s' * (t > 1)}": under_load(data, 2, t) for t in (1, 2)}
    report["quiet_2_threads"] = float(np.median(run_ours(data, 2, 0, threads=2)[0]))
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, report)
    return 0


def summarise(runs, names):
    out = {}
    for name in names:
        seconds, accuracy = runs[name]["seconds"], runs[name]["accuracy"]
        out[name] = {"seconds_per_epoch": float(np.median(np.concatenate(seconds))),
                     "final_accuracy": float(np.median([a[-1] for a in accuracy]))}
        for target in (0.97, 0.98):
            times = [time_to(a, s, target) for s, a in zip(seconds, accuracy, strict=True)]
            median = None if None in times else float(np.median(times))
            out[name][f"seconds_to_{round(target * 100)}"] = median
    return out


def print_report(r):
    t = r["trainers"]
    ours = t["ours"]
    print(f"\n{r['machine']['cpu']}, {r['machine']['cores']} cores; numpy {r['machine']['numpy']}; "
          f"784-128-64-10, batch {BATCH}, Adam lr {LR}, {r['settings']['epochs']} epochs x "
          f"{r['settings']['rounds']} rounds, interleaved\n")
    print(f"{'trainer':14} {'s/epoch':>8} {'ours/peer':>10} {'s to 97%':>9} {'s to 98%':>9} "
          f"{'final acc':>10} {'peak MB (process / training)':>30}")
    for name, x in t.items():
        ratio = ours["seconds_per_epoch"] / x["seconds_per_epoch"]
        to = {k: f"{x[k]:.2f}" if x[k] is not None else "not yet" for k in ("seconds_to_97", "seconds_to_98")}
        mem = x["memory"]
        print(f"{name:14} {x['seconds_per_epoch']:>8.3f} {ratio:>9.2f}x {to['seconds_to_97']:>9} "
              f"{to['seconds_to_98']:>9} {x['final_accuracy']:>10.2%} {mem['process_mb']:>17.0f} / "
              f"{mem['training_mb']:.0f}")
    n = r["naive"]
    bound = ">= " if n["speedup_is_lower_bound"] else ""
    reached = f"95% after {n['seconds_to_95']:.0f} s" if n["seconds_to_95"] \
        else f"not 95% within {n['budget_s']:.0f} s"
    print(f"naive full-batch float64: {n['seconds_per_iteration']:.2f} s per iteration; "
          f"{n['iterations']} iterations reached {n['accuracy_reached']:.2%} ({reached}); "
          f"ours reaches 95% in {n['ours_seconds_to_95']:.2f} s: {bound}{n['speedup_to_95']:.0f}x faster")
    peak = r["peak_gflops"]
    share_1, share_all = r["ours_gflops"] / peak["1 thread"], r["ours_gflops"] / peak["all cores"]
    floor = r["matmul_floor_s_per_epoch"]
    print(f"training step: {r['ours_gflops']:.0f} GFLOP/s; float32 matmul peak {peak['1 thread']:.0f} "
          f"(1 thread), {peak['all cores']:.0f} (all cores): {share_1:.0%} of the 1-thread peak it "
          f"runs on, {share_all:.0%} of the machine's.\n  What limits it: the step's own matrix "
          f"multiplies alone, at these shapes, take {floor:.3f} s per epoch "
          f"({training_flops_per_epoch() / floor / 1e9:.0f} GFLOP/s); the whole step takes "
          f"{ours['seconds_per_epoch']:.3f} s ({floor / ours['seconds_per_epoch']:.0%} of it in them)")
    p = r["prediction"]
    print(f"prediction: forward pass for one image {p['forward_one_image_us']:.0f} µs (784-128-64-10), "
          f"{p['forward_one_image_shipped_us']:.0f} µs (shipped 784-512-512-10); drawing end to end "
          f"{p['drawing_end_to_end_ms']:.2f} ms; batch {p['batch_digits_per_second']:,.0f} digits/s")
    ld = r["loading"]
    print(f"loading the 60,000-line CSV: {ld['csv_first_load_s']:.2f} s the first time, "
          f"{ld['csv_repeat_load_s']:.2f} s after (cache)")
    print(f"full training run (shipped recipe) peak memory: {r['full_run_peak_mb']:.0f} MB")
    u = r["under_load"]
    print(f"one core busy with another process: {u['1 thread']:.3f} s/epoch with 1 BLAS thread, "
          f"{u['2 threads']:.3f} s with 2 (quiet: {ours['seconds_per_epoch']:.3f} with 1, "
          f"{r['quiet_2_threads']:.3f} with 2)")


if __name__ == "__main__":
    sys.exit(main())

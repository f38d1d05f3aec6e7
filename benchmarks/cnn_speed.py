"""Speed of a training step of the convolutional network: our numpy layers next to PyTorch's CPU.

    python benchmarks/cnn_speed.py [--steps 50] [--arch ship padded issue] [--threads 1 2] [--quick]

Same network (nn/conv.py's layers, rebuilt as torch.nn modules), same batch (128 MNIST digits as
float32 in [0, 1], no distortions), same optimiser (Adam, lr 1e-3). Training steps are timed one by
one, ours and torch interleaved in blocks of 5 (ours, torch, ours, torch ...) in one process, so a
busy moment of the shared machine hits both alike; medians are reported. All 1-thread runs come
before the 2-thread runs, because the idle worker threads of a 2-thread run keep spinning for a while
and would slow what follows. For each: seconds per step, projected seconds per 60,000-digit epoch
(469 steps), the ratio ours / torch, and GFLOP/s. Then each conv layer alone, forward + backward,
ours against torch, with the share of ours spent in its matrix multiplies and how fast those run
against this machine's float32 matrix-multiply peak: what limits it. Each architecture's entry in
the results file is replaced when it is measured again; the others are kept.

PyTorch is optional (`pip install torch`, the CPU build); it is skipped with a message where absent.
Timing is for this file only; tests never depend on it.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, matmul_peak_gflops, write_report  # noqa: E402
from benchmarks.mnist import SHARED, mnist  # noqa: E402
from nn.conv import INPUT_SHAPE, Conv2D, Flatten, MaxPool2D, cnn  # noqa: E402
from nn.layers import Dense, ReLU, one_hot  # noqa: E402
from nn.network import Network, scale_pixels  # noqa: E402
from nn.optim import Adam  # noqa: E402

BATCH, LR, BLOCK = 128, 1e-3, 5
STEPS_PER_EPOCH = -(-60000 // BATCH)

ARCHS = {
    # what nn/conv.py ships: 5x5 conv 32 -> 5x5 conv 64 -> dense 256, no padding (28 -> 24 -> 12 -> 8 -> 4)
    "ship": cnn,
    # the same with "same" padding (28 -> 28 -> 14 -> 14 -> 7): 2.9 times the work per step
    "padded": lambda: [Conv2D(1, 32, 5, padding=2), MaxPool2D(2), ReLU(), Conv2D(32, 64, 5, padding=2),
                       MaxPool2D(2), ReLU(), Flatten(), Dense(7 * 7 * 64, 256), ReLU(), Dense(256, 10)],
    # the reference measurement: 5x5 conv 16 -> 5x5 conv 32 -> dense 128, padded
    "issue": lambda: [Conv2D(1, 16, 5, padding=2), MaxPool2D(2), ReLU(), Conv2D(16, 32, 5, padding=2),
                      MaxPool2D(2), ReLU(), Flatten(), Dense(7 * 7 * 32, 128), ReLU(), Dense(128, 10)],
}


def batches(steps):
    """`steps` batches (X (128, 784) float32, Y one-hot): MNIST training digits, else random pixels."""
    train = mnist("train")
    if train is not None:
        x, y = train[0][:steps * BATCH], train[1][:steps * BATCH]
        source = "MNIST training digits"
    else:
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (steps * BATCH, 784), np.uint8), rng.integers(0, 10, steps * BATCH)
        source = f"random pixels (no MNIST at {SHARED} or data/mnist_train.csv)"
    X, Y = scale_pixels(x), one_hot(y)
    return [(X[i:i + BATCH], Y[i:i + BATCH]) for i in range(0, len(X), BATCH)], source


# --- counting the work -------------------------------------------------------------------------------

def layer_flops(layers, m=BATCH):
    """[(layer, forward + backward FLOPs)] for the layers with a matrix multiply; 1 multiply-add = 2.

    Conv2D: forward 2 M K N with M = m Ho Wo, K = k k c_in, N = c_out; dW the same; dX the same again
    unless it is the first layer (nobody needs the image's gradient). Dense likewise with M = m.
    """
    out, shape = [], INPUT_SHAPE
    for number, layer in enumerate(layers):
        out_shape = layer.output_shape(shape)
        if isinstance(layer, Conv2D):
            one = 2 * m * out_shape[0] * out_shape[1] * layer.kernel ** 2 * layer.c_in * layer.c_out
        elif isinstance(layer, Dense):
            one = 2 * m * layer.n_in * layer.n_out
        else:
            one = 0
        if one:
            out.append((layer, one * (2 if number == 0 else 3)))
        shape = out_shape
    return out


def _seconds(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


# --- the two trainers ---------------------------------------------------------------------------------

class Ours:
    name = "ours"

    def __init__(self, make_layers):
        self.net = Network(make_layers(), input_shape=INPUT_SHAPE, seed=0)
        self.optimizer = Adam(self.net.flat, self.net.flat_grad)
        self.conv_seconds = 0.0
        for layer in self.net.layers:                 # time the conv layers inside the real step
            if isinstance(layer, Conv2D):
                self._clock(layer)

    def _clock(self, layer):
        forward, backward = layer.forward, layer.backward

        def timed_forward(X, training=False):
            start = time.perf_counter()
            Z = forward(X, training)
            self.conv_seconds += time.perf_counter() - start
            return Z

        def timed_backward(dZ):
            start = time.perf_counter()
            dX = backward(dZ)
            self.conv_seconds += time.perf_counter() - start
            return dX

        layer.forward, layer.backward = timed_forward, timed_backward

    def threads(self, n):
        return threadpool_limits(limits=n, user_api="blas")

    def step(self, X, Y):
        self.net.gradients(X, Y, training=True)
        self.optimizer.step(LR)


class Torch:
    name = "torch"

    def __init__(self, make_layers):
        import torch

        self.torch = torch
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(*[self._module(layer) for layer in make_layers()])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loss = torch.nn.CrossEntropyLoss()

    def _module(self, layer):
        nn = self.torch.nn
        if isinstance(layer, Conv2D):
            return nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, padding=layer.padding)
        if isinstance(layer, MaxPool2D):
            return nn.MaxPool2d(layer.size)
        if isinstance(layer, Dense):
            return nn.Linear(layer.n_in, layer.n_out)
        return {ReLU: nn.ReLU, Flatten: nn.Flatten}[type(layer)]()

    def threads(self, n):
        torch = self.torch

        class Threads:
            def __enter__(self):
                self.before = torch.get_num_threads()
                torch.set_num_threads(n)

            def __exit__(self, *exc):
                torch.set_num_threads(self.before)

        return Threads()

    def step(self, X, Y):
        torch = self.torch
        x = torch.from_numpy(X).reshape(len(X), 1, 28, 28)      # PyTorch's own layout, NCHW
        y = torch.from_numpy(Y.argmax(1))
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(x), y).backward()
        self.optimizer.step()


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch not installed: timing ours only (pip install torch, the CPU build, to compare)")
        return False
    return True


# --- the interleaved run ---------------------------------------------------------------------------------

def time_steps(make_layers, data, threads, use_torch, warmup=3):
    """{"ours 1": [seconds of each step], "torch 1": [...]} and ours' conv seconds per step, with
    `threads` threads each, the two interleaved in blocks of BLOCK steps."""
    trainers = [Ours(make_layers)] + ([Torch(make_layers)] if use_torch else [])
    times = {f"{t.name} {threads}": [] for t in trainers}
    for t in trainers:
        with t.threads(threads):
            for X, Y in data[:warmup]:
                t.step(X, Y)
            t.conv_seconds = 0.0
    for start in range(0, len(data), BLOCK):
        for t in trainers:
            with t.threads(threads):
                for X, Y in data[start:start + BLOCK]:
                    times[f"{t.name} {threads}"].append(_seconds(lambda t=t, X=X, Y=Y: t.step(X, Y)))
    return times, trainers[0].conv_seconds / len(data)


def conv_layers_alone(make_layers, threads, use_torch, repeats=12):
    """Each conv layer by itself, forward + backward at batch 128, ours (whole, and its matrix multiplies
    only) against torch, interleaved: {layer: {"ours 1": s, "ours matmul 1": s, "torch 1": s}}."""
    rng = np.random.default_rng(0)
    out, shape = {}, INPUT_SHAPE
    for number, layer in enumerate(make_layers()):
        out_shape = layer.output_shape(shape)
        if isinstance(layer, Conv2D):
            first = number == 0
            X = rng.random((BATCH, *shape), np.float32)
            dZ = rng.standard_normal((BATCH, *out_shape), np.float32)
            ours = _our_conv(layer, first, rng)
            tasks = {"ours": lambda ours=ours, X=X, dZ=dZ: (ours.forward(X), ours.backward(dZ)),
                     "ours matmul": _our_matmuls(ours, X, dZ, first)}
            if use_torch:
                tasks["torch"] = _torch_conv(layer, X, dZ, first, threads)
            seconds = {f"{name} {threads}": [] for name in tasks}
            with threadpool_limits(limits=threads, user_api="blas"):
                for _ in range(repeats):
                    for name, task in tasks.items():
                        seconds[f"{name} {threads}"].append(_seconds(task))
            out[f"{number + 1}: {layer!r}"] = {k: float(np.median(v[2:])) for k, v in seconds.items()}
        shape = out_shape
    return out


def _our_conv(layer, first, rng):
    for name, s in layer.param_shapes().items():
        layer.params[name] = (rng.standard_normal(s) * 0.1).astype(np.float32)
        layer.grads[name] = np.zeros(s, np.float32)
    layer.needs_input_grad = not first
    return layer


def _our_matmuls(conv, X, dZ, first):
    """The matrix multiplies of conv's forward and backward alone, on arrays prepared beforehand."""
    from nn.conv import im2col

    p, k, c_out = conv.padding, conv.kernel, conv.c_out
    cols = np.ascontiguousarray(im2col(np.pad(X, ((0, 0), (p, p), (p, p), (0, 0))), k))
    W2, dZ2 = conv.params["W"].reshape(-1, c_out), dZ.reshape(-1, c_out)
    Z2, window = np.empty((len(cols), c_out), np.float32), np.empty((len(cols), conv.c_in), np.float32)

    def run():
        np.matmul(cols, W2, out=Z2)
        cols.T @ dZ2
        if not first:
            for i in range(k):
                for j in range(k):
                    np.matmul(dZ2, conv.params["W"][i, j].T, out=window)
    return run


def _torch_conv(layer, X, dZ, first, threads):
    import torch

    torch.set_num_threads(threads)

    conv = torch.nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, padding=layer.padding)
    x = torch.from_numpy(X).permute(0, 3, 1, 2).contiguous().requires_grad_(not first)
    dz = torch.from_numpy(dZ).permute(0, 3, 1, 2).contiguous()

    def run():
        conv.weight.grad = conv.bias.grad = x.grad = None
        conv(x).backward(dz)
    return run


# --- the report ----------------------------------------------------------------------------------------

def measure(arch, data, thread_counts, use_torch, peak):
    make_layers = ARCHS[arch]
    layers = make_layers()
    flops = layer_flops(layers)
    step_flops = sum(f for _, f in flops)
    conv_flops = sum(f for layer, f in flops if isinstance(layer, Conv2D))
    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M")
    times, conv_in_step, alone = {}, {}, {}
    for n in sorted(thread_counts):    # 1 thread first: idle worker threads of a 2-thread run spin a while
        t, conv_in_step[f"ours {n}"] = time_steps(make_layers, data, n, use_torch)
        times.update(t)
        for name, row in conv_layers_alone(make_layers, n, use_torch).items():
            alone.setdefault(name, {}).update(row)
    peak = {n: max(g, matmul_peak_gflops(int(n))) for n, g in peak.items()}    # again: the best of two
    steps = {}
    for name, seconds in times.items():
        median = float(np.median(seconds))
        steps[name] = {"seconds_per_step": median, "mean_seconds_per_step": float(np.mean(seconds)),
                       "seconds_per_epoch": median * STEPS_PER_EPOCH,
                       "step_gflops": step_flops / median / 1e9}
        if name in conv_in_step:
            steps[name]["conv_mean_seconds_per_step"] = conv_in_step[name]
            steps[name]["conv_gflops_in_step"] = conv_flops / conv_in_step[name] / 1e9
    ratios = {}
    if use_torch:
        for n in thread_counts:
            ratios[f"{n} thread{'s' if n > 1 else ''}"] = (steps[f"ours {n}"]["seconds_per_step"]
                                                           / steps[f"torch {n}"]["seconds_per_step"])
        best = {who: min(steps[f"{who} {n}"]["seconds_per_step"] for n in thread_counts)
                for who in ("ours", "torch")}
        ratios["best vs best"] = best["ours"] / best["torch"]
    conv_layers = {}
    conv_flops_each = [f for layer, f in flops if isinstance(layer, Conv2D)]
    for f, (name, seconds) in zip(conv_flops_each, alone.items(), strict=True):
        row = {"flops": f}
        for key, s in seconds.items():
            row[key] = {"seconds": s, "gflops": f / s / 1e9}
        for n in thread_counts:
            row[f"ours {n} matmul share"] = seconds[f"ours matmul {n}"] / seconds[f"ours {n}"]
            row[f"ours {n} matmul / machine peak"] = (f / seconds[f"ours matmul {n}"] / 1e9) / peak[str(n)]
        n = min(thread_counts)
        share, speed = row[f"ours {n} matmul share"], row[f"ours {n} matmul / machine peak"]
        row["limit"] = (f"{n} thread: {share:.0%} of the time in matrix multiplies, which run at {speed:.0%} "
                        f"of this machine's float32 matmul peak; the rest is memory traffic (im2col copies, "
                        f"col2im adds, bias, padding)")
        conv_layers[name] = row
    measured = {"when": when, "steps": len(data), "threads": thread_counts, "torch": use_torch,
                "load_average": [load, os.getloadavg()[0]], "matmul_peak_gflops": peak}
    return {"measured": measured, "layers": Network(layers, input_shape=INPUT_SHAPE).describe(),
            "parameters": int(sum(np.prod(s) for layer in layers for s in layer.param_shapes().values())),
            "flops_per_step": step_flops, "conv_flops_per_step": conv_flops,
            "steps": steps, "ratio_ours_over_torch": ratios, "conv_layers_alone": conv_layers}


def print_report(report, archs):
    m = report["machine"]
    print(f"\n{m['cpu']}, {m['cores']} cores; numpy {m['numpy']}, torch {m.get('torch', 'absent')}; "
          f"batch {BATCH}, Adam lr {LR}, float32; steps timed one by one, interleaved in blocks of {BLOCK}")
    for arch in archs:
        r = report["architectures"][arch]
        when = r["measured"]
        print(f"\n[{arch}] {r['layers']}\n  {r['parameters']:,} parameters, {r['flops_per_step'] / 1e9:.2f} "
              f"GFLOP per step ({r['conv_flops_per_step'] / 1e9:.2f} in convs); {when['steps']} steps each; "
              f"load average {when['load_average'][0]:.1f} -> {when['load_average'][1]:.1f}; matmul peak "
              + ", ".join(f"{n} thread(s) {g:.0f}" for n, g in when["matmul_peak_gflops"].items())
              + " GFLOP/s")
        if when["load_average"][0] > 1.5:
            print(f"  note: other processes were using the CPU (load average {when['load_average'][0]:.1f}, "
                  f"{m['cores']} cores): runs with more threads than free cores measure that contention")
        print(f"  {'run':10} {'s/step':>8} {'s/epoch':>8} {'GFLOP/s':>8} {'conv GFLOP/s':>13}")
        for name, s in r["steps"].items():
            conv = f"{s['conv_gflops_in_step']:.0f}" if "conv_gflops_in_step" in s else ""
            print(f"  {name:10} {s['seconds_per_step']:8.4f} {s['seconds_per_epoch']:8.1f} "
                  f"{s['step_gflops']:8.1f} {conv:>13}")
        if r["ratio_ours_over_torch"]:
            ratios = r["ratio_ours_over_torch"].items()
            print("  ours / torch: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios))
        for name, row in r["conv_layers_alone"].items():
            parts = [f"{k} {v['gflops']:.0f}" for k, v in row.items() if isinstance(v, dict)]
            print(f"  conv {name} alone, GFLOP/s: {', '.join(parts)}\n    {row['limit']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="timed training steps per run (default 50)")
    parser.add_argument("--arch", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="10 steps, ship only, nothing written")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cnn_speed.json")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.arch = 10, ["ship"]
    use_torch = torch_available()
    data, source = batches(args.steps)
    peak = {str(n): matmul_peak_gflops(n) for n in args.threads}
    report = {"machine": machine(),
              "settings": {"batch": BATCH, "optimizer": "adam", "lr": LR, "block": BLOCK, "data": source,
                           "dtype": "float32", "torch_layout": "NCHW", "ours_layout": "NHWC",
                           "epoch_steps": STEPS_PER_EPOCH},
              "architectures": {}}
    if args.out.exists() and not args.quick:      # keep the other architectures' last measurements
        report["architectures"] = json.loads(args.out.read_text()).get("architectures", {})
    for arch in args.arch:
        report["architectures"][arch] = measure(arch, data, args.threads, use_torch, peak)
    print_report(report, args.arch)
    if not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_report(args.out, report)
        print(f"\nwritten to {args.out}")

if __name__ == "__main__":
    main()

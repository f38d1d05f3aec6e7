"""Reading a very large drawing: peak memory and seconds, the project's reader beside a naive one.

    python benchmarks/big_images.py [--sides 4000 8000 12000]

For each side, a black-on-white 3 filling most of a side x side canvas is saved as a grey PNG, a colour
PNG and a transparent PNG (made here, nothing downloaded). Each file is read in a fresh Python process:
by the project (`digits.preprocess.preprocess`: the size from the header, a grey decode, shrunk at once) and
by the naive way most demos read an image (`cv2.imread` in colour, then floats, then grey), and the
process's own peak memory (VmHWM) and the seconds are reported. The target: an 8000 x 8000 PNG in under
1 GB and 3 s. Linux only (the peak is read from /proc). Writes benchmarks/results/big_images.json.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_report  # noqa: E402

READERS = {
    "project": "from digits.preprocess import preprocess; preprocess(path)",
    "naive": ("import cv2, numpy as np; image = cv2.imread(path).astype(np.float32) / 255; "
              "grey = image.mean(axis=2)"),
}
PROBE = """
import re, sys, time
path = sys.argv[1]
def peak_mb():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
import numpy, cv2
from digits.preprocess import preprocess
before, start = peak_mb(), time.perf_counter()
{reader}
print(round(peak_mb(), 1), round(peak_mb() - before, 1), round(time.perf_counter() - start, 3))
"""


def canvas(side, kind):
    """A 3 drawn black on white over most of the canvas, as grey, colour or strokes on transparency."""
    ink = np.zeros((side, side), np.uint8)
    cv2.putText(ink, "3", (side // 6, side * 5 // 6), cv2.FONT_HERSHEY_SIMPLEX, side / 40, 255,
                max(2, side // 60), cv2.LINE_AA)
    if kind == "grey":
        return 255 - ink
    if kind == "colour":
        return cv2.merge([255 - ink, 255 - ink // 2, 255 - ink])
    image = np.zeros((side, side, 4), np.uint8)
    image[..., 3] = ink
    return image


def measure(path, reader):
    """(peak MB, MB beyond the imports, seconds) of one read in a fresh process."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(reader=READERS[reader]), str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    if result.returncode != 0:
        return None
    return tuple(float(x) for x in result.stdout.split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[4000, 8000, 12000])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "big_images.json")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        print("skipped: the peak memory is read from /proc (Linux only)")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for side in args.sides:
            for kind in ("grey", "colour", "transparent"):
                path = Path(folder) / f"{kind}_{side}.png"
                cv2.imwrite(str(path), canvas(side, kind))
                for reader in READERS:
                    got = measure(path, reader)
                    rows.append({"side": side, "kind": kind, "reader": reader,
                                 "peak_mb": got and got[0], "extra_mb": got and got[1],
                                 "seconds": got and got[2]})
                    shown = "failed (out of memory?)" if got is None else \
                        f"peak {got[0]:7.0f} MB ({got[1]:6.0f} beyond the imports), {got[2]:6.2f} s"
                    print(f"{side:>6} x {side:<6} {kind:12} {reader:8} {shown}", flush=True)
                path.unlink()
    write_report(args.out, {"images": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training time on a CUDA GPU: `train.py --preset fast` and `--preset best`, eager and with `--compile`.

    python benchmarks/cuda_training.py --data-dir ../shared/data --out runs/cuda

Each run is a whole `python train.py` process, timed by the wall clock (imports, data,
generated non-digits, training, calibration, every artifact written), one after the other
on the same machine. From each run's metrics.json: the training loop's seconds, its first
epoch (where `--compile` compiles) and the median of the others, and the test accuracy.
The artifacts stay in --out (the best preset's are the packaged weights' candidates).
Without a GPU, `--device cpu --extra="--limit 3000 --epochs 2"` tries the script itself.
"""

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, machine, print_reproduce, print_table


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding MNIST/raw")
    parser.add_argument("--out", type=Path, default=Path("runs/cuda"), help="artifacts of every run go here")
    parser.add_argument("--presets", nargs="+", default=["best", "fast"], help="presets to time (default: both)")
    parser.add_argument("--device", default="cuda", help="device passed to train.py (default: %(default)s)")
    parser.add_argument("--extra", default="", help="more train.py flags for every run, e.g. a quick --limit")
    return parser.parse_args(argv)


def train(preset: str, compiled: bool, args: argparse.Namespace) -> tuple[str, float, dict]:
    """Run train.py once: (its name, its wall seconds, its metrics.json)."""
    name = f"{preset}-compiled" if compiled else preset
    out = args.out / name
    command = [sys.executable, str(ROOT / "train.py"), "--preset", preset, "--data-dir", args.data_dir]
    command += ["--out", str(out), "--device", args.device, *(["--compile"] if compiled else [])]
    command += shlex.split(args.extra)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(args.out / f"{name}.log", "w") as log:
        finished = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    seconds = time.perf_counter() - started
    if finished.returncode:
        sys.exit(f"{name} failed (exit {finished.returncode}); see {args.out / name}.log")
    return name, seconds, json.loads((out / "metrics.json").read_text())


def row(name: str, wall: float, metrics: dict) -> tuple[str, str]:
    epochs = [record["seconds"] for record in metrics["history"]]
    later = f"{statistics.median(epochs[1:]):.2f} s" if len(epochs) > 1 else "-"
    return (
        name,
        f"wall {wall:.1f} s | training {sum(epochs):.1f} s | first epoch {epochs[0]:.2f} s | later epochs "
        f"{later} | test {metrics['test']['accuracy']:.2%}",
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    print(machine(), flush=True)
    rows = []
    for compiled in (False, True):  # every eager run first: their figures come back even if time runs out
        for preset in args.presets:
            rows.append(row(*train(preset, compiled, args)))
            print(f"{rows[-1][0]}: {rows[-1][1]}", flush=True)
    print_table(f"train.py on {args.device}, one run each", rows)
    print_reproduce(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

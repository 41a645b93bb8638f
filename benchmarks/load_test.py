"""Load test: many gradio_client users at once against `python app.py` on loopback.

Starts the app as a subprocess on 127.0.0.1, then 16 clients (threads) each send 20
sketches to `/predict` at the same time. Every answer must come back and name the right
digit; the server's memory (RSS from /proc, sampled all along) must stay flat. Prints the
throughput, the latency percentiles and the command to reproduce. Bounded: at most
clients x requests calls, and the whole run stops after --timeout seconds.

    python benchmarks/load_test.py                       # 16 clients x 20 sketches
    python benchmarks/load_test.py --clients 4 --requests 5 --data-dir ../shared/data
    python benchmarks/load_test.py --strokes             # 16 people drawing on the Draw tab's pad at once

--strokes: each simulated person draws held-out digits (MNIST test images traced into strokes,
benchmarks/traced_digits.py) as the pad does: its strokes so far every 90 ms while the pen moves,
at once when it lifts, then Clear; one event in flight per person and, of those that came
meanwhile, only the latest next (the Draw tab's always_last event, through Gradio's queue as the
browser calls it). Goals: every pen-up answer p95 <= 1.5 s, the server never falls behind (the queue
holds at most one event per person, and the last third's round trips are no slower than the middle
third's), memory flat.

The sketches are MNIST test digits redrawn as a browser's Sketchpad sends them (black ink
on a transparent 400x400 canvas); the right answer is MNIST's label, for digits the
loaded model reads correctly in-process.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    busy_note,
    free_port,
    percentile,
    print_reproduce,
    print_table,
    start_server,
    stop,
    wait_for_page,
)

MEMORY_BUDGET_MB = 150
CANVAS = 400


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent gradio_client users")
    parser.add_argument("--requests", type=int, default=20, help="sketches each client sends")
    parser.add_argument("--sketches", type=int, default=40, help="distinct MNIST test digits to draw from")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("MNIST_DATA_DIR", "../shared/data"),
        help="folder holding MNIST/raw ($MNIST_DATA_DIR)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="stop the whole run after this many seconds")
    parser.add_argument("--strokes", action="store_true", help="people drawing on the Draw tab's pad instead")
    parser.add_argument("--people", type=int, default=16, help="--strokes: people drawing at once")
    parser.add_argument("--digits", type=int, default=5, help="--strokes: digits each person draws")
    return parser.parse_args()


def write_sketches(folder: Path, data_dir: str, count: int) -> list[tuple[Path, str]]:
    """MNIST test digits as Sketchpad composites, with their labels; only ones the model reads right."""
    from PIL import Image

    from mnist_demo import Classifier
    from mnist_demo.data import load_mnist

    images, labels = (t.numpy() for t in load_mnist(Path(data_dir), train=False))
    classifier = Classifier.from_pretrained()
    sketches = []
    for index in range(len(labels)):
        alpha = Image.fromarray(images[index]).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR)
        sketch = Image.merge("RGBA", [Image.new("L", alpha.size, 0)] * 3 + [alpha])
        path = folder / f"sketch-{index}.png"
        sketch.save(path)
        expected = str(labels[index])
        answer = classifier.classify(path)
        if max(answer, key=answer.get) == expected:
            sketches.append((path, expected))
        if len(sketches) == count:
            return sketches
    raise RuntimeError(f"only {len(sketches)} test digits are read correctly: is the model trained?")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class MemorySampler(threading.Thread):
    """The server's RSS every 0.2 s, until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self):
        while not self.done.wait(0.2):
            self.samples.append(rss_mb(self.pid))


def one_client(url: str, sketches, count: int, offset: int, deadline: float) -> list[tuple[float, bool, str]]:
    """`count` /predict calls from one gradio_client; (seconds, right?, answer) for each."""
    from gradio_client import Client, handle_file

    results = []
    client = Client(url, verbose=False)
    try:
        for i in range(count):
            if time.perf_counter() > deadline:
                break
            path, expected = sketches[(offset + i) % len(sketches)]
            start = time.perf_counter()
            try:
                answer = client.predict(
                    {"background": None, "layers": [], "composite": handle_file(str(path))}, api_name="/predict"
                )["label"]
            except Exception as error:  # counted as a failure, with its message
                answer = f"error: {error}"
            results.append((time.perf_counter() - start, answer == expected, f"{expected} -> {answer}"))
    finally:
        client.close()
    return results


def main():
    args = parse_args()
    if args.strokes:
        from load_strokes import run_people

        sys.exit(run_people(args.people, args.digits, args.data_dir, args.timeout))
    deadline = time.perf_counter() + args.timeout
    with tempfile.TemporaryDirectory(prefix="mnist-load-") as folder:
        sketches = write_sketches(Path(folder), args.data_dir, args.sketches)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = start_server(["app.py"], port)
        try:
            started = time.perf_counter()
            wait_for_page(url, timeout=180, process=server)
            print(f"server up in {time.perf_counter() - started:.1f} s (pid {server.pid})")
            warm = one_client(url, sketches, 5, 0, deadline)  # first calls load lazily: not part of the budget
            baseline = rss_mb(server.pid)
            sampler = MemorySampler(server.pid)
            sampler.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                futures = [
                    pool.submit(one_client, url, sketches, args.requests, c * args.requests, deadline)
                    for c in range(args.clients)
                ]
                wait(futures, timeout=max(1.0, deadline - time.perf_counter()))
            elapsed = time.perf_counter() - started
            sampler.done.set()
            sampler.join()
            final = rss_mb(server.pid)
        finally:
            stop(server)
    results = [r for f in futures if f.done() and not f.exception() for r in f.result()]
    errors = [f.exception() for f in futures if f.done() and f.exception()]
    latencies = sorted(seconds for seconds, _, _ in results)
    wrong = [text for _, right, text in results if not right]
    expected_total = args.clients * args.requests
    peak = max(sampler.samples, default=final)
    print_table(
        f"{args.clients} clients x {args.requests} sketches on /predict{busy_note()}",
        [
            (
                "answered",
                f"{len(results)} of {expected_total}"
                + (f" ({len(errors)} clients failed: {errors[:1]})" if errors else ""),
            ),
            (
                "right digit",
                f"{len(results) - len(wrong)} of {len(results)}" + (f"; wrong: {wrong[:5]}" if wrong else ""),
            ),
            ("throughput", f"{len(results) / elapsed:.1f} requests/s over {elapsed:.1f} s"),
            (
                "latency p50 / p95 / max",
                " / ".join(f"{percentile(latencies, q) * 1000:.0f} ms" for q in (50, 95))
                + f" / {latencies[-1] * 1000:.0f} ms"
                if latencies
                else "none",
            ),
            (
                "server RSS",
                f"{baseline:.0f} MB after warm-up ({len(warm)} calls), peak {peak:.0f} MB, "
                f"final {final:.0f} MB: growth {final - baseline:+.0f} MB (budget < {MEMORY_BUDGET_MB} MB)",
            ),
        ],
    )
    print_reproduce()
    passed = (
        len(results) == expected_total and not wrong and not errors and max(final, peak) - baseline < MEMORY_BUDGET_MB
    )
    print("PASS" if passed else "FAIL")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
